"""Backtests against a real database: only data up to T is read, churned accounts are scored as
of T, and the pages and API as their users meet them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
import requests
from django.test import Client
from django.utils import timezone

from accounts.models import Account
from accounts.mrr import movements_dated
from health.backtest_loading import create_run, default_points, observations, run_backtest
from health.defaults import DEFAULT_DEFINITION, ensure_default_scorecards
from health.models import BacktestRun, BacktestStatus, Scorecard
from health.scorecards import ScorecardSpec
from health.tasks import run_backtest as run_backtest_task
from tenancy.context import use_workspace
from tenancy.models import ApiKey, Role
from tests import factories as f
from tests.support import wurl

TODAY = timezone.localdate()
T = TODAY - dt.timedelta(days=100)
HORIZON = 90


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def book(workspace):
    """Accounts with history before T; one churns inside the horizon, one churned before T."""
    ensure_default_scorecards()
    start = TODAY - days(500)
    accounts = {}
    for name in ("steady", "slipping", "churns_after", "churned_before", "too_new"):
        accounts[name] = f.AccountFactory(
            name=name.title(),
            contract_start=T + days(30) if name == "too_new" else start,
            renewal_date=T + days(50),
            created_at=at(start),
        )
    for name, account in accounts.items():
        good = name == "steady"
        for n in range(1, 120, 3):
            f.DailyUsageFactory(account=account, feature="reports", day=T - days(n), events=30 if good else 5)
        champion = f.ContactFactory(account=account, is_champion=True, created_at=at(start))
        f.NPSResponseFactory(
            account=account, contact=champion, score=9 if good else 3, responded_at=at(T - days(20))
        )
        f.CSMScoreFactory(account=account, score=5 if good else 2, scored_at=at(T - days(15)))
        f.TicketFactory(account=account, opened_at=at(T - days(30)), csat=5 if good else 1, status="resolved",
                        resolved_at=at(T - days(29)))  # fmt: skip
        f.TouchpointFactory(account=account, occurred_at=at(T - days(7)))
        f.InvoiceFactory(account=account, issued_on=T - days(60), due_on=T - days(30), status="paid",
                         paid_on=T + days(5) if not good else T - days(31))  # fmt: skip
        accounts[name].champion = champion
    churn(accounts["churns_after"], T + days(20))
    churn(accounts["churned_before"], T - days(10))
    spec = ScorecardSpec.from_dict(DEFAULT_DEFINITION)
    return {"workspace": workspace, "accounts": accounts, "spec": spec}


def churn(account: Account, day: dt.date) -> None:
    with movements_dated(day):
        account.status, account.churned_at, account.mrr = "churned", day, Decimal("0")
        account.save()


def after_t_records(book) -> None:
    """Everything a partner could record after T, for every kind of input."""
    for account in book["accounts"].values():
        for n in range(1, 40):
            f.DailyUsageFactory(account=account, feature="exports", day=T + days(n), events=500)
        f.NPSResponseFactory(account=account, score=0, responded_at=at(T + days(1)))
        f.CSMScoreFactory(account=account, score=1, scored_at=at(T + days(1)))
        f.TicketFactory(account=account, opened_at=at(T + days(2)), escalated=True, csat=1,
                        status="resolved", resolved_at=at(T + days(3)))  # fmt: skip
        f.TouchpointFactory(account=account, occurred_at=at(T + days(1)))
        f.InvoiceFactory(account=account, issued_on=T + days(1), due_on=T + days(5), status="failed")
        f.ContactFactory(account=account, is_executive=True, created_at=at(T + days(2)))
        account.champion.deactivated_at = at(T + days(3))
        account.champion.is_active = False
        account.champion.save()
    steady = Account.objects.get(pk=book["accounts"]["steady"].pk)
    # Renewed after T: the stored renewal date moves a year on; MRR grows after the horizon.
    steady.renewal_date = T + days(50 + 365)
    steady.save()
    with movements_dated(T + days(HORIZON + 5)):
        steady.mrr = Decimal("5000.00")
        steady.save()


def test_no_data_recorded_after_t_changes_the_backtest(book):
    before = observations(book["spec"], [T], HORIZON)
    after_t_records(book)
    after = observations(book["spec"], [T], HORIZON)
    pd.testing.assert_frame_equal(before, after)
    # The new records are real: a later look-back date sees them.
    later = observations(book["spec"], [T + days(10)], HORIZON).set_index("account_id")
    steady = book["accounts"]["steady"].pk
    assert later.loc[steady, "raw:nps_score"] == 0
    assert later.loc[steady, "score"] != before.set_index("account_id").loc[steady, "score"]


def test_churned_accounts_are_scored_as_of_t(book):
    obs = observations(book["spec"], [T], HORIZON).set_index("account_id")
    a = book["accounts"]
    assert set(obs.index) == {a["steady"].pk, a["slipping"].pk, a["churns_after"].pk}
    row = obs.loc[a["churns_after"].pk]
    assert row["churned"] and row["score"] > 0 and row["mrr"] == 1000.0 and row["lost_mrr"] == 1000.0
    assert not obs.loc[a["steady"].pk, "churned"]
    # Renewal 50 days after T, inside the horizon, and the account stayed.
    assert obs.loc[a["steady"].pk, "renewed"] and obs.loc[a["steady"].pk, "raw:days_to_renewal"] == 50
    # The invoice paid 5 days after T was overdue at T.
    assert obs.loc[a["slipping"].pk, "raw:overdue_invoice_days"] == 30


def test_a_stored_run_reports_progress_and_results(book):
    card = Scorecard.objects.get(is_default=True)
    run = create_run(card, [T - days(30), T], HORIZON)
    assert run.status == BacktestStatus.QUEUED and run.scorecard_version == card.current_version
    run = run_backtest(run)
    assert run.status == BacktestStatus.SUCCEEDED and run.progress == 100
    pooled = run.results["pooled"]
    # T − 30: both churns are ahead (the earlier one 20 days later); T: only the later one.
    assert pooled["churn_events"] == 3
    assert pooled["churned_accounts"] == 2
    assert run.results["suggestion"]["status"] == "too_few"
    assert len(run.results["measures"]) >= 20


# --- pages ------------------------------------------------------------------------------------
@pytest.fixture
def people(book):
    ws = book["workspace"]
    users = {}
    for role in (Role.ADMIN, Role.VIEWER):
        users[role] = f.UserFactory()
        f.MembershipFactory(user=users[role], workspace=ws, role=role)
    return users


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_starts_a_backtest_and_everyone_reads_it(book, people, django_capture_on_commit_callbacks):
    ws = book["workspace"]
    card = Scorecard.objects.get(is_default=True)
    admin, viewer = client_for(people[Role.ADMIN]), client_for(people[Role.VIEWER])
    page = viewer.get(wurl(ws, "health:backtest", pk=card.pk))
    assert page.status_code == 200 and b"Run backtest" not in page.content
    assert viewer.post(wurl(ws, "health:backtest", pk=card.pk), {"points": "2"}).status_code == 403
    assert b"Backtest" in admin.get(wurl(ws, "health:scorecards")).content

    with django_capture_on_commit_callbacks() as queued:
        response = admin.post(
            wurl(ws, "health:backtest", pk=card.pk),
            {"points": "3", "spacing_days": "30", "horizon_days": "90", "last_as_of": T.isoformat()},
        )
    run = BacktestRun.objects.get()
    assert response.status_code == 302 and response["Location"] == wurl(ws, "health:backtest_run", pk=run.pk)
    assert len(queued) == 1
    assert run.as_of_dates == [d.isoformat() for d in (T - days(60), T - days(30), T)]
    progress = viewer.get(wurl(ws, "health:backtest_progress", pk=run.pk), headers={"HX-Request": "true"})
    assert b'hx-trigger="every 2s"' in progress.content and "HX-Refresh" not in progress

    run_backtest_task.apply(args=(ws.pk, run.pk))  # the task's own code, in this process
    progress = viewer.get(wurl(ws, "health:backtest_progress", pk=run.pk), headers={"HX-Request": "true"})
    assert progress["HX-Refresh"] == "true"
    page = viewer.get(wurl(ws, "health:backtest_run", pk=run.pk))
    assert page.status_code == 200
    for text in (b"ROC AUC for churn", b'data-chart="roc"', b'data-chart="churnbands"', b"Calibration by score decile",
                 b"Each measure on its own", b"churned in the backtest"):  # fmt: skip
        assert text in page.content, text
    by_label = viewer.get(wurl(ws, "health:backtest_run", pk=run.pk), {"sort": "label"}).content.decode()
    assert by_label.index("Average resolution time") < by_label.index("Usage trend")
    latest = viewer.get(wurl(ws, "health:backtest", pk=card.pk))
    assert b"Latest results" in latest.content


@pytest.mark.parametrize(
    "data, message",
    [
        ({"points": "0", "spacing_days": "30", "horizon_days": "90"}, "greater than or equal to 1"),
        ({"points": "x", "spacing_days": "30", "horizon_days": "90"}, "Enter a whole number"),
        ({"points": "3", "spacing_days": "30", "horizon_days": "9999"}, "less than or equal to 730"),
        (
            {"points": "3", "spacing_days": "30", "horizon_days": "90", "last_as_of": "2999-01-01"},
            "before today",
        ),
        (
            {"points": "24", "spacing_days": "365", "horizon_days": "90", "last_as_of": "2000-01-01"},
            "before 1990",
        ),
    ],
)
def test_bad_backtest_settings_get_a_clear_message(book, people, data, message):
    ws = book["workspace"]
    card = Scorecard.objects.get(is_default=True)
    response = client_for(people[Role.ADMIN]).post(wurl(ws, "health:backtest", pk=card.pk), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BacktestRun.objects.exists()


def test_the_suggested_draft_opens_in_the_editor(book, people):
    ws = book["workspace"]
    card = Scorecard.objects.get(is_default=True)
    draft = {**DEFAULT_DEFINITION, "measures": [{"metric": "csm_score", "weight": 60, "mapping": "linear",
             "worst": 1.5, "best": 4.5}, {"metric": "nps_change", "weight": 40, "mapping": "linear",
             "worst": -3.0, "best": 1.0}]}  # fmt: skip
    with_draft = create_run(card, [T], HORIZON)
    BacktestRun.objects.filter(pk=with_draft.pk).update(
        status="succeeded", results={"suggestion": {"status": "ok", "definition": draft}}
    )
    without = create_run(card, [T], HORIZON)
    BacktestRun.objects.filter(pk=without.pk).update(
        status="succeeded", results={"suggestion": {"status": "too_few", "message": "Only 2"}}
    )
    admin = client_for(people[Role.ADMIN])
    url = wurl(ws, "health:scorecard_edit", pk=card.pk)
    page = admin.get(url, {"draft": with_draft.pk}).content.decode()
    assert 'value="nps_change" selected' in page and 'value="-3.0"' in page
    assert "suggested draft" in page
    assert 'value="nps_change" selected' not in admin.get(url).content.decode()
    for bad in (without.pk, "abc", 10**12):
        assert admin.get(url, {"draft": bad}).status_code == 404
    assert client_for(people[Role.VIEWER]).get(url, {"draft": with_draft.pk}).status_code == 403


def test_default_points_end_a_horizon_before_today():
    points = default_points(90)
    assert len(points) == 12 and points[-1] == TODAY - days(90) and points[0] == TODAY - days(90 + 330)


# --- API --------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_api_serves_the_latest_backtest_of_each_scorecard(live_server):
    a, b = f.WorkspaceFactory(), f.WorkspaceFactory()
    with use_workspace(a):
        ensure_default_scorecards()
        card = Scorecard.objects.get(is_default=True)
        f.AccountFactory()
        old = run_backtest(create_run(card, [T - days(60)], HORIZON))
        new = run_backtest(create_run(card, [T], HORIZON))
        create_run(card, [T], HORIZON)  # queued, not finished: not served
        _, key_a = ApiKey.issue("reader", ["read"])
    with use_workspace(b):
        _, key_b = ApiKey.issue("reader", ["read"])
    base = live_server.url + "/api/v1/"

    def get(path: str, key: str) -> requests.Response:
        return requests.get(base + path, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    listing = get("backtests", key_a)
    assert listing.status_code == 200
    assert [r["id"] for r in listing.json()["results"]] == [new.pk] != [old.pk]
    one = get(f"backtests/{card.pk}", key_a).json()
    assert one["scorecard_name"] == "Default" and one["as_of_dates"] == [T.isoformat()]
    assert one["results"]["pooled"]["observations"] == 1 and one["churn_events"] == 0
    assert get(f"backtests/{card.pk}", key_b).status_code == 404
    assert get("backtests", key_b).json()["results"] == []
    assert get("backtests/not-a-number", key_a).status_code == 404
    assert requests.post(base + "backtests", headers={"Authorization": f"Bearer {key_a}"}, json={},
                         timeout=30).status_code in (403, 405)  # fmt: skip


def test_a_scorecard_without_a_version_cannot_be_backtested(book, people):
    ws = book["workspace"]
    card = Scorecard.objects.create(name="Unsaved segment card", plan="Enterprise")
    admin = client_for(people[Role.ADMIN])
    response = admin.post(
        wurl(ws, "health:backtest", pk=card.pk), {"points": "2", "spacing_days": "30", "horizon_days": "90"}
    )
    assert response.status_code == 400
    assert "no saved version to backtest" in response.content.decode()
    assert admin.get(wurl(ws, "health:backtest", pk=card.pk)).status_code == 200
