"""A workspace's settings for the automatic tier and lifecycle-stage rules (applied by
`segments.rules`). Tier ranges are on the tiers themselves (`Tier.mrr_from`)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from tenancy.models import TimestampedTenantModel


class StageRules(TimestampedTenantModel):
    """One row per workspace; `for_workspace()` creates it with the defaults on first use."""

    tiers_by_mrr = models.BooleanField("assign tiers by MRR", default=True)
    adoption_after_days = models.PositiveSmallIntegerField(
        "onboarding → adoption after (days live)",
        default=30,
        validators=[MaxValueValidator(3650)],
        help_text="Days since the contract started.",
    )
    adoption_min_active_users = models.PositiveSmallIntegerField(
        "with at least (active users, last 30 days)", default=3, validators=[MinValueValidator(1)]
    )
    established_after_green_days = models.PositiveSmallIntegerField(
        "adoption → established after (days green)",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Green on every one of the last N days, and in adoption for at least as long.",
    )
    advocate_on_promoter = models.BooleanField("→ advocate on an NPS promoter while green", default=True)
    promoter_within_days = models.PositiveSmallIntegerField(
        "promoter answer within (days)",
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )

    class Meta(TimestampedTenantModel.Meta):
        verbose_name = "tier and stage rules"
        verbose_name_plural = "tier and stage rules"
        constraints = [models.UniqueConstraint(fields=["workspace"], name="stagerules_one_per_workspace")]

    def __str__(self) -> str:
        return "Tier and stage rules"

    @classmethod
    def for_workspace(cls) -> StageRules:
        rules, _ = cls.objects.get_or_create()
        return rules
