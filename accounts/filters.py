"""The account and contact filtersets shared by list pages (and, later, saved lists, CSV export
and the API)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import (
    Account,
    AccountStatus,
    Contact,
    DailyUsage,
    Invoice,
    InvoiceStatus,
    LifecycleStage,
    Tier,
    Touchpoint,
)
from .models.account import HealthBand


def _tiers(request):
    return Tier.objects.all()


def _stages(request):
    return LifecycleStage.objects.all()


def _csms(request):
    workspace = getattr(request, "workspace", None)
    users = get_user_model().objects.filter(memberships__workspace=workspace) if workspace else None
    return users.order_by("email") if users is not None else get_user_model().objects.none()


class AccountFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices)
    tier = django_filters.ModelChoiceFilter(queryset=_tiers)
    lifecycle_stage = django_filters.ModelChoiceFilter(queryset=_stages, label="Stage")
    health_band = django_filters.ChoiceFilter(choices=HealthBand.choices, label="Health")
    csm_owner = django_filters.ModelChoiceFilter(queryset=_csms, label="CSM")
    mine = django_filters.BooleanFilter(method="only_mine", label="My accounts")
    stage = django_filters.CharFilter(field_name="lifecycle_stage__key", label="Stage key")
    industry = django_filters.CharFilter(field_name="industry", lookup_expr="iexact")
    plan = django_filters.CharFilter(field_name="plan", lookup_expr="iexact")
    mrr_min = django_filters.NumberFilter(field_name="mrr", lookup_expr="gte", label="MRR at least")
    mrr_max = django_filters.NumberFilter(field_name="mrr", lookup_expr="lte", label="MRR at most")
    health_min = django_filters.NumberFilter(
        field_name="health_score", lookup_expr="gte", label="Health at least"
    )
    health_max = django_filters.NumberFilter(
        field_name="health_score", lookup_expr="lte", label="Health at most"
    )
    customer_since_days = django_filters.NumberFilter(
        method="started_within", label="Customer for at most (days)"
    )
    renewal_within = django_filters.NumberFilter(method="renews_within", label="Renews within (days)")
    churned_within = django_filters.NumberFilter(method="churned_in", label="Churned within (days)")
    no_touchpoint_days = django_filters.NumberFilter(method="untouched_for", label="No touchpoint for (days)")
    unpaid_invoices = django_filters.BooleanFilter(method="with_unpaid", label="Unpaid or failed invoices")
    key_feature = django_filters.CharFilter(method="noop", label="Key feature")
    key_feature_below = django_filters.NumberFilter(
        method="feature_below", label="Key feature events (30 d) below"
    )
    sort = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("mrr", "mrr"),
            ("renewal_date", "renewal"),
            ("health_score", "health"),
            ("tier__position", "tier"),
            ("lifecycle_stage__position", "stage"),
            ("csm_owner__email", "csm"),
            ("contract_start", "contract_start"),
            ("industry", "industry"),
            ("plan", "plan"),
            ("employee_count", "employees"),
            ("created_at", "created"),
        ),
        field_labels={"name": "Name", "mrr": "MRR", "renewal_date": "Renewal", "health_score": "Health"},
        label="Sort",
    )

    class Meta:
        model = Account
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value) | Q(external_id=value))

    def only_mine(self, queryset, name, value):
        # "Assigned to me" is resolved for whoever looks, so one public list serves every CSM.
        if value and self.request is not None and self.request.user.is_authenticated:
            return queryset.filter(csm_owner=self.request.user)
        return queryset

    @staticmethod
    def _days(value) -> int:
        return max(0, min(int(value), 36500))

    def started_within(self, queryset, name, value):
        return queryset.filter(
            contract_start__gte=timezone.localdate() - dt.timedelta(days=self._days(value))
        )

    def renews_within(self, queryset, name, value):
        today = timezone.localdate()
        return queryset.filter(
            renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=self._days(value))
        )

    def churned_in(self, queryset, name, value):
        since = timezone.localdate() - dt.timedelta(days=self._days(value))
        return queryset.filter(status=AccountStatus.CHURNED, churned_at__gte=since)

    def untouched_for(self, queryset, name, value):
        since = timezone.now() - dt.timedelta(days=self._days(value))
        recent = Touchpoint.objects.filter(account=OuterRef("pk"), occurred_at__gte=since)
        return queryset.filter(~Exists(recent))

    def with_unpaid(self, queryset, name, value):
        unpaid = Invoice.objects.filter(account=OuterRef("pk")).filter(
            Q(status=InvoiceStatus.FAILED) | Q(status=InvoiceStatus.OPEN, due_on__lt=timezone.localdate())
        )
        return queryset.filter(Exists(unpaid)) if value else queryset.filter(~Exists(unpaid))

    def noop(self, queryset, name, value):
        return queryset  # read by key_feature_below

    def feature_below(self, queryset, name, value):
        feature = (self.form.cleaned_data.get("key_feature") or "").strip()
        if not feature:
            return queryset
        since = timezone.localdate() - dt.timedelta(days=30)
        events = (
            DailyUsage.objects.filter(account=OuterRef("pk"), feature=feature, day__gt=since)
            .values("account")
            .annotate(total=Sum("events"))
            .values("total")
        )
        return queryset.annotate(key_feature_events=Coalesce(Subquery(events), 0)).filter(
            key_feature_events__lt=value
        )


class ContactFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    is_champion = django_filters.BooleanFilter(label="Champion")
    is_executive = django_filters.BooleanFilter(label="Executive")
    is_active = django_filters.BooleanFilter(label="Active")
    sort = django_filters.OrderingFilter(
        fields=(("name", "name"), ("account__name", "account"), ("last_seen_at", "last_seen")),
        label="Sort",
    )

    class Meta:
        model = Contact
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(account__name__icontains=value)
        )
