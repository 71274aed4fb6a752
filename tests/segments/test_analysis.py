"""Segment analysis against a hand calculation on a four-account book, its queries, and the page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from accounts.mrr import movements_dated
from segments.analysis import analyse
from segments.portfolio import nps, retention
from tenancy.models import Role
from tests import factories as f
from tests.support import wurl

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
NOW = timezone.now()


def days_ago(n: int) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


@pytest.fixture
def book(workspace):
    """Four accounts (docs/metrics.md, "Segment analysis", has the formulas):

    | account | tier       | MRR                        | health    | employees | industry |
    |---------|------------|----------------------------|-----------|-----------|----------|
    | A       | Enterprise | 1,000 a year ago, 1,500 now| 80 green  | 40        | Retail   |
    | B       | Enterprise | 1,000                      | 30 red    | 300       | Retail   |
    | C       | SMB        | 1,000, churned 20 days ago | —         | 5,000     | Software |
    | D       | SMB        | 500, new 10 days ago       | 60 yellow | —         | (none)   |
    """
    csm = f.UserFactory()
    f.MembershipFactory(user=csm, workspace=workspace, role=Role.CSM)
    enterprise = f.TierFactory(name="Enterprise", position=1)
    smb = f.TierFactory(name="SMB", position=2)
    common = {"plan": "Pro"}
    with movements_dated(TODAY - dt.timedelta(days=500)):
        a = f.AccountFactory(
            name="A", tier=enterprise, employee_count=40, industry="Retail", csm_owner=csm, **common
        )
        b = f.AccountFactory(name="B", tier=enterprise, employee_count=300, industry="Retail", **common)
        c = f.AccountFactory(name="C", tier=smb, employee_count=5000, industry="Software", plan="Basic")
    with movements_dated(TODAY - dt.timedelta(days=100)):
        Account.objects.filter(pk=a.pk).update(mrr=Decimal("1500"))
    with movements_dated(TODAY - dt.timedelta(days=20)):
        c.status, c.churned_at = "churned", TODAY - dt.timedelta(days=20)
        c.save()
    with movements_dated(TODAY - dt.timedelta(days=10)):
        d = f.AccountFactory(name="D", tier=smb, mrr=Decimal("500"), industry="", plan="Basic", csm_owner=csm)
    for account, score, band in ((a, 80, "green"), (b, 30, "red"), (d, 60, "yellow")):
        Account.objects.filter(pk=account.pk).update(health_score=score, health_band=band)

    # Usage in the 30 complete days before today; the workspace used 3 features (reports,
    # dashboards, exports): a zero row and an older row do not count.
    yesterday = TODAY - dt.timedelta(days=1)
    f.DailyUsageFactory(account=a, feature="reports", day=yesterday, events=10)
    f.DailyUsageFactory(account=a, feature="dashboards", day=TODAY - dt.timedelta(days=5), events=20)
    f.DailyUsageFactory(account=b, feature="reports", day=TODAY - dt.timedelta(days=3), events=6)
    f.DailyUsageFactory(account=b, feature="api", day=yesterday, events=0)
    f.DailyUsageFactory(account=b, feature="reports", day=TODAY - dt.timedelta(days=40), events=100)
    f.DailyUsageFactory(account=c, feature="reports", day=yesterday, events=50)
    f.DailyUsageFactory(account=d, feature="exports", day=yesterday, events=4)
    f.DailyUsageFactory(account=d, feature="dashboards", day=TODAY, events=9)  # today is not complete

    # Tickets: opened in the last 90 days count per account; resolved in them, their hours.
    f.TicketFactory(account=a, opened_at=days_ago(10), resolved_at=days_ago(10) + dt.timedelta(hours=4))
    f.TicketFactory(account=a, opened_at=days_ago(5))
    f.TicketFactory(account=b, opened_at=days_ago(100), resolved_at=days_ago(80))  # 480 h
    f.TicketFactory(account=c, opened_at=days_ago(30), resolved_at=days_ago(30) + dt.timedelta(hours=10))
    f.TicketFactory(account=d, opened_at=days_ago(2), resolved_at=days_ago(2) + dt.timedelta(hours=2))

    # NPS answers of the last 90 days, churned accounts' included.
    for account, score in ((a, 10), (a, 9), (b, 3), (c, 8)):
        f.NPSResponseFactory(account=account, score=score, responded_at=days_ago(5))
    f.NPSResponseFactory(account=d, score=0, responded_at=days_ago(200))
    return {"csm": csm, "accounts": {"A": a, "B": b, "C": c, "D": d}}


def by_label(analysis) -> dict[str, dict]:
    return {row["label"]: row for row in analysis.rows}


def test_tiers_match_the_hand_calculation(book):
    result = analyse("tier", TODAY)
    assert [row["label"] for row in result.rows] == ["Enterprise", "SMB"]
    ent, smb = by_label(result)["Enterprise"], by_label(result)["SMB"]

    assert ent["accounts"] == 2 and smb["accounts"] == 1  # C churned
    assert ent["arr"] == pytest.approx((1500 + 1000) * 12)
    assert smb["arr"] == pytest.approx(500 * 12)
    assert ent["avg_health"] == pytest.approx((80 + 30) / 2)
    assert smb["avg_health"] == pytest.approx(60)
    assert ent["pct_red"] == pytest.approx(50.0) and smb["pct_red"] == pytest.approx(0.0)
    assert ent["usage_per_account"] == pytest.approx((30 + 6) / 2)
    assert smb["usage_per_account"] == pytest.approx(4)
    assert ent["feature_adoption"] == pytest.approx((2 / 3 + 1 / 3) / 2 * 100)
    assert smb["feature_adoption"] == pytest.approx(1 / 3 * 100)
    assert ent["tickets_per_account"] == pytest.approx(2 / 2)
    assert smb["tickets_per_account"] == pytest.approx(1.0)
    assert ent["avg_resolution_hours"] == pytest.approx((4 + 480) / 2)
    assert smb["avg_resolution_hours"] == pytest.approx(2)
    assert ent["nps"] == pytest.approx((2 - 1) / 3 * 100) and ent["nps_answers"] == 3
    assert smb["nps"] == pytest.approx(0.0) and smb["nps_answers"] == 1
    assert ent["churn_rate"] == pytest.approx(0.0)
    assert smb["churn_rate"] == pytest.approx(100.0)
    assert ent["nrr"] == pytest.approx((2000 + 500) / 2000 * 100)
    assert smb["nrr"] == pytest.approx(0.0)

    total = result.total
    assert total["accounts"] == 3
    assert total["arr"] == pytest.approx(3000 * 12)
    assert total["avg_health"] == pytest.approx((80 + 30 + 60) / 3)
    assert total["pct_red"] == pytest.approx(100 / 3)
    assert total["usage_per_account"] == pytest.approx(40 / 3)
    assert total["feature_adoption"] == pytest.approx((2 / 3 + 1 / 3 + 1 / 3) / 3 * 100)
    assert total["tickets_per_account"] == pytest.approx(1.0)
    assert total["avg_resolution_hours"] == pytest.approx((4 + 480 + 2) / 3)
    assert total["nps"] == pytest.approx(25.0)
    assert total["churn_rate"] == pytest.approx(100 / 3)
    assert total["nrr"] == pytest.approx((3000 + 500 - 1000) / 3000 * 100)


def test_the_total_agrees_with_the_dashboard(book):
    total = analyse("industry", TODAY).total
    r = retention(TODAY)
    assert total["nrr"] == pytest.approx(r.nrr)
    assert total["churn_rate"] == pytest.approx(r.logo_churn_rate)
    assert total["nps"] == pytest.approx(nps(TODAY)["score"])


def test_other_dimensions_group_and_order_accounts(book):
    sizes = analyse("size", TODAY)
    assert [(r["label"], r["accounts"]) for r in sizes.rows] == [
        ("1–49", 1),
        ("250–999", 1),
        ("5,000+", 0),  # C churned: no active account, but its churn shows
        ("Not set", 1),
    ]
    assert by_label(sizes)["5,000+"]["churn_rate"] == pytest.approx(100.0)
    assert by_label(sizes)["5,000+"]["avg_health"] is None

    industries = analyse("industry", TODAY)
    # Named groups by ARR, the accounts without a value last.
    assert [r["label"] for r in industries.rows] == ["Retail", "Software", "Not set"]
    assert by_label(industries)["Retail"]["query"] == "industry=Retail"
    assert by_label(industries)["Not set"]["query"] is None

    plans = by_label(analyse("plan", TODAY))
    assert plans["Pro"]["arr"] == pytest.approx(2500 * 12)
    assert plans["Basic"]["nrr"] == pytest.approx(0.0)

    stages = analyse("stage", TODAY)
    assert [r["label"] for r in stages.rows] == ["Not set"]


def test_my_accounts_only(book):
    result = analyse("tier", TODAY, accounts=Account.objects.filter(csm_owner=book["csm"]))
    ent, smb = by_label(result)["Enterprise"], by_label(result)["SMB"]
    assert ent["accounts"] == 1 and ent["arr"] == pytest.approx(18000)
    assert ent["nrr"] == pytest.approx(150.0)  # A: 1,000 → 1,500
    assert smb["nrr"] is None and smb["churn_rate"] is None  # D is new: no starting cohort
    assert result.total["nps"] == pytest.approx(100.0)  # A's two promoters


def test_the_query_count_does_not_grow_with_accounts_or_groups(book, workspace):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            analyse("tier", TODAY)
        return len(captured.captured_queries)

    before = queries()
    for n in range(12):
        account = f.AccountFactory(tier=f.TierFactory(name=f"Extra {n}"), employee_count=n * 700)
        f.DailyUsageFactory(account=account)
        f.TicketFactory(account=account)
        f.NPSResponseFactory(account=account)
    assert queries() == before == 6


def test_an_empty_workspace_has_no_groups(workspace):
    result = analyse("tier", TODAY)
    assert result.rows == []
    assert result.total["accounts"] == 0 and result.total["nrr"] is None


@pytest.fixture
def page_client(book, workspace):
    client = Client()
    client.force_login(book["csm"])
    return client


def test_the_page_compares_tiers(page_client, workspace):
    response = page_client.get(wurl(workspace, "dashboard:analysis"))
    assert response.status_code == 200
    assert [r["label"] for r in response.context["analysis"].rows] == ["Enterprise", "SMB"]
    body = response.content.decode()
    assert "Segment analysis" in body and "Enterprise" in body
    assert "125.0 %" in body  # Enterprise NRR


def test_the_page_compares_my_accounts_by_industry(page_client, workspace):
    response = page_client.get(wurl(workspace, "dashboard:analysis"), {"by": "industry", "scope": "mine"})
    assert response.status_code == 200
    assert [r["label"] for r in response.context["analysis"].rows] == ["Retail", "Not set"]
    assert "?status=active&amp;industry=Retail" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"by": "colour"}, "“colour” is not something to compare by: choose one of tier, stage"),
        ({"scope": "everyone"}, "“everyone” is not a scope"),
        ({"by": "tier", "scope": "x" * 300}, "is not a scope"),
    ],
)
def test_bad_query_parameters_get_a_clear_message(page_client, workspace, query, message):
    response = page_client.get(wurl(workspace, "dashboard:analysis"), query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "analysis" not in response.context or response.context.get("analysis") is None


def test_unknown_parameters_are_ignored(page_client, workspace):
    response = page_client.get(wurl(workspace, "dashboard:analysis"), {"tier": "999", "page": "abc"})
    assert response.status_code == 200


def test_each_workspace_compares_only_its_own_accounts(client, two_workspaces):
    tw = two_workspaces
    client.force_login(tw.a_admin)
    own = client.get(wurl(tw.a, "dashboard:analysis"), {"by": "industry"})
    assert own.status_code == 200 and "Quokka logistics" in own.content.decode()
    client.force_login(tw.b_admin)
    other = client.get(wurl(tw.b, "dashboard:analysis"), {"by": "industry"})
    assert other.status_code == 200
    assert not tw.leaks(other.content)
    assert other.context["analysis"].total["accounts"] == 1  # B's one account
