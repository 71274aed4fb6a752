from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customer data"

    def ready(self) -> None:
        from tenancy.provisioning import workspace_provisioned

        from . import freshness  # noqa: F401  (connects the signal receivers)
        from .provisioning import provision_tiers_and_stages

        workspace_provisioned.connect(provision_tiers_and_stages, dispatch_uid="accounts.provision")
        from .timeline import register_account_sources

        register_account_sources()
