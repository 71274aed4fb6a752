from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, LifecycleStage, Tier
from tenancy.models import TenantModel, TimestampedTenantModel

from .scorecards import ScorecardSpec


class Scorecard(TimestampedTenantModel):
    """Which measures and weights score a segment of accounts. The most specific match wins:
    a scorecard's conditions (tier, stage, plan) that are set must all match; the default has none."""

    name = models.CharField(max_length=100)
    is_default = models.BooleanField(default=False)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    lifecycle_stage = models.ForeignKey(
        LifecycleStage, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    plan = models.CharField("plan / product", max_length=80, blank=True)
    # A segment given as a saved account list; a list in use cannot be deleted.
    saved_list = models.ForeignKey(
        "segments.SavedList", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    priority = models.SmallIntegerField(
        default=0, help_text="Breaks ties between equally specific scorecards."
    )
    is_active = models.BooleanField(default=True)
    current_version = models.ForeignKey(
        "ScorecardVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="scorecard_unique_name"),
            models.UniqueConstraint(
                fields=["workspace"], condition=Q(is_default=True), name="scorecard_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def segment_label(self) -> str:
        parts = [
            f"tier {self.tier}" if self.tier_id else "",
            f"stage {self.lifecycle_stage}" if self.lifecycle_stage_id else "",
            f"plan {self.plan}" if self.plan else "",
            f"list {self.saved_list}" if self.saved_list_id else "",
        ]
        return ", ".join(p for p in parts if p) or "all accounts"

    def as_assignment(self) -> dict:
        return {
            "id": self.pk,
            "tier_id": self.tier_id,
            "lifecycle_stage_id": self.lifecycle_stage_id,
            "plan": self.plan or None,
            "saved_list_id": self.saved_list_id,
            "priority": self.priority,
        }


class ScorecardVersion(TenantModel):
    """An immutable definition of a scorecard; every score records the version that produced it."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        ordering = ["scorecard", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "scorecard", "number"], name="scorecardversion_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scorecard} v{self.number}"

    @property
    def spec(self) -> ScorecardSpec:
        return ScorecardSpec.from_dict(self.definition)


class HealthScore(TenantModel):
    """One account's score on one day, with every measure's raw value, points and contribution."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_scores")
    day = models.DateField()
    score = models.FloatField(null=True)
    band = models.CharField(max_length=6, blank=True)
    coverage = models.FloatField()
    inputs_used = models.PositiveSmallIntegerField()
    inputs_total = models.PositiveSmallIntegerField()
    scorecard_version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="+")
    measures = models.JSONField(help_text="{metric: {raw, points, weight, contribution}}")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "account", "day"], name="healthscore_one_per_day"),
        ]
        indexes = [models.Index(fields=["workspace", "day", "band"], name="healthscore_ws_day_band")]

    def __str__(self) -> str:
        return f"{self.account_id} on {self.day}: {self.score}"


class RunKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    INCREMENTAL = "incremental", "New data"
    MANUAL = "manual", "Manual"
    BACKFILL = "backfill", "Backfill"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (another run held the lock)"


class HealthRun(TenantModel):
    kind = models.CharField(max_length=12, choices=RunKind.choices)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    as_of = models.DateField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    accounts_scored = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["workspace", "started_at"], name="healthrun_ws_started")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}
# Most severe first: the inbox's order, and an index expression so that order needs no sort.
SEVERITY_RANK = models.Case(
    *[models.When(severity=s, then=models.Value(rank)) for s, rank in SEVERITY_ORDER.items()],
    output_field=models.IntegerField(),
)


class AlertRule(TimestampedTenantModel):
    """A churn signal the workspace watches: a rule kind from the catalogue (health/rules.py) with
    its parameters, a severity and an optional segment filter."""

    kind = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    params = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lifecycle_stage = models.ForeignKey(
        LifecycleStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A segment given as a saved account list; a list in use cannot be deleted.
    saved_list = models.ForeignKey(
        "segments.SavedList", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retrigger_days = models.PositiveSmallIntegerField(
        default=7,
        help_text="After an alert of this rule resolves, the same account is not alerted again for this long.",
    )
    is_active = models.BooleanField(default=True)

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="alertrule_unique_name")]

    def __str__(self) -> str:
        return self.name


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"


ACTIVE_ALERT_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)


class Alert(TimestampedTenantModel):
    """One firing of a rule for an account. At most one is active per (account, rule); it carries
    the numbers that fired it and resolves by itself when the condition clears."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="alerts")
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=12, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict)
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snoozed_until = models.DateField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=10, blank=True, help_text="auto (condition cleared) or manual")
    note = models.TextField(blank=True)

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "account", "rule"],
                condition=~Q(status="resolved"),
                name="alert_one_active_per_account_rule",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "opened_at"], name="alert_ws_status"),
            # The inbox: active alerts, most severe first, newest first, 50 at a time.
            models.Index(
                models.F("workspace"),
                SEVERITY_RANK,
                models.F("opened_at").desc(),
                models.F("id").desc(),
                condition=Q(status__in=ACTIVE_ALERT_STATUSES),
                name="alert_inbox_order",
            ),
            models.Index(fields=["workspace", "account", "status"], name="alert_ws_account"),
            models.Index(fields=["workspace", "rule", "resolved_at"], name="alert_ws_rule_resolved"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.account_id}"

    @property
    def is_active(self) -> bool:
        return self.status != AlertStatus.RESOLVED


class HealthDaySummary(TenantModel):
    """Accounts per band on one day, kept by every run so the dashboard's trend reads 90 rows,
    not 90 days of every account's history."""

    day = models.DateField()
    red = models.PositiveIntegerField(default=0)
    yellow = models.PositiveIntegerField(default=0)
    green = models.PositiveIntegerField(default=0)
    insufficient = models.PositiveIntegerField(default=0)
    average_score = models.FloatField(null=True)

    class Meta(TenantModel.Meta):
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "day"], name="healthdaysummary_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.red} red, {self.yellow} yellow, {self.green} green"


class BacktestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class BacktestRun(TimestampedTenantModel):
    """A backtest of a scorecard (a stored version, or a draft definition) against the churn that
    followed each look-back date; computed by a Celery task, results stored as JSON."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="backtests")
    scorecard_version = models.ForeignKey(
        ScorecardVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A draft definition is tested as it is; a version's definition is copied so the run stays
    # readable whatever happens to the version.
    draft = models.BooleanField(default=False)
    definition = models.JSONField()
    as_of_dates = models.JSONField(help_text="Look-back dates T, ISO format, oldest first")
    horizon_days = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=BacktestStatus.choices, default=BacktestStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    results = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["workspace", "scorecard", "status"], name="backtest_ws_card_status"),
            models.Index(fields=["workspace", "updated_at"], name="backtest_ws_updated"),
        ]

    def __str__(self) -> str:
        return f"Backtest of {self.scorecard} ({self.horizon_days} days)"

    @property
    def finished(self) -> bool:
        return self.status in (BacktestStatus.SUCCEEDED, BacktestStatus.FAILED)

    @property
    def version_label(self) -> str:
        if self.draft:
            return "draft"
        return f"v{self.scorecard_version.number}" if self.scorecard_version_id else "deleted version"
