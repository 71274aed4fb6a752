"""Churn alerts: opened once with evidence, kept fresh, auto-resolved, snoozed, retrigger delay;
and the inbox and account page as a CSM meets them."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from health.alerting import ensure_default_rules
from health.defaults import ensure_default_scorecards
from health.models import Alert, AlertRule, AlertStatus
from health.recompute import recompute
from tenancy.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def ws(workspace):
    ensure_default_scorecards()
    return workspace


def ticket_rule(days=14, retrigger=7):
    return AlertRule.objects.create(
        kind="ticket_pending",
        name="Old ticket",
        params={"days": days},
        severity="high",
        retrigger_days=retrigger,
    )


def old_ticket(account, days=20):
    return f.TicketFactory(
        account=account, status="open", opened_at=timezone.now() - dt.timedelta(days=days), resolved_at=None
    )


def test_an_alert_opens_once_with_its_evidence(ws):
    rule = ticket_rule()
    account = f.AccountFactory(name="Slow Support Co")
    old_ticket(account)
    recompute(ws.pk)
    recompute(ws.pk)
    alerts = list(Alert.objects.all())
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.account_id, alert.rule_id, alert.status, alert.severity) == (
        account.pk,
        rule.pk,
        "open",
        "high",
    )
    assert alert.evidence["open_tickets"] == 1
    assert 19.5 < alert.evidence["oldest_open_days"] < 21
    assert "20 days old" in alert.summary


def test_an_alert_resolves_itself_when_the_condition_clears(ws):
    ticket_rule()
    account = f.AccountFactory()
    ticket = old_ticket(account)
    recompute(ws.pk)
    ticket.status, ticket.resolved_at = "solved", timezone.now()
    ticket.save()
    recompute(ws.pk)
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.RESOLVED and alert.resolution == "auto" and alert.resolved_at


def test_resolutions_are_announced_on_commit(ws, django_capture_on_commit_callbacks):
    """alert_resolved tells listeners (outbound webhooks) which alerts closed, and how."""
    from health.alerting import alert_resolved, resolve

    heard = []

    def listener(sender, workspace_id, alert_ids, resolution, **kwargs):
        heard.append((workspace_id, sorted(alert_ids), resolution))

    alert_resolved.connect(listener)
    try:
        ticket_rule()
        first, second = f.AccountFactory(), f.AccountFactory()
        fixed = old_ticket(first)
        old_ticket(second)
        recompute(ws.pk)
        by_account = dict(Alert.objects.values_list("account_id", "pk"))
        fixed.status, fixed.resolved_at = "solved", timezone.now()
        fixed.save()
        with django_capture_on_commit_callbacks(execute=True):
            recompute(ws.pk)
        assert heard == [(ws.pk, [by_account[first.pk]], "auto")]
        with django_capture_on_commit_callbacks(execute=True):
            resolve(Alert.objects.filter(pk=by_account[second.pk]), user=None, note="Handled")
        assert heard[-1] == (ws.pk, [by_account[second.pk]], "manual")
        with django_capture_on_commit_callbacks(execute=True):
            assert resolve(Alert.objects.all(), user=None) == 0  # nothing left open
        assert len(heard) == 2
    finally:
        alert_resolved.disconnect(listener)


def test_retrigger_delay_prevents_an_alert_storm(ws):
    ticket_rule(retrigger=7)
    account = f.AccountFactory()
    old_ticket(account)
    recompute(ws.pk)
    Alert.objects.update(
        status=AlertStatus.RESOLVED, resolved_at=timezone.now() - dt.timedelta(days=2), resolution="manual"
    )
    recompute(ws.pk)  # still firing, but resolved two days ago: no new alert yet
    assert Alert.objects.count() == 1
    Alert.objects.update(resolved_at=timezone.now() - dt.timedelta(days=8))
    recompute(ws.pk)
    assert Alert.objects.filter(status=AlertStatus.OPEN).count() == 1
    assert Alert.objects.count() == 2


def test_a_snoozed_alert_stays_quiet_until_its_date_then_opens_again(ws):
    ticket_rule()
    account = f.AccountFactory()
    old_ticket(account)
    recompute(ws.pk)
    Alert.objects.update(status=AlertStatus.SNOOZED, snoozed_until=TODAY + dt.timedelta(days=3))
    recompute(ws.pk)
    assert Alert.objects.get().status == AlertStatus.SNOOZED
    Alert.objects.update(snoozed_until=TODAY)
    recompute(ws.pk)
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.OPEN and alert.snoozed_until is None


def test_rule_filters_and_the_default_rule_set(ws):
    ensure_default_rules()
    assert AlertRule.objects.count() == 10
    tier = f.TierFactory(name="Enterprise")
    other = f.TierFactory(name="SMB")
    rule = ticket_rule()
    rule.tier = tier
    rule.save()
    in_tier, outside = f.AccountFactory(tier=tier), f.AccountFactory(tier=other)
    old_ticket(in_tier)
    old_ticket(outside)
    recompute(ws.pk)
    assert list(Alert.objects.filter(rule=rule).values_list("account_id", flat=True)) == [in_tier.pk]


def test_usage_drop_and_health_rules_fire_on_their_signals(ws):
    AlertRule.objects.create(kind="usage_drop", name="Usage drop", params={"percent": 30})
    AlertRule.objects.create(kind="health_red", name="Red")
    account = f.AccountFactory(name="Fading Co", licenses_purchased=50)
    for n in range(91, 181):
        f.DailyUsageFactory(account=account, feature="reports", day=TODAY - dt.timedelta(days=n), events=10)
    for n in range(1, 91, 3):
        f.DailyUsageFactory(account=account, feature="reports", day=TODAY - dt.timedelta(days=n), events=5)
    f.CSMScoreFactory(account=account, score=1)
    f.NPSResponseFactory(account=account, score=1, responded_at=timezone.now())
    recompute(ws.pk)
    fired = dict(Alert.objects.values_list("rule__kind", "evidence"))
    assert fired["usage_drop"]["change_percent"] == pytest.approx((150 / 900 - 1) * 100, abs=0.1)
    assert "health_red" in fired


@pytest.fixture
def pages(ws):
    csm, viewer = f.UserFactory(), f.UserFactory()
    f.MembershipFactory(user=csm, workspace=ws, role=Role.CSM)
    f.MembershipFactory(user=viewer, workspace=ws, role=Role.VIEWER)
    ticket_rule()
    AlertRule.objects.create(kind="no_touchpoint", name="Silence", params={"days": 5}, severity="low")
    accounts = [f.AccountFactory(name=f"Alerted {n}", csm_owner=csm if n == 0 else None) for n in range(3)]
    for account in accounts:
        old_ticket(account)
    recompute(ws.pk)
    client = Client()
    client.force_login(csm)
    return {"ws": ws, "client": client, "csm": csm, "viewer": viewer, "accounts": accounts}


def url(ws, path=""):
    return f"/w/{ws.slug}/alerts/{path}"


def test_inbox_lists_alerts_most_severe_first_with_filters(pages):
    ws, client = pages["ws"], pages["client"]
    response = client.get(url(ws))
    assert response.status_code == 200
    alerts = list(response.context["object_list"])
    assert len(alerts) == 6
    assert [a.severity for a in alerts][:3] == ["high"] * 3
    mine = client.get(url(ws), {"mine": "true"}).context["object_list"]
    assert {a.account_id for a in mine} == {pages["accounts"][0].pk}
    rule = AlertRule.objects.get(name="Silence")
    only = client.get(url(ws), {"rule": rule.pk}).context["object_list"]
    assert {a.rule_id for a in only} == {rule.pk}
    assert b'title="6 open alerts"' in response.content  # the navigation badge


def test_bulk_acknowledge_snooze_and_resolve(pages):
    ws, client = pages["ws"], pages["client"]
    ids = list(Alert.objects.filter(rule__name="Old ticket").values_list("pk", flat=True))
    response = client.post(url(ws, "act/"), {"action": "acknowledge", "alert": ids})
    assert response.status_code == 302
    assert set(Alert.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"acknowledged"}
    bad = client.post(
        url(ws, "act/"), {"action": "snooze", "alert": ids[:1], "until": TODAY.isoformat()}, follow=True
    )
    assert "Snooze until a date after today." in bad.content.decode()
    assert Alert.objects.get(pk=ids[0]).status == "acknowledged"
    client.post(
        url(ws, "act/"),
        {"action": "snooze", "alert": ids[:1], "until": (TODAY + dt.timedelta(days=5)).isoformat()},
    )
    assert Alert.objects.get(pk=ids[0]).snoozed_until == TODAY + dt.timedelta(days=5)
    client.post(url(ws, "act/"), {"action": "resolve", "alert": ids[1:2], "note": "Called them, fixed"})
    resolved = Alert.objects.get(pk=ids[1])
    assert (resolved.status, resolved.resolution, resolved.note) == (
        "resolved",
        "manual",
        "Called them, fixed",
    )


def test_viewer_reads_but_cannot_act(pages):
    client = Client()
    client.force_login(pages["viewer"])
    assert client.get(url(pages["ws"])).status_code == 200
    ids = list(Alert.objects.values_list("pk", flat=True))
    assert client.post(url(pages["ws"], "act/"), {"action": "acknowledge", "alert": ids}).status_code == 403
    assert not Alert.objects.filter(status="acknowledged").exists()


def test_account_page_shows_its_alerts(pages):
    account = pages["accounts"][1]
    response = pages["client"].get(f"/w/{pages['ws'].slug}/accounts/{account.pk}/")
    body = response.content.decode()
    assert "Oldest open ticket is 20 days old" in body and "Old ticket" in body


def test_admin_edits_a_rule_and_bad_parameters_are_refused(pages):
    ws = pages["ws"]
    admin = f.UserFactory()
    f.MembershipFactory(user=admin, workspace=ws, role=Role.ADMIN)
    client = Client()
    client.force_login(admin)
    rule = AlertRule.objects.get(name="Old ticket")
    data = {
        "name": "Old ticket",
        "severity": "critical",
        "retrigger_days": "3",
        "is_active": "on",
        "param_days": "-4",
    }
    response = client.post(url(ws, f"rules/{rule.pk}/"), data)
    assert response.status_code == 400 and "greater than or equal to 1" in response.content.decode()
    data["param_days"] = "30"
    assert client.post(url(ws, f"rules/{rule.pk}/"), data).status_code == 302
    rule.refresh_from_db()
    assert (rule.severity, rule.params, rule.retrigger_days) == ("critical", {"days": 30.0}, 3)
    assert pages["client"].post(url(ws, f"rules/{rule.pk}/"), data).status_code == 403  # a CSM
    created = client.post(
        url(ws, "rules/new/usage_drop/"), {**data, "name": "Big drop", "param_percent": "50"}
    )
    assert created.status_code == 302 and AlertRule.objects.get(name="Big drop").params == {"percent": 50.0}


def test_a_rule_limited_to_a_saved_list_alerts_only_its_members(ws):
    from segments.models import SavedList, Visibility

    enterprise = SavedList.objects.create(name="Key accounts", query="q=Key", visibility=Visibility.PUBLIC)
    rule = ticket_rule()
    rule.saved_list = enterprise
    rule.save()
    inside = f.AccountFactory(name="Key Account One")
    outside = f.AccountFactory(name="Small Shop")
    old_ticket(inside)
    old_ticket(outside)
    recompute(ws.pk)
    assert list(Alert.objects.values_list("account_id", flat=True)) == [inside.pk]
    # The list stops parsing: the rule neither opens nor resolves anything until it is fixed.
    enterprise.query = "tier=999999"
    enterprise.save()
    recompute(ws.pk)
    assert Alert.objects.get().status == AlertStatus.OPEN
