"""Read-only resources: current health and its history, alerts, tasks, tiers and stages.

They are computed or configured inside the platform, so partners read them and never write them.
Lists filter with the same filtersets as the pages (minus the filters that mean "the visitor",
which an API key is not), page by cursor and accept `?updated_since=` like every other list.
"""

from __future__ import annotations

import django_filters
from django.db.models import F
from rest_framework import serializers

from accounts.models import Account, LifecycleStage, Tier
from accounts.models.account import HealthBand
from health.filters import AlertFilterSet
from health.models import Alert, AlertStatus, HealthScore, Severity
from playbooks.filters import TaskFilterSet
from playbooks.models import Task, TaskStatus

from .base import WorkspaceReadOnlyViewSet
from .resources import AccountApiFilterSet, ByAccountFilterSet


class ReadOnlyViewSet(WorkspaceReadOnlyViewSet):
    http_method_names = ["get", "head", "options"]
    lookup_value_regex = "[^/]+"


# --- health -------------------------------------------------------------------------------------
class CurrentHealthSerializer(serializers.ModelSerializer):
    health_band = serializers.ChoiceField(
        choices=HealthBand.choices, allow_blank=True, read_only=True, help_text="Empty until scored."
    )

    class Meta:
        model = Account
        fields = [
            "external_id",
            "name",
            "health_score",
            "health_band",
            "health_coverage",
            "health_computed_at",
        ]
        read_only_fields = fields


class HealthViewSet(ReadOnlyViewSet):
    """Each account's current score and band, as the lists and the dashboard show them."""

    model = Account
    serializer_class = CurrentHealthSerializer
    filterset_class = AccountApiFilterSet
    lookup_field = "external_id"
    # A run rewrites an account's health only when its score, band or coverage changed.
    since_field = "health_computed_at"


class HealthHistoryFilterSet(ByAccountFilterSet):
    band = django_filters.ChoiceFilter(choices=HealthBand.choices)
    day_from = django_filters.DateFilter(field_name="day", lookup_expr="gte", label="On or after this day")
    day_to = django_filters.DateFilter(field_name="day", lookup_expr="lte", label="On or before this day")

    class Meta:
        model = HealthScore
        fields: list[str] = []


class HealthHistorySerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(read_only=True)
    measures = serializers.JSONField(
        read_only=True, help_text="Per metric: raw value, points, weight and contribution to the score."
    )

    class Meta:
        model = HealthScore
        fields = [
            "id",
            "account_external_id",
            "day",
            "score",
            "band",
            "coverage",
            "inputs_used",
            "inputs_total",
            "measures",
            "computed_at",
        ]
        read_only_fields = fields


class HealthHistoryViewSet(ReadOnlyViewSet):
    """One row per account and day, with each measure's contribution (the "why" of a score)."""

    model = HealthScore
    serializer_class = HealthHistorySerializer
    filterset_class = HealthHistoryFilterSet
    since_field = "computed_at"

    def get_queryset(self):
        return super().get_queryset().annotate(account_external_id=F("account__external_id"))


# --- alerts -------------------------------------------------------------------------------------
class AlertApiFilterSet(AlertFilterSet):
    """The alert inbox's filters. Without `status` a partner syncing alerts reads them all
    (the inbox shows only active ones); `status=active` is the inbox's default."""

    mine = None
    csm = None
    account_external_id = django_filters.CharFilter(field_name="account__external_id")

    @property
    def qs(self):
        return django_filters.FilterSet.qs.fget(self)


class AlertSerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(read_only=True)
    rule = serializers.CharField(source="rule.name", read_only=True)
    rule_kind = serializers.CharField(source="rule.kind", read_only=True)
    severity = serializers.ChoiceField(choices=Severity.choices, read_only=True)
    status = serializers.ChoiceField(choices=AlertStatus.choices, read_only=True)
    evidence = serializers.JSONField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "account_external_id",
            "rule",
            "rule_kind",
            "severity",
            "status",
            "summary",
            "evidence",
            "opened_at",
            "last_seen_at",
            "acknowledged_at",
            "snoozed_until",
            "resolved_at",
            "resolution",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AlertViewSet(ReadOnlyViewSet):
    model = Alert
    serializer_class = AlertSerializer
    filterset_class = AlertApiFilterSet

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("rule")
            .annotate(account_external_id=F("account__external_id"))
        )


# --- tasks --------------------------------------------------------------------------------------
class TaskApiFilterSet(TaskFilterSet):
    """The task list's filters. `who` defaults to everyone (a key is nobody's), and without
    `view` every task is listed, open or closed, so a sync sees completions too."""

    account_external_id = django_filters.CharFilter(field_name="account__external_id")

    def by_assignee(self, queryset, name, value: str):
        return queryset  # applied in `qs` (a member id, "all" or "nobody")

    def _data(self) -> dict:
        return self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}

    @property
    def who_value(self) -> str:
        return self._data().get("who") or "all"

    @property
    def qs(self):
        if self._data().get("view"):
            return super().qs
        queryset = django_filters.FilterSet.qs.fget(self)
        who = self.who_value
        if who == "nobody":
            queryset = queryset.filter(assignee__isnull=True)
        elif who not in ("all", ""):
            queryset = queryset.filter(assignee_id=int(who))
        return queryset


class TaskSerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(read_only=True)
    assignee_email = serializers.EmailField(
        source="assignee.email", default=None, read_only=True, allow_null=True
    )
    status = serializers.ChoiceField(choices=TaskStatus.choices, read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "account_external_id",
            "title",
            "description",
            "status",
            "priority",
            "due_on",
            "assignee_email",
            "source",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TaskViewSet(ReadOnlyViewSet):
    model = Task
    serializer_class = TaskSerializer
    filterset_class = TaskApiFilterSet

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("assignee")
            .annotate(account_external_id=F("account__external_id"))
        )


# --- tiers and stages ---------------------------------------------------------------------------
class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["id", "name", "position", "color", "created_at", "updated_at"]
        read_only_fields = fields


class TierViewSet(ReadOnlyViewSet):
    model = Tier
    serializer_class = TierSerializer
    filterset_class = None


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifecycleStage
        fields = ["key", "name", "position", "created_at", "updated_at"]
        read_only_fields = fields


class StageViewSet(ReadOnlyViewSet):
    model = LifecycleStage
    serializer_class = StageSerializer
    filterset_class = None
    lookup_field = "key"


READ_ONLY_RESOURCES = [
    ("health", HealthViewSet, "health"),
    ("health-history", HealthHistoryViewSet, "health-history"),
    ("alerts", AlertViewSet, "alert"),
    ("tasks", TaskViewSet, "task"),
    ("tiers", TierViewSet, "tier"),
    ("stages", StageViewSet, "stage"),
]
