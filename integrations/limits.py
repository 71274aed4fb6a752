"""Request limits of the partner API: body size (413) and a per-key request rate (429).

Both are configurable in settings without code: `API_MAX_BODY_BYTES` (default 10 MiB, room for
a 5,000-record batch) and `API_RATE_LIMIT` (requests per minute per key, default 600); an admin
may give one key its own rate on the key's settings page (`integrations.models.ApiKeyRateLimit`). The rate
is counted per fixed one-minute window in the cache; with Redis configured every web process
shares the count, with the embedded local-memory cache each process counts on its own.
"""

from __future__ import annotations

import io
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework import status
from rest_framework.exceptions import APIException, Throttled

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_RATE_LIMIT = 600
WINDOW_SECONDS = 60


def max_body_bytes() -> int:
    return int(getattr(settings, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def rate_limit() -> int:
    return int(getattr(settings, "API_RATE_LIMIT", DEFAULT_RATE_LIMIT))


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."


def read_body(django_request) -> bytes:
    """The request body, refused with 413 from its declared length before anything is read.

    A body sent without a length is read up to one byte past the limit, never further. The bytes
    read are put back as the request's stream so the JSON parser reads them again.
    """
    limit = max_body_bytes()
    detail = f"The request body is over {limit} bytes; send at most 5,000 records per batch."
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise PayloadTooLarge(detail)
    if not hasattr(django_request, "_body"):
        data = django_request.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(detail)
        django_request._body = data
        django_request._stream = io.BytesIO(data)
        django_request._read_started = False
    return django_request._body


class RateLimit:
    """A fixed one-minute window per API key. `check` raises Throttled (429) past the limit."""

    def __init__(self, key_prefix: str, limit: int | None = None):
        self.limit = limit or rate_limit()
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        self.reset = int((window + 1) * WINDOW_SECONDS - now) or 1
        self.cache_key = f"api-rate:{key_prefix}:{window}"
        self.used = 0

    def check(self) -> None:
        if cache.add(self.cache_key, 1, timeout=WINDOW_SECONDS + 5):
            self.used = 1
        else:
            try:
                self.used = cache.incr(self.cache_key)
            except ValueError:  # expired between add and incr
                cache.set(self.cache_key, 1, timeout=WINDOW_SECONDS + 5)
                self.used = 1
        if self.used > self.limit:
            raise Throttled(wait=self.reset, detail=f"Over {self.limit} requests a minute for this API key.")

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "RateLimit-Reset": str(self.reset),
        }
