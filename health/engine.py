"""The scoring engine: pure pandas, frames in and frames out, no ORM.

    raw metric values ──points()──▶ 0–100 per measure ──score()──▶ weighted score, coverage, band

Missing values (NaN) leave their measure out and the other weights renormalise. The band uses
hysteresis: an account leaves its previous band only when the score passes the border by the
scorecard's margin, so a score wobbling around a threshold does not flap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .scorecards import Measure, ScorecardSpec

RED, YELLOW, GREEN = "red", "yellow", "green"


def points(values: pd.Series, measure: Measure) -> pd.Series:
    """Map raw values to 0–100 points; NaN stays NaN."""
    v = values.astype("float64")
    if measure.mapping == "linear":
        span = measure.best - measure.worst
        return ((v - measure.worst) / span).clip(0, 1) * 100
    mins = np.array([b.min for b in measure.bands])
    pts = np.array([b.points for b in measure.bands])
    idx = np.searchsorted(mins, v.to_numpy(), side="right") - 1
    result = pts[np.clip(idx, 0, len(pts) - 1)]
    return pd.Series(np.where(v.isna(), np.nan, result), index=v.index)


def bands(scores: pd.Series, previous: pd.Series, spec: ScorecardSpec) -> pd.Series:
    """Red/yellow/green with hysteresis around the previous band ('' or NaN: no previous band)."""
    s = scores.to_numpy(dtype="float64")
    prev = previous.reindex(scores.index).fillna("").to_numpy(dtype=object)
    lo, hi, m = spec.red_below, spec.green_from, spec.hysteresis
    raw = np.where(s < lo, RED, np.where(s >= hi, GREEN, YELLOW)).astype(object)
    # From red, leave only at lo + m or more; from green, only below hi - m; from yellow, only
    # below lo - m (to red) or at hi + m or more (to green).
    from_red = np.where(s >= lo + m, np.where(s >= hi, GREEN, YELLOW), RED)
    from_green = np.where(s < hi - m, np.where(s < lo, RED, YELLOW), GREEN)
    from_yellow = np.where(s < lo - m, RED, np.where(s >= hi + m, GREEN, YELLOW))
    result = np.select([prev == RED, prev == GREEN, prev == YELLOW], [from_red, from_green, from_yellow], raw)
    result = np.where(np.isnan(s), "", result)
    return pd.Series(result, index=scores.index, dtype=object)


def score(raw: pd.DataFrame, spec: ScorecardSpec, previous_bands: pd.Series | None = None) -> pd.DataFrame:
    """Score every row of `raw` (one column per metric of the scorecard).

    Returns, per account: `score` (0–100, NaN when nothing had data), `band` ('' when coverage is
    too low to be confident), `coverage` (share of the weight that had data), `inputs_used`,
    `inputs_total`, and for every measure `points:<metric>` and `contribution:<metric>` (the
    points it added to the score; contributions sum to the score).
    """
    index = raw.index
    weights = pd.Series({m.metric: m.weight for m in spec.measures}, dtype="float64")
    pts = pd.DataFrame({m.metric: points(raw[m.metric], m) for m in spec.measures}, index=index)
    present = pts.notna()
    used_weight = present.mul(weights, axis=1).sum(axis=1)
    total_weight = weights.sum()
    weighted = pts.fillna(0).mul(weights, axis=1)
    contributions = weighted.div(used_weight.where(used_weight > 0), axis=0)
    total = contributions.sum(axis=1, min_count=1).clip(0, 100)
    coverage = used_weight / total_weight
    previous = previous_bands if previous_bands is not None else pd.Series("", index=index, dtype=object)
    band = bands(total, previous, spec)
    band = band.where(coverage >= spec.min_coverage, "")
    out = pd.DataFrame(
        {
            "score": total,
            "band": band,
            "coverage": coverage,
            "inputs_used": present.sum(axis=1).astype(int),
            "inputs_total": len(spec.measures),
        },
        index=index,
    )
    for metric in weights.index:
        out[f"raw:{metric}"] = raw[metric].astype("float64")
        out[f"points:{metric}"] = pts[metric]
        out[f"contribution:{metric}"] = contributions[metric].where(present[metric])
    return out


def assign_scorecards(accounts: pd.DataFrame, scorecards: list[dict]) -> pd.Series:
    """Which scorecard applies to each account: the most specific match wins.

    `scorecards` items: {"id", "tier_id", "lifecycle_stage_id", "plan", "priority"} where None
    means "any", and optionally "account_ids": the members of the card's saved list (a segment
    condition; None means no list). Specificity is the number of conditions; ties go to the
    higher priority, then the lower id. The default scorecard has no conditions and matches
    everything.
    """
    result = pd.Series(np.nan, index=accounts.index, dtype="float64")
    conditions = ("tier_id", "lifecycle_stage_id", "plan")

    def specificity(card: dict) -> tuple:
        count = sum(card.get(c) not in (None, "") for c in conditions) + (card.get("account_ids") is not None)
        return (-count, -card.get("priority", 0), card["id"])

    for card in sorted(scorecards, key=specificity):
        mask = result.isna()
        for column in conditions:
            wanted = card.get(column)
            if wanted not in (None, ""):
                mask &= accounts[column] == wanted
        if card.get("account_ids") is not None:
            mask &= accounts.index.isin(list(card["account_ids"]))
        result[mask] = card["id"]
    return result
