"""Portfolio revenue figures against a hand calculation on a small fixture."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account
from accounts.mrr import movements_dated
from segments.portfolio import nps, retention
from tests import factories as f

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
LONG_AGO = TODAY - dt.timedelta(days=500)


def at(days_ago: int):
    return movements_dated(TODAY - dt.timedelta(days=days_ago))


@pytest.fixture
def book(workspace):
    """Four accounts paying 1,000 each a year ago; then: A expands +500, B contracts -200,
    C churns, D unchanged; E is new this year (+300)."""
    accounts = {}
    with movements_dated(LONG_AGO):
        for name in "ABCD":
            accounts[name] = f.AccountFactory(name=name, mrr=Decimal("1000"))
    with at(100):
        Account.objects.filter(pk=accounts["A"].pk).update(mrr=Decimal("1500"))
    with at(50):
        b = Account.objects.get(pk=accounts["B"].pk)
        b.mrr = Decimal("800")
        b.save()
    with at(20):
        c = Account.objects.get(pk=accounts["C"].pk)
        c.status, c.churned_at = "churned", TODAY - dt.timedelta(days=20)
        c.save()
    with at(10):
        accounts["E"] = f.AccountFactory(name="E", mrr=Decimal("300"))
    return accounts


def test_retention_matches_the_hand_calculation(book):
    r = retention(TODAY)
    assert r.starting_mrr == Decimal("4000") and r.starting_accounts == 4
    # NRR = (4000 + 500 - 200 - 1000) / 4000 = 82.5 %; GRR = (4000 - 200 - 1000) / 4000 = 70 %
    assert r.nrr == pytest.approx(82.5)
    assert r.grr == pytest.approx(70.0)
    assert r.logo_churn_rate == pytest.approx(25.0)  # 1 of 4
    assert r.revenue_churn_rate == pytest.approx(30.0)  # (200 + 1000) / 4000
    assert [(w["label"], w["value"]) for w in r.waterfall] == [
        ("Start", 4000.0),
        ("New", 300.0),
        ("Expansion", 500.0),
        ("Contraction", -200.0),
        ("Churn", -1000.0),
    ]


def test_retention_of_one_portfolio(book, workspace):
    mine = Account.objects.filter(name__in=["A", "B"])
    r = retention(TODAY, accounts=mine)
    assert r.starting_mrr == Decimal("2000")
    assert r.nrr == pytest.approx((2000 + 500 - 200) / 2000 * 100)


def test_nps_counts_promoters_and_detractors(workspace):
    account = f.AccountFactory()
    for score in (10, 9, 8, 3, 0):
        f.NPSResponseFactory(account=account, score=score, responded_at=timezone.now() - dt.timedelta(days=3))
    f.NPSResponseFactory(account=account, score=0, responded_at=timezone.now() - dt.timedelta(days=200))
    result = nps(TODAY)
    assert result["total"] == 5
    assert result["score"] == pytest.approx(0.0)  # 40 % promoters - 40 % detractors
    assert result["passives"] == pytest.approx(20.0)
