"""What the metric catalogue reads: per-account aggregates as pandas frames, all as of one date.

`health/loading.py` fills an `Inputs` from the database with a handful of set-based aggregate
queries; tests build one by hand. Every frame is indexed by account id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd


def empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns}).rename_axis("account_id")


@dataclass
class Inputs:
    as_of: dt.date
    # accounts: contract_start, renewal_date, licenses_purchased, mrr, tier_id, lifecycle_stage_id,
    # plan, health_band (the band before this run, for hysteresis)
    accounts: pd.DataFrame
    # usage (180 days up to as_of): events_30, events_prev_90, last_active_day, mau, user_days_30
    usage: pd.DataFrame = field(
        default_factory=lambda: empty(["events_30", "events_prev_90", "mau", "user_days_30"])
    )
    # feature_usage: rows (account_id, feature, events) over the last 30 days
    feature_usage: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"account_id": [], "feature": [], "events": []})
    )
    # tickets: open_count, oldest_open_days, avg_resolution_hours_90, escalations_90
    tickets: pd.DataFrame = field(default_factory=lambda: empty(["open_count"]))
    # csat: rows (account_id, at, csat), rated tickets up to as_of
    csat: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"account_id": [], "at": [], "csat": []}))
    # nps: rows (account_id, at, score)
    nps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"account_id": [], "at": [], "score": []}))
    # csm_scores: rows (account_id, at, score)
    csm_scores: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"account_id": [], "at": [], "score": []})
    )
    # invoices: oldest_overdue_days, failed_90
    invoices: pd.DataFrame = field(default_factory=lambda: empty(["oldest_overdue_days", "failed_90"]))
    # revenue: mrr_as_of, mrr_90_days_before
    revenue: pd.DataFrame = field(default_factory=lambda: empty(["mrr_as_of", "mrr_90_days_before"]))
    # touchpoints: last_touch_day
    touchpoints: pd.DataFrame = field(default_factory=lambda: empty(["last_touch_days"]))
    # distinct features used across the whole workspace in the last 30 days (None: derive it
    # from feature_usage, which is right when that covers every account)
    workspace_features: int | None = None
    # contacts: key_contacts_active (champions and executives active at as_of)
    contacts: pd.DataFrame = field(default_factory=lambda: empty(["key_contacts_active"]))

    @property
    def index(self) -> pd.Index:
        return self.accounts.index

    def column(self, frame: pd.DataFrame, name: str, fill: float | None = None) -> pd.Series:
        """`frame[name]` aligned to every account; accounts absent from `frame` get `fill` (or NaN)."""
        if name in frame.columns:
            series = frame[name].astype("float64").reindex(self.index)
        else:
            series = pd.Series(float("nan"), index=self.index)
        return series if fill is None else series.fillna(fill)
