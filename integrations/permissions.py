from rest_framework import permissions

from tenancy.models import ApiKey, ApiKeyScope


class HasKeyScope(permissions.BasePermission):
    """Reads need the `read` scope, writes the `write` scope."""

    message = "This API key lacks the scope this request needs."

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        needed = ApiKeyScope.READ if request.method in permissions.SAFE_METHODS else ApiKeyScope.WRITE
        return needed in key.scopes
