from .models import Alert, AlertStatus


def alerts(request) -> dict:
    """The open-alert count for the navigation badge (one indexed count per page)."""
    if getattr(request, "workspace", None) is None:
        return {}
    return {"open_alert_count": Alert.objects.filter(status=AlertStatus.OPEN).count()}
