"""Two PostgreSQL roles: the owner runs migrations, the application role runs everything else.

`DATABASE_URL` names the application role: neither owner nor superuser, no BYPASSRLS, no
TRUNCATE, so row-level security (`tenancy.rls`) holds for it. `DATABASE_OWNER_URL` names the
role that owns the tables; `manage.py migrate` switches to it for the migration, then grants the
application role what it needs (rows, never the tables themselves). With no
`DATABASE_OWNER_URL` one role does both (local development).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

from . import rls

CREDENTIALS = ("USER", "PASSWORD")


@contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    """Connect `alias` as the owner role for the block (nothing changes without one)."""
    owner = getattr(settings, "DATABASE_OWNER", None)
    connection = connections[alias]
    if not owner or connection.vendor != "postgresql" or owner["USER"] == connection.settings_dict["USER"]:
        yield
        return
    app = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
    connection.close()
    connection.settings_dict.update({key: owner.get(key, "") for key in CREDENTIALS})
    connection.rls_app_role = app["USER"]
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(app)
        connection.rls_app_role = None


def after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate: every tenant table gets its policy; the application role its grants."""
    connection = connections[using]
    if connection.vendor != "postgresql" or "plan" not in kwargs:
        return  # `flush` sends post_migrate too (no plan): the tables and policies are unchanged
    rls.install_policies(connection)
    app_role = getattr(connection, "rls_app_role", None)
    if app_role:
        rls.grant_app_role(connection, app_role)
