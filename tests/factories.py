"""factory-boy factories for the platform's models.

Tenant factories create through the model's scoped manager (`Model.objects.create`), so they only
work inside `with use_workspace(ws):` and the row gets its workspace from the scope, exactly as
application code does. Building a tenant row outside a scope raises `NoWorkspaceSelected`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import (
    Account,
    Contact,
    CSMScore,
    DailyUsage,
    Invoice,
    LifecycleStage,
    NPSResponse,
    Ticket,
    Tier,
    Touchpoint,
    UsageEvent,
)
from tenancy.models import Membership, Role, User, Workspace

PASSWORD = "correct-horse-battery-staple"


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Sequence(lambda n: f"User {n}")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, email: str, password: str, **kwargs):
        return model_class.objects.create_user(email, password, **kwargs)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.CSM


class TenantFactory(factory.django.DjangoModelFactory):
    """Creates through the scoped manager: the current workspace is stamped on the row."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create(*args, **kwargs)


class TierFactory(TenantFactory):
    class Meta:
        model = Tier

    name = factory.Sequence(lambda n: f"Tier {n}")
    position = factory.Sequence(lambda n: n)


class LifecycleStageFactory(TenantFactory):
    class Meta:
        model = LifecycleStage

    name = factory.Sequence(lambda n: f"Stage {n}")
    key = factory.Sequence(lambda n: f"stage-{n}")
    position = factory.Sequence(lambda n: n)


class AccountFactory(TenantFactory):
    class Meta:
        model = Account

    external_id = factory.Sequence(lambda n: f"acct-{n:05d}")
    name = factory.Sequence(lambda n: f"Account {n:05d}")
    domain = factory.Sequence(lambda n: f"account{n}.example.com")
    plan = "Growth"
    mrr = Decimal("1000.00")
    licenses_purchased = 20
    contract_start = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=200))
    renewal_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=165))


class ContactFactory(TenantFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    external_id = factory.Sequence(lambda n: f"contact-{n:05d}")
    name = factory.Sequence(lambda n: f"Contact {n:05d}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example.com")
    title = "Operations lead"


class InvoiceFactory(TenantFactory):
    class Meta:
        model = Invoice

    account = factory.SubFactory(AccountFactory)
    external_id = factory.Sequence(lambda n: f"inv-{n:05d}")
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    amount = Decimal("1000.00")
    issued_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=40))
    due_on = factory.LazyAttribute(lambda o: o.issued_on + dt.timedelta(days=30))


class TicketFactory(TenantFactory):
    class Meta:
        model = Ticket

    account = factory.SubFactory(AccountFactory)
    external_id = factory.Sequence(lambda n: f"ticket-{n:05d}")
    subject = factory.Sequence(lambda n: f"Ticket subject {n:05d}")
    opened_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))


class NPSResponseFactory(TenantFactory):
    class Meta:
        model = NPSResponse

    account = factory.SubFactory(AccountFactory)
    external_id = factory.Sequence(lambda n: f"nps-{n:05d}")
    score = 8
    comment = factory.Sequence(lambda n: f"NPS comment {n:05d}")
    responded_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10))


class UsageEventFactory(TenantFactory):
    class Meta:
        model = UsageEvent

    account = factory.SubFactory(AccountFactory)
    event_id = factory.Sequence(lambda n: f"evt-{n:06d}")
    feature = "dashboards"
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=2))


class DailyUsageFactory(TenantFactory):
    class Meta:
        model = DailyUsage

    account = factory.SubFactory(AccountFactory)
    feature = "dashboards"
    day = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=1))
    events = 12
    duration_seconds = 600


class TouchpointFactory(TenantFactory):
    class Meta:
        model = Touchpoint

    account = factory.SubFactory(AccountFactory)
    external_id = factory.Sequence(lambda n: f"tp-{n:05d}")
    subject = factory.Sequence(lambda n: f"Touchpoint {n:05d}")
    notes = "Walked through the renewal."
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=5))


class CSMScoreFactory(TenantFactory):
    class Meta:
        model = CSMScore

    account = factory.SubFactory(AccountFactory)
    score = 4
    note = factory.Sequence(lambda n: f"CSM note {n:05d}")
