from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "playbooks"
    verbose_name = "Playbooks and tasks"

    def ready(self) -> None:
        from .panels import register_panels

        register_panels()
