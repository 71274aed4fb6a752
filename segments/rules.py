"""The automatic tier and lifecycle-stage rules, applied to every account of a workspace at once.

- **Tier by MRR**: an account gets the tier with the highest `Tier.mrr_from` its MRR reaches
  (one statement per tier).
- **Onboarding → adoption** after N days live (since the contract started) with at least X active
  users (contacts with product events) in the last 30 days.
- **Adoption → established** after N days green: a green score on each of the last N days, and no
  stage change in that time (the N days are spent in adoption).
- **Adoption or established → advocate** on an NPS promoter (9–10) in the last D days while green.

Active accounts only; an account whose tier or stage a person set (`tier_overridden`,
`stage_overridden`) is left alone. Stage rules are applied last step first, so one run moves an
account by one step at most. Every change goes through `accounts.changes.set_field` (source
"rule"): per rule one read, one UPDATE and one bulk insert of history, never a query per account.
Rules live here, beside health, because "days green" reads the health score history.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.changes import set_field
from accounts.models import (
    Account,
    AccountChange,
    AccountStatus,
    ChangeField,
    ChangeSource,
    DailyUsage,
    LifecycleStage,
    NPSResponse,
    StageRules,
    Tier,
)
from health.models import HealthScore

ACTIVE_USER_WINDOW_DAYS = 30
PROMOTER_MIN_SCORE = 9


def apply_rules(today: dt.date | None = None) -> dict[str, int]:
    """Apply every rule in the current workspace; returns the number of accounts each one moved."""
    today = today or timezone.localdate()
    rules = StageRules.for_workspace()
    active = Account.objects.filter(status=AccountStatus.ACTIVE)
    moved: dict[str, int] = {}
    if rules.tiers_by_mrr:
        moved["tier"] = assign_tiers(active.filter(tier_overridden=False))
    stages = {s.key: s for s in LifecycleStage.objects.filter(key__in=STAGE_KEYS)}
    automatic = active.filter(stage_overridden=False)
    for key, rule in (("advocate", to_advocate), ("established", to_established), ("adoption", to_adoption)):
        found = rule(automatic, stages, rules, today)
        if found is None:
            continue
        accounts, reason = found
        moved[key] = set_field(
            accounts, ChangeField.STAGE, stages[key], source=ChangeSource.RULE, reason=reason
        )
    return moved


STAGE_KEYS = ("onboarding", "adoption", "established", "advocate")


def assign_tiers(accounts) -> int:
    tiers = list(Tier.objects.filter(mrr_from__isnull=False).order_by("-mrr_from"))
    changed = 0
    upper = None
    for tier in tiers:
        in_range = accounts.filter(mrr__gte=tier.mrr_from)
        if upper is not None:
            in_range = in_range.filter(mrr__lt=upper)
        reason = f"MRR from {tier.mrr_from:,.0f}" + (f" to under {upper:,.0f}" if upper is not None else "")
        changed += set_field(in_range, ChangeField.TIER, tier, source=ChangeSource.RULE, reason=reason)
        upper = tier.mrr_from
    return changed


def to_adoption(accounts, stages, rules: StageRules, today: dt.date):
    if "onboarding" not in stages or "adoption" not in stages:
        return None
    since = today - dt.timedelta(days=ACTIVE_USER_WINDOW_DAYS)
    users = (
        DailyUsage.objects.filter(
            account=OuterRef("pk"), contact__isnull=False, events__gt=0, day__gt=since, day__lte=today
        )
        .order_by()
        .values("account")
        .annotate(n=Count("contact", distinct=True))
        .values("n")
    )
    ready = (
        accounts.filter(
            lifecycle_stage=stages["onboarding"],
            contract_start__lte=today - dt.timedelta(days=rules.adoption_after_days),
        )
        .annotate(rule_active_users=Coalesce(Subquery(users, output_field=IntegerField()), 0))
        .filter(rule_active_users__gte=rules.adoption_min_active_users)
    )
    reason = f"{rules.adoption_after_days}+ days live with {rules.adoption_min_active_users}+ active users"
    return ready, reason


def to_established(accounts, stages, rules: StageRules, today: dt.date):
    if "adoption" not in stages or "established" not in stages:
        return None
    days = rules.established_after_green_days
    first_day = today - dt.timedelta(days=days - 1)
    green_days = (
        HealthScore.objects.filter(account=OuterRef("pk"), band="green", day__gte=first_day, day__lte=today)
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    moved_lately = AccountChange.objects.filter(
        account=OuterRef("pk"),
        field=ChangeField.STAGE,
        changed_at__gte=timezone.now() - dt.timedelta(days=days),
    )
    ready = (
        accounts.filter(lifecycle_stage=stages["adoption"], health_band="green")
        .annotate(rule_green_days=Coalesce(Subquery(green_days, output_field=IntegerField()), 0))
        .filter(rule_green_days__gte=days)
        .exclude(Exists(moved_lately))
    )
    return ready, f"green for {days} days in adoption"


def to_advocate(accounts, stages, rules: StageRules, today: dt.date):
    if not rules.advocate_on_promoter or "advocate" not in stages:
        return None
    from_stages = [stages[key] for key in ("adoption", "established") if key in stages]
    if not from_stages:
        return None
    promoter = NPSResponse.objects.filter(
        account=OuterRef("pk"),
        score__gte=PROMOTER_MIN_SCORE,
        responded_at__gte=timezone.now() - dt.timedelta(days=rules.promoter_within_days),
    )
    ready = accounts.filter(lifecycle_stage__in=from_stages, health_band="green").filter(Exists(promoter))
    return ready, f"NPS promoter in the last {rules.promoter_within_days} days while green"
