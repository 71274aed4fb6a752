"""Tasks (calls to action) for CSMs, created by hand or by playbooks (see `playbooks/ctas.py`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from tenancy.managers import TenantManager, TenantQuerySet, UnscopedManager
from tenancy.models import TenantModel, TimestampedTenantModel


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class TaskPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"


class TaskSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    PLAYBOOK = "playbook", "Playbook"


CLOSED_STATUSES = (TaskStatus.DONE, TaskStatus.CANCELLED)
PRIORITY_RANK = {TaskPriority.HIGH: 0, TaskPriority.NORMAL: 1, TaskPriority.LOW: 2}


class TaskQuerySet(TenantQuerySet):
    def open(self):
        return self.filter(status=TaskStatus.OPEN)

    def due_today(self, today=None):
        return self.open().filter(due_on=today or timezone.localdate())

    def overdue(self, today=None):
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def by_urgency(self):
        """Overdue first (oldest due date first), undated last, high priority before low."""
        rank = models.Case(
            *[models.When(priority=p, then=models.Value(r)) for p, r in PRIORITY_RANK.items()],
            output_field=models.IntegerField(),
        )
        return self.annotate(priority_rank=rank).order_by(
            models.F("due_on").asc(nulls_last=True), "priority_rank", "pk"
        )


class Task(TimestampedTenantModel):
    """Something a CSM should do for an account, with a due date and one assignee."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    priority = models.CharField(max_length=10, choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    due_on = models.DateField("due", null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=TaskSource.choices, default=TaskSource.MANUAL)
    # Which playbook run (and step) made the task; lets a run be traced and not repeat itself.
    source_ref = models.CharField(max_length=100, null=True, blank=True)
    # When and by whom the task was closed (done or cancelled).
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TenantManager.from_queryset(TaskQuerySet)()
    all_workspaces = UnscopedManager.from_queryset(TaskQuerySet)()

    class Meta(TimestampedTenantModel.Meta):
        ordering = [models.F("due_on").asc(nulls_last=True), "pk"]
        indexes = [
            # "My tasks": one assignee's open tasks by due date.
            models.Index(fields=["workspace", "assignee", "status", "due_on"], name="task_ws_assignee"),
            # The account page's panel.
            models.Index(fields=["workspace", "account", "status"], name="task_ws_account"),
            # "All open in workspace" and the overdue count.
            models.Index(fields=["workspace", "status", "due_on"], name="task_ws_status_due"),
            models.Index(fields=["workspace", "source", "source_ref"], name="task_ws_source"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="done", completed_at__isnull=False) | ~Q(status="done"),
                name="task_done_has_completed_at",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    def is_overdue(self, today=None) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < (today or timezone.localdate())

    def is_due_today(self, today=None) -> bool:
        return self.is_open and self.due_on == (today or timezone.localdate())


class TaskComment(TenantModel):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta(TenantModel.Meta):
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["workspace", "task", "created_at"], name="taskcomment_ws_task")]

    def __str__(self) -> str:
        return f"Comment on {self.task_id} by {self.author_id}"
