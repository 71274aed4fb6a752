"""Task pages through the test client, as CSMs, admins and viewers meet them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from playbooks import ctas
from playbooks.models import Task, TaskComment, TaskSource, TaskStatus
from tenancy.context import use_workspace

from .. import factories as f
from ..support import snapshot, wurl

pytestmark = pytest.mark.django_db


@pytest.fixture
def tw(two_workspaces):
    return two_workspaces


@pytest.fixture
def csm(client, tw):
    client.force_login(tw.a_csm)
    return client


@pytest.fixture
def tasks(tw):
    """A's CSM: one overdue, one due today, one next week, one undated; one for the admin, one done."""
    today = timezone.localdate()
    account = tw.sample.account
    with use_workspace(tw.a):
        other = f.AccountFactory(name="Kiwi Kitchens")
        made = {
            "overdue": ctas.create_task(
                account, "Chase the unsigned renewal", due_on=today - dt.timedelta(days=3), assignee=tw.a_csm
            ),
            "today": ctas.create_task(other, "Call the new champion", due_on=today, assignee=tw.a_csm),
            "later": ctas.create_task(
                account, "Plan the QBR", due_on=today + dt.timedelta(days=7), assignee=tw.a_csm
            ),
            "undated": ctas.create_task(other, "Send the training recording", assignee=tw.a_csm),
            "admins": ctas.create_task(
                account,
                "Review the discount request",
                due_on=today - dt.timedelta(days=1),
                assignee=tw.a_admin,
            ),
            "done": ctas.complete_task(
                ctas.create_task(account, "Kick-off call", assignee=tw.a_csm), tw.a_csm
            ),
        }
    return made


def titles(response) -> list[str]:
    return [t.title for t in response.context["object_list"]]


# --- the list ----------------------------------------------------------------------------------


def test_my_tasks_lists_my_open_tasks_most_urgent_first(csm, tw, tasks):
    response = csm.get(wurl(tw.a, "tasks:list"))
    assert response.status_code == 200
    assert titles(response) == [
        "Chase the unsigned renewal",
        "Call the new champion",
        "Plan the QBR",
        "Send the training recording",
    ]
    body = response.content.decode()
    assert "Review the discount request" not in body  # the admin's
    assert "Kick-off call" not in body  # done
    # The account links to its page; the overdue date is shown in red.
    assert wurl(tw.a, "accounts:detail", pk=tw.sample.account.pk) in body
    assert 'class="text-red fw-medium text-nowrap"' in body
    counts = {t["key"]: t["count"] for t in response.context["tabs"]}
    assert counts == {"open": 4, "today": 1, "overdue": 1, "all": 5, "done": 1}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"view": "today"}, ["Call the new champion"]),
        ({"view": "overdue"}, ["Chase the unsigned renewal"]),
        ({"view": "done"}, ["Kick-off call"]),
        ({"who": "all", "view": "overdue"}, ["Chase the unsigned renewal", "Review the discount request"]),
        ({"who": "all"}, None),
        ({"who": "nobody"}, []),
        ({"priority": "high"}, []),
        ({"source": "playbook"}, []),
    ],
)
def test_list_filters(csm, tw, tasks, query, expected):
    response = csm.get(wurl(tw.a, "tasks:list"), query)
    assert response.status_code == 200
    if expected is None:  # the whole workspace's open tasks
        assert len(titles(response)) == 5
        assert "Review the discount request" in titles(response)
    else:
        assert titles(response) == expected


def test_list_by_another_member_and_a_foreign_user_id(csm, tw, tasks):
    response = csm.get(wurl(tw.a, "tasks:list"), {"who": tw.a_admin.pk})
    assert titles(response) == ["Review the discount request"]
    # B's CSM is not a choice in A: the filter is refused, no rows.
    response = csm.get(wurl(tw.a, "tasks:list"), {"who": tw.b_csm.pk})
    assert response.status_code == 200
    assert titles(response) == []
    assert "Some filters are not valid" in response.content.decode()


def test_empty_states(client, tw):
    client.force_login(tw.a_csm)
    body = client.get(wurl(tw.a, "tasks:list")).content.decode()
    assert "No open tasks" in body and "New task" in body
    body = client.get(wurl(tw.a, "tasks:list"), {"view": "overdue"}).content.decode()
    assert "Nothing overdue" in body
    client.force_login(tw.a_viewer)
    body = client.get(wurl(tw.a, "tasks:list")).content.decode()
    assert "No open tasks" in body
    assert wurl(tw.a, "tasks:create") not in body


def test_quick_complete_from_the_list_returns_to_it(csm, tw, tasks):
    task = tasks["today"]
    back = wurl(tw.a, "tasks:list") + "?view=today"
    response = csm.post(wurl(tw.a, "tasks:complete", pk=task.pk), {"next": back})
    assert response.status_code == 302 and response.url == back
    # An outside `next` is ignored.
    task2 = tasks["later"]
    response = csm.post(wurl(tw.a, "tasks:complete", pk=task2.pk), {"next": "https://evil.example/"})
    assert response.url == wurl(tw.a, "tasks:detail", pk=task2.pk)


# --- creating ----------------------------------------------------------------------------------


def test_create_a_task_from_the_form(csm, tw):
    page = csm.get(wurl(tw.a, "tasks:create"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Quokka Alpha Holdings (qk-ext-7731)" in body
    assert "Wombat Beta Traders" not in body  # B's account is no choice
    due = timezone.localdate() + dt.timedelta(days=5)
    response = csm.post(
        wurl(tw.a, "tasks:create"),
        {
            "account": tw.sample.account.pk,
            "title": "  Send the adoption report  ",
            "description": "Usage fell 30% in October.",
            "due_on": due.isoformat(),
            "priority": "high",
            "assignee": tw.a_admin.pk,
        },
    )
    with use_workspace(tw.a):
        task = Task.objects.get()
    assert response.status_code == 302
    assert response.url == wurl(tw.a, "tasks:detail", pk=task.pk)
    assert (task.title, task.account, task.due_on, task.priority) == (
        "Send the adoption report",
        tw.sample.account,
        due,
        "high",
    )
    assert (task.assignee, task.created_by, task.source, task.status) == (
        tw.a_admin,
        tw.a_csm,
        TaskSource.MANUAL,
        TaskStatus.OPEN,
    )
    assert task.workspace == tw.a


def test_create_defaults_the_assignee_to_me_and_prefills_the_account(csm, tw):
    response = csm.get(wurl(tw.a, "tasks:create"), {"account": tw.sample.account.pk})
    form = response.context["form"]
    assert form["assignee"].value() == tw.a_csm.pk
    assert form["account"].value() == tw.sample.account.pk
    # Another workspace's account id prefills nothing.
    response = csm.get(wurl(tw.a, "tasks:create"), {"account": tw.b_account.pk})
    assert response.context["form"]["account"].value() is None


def test_create_with_bad_input_shows_errors_beside_fields_and_saves_nothing(csm, tw):
    before = snapshot(tw.a)
    response = csm.post(
        wurl(tw.a, "tasks:create"),
        {"account": tw.b_account.pk, "title": "  ", "priority": "urgent", "assignee": tw.b_csm.pk},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"account", "title", "priority", "assignee"}
    assert "admin or CSM of this workspace" in errors["assignee"][0]
    body = response.content.decode()
    assert 'class="invalid-feedback d-block"' in body
    assert "is-invalid" in body
    assert snapshot(tw.a) == before


def test_a_viewer_cannot_be_given_a_task(csm, tw):
    response = csm.post(
        wurl(tw.a, "tasks:create"),
        {
            "account": tw.sample.account.pk,
            "title": "Read-only person",
            "priority": "normal",
            "assignee": tw.a_viewer.pk,
        },
    )
    assert response.status_code == 200
    assert "assignee" in response.context["form"].errors
    with use_workspace(tw.a):
        assert not Task.objects.exists()


def test_the_account_panel_lists_open_tasks_and_quick_adds(csm, tw, tasks):
    url = wurl(tw.a, "accounts:detail", pk=tw.sample.account.pk)
    response = csm.get(url)
    body = response.content.decode()
    assert 'id="tasks"' in body
    for title in ("Chase the unsigned renewal", "Plan the QBR", "Review the discount request"):
        assert title in body
    assert "Call the new champion" not in body  # another account's
    panel = body[body.index('id="tasks"') : body.index('id="account-timeline"')]
    assert "Kick-off call" not in panel  # done: in the timeline, not among the open tasks
    timeline = csm.get(
        wurl(tw.a, "accounts:timeline", pk=tw.sample.account.pk) + "?embedded=1",
        headers={"HX-Request": "true"},
    )
    assert "Task done: Kick-off call" in timeline.content.decode()
    assert wurl(tw.a, "tasks:account_create", account_pk=tw.sample.account.pk) in body

    response = csm.post(
        wurl(tw.a, "tasks:account_create", account_pk=tw.sample.account.pk),
        {"title": "Book the exec sponsor lunch", "priority": "normal", "assignee": tw.a_csm.pk},
    )
    assert response.status_code == 302
    assert response.url == url + "#tasks"
    with use_workspace(tw.a):
        task = Task.objects.get(title="Book the exec sponsor lunch")
    assert task.account == tw.sample.account
    assert "Book the exec sponsor lunch" in csm.get(url).content.decode()


def test_the_account_form_prefills_the_account_csm(client, tw):
    client.force_login(tw.a_admin)
    response = client.get(wurl(tw.a, "tasks:account_create", account_pk=tw.sample.account.pk))
    assert response.status_code == 200
    form = response.context["form"]
    assert "account" not in form.fields
    assert form["assignee"].value() == tw.a_csm.pk  # the account's CSM, not the admin viewing


def test_quick_add_without_a_title_shows_the_full_form_with_the_error(csm, tw):
    response = csm.post(
        wurl(tw.a, "tasks:account_create", account_pk=tw.sample.account.pk),
        {"title": "", "priority": "normal"},
    )
    assert response.status_code == 200
    assert "title" in response.context["form"].errors
    assert "New task for Quokka Alpha Holdings" in response.content.decode()


def test_account_panel_for_a_viewer_has_no_forms(client, tw, tasks):
    client.force_login(tw.a_viewer)
    body = client.get(wurl(tw.a, "accounts:detail", pk=tw.sample.account.pk)).content.decode()
    assert "Chase the unsigned renewal" in body
    assert wurl(tw.a, "tasks:account_create", account_pk=tw.sample.account.pk) not in body
    assert wurl(tw.a, "tasks:complete", pk=tasks["overdue"].pk) not in body


# --- the task page and its actions -------------------------------------------------------------


def test_task_page_shows_details_and_comments(csm, tw, tasks):
    task = tasks["overdue"]
    with use_workspace(tw.a):
        ctas.add_comment(task, tw.a_admin, "They want a 10% discount")
    response = csm.get(wurl(tw.a, "tasks:detail", pk=task.pk))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "Chase the unsigned renewal",
        "Quokka Alpha Holdings",
        "They want a 10% discount",
        "Overdue",
    ):
        assert text in body


def test_complete_and_reopen(csm, tw, tasks):
    task = tasks["overdue"]
    response = csm.post(wurl(tw.a, "tasks:complete", pk=task.pk))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.completed_by == tw.a_csm and task.completed_at is not None
    assert "Reopen" in csm.get(wurl(tw.a, "tasks:detail", pk=task.pk)).content.decode()

    response = csm.post(wurl(tw.a, "tasks:reopen", pk=task.pk))
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.completed_at, task.completed_by) == (TaskStatus.OPEN, None, None)


def test_cancel_closes_the_task_and_lists_it_with_the_done_ones(csm, tw, tasks):
    task = tasks["undated"]
    response = csm.post(wurl(tw.a, "tasks:cancel", pk=task.pk))
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.completed_by) == (TaskStatus.CANCELLED, tw.a_csm)
    response = csm.get(wurl(tw.a, "tasks:list"))
    assert "Send the training recording" not in titles(response)
    response = csm.get(wurl(tw.a, "tasks:list"), {"view": "done"})
    assert titles(response) == ["Send the training recording", "Kick-off call"]
    assert "Cancelled" in response.content.decode()
    assert csm.post(wurl(tw.a, "tasks:reopen", pk=task.pk)).status_code == 302
    task.refresh_from_db()
    assert (task.status, task.completed_at) == (TaskStatus.OPEN, None)


def test_action_urls_redirect_a_get_to_the_task(csm, tw, tasks):
    task = tasks["overdue"]
    response = csm.get(wurl(tw.a, "tasks:complete", pk=task.pk))
    assert response.status_code == 302
    assert response.url == wurl(tw.a, "tasks:detail", pk=task.pk)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_reassign_to_a_member(csm, tw, tasks):
    task = tasks["overdue"]
    response = csm.post(wurl(tw.a, "tasks:reassign", pk=task.pk), {"assignee": tw.a_admin.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == tw.a_admin
    with use_workspace(tw.a):
        note = TaskComment.objects.get(task=task)
    assert note.author == tw.a_csm
    assert note.body == "Reassigned from alpha-quokka csm to alpha-quokka admin."


@pytest.mark.parametrize("who", ["outsider", "b_csm", "a_viewer", "nobody"])
def test_reassign_to_someone_who_cannot_take_it_is_refused(csm, tw, tasks, who):
    task = tasks["overdue"]
    pk = "" if who == "nobody" else getattr(tw, who).pk
    before = snapshot(tw.a)
    response = csm.post(wurl(tw.a, "tasks:reassign", pk=task.pk), {"assignee": pk})
    assert response.status_code == 200
    error = response.context["reassign_form"].errors["assignee"][0]
    expected = "Choose who takes the task." if who == "nobody" else "admin or CSM of this workspace"
    assert expected in error
    assert error in response.content.decode()
    assert snapshot(tw.a) == before


def test_comment(csm, tw, tasks):
    task = tasks["later"]
    response = csm.post(wurl(tw.a, "tasks:comment", pk=task.pk), {"body": "Agenda sent"})
    assert response.status_code == 302
    with use_workspace(tw.a):
        comment = TaskComment.objects.get(task=task)
    assert (comment.body, comment.author) == ("Agenda sent", tw.a_csm)
    response = csm.post(wurl(tw.a, "tasks:comment", pk=task.pk), {"body": "   "})
    assert response.status_code == 200
    assert "Write a comment first." in response.content.decode()
    with use_workspace(tw.a):
        assert TaskComment.objects.filter(task=task).count() == 1


def test_edit(csm, tw, tasks):
    task = tasks["later"]
    url = wurl(tw.a, "tasks:edit", pk=task.pk)
    assert csm.get(url).status_code == 200
    due = timezone.localdate() - dt.timedelta(days=1)  # a date in the past is allowed
    response = csm.post(
        url,
        {
            "title": "Plan the QBR with finance",
            "description": "",
            "due_on": due.isoformat(),
            "priority": "high",
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.due_on, task.priority) == ("Plan the QBR with finance", due, "high")
    response = csm.post(url, {"title": "", "due_on": "not a date", "priority": "high"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"title", "due_on"}
    task.refresh_from_db()
    assert task.title == "Plan the QBR with finance"


# --- permissions and tenancy -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("tasks:complete", {}),
        ("tasks:cancel", {}),
        ("tasks:reopen", {}),
        ("tasks:reassign", {"assignee": "admin"}),
        ("tasks:comment", {"body": "Viewer note"}),
        ("tasks:edit", {"title": "Viewer edit", "priority": "low"}),
    ],
)
def test_a_viewer_reads_but_cannot_change(client, tw, tasks, name, data):
    client.force_login(tw.a_viewer)
    task = tasks["overdue"]
    assert client.get(wurl(tw.a, "tasks:detail", pk=task.pk)).status_code == 200
    if data.get("assignee") == "admin":
        data = {"assignee": tw.a_admin.pk}
    before = snapshot(tw.a)
    response = client.post(wurl(tw.a, name, pk=task.pk), data)
    assert response.status_code == 403
    assert snapshot(tw.a) == before


def test_a_viewer_cannot_create(client, tw):
    client.force_login(tw.a_viewer)
    assert client.get(wurl(tw.a, "tasks:list")).status_code == 200
    data = {"account": tw.sample.account.pk, "title": "Viewer task", "priority": "normal"}
    assert client.post(wurl(tw.a, "tasks:create"), data).status_code == 403
    url = wurl(tw.a, "tasks:account_create", account_pk=tw.sample.account.pk)
    assert client.post(url, data).status_code == 403
    body = client.get(wurl(tw.a, "tasks:list")).content.decode()
    assert "New task" not in body


def test_an_admin_works_tasks_too(client, tw, tasks):
    client.force_login(tw.a_admin)
    task = tasks["admins"]
    assert client.post(wurl(tw.a, "tasks:complete", pk=task.pk)).status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_another_workspace_sees_none_of_these_tasks(client, tw, tasks):
    client.force_login(tw.b_csm)
    response = client.get(wurl(tw.b, "tasks:list"), {"who": "all"})
    assert response.status_code == 200
    assert titles(response) == []
    for task in tasks.values():
        assert client.get(wurl(tw.b, "tasks:detail", pk=task.pk)).status_code == 404
