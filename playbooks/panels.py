"""The account page's Tasks panel: the account's open tasks and a quick add for CSMs."""

from __future__ import annotations

from django.utils import timezone

from accounts.panels import Panel, register
from tenancy.permissions import Action, can

from .forms import QuickTaskForm
from .models import Task, TaskStatus

PANEL_LIMIT = 20


def account_tasks(request, account) -> dict:
    tasks = (
        Task.objects.filter(account=account, status=TaskStatus.OPEN).select_related("assignee").by_urgency()
    )
    context = {
        "account_tasks": tasks[:PANEL_LIMIT],
        "account_tasks_total": tasks.count(),
        "account_tasks_done": Task.objects.filter(account=account, status=TaskStatus.DONE).count(),
        "today": timezone.localdate(),
    }
    if can(getattr(request, "membership", None), Action.WORK):
        context["task_quick_form"] = QuickTaskForm(account=account, user=request.user, auto_id="task_%s")
    return context


def register_panels() -> None:
    register(Panel("tasks", "playbooks/_account_tasks.html", account_tasks, 30))
