"""The scoring maths, without a database: mappings, weighting, missing data, bands, hysteresis."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from health import engine
from health.scorecards import ScorecardError, ScorecardSpec

SPEC = ScorecardSpec.from_dict(
    {
        "measures": [
            {"metric": "usage_trend", "weight": 3, "mapping": "linear", "worst": -50, "best": 10},
            {"metric": "open_tickets", "weight": 1, "mapping": "linear", "worst": 5, "best": 0},
            {
                "metric": "nps_score",
                "weight": 2,
                "mapping": "bands",
                "bands": [{"min": 0, "points": 0}, {"min": 7, "points": 60}, {"min": 9, "points": 100}],
            },
        ],
        "red_below": 40,
        "green_from": 70,
        "hysteresis": 5,
        "min_coverage": 0.5,
    }
)


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype="float64")


def test_linear_mapping_respects_direction_and_clips():
    measure = SPEC.measures[1]  # open tickets: lower is better
    got = engine.points(pd.Series([0, 2.5, 5, 9, -1]), measure)
    assert got.tolist() == [100, 50, 0, 0, 100]


def test_band_mapping_takes_the_highest_band_reached():
    measure = SPEC.measures[2]
    got = engine.points(pd.Series([0, 6.9, 7, 8, 9, 10, np.nan]), measure)
    assert got.iloc[:6].tolist() == [0, 0, 60, 60, 100, 100]
    assert math.isnan(got.iloc[6])


def test_weighted_score_and_contributions_sum_to_score():
    raw = frame(usage_trend=[10], open_tickets=[5], nps_score=[7])  # points 100, 0, 60
    out = engine.score(raw, SPEC)
    assert out["score"].iloc[0] == pytest.approx((3 * 100 + 1 * 0 + 2 * 60) / 6)
    contributions = out[[c for c in out.columns if c.startswith("contribution:")]].sum(axis=1)
    assert contributions.iloc[0] == pytest.approx(out["score"].iloc[0])


def test_missing_data_reweights_the_rest_and_reports_coverage():
    raw = frame(usage_trend=[10], open_tickets=[0], nps_score=[np.nan])
    out = engine.score(raw, SPEC).iloc[0]
    assert out["score"] == pytest.approx(100)
    assert out["coverage"] == pytest.approx(4 / 6)
    assert (out["inputs_used"], out["inputs_total"]) == (2, 3)
    assert math.isnan(out["contribution:nps_score"])


def test_too_little_coverage_gives_no_band():
    raw = frame(usage_trend=[np.nan], open_tickets=[0], nps_score=[np.nan])  # 1 of 6 weight
    out = engine.score(raw, SPEC).iloc[0]
    assert out["band"] == ""
    assert out["coverage"] == pytest.approx(1 / 6)


def test_nothing_known_gives_no_score():
    out = engine.score(frame(usage_trend=[np.nan], open_tickets=[np.nan], nps_score=[np.nan]), SPEC).iloc[0]
    assert math.isnan(out["score"]) and out["band"] == ""


@pytest.mark.parametrize(
    ("score", "previous", "expected"),
    [
        (39, "", "red"),
        (40, "", "yellow"),
        (70, "", "green"),
        (42, "red", "red"),  # inside the margin above the red border: stays red
        (45, "red", "yellow"),  # passed it by the margin
        (72, "red", "green"),
        (68, "green", "green"),
        (64, "green", "yellow"),
        (38, "yellow", "yellow"),
        (34, "yellow", "red"),
        (74, "yellow", "yellow"),
        (75, "yellow", "green"),
        (20, "green", "red"),
    ],
)
def test_hysteresis(score, previous, expected):
    got = engine.bands(pd.Series([float(score)]), pd.Series([previous], dtype=object), SPEC)
    assert got.iloc[0] == expected


def test_assignment_most_specific_scorecard_wins():
    accounts = pd.DataFrame(
        {"tier_id": [1, 1, 2, 2], "lifecycle_stage_id": [10, 20, 10, 20], "plan": ["a", "a", "a", "b"]},
        index=[101, 102, 103, 104],
    )
    cards = [
        {"id": 1, "tier_id": None, "lifecycle_stage_id": None, "plan": None},  # default
        {"id": 2, "tier_id": 1, "lifecycle_stage_id": None, "plan": None},
        {"id": 3, "tier_id": 1, "lifecycle_stage_id": 20, "plan": None},
        {"id": 4, "tier_id": None, "lifecycle_stage_id": None, "plan": "b"},
    ]
    assert engine.assign_scorecards(accounts, cards).tolist() == [2, 3, 1, 4]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"measures": []}, "measures"),
        ({"measures": [{"metric": "nope", "weight": 1, "worst": 0, "best": 1}]}, "measures/0/metric"),
        ({"measures": [{"metric": "open_tickets", "weight": 0, "worst": 5, "best": 0}]}, "measures/0/weight"),
        ({"measures": [{"metric": "open_tickets", "weight": 1, "worst": 0, "best": 5}]}, "measures/0/best"),
        ({"red_below": 80}, "red_below"),
        ({"hysteresis": 20}, "hysteresis"),
    ],
)
def test_invalid_scorecards_name_the_field(change, field):
    definition = {**SPEC.to_dict(), **change}
    with pytest.raises(ScorecardError) as info:
        ScorecardSpec.from_dict(definition)
    assert info.value.field == field


# --- properties -------------------------------------------------------------------------------
values = st.floats(min_value=-1000, max_value=1000, allow_nan=False)
maybe = st.one_of(st.none(), values)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(maybe, maybe, maybe), min_size=1, max_size=20),
    st.floats(0.1, 100),
    st.floats(0.1, 100),
)
def test_score_stays_within_0_and_100_whatever_the_weights(rows, w1, w2):
    definition = SPEC.to_dict()
    definition["measures"][0]["weight"] = w1
    definition["measures"][1]["weight"] = w2
    spec = ScorecardSpec.from_dict(definition)
    raw = pd.DataFrame(rows, columns=["usage_trend", "open_tickets", "nps_score"], dtype="float64")
    out = engine.score(raw, spec)
    known = out["score"].dropna()
    assert ((known >= 0) & (known <= 100)).all()
    assert ((out["coverage"] >= 0) & (out["coverage"] <= 1 + 1e-9)).all()


@settings(max_examples=200, deadline=None)
@given(st.floats(0.1, 50), st.floats(0.1, 50), st.floats(0.1, 50))
def test_weights_normalise_scaling_them_changes_nothing(w1, w2, w3):
    raw = frame(usage_trend=[-20, 5], open_tickets=[1, 3], nps_score=[8, 2])
    definition = SPEC.to_dict()
    for measure, weight in zip(definition["measures"], (w1, w2, w3), strict=True):
        measure["weight"] = weight
    base = engine.score(raw, ScorecardSpec.from_dict(definition))["score"]
    for measure in definition["measures"]:
        measure["weight"] *= 7.5
    scaled = engine.score(raw, ScorecardSpec.from_dict(definition))["score"]
    assert np.allclose(base, scaled)


@settings(max_examples=200, deadline=None)
@given(values, values, st.floats(0, 50), st.floats(0, 10), st.floats(0, 10))
def test_score_is_monotonic_in_each_measure_direction(trend, other_trend, tickets, nps, delta):
    lo = frame(usage_trend=[min(trend, other_trend)], open_tickets=[tickets], nps_score=[nps])
    hi = frame(usage_trend=[max(trend, other_trend)], open_tickets=[tickets], nps_score=[nps])
    assert engine.score(hi, SPEC)["score"].iloc[0] >= engine.score(lo, SPEC)["score"].iloc[0] - 1e-9
    # open tickets: lower is better, so more tickets never raise the score
    more = frame(usage_trend=[trend], open_tickets=[tickets + delta], nps_score=[nps])
    fewer = frame(usage_trend=[trend], open_tickets=[tickets], nps_score=[nps])
    assert engine.score(more, SPEC)["score"].iloc[0] <= engine.score(fewer, SPEC)["score"].iloc[0] + 1e-9


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["red_below", "green_from"]), st.booleans(), st.lists(st.floats(-4.99, 4.99), min_size=1)
)
def test_noise_inside_the_margin_never_changes_band(border_name, lower_side, wobbles):
    # A score wobbling within the margin around a border keeps whichever adjacent band it had.
    border = getattr(SPEC, border_name)
    below, above = ("red", "yellow") if border_name == "red_below" else ("yellow", "green")
    band = below if lower_side else above
    for wobble in wobbles:
        band_now = engine.bands(pd.Series([border + wobble]), pd.Series([band], dtype=object), SPEC).iloc[0]
        assert band_now == band, (border + wobble, band, band_now)


def test_a_saved_list_is_a_condition_like_the_others():
    accounts = pd.DataFrame(
        {"tier_id": [1, 1, 2], "lifecycle_stage_id": [10, 10, 10], "plan": ["a", "a", "a"]},
        index=[101, 102, 103],
    )
    cards = [
        {"id": 1, "tier_id": None, "lifecycle_stage_id": None, "plan": None},  # default
        {"id": 2, "tier_id": 1, "lifecycle_stage_id": None, "plan": None},
        {"id": 5, "tier_id": None, "lifecycle_stage_id": None, "plan": None, "account_ids": {102, 103}},
        {"id": 6, "tier_id": 1, "lifecycle_stage_id": None, "plan": None, "account_ids": {102}},
    ]
    # 101: tier 1 only; 102: tier 1 and in both lists, the two-condition card wins; 103: list only.
    assert engine.assign_scorecards(accounts, cards).tolist() == [2, 6, 5]
    # An empty list matches nobody (it is not "no condition").
    cards[2]["account_ids"] = set()
    assert engine.assign_scorecards(accounts, cards).tolist() == [2, 6, 1]
