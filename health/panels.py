from accounts.panels import Panel, register

from .explain import account_health


def register_panels() -> None:
    register(
        Panel("health", "health/_account_health.html", lambda request, account: account_health(account), 10)
    )
