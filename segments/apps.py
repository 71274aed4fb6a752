from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self) -> None:
        from tenancy.provisioning import workspace_provisioned

        from .lists import ensure_starting_lists, register

        register()
        from health.recompute import scores_computed

        from .tasks import on_scores_computed

        scores_computed.connect(on_scores_computed, weak=False, dispatch_uid="segments.tier_stage_rules")
        workspace_provisioned.connect(
            lambda sender, workspace, **kwargs: ensure_starting_lists(),
            weak=False,
            dispatch_uid="segments.lists",
        )
