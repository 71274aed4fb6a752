"""`migrate`, run as the owner role when DATABASE_OWNER_URL is set (see tenancy/db_roles.py)."""

from django.core.management.commands import migrate

from tenancy.db_roles import as_owner


class Command(migrate.Command):
    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
