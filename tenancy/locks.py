"""Named locks per workspace, kept in the database so they hold across processes and machines
with any broker or cache. A lock expires after its timeout, so a holder that died frees it.

Inside a Celery task the lock's token is the task id. A task whose worker process died (killed,
out of memory) is delivered again with the same id (`acks_late` + `reject_on_worker_lost`); that
second delivery takes over the lock its first delivery left behind instead of waiting for it to
expire, which would turn the redelivered work into a skipped run. Two live executions never share
an id: a task is delivered again only after its worker died or its time limit (below the broker's
visibility timeout) stopped it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import WorkspaceLock


def _current_task_id() -> str | None:
    from celery import current_task

    task_id = getattr(getattr(current_task, "request", None), "id", None) if current_task else None
    return task_id if task_id and len(task_id) <= 38 else None


def acquire(name: str, timeout: timedelta, owner: str | None = None) -> str | None:
    """Take the lock in the current workspace; returns its token, or None if someone holds it.

    `owner` (default: the running Celery task's id) is used as the token: a lock still held under
    the same owner is taken over (the owner's earlier delivery died holding it)."""
    owner = owner or _current_task_id()
    token = f"t:{owner}"[:40] if owner else secrets.token_hex(16)
    now = timezone.now()
    with transaction.atomic():
        reclaimable = Q(expires_at__lte=now)
        if owner:
            reclaimable |= Q(token=token)
        taken_over = WorkspaceLock.objects.filter(reclaimable, name=name).update(
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
def workspace_lock(name: str, timeout: timedelta, owner: str | None = None) -> Iterator[bool]:
    """`with workspace_lock("health", timedelta(minutes=30)) as held:` — `held` is False when busy."""
    token = acquire(name, timeout, owner)
    try:
        yield token is not None
    finally:
        if token is not None:
            release(name, token)


# --- Row keys within one transaction --------------------------------------------------------

KEY_LOCK_BUCKETS = 256


def lock_keys(label: str, workspace_id: int, keys) -> None:
    """Serialise writers of the same natural keys (e.g. an account's partner id) until the current
    transaction ends. Two requests upserting one new partner id would otherwise both read "not
    there yet", both report a creation and both record its "new" MRR movement.

    On PostgreSQL: transaction-scoped advisory locks, one per bucket of keys (at most
    KEY_LOCK_BUCKETS per transaction, taken in order, so two batches never deadlock on them).
    SQLite needs none: the project's SQLite transactions are IMMEDIATE, so writers already run
    one at a time."""
    from zlib import crc32

    from django.db import connection

    if connection.vendor != "postgresql":
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_keys() holds its locks until the end of a transaction: call it inside one")
    namespace = crc32(f"{label}|{workspace_id}".encode()) << 16
    buckets = sorted({crc32(repr(tuple(key)).encode()) % KEY_LOCK_BUCKETS for key in keys})
    if not buckets:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k",
            [[namespace | bucket for bucket in buckets]],
        )
