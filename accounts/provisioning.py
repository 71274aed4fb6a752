"""A new workspace's default tiers and lifecycle stages (connected to `workspace_provisioned`)."""

from __future__ import annotations

from decimal import Decimal

from .models import LifecycleStage, StageRules, Tier

# (name, MRR from, colour), highest first: the automatic rule tiers accounts by these ranges.
DEFAULT_TIERS = (("Enterprise", 5000, "purple"), ("Mid-market", 1000, "blue"), ("SMB", 0, "teal"))
DEFAULT_STAGES = (
    ("trial", "Trial"),
    ("onboarding", "Onboarding"),
    ("adoption", "Adoption"),
    ("established", "Established"),
    ("advocate", "Advocate"),
    ("churned", "Churned"),
)


def provision_tiers_and_stages(sender, workspace, **kwargs) -> None:
    """Idempotent: a workspace that already has tiers (or stages) keeps its own."""
    if not Tier.objects.exists():
        Tier.objects.bulk_create(
            Tier(name=name, position=i + 1, color=color, mrr_from=Decimal(start))
            for i, (name, start, color) in enumerate(DEFAULT_TIERS)
        )
    if not LifecycleStage.objects.exists():
        LifecycleStage.objects.bulk_create(
            LifecycleStage(key=key, name=name, position=i + 1) for i, (key, name) in enumerate(DEFAULT_STAGES)
        )
    StageRules.for_workspace()
