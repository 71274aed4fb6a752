"""The automatic tier and stage rules (segments/rules.py): what moves, what a person's override
keeps, what is recorded, the settings page, and the run after a health run through a real worker."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, AccountChange, Contact, DailyUsage, StageRules, Tier
from accounts.provisioning import provision_tiers_and_stages
from cs_platform.celery import app
from health.defaults import ensure_default_scorecards
from health.models import HealthScore, ScorecardVersion
from segments.rules import apply_rules
from tenancy.context import use_workspace

from .. import factories as f
from ..celery.worker import broker, filesystem_options, wait_for
from ..support import wurl

TODAY = timezone.localdate()


@pytest.fixture
def ws(workspace):
    """A workspace with the default tiers (Enterprise 5,000+, Mid-market 1,000+, SMB 0+) and stages."""
    provision_tiers_and_stages(sender=None, workspace=workspace)
    return workspace


def tier(name):
    return Tier.objects.get(name=name)


def stage(key):
    from accounts.models import LifecycleStage

    return LifecycleStage.objects.get(key=key)


def add_tiered_accounts(n: int, prefix: str) -> None:
    Account.objects.bulk_create(
        [Account(name=f"{prefix} {i}", mrr=Decimal(i % 5 * 1500)) for i in range(n)]  # in all 3 tiers
    )


@pytest.mark.django_db
def test_tiers_follow_mrr_ranges_except_overrides(ws):
    rich = f.AccountFactory(name="Rich", mrr=Decimal("6000"))
    edge = f.AccountFactory(name="Edge", mrr=Decimal("1000"))
    below = f.AccountFactory(name="Below", mrr=Decimal("999.99"), tier=tier("Enterprise"))
    kept = f.AccountFactory(name="Kept", mrr=Decimal("9000"), tier=tier("SMB"), tier_overridden=True)
    lost = f.AccountFactory(name="Lost", mrr=Decimal("9000"), status="churned")
    f.TierFactory(name="Special", mrr_from=None)  # never assigned automatically

    moved = apply_rules()

    names = dict(Account.objects.values_list("name", "tier__name"))
    assert names == {"Rich": "Enterprise", "Edge": "Mid-market", "Below": "SMB", "Kept": "SMB", "Lost": None}
    assert moved["tier"] == 3
    change = AccountChange.objects.get(account=below)
    assert (change.field, change.old_label, change.new_label, change.source, change.changed_by) == (
        "tier",
        "Enterprise",
        "SMB",
        "rule",
        None,
    )
    assert change.reason == "MRR from 0 to under 1,000"
    assert not AccountChange.objects.filter(account__in=[kept, lost]).exists()
    assert {rich.pk, edge.pk} <= set(AccountChange.objects.values_list("account_id", flat=True))
    # Idempotent: a second run finds nothing to move and records nothing.
    assert apply_rules()["tier"] == 0
    assert AccountChange.objects.count() == 3


@pytest.mark.django_db
def test_rules_are_set_based_the_query_count_does_not_grow_with_accounts(ws):
    add_tiered_accounts(5, "Few")
    with CaptureQueriesContext(connection) as few:
        apply_rules()
    Account.objects.update(tier=None)
    add_tiered_accounts(200, "Many")
    with CaptureQueriesContext(connection) as many:
        moved = apply_rules()
    assert moved["tier"] == 205

    def reads_and_updates(queries):
        return [q["sql"].split(" ")[0] for q in queries if not q["sql"].startswith("INSERT")]

    # The same reads and UPDATEs; the history INSERTs come in batches (SQLite caps parameters).
    assert reads_and_updates(many) == reads_and_updates(few)
    assert sum(q["sql"].startswith("INSERT") for q in many) <= 10


def add_active_users(account: Account, n: int) -> None:
    contacts = Contact.objects.bulk_create([Contact(account=account, name=f"User {i}") for i in range(n)])
    DailyUsage.objects.bulk_create(
        [
            DailyUsage(
                account=account, contact=c, feature="reports", day=TODAY - dt.timedelta(days=3), events=5
            )
            for c in contacts
        ]
    )


@pytest.mark.django_db
def test_onboarding_to_adoption_after_n_days_live_with_x_active_users(ws):
    rules = StageRules.for_workspace()
    rules.adoption_after_days, rules.adoption_min_active_users = 30, 3
    rules.save()
    start = TODAY - dt.timedelta(days=31)
    ready = f.AccountFactory(name="Ready", lifecycle_stage=stage("onboarding"), contract_start=start)
    add_active_users(ready, 3)
    few_users = f.AccountFactory(name="Few users", lifecycle_stage=stage("onboarding"), contract_start=start)
    add_active_users(few_users, 2)
    too_new = f.AccountFactory(
        name="Too new", lifecycle_stage=stage("onboarding"), contract_start=TODAY - dt.timedelta(days=10)
    )
    add_active_users(too_new, 5)
    held = f.AccountFactory(
        name="Held", lifecycle_stage=stage("onboarding"), contract_start=start, stage_overridden=True
    )
    add_active_users(held, 5)

    assert apply_rules()["adoption"] == 1
    stages = dict(Account.objects.values_list("name", "lifecycle_stage__key"))
    assert stages == {
        "Ready": "adoption",
        "Few users": "onboarding",
        "Too new": "onboarding",
        "Held": "onboarding",
    }
    change = AccountChange.objects.get(field="stage")
    assert (change.account_id, change.old_label, change.new_label, change.source) == (
        ready.pk,
        "Onboarding",
        "Adoption",
        "rule",
    )


def green_history(account: Account, days: int, band: str = "green") -> None:
    version = ScorecardVersion.objects.first()
    HealthScore.objects.bulk_create(
        [
            HealthScore(
                account=account,
                day=TODAY - dt.timedelta(days=n),
                score=80,
                band=band,
                coverage=1,
                inputs_used=1,
                inputs_total=1,
                scorecard_version=version,
                measures={},
            )
            for n in range(days)
        ]
    )


@pytest.mark.django_db
def test_adoption_to_established_after_n_days_green_and_advocate_on_a_promoter(ws):
    ensure_default_scorecards()
    rules = StageRules.for_workspace()
    rules.established_after_green_days = 5
    rules.save()
    steady = f.AccountFactory(name="Steady", lifecycle_stage=stage("adoption"), health_band="green")
    green_history(steady, 5)
    short = f.AccountFactory(name="Short", lifecycle_stage=stage("adoption"), health_band="green")
    green_history(short, 4)
    fan = f.AccountFactory(name="Fan", lifecycle_stage=stage("established"), health_band="green")
    f.NPSResponseFactory(account=fan, score=10)
    unhappy_fan = f.AccountFactory(
        name="Yellow fan", lifecycle_stage=stage("established"), health_band="yellow"
    )
    f.NPSResponseFactory(account=unhappy_fan, score=10)
    critic = f.AccountFactory(name="Critic", lifecycle_stage=stage("adoption"), health_band="green")
    f.NPSResponseFactory(account=critic, score=6)
    # Green and a promoter: one step per run (advocate is not reached from adoption and
    # established at once).
    both = f.AccountFactory(name="Both", lifecycle_stage=stage("adoption"), health_band="green")
    green_history(both, 5)
    f.NPSResponseFactory(account=both, score=9)

    moved = apply_rules()
    stages = dict(Account.objects.values_list("name", "lifecycle_stage__key"))
    assert stages == {
        "Steady": "established",
        "Short": "adoption",
        "Fan": "advocate",
        "Yellow fan": "established",
        "Critic": "adoption",
        "Both": "advocate",
    }
    assert moved["established"] == 1 and moved["advocate"] == 2
    # Just moved into established: the N green days start again in the new stage.
    assert apply_rules()["established"] == 0


@pytest.mark.django_db
def test_promoter_rule_can_be_switched_off(ws):
    rules = StageRules.for_workspace()
    rules.advocate_on_promoter = False
    rules.save()
    fan = f.AccountFactory(name="Fan", lifecycle_stage=stage("established"), health_band="green")
    f.NPSResponseFactory(account=fan, score=10)
    assert "advocate" not in apply_rules()
    assert Account.objects.get(pk=fan.pk).lifecycle_stage.key == "established"


# --- settings page ------------------------------------------------------------------------------
def default_tiers() -> None:
    for name, start in (("Enterprise", 5000), ("Mid-market", 1000), ("SMB", 0)):
        f.TierFactory(name=name, mrr_from=Decimal(start))


@pytest.mark.django_db
def test_admins_configure_the_rules_and_ranges(client, two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        default_tiers()
        tiers = {t.name: t.pk for t in Tier.objects.all()}
    url = wurl(tw.a, "accounts:rules")
    form = {
        "tiers_by_mrr": "on",
        "adoption_after_days": "14",
        "adoption_min_active_users": "2",
        "established_after_green_days": "45",
        "promoter_within_days": "60",
        f"tier_{tiers['Enterprise']}": "8000",
        f"tier_{tiers['Mid-market']}": "1500",
        f"tier_{tiers['SMB']}": "0",
        f"tier_{tiers['Quokka Platinum']}": "",
    }
    client.force_login(tw.a_csm)
    assert client.get(url).status_code == 200
    assert client.post(url, form).status_code == 403
    client.force_login(tw.a_admin)
    response = client.post(url, form)
    assert response.status_code == 302
    with use_workspace(tw.a):
        rules = StageRules.for_workspace()
        assert (
            rules.adoption_after_days,
            rules.established_after_green_days,
            rules.advocate_on_promoter,
        ) == (
            14,
            45,
            False,
        )
        assert dict(Tier.objects.values_list("name", "mrr_from")) == {
            "Enterprise": Decimal("8000"),
            "Mid-market": Decimal("1500"),
            "SMB": Decimal("0"),
            "Quokka Platinum": None,
        }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"adoption_after_days": "soon"}, "Enter a whole number."),
        ({"adoption_min_active_users": "0"}, "greater than or equal to 1"),
        ({"established_after_green_days": "-3"}, "greater than or equal to"),
        ({"tier_enterprise": "-1"}, "greater than or equal to 0"),
        ({"tier_enterprise": "lots"}, "Enter a number."),
        ({"tier_enterprise": "1000"}, "Two tiers start at the same MRR"),
    ],
)
def test_bad_settings_are_refused_with_a_message(client, two_workspaces, changes, message):
    tw = two_workspaces
    with use_workspace(tw.a):
        default_tiers()
        tiers = {t.name: t.pk for t in Tier.objects.all()}
    form = {
        "adoption_after_days": "30",
        "adoption_min_active_users": "3",
        "established_after_green_days": "60",
        "promoter_within_days": "90",
        f"tier_{tiers['Enterprise']}": "5000",
        f"tier_{tiers['Mid-market']}": "1000",
        f"tier_{tiers['SMB']}": "0",
    }
    for key, value in changes.items():
        form[f"tier_{tiers['Enterprise']}" if key == "tier_enterprise" else key] = value
    client.force_login(tw.a_admin)
    response = client.post(wurl(tw.a, "accounts:rules"), form)
    assert response.status_code == 200
    assert message in response.content.decode()
    with use_workspace(tw.a):
        assert Tier.objects.get(name="Enterprise").mrr_from == Decimal("5000")


# --- after a health run, through a real worker ---------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_health_run_of_today_applies_the_rules_through_the_worker(tmp_path, executed_tasks):
    from health.recompute import recompute

    ws = f.WorkspaceFactory()
    with use_workspace(ws):
        provision_tiers_and_stages(sender=None, workspace=ws)
        ensure_default_scorecards()
        account = f.AccountFactory(name="Grown Up", mrr=Decimal("7000"), tier=tier("SMB"))

    def tiered():
        with use_workspace(ws):
            return Account.objects.filter(pk=account.pk, tier__name="Enterprise").first()

    with (
        broker("filesystem://", filesystem_options(tmp_path / "broker")),
        start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=20),
    ):
        with use_workspace(ws):
            recompute(ws.pk)
        assert wait_for(tiered, timeout=30) is not None, "the rules did not run after the health run"
    assert "segments.tasks.apply_tier_stage_rules" in [name for name, _ in executed_tasks]
    with use_workspace(ws):
        change = AccountChange.objects.get(account=account)
        assert (change.old_label, change.new_label, change.source) == ("SMB", "Enterprise", "rule")
