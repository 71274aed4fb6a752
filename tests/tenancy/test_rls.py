"""PostgreSQL row-level security: the database keeps workspaces apart even when the code forgets.

These run against PostgreSQL as the application role (CI: `cs_app`, neither owner nor
superuser, no BYPASSRLS); a superuser or BYPASSRLS role is exempt from every policy, so for one
there is nothing to test and they skip with that reason.
"""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction

from accounts.models import Account
from tenancy import rls
from tenancy.context import use_workspace

from .. import factories as f

pytestmark = [pytest.mark.postgres]


def _role_flags() -> tuple[str, bool, bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        return cursor.fetchone()


@pytest.fixture
def app_role(db):
    name, superuser, bypass = _role_flags()
    if superuser or bypass:
        pytest.skip(f"role {name} is exempt from row-level security (superuser or BYPASSRLS)")
    return name


def _raw_app_connection() -> psycopg.Connection:
    """A brand-new session as the application role: nothing set on it, as after a pool hand-off."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"] or None,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        autocommit=True,
    )


def test_every_tenant_table_has_its_policy_enabled_and_forced(app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = %s)"
            " FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace",
            [rls.POLICY_NAME],
        )
        state = {name: (enabled, forced, policy) for name, enabled, forced, policy in cursor.fetchall()}
        cursor.execute(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name = 'workspace_id'"
        )
        with_workspace_column = {row[0] for row in cursor.fetchall()}
    assert len(rls.tenant_tables()) >= 35
    missing = {t: state.get(t) for t in rls.tenant_tables() if state.get(t) != (True, True, True)}
    assert not missing, f"tables without an enabled, forced policy: {missing}"
    # A table with a workspace column that is not a TenantModel would escape the policies.
    platform = {"tenancy_membership"}
    assert with_workspace_column - platform <= set(rls.tenant_tables()), with_workspace_column - set(
        rls.tenant_tables()
    )


def test_the_application_role_cannot_own_truncate_or_bypass(app_role):
    if not settings.DATABASE_OWNER:
        pytest.skip("one role owns and uses the tables (DATABASE_OWNER_URL is not set)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            " AND has_table_privilege(oid, 'TRUNCATE')"
        )
        assert cursor.fetchone()[0] == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege), _raw_app_connection() as raw:
        raw.execute("TRUNCATE accounts_account")


@pytest.mark.django_db(transaction=True)
def test_a_raw_query_with_no_workspace_set_returns_nothing(app_role):
    a, b = f.WorkspaceFactory(), f.WorkspaceFactory()
    for ws in (a, b):
        with use_workspace(ws):
            f.AccountFactory()
    # Platform code reading through `all_workspaces` sees both workspaces …
    assert Account.all_workspaces.filter(workspace__in=[a, b]).count() == 2
    # … but a statement with no workspace (a fresh session, or Django outside any scope) sees none.
    with _raw_app_connection() as raw:
        assert raw.execute("SELECT count(*) FROM accounts_account").fetchone()[0] == 0
        assert raw.execute("SELECT current_setting('app.workspace_id', true)").fetchone()[0] in (None, "")
        # An empty setting is no workspace, not a wildcard.
        with raw.transaction():
            raw.execute("SELECT set_config('app.workspace_id', '', true)")
            assert raw.execute("SELECT count(*) FROM accounts_account").fetchone()[0] == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_account")
        assert cursor.fetchone()[0] == 0
    # Inside a scope, raw SQL sees exactly that workspace's rows.
    with use_workspace(a), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT workspace_id FROM accounts_account")
        assert cursor.fetchall() == [(a.pk,)]


@pytest.mark.django_db(transaction=True)
def test_an_insert_or_update_carrying_another_workspace_is_refused(app_role):
    a, b = f.WorkspaceFactory(), f.WorkspaceFactory()
    with use_workspace(a):
        account = f.AccountFactory()
    with use_workspace(b):
        with (
            pytest.raises(Exception, match="row-level security"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO tenancy_workspacelock (workspace_id, name, token, expires_at)"
                " VALUES (%s, 'smuggled', 'x', now())",
                [a.pk],
            )
        # A's row is invisible to B: an UPDATE or DELETE of it by id touches nothing.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE accounts_account SET name = 'Renamed by B' WHERE id = %s", [account.pk])
            assert cursor.rowcount == 0
            cursor.execute("DELETE FROM accounts_account WHERE id = %s", [account.pk])
            assert cursor.rowcount == 0
        # Even the unscoped manager cannot reach A while B is selected: the workspace wins.
        assert not Account.all_workspaces.filter(pk=account.pk).exists()
    with use_workspace(a):
        # Moving one of A's rows to B is refused too (WITH CHECK).
        with (
            pytest.raises(Exception, match="row-level security"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE accounts_account SET workspace_id = %s WHERE id = %s", [b.pk, account.pk])
        assert Account.objects.get(pk=account.pk).name == account.name


@pytest.mark.django_db(transaction=True)
def test_the_workspace_lives_only_as_long_as_its_transaction(app_role):
    ws = f.WorkspaceFactory()
    with use_workspace(ws):
        f.AccountFactory()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.workspace_id', true)")
            assert cursor.fetchone()[0] == str(ws.pk)
    # The same connection, next transaction, no scope: nothing carried over (no session SET).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.workspace_id', true), current_setting('app.rls_bypass', true)"
        )
        assert cursor.fetchone() in ((None, None), ("", ""))
        cursor.execute("SELECT count(*) FROM accounts_account")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_page_request_sets_the_workspace_once(app_role, client):
    """Pages run in one transaction: one set_config per request, not one per statement."""
    from django.test.utils import CaptureQueriesContext

    ws = f.WorkspaceFactory()
    user = f.UserFactory(email="rls@example.test")
    f.MembershipFactory(user=user, workspace=ws, role="admin")
    with use_workspace(ws):
        f.AccountFactory.create_batch(3)
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/w/{ws.slug}/accounts/")
    assert response.status_code == 200
    begins = [q for q in queries if q["sql"] == "BEGIN"]
    assert len(begins) == 1, "statements of the page ran outside its one transaction"


def test_the_deploy_check_warns_when_the_role_escapes_the_policies(db):
    """`check --deploy --database default` warns exactly when the connected role is exempt."""
    from django.core.checks import run_checks

    _, superuser, bypass = _role_flags()
    found = [m.id for m in run_checks(include_deployment_checks=True, databases=["default"])]
    assert ("tenancy.W001" in found) == (superuser or bypass)
