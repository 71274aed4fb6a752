"""Named locks per workspace, kept in the database so they hold across processes and machines
with any broker or cache. A lock expires after its timeout, so a holder that died frees it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import WorkspaceLock


def acquire(name: str, timeout: timedelta) -> str | None:
    """Take the lock in the current workspace; returns its token, or None if someone holds it."""
    token = secrets.token_hex(16)
    now = timezone.now()
    with transaction.atomic():
        taken_over = WorkspaceLock.objects.filter(name=name, expires_at__lte=now).update(
            token=token, expires_at=now + timeout
        )
        if taken_over:
            return token
        try:
            with transaction.atomic():
                WorkspaceLock.objects.create(name=name, token=token, expires_at=now + timeout)
        except IntegrityError:
            return None
    return token


def release(name: str, token: str) -> None:
    WorkspaceLock.objects.filter(name=name, token=token).delete()


@contextmanager
def workspace_lock(name: str, timeout: timedelta) -> Iterator[bool]:
    """`with workspace_lock("health", timedelta(minutes=30)) as held:` — `held` is False when busy."""
    token = acquire(name, timeout)
    try:
        yield token is not None
    finally:
        if token is not None:
            release(name, token)
