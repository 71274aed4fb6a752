"""Backtesting the health score against churn: pure numpy/pandas, frames in and dicts out.

An *observation* is one account scored as of a look-back date T, with what happened to it in the
horizon (T, T+H]. `health/backtest_loading.py` builds the observation frame from the database
(scores as of T with the engine's `as_of` path, outcomes after T); everything here is maths on
that frame, so it is unit-tested on hand-built frames with known answers.

Observation frame columns: `as_of`, `account_id`, `score`, `band`, `mrr` (MRR at T), `churned`,
`contracted`, `expanded`, `renewed` (booleans over the horizon), `lost_mrr` (revenue lost to churn
and contraction in the horizon, positive), and `raw:<metric>` for every catalogue metric.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
import pandas as pd

from . import engine
from .metrics import CATALOG, Direction
from .scorecards import ScorecardError, ScorecardSpec

MIN_CHURN_EVENTS = 20  # fewer churned accounts than this: no suggestion, the result is noise
ROC_POINTS = 101
BANDS = ("red", "yellow", "green", "")


# --- ranking maths ----------------------------------------------------------------------------
def roc_auc(risk: pd.Series | np.ndarray, positive: pd.Series | np.ndarray) -> float | None:
    """Probability that a random churner has a higher `risk` than a random non-churner (ties
    count half): the Mann–Whitney form of the ROC AUC. None without both classes. NaN risks are
    left out."""
    r = np.asarray(risk, dtype="float64")
    y = np.asarray(positive, dtype=bool)
    keep = ~np.isnan(r)
    r, y = r[keep], y[keep]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = pd.Series(r).rank(method="average").to_numpy()
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(risk: pd.Series | np.ndarray, positive: pd.Series | np.ndarray) -> list[list[float]]:
    """[false positive rate, true positive rate] pairs from the highest risk down, thinned to at
    most ROC_POINTS points (ties move together, so the curve never splits a tie)."""
    r = np.asarray(risk, dtype="float64")
    y = np.asarray(positive, dtype=bool)
    keep = ~np.isnan(r)
    r, y = r[keep], y[keep]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return []
    order = np.argsort(-r, kind="mergesort")
    r, y = r[order], y[order]
    tps, fps = np.cumsum(y), np.cumsum(~y)
    # The last position of each distinct risk value: thresholds between ties.
    last = np.r_[np.flatnonzero(np.diff(r) != 0), len(r) - 1]
    fpr = np.r_[0.0, fps[last] / n_neg]
    tpr = np.r_[0.0, tps[last] / n_pos]
    if len(fpr) > ROC_POINTS:
        pick = np.unique(np.linspace(0, len(fpr) - 1, ROC_POINTS).round().astype(int))
        fpr, tpr = fpr[pick], tpr[pick]
    return [[round(float(a), 4), round(float(b), 4)] for a, b in zip(fpr, tpr, strict=True)]


def _rate(numerator: float, denominator: float) -> float | None:
    return None if not denominator else float(numerator) / float(denominator)


def _num(value: Any, digits: int = 4) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, digits)


# --- the score against churn ------------------------------------------------------------------
def band_table(obs: pd.DataFrame) -> list[dict]:
    """Per band: accounts, churned, churn rate, MRR at T and revenue lost in the horizon."""
    rows = []
    for band in BANDS:
        part = obs[obs["band"] == band]
        if band == "" and part.empty:
            continue
        rows.append(
            {
                "band": band or "insufficient",
                "accounts": len(part),
                "churned": int(part["churned"].sum()),
                "churn_rate": _num(_rate(part["churned"].sum(), len(part))),
                "mrr": _num(part["mrr"].sum(), 2),
                "lost_mrr": _num(part["lost_mrr"].sum(), 2),
                "lost_share": _num(_rate(part["lost_mrr"].sum(), obs["lost_mrr"].sum())),
            }
        )
    return rows


def red_warning(obs: pd.DataFrame) -> dict:
    """'Red' read as a churn warning: precision = churned among red, recall = red among churned."""
    red = obs["band"] == "red"
    churned = obs["churned"].astype(bool)
    hits = int((red & churned).sum())
    return {
        "flagged": int(red.sum()),
        "hits": hits,
        "precision": _num(_rate(hits, red.sum())),
        "recall": _num(_rate(hits, churned.sum())),
    }


def decile_table(obs: pd.DataFrame) -> list[dict]:
    """Score deciles from the lowest score up (decile 1 = the lowest-scoring tenth): the score
    range, accounts, churned and churn rate. Calibration reads down this table."""
    scored = obs[obs["score"].notna()]
    if scored.empty:
        return []
    # Ranks first, so equal scores never straddle an edge and every decile is (nearly) equal-sized.
    ranks = scored["score"].rank(method="first")
    n_bins = min(10, len(scored))
    decile = pd.qcut(ranks, n_bins, labels=False) + 1
    grouped = scored.groupby(decile)
    table = pd.DataFrame(
        {
            "low": grouped["score"].min(),
            "high": grouped["score"].max(),
            "accounts": grouped.size(),
            "churned": grouped["churned"].sum(),
        }
    )
    return [
        {
            "decile": int(d),
            "low": _num(r.low, 1),
            "high": _num(r.high, 1),
            "accounts": int(r.accounts),
            "churned": int(r.churned),
            "churn_rate": _num(_rate(r.churned, r.accounts)),
        }
        for d, r in table.iterrows()
    ]


def ranked(obs: pd.DataFrame) -> pd.DataFrame:
    """The observations whose score the product would show: a score below the scorecard's minimum
    coverage is shown as 'insufficient data', not as a number, so it is not ranked either."""
    return obs[obs["score"].notna() & (obs["band"] != "")]


def headline(obs: pd.DataFrame, with_curve: bool = True) -> dict:
    """Every figure of the score against churn for a set of observations."""
    churned = obs["churned"].astype(bool)
    shown = ranked(obs)
    scored = obs.index.isin(shown.index)
    base_rate = _rate(churned.sum(), len(obs))
    deciles = decile_table(shown)
    lowest = deciles[0]["churn_rate"] if deciles else None
    scored_rate = _rate(shown["churned"].sum(), len(shown))
    risk = -shown["score"]
    shown_churned = shown["churned"].astype(bool)
    return {
        "observations": len(obs),
        "accounts": int(obs["account_id"].nunique()) if "account_id" in obs else len(obs),
        "scored": int(scored.sum()),
        "churn_events": int(churned.sum()),
        "churned_accounts": int(obs.loc[churned, "account_id"].nunique()) if "account_id" in obs else None,
        "churn_rate": _num(base_rate),
        "contracted": int(obs["contracted"].sum()) if "contracted" in obs else None,
        "expanded": int(obs["expanded"].sum()) if "expanded" in obs else None,
        "renewed": int(obs["renewed"].sum()) if "renewed" in obs else None,
        "lost_mrr": _num(obs["lost_mrr"].sum(), 2) if "lost_mrr" in obs else None,
        "auc": _num(roc_auc(risk, shown_churned)),
        "roc": roc_curve(risk, shown_churned) if with_curve else [],
        "bands": band_table(obs),
        "red": red_warning(obs),
        "deciles": deciles,
        "lift_lowest_decile": _num(_rate(lowest, scored_rate)) if lowest is not None else None,
    }


def per_point(obs: pd.DataFrame) -> list[dict]:
    """AUC and churn per look-back date, to see whether the score's power is stable over time."""
    rows = []
    for as_of, part in obs.groupby("as_of", sort=True):
        churned = part["churned"].astype(bool)
        red = red_warning(part)
        shown = ranked(part)
        rows.append(
            {
                "as_of": str(as_of),
                "accounts": len(part),
                "churned": int(churned.sum()),
                "scored": len(shown),
                "auc": _num(roc_auc(-shown["score"], shown["churned"].astype(bool))),
                "red_precision": red["precision"],
                "red_recall": red["recall"],
            }
        )
    return rows


# --- each catalogue metric on its own ---------------------------------------------------------
def measure_power(obs: pd.DataFrame, in_scorecard: set[str] | None = None) -> list[dict]:
    """Univariate AUC of every catalogue metric for churn, and the direction the data shows.

    `auc` is the AUC of the raw value read in its catalogue direction (the worse the value, the
    higher the risk), so above 0.5 means the metric warns as the catalogue expects; `power` is
    max(auc, 1 − auc), how much it separates churners at all, whichever way.
    """
    churned = obs["churned"].astype(bool)
    in_scorecard = in_scorecard or set()
    rows = []
    for key, metric in CATALOG.items():
        column = f"raw:{key}"
        values = obs[column] if column in obs else pd.Series(np.nan, index=obs.index)
        present = values.notna()
        sign = -1.0 if metric.direction is Direction.HIGHER_BETTER else 1.0
        auc = roc_auc(sign * values, churned)
        observed = None
        if auc is not None and auc != 0.5:
            agrees = auc > 0.5
            observed = metric.direction if agrees else _opposite(metric.direction)
        rows.append(
            {
                "metric": key,
                "label": metric.label,
                "group": metric.group,
                "unit": metric.unit,
                "direction": str(metric.direction),
                "observed": None if observed is None else str(observed),
                "agrees": None if observed is None else observed == metric.direction,
                "auc": _num(auc),
                "power": None if auc is None else _num(max(auc, 1 - auc)),
                "coverage": _num(_rate(present.sum(), len(obs))),
                "churned_mean": _num(values[churned].mean(), 3),
                "retained_mean": _num(values[~churned].mean(), 3),
                "in_scorecard": key in in_scorecard,
            }
        )
    return sorted(rows, key=lambda r: -(r["power"] or 0))


def _opposite(direction: Direction) -> Direction:
    return Direction.LOWER_BETTER if direction is Direction.HIGHER_BETTER else Direction.HIGHER_BETTER


# --- suggested weights ------------------------------------------------------------------------
MIN_COVERAGE = 0.2  # a metric with data for fewer observations than this is left out
MAX_FIT_ROWS = 100_000  # retained observations are sampled down to this for fitting (AUC is
# unchanged by sampling one class; every churn event is kept)
CS = (0.01, 0.1, 1.0)  # inverse regularisation strengths tried; the best by inner CV AUC wins
FOLDS = 5


def candidate_metrics(obs: pd.DataFrame) -> list[str]:
    keys = []
    for key in CATALOG:
        column = f"raw:{key}"
        if column not in obs:
            continue
        values = obs[column]
        if values.notna().mean() >= MIN_COVERAGE and values.nunique(dropna=True) > 1:
            keys.append(key)
    return keys


def _fit(frame: pd.DataFrame, keys: list[str], y: np.ndarray, seed: int = 0):
    """Standardised, median-imputed, L2-regularised logistic regression; C picked by AUC in an
    inner 3-fold split. Returns (pipeline, standardised coefficients, medians, scales)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = frame[[f"raw:{k}" for k in keys]].to_numpy(dtype="float64")

    def model(c: float):
        return make_pipeline(
            SimpleImputer(strategy="median"),
            StandardScaler(),
            LogisticRegression(C=c, max_iter=500, class_weight="balanced"),
        )

    best_c, best_auc = CS[-1], -1.0
    if int(y.sum()) >= 6:
        inner = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
        for c in CS:
            auc = float(np.mean(cross_val_score(model(c), X, y, cv=inner, scoring="roc_auc")))
            if auc > best_auc + 1e-9:
                best_c, best_auc = c, auc
    fitted = model(best_c).fit(X, y)
    coefficients = fitted[-1].coef_[0]
    return fitted, dict(zip(keys, coefficients, strict=True)), best_c


def _sample_for_fit(obs: pd.DataFrame, seed: int) -> pd.DataFrame:
    churned = obs["churned"].astype(bool)
    retained = obs[~churned]
    budget = MAX_FIT_ROWS - int(churned.sum())
    if len(retained) > budget > 0:
        retained = retained.sample(budget, random_state=seed)
    return pd.concat([obs[churned], retained])


def draft_from_coefficients(
    obs: pd.DataFrame, coefficients: dict[str, float], current: ScorecardSpec | None
) -> tuple[dict, list[dict]]:
    """A scorecard definition from standardised coefficients (churn is the positive class).

    A metric whose fitted effect runs against its catalogue direction is left out (a scorecard
    only rewards values in the catalogue's better direction), as is one with a negligible effect.
    Linear bounds are the 5th and 95th percentiles, oriented by direction; the weight is the
    risk the metric adds across that span, |β| / σ × (p95 − p5), normalised to 100.
    """
    kept, dropped = {}, []
    biggest = max((abs(b) for b in coefficients.values()), default=0.0)
    for key, beta in coefficients.items():
        metric = CATALOG[key]
        # Churn positive: a negative β means higher values retain, i.e. higher is better.
        fitted_direction = Direction.HIGHER_BETTER if beta < 0 else Direction.LOWER_BETTER
        values = obs[f"raw:{key}"].dropna()
        if biggest == 0 or abs(beta) < 0.05 * biggest:
            dropped.append({"metric": key, "label": metric.label, "reason": "negligible effect"})
            continue
        if fitted_direction is not metric.direction:
            dropped.append(
                {
                    "metric": key,
                    "label": metric.label,
                    "reason": "effect runs against the catalogue direction",
                }
            )
            continue
        p5, p95 = float(values.quantile(0.05)), float(values.quantile(0.95))
        if p95 <= p5:
            p5, p95 = float(values.min()), float(values.max())
        if p95 <= p5:
            dropped.append({"metric": key, "label": metric.label, "reason": "no spread in the data"})
            continue
        sigma = float(values.std()) or 1.0
        strength = abs(beta) / sigma * (p95 - p5)
        worst, best = (p5, p95) if metric.direction is Direction.HIGHER_BETTER else (p95, p5)
        kept[key] = {"strength": strength, "worst": _round_bound(worst), "best": _round_bound(best)}
    for key, item in list(kept.items()):
        if item["worst"] == item["best"]:
            del kept[key]
            dropped.append({"metric": key, "label": CATALOG[key].label, "reason": "no spread in the data"})
    total = sum(item["strength"] for item in kept.values())
    measures = [
        {
            "metric": key,
            "weight": max(0.1, round(item["strength"] / total * 100, 1)),
            "mapping": "linear",
            "worst": item["worst"],
            "best": item["best"],
        }
        for key, item in sorted(kept.items(), key=lambda kv: -kv[1]["strength"])
    ]
    base = current.to_dict() if current is not None else {}
    definition = {
        "measures": measures,
        "red_below": base.get("red_below", 40.0),
        "green_from": base.get("green_from", 70.0),
        "hysteresis": base.get("hysteresis", 3.0),
        "min_coverage": base.get("min_coverage", 0.5),
        "params": dict(base.get("params") or {}),
    }
    return definition, dropped


def _round_bound(value: float) -> float:
    if value == 0 or math.isnan(value):
        return 0.0
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return round(value, digits)


def score_with(obs: pd.DataFrame, spec: ScorecardSpec) -> pd.DataFrame:
    """Scores (no hysteresis: no previous band) of the observations under another scorecard."""
    raw = pd.DataFrame({k: obs[f"raw:{k}"] for k in spec.metric_keys}, index=obs.index)
    return engine.score(raw, spec)


def suggest(obs: pd.DataFrame, current: ScorecardSpec | None, seed: int = 0) -> dict:
    """Suggested weights as a draft scorecard, with its cross-validated AUC beside the current
    scorecard's on the same folds (folds split by account, so one account's observations at
    several dates are never on both sides)."""
    from sklearn.model_selection import StratifiedGroupKFold

    churned = obs["churned"].astype(bool)
    events = int(obs.loc[churned, "account_id"].nunique())
    if events < MIN_CHURN_EVENTS:
        return {
            "status": "too_few",
            "churned_accounts": events,
            "message": (
                f"Only {events} account{'s' if events != 1 else ''} churned in the backtest's horizons; "
                f"at least {MIN_CHURN_EVENTS} are needed before weights fitted to them mean anything. "
                "No weights are suggested: widen the horizon or add look-back dates."
            ),
        }
    keys = candidate_metrics(obs)
    if not keys:
        return {"status": "no_data", "churned_accounts": events, "message": "No metric has enough data."}
    sample = _sample_for_fit(obs, seed).reset_index(drop=True)
    y = sample["churned"].astype(bool).to_numpy()
    folds = StratifiedGroupKFold(n_splits=min(FOLDS, events), shuffle=True, random_state=seed)
    per_fold = []
    for number, (train, test) in enumerate(folds.split(sample, y, groups=sample["account_id"]), 1):
        part_train, part_test = sample.iloc[train], sample.iloc[test]
        _, coefficients, _ = _fit(part_train, keys, y[train], seed)
        definition, _ = draft_from_coefficients(part_train, coefficients, current)
        # Both scorecards are judged on the same held-out observations: those the current
        # scorecard gives a score the product would show (as in the headline AUC).
        part_test = ranked(part_test)
        test_y = part_test["churned"].astype(bool).to_numpy()
        draft_auc = None
        with contextlib.suppress(ScorecardError):
            draft_auc = roc_auc(-score_with(part_test, ScorecardSpec.from_dict(definition))["score"], test_y)
        current_auc = roc_auc(-part_test["score"], test_y)
        per_fold.append(
            {
                "fold": number,
                "observations": len(part_test),
                "churn_events": int(test_y.sum()),
                "draft_auc": _num(draft_auc),
                "current_auc": _num(current_auc),
            }
        )
    _, coefficients, c = _fit(sample, keys, y, seed)
    definition, dropped = draft_from_coefficients(sample, coefficients, current)
    try:
        spec = ScorecardSpec.from_dict(definition)
    except ScorecardError as error:
        return {
            "status": "failed",
            "churned_accounts": events,
            "message": f"The fitted draft is invalid: {error}",
        }

    def mean(key: str) -> float | None:
        values = [f[key] for f in per_fold if f[key] is not None]
        return _num(np.mean(values)) if values else None

    draft_scores = score_with(obs, spec)
    draft_obs = obs.assign(score=draft_scores["score"], band=draft_scores["band"])
    return {
        "status": "ok",
        "churned_accounts": events,
        "definition": definition,
        "coefficients": {k: _num(v) for k, v in coefficients.items()},
        "regularisation_c": c,
        "dropped": dropped,
        "cv": {
            "folds": per_fold,
            "draft_auc": mean("draft_auc"),
            "current_auc": mean("current_auc"),
        },
        "draft_backtest": headline(draft_obs),
    }


def summarise(obs: pd.DataFrame, spec: ScorecardSpec, with_suggestion: bool = True) -> dict:
    """Everything a backtest run stores: pooled figures, per date, per measure, the suggestion."""
    if obs.empty:
        return {"empty": True, "message": "No account was a customer at any of the look-back dates."}
    result = {
        "pooled": headline(obs),
        "points": per_point(obs),
        "measures": measure_power(obs, set(spec.metric_keys)),
    }
    if with_suggestion:
        result["suggestion"] = suggest(obs, spec)
    return result
