"""The read-only resources over HTTP: current health and history, alerts, tasks, tiers, stages —
filtered with the pages' filtersets, paged by cursor, synced with `?updated_since=`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from playbooks import ctas
from tenancy.context import use_workspace
from tests import factories as f

from .samples import a_alert, a_health_score, a_task

pytestmark = pytest.mark.django_db(transaction=True)


def ids(response, field="id"):
    assert response.status_code == 200, response.text
    return [row[field] for row in response.json()["results"]]


def test_current_health_lists_filters_and_fetches_by_external_id(api_a, two_workspaces):
    tw = two_workspaces
    a_health_score(tw)
    with use_workspace(tw.a):
        f.AccountFactory(external_id="green-1", name="Green One", health_score=88, health_band="green")
    assert set(ids(api_a.get("health"), "external_id")) == {"qk-ext-7731", "green-1"}
    assert ids(api_a.get("health", params={"health_band": "red"}), "external_id") == ["qk-ext-7731"]
    one = api_a.get("health/qk-ext-7731")
    assert one.status_code == 200
    assert one.json()["health_band"] == "red" and one.json()["health_score"] == 31
    assert api_a.get("health/nope").status_code == 404
    bad = api_a.get("health", params={"health_band": "purple"})
    assert bad.status_code == 400
    assert bad.headers["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"][0]["pointer"] == "/health_band"


def test_health_history_filters_by_account_day_and_band(api_a, two_workspaces):
    tw = two_workspaces
    score = a_health_score(tw)
    rows = api_a.get("health-history", params={"account_external_id": "qk-ext-7731"}).json()["results"]
    assert [r["id"] for r in rows] == [score.pk]
    assert rows[0]["measures"]["csm_score"]["contribution"] == 7.5
    assert rows[0]["account_external_id"] == "qk-ext-7731"
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert ids(api_a.get("health-history", params={"day_from": tomorrow})) == []
    assert ids(api_a.get("health-history", params={"band": "green"})) == []
    assert api_a.get(f"health-history/{score.pk}").json()["score"] == 31.5
    bad = api_a.get("health-history", params={"day_from": "20-11-2026"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["pointer"] == "/day_from"


def test_alerts_list_every_status_unless_filtered(api_a, two_workspaces):
    tw = two_workspaces
    alert = a_alert(tw)
    with use_workspace(tw.a):
        resolved = type(alert).objects.create(
            account=tw.sample.account,
            rule=alert.rule,
            severity="low",
            status="resolved",
            summary="Old quokka alert",
            resolved_at=timezone.now(),
        )
    assert set(ids(api_a.get("alerts"))) == {alert.pk, resolved.pk}
    assert ids(api_a.get("alerts", params={"status": "active"})) == [alert.pk]
    assert ids(api_a.get("alerts", params={"status": "resolved"})) == [resolved.pk]
    assert ids(api_a.get("alerts", params={"severity": "high"})) == [alert.pk]
    assert ids(api_a.get("alerts", params={"account_external_id": "nope"})) == []
    detail = api_a.get(f"alerts/{alert.pk}").json()
    assert detail["rule"] == "Quokka API silence" and detail["account_external_id"] == "qk-ext-7731"
    assert api_a.get("alerts/not-a-number").status_code == 404


def test_tasks_list_open_and_closed_with_the_task_filters(api_a, two_workspaces):
    tw = two_workspaces
    task = a_task(tw)
    with use_workspace(tw.a):
        done = ctas.create_task(tw.sample.account, "Quokka closed task", priority="high")
        ctas.complete_task(done, tw.a_csm)
    assert set(ids(api_a.get("tasks"))) == {task.pk, done.pk}
    assert ids(api_a.get("tasks", params={"view": "done"})) == [done.pk]
    assert ids(api_a.get("tasks", params={"view": "open"})) == [task.pk]
    assert ids(api_a.get("tasks", params={"who": "nobody"})) == [done.pk]
    assert ids(api_a.get("tasks", params={"who": str(tw.a_csm.pk)})) == [task.pk]
    assert ids(api_a.get("tasks", params={"priority": "high"})) == [done.pk]
    row = api_a.get(f"tasks/{task.pk}").json()
    assert row["assignee_email"] == tw.a_csm.email and row["status"] == "open"
    # Another workspace's member is not a choice.
    assert api_a.get("tasks", params={"who": str(tw.b_csm.pk)}).status_code == 400


def test_tiers_and_stages(api_a, two_workspaces):
    tw = two_workspaces
    assert ids(api_a.get("tiers"), "name") == ["Quokka Platinum"]
    assert api_a.get(f"tiers/{tw.sample.tier.pk}").json()["name"] == "Quokka Platinum"
    assert ids(api_a.get("stages"), "key") == ["quokka-adoption"]
    assert api_a.get("stages/quokka-adoption").json()["name"] == "Quokka Adoption"
    assert api_a.get("stages/nope").status_code == 404


@pytest.mark.parametrize("path", ["health", "health-history", "alerts", "tasks", "tiers", "stages"])
def test_every_read_only_list_syncs_with_updated_since(api_a, two_workspaces, path):
    tw = two_workspaces
    a_health_score(tw), a_alert(tw), a_task(tw)
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    recent = api_a.get(path, params={"updated_since": past})
    assert recent.status_code == 200 and recent.json()["results"], recent.text
    assert api_a.get(path, params={"updated_since": future}).json()["results"] == []
    bad = api_a.get(path, params={"updated_since": "yesterday"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["pointer"] == "/updated_since"


@pytest.mark.parametrize(
    "path",
    [
        "accounts",
        "contacts",
        "invoices",
        "tickets",
        "nps-responses",
        "touchpoints",
        "csm-scores",
        "daily-usage",
        "usage-events",
        "health",
        "health-history",
        "alerts",
        "tasks",
        "tiers",
        "stages",
    ],
)
def test_every_list_pages_by_cursor(api_a, two_workspaces, path):
    tw = two_workspaces
    a_health_score(tw), a_alert(tw), a_task(tw)
    with use_workspace(tw.a):
        f.TierFactory(name="Quokka Gold")
        f.LifecycleStageFactory(name="Quokka Renewal", key="quokka-renewal")
        other = f.AccountFactory(external_id="qk-second", name="Quokka Second")
        f.ContactFactory(account=other, external_id="qk-c-second")
        f.InvoiceFactory(account=other, external_id="qk-inv-second")
        f.TicketFactory(account=other, external_id="qk-t-second")
        f.NPSResponseFactory(account=other, external_id="qk-nps-second")
        f.TouchpointFactory(account=other, external_id="qk-tp-second")
        f.CSMScoreFactory(account=other, external_id="qk-cs-second")
        f.UsageEventFactory(account=other, event_id="qk-evt-second")
        f.DailyUsageFactory(account=other, feature="second")
        ctas.create_task(other, "Quokka second task")
        type(tw.extra["api_alert"]).objects.create(
            account=other, rule=tw.extra["api_alert"].rule, severity="low", summary="Second"
        )
        type(tw.extra["health_score"]).objects.create(
            account=other,
            day=timezone.localdate(),
            score=50,
            band="yellow",
            coverage=1,
            inputs_used=1,
            inputs_total=1,
            scorecard_version=tw.extra["health_score"].scorecard_version,
            measures={},
        )
    first = api_a.get(path, params={"page_size": 1})
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["results"]) == 1 and body["next"] and body["previous"] is None
    second = api_a.session.get(body["next"], timeout=30).json()
    assert len(second["results"]) == 1 and second["results"] != body["results"]
