"""The metric catalogue on hand-built inputs (no database)."""

import datetime as dt
import math

import pandas as pd
import pytest

from health import metrics
from health.inputs import Inputs

AS_OF = dt.date(2026, 6, 30)


def inputs(**frames) -> Inputs:
    accounts = pd.DataFrame(
        {
            "licenses_purchased": [10.0, 20.0, None],
            "tenure_days": [400.0, 30.0, 5.0],
            "days_to_renewal": [10.0, 200.0, 90.0],
        },
        index=pd.Index([1, 2, 3], name="account_id"),
    )
    return Inputs(as_of=AS_OF, accounts=accounts, **frames)


def test_every_metric_is_described():
    for metric in metrics.CATALOG.values():
        assert metric.label and metric.unit and metric.description and metric.group
        assert metric.direction in (metrics.HIGHER, metrics.LOWER)


def test_usage_trend_compares_last_30_days_with_the_monthly_average_before():
    usage = pd.DataFrame({"events_30": [50.0, 300.0], "events_prev_90": [300.0, 300.0]}, index=[1, 2])
    got = metrics.CATALOG["usage_trend"].compute(inputs(usage=usage), {})
    assert got[1] == pytest.approx(-50)
    assert got[2] == pytest.approx(200)
    assert math.isnan(got[3])  # no usage before: no trend


def test_seat_utilisation_and_dau_mau():
    usage = pd.DataFrame({"mau": [5.0, 4.0], "user_days_30": [75.0, 120.0]}, index=[1, 2])
    i = inputs(usage=usage)
    seats = metrics.CATALOG["seat_utilisation"].compute(i, {})
    assert seats.tolist()[:2] == [50, 20] and math.isnan(seats[3])
    stickiness = metrics.CATALOG["dau_mau"].compute(i, {})
    assert stickiness[1] == pytest.approx(50) and stickiness[2] == pytest.approx(100)


def test_feature_breadth_and_key_feature():
    usage = pd.DataFrame(
        {"account_id": [1, 1, 2, 2, 2], "feature": ["a", "b", "a", "c", "d"], "events": [5, 1, 2, 3, 0]}
    )
    i = inputs(feature_usage=usage)
    breadth = metrics.CATALOG["feature_breadth"].compute(i, {})
    assert breadth.tolist() == pytest.approx([200 / 3, 200 / 3, 0])
    key = metrics.CATALOG["key_feature_usage"].compute(i, {"key_feature": "a"})
    assert key.tolist() == [5, 2, 0]
    assert metrics.CATALOG["key_feature_usage"].compute(i, {}).isna().all()


def test_negative_csat_streak_counts_the_latest_run_only():
    csat = pd.DataFrame(
        {
            "account_id": [1, 1, 1, 1, 2, 2],
            "at": pd.to_datetime(
                ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2026-01-01", "2026-02-01"]
            ),
            "csat": [1, 5, 2, 1, 1, 4],
        }
    )
    got = metrics.CATALOG["negative_csat_streak"].compute(inputs(csat=csat), {})
    assert got[1] == 2 and got[2] == 0 and math.isnan(got[3])
    recent = metrics.CATALOG["csat_recent"].compute(inputs(csat=csat), {"csat_n": 2})
    assert recent[1] == pytest.approx(1.5)


def test_nps_latest_and_change():
    nps = pd.DataFrame(
        {
            "account_id": [1, 1, 2],
            "at": pd.to_datetime(["2026-01-01", "2026-05-01", "2026-03-01"]),
            "score": [9, 4, 7],
        }
    )
    i = inputs(nps=nps)
    assert metrics.CATALOG["nps_score"].compute(i, {}).tolist()[:2] == [4, 7]
    change = metrics.CATALOG["nps_change"].compute(i, {})
    assert change[1] == -5 and math.isnan(change[2])


def test_never_touched_counts_from_contract_start():
    touch = pd.DataFrame({"last_touch_days": [3.0]}, index=[2])
    got = metrics.CATALOG["days_since_touchpoint"].compute(inputs(touchpoints=touch), {})
    assert got.tolist() == [400, 3, 5]
