"""Fixtures shared by every suite.

`two_workspaces` is the tenancy fixture: workspaces A and B, each with an admin, a CSM and a
viewer, a user who belongs to neither, and a set of customer data in A whose every name, email
and external id contains the marker "quokka", so a test can assert that nothing of A leaks into
a page rendered for B.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.test.utils import override_settings
from django.utils import timezone

from tenancy.context import use_workspace
from tenancy.models import Role, User, Workspace

from . import factories as f

A_MARKER = "quokka"


def pytest_configure(config):
    from django.conf import settings

    from cs_platform.celery import app

    # WhiteNoise warns on every request when the collected-static folder does not exist yet.
    os.makedirs(settings.STATIC_ROOT, exist_ok=True)
    # Parallel test processes have their own databases (and so the same workspace ids): keep
    # their cache keys apart when they share one Redis.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.CACHES["default"]["KEY_PREFIX"] = f"test-{worker}"
    # Tasks enqueued by ordinary tests (data changes queue a rescore) go to kombu's in-memory
    # transport and are dropped with the process; the worker tests point the app at a real broker.
    app.conf.broker_url = "memory://"


def pytest_collection_modifyitems(config, items):
    """`postgres` tests run only on PostgreSQL, `redis` tests only when REDIS_URL is set."""
    from django.db import connection

    on_postgres = connection.vendor == "postgresql"
    has_redis = bool(os.environ.get("REDIS_URL"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://…)")
    skip_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL=redis://…)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not has_redis:
            item.add_marker(skip_redis)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """With DATABASE_OWNER_URL set (CI), the test database is created and migrated by the owner
    role; `django_db_setup` below then hands the tests to the application role, so the whole
    suite runs under row-level security exactly as production does."""
    from django.conf import settings
    from django.db import connections

    owner = settings.DATABASE_OWNER
    connection = connections["default"]
    if owner and connection.vendor == "postgresql":
        connection.app_credentials = {k: connection.settings_dict[k] for k in ("USER", "PASSWORD")}
        connection.close()
        connection.settings_dict.update(USER=owner["USER"], PASSWORD=owner.get("PASSWORD", ""))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.db import connections

    from tenancy import rls

    connection = connections["default"]
    app = getattr(connection, "app_credentials", None)
    if app is None:
        yield
        return
    owner = {k: connection.settings_dict[k] for k in ("USER", "PASSWORD")}
    with django_db_blocker.unblock():
        rls.grant_app_role(connection, app["USER"])
        connection.close()
    connection.settings_dict.update(app)
    yield
    with django_db_blocker.unblock():
        connection.close()
    connection.settings_dict.update(owner)  # the owner drops the test database


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    # The production hasher costs ~0.3 s per user; the tests create dozens of users.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def workspace(db):
    """A fresh workspace, selected for the whole test."""
    ws = f.WorkspaceFactory()
    with use_workspace(ws):
        yield ws


@dataclass
class SampleA:
    """Workspace A's customer data: one account with one of everything."""

    tier: object
    stage: object
    account: object
    contact: object
    other_contact: object
    invoice: object
    ticket: object
    nps: object
    touchpoint: object
    csm_score: object
    usage_event: object
    daily_usage: object


@dataclass
class TwoWorkspaces:
    a: Workspace
    b: Workspace
    a_admin: User
    a_csm: User
    a_viewer: User
    b_admin: User
    b_csm: User
    b_viewer: User
    outsider: User
    sample: SampleA
    b_account: object
    strings_of_a: list[str] = field(default_factory=list)
    # More of A's objects, added by suites that need them (e.g. a scorecard for the sweep).
    extra: dict = field(default_factory=dict)

    def leaks(self, body: bytes | str) -> list[str]:
        """Which of A's identifying strings occur in `body` (case-insensitive)."""
        text = (body.decode() if isinstance(body, bytes) else body).lower()
        found = [s for s in self.strings_of_a if s.lower() in text]
        if A_MARKER in text and not found:
            found.append(A_MARKER)
        return found


def _members(workspace: Workspace, prefix: str) -> dict[str, User]:
    users = {}
    for role in (Role.ADMIN, Role.CSM, Role.VIEWER):
        user = f.UserFactory(email=f"{role}@{prefix}.test", full_name=f"{prefix} {role}")
        f.MembershipFactory(user=user, workspace=workspace, role=role)
        users[role] = user
    return users


@pytest.fixture
def two_workspaces(db) -> TwoWorkspaces:
    a = f.WorkspaceFactory(name="Alpha Quokka Inc", slug="alpha-quokka")
    b = f.WorkspaceFactory(name="Beta Wombat Ltd", slug="beta-wombat")
    a_users = _members(a, "alpha-quokka")
    b_users = _members(b, "beta-wombat")
    outsider = f.UserFactory(email="outsider@nowhere.test", full_name="Olive Outsider")
    now = timezone.now()
    with use_workspace(a):
        tier = f.TierFactory(name="Quokka Platinum")
        stage = f.LifecycleStageFactory(name="Quokka Adoption", key="quokka-adoption")
        account = f.AccountFactory(
            name="Quokka Alpha Holdings",
            external_id="qk-ext-7731",
            domain="quokka-alpha.example",
            industry="Quokka logistics",
            mrr=Decimal("4200.00"),
            tier=tier,
            lifecycle_stage=stage,
            csm_owner=a_users[Role.CSM],
        )
        contact = f.ContactFactory(
            account=account,
            name="Wilhelmina Quokkason",
            email="wilhelmina@quokka-alpha.example",
            external_id="qk-contact-1",
            is_champion=True,
        )
        other_contact = f.ContactFactory(
            account=account,
            name="Bartholomew Quokkaby",
            email="bart@quokka-alpha.example",
            external_id="qk-contact-2",
        )
        sample = SampleA(
            tier=tier,
            stage=stage,
            account=account,
            contact=contact,
            other_contact=other_contact,
            invoice=f.InvoiceFactory(account=account, number="QK-INV-0042", external_id="qk-inv-42"),
            ticket=f.TicketFactory(
                account=account,
                contact=contact,
                subject="Quokka export keeps timing out",
                external_id="qk-ticket-9",
            ),
            nps=f.NPSResponseFactory(
                account=account, contact=contact, comment="Quokka team loves it", external_id="qk-nps-1"
            ),
            touchpoint=f.TouchpointFactory(
                account=account,
                author=a_users[Role.CSM],
                subject="Quokka quarterly review",
                external_id="qk-tp-1",
                occurred_at=now - dt.timedelta(days=2),
            ),
            csm_score=f.CSMScoreFactory(
                account=account, author=a_users[Role.CSM], score=2, note="Quokka champion is nervous"
            ),
            usage_event=f.UsageEventFactory(
                account=account, contact=contact, event_id="qk-evt-1", feature="quokka-reports"
            ),
            daily_usage=f.DailyUsageFactory(account=account, contact=contact, feature="quokka-reports"),
        )
    with use_workspace(b):
        b_account = f.AccountFactory(name="Wombat Beta Traders", external_id="wb-ext-1", mrr=Decimal("900"))
        f.ContactFactory(account=b_account, name="Walter Wombat", email="walter@wombat.example")
    strings = [
        a.name,
        a.slug,
        tier.name,
        stage.name,
        account.name,
        account.external_id,
        account.domain,
        account.industry,
        contact.name,
        contact.email,
        contact.external_id,
        other_contact.name,
        other_contact.email,
        other_contact.external_id,
        sample.invoice.number,
        sample.invoice.external_id,
        sample.ticket.subject,
        sample.ticket.external_id,
        sample.nps.comment,
        sample.nps.external_id,
        sample.touchpoint.subject,
        sample.touchpoint.external_id,
        sample.csm_score.note,
        sample.usage_event.event_id,
        *(u.email for u in a_users.values()),
    ]
    return TwoWorkspaces(
        a=a,
        b=b,
        a_admin=a_users[Role.ADMIN],
        a_csm=a_users[Role.CSM],
        a_viewer=a_users[Role.VIEWER],
        b_admin=b_users[Role.ADMIN],
        b_csm=b_users[Role.CSM],
        b_viewer=b_users[Role.VIEWER],
        outsider=outsider,
        sample=sample,
        b_account=b_account,
        strings_of_a=strings,
    )


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Each test gets a cache namespace of its own: workspace ids repeat across tests (and across
    parallel test processes sharing one Redis), cached figures and debounce keys must not. Set
    through the settings, so every thread's cache uses it: a Celery worker thread or the live
    server's threads build their own cache objects. (Not cache.clear(): on Redis that would flush
    other processes' keys too.)"""
    import copy
    import uuid

    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:10]}"
    settings.CACHES = caches
