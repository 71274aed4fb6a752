"""PostgreSQL row-level security: the database itself keeps each workspace's rows apart.

The scoped managers (`tenancy.managers`) are the first guard; this is the second, for everything
that slips past them (raw SQL, a join written by hand, a queryset built from the wrong manager).
Every tenant table has one policy, ENABLEd and FORCEd so that even its owner is held to it:

    USING / WITH CHECK (
        workspace_id = (SELECT NULLIF(current_setting('app.workspace_id', true), '')::bigint)
        OR (SELECT current_setting('app.rls_bypass', true)) = 'on'
    )

An empty or missing `app.workspace_id` matches no row, so a connection that forgot its workspace
sees nothing and can write nothing. The two settings reach the database **per transaction**
(`set_config(…, true)`, never a session-level `SET`, which would outlive the request on a pooled
connection): the PostgreSQL backend in `tenancy.backends.postgresql` runs :func:`apply_settings`
before the first statement of each transaction, and wraps a statement that runs outside any
transaction (Django's autocommit) in a short transaction of its own. The values come from
context variables: the current workspace (`tenancy.context`, set by the page middleware, the API
view and the task decorator) and the platform bypass below.

**Bypass.** Platform code that must see every workspace (the scheduler's fan-out, API-key lookup
before the key names its workspace, the staff admin, the metrics endpoint, demo seeding) reads
through the deliberately named `all_workspaces` manager. Its statements, and only its, run with
`app.rls_bypass = 'on'` — and only while no workspace is selected: inside a workspace scope the
workspace wins and the bypass is ignored, so no code path of a page, API call or task can read
another workspace's rows even through `all_workspaces`. :func:`platform_access` is the one
switch, for the few raw statements of platform code.

The ``(SELECT …)`` around each setting makes PostgreSQL evaluate it once per statement (an
InitPlan) instead of once per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

from .context import current_workspace_id

WORKSPACE_SETTING = "app.workspace_id"
BYPASS_SETTING = "app.rls_bypass"
POLICY_NAME = "workspace_isolation"

_platform: ContextVar[bool] = ContextVar("rls_platform_access", default=False)

# What a fresh transaction carries: nothing, i.e. no workspace and no bypass.
EMPTY = ("", "")


@contextmanager
def platform_access() -> Iterator[None]:
    """Statements run inside see every workspace, unless a workspace is selected (it wins)."""
    token = _platform.set(True)
    try:
        yield
    finally:
        _platform.reset(token)


def wanted() -> tuple[str, str]:
    """The (workspace id, bypass) pair the current context asks the database for."""
    workspace_id = current_workspace_id(required=False)
    if workspace_id is not None:
        return str(workspace_id), ""
    return "", "on" if _platform.get() else ""


def apply_settings(raw_connection, values: tuple[str, str]) -> None:
    """Set both settings for the current transaction only (`is_local = true`)."""
    with raw_connection.cursor() as cursor:
        cursor.execute(
            f"SELECT set_config('{WORKSPACE_SETTING}', %s, true), set_config('{BYPASS_SETTING}', %s, true)",
            values,
        )


def sync(connection) -> None:
    """Make the open transaction carry the current scope before raw psycopg use (COPY).

    Statements through Django's cursors are handled by the backend; code that talks to the
    psycopg connection directly calls this first, inside `transaction.atomic()`.
    """
    if connection.vendor != "postgresql" or not hasattr(connection, "rls_before_statement"):
        return
    if connection.get_autocommit():
        raise RuntimeError("raw statements under row-level security must run inside transaction.atomic()")
    connection.ensure_connection()
    connection.rls_before_statement()


def page_transaction():
    """One transaction around a page request in a workspace, on PostgreSQL only.

    The workspace is then set once per page instead of once per statement (a statement outside
    a transaction needs BEGIN, set_config and COMMIT around it). SQLite gets nothing: its
    transactions take the database's write lock, which would serialise every page view.
    """
    from django.db import connection, transaction

    if hasattr(connection, "rls_before_statement"):
        return transaction.atomic()
    return nullcontext()


# --- Policies --------------------------------------------------------------------------------


def tenant_tables() -> list[str]:
    """Every table holding tenant rows: the concrete subclasses of `TenantModel`."""
    from django.apps import apps

    from .models import TenantModel

    return sorted(
        m._meta.db_table
        for m in apps.get_models()
        if issubclass(m, TenantModel) and not m._meta.proxy and m._meta.managed
    )


def policy_sql(table: str) -> list[str]:
    quoted = f'"{table}"'
    check = (
        f"workspace_id = (SELECT NULLIF(current_setting('{WORKSPACE_SETTING}', true), '')::bigint)"
        f" OR (SELECT current_setting('{BYPASS_SETTING}', true)) = 'on'"
    )
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY_NAME} ON {quoted}",
        f"CREATE POLICY {POLICY_NAME} ON {quoted} FOR ALL USING ({check}) WITH CHECK ({check})",
    ]


def install_policies(connection) -> list[str]:
    """(Re)create the policy on every tenant table; idempotent. Returns the tables."""
    tables = tenant_tables()
    with connection.cursor() as cursor:
        for table in tables:
            for statement in policy_sql(table):
                cursor.execute(statement)
    return tables


def grant_app_role(connection, role: str) -> None:
    """The application role may read and write rows, never own, truncate or alter a table."""
    name = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}")
        cursor.execute(f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {name}")
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {name}")
