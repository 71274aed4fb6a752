"""The scorecards a new workspace starts with: a default for every account and one for
onboarding accounts, where adoption matters more than history."""

from __future__ import annotations

from django.db import transaction

from accounts.models import LifecycleStage

from .models import Scorecard, ScorecardVersion
from .scorecards import ScorecardSpec


def linear(metric: str, weight: float, worst: float, best: float) -> dict:
    return {"metric": metric, "weight": weight, "mapping": "linear", "worst": worst, "best": best}


def banded(metric: str, weight: float, bands: list[tuple[float, float]]) -> dict:
    return {
        "metric": metric,
        "weight": weight,
        "mapping": "bands",
        "bands": [{"min": m, "points": p} for m, p in bands],
    }


DEFAULT_DEFINITION = {
    "measures": [
        linear("usage_trend", 15, worst=-50, best=10),
        linear("seat_utilisation", 10, worst=10, best=80),
        linear("feature_breadth", 10, worst=20, best=80),
        linear("days_since_activity", 10, worst=30, best=1),
        linear("oldest_open_ticket_days", 5, worst=30, best=3),
        linear("csat_recent", 10, worst=2, best=4.5),
        banded("nps_score", 10, [(0, 0), (7, 60), (9, 100)]),
        linear("csm_score", 10, worst=1, best=5),
        linear("overdue_invoice_days", 10, worst=60, best=0),
        linear("days_since_touchpoint", 5, worst=60, best=7),
        banded("key_contacts_active", 5, [(0, 0), (1, 70), (2, 100)]),
    ],
    "red_below": 50,
    "green_from": 75,
    "hysteresis": 3,
    "min_coverage": 0.5,
    "params": {"csat_n": 5},
}

ONBOARDING_DEFINITION = {
    "measures": [
        linear("seat_utilisation", 25, worst=5, best=60),
        linear("feature_breadth", 20, worst=10, best=60),
        linear("days_since_activity", 15, worst=14, best=1),
        linear("days_since_touchpoint", 15, worst=30, best=3),
        linear("oldest_open_ticket_days", 10, worst=14, best=2),
        banded("key_contacts_active", 15, [(0, 0), (1, 80), (2, 100)]),
    ],
    "red_below": 50,
    "green_from": 75,
    "hysteresis": 3,
    "min_coverage": 0.5,
    "params": {},
}


@transaction.atomic
def save_version(scorecard: Scorecard, definition: dict, user=None, note: str = "") -> ScorecardVersion:
    """Validate and store a new version of a scorecard and make it current."""
    ScorecardSpec.from_dict(definition)
    number = (scorecard.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = ScorecardVersion.objects.create(
        scorecard=scorecard, number=number, definition=definition, created_by=user, note=note
    )
    scorecard.current_version = version
    scorecard.save(update_fields=["current_version", "updated_at"])
    return version


def ensure_default_scorecards() -> None:
    """Create the starting scorecards in the current workspace unless it has any."""
    if Scorecard.objects.exists():
        return
    default = Scorecard.objects.create(name="Default", is_default=True)
    save_version(default, DEFAULT_DEFINITION, note="Starting scorecard")
    onboarding = LifecycleStage.objects.filter(key="onboarding").first()
    if onboarding is not None:
        card = Scorecard.objects.create(name="Onboarding", lifecycle_stage=onboarding)
        save_version(card, ONBOARDING_DEFINITION, note="Starting scorecard for onboarding accounts")
