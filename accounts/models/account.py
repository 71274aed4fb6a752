from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Q

from tenancy.managers import TenantManager, UnscopedManager
from tenancy.models import TimestampedTenantModel

from ..mrr import REVENUE_FIELDS, AccountQuerySet, record_changes


class Tier(TimestampedTenantModel):
    """A workspace-configured service tier (Enterprise, Mid-market, SMB…), ordered by `position`.

    Tiers live here, beside Account, because an account points at one; the rules that assign
    them automatically live in `segments`.
    """

    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    color = models.CharField(max_length=20, default="blue")
    # The automatic tier rule: an account belongs to the tier with the highest `mrr_from` its MRR
    # reaches. A tier without it is never assigned automatically.
    mrr_from = models.DecimalField(
        "MRR from", max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="tier_unique_name")]

    def __str__(self) -> str:
        return self.name


class LifecycleStage(TimestampedTenantModel):
    """A workspace-configured lifecycle stage (trial → onboarding → … → advocate, churned)."""

    name = models.CharField(max_length=60)
    key = models.SlugField(max_length=40, db_index=False)  # indexed by (workspace, key)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="stage_unique_key")]

    def __str__(self) -> str:
        return self.name


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CHURNED = "churned", "Churned"


class HealthBand(models.TextChoices):
    RED = "red", "Red"
    YELLOW = "yellow", "Yellow"
    GREEN = "green", "Green"


class Account(TimestampedTenantModel):
    external_id = models.CharField(max_length=100, null=True, blank=True)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=80, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    plan = models.CharField("plan / product", max_length=80, blank=True)
    mrr = models.DecimalField(
        "MRR", max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    licenses_purchased = models.PositiveIntegerField(null=True, blank=True)
    contract_start = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    churned_at = models.DateField(null=True, blank=True)
    churn_reason = models.CharField(max_length=200, blank=True)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts")
    lifecycle_stage = models.ForeignKey(
        LifecycleStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    csm_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when a person (page, bulk action, API) chose the tier or stage: the automatic rules
    # leave it alone until the override is cleared.
    tier_overridden = models.BooleanField(default=False)
    stage_overridden = models.BooleanField(default=False)
    custom_attributes = models.JSONField(default=dict, blank=True)
    # The current health, denormalised so lists filter and sort on it with an index.
    health_score = models.PositiveSmallIntegerField(null=True, blank=True)
    health_band = models.CharField(max_length=6, choices=HealthBand.choices, blank=True)
    health_computed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current score was set"
    )
    health_coverage = models.FloatField(
        null=True, blank=True, help_text="Share of the score's weight that had data"
    )
    # Set whenever an input of the score changes; the incremental rescore picks these up.
    health_stale = models.BooleanField(default=True)

    objects = TenantManager.from_queryset(AccountQuerySet)()
    all_workspaces = UnscopedManager.from_queryset(AccountQuerySet)()

    class Meta(TimestampedTenantModel.Meta):
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="account_unique_external_id"),
            models.CheckConstraint(condition=Q(mrr__gte=0), name="account_mrr_not_negative"),
        ]
        indexes = [
            models.Index(fields=["workspace", "name", "id"], name="account_ws_name"),
            models.Index(fields=["workspace", "mrr"], name="account_ws_mrr"),
            models.Index(fields=["workspace", "renewal_date"], name="account_ws_renewal"),
            models.Index(fields=["workspace", "health_score"], name="account_ws_health"),
            models.Index(fields=["workspace", "csm_owner"], name="account_ws_csm"),
            models.Index(fields=["workspace", "status"], name="account_ws_status"),
            # The list page's usual filters (active, a band, a tier): its count is read from the index alone.
            models.Index(
                fields=["workspace", "status", "health_band", "tier"], name="account_ws_status_band_tier"
            ),
            models.Index(fields=["workspace", "updated_at"], name="account_ws_updated"),
            models.Index(
                fields=["workspace", "health_stale"], name="account_ws_stale", condition=Q(health_stale=True)
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Every MRR or status change, by whatever path, becomes an MRRMovement (accounts/mrr.py).
        # The state before is read from the database (locked), not from this instance, which may
        # be stale.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not REVENUE_FIELDS & set(update_fields):
            return super().save(*args, **kwargs)
        adding = self._state.adding
        with transaction.atomic():
            before = None
            if not adding:
                before = (
                    Account.all_workspaces.select_for_update()
                    .filter(pk=self.pk)
                    .values_list("mrr", "status")
                    .first()
                )
            super().save(*args, **kwargs)
            after = self if update_fields is None else Account.all_workspaces.get(pk=self.pk)
            record_changes([(after, before)])

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12

    @property
    def is_churned(self) -> bool:
        return self.status == AccountStatus.CHURNED
