"""Base classes for workspace pages. They own the dangerous parts: the queryset comes from the
model's scoped manager, the workspace from the URL-checked membership, and permission checks
from `tenancy.permissions`. App views only declare model, template and required action."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.views.generic import DetailView, ListView, TemplateView

from .permissions import Action, require


class WorkspaceMixin(LoginRequiredMixin):
    required_action: Action = Action.VIEW

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if getattr(request, "workspace", None) is None:
            raise Http404("No workspace")
        require(request.membership, self.required_action_for(request.method))
        self.workspace = request.workspace
        self.membership = request.membership
        return super().dispatch(request, *args, **kwargs)

    def required_action_for(self, method: str) -> Action:
        return self.required_action


class WorkspacePageView(WorkspaceMixin, TemplateView):
    pass


class WorkspaceListView(WorkspaceMixin, ListView):
    paginate_by = 50

    def get_queryset(self):
        return self.model.objects.all()


class WorkspaceDetailView(WorkspaceMixin, DetailView):
    def get_queryset(self):
        return self.model.objects.all()
