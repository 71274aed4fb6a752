"""Tasks (calls to action): the one place they are created and changed.

The task pages and, later, playbook steps call these functions, so a task made by hand and one
made by a playbook obey the same rules: the account and the assignee belong to the current
workspace, and only members who may work accounts (admins and CSMs) are given tasks.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from tenancy.context import current_workspace_id
from tenancy.models import Role

from .models import CLOSED_STATUSES, Task, TaskComment, TaskPriority, TaskSource, TaskStatus

# Roles whose members can be given tasks: the ones allowed to work accounts.
ASSIGNABLE_ROLES = (Role.ADMIN, Role.CSM)


def assignable_members(role: str | None = None) -> QuerySet:
    """Users of the current workspace who may be given tasks (admins and CSMs), by name."""
    roles = [role] if role else list(ASSIGNABLE_ROLES)
    return (
        get_user_model()
        .objects.filter(
            memberships__workspace_id=current_workspace_id(),
            memberships__role__in=[r for r in roles if r in ASSIGNABLE_ROLES],
            is_active=True,
        )
        .order_by("full_name", "email")
    )


def is_assignable(user) -> bool:
    return user is not None and assignable_members().filter(pk=user.pk).exists()


def account_csm(account: Account):
    """The account's CSM owner if they can still take tasks here, else None (left the workspace)."""
    owner = account.csm_owner
    return owner if is_assignable(owner) else None


def round_robin(role: str = Role.CSM):
    """The member of `role` who was given a task least recently (never first), or None.

    Reads the latest task per member rather than keeping a pointer, so there is nothing to keep
    in step when members join or leave.
    """
    members = assignable_members(role)
    latest = (
        Task.objects.filter(assignee__in=members)
        .values("assignee")
        .annotate(last=Max("created_at"))
        .values_list("assignee", "last")
    )
    last_given = dict(latest)
    ordered = sorted(
        members, key=lambda u: (u.pk in last_given, last_given.get(u.pk) or dt.datetime.min, u.pk)
    )
    return ordered[0] if ordered else None


def due_in(days: int, today: dt.date | None = None) -> dt.date:
    return (today or timezone.localdate()) + dt.timedelta(days=days)


def _check_account(account: Account) -> None:
    # A task is stamped with the current workspace; its account must be of the same one.
    if account.workspace_id != current_workspace_id():
        raise ValidationError({"account": "No such account in this workspace."})


def _check_assignee(user) -> None:
    if user is not None and not is_assignable(user):
        raise ValidationError(
            {"assignee": "Tasks can only be given to admins and CSMs of this workspace."},
            code="not_assignable",
        )


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "A task needs a title."}, code="required")
    if len(title) > Task._meta.get_field("title").max_length:
        raise ValidationError({"title": "Keep the title under 200 characters."}, code="max_length")
    return title


def create_task(
    account: Account,
    title: str,
    description: str = "",
    due_on: dt.date | None = None,
    assignee=None,
    source: str = TaskSource.MANUAL,
    created_by=None,
    *,
    priority: str = TaskPriority.NORMAL,
    source_ref: str | None = None,
) -> Task:
    """Create an open task on `account` in the current workspace.

    Raises ValidationError (keyed by field) for a blank title, an account of another workspace
    or an assignee who is not an admin or CSM here; nothing is saved then.
    """
    title = _check_title(title)
    _check_account(account)
    _check_assignee(assignee)
    if source not in TaskSource.values:
        raise ValidationError({"source": f"Unknown task source {source!r}."})
    if priority not in TaskPriority.values:
        raise ValidationError({"priority": f"Unknown priority {priority!r}."})
    return Task.objects.create(
        account=account,
        title=title,
        description=(description or "").strip(),
        due_on=due_on,
        assignee=assignee,
        priority=priority,
        source=source,
        source_ref=source_ref,
        created_by=created_by,
    )


def complete_task(task: Task, user) -> Task:
    if task.status != TaskStatus.DONE:
        task.status = TaskStatus.DONE
        task.completed_at = timezone.now()
        task.completed_by = user
        task.save(update_fields=["status", "completed_at", "completed_by", "updated_at"])
    return task


def cancel_task(task: Task, user) -> Task:
    """Close a task that no longer needs doing (kept, with who closed it, and can be reopened)."""
    if task.status != TaskStatus.CANCELLED:
        task.status = TaskStatus.CANCELLED
        task.completed_at = timezone.now()
        task.completed_by = user
        task.save(update_fields=["status", "completed_at", "completed_by", "updated_at"])
    return task


def reopen_task(task: Task, user) -> Task:
    if task.status != TaskStatus.OPEN:
        task.status = TaskStatus.OPEN
        task.completed_at = None
        task.completed_by = None
        task.save(update_fields=["status", "completed_at", "completed_by", "updated_at"])
    return task


def reassign_task(task: Task, assignee, by=None) -> Task:
    """Give the task to another admin or CSM of the workspace (None leaves it unassigned)."""
    _check_assignee(assignee)
    if task.assignee_id != getattr(assignee, "pk", None):
        with transaction.atomic():
            previous = task.assignee
            task.assignee = assignee
            task.save(update_fields=["assignee", "updated_at"])
            # The thread keeps who moved it, so the new assignee sees why it landed on them.
            TaskComment.objects.create(
                task=task,
                author=by,
                body=f"Reassigned from {_name(previous)} to {_name(assignee)}.",
            )
    return task


def update_task(task: Task, **changes) -> Task:
    """Edit title, description, due date or priority."""
    allowed = {"title", "description", "due_on", "priority"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"cannot change {sorted(unknown)} here")
    if "title" in changes:
        changes["title"] = _check_title(changes["title"])
    if "priority" in changes and changes["priority"] not in TaskPriority.values:
        raise ValidationError({"priority": "Unknown priority."})
    for name, value in changes.items():
        setattr(task, name, value)
    task.save(update_fields=[*changes, "updated_at"])
    return task


def add_comment(task: Task, author, body: str) -> TaskComment:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a comment first."}, code="required")
    return TaskComment.objects.create(task=task, author=author, body=body)


def tab_counts(user, today: dt.date | None = None) -> dict[str, int]:
    """Counts for the task tabs: the user's open, due today, overdue and done, the workspace's open."""
    today = today or timezone.localdate()
    mine_open = Q(assignee=user, status=TaskStatus.OPEN)
    return Task.objects.aggregate(
        open=Count("pk", filter=mine_open),
        today=Count("pk", filter=mine_open & Q(due_on=today)),
        overdue=Count("pk", filter=mine_open & Q(due_on__lt=today)),
        all=Count("pk", filter=Q(status=TaskStatus.OPEN)),
        done=Count("pk", filter=Q(assignee=user, status__in=CLOSED_STATUSES)),
    )


def _name(user) -> str:
    return user.display_name if user is not None else "nobody"
