from tenancy.mixins import WorkspacePageView


class AlertInboxView(WorkspacePageView):
    """Churn alerts inbox. The alert engine arrives with the alert rules; until then the page says so."""

    template_name = "health/alert_inbox.html"
