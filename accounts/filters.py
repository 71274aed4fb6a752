"""The account and contact filtersets shared by list pages (and, later, saved lists, CSV export
and the API)."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from .models import Account, AccountStatus, Contact, LifecycleStage, Tier
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
    sort = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("mrr", "mrr"),
            ("renewal_date", "renewal"),
            ("health_score", "health"),
        ),
        field_labels={"name": "Name", "mrr": "MRR", "renewal_date": "Renewal", "health_score": "Health"},
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
        if value and self.request is not None and self.request.user.is_authenticated:
            return queryset.filter(csm_owner=self.request.user)
        return queryset


class ContactFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    is_champion = django_filters.BooleanFilter(label="Champion")
    is_executive = django_filters.BooleanFilter(label="Executive")
    is_active = django_filters.BooleanFilter(label="Active")
    sort = django_filters.OrderingFilter(
        fields=(("name", "name"), ("account__name", "account"), ("last_seen_at", "last_seen")),
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
