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
