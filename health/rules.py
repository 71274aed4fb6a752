"""The alert rule catalogue: churn signals evaluated for all accounts of a run at once.

Each rule kind takes the run's frames (`RuleContext`: the inputs the metrics read, the scores and
bands just computed) and its parameters, and returns, per account that fires, the evidence — the
numbers that fired it — and a one-line summary. `health/alerting.py` turns that into alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import metrics
from .inputs import Inputs


@dataclass
class RuleContext:
    inputs: Inputs
    results: pd.DataFrame  # engine output for the accounts of this run: score, band, …
    bands_before: pd.Series  # band each account had before this run
    scores_days_ago: Callable[[int], pd.Series]  # score of each account N days before as_of
    departed_contacts: Callable[[int], pd.DataFrame]  # key contacts deactivated in the last N days

    @property
    def index(self) -> pd.Index:
        return self.results.index


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    default: float
    minimum: float = 0


@dataclass(frozen=True)
class RuleKind:
    key: str
    label: str
    description: str
    params: tuple[Param, ...]
    evaluate: Callable[[RuleContext, dict[str, Any]], pd.DataFrame] = field(repr=False)


CATALOG: dict[str, RuleKind] = {}


def rule(key: str, label: str, description: str, *params: Param):
    def register(fn):
        CATALOG[key] = RuleKind(key, label, description, params, fn)
        return fn

    return register


def fired(mask: pd.Series, summary: pd.Series, **evidence: pd.Series) -> pd.DataFrame:
    """The rows where `mask` holds, with a `summary` and evidence columns."""
    mask = mask.fillna(False).astype(bool)
    frame = pd.DataFrame({"summary": summary, **evidence})
    return frame[mask]


def _metric(ctx: RuleContext, key: str, params: dict | None = None) -> pd.Series:
    return metrics.CATALOG[key].compute(ctx.inputs, params or {}).reindex(ctx.index)


def _fmt(values: pd.Series, digits: int = 0) -> pd.Series:
    return values.round(digits).astype("Int64" if digits == 0 else "float64").astype(str)


@rule(
    "usage_drop", "Usage dropped vs. previous quarter",
    "Product events in the last 90 days fell by at least X % against the 90 days before.",
    Param("percent", "Drop of at least (%)", 30, 1),
)  # fmt: skip
def usage_drop(ctx: RuleContext, p: dict) -> pd.DataFrame:
    quarter = ctx.inputs.column(ctx.inputs.usage, "events_quarter", 0).reindex(ctx.index)
    before = ctx.inputs.column(ctx.inputs.usage, "events_prev_quarter", 0).reindex(ctx.index)
    change = (quarter / before.where(before > 0) - 1) * 100
    summary = "Usage down " + _fmt(-change) + " % vs. the previous quarter"
    return fired(change <= -p["percent"], summary, events_last_quarter=quarter, events_previous_quarter=before,
                 change_percent=change.round(1))  # fmt: skip


@rule(
    "ticket_pending", "Ticket pending too long",
    "A support ticket has been open for more than N days.",
    Param("days", "Open for more than (days)", 14, 1),
)  # fmt: skip
def ticket_pending(ctx: RuleContext, p: dict) -> pd.DataFrame:
    oldest = _metric(ctx, "oldest_open_ticket_days")
    count = _metric(ctx, "open_tickets")
    summary = "Oldest open ticket is " + _fmt(oldest) + " days old"
    return fired(oldest > p["days"], summary, oldest_open_days=oldest.round(0), open_tickets=count)


@rule(
    "invoice_overdue", "Invoice overdue or failed",
    "An invoice is unpaid more than N days past its due date, or a payment failed in the last 90 days.",
    Param("days", "Overdue by more than (days)", 30, 0),
)  # fmt: skip
def invoice_overdue(ctx: RuleContext, p: dict) -> pd.DataFrame:
    overdue = _metric(ctx, "overdue_invoice_days")
    failed = _metric(ctx, "failed_invoices_90")
    summary = np.where(
        overdue > p["days"],
        "Invoice " + _fmt(overdue) + " days overdue",
        "Payment failed " + _fmt(failed) + "× in 90 days",
    )
    return fired((overdue > p["days"]) | (failed > 0), pd.Series(summary, index=ctx.index),
                 oldest_overdue_days=overdue, failed_payments_90_days=failed)  # fmt: skip


@rule(
    "csat_streak", "Run of bad CSAT",
    "The last N rated tickets were all rated at or below a threshold.",
    Param("count", "Consecutive ratings", 3, 1),
    Param("max_rating", "At or below (1–5)", 2, 1),
)  # fmt: skip
def csat_streak(ctx: RuleContext, p: dict) -> pd.DataFrame:
    streak = _metric(ctx, "negative_csat_streak", {"csat_negative_max": p["max_rating"]})
    summary = _fmt(streak) + " bad CSAT ratings in a row"
    return fired(streak >= p["count"], summary, consecutive_bad_ratings=streak)


@rule(
    "nps_detractor", "NPS detractor",
    "A contact answered NPS 0–6 in the last N days.",
    Param("days", "Within the last (days)", 30, 1),
)  # fmt: skip
def nps_detractor(ctx: RuleContext, p: dict) -> pd.DataFrame:
    nps = ctx.inputs.nps
    since = pd.Timestamp(ctx.inputs.as_of - dt.timedelta(days=int(p["days"])), tz="UTC")
    if nps.empty:
        return fired(pd.Series(False, index=ctx.index), pd.Series("", index=ctx.index))
    recent = nps[(pd.to_datetime(nps["at"], utc=True) >= since) & (nps["score"] <= 6)]
    lowest = recent.groupby("account_id")["score"].min().reindex(ctx.index)
    summary = "NPS detractor: scored " + _fmt(lowest)
    return fired(lowest.notna(), summary, lowest_recent_nps=lowest)


@rule(
    "champion_left", "Champion or executive left",
    "A champion or executive contact was deactivated in the last N days (a stakeholder change).",
    Param("days", "Within the last (days)", 30, 1),
)  # fmt: skip
def champion_left(ctx: RuleContext, p: dict) -> pd.DataFrame:
    departed = ctx.departed_contacts(int(p["days"]))
    if departed.empty:
        return fired(pd.Series(False, index=ctx.index), pd.Series("", index=ctx.index))
    names = departed.groupby("account_id")["name"].agg(lambda n: ", ".join(sorted(n))).reindex(ctx.index)
    count = departed.groupby("account_id")["name"].count().reindex(ctx.index)
    summary = "Key contact left: " + names.fillna("")
    return fired(names.notna(), summary, contacts_left=count, names=names)


@rule(
    "health_red", "Health entered red",
    "The account's health band is red.",
)  # fmt: skip
def health_red(ctx: RuleContext, p: dict) -> pd.DataFrame:
    band = ctx.results["band"]
    summary = "Health is red at " + _fmt(ctx.results["score"])
    return fired(band == "red", summary, score=ctx.results["score"].round(1), band_before=ctx.bands_before)


@rule(
    "health_drop", "Health dropped",
    "The score fell by at least N points within D days.",
    Param("points", "Drop of at least (points)", 15, 1),
    Param("days", "Within (days)", 14, 1),
)  # fmt: skip
def health_drop(ctx: RuleContext, p: dict) -> pd.DataFrame:
    before = ctx.scores_days_ago(int(p["days"]))
    drop = before - ctx.results["score"]
    summary = "Health down " + _fmt(drop) + " points in " + str(int(p["days"])) + " days"
    return fired(drop >= p["points"], summary, score_now=ctx.results["score"].round(1), score_before=before.round(1),
                 drop=drop.round(1))  # fmt: skip


@rule(
    "renewal_at_risk", "Renewal near, not green",
    "The renewal is within N days and health is not green.",
    Param("days", "Renewal within (days)", 90, 1),
)  # fmt: skip
def renewal_at_risk(ctx: RuleContext, p: dict) -> pd.DataFrame:
    days = _metric(ctx, "days_to_renewal")
    band = ctx.results["band"]
    summary = "Renews in " + _fmt(days) + " days while " + band.replace("", "unscored")
    return fired(
        (days >= 0) & (days <= p["days"]) & (band != "green"), summary, days_to_renewal=days, band=band
    )


@rule(
    "no_touchpoint", "No touchpoint",
    "Nobody has called, met or written to the account for more than N days.",
    Param("days", "For more than (days)", 45, 1),
)  # fmt: skip
def no_touchpoint(ctx: RuleContext, p: dict) -> pd.DataFrame:
    days = _metric(ctx, "days_since_touchpoint")
    summary = "No touchpoint for " + _fmt(days) + " days"
    return fired(days > p["days"], summary, days_since_touchpoint=days.round(0))


def with_defaults(kind: str, params: dict | None) -> dict:
    merged = {param.name: param.default for param in CATALOG[kind].params}
    merged.update({k: v for k, v in (params or {}).items() if v is not None})
    return merged


DEFAULT_RULES = [
    ("usage_drop", "Usage dropped 30 %+ vs. last quarter", {"percent": 30}, "high"),
    ("ticket_pending", "Ticket open over 14 days", {"days": 14}, "medium"),
    ("invoice_overdue", "Invoice 30+ days overdue or failed", {"days": 30}, "high"),
    ("csat_streak", "3 bad CSATs in a row", {"count": 3, "max_rating": 2}, "medium"),
    ("nps_detractor", "NPS detractor in the last 45 days", {"days": 45}, "medium"),
    ("champion_left", "Champion or executive left", {"days": 30}, "high"),
    ("health_red", "Health entered red", {}, "high"),
    ("health_drop", "Health dropped 15+ points in 14 days", {"points": 15, "days": 14}, "medium"),
    ("renewal_at_risk", "Renewal within 90 days, not green", {"days": 90}, "critical"),
    ("no_touchpoint", "No touchpoint for 45 days", {"days": 45}, "low"),
]
