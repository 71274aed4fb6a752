"""Bulk actions on the account list and setting a tier or stage by hand on the account page:
who may, what is validated, what is recorded (in bulk) and what is announced on commit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from accounts.models import Account, AccountChange
from accounts.signals import account_changed
from tenancy.context import use_workspace

from .. import factories as f
from ..support import wurl

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        tw.extra["gold"] = f.TierFactory(name="Gold")
        tw.extra["onboarding"] = f.LifecycleStageFactory(name="Onboarding", key="onboarding")
        tw.extra["accounts"] = [
            f.AccountFactory(name=f"Bulk {i}", mrr=Decimal(100 * (i + 1)), industry="Retail")
            for i in range(4)
        ]
    with use_workspace(tw.b):
        tw.extra["b_tier"] = f.TierFactory(name="Wombat tier")
    return tw


@pytest.fixture
def signals():
    received = []

    def receiver(sender, changes, **kwargs):
        # One entry per account the change moved (the signal lists them), numbered by send.
        send = len({r["send"] for r in received})
        received.extend({**kwargs, "account_id": pk, "old_id": old, "send": send} for pk, old in changes)

    account_changed.connect(receiver, weak=False, dispatch_uid="test-bulk")
    yield received
    account_changed.disconnect(dispatch_uid="test-bulk")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_csm_sets_the_tier_of_selected_accounts(client, world, signals, django_capture_on_commit_callbacks):
    tw = world
    picked = tw.extra["accounts"][:2]
    client.force_login(tw.a_csm)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            wurl(tw.a, "accounts:bulk"),
            {
                "action": "set_tier",
                "tier": tw.extra["gold"].pk,
                "accounts": [a.pk for a in picked],
                "query": "industry=Retail&page=2",
            },
        )
    assert response.status_code == 302
    assert response["Location"].endswith("?industry=Retail")  # back to the same list, first page
    assert messages_of(response) == ["Set the tier to Gold on 2 accounts."]
    with use_workspace(tw.a):
        rows = {a.name: a for a in Account.objects.all()}
        changes = list(AccountChange.objects.order_by("account__name"))
    assert [rows[a.name].tier_id for a in picked] == [tw.extra["gold"].pk] * 2
    assert all(rows[a.name].tier_overridden for a in picked)
    assert rows["Bulk 2"].tier_id is None and not rows["Bulk 2"].tier_overridden
    assert [(c.account_id, c.field, c.old_id, c.new_label, c.source, c.changed_by_id) for c in changes] == [
        (a.pk, "tier", None, "Gold", "user", tw.a_csm.pk) for a in picked
    ]
    assert sorted(s["account_id"] for s in signals) == sorted(a.pk for a in picked)
    assert {(s["workspace_id"], s["field"], s["new_id"], s["source"], s["send"]) for s in signals} == {
        (tw.a.pk, "tier", tw.extra["gold"].pk, "user", 0)  # one signal for the whole bulk change
    }


def test_all_matching_the_filters(client, world, django_assert_max_num_queries):
    tw = world
    client.force_login(tw.a_admin)
    # One read, one UPDATE and one INSERT for the history, however many accounts match.
    with django_assert_max_num_queries(30):
        response = client.post(
            wurl(tw.a, "accounts:bulk"),
            {
                "action": "set_stage",
                "stage": tw.extra["onboarding"].pk,
                "all_matching": "on",
                "query": "industry=Retail&mrr_min=200",
            },
        )
    assert messages_of(response) == ["Set the stage to Onboarding on 3 accounts."]
    with use_workspace(tw.a):
        staged = sorted(
            Account.objects.filter(lifecycle_stage=tw.extra["onboarding"]).values_list("name", flat=True)
        )
        assert AccountChange.objects.filter(field="stage").count() == 3
    assert staged == ["Bulk 1", "Bulk 2", "Bulk 3"]
    # Again: nothing changes, so nothing is recorded, and the message says so.
    response = client.post(
        wurl(tw.a, "accounts:bulk"),
        {
            "action": "set_stage",
            "stage": tw.extra["onboarding"].pk,
            "all_matching": "on",
            "query": "industry=Retail",
        },
    )
    assert messages_of(response)[-1] == "Set the stage to Onboarding on 1 account (3 already had it)."
    with use_workspace(tw.a):
        assert AccountChange.objects.filter(field="stage").count() == 4


def test_assign_csm(client, world):
    tw = world
    client.force_login(tw.a_csm)
    response = client.post(
        wurl(tw.a, "accounts:bulk"),
        {"action": "assign_csm", "csm": tw.a_csm.pk, "accounts": [a.pk for a in tw.extra["accounts"]]},
    )
    assert messages_of(response) == [f"Assigned {tw.a_csm.display_name} as CSM on 4 accounts."]
    with use_workspace(tw.a):
        assert Account.objects.filter(csm_owner=tw.a_csm).count() == 5


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"action": "set_tier", "tier": "GOLD"}, "Select a valid choice"),
        ({"action": "set_tier"}, "Choose the tier to set."),
        ({"action": "explode", "tier": "1"}, "Select a valid choice"),
        ({"action": "set_tier", "tier": "{gold}", "accounts": []}, "Select at least one account"),
        ({"action": "set_tier", "tier": "{gold}", "accounts": ["abc"]}, "is not an account id"),
        ({"action": "set_tier", "tier": "{gold}", "accounts": ["99999999"]}, "do not exist"),
        ({"action": "assign_csm", "csm": "{viewer}"}, "Select a valid choice"),
        ({"action": "set_tier", "tier": "{b_tier}"}, "Select a valid choice"),
        (
            {
                "action": "set_tier",
                "tier": "{gold}",
                "all_matching": "on",
                "query": "mrr_min=lots",
                "accounts": [],
            },
            "The list's filters are not valid (mrr_min)",
        ),
    ],
)
def test_bad_bulk_input_changes_nothing_and_says_why(client, world, payload, message):
    tw = world
    ids = {"{gold}": tw.extra["gold"].pk, "{viewer}": tw.a_viewer.pk, "{b_tier}": tw.extra["b_tier"].pk}
    data = {"accounts": [tw.extra["accounts"][0].pk], **payload}
    data = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    client.force_login(tw.a_admin)
    with use_workspace(tw.a):
        before = list(Account.objects.values_list("pk", "tier_id", "lifecycle_stage_id", "csm_owner_id"))
    response = client.post(wurl(tw.a, "accounts:bulk"), data)
    assert response.status_code == 302
    (text,) = messages_of(response)
    assert text.startswith("Nothing was changed") and message in text
    with use_workspace(tw.a):
        assert (
            list(Account.objects.values_list("pk", "tier_id", "lifecycle_stage_id", "csm_owner_id")) == before
        )
        assert not AccountChange.objects.exists()


def test_viewers_cannot_run_bulk_actions(client, world):
    tw = world
    client.force_login(tw.a_viewer)
    response = client.post(
        wurl(tw.a, "accounts:bulk"),
        {"action": "set_tier", "tier": tw.extra["gold"].pk, "accounts": [tw.extra["accounts"][0].pk]},
    )
    assert response.status_code == 403
    page = client.get(wurl(tw.a, "accounts:list"))
    assert b'id="bulk-form"' not in page.content
    client.force_login(tw.a_csm)
    assert b'id="bulk-form"' in client.get(wurl(tw.a, "accounts:list")).content


def test_setting_by_hand_on_the_account_page_overrides_until_cleared(
    client, world, signals, django_capture_on_commit_callbacks
):
    tw = world
    account = tw.extra["accounts"][0]
    url = wurl(tw.a, "accounts:tier_stage", pk=account.pk)
    client.force_login(tw.a_csm)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "save", "tier": tw.extra["gold"].pk, "stage": ""})
    assert response.status_code == 302
    with use_workspace(tw.a):
        account.refresh_from_db()
    assert account.tier_id == tw.extra["gold"].pk and account.tier_overridden
    assert not account.stage_overridden  # the stage was not changed, so it stays automatic
    assert [(s["field"], s["old_id"], s["new_id"], s["source"]) for s in signals] == [
        ("tier", None, tw.extra["gold"].pk, "user")
    ]
    page = client.get(wurl(tw.a, "accounts:detail", pk=account.pk)).content.decode()
    assert "Tier &amp; stage history" in page and "set by hand" in page and "Clear override" in page
    assert tw.a_csm.display_name in page

    response = client.post(url, {"action": "clear_tier"})
    assert "automatic again" in messages_of(response)[0]
    with use_workspace(tw.a):
        account.refresh_from_db()
    assert account.tier_id == tw.extra["gold"].pk and not account.tier_overridden


def test_a_foreign_or_unknown_tier_on_the_account_page_is_refused(client, world):
    tw = world
    account = tw.extra["accounts"][0]
    client.force_login(tw.a_csm)
    for value in (tw.extra["b_tier"].pk, "gold"):
        response = client.post(
            wurl(tw.a, "accounts:tier_stage", pk=account.pk), {"action": "save", "tier": value, "stage": ""}
        )
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    with use_workspace(tw.a):
        account.refresh_from_db()
        assert account.tier_id is None and not AccountChange.objects.exists()
    client.force_login(tw.a_viewer)
    response = client.post(wurl(tw.a, "accounts:tier_stage", pk=account.pk), {"action": "clear_tier"})
    assert response.status_code == 403
