"""Read-only: the latest finished backtest of each scorecard, addressed by the scorecard's id.

Authentication, the workspace scope, throttling and the `read` scope come from the API base
viewset like every resource; the queryset comes from the scoped manager, so another workspace's
scorecard id reads as "not found".
"""

from __future__ import annotations

from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound

from health.backtest_loading import latest_runs
from health.models import BacktestRun

from .base import WorkspaceViewSetMixin


class BacktestSerializer(serializers.ModelSerializer):
    scorecard_id = serializers.IntegerField(read_only=True)
    scorecard_name = serializers.CharField(source="scorecard.name", read_only=True)
    scorecard_version = serializers.IntegerField(
        source="scorecard_version.number", default=None, read_only=True, allow_null=True
    )
    as_of_dates = serializers.ListField(
        child=serializers.DateField(), read_only=True, help_text="The look-back dates T, oldest first."
    )
    auc = serializers.FloatField(
        source="results.pooled.auc",
        default=None,
        read_only=True,
        allow_null=True,
        help_text="ROC AUC of the score for churn in (T, T+horizon], all look-back dates pooled.",
    )
    churn_events = serializers.IntegerField(
        source="results.pooled.churn_events", default=None, read_only=True
    )
    results = serializers.JSONField(
        read_only=True,
        help_text="Everything the backtest page shows: pooled figures, per date, per measure, the suggestion "
        "(see docs/backtesting.md).",
    )

    class Meta:
        model = BacktestRun
        fields = [
            "id",
            "scorecard_id",
            "scorecard_name",
            "scorecard_version",
            "as_of_dates",
            "horizon_days",
            "auc",
            "churn_events",
            "created_at",
            "finished_at",
            "results",
        ]
        read_only_fields = fields


class BacktestViewSet(
    WorkspaceViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """`GET /backtests`: the latest finished backtest of each scorecard; `GET /backtests/{scorecard_id}`:
    that scorecard's."""

    model = BacktestRun
    serializer_class = BacktestSerializer
    lookup_field = "scorecard_id"
    # Any segment reaches the view, so a malformed id gets the API's own 404 (problem+json).
    lookup_value_regex = r"[^/]+"
    since_field = "finished_at"
    http_method_names = ["get", "head", "options"]

    def get_object(self):
        value = str(self.kwargs.get(self.lookup_field, ""))
        if not value.isdigit() or len(value) > 9:
            raise NotFound("No backtest of a scorecard with this id.")
        return super().get_object()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BacktestRun.all_workspaces.none()
        return latest_runs().select_related("scorecard", "scorecard_version")
