"""`Idempotency-Key` on writes: the first response is kept 24 hours and replayed to retries.

- same key, same request (method, path and body) → the stored response, with
  `Idempotent-Replayed: true`;
- same key, another request → 422;
- same key while the first request is still being processed → 409 (retry later).

A first request that fails with a server error releases its key, so the retry runs afresh.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer

from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyConflict(APIException):
    status_code = 409
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."


class IdempotencyKeyReused(APIException):
    status_code = 422
    default_detail = "This Idempotency-Key was used for a different request (method, path or body)."


class InvalidIdempotencyKey(APIException):
    status_code = 400
    default_detail = f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} characters."


class Replay(APIException):
    """Raised to answer with a stored response (handled by the base viewset)."""

    def __init__(self, record: IdempotencyRecord):
        super().__init__()
        self.record = record

    def response(self) -> HttpResponse:
        response = HttpResponse(
            self.record.response_body,
            status=self.record.response_status,
            content_type=self.record.response_content_type or "application/json",
        )
        response["Idempotent-Replayed"] = "true"
        return response


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def claim(key: str, method: str, path: str, body: bytes) -> IdempotencyRecord:
    """Reserve `key` for this request, or raise Replay / IdempotencyConflict / IdempotencyKeyReused."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKey()
    now = timezone.now()
    print_ = fingerprint(method, path, body)
    IdempotencyRecord.objects.filter(expires_at__lt=now).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(key=key, fingerprint=print_, expires_at=now + RETENTION)
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(key=key).first()
    if existing is None:  # released or expired in between: claim again
        return claim(key, method, path, body)
    if existing.fingerprint != print_:
        raise IdempotencyKeyReused()
    if existing.completed_at is None:
        raise IdempotencyConflict()
    raise Replay(existing)


def complete(record: IdempotencyRecord, response) -> None:
    if response.status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    if hasattr(response, "data") and not getattr(response, "is_rendered", True):
        body = JSONRenderer().render(response.data).decode()
        content_type = response.content_type or "application/json"
    else:
        body = response.content.decode()
        content_type = response.get("Content-Type", "application/json")
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        completed_at=timezone.now(),
        response_status=response.status_code,
        response_content_type=content_type,
        response_body=body,
    )


def release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).delete()
