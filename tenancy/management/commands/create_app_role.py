"""Create (or correct) the application role that DATABASE_URL names, as the owner role.

The role may log in and nothing more: no superuser, no BYPASSRLS, no CREATEDB or CREATEROLE.
Its row privileges are granted by `migrate` (tenancy/db_roles.py), never table ownership or
TRUNCATE. Needs DATABASE_OWNER_URL (the role that creates roles and owns the tables).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from tenancy.db_roles import as_owner

ATTRIBUTES = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"


class Command(BaseCommand):
    help = "Create the application database role (no superuser, no BYPASSRLS) if it does not exist."

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("application roles are a PostgreSQL feature (DATABASE_URL is not PostgreSQL)")
        if not settings.DATABASE_OWNER:
            raise CommandError("set DATABASE_OWNER_URL to the owner role that may create roles")
        role = connection.settings_dict["USER"]
        password = connection.settings_dict.get("PASSWORD") or None
        if role == settings.DATABASE_OWNER["USER"]:
            raise CommandError("DATABASE_URL and DATABASE_OWNER_URL name the same role")
        name = connection.ops.quote_name(role)
        with as_owner(), connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            cursor.execute(
                f"{verb} ROLE {name} {ATTRIBUTES}" + (" PASSWORD %s" if password else ""),
                [password] if password else None,
            )
        self.stdout.write(f"{'Updated' if verb == 'ALTER' else 'Created'} role {role} ({ATTRIBUTES}).")
