"""The backtest's maths on hand-built observation frames with known answers (no database)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from health import backtest as bt
from health.defaults import DEFAULT_DEFINITION
from health.loading import renewal_as_of
from health.metrics import CATALOG
from health.scorecards import ScorecardSpec


def frame(scores, churned, bands=None, mrr=None, lost=None, as_of="2026-01-01") -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame(
        {
            "as_of": as_of,
            "account_id": np.arange(n),
            "score": np.asarray(scores, dtype="float64"),
            "band": bands if bands is not None else ["yellow"] * n,
            "mrr": mrr if mrr is not None else [100.0] * n,
            "churned": np.asarray(churned, dtype=bool),
            "contracted": False,
            "expanded": False,
            "renewed": False,
            "lost_mrr": lost if lost is not None else [100.0 if c else 0.0 for c in churned],
        }
    )


def test_a_score_that_separates_churners_perfectly_has_auc_one():
    scores = [10, 20, 30, 70, 80, 90]
    churned = [True, True, True, False, False, False]
    assert bt.roc_auc(-np.array(scores), churned) == 1.0
    result = bt.headline(frame(scores, churned))
    assert result["auc"] == 1.0
    # The curve reaches the top left: every churner caught before any account that stayed.
    assert [0.0, 1.0] in result["roc"]
    assert result["roc"][0] == [0.0, 0.0] and result["roc"][-1] == [1.0, 1.0]


def test_a_score_backwards_has_auc_zero_and_ties_count_half():
    assert bt.roc_auc(np.array([1, 2, 3, 4]), [False, False, True, True]) == 1.0
    assert bt.roc_auc(np.array([4, 3, 2, 1]), [False, False, True, True]) == 0.0
    assert bt.roc_auc(np.array([5, 5, 5, 5]), [False, True, False, True]) == 0.5


def test_a_random_score_has_auc_about_one_half():
    rng = np.random.default_rng(7)
    scores = rng.uniform(0, 100, 20_000)
    churned = rng.random(20_000) < 0.1
    auc = bt.headline(frame(scores, churned))["auc"]
    assert abs(auc - 0.5) < 0.02


def test_auc_needs_both_classes():
    assert bt.roc_auc(np.array([1.0, 2.0]), [False, False]) is None
    # The NaN risk is left out, not ranked: the remaining pair is ordered correctly.
    assert bt.roc_auc(np.array([np.nan, 2.0, 3.0]), [False, False, True]) == 1.0
    assert bt.roc_auc(np.array([np.nan, 2.0, 3.0]), [True, False, True]) == 1.0


def test_bands_red_warning_deciles_and_lift():
    # 20 account-dates: 4 red (3 churned), 8 yellow (1 churned), 8 green (none churned).
    scores = [10, 20, 30, 35] + [50 + i for i in range(8)] + [80 + i for i in range(8)]
    bands = ["red"] * 4 + ["yellow"] * 8 + ["green"] * 8
    churned = [True, True, True, False] + [True] + [False] * 7 + [False] * 8
    mrr = [200.0] * 20
    lost = [200.0 if c else 0.0 for c in churned]
    result = bt.headline(frame(scores, churned, bands, mrr, lost))
    by_band = {b["band"]: b for b in result["bands"]}
    assert by_band["red"]["churn_rate"] == 0.75
    assert by_band["yellow"]["churned"] == 1
    assert by_band["green"]["churn_rate"] == 0.0
    assert by_band["red"]["lost_mrr"] == 600.0 and by_band["red"]["lost_share"] == 0.75
    assert result["red"] == {"flagged": 4, "hits": 3, "precision": 0.75, "recall": 0.75}
    assert [d["accounts"] for d in result["deciles"]] == [2] * 10
    assert result["deciles"][0]["churn_rate"] == 1.0  # scores 10 and 20, both churned
    # Lift: 100% in the lowest decile over 4/20 = 20% overall.
    assert result["lift_lowest_decile"] == 5.0
    assert result["churn_rate"] == 0.2


def test_scores_without_enough_data_are_not_ranked():
    scores = [10, 20, 80, 90]
    bands = ["", "red", "green", "green"]
    churned = [False, True, False, False]
    result = bt.headline(frame(scores, churned, bands))
    # The insufficient account (score 10, stayed) would otherwise spoil a perfect ranking.
    assert result["auc"] == 1.0
    assert result["scored"] == 3
    assert {b["band"] for b in result["bands"]} == {"red", "yellow", "green", "insufficient"}


def test_per_point_reports_each_look_back_date():
    a = frame([10, 90], [True, False], as_of="2026-01-01")
    b = frame([90, 10], [True, False], as_of="2026-02-01")
    points = bt.per_point(pd.concat([a, b], ignore_index=True))
    assert [(p["as_of"], p["auc"]) for p in points] == [("2026-01-01", 1.0), ("2026-02-01", 0.0)]


def synthetic(n: int, churners: int, seed: int = 3) -> pd.DataFrame:
    """Observations where low CSM scores and overdue invoices drive churn; the rest is noise."""
    rng = np.random.default_rng(seed)
    obs = frame(rng.uniform(0, 100, n), np.zeros(n, dtype=bool))
    obs["account_id"] = np.arange(n)
    for key in CATALOG:
        obs[f"raw:{key}"] = rng.normal(50, 10, n)
    csm = rng.integers(1, 6, n).astype(float)
    overdue = rng.exponential(10, n)
    obs["raw:csm_score"] = csm
    obs["raw:overdue_invoice_days"] = overdue
    risk = -1.2 * csm + 0.05 * overdue + rng.normal(0, 0.6, n)
    obs["churned"] = risk >= np.sort(risk)[-churners]
    obs["lost_mrr"] = np.where(obs["churned"], 100.0, 0.0)
    return obs


def test_measure_power_finds_the_metric_that_matters_and_its_direction():
    obs = synthetic(2000, 200)
    rows = {r["metric"]: r for r in bt.measure_power(obs, {"csm_score"})}
    assert rows["csm_score"]["auc"] > 0.85 and rows["csm_score"]["agrees"] is True
    assert rows["csm_score"]["in_scorecard"] is True
    assert abs(rows["nps_score"]["auc"] - 0.5) < 0.1
    # A metric whose data runs against its catalogue direction is reported as such.
    obs["raw:tenure_days"] = -obs["raw:csm_score"]  # higher tenure ⇒ more churn here
    flipped = {r["metric"]: r for r in bt.measure_power(obs)}["tenure_days"]
    assert flipped["agrees"] is False and flipped["auc"] < 0.2 and flipped["power"] > 0.8


def test_too_few_churn_events_suggest_nothing():
    obs = synthetic(500, 19)
    result = bt.suggest(obs, ScorecardSpec.from_dict(DEFAULT_DEFINITION))
    assert result["status"] == "too_few"
    assert "definition" not in result
    assert "Only 19 accounts churned" in result["message"]


def test_suggested_weights_make_a_valid_draft_that_beats_a_random_scorecard():
    obs = synthetic(3000, 150)
    current = ScorecardSpec.from_dict(DEFAULT_DEFINITION)
    result = bt.suggest(obs, current)
    assert result["status"] == "ok"
    spec = ScorecardSpec.from_dict(result["definition"])  # validates: bounds respect directions
    weights = {m.metric: m.weight for m in spec.measures}
    assert max(weights, key=weights.get) == "csm_score"
    assert "overdue_invoice_days" in weights
    csm = next(m for m in spec.measures if m.metric == "csm_score")
    assert csm.best > csm.worst  # higher is better
    overdue = next(m for m in spec.measures if m.metric == "overdue_invoice_days")
    assert overdue.best < overdue.worst  # lower is better
    # The observations' own scores are random: the draft wins on the same folds.
    assert result["cv"]["draft_auc"] > 0.8
    assert abs(result["cv"]["current_auc"] - 0.5) < 0.1
    assert len(result["cv"]["folds"]) == bt.FOLDS
    assert result["draft_backtest"]["auc"] > 0.8
    assert spec.red_below == current.red_below and spec.params == current.params


def test_renewal_dates_are_read_as_of_the_day():
    as_of = dt.date(2025, 6, 1)
    stored = pd.Series(pd.to_datetime(["2026-09-15", "2025-08-01", "2024-03-10", "2028-02-29", None]))
    result = renewal_as_of(stored, as_of)
    # Renewed since (moved a year on), unchanged, passed without update (next anniversary), a leap day.
    assert [d.date() if not pd.isna(d) else None for d in result] == [
        dt.date(2025, 9, 15),
        dt.date(2025, 8, 1),
        dt.date(2026, 3, 10),
        dt.date(2026, 2, 28),
        None,
    ]


@pytest.mark.parametrize("n", [1, 3, 9])
def test_deciles_of_tiny_samples(n):
    deciles = bt.decile_table(frame(list(range(n)), [False] * n))
    assert sum(d["accounts"] for d in deciles) == n
