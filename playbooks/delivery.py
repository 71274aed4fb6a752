"""Signed webhook delivery, shared by playbook webhook steps and the workspace's outbound
webhooks (integrations): one signature scheme, one retry policy, one notion of "worth retrying".

A call POSTs a JSON body with `X-CS-Signature: sha256=<hex HMAC-SHA256 of the body>` under the
subscription's secret and `X-CS-Event: <event>`. A timeout, a connection error, a 5xx or a 429
is worth another attempt (`RetryableDeliveryError`); any other 4xx is not (`DeliveryError`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 5
SIGNATURE_HEADER = "X-CS-Signature"
EVENT_HEADER = "X-CS-Event"
USER_AGENT = "cs-platform-webhook/1"
MAX_ATTEMPTS = 5


class DeliveryError(Exception):
    """A failure another attempt would not fix (a refused URL, a 4xx)."""

    def __init__(self, message: str, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status


class RetryableDeliveryError(DeliveryError):
    """A failure worth another attempt later (timeout, connection refused, 5xx, 429)."""


def backoff_seconds(attempts: int) -> int:
    """Seconds before the next attempt after `attempts` failed ones: 2, 4, 8, 16 (as playbook
    steps are retried)."""
    return 2**attempts


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    return hmac.compare_digest(sign(body, secret), signature or "")


def check_url(url: str) -> str | None:
    """Why `url` cannot be a webhook target, or None. Only http(s) with a host name."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "Enter a valid URL."
    if parts.scheme not in ("http", "https"):
        return "Use an http:// or https:// URL."
    host = parts.hostname or ""
    if not host or " " in url:
        return "Enter a URL with a host name, e.g. https://hooks.example.com/cs."
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return "The port of this URL is not valid."
    if "." not in host and host != "localhost" and not host.replace(":", "").isalnum():
        return "Enter a URL with a host name, e.g. https://hooks.example.com/cs."
    return None


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), default=str).encode()


def post_signed(
    url: str,
    body: bytes,
    secret: str,
    event: str,
    timeout: float = TIMEOUT_SECONDS,
    headers: dict[str, str] | None = None,
) -> dict:
    """One signed POST. Returns {"http_status", "duration_ms"}; raises DeliveryError (final)
    or RetryableDeliveryError (try again later)."""
    problem = check_url(url)
    if problem:
        raise DeliveryError(f"{problem} ({url!r})")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(body, secret),
            EVENT_HEADER: event,
            **(headers or {}),
        },
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()
        if status >= 500 or status == 429:
            raise RetryableDeliveryError(f"The endpoint answered {status}.", http_status=status) from None
        raise DeliveryError(f"The endpoint refused the call with {status}.", http_status=status) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise RetryableDeliveryError(f"Could not reach the endpoint: {reason}") from error
    return {"http_status": status, "duration_ms": int((time.monotonic() - started) * 1000)}
