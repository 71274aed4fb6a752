"""Portfolio revenue figures from the recorded MRR movements (docs/metrics.md has every formula).

The movements are the ledger: an account's MRR on any date is the sum of its movements up to that
date, so retention over a window is computed, never typed in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from accounts.models import MRRMovement, NPSResponse

ZERO = Decimal("0")


@dataclass
class Retention:
    start: dt.date
    end: dt.date
    starting_mrr: Decimal
    starting_accounts: int
    new: Decimal
    expansion: Decimal
    contraction: Decimal  # negative
    churn: Decimal  # negative
    reactivation: Decimal
    cohort_expansion: Decimal
    cohort_contraction: Decimal
    cohort_churn: Decimal
    churned_accounts: int

    @property
    def nrr(self) -> float | None:
        """Net revenue retention of the accounts paying at the start."""
        if not self.starting_mrr:
            return None
        kept = self.starting_mrr + self.cohort_expansion + self.cohort_contraction + self.cohort_churn
        return float(kept / self.starting_mrr * 100)

    @property
    def grr(self) -> float | None:
        """Gross revenue retention: NRR without expansion, never above 100 %."""
        if not self.starting_mrr:
            return None
        kept = self.starting_mrr + self.cohort_contraction + self.cohort_churn
        return float(min(kept, self.starting_mrr) / self.starting_mrr * 100)

    @property
    def logo_churn_rate(self) -> float | None:
        return self.churned_accounts / self.starting_accounts * 100 if self.starting_accounts else None

    @property
    def revenue_churn_rate(self) -> float | None:
        if not self.starting_mrr:
            return None
        return float(-(self.cohort_contraction + self.cohort_churn) / self.starting_mrr * 100)

    @property
    def waterfall(self) -> list[dict]:
        return [
            {"label": "Start", "value": float(self.starting_mrr)},
            {"label": "New", "value": float(self.new + self.reactivation)},
            {"label": "Expansion", "value": float(self.expansion)},
            {"label": "Contraction", "value": float(self.contraction)},
            {"label": "Churn", "value": float(self.churn)},
        ]


def retention(end: dt.date, days: int = 365, accounts: QuerySet | None = None) -> Retention:
    """Revenue movements over (end - days, end]; `accounts` narrows to a portfolio (my accounts)."""
    start = end - dt.timedelta(days=days)
    movements = MRRMovement.objects.all()
    if accounts is not None:
        movements = movements.filter(account__in=accounts.values("pk"))
    # MRR per account at the start of the window: the sum of its movements up to then.
    at_start = {
        account_id: mrr
        for account_id, mrr in movements.filter(occurred_on__lte=start)
        .values("account_id")
        .annotate(start_mrr=Sum("amount"))
        .values_list("account_id", "start_mrr")
        if mrr > 0
    }
    by_kind: dict[str, Decimal] = {}
    cohort = {"expansion": ZERO, "contraction": ZERO, "churn": ZERO}
    churned: set[int] = set()
    window = movements.filter(occurred_on__gt=start, occurred_on__lte=end)
    for account_id, kind, amount in window.values_list("account_id", "kind", "amount"):
        by_kind[kind] = by_kind.get(kind, ZERO) + amount
        if account_id not in at_start:
            continue  # joined during the window: new revenue, not retention
        if kind in ("expansion", "reactivation"):
            cohort["expansion"] += amount
        elif kind in ("contraction", "churn"):
            cohort[kind] += amount
            if kind == "churn":
                churned.add(account_id)
    return Retention(
        start=start,
        end=end,
        starting_mrr=sum(at_start.values(), ZERO),
        starting_accounts=len(at_start),
        new=by_kind.get("new", ZERO),
        expansion=by_kind.get("expansion", ZERO),
        contraction=by_kind.get("contraction", ZERO),
        churn=by_kind.get("churn", ZERO),
        reactivation=by_kind.get("reactivation", ZERO),
        cohort_expansion=cohort["expansion"],
        cohort_contraction=cohort["contraction"],
        cohort_churn=cohort["churn"],
        churned_accounts=len(churned),
    )


def nps(end: dt.date, days: int = 90, accounts: QuerySet | None = None) -> dict:
    """NPS over the answers of the last `days`: % promoters (9–10) minus % detractors (0–6)."""
    answers = NPSResponse.objects.filter(
        responded_at__date__gt=end - dt.timedelta(days=days), responded_at__date__lte=end
    )
    if accounts is not None:
        answers = answers.filter(account__in=accounts.values("pk"))
    counts = answers.aggregate(
        total=Count("pk"),
        promoters=Count("pk", filter=Q(score__gte=9)),
        detractors=Count("pk", filter=Q(score__lte=6)),
    )
    total = counts["total"]
    if not total:
        return {"total": 0, "score": None}
    promoters, detractors = counts["promoters"] / total * 100, counts["detractors"] / total * 100
    return {
        "total": total,
        "promoters": promoters,
        "passives": 100 - promoters - detractors,
        "detractors": detractors,
        "score": promoters - detractors,
    }
