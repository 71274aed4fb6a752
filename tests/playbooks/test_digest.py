"""The daily digest email: new alerts on a CSM's accounts and their due tasks, sent once a day,
never empty, and only about the CSM's own workspace."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.utils import timezone

from health.models import Alert, AlertRule, AlertStatus
from playbooks import ctas
from playbooks.digest import send_digests
from playbooks.models import DigestDelivery
from tenancy.context import use_workspace
from tenancy.models import Role

from .. import factories as f

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def team(workspace):
    casey = f.UserFactory(full_name="Casey Csm", email="casey@vendor.test")
    robin = f.UserFactory(full_name="Robin Rep", email="robin@vendor.test")
    viewer = f.UserFactory(full_name="Val Viewer", email="val@vendor.test")
    f.MembershipFactory(user=casey, workspace=workspace, role=Role.CSM)
    f.MembershipFactory(user=robin, workspace=workspace, role=Role.CSM)
    f.MembershipFactory(user=viewer, workspace=workspace, role=Role.VIEWER)
    rule = AlertRule.objects.create(kind="invoice_overdue", name="Invoice overdue", severity="high")
    mine = f.AccountFactory(name="Quokka Ltd", csm_owner=casey)
    theirs = f.AccountFactory(name="Wombat Inc", csm_owner=robin)
    now = timezone.now()
    alerts = {
        "new": Alert.objects.create(account=mine, rule=rule, severity="high", summary="Invoice 45 days overdue",
                                    opened_at=now - dt.timedelta(hours=3)),
        "old": Alert.objects.create(account=mine, rule=AlertRule.objects.create(kind="nps_detractor",
                                    name="Detractor", severity="medium"), severity="medium",
                                    summary="Detractor from last week", opened_at=now - dt.timedelta(days=5)),
        "resolved": Alert.objects.create(account=mine, rule=AlertRule.objects.create(kind="no_touchpoint",
                                         name="No touchpoint", severity="low"), severity="low",
                                         summary="Went quiet then spoke", opened_at=now - dt.timedelta(hours=2),
                                         status=AlertStatus.RESOLVED, resolved_at=now),
        "robins": Alert.objects.create(account=theirs, rule=rule, severity="high", summary="Wombat invoice late",
                                       opened_at=now - dt.timedelta(hours=1)),
    }  # fmt: skip
    ctas.create_task(mine, "Chase the overdue invoice", assignee=casey, due_on=TODAY - dt.timedelta(days=2))
    ctas.create_task(mine, "Prepare the QBR deck", assignee=casey, due_on=TODAY)
    ctas.create_task(mine, "Plan next quarter", assignee=casey, due_on=TODAY + dt.timedelta(days=5))
    return casey, robin, viewer, alerts


def sent_to(address: str):
    return [m for m in mail.outbox if m.to == [address]]


def test_each_csm_gets_their_new_alerts_and_due_tasks(team, settings):
    settings.SITE_URL = "https://cs.example.com"
    assert send_digests() == 2
    (message,) = sent_to("casey@vendor.test")
    assert message.subject.endswith("1 new alert, 2 tasks due")
    body = message.body
    assert "Quokka Ltd: Invoice 45 days overdue" in body
    assert "Detractor from last week" not in body  # older than a first digest looks back
    assert "Went quiet then spoke" not in body  # already resolved
    assert "Wombat" not in body  # Robin's account
    assert "Chase the overdue invoice (Quokka Ltd): overdue since" in body
    assert "Prepare the QBR deck (Quokka Ltd): due today" in body
    assert "Plan next quarter" not in body
    html = message.alternatives[0][0]
    assert "https://cs.example.com/w/" in html and "Chase the overdue invoice" in html
    (robins,) = sent_to("robin@vendor.test")
    assert "Wombat invoice late" in robins.body and "Quokka" not in robins.body
    assert not sent_to("val@vendor.test")  # viewers have no accounts to work


def test_a_second_run_the_same_day_sends_nothing(team):
    send_digests()
    count = len(mail.outbox)
    assert send_digests() == 0
    assert len(mail.outbox) == count
    assert DigestDelivery.objects.filter(day=TODAY).count() == 2


def test_the_next_digest_starts_where_the_last_one_ended(team):
    casey, *_ = team
    yesterday = TODAY - dt.timedelta(days=1)
    DigestDelivery.objects.create(user=casey, day=yesterday, sent_at=timezone.now() - dt.timedelta(hours=1))
    send_digests()
    (message,) = sent_to("casey@vendor.test")
    assert "Invoice 45 days overdue" not in message.body  # was in yesterday's digest window
    assert message.subject.endswith("0 new alerts, 2 tasks due")


def test_nobody_gets_an_empty_digest(workspace):
    quiet = f.UserFactory(email="quiet@vendor.test")
    f.MembershipFactory(user=quiet, workspace=workspace, role=Role.CSM)
    f.AccountFactory(csm_owner=quiet)
    assert send_digests() == 0
    assert not mail.outbox


def test_a_digest_covers_one_workspace_only(two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.b):
        f.MembershipFactory(user=tw.a_csm, workspace=tw.b, role=Role.CSM)  # a member of both
    with use_workspace(tw.a):
        ctas.create_task(tw.sample.account, "Task in A", assignee=tw.a_csm, due_on=TODAY)
    with use_workspace(tw.b):
        assert send_digests() == 0  # nothing due in B
    with use_workspace(tw.a):
        assert send_digests() >= 1
    (message,) = sent_to(tw.a_csm.email)
    assert tw.a.name in message.subject and "Task in A" in message.body


def test_the_command_sends_now_and_is_safe_to_repeat(team):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    call_command("send_digests", "--workspace", team[0].memberships.get().workspace.slug, stdout=out)
    assert "2 digest(s) sent" in out.getvalue()
    call_command("send_digests", stdout=out)
    assert "0 digest(s) sent" in out.getvalue()
    with pytest.raises(CommandError, match="No workspace"):
        call_command("send_digests", "--workspace", "nope")
