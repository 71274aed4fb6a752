from accounts.panels import Panel, register

from .explain import account_health
from .models import ACTIVE_ALERT_STATUSES, Alert, AlertStatus


def account_alerts(request, account) -> dict:
    alerts = Alert.objects.filter(account=account).select_related("rule")
    active = list(alerts.filter(status__in=ACTIVE_ALERT_STATUSES).order_by("-opened_at"))
    for alert in active:
        alert.evidence_items = [(key.replace("_", " "), value) for key, value in alert.evidence.items()]
    return {
        "active_alerts": active,
        "recent_alerts": list(alerts.filter(status=AlertStatus.RESOLVED).order_by("-resolved_at")[:5]),
    }


def register_panels() -> None:
    register(Panel("alerts", "health/_account_alerts.html", account_alerts, 5))
    register(
        Panel("health", "health/_account_health.html", lambda request, account: account_health(account), 10)
    )
