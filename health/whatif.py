"""What-if preview of a scorecard draft: score today's data with the draft and compare with the
scores the accounts have now, before anything is saved."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.utils import timezone

from accounts.models import Account

from . import engine, metrics
from .loading import load_inputs
from .models import Scorecard
from .recompute import active_scorecards
from .scorecards import ScorecardSpec

BANDS = ("red", "yellow", "green", "")


def preview(scorecard: Scorecard | None, draft: ScorecardSpec, conditions: dict, examples: int = 8) -> dict:
    """Compare `draft` with the current scores of the accounts it would apply to.

    `conditions` are the draft's segment conditions (tier_id, lifecycle_stage_id, plan); accounts
    are assigned as if the draft replaced `scorecard` (or were added, for a new one).
    """
    inputs = load_inputs(timezone.localdate())
    cards = [c.assignment for c in active_scorecards() if scorecard is None or c.id != scorecard.pk]
    draft_id = scorecard.pk if scorecard else -1
    cards.append({"id": draft_id, "priority": conditions.get("priority", 0), **conditions})
    assignment = engine.assign_scorecards(inputs.accounts, cards)
    ids = assignment.index[assignment == draft_id]
    if len(ids) == 0:
        return {"accounts": 0}
    raw = metrics.compute(inputs, draft.metric_keys, draft.params).loc[ids]
    before = inputs.accounts.loc[ids, "health_band"].fillna("")
    result = engine.score(raw, draft, before)
    current = pd.Series(
        dict(Account.objects.filter(pk__in=list(ids)).values_list("pk", "health_score")), dtype="float64"
    ).reindex(ids)
    bins = list(range(0, 101, 10))
    draft_hist = np.histogram(result["score"].dropna().clip(0, 99.999), bins=bins)[0]
    current_hist = np.histogram(current.dropna().clip(0, 99.999), bins=bins)[0]
    peak = max(int(draft_hist.max(initial=0)), int(current_hist.max(initial=0)), 1)
    moves = pd.crosstab(before.replace("", "none"), result["band"].replace("", "none"))
    changed = result["band"] != before
    delta = (result["score"] - current).abs().sort_values(ascending=False)
    names = dict(Account.objects.filter(pk__in=list(delta.index[:examples])).values_list("pk", "name"))
    return {
        "accounts": len(ids),
        "histogram": [
            {
                "range": f"{lo}–{lo + 9}",
                "draft": int(d),
                "current": int(c),
                "draft_pct": d / peak * 100,
                "current_pct": c / peak * 100,
            }
            for lo, d, c in zip(bins[:-1], draft_hist, current_hist, strict=True)
        ],
        "bands_now": {b or "none": int((before == b).sum()) for b in BANDS},
        "bands_draft": {b or "none": int((result["band"] == b).sum()) for b in BANDS},
        "changed_band": int(changed.sum()),
        "moves": {
            f"{a}→{b}": int(moves.loc[a, b])
            for a in moves.index
            for b in moves.columns
            if a != b and moves.loc[a, b]
        },
        "examples": [
            {
                "id": int(pk),
                "name": names.get(pk, pk),
                "current": None if np.isnan(current[pk]) else round(float(current[pk])),
                "draft": None if np.isnan(result.at[pk, "score"]) else round(float(result.at[pk, "score"])),
                "band_now": before[pk],
                "band_draft": result.at[pk, "band"],
            }
            for pk in delta.index[:examples]
            if not np.isnan(delta[pk])
        ],
        "mean_draft": float(result["score"].mean()) if result["score"].notna().any() else None,
        "mean_current": float(current.mean()) if current.notna().any() else None,
    }
