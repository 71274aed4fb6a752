"""Bulk upserts: every record validated first, per-record outcomes, partial and atomic modes."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, DailyUsage, MRRMovement, Touchpoint
from tenancy.context import use_workspace

pytestmark = pytest.mark.django_db(transaction=True)

TRANSACTION_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")

GOOD = [
    {"external_id": "b-1", "name": "One", "mrr": "10.00"},
    {"external_id": "b-2", "name": "Two", "mrr": "20.00"},
]
BAD = [
    {"external_id": "b-3", "name": "Three", "mrr": "-1"},  # negative MRR
    {"external_id": "b-1", "name": "One again"},  # duplicate of record 0 inside the batch
    {"name": "No id"},
]


def external_ids(tw) -> set[str]:
    with use_workspace(tw.a):
        return set(Account.objects.values_list("external_id", flat=True))


def test_partial_mode_writes_the_valid_records_and_reports_the_rest(api_a, two_workspaces):
    tw = two_workspaces
    records = [*GOOD, *BAD, {"external_id": "b-4", "name": "Four"}]
    response = api_a.post("accounts/bulk", json={"records": records})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "partial"
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["error", "created", "error", "error", "error", "created"]
    assert body["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "error": 4}
    errors = {e["pointer"]: e["detail"] for r in body["results"] for e in r.get("errors", [])}
    assert "/records/2/mrr" in errors
    assert "/records/0/external_id" in errors and "/records/3/external_id" in errors
    assert "/records/4/external_id" in errors
    # Each result names its record by partner id; the stored records are not echoed by default.
    assert [r.get("external_id") for r in body["results"]] == ["b-1", "b-2", "b-3", "b-1", None, "b-4"]
    assert not any("record" in r for r in body["results"])
    assert {"b-2", "b-4"} <= external_ids(tw)
    assert not {"b-1", "b-3"} & external_ids(tw)


def test_echo_returns_the_stored_records(api_a, two_workspaces):
    records = [*GOOD, BAD[0]]
    body = api_a.post("accounts/bulk", params={"echo": "true"}, json={"records": records}).json()
    assert [r["status"] for r in body["results"]] == ["created", "created", "error"]
    first, second, bad = body["results"]
    assert first["record"]["external_id"] == "b-1" and first["record"]["mrr"] == "10.00"
    assert second["record"]["name"] == "Two" and second["record"]["created_at"]
    assert "record" not in bad
    again = api_a.post("accounts/bulk", params={"echo": "1"}, json={"records": GOOD[:1]}).json()
    assert again["results"][0]["status"] == "unchanged"
    assert again["results"][0]["record"]["name"] == "One"
    rows = [{"account_external_id": "qk-ext-7731", "feature": "echo", "day": "2026-11-02", "events": 3}]
    usage = api_a.post("daily-usage/bulk", params={"echo": "true"}, json={"records": rows}).json()
    assert usage["results"] == [
        {
            "index": 0,
            "status": "created",
            "record": {
                "account_external_id": "qk-ext-7731",
                "contact_external_id": None,
                "feature": "echo",
                "day": "2026-11-02",
                "events": 3,
                "duration_seconds": 0,
            },
        }
    ]


def test_atomic_mode_writes_nothing_unless_all_are_valid(api_a, two_workspaces):
    tw = two_workspaces
    before = external_ids(tw)
    response = api_a.post("accounts/bulk", params={"atomic": "true"}, json={"records": [*GOOD, BAD[0]]})
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["errors"] == [{"pointer": "/records/2/mrr", "detail": body["errors"][0]["detail"]}]
    assert [r["status"] for r in body["results"]] == ["not_written", "not_written", "error"]
    assert external_ids(tw) == before
    ok = api_a.post("accounts/bulk", params={"atomic": "true"}, json={"records": GOOD})
    assert ok.status_code == 200
    assert ok.json()["summary"]["created"] == 2


def test_outcomes_created_updated_unchanged_and_mrr_movements(api_a, two_workspaces):
    tw = two_workspaces
    api_a.post("accounts/bulk", json={"records": GOOD})
    second = api_a.post(
        "accounts/bulk",
        json={"records": [GOOD[0], {**GOOD[1], "mrr": "25.00"}, {"external_id": "b-9", "name": "Nine"}]},
    )
    assert [r["status"] for r in second.json()["results"]] == ["unchanged", "updated", "created"]
    with use_workspace(tw.a):
        moves = MRRMovement.objects.filter(account__external_id="b-2").order_by("pk")
        assert [(m.kind, m.amount) for m in moves] == [
            ("new", Decimal("20.00")),
            ("expansion", Decimal("5.00")),
        ]
        assert Account.objects.filter(external_id__in=["b-1", "b-2", "b-9"]).count() == 3


def test_a_batch_is_written_in_a_few_statements(client, keys, two_workspaces):
    records = [
        {"external_id": f"many-{i}", "account_external_id": "qk-ext-7731", "subject": f"S{i}"}
        for i in range(300)
    ]
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/touchpoints/bulk",
            {"records": records},
            content_type="application/json",
            headers={"Authorization": f"Bearer {keys.a}"},
        )
    assert response.status_code == 200
    assert response.json()["summary"]["created"] == 300
    # Transaction control (BEGIN/COMMIT/savepoints, which row-level security adds per statement
    # outside a transaction) is not work on the batch: count the statements that are.
    statements = [q["sql"] for q in queries if not TRANSACTION_CONTROL.match(q["sql"])]
    assert len(statements) < 15, "\n".join(s[:100] for s in statements)
    with use_workspace(two_workspaces.a):
        assert Touchpoint.objects.filter(external_id__startswith="many-").count() == 300
        assert Account.objects.get(external_id="qk-ext-7731").health_stale


def test_bulk_daily_usage_and_events(api_a, two_workspaces):
    rows = [
        {"account_external_id": "qk-ext-7731", "feature": "reports", "day": f"2026-11-{d:02d}", "events": d}
        for d in range(1, 11)
    ]
    first = api_a.post("daily-usage/bulk", json={"records": rows})
    assert first.json()["summary"]["created"] == 10
    rows[0]["events"] = 99
    rows.append(dict(rows[1]))  # same account, feature and day twice
    second = api_a.post("daily-usage/bulk", json={"records": rows}).json()
    assert [r["status"] for r in second["results"]][:3] == ["updated", "error", "unchanged"]
    assert second["results"][-1]["status"] == "error"
    with use_workspace(two_workspaces.a):
        assert DailyUsage.objects.get(feature="reports", day="2026-11-01").events == 99
    events = [
        {
            "event_id": f"ev-{i}",
            "account_external_id": "qk-ext-7731",
            "feature": "x",
            "occurred_at": "2026-11-01T00:00:00Z",
        }
        for i in range(3)
    ]
    api_a.post("usage-events/bulk", json={"records": events})
    again = api_a.post("usage-events/bulk", json={"records": events}).json()
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 3, "error": 0}


def test_batch_limits_and_shape(api_a):
    too_many = api_a.post("accounts/bulk", json={"records": [{}] * 5001})
    assert too_many.status_code == 422
    assert "5000" in too_many.json()["detail"]
    assert api_a.post("accounts/bulk", json=[GOOD[0]]).status_code == 422
    assert api_a.post("accounts/bulk", json={"records": "x"}).json()["errors"][0]["pointer"] == "/records"


def test_written_records_are_counted_for_the_metrics(api_a, api_b, two_workspaces):
    from integrations.models import IngestCount

    assert api_a.post("accounts/bulk", json={"records": GOOD + BAD}).status_code == 200
    assert api_a.post("accounts/bulk", json={"records": GOOD}).status_code == 200  # unchanged: not counted
    changed = [{**GOOD[0], "name": "One renamed"}]
    assert api_a.post("accounts/bulk", json={"records": changed}).status_code == 200
    assert api_b.post("accounts/bulk", json={"records": GOOD}).status_code == 200
    with use_workspace(two_workspaces.a):
        assert list(IngestCount.objects.values_list("resource", "records")) == [("account", 3)]
    with use_workspace(two_workspaces.b):
        assert list(IngestCount.objects.values_list("resource", "records")) == [("account", 2)]
