"""The metric catalogue: every input a scorecard can weigh.

Each metric is computed for all accounts of a workspace at once from an `Inputs` (per-account
aggregates, as of a date) with pandas; NaN means "no data" and the scorecard re-weights around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from .inputs import Inputs


class Direction(StrEnum):
    HIGHER_BETTER = "higher_better"
    LOWER_BETTER = "lower_better"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    direction: Direction
    group: str
    description: str
    compute: Callable[[Inputs, dict[str, Any]], pd.Series]


CATALOG: dict[str, Metric] = {}
HIGHER, LOWER = Direction.HIGHER_BETTER, Direction.LOWER_BETTER


def metric(key: str, label: str, unit: str, direction: Direction, group: str, description: str):
    def register(fn: Callable[[Inputs, dict[str, Any]], pd.Series]):
        CATALOG[key] = Metric(key, label, unit, direction, group, description, fn)
        return fn

    return register


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator / denominator.where(denominator > 0)


# --- usage ----------------------------------------------------------------------------------
@metric(
    "usage_trend",
    "Usage trend",
    "%",
    HIGHER,
    "usage",
    "Events in the last 30 days vs. the 30-day average of the 90 days before.",
)
def usage_trend(i: Inputs, p: dict) -> pd.Series:
    recent = i.column(i.usage, "events_30", 0)
    before = i.column(i.usage, "events_prev_90", 0) / 3
    return (_ratio(recent, before) - 1) * 100


@metric(
    "monthly_active_users",
    "Monthly active users",
    "users",
    HIGHER,
    "usage",
    "Distinct contacts active in the last 30 days.",
)
def monthly_active_users(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.usage, "mau", 0)


@metric(
    "dau_mau",
    "DAU/MAU",
    "%",
    HIGHER,
    "usage",
    "Average daily active users over monthly active users (stickiness), last 30 days.",
)
def dau_mau(i: Inputs, p: dict) -> pd.Series:
    daily = i.column(i.usage, "user_days_30", 0) / 30
    return _ratio(daily, i.column(i.usage, "mau", 0)) * 100


@metric(
    "seat_utilisation",
    "Seats used",
    "%",
    HIGHER,
    "usage",
    "Monthly active users as a share of licences purchased.",
)
def seat_utilisation(i: Inputs, p: dict) -> pd.Series:
    return _ratio(i.column(i.usage, "mau", 0), i.column(i.accounts, "licenses_purchased")) * 100


@metric(
    "feature_breadth",
    "Feature breadth",
    "%",
    HIGHER,
    "usage",
    "Features used in the last 30 days over the features in use across the workspace.",
)
def feature_breadth(i: Inputs, p: dict) -> pd.Series:
    used = i.feature_usage[i.feature_usage["events"] > 0]
    total = i.workspace_features if i.workspace_features is not None else used["feature"].nunique()
    if total == 0:
        return pd.Series(np.nan, index=i.index)
    per_account = used.groupby("account_id")["feature"].nunique()
    return per_account.reindex(i.index).fillna(0).astype("float64") / total * 100


@metric(
    "days_since_activity",
    "Days since last activity",
    "days",
    LOWER,
    "usage",
    "Days since any product usage (181 means none in the last 180 days).",
)
def days_since_activity(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.usage, "days_since_active", 181)


@metric(
    "key_feature_usage",
    "Key feature usage",
    "events",
    HIGHER,
    "usage",
    "Events of the scorecard's key feature in the last 30 days.",
)
def key_feature_usage(i: Inputs, p: dict) -> pd.Series:
    feature = p.get("key_feature")
    if not feature:
        return pd.Series(np.nan, index=i.index)
    rows = i.feature_usage[i.feature_usage["feature"] == feature]
    return rows.groupby("account_id")["events"].sum().reindex(i.index).fillna(0).astype("float64")


# --- support --------------------------------------------------------------------------------
@metric("open_tickets", "Open tickets", "tickets", LOWER, "support", "Tickets open or pending now.")
def open_tickets(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.tickets, "open_count", 0)


@metric(
    "oldest_open_ticket_days",
    "Oldest open ticket",
    "days",
    LOWER,
    "support",
    "Age of the oldest open ticket (0 when none is open).",
)
def oldest_open_ticket_days(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.tickets, "oldest_open_days", 0)


@metric(
    "avg_resolution_hours",
    "Average resolution time",
    "hours",
    LOWER,
    "support",
    "Mean hours from opening to resolution of tickets resolved in the last 90 days.",
)
def avg_resolution_hours(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.tickets, "avg_resolution_hours_90")


@metric(
    "escalations_90",
    "Escalations",
    "tickets",
    LOWER,
    "support",
    "Escalated tickets opened in the last 90 days.",
)
def escalations_90(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.tickets, "escalations_90", 0)


def _latest(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    return frame.sort_values(["account_id", "at"]).groupby("account_id").tail(n)


@metric(
    "csat_recent",
    "Recent CSAT",
    "1–5",
    HIGHER,
    "support",
    "Average CSAT of the last N rated tickets (N = csat_n, default 5).",
)
def csat_recent(i: Inputs, p: dict) -> pd.Series:
    recent = _latest(i.csat, int(p.get("csat_n", 5)))
    return recent.groupby("account_id")["csat"].mean().reindex(i.index).astype("float64")


@metric(
    "negative_csat_streak",
    "Negative CSAT streak",
    "ratings",
    LOWER,
    "support",
    "Consecutive most recent CSAT ratings at or below 2 (csat_negative_max).",
)
def negative_csat_streak(i: Inputs, p: dict) -> pd.Series:
    if i.csat.empty:
        return pd.Series(np.nan, index=i.index)
    limit = float(p.get("csat_negative_max", 2))
    frame = i.csat.sort_values(["account_id", "at"], ascending=[True, False]).copy()
    frame["good"] = frame["csat"] > limit
    # Within each account, newest first: count rows before the first good rating.
    frame["seen_good"] = frame.groupby("account_id")["good"].cummax()
    streak = (~frame["seen_good"]).groupby(frame["account_id"]).sum()
    return streak.reindex(i.index).astype("float64")


# --- sentiment ------------------------------------------------------------------------------
@metric(
    "nps_score",
    "Latest NPS",
    "0–10",
    HIGHER,
    "sentiment",
    "The most recent NPS answer from any contact (9–10 promoter, 0–6 detractor).",
)
def nps_score(i: Inputs, p: dict) -> pd.Series:
    return _latest(i.nps, 1).set_index("account_id")["score"].reindex(i.index).astype("float64")


@metric(
    "nps_change", "NPS change", "points", HIGHER, "sentiment", "Latest NPS answer minus the one before it."
)
def nps_change(i: Inputs, p: dict) -> pd.Series:
    last_two = _latest(i.nps, 2)
    grouped = last_two.groupby("account_id")["score"]
    change = grouped.last() - grouped.first()
    change[grouped.count() < 2] = np.nan
    return change.reindex(i.index).astype("float64")


@metric("csm_score", "CSM score", "1–5", HIGHER, "sentiment", "The CSM's latest own assessment.")
def csm_score(i: Inputs, p: dict) -> pd.Series:
    return _latest(i.csm_scores, 1).set_index("account_id")["score"].reindex(i.index).astype("float64")


# --- financial ------------------------------------------------------------------------------
@metric(
    "overdue_invoice_days",
    "Oldest overdue invoice",
    "days",
    LOWER,
    "financial",
    "Days past due of the oldest unpaid invoice (0 when nothing is overdue).",
)
def overdue_invoice_days(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.invoices, "oldest_overdue_days", 0)


@metric(
    "failed_invoices_90",
    "Failed payments",
    "invoices",
    LOWER,
    "financial",
    "Invoices whose payment failed in the last 90 days.",
)
def failed_invoices_90(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.invoices, "failed_90", 0)


@metric("mrr_change_90", "MRR change", "%", HIGHER, "financial", "Change of MRR over the last 90 days.")
def mrr_change_90(i: Inputs, p: dict) -> pd.Series:
    before = i.column(i.revenue, "mrr_90_days_before")
    now = i.column(i.revenue, "mrr_as_of")
    return (_ratio(now, before) - 1) * 100


@metric(
    "days_to_renewal",
    "Days to renewal",
    "days",
    HIGHER,
    "financial",
    "Days until the contract renews; little time left leaves little room to recover.",
)
def days_to_renewal(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.accounts, "days_to_renewal")


# --- relationship ---------------------------------------------------------------------------
@metric(
    "days_since_touchpoint",
    "Days since last touchpoint",
    "days",
    LOWER,
    "relationship",
    "Days since the last call, meeting, email or review with the account.",
)
def days_since_touchpoint(i: Inputs, p: dict) -> pd.Series:
    # Never touched counts from the contract start: silence since day one is the worst case.
    return i.column(i.touchpoints, "last_touch_days").fillna(i.column(i.accounts, "tenure_days"))


@metric(
    "key_contacts_active",
    "Champions and executives",
    "contacts",
    HIGHER,
    "relationship",
    "Active champion or executive contacts.",
)
def key_contacts_active(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.contacts, "key_contacts_active", 0)


@metric("tenure_days", "Tenure", "days", HIGHER, "relationship", "Days since the contract started.")
def tenure_days(i: Inputs, p: dict) -> pd.Series:
    return i.column(i.accounts, "tenure_days")


def compute(inputs: Inputs, keys: list[str], params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Raw values of the given metrics: one row per account, one column per metric."""
    params = params or {}
    return pd.DataFrame({key: CATALOG[key].compute(inputs, params) for key in keys}, index=inputs.index)
