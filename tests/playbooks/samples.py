"""Workspace A's tasks for the cross-tenant sweep and the task tests: an open task with a
comment, assigned to A's CSM, and a done one (so reopening has something to do)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from playbooks import ctas
from tenancy.context import use_workspace


def add_task_samples(tw) -> None:
    with use_workspace(tw.a):
        task = ctas.create_task(
            tw.sample.account,
            "Quokka renewal prep call",
            description="Walk the quokka champion through the renewal quote.",
            due_on=timezone.localdate() - dt.timedelta(days=2),
            assignee=tw.a_csm,
            created_by=tw.a_admin,
        )
        comment = ctas.add_comment(task, tw.a_csm, "Quokka champion asked for a usage deck")
        done = ctas.create_task(tw.sample.account, "Quokka onboarding checklist", assignee=tw.a_csm)
        ctas.complete_task(done, tw.a_csm)
    tw.extra.update(task=task, task_comment=comment, done_task=done)
    tw.strings_of_a += [task.title, task.description, comment.body, done.title]


def add_playbook_samples(tw) -> None:
    """A's playbook with a step, and a run of it whose webhook step failed (the run log's sample)."""
    from playbooks.models import PlaybookRun, RunStatus, StepKind, StepRun, StepStatus, TriggerKind
    from playbooks.provisioning import create_playbook

    with use_workspace(tw.a):
        playbook = create_playbook(
            "Quokka rescue playbook",
            "Rescue quokka accounts that turned red.",
            [(StepKind.CREATE_TASK, {"title": "Quokka rescue call for {account.name}", "due_in_days": 2})],
            trigger=TriggerKind.BAND_ENTERED,
            band="red",
        )
        run = PlaybookRun.objects.create(
            playbook=playbook,
            account=tw.sample.account,
            occurrence="band:red:2026-11-01",
            status=RunStatus.FAILED,
        )
        StepRun.objects.create(
            run=run,
            step=playbook.steps.get(),
            position=1,
            kind=StepKind.CALL_WEBHOOK,
            status=StepStatus.FAILED,
            attempts=1,
            last_error="Quokka endpoint refused the call with 403.",
            log=[{"attempt": 1, "at": "2026-11-01T10:00:00+00:00", "outcome": "failed", "http_status": 403,
                  "duration_ms": 12}],
        )  # fmt: skip
    tw.extra.update(playbook=playbook, playbook_run=run)
    tw.strings_of_a += [playbook.name, "Quokka endpoint refused", "Quokka rescue call"]


def playbook_form(name: str, **extra) -> dict:
    """A valid editor submission: band entered red, one task step for the account's CSM."""
    data = {
        "name": name,
        "description": "",
        "is_active": "on",
        "trigger": "band_entered",
        "band": "red",
        "renewal_days": "",
        "alert_rule": "",
        "stage": "",
        "filter_tier": "",
        "filter_stage": "",
        "frequency_cap_days": "30",
        "s-TOTAL_FORMS": "1",
        "s-INITIAL_FORMS": "0",
        "s-MIN_NUM_FORMS": "0",
        "s-MAX_NUM_FORMS": "1000",
        "s-0-kind": "create_task",
        "s-0-position": "1",
        "s-0-title": "Sweep probe for {account.name}",
        "s-0-description": "",
        "s-0-due_in_days": "2",
        "s-0-assignee": "csm",
        "s-0-member": "",
        "s-0-role": "csm",
    }
    data.update(extra)
    return data
