"""`playbooks.ctas`, the functions the pages and playbook steps share."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from playbooks import ctas
from playbooks.models import Task, TaskSource
from tenancy.context import use_workspace
from tenancy.models import Membership, Role

from .. import factories as f

pytestmark = pytest.mark.django_db


def test_create_task_for_a_playbook(two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        task = ctas.create_task(
            tw.sample.account,
            "Renewal in 90 days: plan the QBR",
            due_on=ctas.due_in(7),
            assignee=ctas.account_csm(tw.sample.account),
            source=TaskSource.PLAYBOOK,
            source_ref="run:42:step:1",
        )
    assert (task.workspace, task.assignee, task.source, task.source_ref) == (
        tw.a,
        tw.a_csm,
        "playbook",
        "run:42:step:1",
    )
    assert task.created_by is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": " "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"assignee": "viewer"}, "assignee"),
        ({"assignee": "b_csm"}, "assignee"),
        ({"assignee": "outsider"}, "assignee"),
        ({"priority": "urgent"}, "priority"),
        ({"source": "email"}, "source"),
    ],
)
def test_create_task_refuses_bad_input_and_saves_nothing(two_workspaces, kwargs, field):
    tw = two_workspaces
    users = {"viewer": tw.a_viewer, "b_csm": tw.b_csm, "outsider": tw.outsider}
    if "assignee" in kwargs:
        kwargs = {"assignee": users[kwargs["assignee"]]}
    with use_workspace(tw.a):
        with pytest.raises(ValidationError) as caught:
            ctas.create_task(tw.sample.account, **{"title": "Call", **kwargs})
        assert field in caught.value.message_dict
        assert not Task.objects.exists()


def test_create_task_refuses_an_account_of_another_workspace(two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        with pytest.raises(ValidationError) as caught:
            ctas.create_task(tw.b_account, "Sneaky")
        assert "account" in caught.value.message_dict
    assert not Task.all_workspaces.exists()


def test_account_csm_who_left_is_not_assigned(two_workspaces):
    tw = two_workspaces
    Membership.objects.filter(user=tw.a_csm, workspace=tw.a).delete()
    with use_workspace(tw.a):
        assert ctas.account_csm(tw.sample.account) is None


def test_round_robin_gives_the_next_task_to_who_waited_longest(two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        second = f.UserFactory(full_name="Second CSM")
        f.MembershipFactory(user=second, workspace=tw.a, role=Role.CSM)
        picked = []
        for n in range(4):
            user = ctas.round_robin(Role.CSM)
            picked.append(user)
            ctas.create_task(tw.sample.account, f"Task {n}", assignee=user)
        assert ctas.round_robin(Role.VIEWER) is None
    # Never-assigned members first, then alternating.
    assert picked[0] != picked[1]
    assert picked[2] == picked[0] and picked[3] == picked[1]
    assert set(picked) == {tw.a_csm, second}


def test_reassign_and_comment_refuse_what_they_should(two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        task = ctas.create_task(tw.sample.account, "Call", assignee=tw.a_csm)
        with pytest.raises(ValidationError):
            ctas.reassign_task(task, tw.b_admin)
        with pytest.raises(ValidationError):
            ctas.add_comment(task, tw.a_csm, "  ")
        task.refresh_from_db()
        assert task.assignee == tw.a_csm
        assert not task.comments.exists()
        ctas.reassign_task(task, None, by=tw.a_admin)
        task.refresh_from_db()
        assert task.assignee is None
        assert task.comments.get().body == "Reassigned from alpha-quokka csm to nobody."
