"""The "why" of a score, for the account page: each measure's raw value, points and contribution,
the trend, and what moved the score since the previous day."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .metrics import CATALOG
from .models import HealthScore

TREND_DAYS = 90


def _label(metric: str) -> str:
    return CATALOG[metric].label if metric in CATALOG else metric


def measure_rows(score: HealthScore) -> list[dict]:
    total_weight = sum(m["weight"] for m in score.measures.values()) or 1
    rows = []
    for metric, m in score.measures.items():
        meta = CATALOG.get(metric)
        rows.append(
            {
                "metric": metric,
                "label": _label(metric),
                "unit": meta.unit if meta else "",
                "description": meta.description if meta else "",
                "group": meta.group if meta else "",
                "raw": m["raw"],
                "points": m["points"],
                "weight_share": m["weight"] / total_weight * 100,
                "contribution": m["contribution"],
                "missing": m["raw"] is None or m["points"] is None,
            }
        )
    return sorted(rows, key=lambda r: (r["missing"], -(r["contribution"] or 0)))


def changes_since(previous: HealthScore | None, latest: HealthScore, limit: int = 4) -> list[dict]:
    """Measures whose contribution moved most between two scores, biggest first."""
    if previous is None:
        return []
    moves = []
    for metric, m in latest.measures.items():
        before = (previous.measures.get(metric) or {}).get("contribution") or 0
        delta = (m.get("contribution") or 0) - before
        if abs(delta) >= 0.5:
            before_raw = (previous.measures.get(metric) or {}).get("raw")
            moves.append(
                {"label": _label(metric), "delta": delta, "raw_before": before_raw, "raw_now": m.get("raw")}
            )
    return sorted(moves, key=lambda x: -abs(x["delta"]))[:limit]


def account_health(account) -> dict:
    since = timezone.localdate() - dt.timedelta(days=TREND_DAYS)
    history = list(
        HealthScore.objects.filter(account=account, day__gte=since)
        .select_related("scorecard_version__scorecard")
        .order_by("day")
    )
    latest = history[-1] if history else None
    previous = history[-2] if len(history) > 1 else None
    return {
        "latest": latest,
        "previous": previous,
        "measures": measure_rows(latest) if latest else [],
        "changes": changes_since(previous, latest) if latest else [],
        "score_delta": (latest.score - previous.score)
        if latest and previous and latest.score is not None and previous.score is not None
        else None,
        "trend": [{"day": h.day.isoformat(), "score": h.score, "band": h.band} for h in history],
    }
