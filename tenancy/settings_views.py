from .mixins import WorkspacePageView
from .models import ApiKey


class SettingsHomeView(WorkspacePageView):
    """Workspace settings: members and API keys now; scoring, rules and playbooks as they land."""

    template_name = "tenancy/settings.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = self.workspace.memberships.select_related("user").order_by("role", "user__email")
        context["api_keys"] = (
            ApiKey.objects.filter(revoked_at__isnull=True)
            .select_related("created_by")
            .order_by("-created_at")
        )
        return context
