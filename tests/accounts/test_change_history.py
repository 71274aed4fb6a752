"""Tier and stage history from the paths not covered beside their pages: a playbook's set-stage
step, and the on-commit announcement (nothing is announced for a rolled-back change)."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.changes import set_field
from accounts.models import Account, AccountChange
from accounts.signals import account_changed
from playbooks import runner, triggers
from playbooks.models import PlaybookRun, StepKind, TriggerKind
from playbooks.provisioning import create_playbook

from .. import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    seen = []

    def receiver(sender, changes, **kwargs):
        # One entry per account the change moved (the signal lists them).
        seen.extend({**kwargs, "account_id": pk, "old_id": old} for pk, old in changes)

    account_changed.connect(receiver, weak=False, dispatch_uid="test-history")
    yield seen
    account_changed.disconnect(dispatch_uid="test-history")


def test_a_playbook_step_records_the_stage_change(workspace, received, django_capture_on_commit_callbacks):
    before = f.LifecycleStageFactory(name="Adoption", key="adoption")
    at_risk = f.LifecycleStageFactory(name="At risk", key="at-risk")
    account = f.AccountFactory(name="Globex", lifecycle_stage=before)
    playbook = create_playbook(
        "Rescue",
        "",
        [(StepKind.SET_STAGE, {"stage": "at-risk"})],
        trigger=TriggerKind.BAND_ENTERED,
        band="red",
    )
    (run_id,) = triggers.start_runs(playbook, {account.pk: "x"})
    with django_capture_on_commit_callbacks(execute=True):
        runner.execute_run(PlaybookRun.objects.get(pk=run_id).pk, lambda pk, countdown: None)
    assert Account.objects.get(pk=account.pk).lifecycle_stage == at_risk
    change = AccountChange.objects.get()
    assert (change.field, change.old_label, change.new_label, change.source, change.reason) == (
        "stage",
        "Adoption",
        "At risk",
        "playbook",
        "Playbook “Rescue”",
    )
    assert [(r["field"], r["old_id"], r["new_id"], r["source"]) for r in received] == [
        ("stage", before.pk, at_risk.pk, "playbook")
    ]
    # Running the step again changes nothing and records nothing.
    set_field(Account.objects.filter(pk=account.pk), "stage", at_risk, source="playbook")
    assert AccountChange.objects.count() == 1


def test_history_keeps_labels_after_a_tier_is_deleted(workspace):
    gold = f.TierFactory(name="Gold")
    silver = f.TierFactory(name="Silver")
    account = f.AccountFactory(tier=gold)
    set_field(Account.objects.filter(pk=account.pk), "tier", silver, source="rule")
    gold_id = gold.pk
    gold.delete()
    change = AccountChange.objects.get()
    assert (change.old_id, change.old_label, change.new_label) == (gold_id, "Gold", "Silver")
    assert str(change) == "Tier: Gold → Silver"


def test_a_rolled_back_change_is_neither_kept_nor_announced(
    workspace, received, django_capture_on_commit_callbacks
):
    gold = f.TierFactory(name="Gold")
    account = f.AccountFactory()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                set_field(Account.objects.filter(pk=account.pk), "tier", gold, source="user", override=True)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert received == []
    assert not AccountChange.objects.exists()
    assert Account.objects.get(pk=account.pk).tier is None
