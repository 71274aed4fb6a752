"""The API base viewset: it owns authentication, the workspace scope, permissions and the queryset.

The workspace is entered right after DRF authenticated the key (authentication happens inside the
view, not in middleware) and is reset in `dispatch`'s `finally`.
"""

from __future__ import annotations

from contextlib import ExitStack

from rest_framework import viewsets
from rest_framework.pagination import CursorPagination

from tenancy.context import use_workspace

from ..authentication import ApiKeyAuthentication
from ..permissions import HasKeyScope


class StablePagination(CursorPagination):
    """Cursor pagination: stable under concurrent writes and fast at any depth."""

    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"
    ordering = "pk"


class WorkspaceViewSetMixin:
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasKeyScope]
    pagination_class = StablePagination
    model = None

    def dispatch(self, request, *args, **kwargs):
        self._workspace_scope = ExitStack()
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            self._workspace_scope.close()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._workspace_scope.enter_context(use_workspace(request.auth.workspace_id))

    def get_queryset(self):
        return self.model.objects.all()


class WorkspaceReadOnlyViewSet(WorkspaceViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass
