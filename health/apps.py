from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"

    def ready(self) -> None:
        from accounts.freshness import inputs_changed

        from .tasks import request_stale_rescore

        def on_inputs_changed(sender, workspace_id: int, account_ids: list[int], **kwargs) -> None:
            request_stale_rescore(workspace_id)

        inputs_changed.connect(on_inputs_changed, weak=False, dispatch_uid="health.rescore-stale")

        from tenancy.provisioning import workspace_provisioned

        from .provisioning import provision_health

        workspace_provisioned.connect(provision_health, dispatch_uid="health.provision")

        from .alerting import on_scores_computed
        from .recompute import scores_computed

        scores_computed.connect(on_scores_computed, dispatch_uid="health.alerting")

        from .panels import register_panels
        from .timeline import register_sources

        register_panels()
        register_sources()
