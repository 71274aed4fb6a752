from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "playbooks"
    verbose_name = "Playbooks and tasks"

    def ready(self) -> None:
        from tenancy.provisioning import workspace_provisioned

        from . import triggers
        from .panels import register_panels
        from .provisioning import provision_playbooks
        from .timeline import register_sources

        register_panels()
        register_sources()
        # Lower apps never import playbooks: it listens to their signals.
        triggers.connect()
        workspace_provisioned.connect(provision_playbooks, dispatch_uid="playbooks.provision")
