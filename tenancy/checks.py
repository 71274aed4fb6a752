"""System checks of the deployment's database roles (`manage.py check --deploy --database default`).

Row-level security (tenancy/rls.py) holds only a role that is neither superuser nor BYPASSRLS;
a deployment whose DATABASE_URL names such a role runs with the policies silently off.
"""

from __future__ import annotations

from django.core.checks import Tags, Warning, register
from django.db import connections


@register(Tags.database, deploy=True)
def application_role_is_held_by_policies(app_configs=None, databases=None, **kwargs) -> list[Warning]:
    problems = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            name, superuser, bypass = cursor.fetchone()
        if superuser or bypass:
            problems.append(
                Warning(
                    f"Database role {name!r} ({'superuser' if superuser else 'BYPASSRLS'}) is exempt from the "
                    "row-level security policies that keep workspaces apart.",
                    hint="Connect as the application role (manage.py create_app_role; docs/scaling.md) and keep "
                    "the owner for DATABASE_OWNER_URL.",
                    obj=alias,
                    id="tenancy.W001",
                )
            )
    return problems
