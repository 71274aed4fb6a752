"""Playbook pages through the test client: the list, the editor's validation (nothing saved
partially), the run log with failures visible, and who may do what."""

from __future__ import annotations

import re

import pytest

from playbooks.models import Playbook, PlaybookStep, StepKind
from tenancy.context import use_workspace

from ..support import snapshot, wurl
from .samples import add_playbook_samples, playbook_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def tw(two_workspaces):
    add_playbook_samples(two_workspaces)
    return two_workspaces


@pytest.fixture
def admin(client, tw):
    client.force_login(tw.a_admin)
    return client


def test_list_shows_trigger_filter_steps_and_recent_runs(admin, tw):
    response = admin.get(wurl(tw.a, "tasks:playbooks"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Quokka rescue playbook" in body and "Health entered red" in body
    assert "Create a task" in body and "1 failed" in body
    assert not re.findall(r"<script(?![^>]*\bsrc=)", body), "no inline scripts (strict CSP)"


def test_pages_have_no_inline_styles(admin, tw):
    for name, kwargs in [
        ("tasks:playbook_create", {}),
        ("tasks:playbook_run", {"pk": tw.extra["playbook_run"].pk}),
    ]:
        body = admin.get(wurl(tw.a, name, **kwargs)).content.decode()
        main = body.split('class="page-body"', 1)[-1]
        assert " style=" not in main and "<style" not in main


def test_admin_creates_a_playbook_with_ordered_steps(admin, tw):
    data = playbook_form(
        "Renewal prep",
        trigger="renewal_within",
        band="",
        renewal_days="60",
        **{
            "s-TOTAL_FORMS": "2",
            "s-0-position": "2",
            "s-1-kind": "call_webhook",
            "s-1-position": "1",
            "s-1-url": "https://hooks.example.com/cs",
            "s-1-event": "renewal.soon",
            "s-1-secret": "",
        },
    )
    response = admin.post(wurl(tw.a, "tasks:playbook_create"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with use_workspace(tw.a):
        playbook = Playbook.objects.get(name="Renewal prep")
        assert (playbook.trigger, playbook.renewal_days, playbook.band) == ("renewal_within", 60, "")
        steps = list(playbook.steps.all())
    assert [(s.position, s.kind) for s in steps] == [(1, StepKind.CALL_WEBHOOK), (2, StepKind.CREATE_TASK)]
    assert len(steps[0].config["secret"]) >= 32


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"frequency_cap_days": "-1"}, "frequency_cap_days", "Days cannot be negative."),
        ({"trigger": "renewal_within", "renewal_days": "-5"}, "renewal_days", "at least 1 day"),
        ({"trigger": "band_entered", "band": ""}, "band", "Choose the band"),
        ({"s-0-due_in_days": "-2"}, "s-0-due_in_days", "Days cannot be negative."),
        ({"s-0-title": ""}, "s-0-title", "This field is required."),
        (
            {"s-0-kind": "call_webhook", "s-0-url": "ftp://files.example.com/x"},
            "s-0-url",
            "http:// or https://",
        ),
        ({"s-0-kind": "call_webhook", "s-0-url": "https:///nohost"}, "s-0-url", "host name"),
        ({"s-0-DELETE": "on"}, None, "Add at least one step."),
        ({"s-TOTAL_FORMS": "0"}, None, "Add at least one step."),
    ],
)
def test_editor_refuses_bad_input_and_saves_nothing(admin, tw, changes, field, message):
    before = snapshot(tw.a)
    response = admin.post(wurl(tw.a, "tasks:playbook_create"), playbook_form("Bad one", **changes))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    if field:
        assert f'name="{field}"' in body and "is-invalid" in body
    assert snapshot(tw.a) == before


def test_editing_keeps_step_rows_and_removes_deleted_ones(admin, tw):
    playbook = tw.extra["playbook"]
    with use_workspace(tw.a):
        step = playbook.steps.get()
    response = admin.get(wurl(tw.a, "tasks:playbook_edit", pk=playbook.pk))
    assert (
        response.status_code == 200 and "Quokka rescue call for {account.name}" in response.content.decode()
    )
    data = playbook_form(
        "Quokka rescue playbook",
        **{
            "s-0-step_id": str(step.pk),
            "s-0-title": "Call {account.name} today",
            "s-TOTAL_FORMS": "2",
            "s-1-kind": "add_note",
            "s-1-position": "2",
            "s-1-text": "Rescue started",
        },
    )
    assert admin.post(wurl(tw.a, "tasks:playbook_edit", pk=playbook.pk), data).status_code == 302
    with use_workspace(tw.a):
        steps = list(PlaybookStep.objects.filter(playbook=playbook))
    assert steps[0].pk == step.pk and steps[0].config["title"] == "Call {account.name} today"
    assert [s.kind for s in steps] == [StepKind.CREATE_TASK, StepKind.ADD_NOTE]
    data.update({"s-0-DELETE": "on"})
    assert admin.post(wurl(tw.a, "tasks:playbook_edit", pk=playbook.pk), data).status_code == 302
    with use_workspace(tw.a):
        assert list(PlaybookStep.objects.filter(playbook=playbook).values_list("kind", flat=True)) == [
            "add_note"
        ]


def test_add_step_button_appends_a_step_of_that_kind_and_saves_nothing(admin, tw):
    before = snapshot(tw.a)
    response = admin.post(
        wurl(tw.a, "tasks:playbook_create"), {**playbook_form("Draft"), "add": "send_email"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="s-1-subject"' in body and 'name="s-0-title"' in body
    assert snapshot(tw.a) == before


def test_run_log_shows_failed_steps_with_their_error(admin, tw):
    response = admin.get(wurl(tw.a, "tasks:playbook_runs"), {"status": "failed"})
    body = response.content.decode()
    assert response.status_code == 200 and "Quokka endpoint refused the call with 403." in body
    assert "Quokka Alpha Holdings" in body
    assert (
        "Quokka endpoint"
        not in admin.get(wurl(tw.a, "tasks:playbook_runs"), {"status": "succeeded"}).content.decode()
    )
    detail = admin.get(wurl(tw.a, "tasks:playbook_run", pk=tw.extra["playbook_run"].pk)).content.decode()
    assert "403" in detail and "12 ms" in detail


@pytest.mark.parametrize("who", ["a_viewer", "a_csm"])
def test_csms_and_viewers_read_but_cannot_configure(client, tw, who):
    client.force_login(getattr(tw, who))
    assert client.get(wurl(tw.a, "tasks:playbooks")).status_code == 200
    assert client.get(wurl(tw.a, "tasks:playbook_runs")).status_code == 200
    assert client.get(wurl(tw.a, "tasks:playbook_run", pk=tw.extra["playbook_run"].pk)).status_code == 200
    before = snapshot(tw.a)
    assert client.get(wurl(tw.a, "tasks:playbook_create")).status_code == 403
    assert client.post(wurl(tw.a, "tasks:playbook_create"), playbook_form("Nope")).status_code == 403
    edit = wurl(tw.a, "tasks:playbook_edit", pk=tw.extra["playbook"].pk)
    assert client.post(edit, playbook_form("Nope")).status_code == 403
    assert snapshot(tw.a) == before
    assert "New playbook" not in client.get(wurl(tw.a, "tasks:playbooks")).content.decode()


def test_the_task_list_links_to_playbooks(client, tw):
    client.force_login(tw.a_viewer)
    body = client.get(wurl(tw.a, "tasks:list")).content.decode()
    assert f'href="{wurl(tw.a, "tasks:playbooks")}"' in body
