"""Upserts by partner id over real HTTP: PUT and POST create once and then update, never duplicate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import (
    Account,
    Contact,
    CSMScore,
    DailyUsage,
    Invoice,
    MRRMovement,
    NPSResponse,
    Ticket,
    Touchpoint,
    UsageEvent,
)
from tenancy.context import use_workspace

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "qk-ext-7731"  # workspace A's sample account
CONTACT = "qk-contact-1"

# resource path → (a valid record, a change to it, the model)
RESOURCES = {
    "contacts": (
        {"external_id": "c-new", "account_external_id": ACCOUNT, "email": "new@x.example", "name": "New"},
        {"title": "CFO"},
        Contact,
    ),
    "invoices": (
        {
            "external_id": "inv-new",
            "account_external_id": ACCOUNT,
            "amount": "120.00",
            "issued_on": "2026-10-01",
            "due_on": "2026-10-31",
        },
        {"status": "paid", "paid_on": "2026-10-20"},
        Invoice,
    ),
    "tickets": (
        {
            "external_id": "t-new",
            "account_external_id": ACCOUNT,
            "contact_external_id": CONTACT,
            "subject": "Cannot export",
            "opened_at": "2026-11-01T09:00:00Z",
        },
        {"status": "solved", "csat": 5},
        Ticket,
    ),
    "nps-responses": (
        {
            "external_id": "n-new",
            "account_external_id": ACCOUNT,
            "score": 9,
            "responded_at": "2026-11-02T10:00:00Z",
        },
        {"score": 6, "comment": "Slower lately"},
        NPSResponse,
    ),
    "touchpoints": (
        {"external_id": "tp-new", "account_external_id": ACCOUNT, "kind": "call", "subject": "Kick-off"},
        {"sentiment": "positive"},
        Touchpoint,
    ),
    "csm-scores": (
        {"external_id": "cs-new", "account_external_id": ACCOUNT, "score": 3, "note": "Watch"},
        {"score": 4},
        CSMScore,
    ),
}


def count(tw, model, **filters):
    with use_workspace(tw.a):
        return model.objects.filter(**filters).count()


def test_account_put_creates_then_updates_and_records_mrr(api_a, two_workspaces):
    tw = two_workspaces
    record = {"external_id": "acme-1", "name": "Acme", "mrr": "100.00", "plan": "Growth"}
    first = api_a.put("accounts/acme-1", json=record)
    assert first.status_code == 201, first.text
    assert first.json()["mrr"] == "100.00"
    again = api_a.put("accounts/acme-1", json=record)
    assert again.status_code == 200
    assert again.headers["X-Outcome"] == "unchanged"
    changed = api_a.post("accounts", json={"external_id": "acme-1", "name": "Acme", "mrr": "150.00"})
    assert changed.status_code == 200, changed.text
    assert changed.headers["X-Outcome"] == "updated"
    assert changed.json()["plan"] == "Growth"  # omitted fields keep their stored value
    with use_workspace(tw.a):
        account = Account.objects.get(external_id="acme-1")
        kinds = list(MRRMovement.objects.filter(account=account).order_by("pk").values_list("kind", "amount"))
    assert account.mrr == Decimal("150.00")
    assert kinds == [("new", Decimal("100.00")), ("expansion", Decimal("50.00"))]
    assert count(tw, Account, external_id="acme-1") == 1
    churn = api_a.put(
        "accounts/acme-1", json={"name": "Acme", "status": "churned", "churned_at": "2026-11-01"}
    )
    assert churn.status_code == 200
    with use_workspace(tw.a):
        assert MRRMovement.objects.filter(account=account, kind="churn").exists()


def test_api_writes_mark_accounts_stale(api_a, two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        Account.objects.filter(external_id=ACCOUNT).update(health_stale=False)
    response = api_a.post("touchpoints", json={"external_id": "tp-x", "account_external_id": ACCOUNT})
    assert response.status_code == 201, response.text
    with use_workspace(tw.a):
        assert Account.objects.get(external_id=ACCOUNT).health_stale


@pytest.mark.parametrize("path", sorted(RESOURCES))
def test_each_resource_upserts_by_external_id(api_a, two_workspaces, path):
    tw = two_workspaces
    record, change, model = RESOURCES[path]
    ext = record["external_id"]
    created = api_a.post(path, json=record)
    assert created.status_code == 201, created.text
    assert created.json()["account_external_id"] == ACCOUNT
    assert api_a.post(path, json=record).headers["X-Outcome"] == "unchanged"
    updated = api_a.put(f"{path}/{ext}", json={**record, **change})
    assert updated.status_code == 200, updated.text
    assert updated.headers["X-Outcome"] == "updated"
    for key, value in change.items():
        assert str(updated.json()[key]) == str(value)
    assert count(tw, model, external_id=ext) == 1
    fetched = api_a.get(f"{path}/{ext}")
    assert fetched.status_code == 200
    assert fetched.json() == updated.json()
    listed = api_a.get(path, params={"account_external_id": ACCOUNT} if path != "contacts" else {})
    assert ext in {row["external_id"] for row in listed.json()["results"]}


def test_daily_usage_upserts_by_account_contact_feature_day(api_a, two_workspaces):
    tw = two_workspaces
    day = "2026-11-10"
    with_contact = {
        "account_external_id": ACCOUNT,
        "contact_external_id": CONTACT,
        "feature": "f",
        "day": day,
    }
    without = {"account_external_id": ACCOUNT, "feature": "f", "day": day}
    assert api_a.post("daily-usage", json={**with_contact, "events": 3}).status_code == 201
    assert api_a.post("daily-usage", json={**without, "events": 5}).status_code == 201
    again = api_a.post("daily-usage", json={**with_contact, "events": 4})
    assert again.status_code == 200
    assert again.headers["X-Outcome"] == "updated"
    with use_workspace(tw.a):
        rows = sorted(
            DailyUsage.objects.filter(feature="f").values_list("contact__external_id", "events"),
            key=lambda r: r[0] or "",
        )
    assert rows == [(None, 5), (CONTACT, 4)]


def test_usage_events_deduplicate_on_event_id(api_a, two_workspaces):
    tw = two_workspaces
    event = {
        "event_id": "e-1",
        "account_external_id": ACCOUNT,
        "feature": "f",
        "occurred_at": "2026-11-10T08:00:00Z",
    }
    assert api_a.post("usage-events", json=event).status_code == 201
    repeat = api_a.post("usage-events", json=event)
    assert repeat.status_code == 200
    assert repeat.headers["X-Outcome"] == "unchanged"
    anonymous = {k: v for k, v in event.items() if k != "event_id"}
    assert api_a.post("usage-events", json=anonymous).status_code == 201
    assert api_a.post("usage-events", json=anonymous).status_code == 201
    assert count(tw, UsageEvent, feature="f") == 3


def test_reads_page_with_a_cursor_and_filter_by_updated_since(api_a, two_workspaces):
    tw = two_workspaces
    for i in range(5):
        api_a.put(f"accounts/page-{i}", json={"name": f"Page {i}"})
    first = api_a.get("accounts", params={"page_size": 2})
    body = first.json()
    assert len(body["results"]) == 2 and body["next"]
    seen = [r["external_id"] for r in body["results"]]
    while body["next"]:
        body = api_a.session.get(body["next"], timeout=30).json()
        seen += [r["external_id"] for r in body["results"]]
    assert len(seen) == len(set(seen)) == count(tw, Account)
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert api_a.get("accounts", params={"updated_since": future}).json()["results"] == []
    recent = api_a.get("accounts", params={"updated_since": "2000-01-01T00:00:00Z", "status": "active"})
    assert len(recent.json()["results"]) >= 5
    bad = api_a.get("accounts", params={"updated_since": "yesterday"})
    assert bad.status_code == 400
    assert bad.headers["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"][0]["pointer"] == "/updated_since"
