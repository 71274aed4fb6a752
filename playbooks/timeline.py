"""The account timeline's work events: tasks created and closed, playbook runs."""

from __future__ import annotations

from django.urls import reverse

from accounts.timeline import Event, Source, register

from .models import PlaybookRun, RunStatus, Task, TaskStatus

RUN_TONES = {RunStatus.FAILED: "red", RunStatus.SUCCEEDED: "blue"}


def _tasks(account, before, limit):
    slug = account.workspace.slug
    tasks = Task.objects.filter(account=account).select_related("created_by", "completed_by", "assignee")
    created = tasks.order_by("-created_at", "-pk")
    if before is not None:
        created = created.filter(created_at__lt=before)
    for t in created[:limit]:
        assignee = f"for {t.assignee.display_name}" if t.assignee_id else "unassigned"
        due = f", due {t.due_on:%b %-d}" if t.due_on else ""
        yield Event(
            t.created_at,
            "tasks",
            f"Task created: {t.title}",
            f"{assignee}{due}",
            "blue",
            url=reverse("tasks:detail", args=[slug, t.pk]),
            actor=t.created_by.display_name if t.created_by_id else t.get_source_display(),
        )
    closed = tasks.filter(completed_at__isnull=False).order_by("-completed_at", "-pk")
    if before is not None:
        closed = closed.filter(completed_at__lt=before)
    for t in closed[:limit]:
        done = t.status == TaskStatus.DONE
        yield Event(
            t.completed_at,
            "tasks",
            f"Task {'done' if done else 'cancelled'}: {t.title}",
            "",
            "green" if done else "secondary",
            url=reverse("tasks:detail", args=[slug, t.pk]),
            actor=t.completed_by.display_name if t.completed_by_id else "",
        )


def _runs(account, before, limit):
    slug = account.workspace.slug
    runs = (
        PlaybookRun.objects.filter(account=account).select_related("playbook").order_by("-created_at", "-pk")
    )
    if before is not None:
        runs = runs.filter(created_at__lt=before)
    for run in runs[:limit]:
        yield Event(
            run.created_at,
            "playbooks",
            f"Playbook started: {run.playbook.name}",
            run.occurrence,
            RUN_TONES.get(run.status, "secondary"),
            url=reverse("tasks:playbook_run", args=[slug, run.pk]),
            badges=(run.get_status_display(),),
        )


def register_sources() -> None:
    register(Source("tasks", "Tasks", _tasks, 25))
    register(Source("playbooks", "Playbook runs", _runs, 26))
