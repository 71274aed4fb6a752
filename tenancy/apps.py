from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401  (registers the system checks)
        from .db_roles import after_migrate
        from .observability import connect_task_request_ids

        connect_task_request_ids()
        post_migrate.connect(after_migrate, sender=self, dispatch_uid="tenancy.rls.after_migrate")
