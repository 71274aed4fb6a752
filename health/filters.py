from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model

from accounts.models import Tier

from .models import ACTIVE_ALERT_STATUSES, SEVERITY_RANK, Alert, AlertRule, AlertStatus, Severity


def _rules(request):
    return AlertRule.objects.all()


def _tiers(request):
    return Tier.objects.all()


def _csms(request):
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(memberships__workspace=workspace).order_by("email")


class AlertFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("active", "Open, acknowledged or snoozed"), *AlertStatus.choices],
        method="by_status",
        empty_label=None,
    )
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    rule = django_filters.ModelChoiceFilter(queryset=_rules)
    tier = django_filters.ModelChoiceFilter(queryset=_tiers, field_name="account__tier")
    csm = django_filters.ModelChoiceFilter(queryset=_csms, field_name="account__csm_owner", label="CSM")
    mine = django_filters.BooleanFilter(method="only_mine", label="My accounts")

    class Meta:
        model = Alert
        fields: list[str] = []

    def by_status(self, queryset, name, value):
        if value == "active":
            return queryset.filter(status__in=ACTIVE_ALERT_STATUSES)
        return queryset.filter(status=value)

    def only_mine(self, queryset, name, value):
        if value and self.request is not None:
            return queryset.filter(account__csm_owner=self.request.user)
        return queryset

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status__in=ACTIVE_ALERT_STATUSES)
        return queryset.annotate(severity_rank=SEVERITY_RANK).order_by("severity_rank", "-opened_at", "-pk")
