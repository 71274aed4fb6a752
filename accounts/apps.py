from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customer data"

    def ready(self) -> None:
        from . import freshness  # noqa: F401  (connects the signal receivers)
        from .timeline import register_account_sources

        register_account_sources()
