"""API-key authentication: `Authorization: Bearer csp_<prefix>_<secret>`. The key alone fixes the
workspace; nothing in a payload or URL can choose another one."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from rest_framework import authentication, exceptions

from tenancy.models import ApiKey

from .models import ApiKeyRateLimit

# last_used_at is informational; writing it at most once a minute keeps reads cheap.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyUser:
    """The request's `user` for API calls: the key's workspace, not a person."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, key: ApiKey):
        self.key = key
        self.workspace_id = key.workspace_id

    def __str__(self) -> str:
        return f"API key {self.key.prefix}"


def parse_key(raw: str) -> tuple[str, str] | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "csp" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme != self.keyword or not raw.strip():
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api key>'.")
        parsed = parse_key(raw.strip())
        if parsed is None:
            raise exceptions.AuthenticationFailed("Malformed API key.")
        prefix, secret = parsed
        # The key's own rate, if an admin set one, read in the same query.
        own_rate_limit = ApiKeyRateLimit.all_workspaces.filter(
            key=OuterRef("pk"), workspace=OuterRef("workspace")
        )
        # Looking a key up by its prefix is the one query that may cross workspaces: the key is
        # what tells us the workspace.
        key = (
            ApiKey.all_workspaces.filter(prefix=prefix, revoked_at__isnull=True)
            .annotate(rate_limit=Subquery(own_rate_limit.values("requests_per_minute")[:1]))
            .first()
        )
        if key is None or not hmac.compare_digest(key.secret_hash, ApiKey.hash_secret(secret)):
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.all_workspaces.filter(pk=key.pk).update(last_used_at=now)
        return ApiKeyUser(key), key

    def authenticate_header(self, request) -> str:
        return self.keyword
