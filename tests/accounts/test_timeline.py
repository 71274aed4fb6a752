"""The account timeline: every kind of event, newest first, filtered and paged, on the account
page and on its own page, through the test client."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.models import Account, InvoiceStatus
from health.defaults import ensure_default_scorecards
from health.models import Alert, AlertRule, AlertStatus, HealthScore, ScorecardVersion
from playbooks import ctas
from tenancy.context import use_workspace

from .. import factories as f
from ..support import wurl

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(two_workspaces):
    """One account of A with a known history, one event per kind, on distinct days."""
    tw = two_workspaces
    now = timezone.now()
    today = timezone.localdate()
    with use_workspace(tw.a):
        account = f.AccountFactory(name="Timeline Co")
        champion = f.ContactFactory(account=account, name="Ada Champion", is_champion=True)
        f.TouchpointFactory(account=account, subject="Kick-off call", occurred_at=now - dt.timedelta(days=30))
        f.TicketFactory(account=account, subject="Export broken", opened_at=now - dt.timedelta(days=20),
                        resolved_at=now - dt.timedelta(days=18), status="solved", csat=1)  # fmt: skip
        f.NPSResponseFactory(
            account=account, score=3, comment="Too slow", responded_at=now - dt.timedelta(days=15)
        )
        f.InvoiceFactory(account=account, number="INV-T1", issued_on=today - dt.timedelta(days=50),
                         due_on=today - dt.timedelta(days=20), status=InvoiceStatus.FAILED)  # fmt: skip
        champion.is_active = False
        champion.deactivated_at = now - dt.timedelta(days=12)
        champion.save()
        f.CSMScoreFactory(account=account, score=2, note="Worried", scored_at=now - dt.timedelta(days=11))
        rule = AlertRule.objects.create(
            kind="ticket_pending", name="Ticket pending too long", severity="high"
        )
        Alert.objects.create(account=account, rule=rule, severity="high", summary="A ticket open 12 days",
                             opened_at=now - dt.timedelta(days=8), status=AlertStatus.RESOLVED,
                             resolved_at=now - dt.timedelta(days=6), resolution="auto")  # fmt: skip
        ensure_default_scorecards()
        version = ScorecardVersion.objects.first()
        for days, band, score in [(5, "green", 80), (4, "green", 78), (3, "red", 40), (2, "red", 38)]:
            HealthScore.objects.create(account=account, day=today - dt.timedelta(days=days), score=score,
                                       band=band, coverage=1, scorecard_version=version, inputs_used=5, inputs_total=5, measures={})  # fmt: skip
        task = ctas.create_task(account, "Call the new sponsor", assignee=tw.a_csm, created_by=tw.a_admin)
        ctas.complete_task(task, tw.a_csm)
    return account


def titles(response) -> list[str]:
    return [e.title for e in response.context["events"]]


def test_the_account_page_loads_the_newest_events(client, two_workspaces, history):
    client.force_login(two_workspaces.a_csm)
    response = client.get(wurl(two_workspaces.a, "accounts:detail", pk=history.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="account-timeline"' in body
    fragment_url = wurl(two_workspaces.a, "accounts:timeline", pk=history.pk) + "?embedded=1"
    assert f'hx-get="{fragment_url}"' in body  # the card loads itself after the page
    fragment = client.get(fragment_url, headers={"HX-Request": "true"})
    assert fragment.templates[0].name == "accounts/_timeline_events.html"
    events = fragment.context["events"]
    assert len(events) <= 12
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    text = fragment.content.decode()
    assert "Task done: Call the new sponsor" in text
    assert "Health entered red: 40" in text


def test_the_timeline_page_holds_every_kind_newest_first(client, two_workspaces, history):
    client.force_login(two_workspaces.a_csm)
    response = client.get(wurl(two_workspaces.a, "accounts:timeline", pk=history.pk))
    assert response.status_code == 200
    got = titles(response)
    expected_in_order = [
        "Task done: Call the new sponsor",
        "Health entered red: 40",
        "Alert cleared by itself: Ticket pending too long",
        "Alert: Ticket pending too long",
        "CSM score 2/5",
        "Contact left: Ada Champion",
        "NPS 3 (detractor)",
        "Ticket resolved: Export broken",
        "Ticket opened: Export broken",
        "Touchpoint",  # prefix: "Call: Kick-off call"
        "Invoice INV-T1 issued: 1,000.00",
    ]
    positions = []
    for wanted in expected_in_order:
        matches = [i for i, title in enumerate(got) if title.startswith(wanted)
                   or (wanted == "Touchpoint" and title.endswith("Kick-off call"))]  # fmt: skip
        assert matches, f"{wanted!r} missing from {got}"
        positions.append(matches[0])
    assert positions == sorted(positions), got
    # The first scored day has no day before it: no band change is invented for it.
    assert not any(t.startswith("Health entered green") for t in got)
    assert response.context["next_before"] == ""


def test_filtering_by_kind(client, two_workspaces, history):
    client.force_login(two_workspaces.a_csm)
    url = wurl(two_workspaces.a, "accounts:timeline", pk=history.pk)
    response = client.get(url, {"kind": ["alerts", "nps"]})
    assert {e.kind for e in response.context["events"]} == {"alerts", "nps"}
    assert len(response.context["events"]) == 3


def test_pages_follow_each_other_without_gaps_or_repeats(client, two_workspaces, history):
    from accounts import timeline_views

    client.force_login(two_workspaces.a_csm)
    url = wurl(two_workspaces.a, "accounts:timeline", pk=history.pk)
    everything = titles(client.get(url))
    seen: list[str] = []
    before = ""
    old = timeline_views.PAGE_SIZE
    timeline_views.PAGE_SIZE = 3
    try:
        for _ in range(20):
            response = client.get(url, {"before": before} if before else {}, headers={"HX-Request": "true"})
            assert response.templates[0].name == "accounts/_timeline_events.html"
            seen += titles(response)
            before = response.context["next_before"]
            if not before:
                break
            # The "Show older" button carries the cursor.
            assert re.search(r"hx-get=\"[^\"]*before=", response.content.decode())
    finally:
        timeline_views.PAGE_SIZE = old
    assert seen == everything


def test_bad_parameters_get_a_message_not_an_error(client, two_workspaces, history):
    client.force_login(two_workspaces.a_csm)
    url = wurl(two_workspaces.a, "accounts:timeline", pk=history.pk)
    response = client.get(url, {"kind": "spaceships", "before": "yesterday-ish"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Unknown event kind ignored: spaceships." in body
    assert "is not a date and time" in body
    assert len(response.context["events"]) > 5  # the newest events, unfiltered


def test_another_workspace_cannot_read_the_timeline(client, two_workspaces, history):
    client.force_login(two_workspaces.b_admin)
    response = client.get(wurl(two_workspaces.b, "accounts:timeline", pk=history.pk))
    assert response.status_code == 404


def test_tier_and_stage_changes_are_in_the_timeline(client, two_workspaces):
    from accounts.changes import set_field
    from accounts.models.history import ChangeSource

    tw = two_workspaces
    with use_workspace(tw.a):
        account = f.AccountFactory(name="Changing Co")
        adoption = f.LifecycleStageFactory(name="Adoption", key="adoption")
        set_field(
            Account.objects.filter(pk=account.pk), "stage", adoption, source=ChangeSource.USER, user=tw.a_csm
        )
    client.force_login(tw.a_csm)
    response = client.get(wurl(tw.a, "accounts:timeline", pk=account.pk), {"kind": "changes"})
    (event,) = response.context["events"]
    assert event.title == "Lifecycle stage: — → Adoption"
    assert event.actor == tw.a_csm.display_name
