"""The partner resources. Each is declarative: a serializer, a model, a writer and its lookup.

Records name other records by partner id (`account_external_id`, `contact_external_id`); the
writer resolves those inside the caller's workspace only, so another workspace's id reads as
"does not exist".
"""

from __future__ import annotations

import django_filters
from django.db.models import F
from rest_framework import serializers

from accounts.filters import AccountFilterSet, ContactFilterSet
from accounts.models import (
    Account,
    Contact,
    CSMScore,
    DailyUsage,
    Invoice,
    NPSResponse,
    Ticket,
    Touchpoint,
    UsageEvent,
)
from accounts.models.account import HealthBand

from .base import UpsertByExternalIdViewSet, UpsertViewSet
from .writer import AccountWriter, DailyUsageWriter, StrictSerializerMixin, UsageEventWriter

EXTERNAL_ID = {"required": True, "allow_null": False, "allow_blank": False}


class RecordSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """Base of every resource serializer; references read back from the row they point at."""

    def to_representation(self, instance):
        for name, fk in (("account_external_id", "account"), ("contact_external_id", "contact")):
            if name in self.fields and not hasattr(instance, name):
                related_id = getattr(instance, f"{fk}_id", None)
                setattr(instance, name, getattr(instance, fk).external_id if related_id else None)
        return super().to_representation(instance)


def account_ref():
    return serializers.CharField(max_length=100, help_text="The account's external_id.")


def contact_ref():
    return serializers.CharField(
        max_length=100, required=False, allow_null=True, help_text="The contact's external_id (optional)."
    )


class ByAccountFilterSet(django_filters.FilterSet):
    account_external_id = django_filters.CharFilter(field_name="account__external_id")


def by_account_filterset(model_class):
    meta = type("Meta", (), {"model": model_class, "fields": []})
    return type(f"{model_class.__name__}ApiFilterSet", (ByAccountFilterSet,), {"Meta": meta})


# --- accounts ---------------------------------------------------------------------------------
class StageKeyField(serializers.CharField):
    def to_representation(self, value):
        return value.key


class AccountSerializer(RecordSerializer):
    tier = serializers.CharField(
        max_length=60,
        required=False,
        allow_null=True,
        help_text="The tier's name. Setting it overrides the automatic tier rule for this account.",
    )
    lifecycle_stage = StageKeyField(
        max_length=40,
        required=False,
        allow_null=True,
        help_text="The lifecycle stage's key. Setting it overrides the automatic stage rules for this account.",
    )
    csm_owner_email = serializers.EmailField(
        source="csm_owner.email", default=None, read_only=True, allow_null=True
    )
    health_band = serializers.ChoiceField(
        choices=HealthBand.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty until the account has been scored.",
    )

    class Meta:
        model = Account
        fields = [
            "external_id",
            "name",
            "domain",
            "industry",
            "employee_count",
            "plan",
            "mrr",
            "licenses_purchased",
            "contract_start",
            "renewal_date",
            "status",
            "churned_at",
            "churn_reason",
            "custom_attributes",
            "tier",
            "lifecycle_stage",
            "csm_owner_email",
            "health_score",
            "health_band",
            "health_computed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["health_score", "health_band", "health_computed_at", "created_at", "updated_at"]
        extra_kwargs = {"external_id": EXTERNAL_ID}


class AccountApiFilterSet(AccountFilterSet):
    mine = None  # "my accounts" means nothing to an API key


class AccountViewSet(UpsertByExternalIdViewSet):
    model = Account
    serializer_class = AccountSerializer
    filterset_class = AccountApiFilterSet
    writer_class = AccountWriter

    def get_queryset(self):
        return super().get_queryset().select_related("tier", "lifecycle_stage", "csm_owner")


# --- contacts ---------------------------------------------------------------------------------
class ContactSerializer(RecordSerializer):
    account_external_id = account_ref()

    class Meta:
        model = Contact
        fields = [
            "external_id",
            "account_external_id",
            "email",
            "name",
            "title",
            "is_champion",
            "is_executive",
            "is_decision_maker",
            "is_active",
            "last_seen_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"external_id": EXTERNAL_ID}


class AccountReferencesMixin:
    """Rows that belong to an account (and maybe a contact), named by their partner ids."""

    references = {"account_external_id": "account", "contact_external_id": "contact"}

    def get_queryset(self):
        qs = super().get_queryset().annotate(account_external_id=F("account__external_id"))
        if any(f.name == "contact" for f in self.model._meta.concrete_fields):
            qs = qs.annotate(contact_external_id=F("contact__external_id"))
        return qs

    def get_writer(self):
        writer = super().get_writer()
        writer.references = {k: v for k, v in self.references.items() if k in self.serializer_class().fields}
        return writer


class AccountChildViewSet(AccountReferencesMixin, UpsertByExternalIdViewSet):
    pass


class ContactViewSet(AccountChildViewSet):
    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet


# --- billing, support, relationship -----------------------------------------------------------
class InvoiceSerializer(RecordSerializer):
    account_external_id = account_ref()

    class Meta:
        model = Invoice
        fields = [
            "external_id",
            "account_external_id",
            "number",
            "amount",
            "issued_on",
            "due_on",
            "paid_on",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"external_id": EXTERNAL_ID}

    def validate(self, attrs):
        if attrs["due_on"] < attrs["issued_on"]:
            raise serializers.ValidationError({"due_on": ["Must not be before issued_on."]})
        return attrs


class InvoiceViewSet(AccountChildViewSet):
    model = Invoice
    serializer_class = InvoiceSerializer
    filterset_class = by_account_filterset(Invoice)


class TicketSerializer(RecordSerializer):
    account_external_id = account_ref()
    contact_external_id = contact_ref()

    class Meta:
        model = Ticket
        fields = [
            "external_id",
            "account_external_id",
            "contact_external_id",
            "subject",
            "priority",
            "status",
            "category",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "escalated",
            "csat",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"external_id": EXTERNAL_ID}


class TicketViewSet(AccountChildViewSet):
    model = Ticket
    serializer_class = TicketSerializer
    filterset_class = by_account_filterset(Ticket)


class NPSResponseSerializer(RecordSerializer):
    account_external_id = account_ref()
    contact_external_id = contact_ref()

    class Meta:
        model = NPSResponse
        fields = [
            "external_id",
            "account_external_id",
            "contact_external_id",
            "score",
            "comment",
            "responded_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"external_id": EXTERNAL_ID}


class NPSResponseViewSet(AccountChildViewSet):
    model = NPSResponse
    serializer_class = NPSResponseSerializer
    filterset_class = by_account_filterset(NPSResponse)


class TouchpointSerializer(RecordSerializer):
    account_external_id = account_ref()

    class Meta:
        model = Touchpoint
        fields = [
            "external_id",
            "account_external_id",
            "kind",
            "occurred_at",
            "subject",
            "notes",
            "sentiment",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"external_id": EXTERNAL_ID}


class TouchpointViewSet(AccountChildViewSet):
    model = Touchpoint
    serializer_class = TouchpointSerializer
    filterset_class = by_account_filterset(Touchpoint)


class CSMScoreSerializer(RecordSerializer):
    account_external_id = account_ref()

    class Meta:
        model = CSMScore
        fields = [
            "external_id",
            "account_external_id",
            "score",
            "note",
            "scored_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"external_id": EXTERNAL_ID}


class CSMScoreViewSet(AccountChildViewSet):
    model = CSMScore
    serializer_class = CSMScoreSerializer
    filterset_class = by_account_filterset(CSMScore)


# --- usage --------------------------------------------------------------------------------------
class DailyUsageSerializer(RecordSerializer):
    account_external_id = account_ref()
    contact_external_id = contact_ref()

    class Meta:
        model = DailyUsage
        fields = [
            "account_external_id",
            "contact_external_id",
            "feature",
            "day",
            "events",
            "duration_seconds",
        ]


class UsageEventSerializer(RecordSerializer):
    account_external_id = account_ref()
    contact_external_id = contact_ref()

    class Meta:
        model = UsageEvent
        fields = [
            "event_id",
            "account_external_id",
            "contact_external_id",
            "feature",
            "occurred_at",
            "quantity",
            "duration_seconds",
        ]
        extra_kwargs = {"event_id": {"required": False, "allow_null": True, "allow_blank": False}}


class UsageViewSet(AccountReferencesMixin, UpsertViewSet):
    """Usage is addressed by what it measures, not by a partner id: list, POST and bulk only."""

    http_method_names = ["get", "post", "head", "options"]


class DailyUsageViewSet(UsageViewSet):
    model = DailyUsage
    serializer_class = DailyUsageSerializer
    writer_class = DailyUsageWriter
    filterset_class = by_account_filterset(DailyUsage)
    since_field = None


class UsageEventViewSet(UsageViewSet):
    model = UsageEvent
    serializer_class = UsageEventSerializer
    writer_class = UsageEventWriter
    filterset_class = by_account_filterset(UsageEvent)
    since_field = None


RESOURCES = [
    ("accounts", AccountViewSet, "account"),
    ("contacts", ContactViewSet, "contact"),
    ("invoices", InvoiceViewSet, "invoice"),
    ("tickets", TicketViewSet, "ticket"),
    ("nps-responses", NPSResponseViewSet, "nps-response"),
    ("touchpoints", TouchpointViewSet, "touchpoint"),
    ("csm-scores", CSMScoreViewSet, "csm-score"),
    ("daily-usage", DailyUsageViewSet, "daily-usage"),
    ("usage-events", UsageEventViewSet, "usage-event"),
]
