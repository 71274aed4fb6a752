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


# --- Playbooks -------------------------------------------------------------------------------


class TriggerKind(models.TextChoices):
    ALERT_OPENED = "alert_opened", "An alert opened"
    BAND_ENTERED = "band_entered", "Health band entered"
    RENEWAL_WITHIN = "renewal_within", "Renewal within N days"
    STAGE_ENTERED = "stage_entered", "Lifecycle stage entered"
    JOINED_LIST = "joined_list", "Account joined a saved list"


class StepKind(models.TextChoices):
    CREATE_TASK = "create_task", "Create a task"
    SEND_EMAIL = "send_email", "Send an email"
    CALL_WEBHOOK = "call_webhook", "Call a webhook"
    SET_STAGE = "set_stage", "Set the lifecycle stage"
    ADD_NOTE = "add_note", "Add a timeline note"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Playbook(TimestampedTenantModel):
    """A trigger and a filter leading to ordered steps, run once per account and occurrence."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    trigger = models.CharField(max_length=20, choices=TriggerKind.choices)
    # Trigger parameters; which one applies depends on `trigger`.
    alert_rule = models.ForeignKey(
        "health.AlertRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Only alerts of this rule; empty means any rule.",
    )
    band = models.CharField(max_length=6, blank=True)
    renewal_days = models.PositiveSmallIntegerField(null=True, blank=True)
    stage = models.ForeignKey(
        "accounts.LifecycleStage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    saved_list = models.ForeignKey(
        "segments.SavedList", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "Joined a list" playbooks: when the list's members were last compared with the recorded ones.
    list_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Filter: only accounts of this tier / stage.
    filter_tier = models.ForeignKey(
        "accounts.Tier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filter_stage = models.ForeignKey(
        "accounts.LifecycleStage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Only accounts in this saved list (a segment); a list in use cannot be deleted.
    filter_list = models.ForeignKey(
        "segments.SavedList", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # At most one run per account within this many days (0: only de-duplication by occurrence).
    frequency_cap_days = models.PositiveSmallIntegerField(default=0)

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["workspace", "trigger", "is_active"], name="playbook_ws_trigger")]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="playbook_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def trigger_text(self) -> str:
        if self.trigger == TriggerKind.ALERT_OPENED:
            return f"Alert opened: {self.alert_rule.name if self.alert_rule else 'any rule'}"
        if self.trigger == TriggerKind.BAND_ENTERED:
            return f"Health entered {self.band or '—'}"
        if self.trigger == TriggerKind.RENEWAL_WITHIN:
            return f"Renewal within {self.renewal_days} days"
        if self.trigger == TriggerKind.STAGE_ENTERED:
            return f"Stage entered: {self.stage or '—'}"
        if self.trigger == TriggerKind.JOINED_LIST:
            return f"Joined list: {self.saved_list or '—'}"
        return self.trigger

    @property
    def filter_text(self) -> str:
        parts = []
        if self.filter_tier:
            parts.append(f"tier {self.filter_tier}")
        if self.filter_stage:
            parts.append(f"stage {self.filter_stage}")
        if self.filter_list_id:
            parts.append(f"list {self.filter_list}")
        return ", ".join(parts) or "all accounts"


class PlaybookStep(TenantModel):
    """One step of a playbook; `config` is validated per kind by `playbooks.steps.validate_config`."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    config = models.JSONField(default=dict, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["workspace", "playbook", "position"], name="pbstep_ws_playbook")]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_kind_display()}"


class PlaybookRun(TenantModel):
    """One execution of a playbook for one account and one trigger occurrence (de-duplicated)."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="runs")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="playbook_runs")
    occurrence = models.CharField(max_length=100)
    # What fired the run (e.g. the alert id), passed to steps such as the webhook payload.
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "playbook", "account", "occurrence"],
                name="playbookrun_unique_occurrence",
            )
        ]
        indexes = [
            # The frequency cap: an account's latest run of a playbook.
            models.Index(fields=["workspace", "playbook", "account", "created_at"], name="pbrun_ws_cap"),
            # The run log, newest first, by status.
            models.Index(fields=["workspace", "created_at"], name="pbrun_ws_created"),
            models.Index(fields=["workspace", "status", "created_at"], name="pbrun_ws_status"),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id} for {self.account_id} ({self.occurrence})"


class StepRun(TenantModel):
    """A step of a run: its status, attempts and a log of every attempt (time, outcome, HTTP
    status, duration)."""

    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="step_runs")
    step = models.ForeignKey(PlaybookStep, null=True, on_delete=models.SET_NULL, related_name="+")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    log = models.JSONField(default=list, blank=True)
    # What the step made, e.g. {"task_id": 12}; a retried step finds it and does not repeat itself.
    result = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["workspace", "run", "position"], name="steprun_ws_run")]

    def __str__(self) -> str:
        return f"step {self.position} of run {self.run_id}: {self.status}"


class PlaybookListMember(TenantModel):
    """An account in the saved list of a "joined a list" playbook, as of the last check: the
    next check starts runs for the accounts that are in the list now and were not then."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="list_members")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "playbook", "account"], name="playbooklistmember_unique"
            ),
        ]


class DigestDelivery(TenantModel):
    """One daily digest email sent to one member: makes the send idempotent (a re-delivered task
    finds the row and sends nothing) and marks where the next digest's "new alerts" begin."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    alerts = models.PositiveIntegerField(default=0)
    tasks = models.PositiveIntegerField(default=0)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user", "day"], name="digestdelivery_one_per_day"),
        ]
