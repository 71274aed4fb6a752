from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        # Domain apps never import integrations: it listens to their signals.
        from .webhooks import events

        events.connect()
