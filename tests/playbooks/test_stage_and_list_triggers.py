"""The "lifecycle stage entered" and "account joined a saved list" triggers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.signals import account_changed
from playbooks import triggers
from playbooks.models import Playbook, PlaybookListMember, PlaybookRun, StepKind, TriggerKind
from playbooks.provisioning import create_playbook
from segments.models import SavedList, Visibility
from tenancy.models import Role

from .. import factories as f
from ..support import wurl
from .samples import playbook_form

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate().isoformat()
TASK_STEP = [(StepKind.CREATE_TASK, {"title": "Welcome {account.name}", "due_in_days": 2})]


@pytest.fixture
def team(workspace):
    csm = f.UserFactory(full_name="Casey Csm")
    f.MembershipFactory(user=csm, workspace=workspace, role=Role.CSM)
    return SimpleNamespace(workspace=workspace, csm=csm)


def changed(team, account, old, new, field="stage"):
    account_changed.send(
        sender=None,
        workspace_id=team.workspace.pk,
        field=field,
        new_id=new.pk if new else None,
        changes=[(account.pk, old.pk if old else None)],
        source="user",
    )


def test_entering_the_stage_starts_one_run_per_account_and_day(team):
    onboarding = f.LifecycleStageFactory(name="Onboarding", key="onboarding")
    adoption = f.LifecycleStageFactory(name="Adoption", key="adoption")
    playbook = create_playbook("Adoption kick-off", "", TASK_STEP, trigger=TriggerKind.STAGE_ENTERED,
                               stage=adoption)  # fmt: skip
    account = f.AccountFactory(lifecycle_stage=adoption)
    other = f.AccountFactory(lifecycle_stage=onboarding)
    changed(team, account, onboarding, adoption)
    changed(team, account, onboarding, adoption)  # the same change delivered twice
    changed(team, other, adoption, onboarding)  # another stage
    changed(team, other, None, adoption, field="tier")  # not a stage change
    runs = list(PlaybookRun.objects.values_list("playbook_id", "account_id", "occurrence"))
    assert runs == [(playbook.pk, account.pk, f"stage:{adoption.pk}:{TODAY}")]


def test_a_failing_receiver_never_breaks_the_sender(team):
    adoption = f.LifecycleStageFactory(name="Adoption", key="adoption")
    create_playbook("Kick-off", "", TASK_STEP, trigger=TriggerKind.STAGE_ENTERED, stage=adoption)
    # An account id that does not exist: the receiver's error is logged, not raised.
    account_changed.send(sender=None, workspace_id=team.workspace.pk, field="stage", new_id=adoption.pk,
                         changes=[(10**9, None)], source="api")  # fmt: skip
    assert not PlaybookRun.objects.exists()


@pytest.fixture
def red_list(team):
    saved = SavedList.objects.create(
        name="Red accounts", query="health_band=red", visibility=Visibility.PUBLIC
    )
    playbook = create_playbook("Joined red", "", TASK_STEP, trigger=TriggerKind.JOINED_LIST, saved_list=saved)
    return SimpleNamespace(saved=saved, playbook=playbook)


def test_the_first_check_records_members_without_running(team, red_list):
    already = f.AccountFactory(health_band="red")
    assert triggers.check_list_playbooks() == 0
    assert list(PlaybookListMember.objects.values_list("account_id", flat=True)) == [already.pk]
    assert not PlaybookRun.objects.exists()


def test_accounts_that_join_later_start_runs_and_leavers_are_forgotten(team, red_list):
    stays = f.AccountFactory(health_band="red")
    leaves = f.AccountFactory(health_band="red")
    joins = f.AccountFactory(health_band="yellow")
    triggers.check_list_playbooks()
    leaves.health_band = "green"
    leaves.save()
    joins.health_band = "red"
    joins.save()
    assert triggers.check_list_playbooks() == 1
    assert list(PlaybookRun.objects.values_list("account_id", "occurrence")) == [
        (joins.pk, f"list:{red_list.saved.pk}:{TODAY}")
    ]
    members = set(PlaybookListMember.objects.values_list("account_id", flat=True))
    assert members == {stays.pk, joins.pk}
    # Nothing changed: a second check starts nothing.
    assert triggers.check_list_playbooks() == 0


def test_an_empty_list_at_the_first_check_still_counts_as_checked(team, red_list):
    triggers.check_list_playbooks()
    newcomer = f.AccountFactory(health_band="red")
    assert triggers.check_list_playbooks() == 1
    assert PlaybookRun.objects.get().account_id == newcomer.pk


def test_a_list_that_no_longer_parses_is_skipped_not_read_as_empty(team, red_list):
    f.AccountFactory(health_band="red")
    triggers.check_list_playbooks()
    red_list.saved.query = "tier=999999"  # a deleted tier
    red_list.saved.save()
    assert triggers.check_list_playbooks() == 0
    assert PlaybookListMember.objects.count() == 1  # members kept for when the list is fixed


def test_my_accounts_in_a_list_resolves_for_the_lists_owner(team):
    saved = SavedList.objects.create(
        name="Mine", query="mine=true", owner=team.csm, visibility=Visibility.PUBLIC
    )
    create_playbook("Mine joined", "", TASK_STEP, trigger=TriggerKind.JOINED_LIST, saved_list=saved)
    triggers.check_list_playbooks()
    mine = f.AccountFactory(csm_owner=team.csm)
    f.AccountFactory()  # someone else's
    assert triggers.check_list_playbooks() == 1
    assert PlaybookRun.objects.get().account_id == mine.pk


def test_the_editor_asks_for_the_list(client, team, workspace):
    admin = f.UserFactory()
    f.MembershipFactory(user=admin, workspace=workspace, role=Role.ADMIN)
    client.force_login(admin)
    saved = SavedList.objects.create(name="Public red", query="health_band=red", visibility=Visibility.PUBLIC)
    SavedList.objects.create(name="Someone's private list", query="", owner=team.csm)
    url = wurl(workspace, "tasks:playbook_create")
    page = client.get(url)
    choices = [label for _, label in page.context["form"].fields["saved_list"].choices]
    assert "Public red" in choices and "Someone's private list" not in choices
    data = playbook_form("List playbook", trigger=TriggerKind.JOINED_LIST, band="")
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Choose the saved list that starts the playbook." in response.content.decode()
    response = client.post(url, {**data, "saved_list": saved.pk})
    assert response.status_code == 302
    playbook = Playbook.objects.get(name="List playbook")
    assert (playbook.saved_list, playbook.trigger_text) == (saved, "Joined list: Public red")


def test_a_playbook_filtered_to_a_saved_list_runs_only_for_its_members(team):
    key = SavedList.objects.create(name="Key accounts", query="q=Key", visibility=Visibility.PUBLIC)
    adoption = f.LifecycleStageFactory(name="Adoption", key="adoption")
    playbook = create_playbook("Key kick-off", "", TASK_STEP, trigger=TriggerKind.STAGE_ENTERED, stage=adoption,
                               filter_list=key)  # fmt: skip
    inside = f.AccountFactory(name="Key Corp", lifecycle_stage=adoption)
    outside = f.AccountFactory(name="Other Corp", lifecycle_stage=adoption)
    changed(team, inside, None, adoption)
    changed(team, outside, None, adoption)
    assert list(PlaybookRun.objects.values_list("account_id", flat=True)) == [inside.pk]
    assert playbook.filter_text == "list Key accounts"


def test_a_list_in_use_cannot_be_deleted(client, team, workspace):
    admin = f.UserFactory()
    f.MembershipFactory(user=admin, workspace=workspace, role=Role.ADMIN)
    key = SavedList.objects.create(name="Key accounts", query="q=Key", visibility=Visibility.PUBLIC)
    create_playbook(
        "Key kick-off", "", TASK_STEP, trigger=TriggerKind.BAND_ENTERED, band="red", filter_list=key
    )
    client.force_login(admin)
    response = client.post(wurl(workspace, "lists:delete", pk=key.pk), follow=True)
    assert "defines a segment of playbook “Key kick-off”: change them first." in response.content.decode()
    assert SavedList.objects.filter(pk=key.pk).exists()


def test_a_stage_set_on_the_account_page_starts_the_playbook(
    client, team, workspace, django_capture_on_commit_callbacks
):
    adoption = f.LifecycleStageFactory(name="Adoption", key="adoption")
    playbook = create_playbook(
        "Adoption kick-off", "", TASK_STEP, trigger=TriggerKind.STAGE_ENTERED, stage=adoption
    )
    account = f.AccountFactory(csm_owner=team.csm)
    client.force_login(team.csm)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(wurl(workspace, "accounts:tier_stage", pk=account.pk), {"stage": adoption.pk})
    assert response.status_code == 302
    runs = list(PlaybookRun.objects.values_list("playbook_id", "account_id", "occurrence"))
    assert runs == [(playbook.pk, account.pk, f"stage:{adoption.pk}:{TODAY}")]
