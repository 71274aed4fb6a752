"""Segment analysis: tiers, stages, industries, employee-size bands or plans side by side.

`load_frames` reads the current workspace (or one CSM's accounts) with six set-based queries,
one row per account or per (account, feature), never a query per account or per group;
`summarise` is plain pandas (frames in, a frame out) and `analyse` puts the two together.
docs/metrics.md ("Segment analysis") has every formula.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from django.db.models import Count, Q, QuerySet, Sum

from accounts.models import Account, AccountStatus, DailyUsage, MRRMovement, NPSResponse, Ticket

# Windows, the same as the dashboard's (NPS, retention) and the health engine's (usage).
USAGE_DAYS = 30  # complete days ending yesterday
SUPPORT_DAYS = 90
NPS_DAYS = 90
RETENTION_DAYS = 365

DIMENSIONS = {
    "tier": "Tier",
    "stage": "Lifecycle stage",
    "industry": "Industry",
    "size": "Employee size",
    "plan": "Product / plan",
}
# Employee-size bands: (lowest head count, label); each band runs up to the next one's floor.
SIZE_BANDS = ((1, "1–49"), (50, "50–249"), (250, "250–999"), (1000, "1,000–4,999"), (5000, "5,000+"))
NONE_LABEL = "Not set"

ACCOUNT_COLUMNS = [
    "account_id",
    "status",
    "mrr",
    "health_score",
    "health_band",
    "industry",
    "plan",
    "employee_count",
    "tier_id",
    "tier__name",
    "tier__position",
    "lifecycle_stage__key",
    "lifecycle_stage__name",
    "lifecycle_stage__position",
]
FIGURES = [
    "accounts",
    "arr",
    "avg_health",
    "pct_red",
    "usage_per_account",
    "feature_adoption",
    "tickets_per_account",
    "avg_resolution_hours",
    "nps",
    "churn_rate",
    "nrr",
]


@dataclass
class Frames:
    """What the analysis reads, one row per account unless said otherwise."""

    accounts: pd.DataFrame  # ACCOUNT_COLUMNS, indexed by account_id
    usage: pd.DataFrame  # account_id, feature, events (events > 0 in the usage window)
    workspace_features: int  # distinct features the whole workspace used in the usage window
    tickets: pd.DataFrame  # account_id, opened_at, resolved_at (opened or resolved in the window)
    support_window: tuple[pd.Timestamp, pd.Timestamp]  # [since, end) of the tickets counted
    nps: pd.DataFrame  # account_id, answers, promoters, detractors
    revenue: pd.DataFrame  # account_id, start_mrr, expansion, contraction, churn, churns


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows), columns=columns)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def load_frames(as_of: dt.date, accounts: QuerySet | None = None) -> Frames:
    """The current workspace's figures as of a date; `accounts` narrows them (my accounts)."""
    scope = accounts if accounts is not None else Account.objects.all()

    def of_scope(qs):
        return qs if accounts is None else qs.filter(account__in=accounts.values("pk"))

    account_rows = scope.values_list("pk", *ACCOUNT_COLUMNS[1:])
    frame = _frame(account_rows, ACCOUNT_COLUMNS).set_index("account_id")
    frame["mrr"] = frame["mrr"].astype("float64")
    frame["health_score"] = frame["health_score"].astype("float64")

    last = as_of - dt.timedelta(days=1)
    usage_window = Q(day__gt=last - dt.timedelta(days=USAGE_DAYS), day__lte=last, events__gt=0)
    usage = _frame(
        of_scope(DailyUsage.objects.filter(usage_window))
        .values("account_id", "feature")
        .annotate(total=Sum("events"))
        .values_list("account_id", "feature", "total"),
        ["account_id", "feature", "events"],
    )
    workspace_features = DailyUsage.objects.filter(usage_window).values("feature").distinct().count()

    end = _day_start(as_of + dt.timedelta(days=1))
    support_since = _day_start(as_of - dt.timedelta(days=SUPPORT_DAYS - 1))
    tickets = _frame(
        of_scope(Ticket.objects.filter(opened_at__lt=end))
        .filter(Q(opened_at__gte=support_since) | Q(resolved_at__gte=support_since, resolved_at__lt=end))
        .values_list("account_id", "opened_at", "resolved_at"),
        ["account_id", "opened_at", "resolved_at"],
    )
    tickets["opened_at"] = pd.to_datetime(tickets["opened_at"], utc=True)
    tickets["resolved_at"] = pd.to_datetime(tickets["resolved_at"], utc=True)

    nps = _frame(
        of_scope(
            NPSResponse.objects.filter(
                responded_at__date__gt=as_of - dt.timedelta(days=NPS_DAYS), responded_at__date__lte=as_of
            )
        )
        .values("account_id")
        .annotate(
            answers=Count("pk"),
            promoters=Count("pk", filter=Q(score__gte=9)),
            detractors=Count("pk", filter=Q(score__lte=6)),
        )
        .values_list("account_id", "answers", "promoters", "detractors"),
        ["account_id", "answers", "promoters", "detractors"],
    )

    start = as_of - dt.timedelta(days=RETENTION_DAYS)
    window = Q(occurred_on__gt=start, occurred_on__lte=as_of)
    revenue = _frame(
        of_scope(MRRMovement.objects.filter(occurred_on__lte=as_of))
        .values("account_id")
        .annotate(
            start_mrr=Sum("amount", filter=Q(occurred_on__lte=start)),
            expansion=Sum("amount", filter=window & Q(kind__in=["expansion", "reactivation"])),
            contraction=Sum("amount", filter=window & Q(kind="contraction")),
            churn=Sum("amount", filter=window & Q(kind="churn")),
            churns=Count("pk", filter=window & Q(kind="churn")),
        )
        .values_list("account_id", "start_mrr", "expansion", "contraction", "churn", "churns"),
        ["account_id", "start_mrr", "expansion", "contraction", "churn", "churns"],
    )
    for column in ("start_mrr", "expansion", "contraction", "churn"):
        revenue[column] = revenue[column].astype("float64").fillna(0.0)
    window_of_tickets = (pd.Timestamp(support_since), pd.Timestamp(end))
    return Frames(frame, usage, workspace_features, tickets, window_of_tickets, nps, revenue)


def size_band(employees: pd.Series) -> pd.Series:
    floors = [floor for floor, _ in SIZE_BANDS]
    labels = [label for _, label in SIZE_BANDS]
    bands = pd.cut(employees, bins=[*floors, np.inf], labels=labels, right=False)
    return bands.astype("object").where(bands.notna(), NONE_LABEL)


def groups(accounts: pd.DataFrame, by: str) -> pd.DataFrame:
    """Each account's group: `label`, a sort `order` and the account-list `query` that shows it."""
    if by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}")
    none = pd.Series(None, index=accounts.index, dtype="object")
    if by == "tier":
        label = accounts["tier__name"]
        order = accounts["tier__position"].astype("float64")
        query = "tier=" + accounts["tier_id"].astype("Int64").astype("string")
    elif by == "stage":
        label = accounts["lifecycle_stage__name"]
        order = accounts["lifecycle_stage__position"].astype("float64")
        query = "stage=" + accounts["lifecycle_stage__key"].astype("string")
    elif by == "size":
        label = size_band(accounts["employee_count"])
        order = label.map({band: i for i, (_, band) in enumerate(SIZE_BANDS)}).astype("float64")
        query = none
    else:  # industry, plan: free text, ordered by ARR below
        label = accounts[by].where(accounts[by] != "")
        order = pd.Series(0.0, index=accounts.index)
        query = by + "=" + label.astype("string")
    missing = label.isna() | (label == NONE_LABEL)
    return pd.DataFrame(
        {
            "label": label.where(~missing, NONE_LABEL),
            # Groups without a value come last.
            "order": order.where(~missing, np.inf),
            "query": query.astype("object").where(~missing & query.notna(), None),
        },
        index=accounts.index,
    )


def _per_account(frames: Frames) -> pd.DataFrame:
    """The account frame with every input of the figures joined on, zero where there was none."""
    a = frames.accounts.copy()
    a["active"] = a["status"] == AccountStatus.ACTIVE
    a["scored"] = a["active"] & a["health_band"].isin(["red", "yellow", "green"])
    a["red"] = a["active"] & (a["health_band"] == "red")
    usage = frames.usage.groupby("account_id").agg(events=("events", "sum"), features=("feature", "nunique"))
    a = a.join(usage)
    t = frames.tickets
    since, end = frames.support_window
    opened = t[t["opened_at"] >= since]
    resolved = t[t["resolved_at"].notna() & (t["resolved_at"] >= since) & (t["resolved_at"] < end)]
    hours = (resolved["resolved_at"] - resolved["opened_at"]).dt.total_seconds() / 3600
    a = a.join(opened.groupby("account_id").size().rename("tickets"))
    a = a.join(hours.groupby(resolved["account_id"]).agg(["count", "sum"]).add_prefix("resolution_"))
    a = a.join(frames.nps.set_index("account_id"))
    a = a.join(frames.revenue.set_index("account_id"))
    numbers = [
        "events",
        "features",
        "tickets",
        "resolution_count",
        "resolution_sum",
        "answers",
        "promoters",
        "detractors",
        "start_mrr",
        "expansion",
        "contraction",
        "churn",
        "churns",
    ]
    a[numbers] = a[numbers].astype("float64").fillna(0.0)
    a["cohort"] = a["start_mrr"] > 0
    a["adoption"] = a["features"] / frames.workspace_features * 100 if frames.workspace_features else np.nan
    return a


def _ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)) * scale


def _figures(g) -> pd.DataFrame:
    """The figures of grouped per-account rows (`g` is a DataFrameGroupBy or a one-group frame)."""
    out = pd.DataFrame(
        {
            "accounts": g["active"].sum(),
            "arr": g["active_mrr"].sum() * 12,
            "health_sum": g["active_health"].sum(),
            "health_n": g["active_health"].count(),
            "red": g["red"].sum(),
            "scored": g["scored"].sum(),
            "events": g["active_events"].sum(),
            "adoption_sum": g["active_adoption"].sum(),
            "adoption_n": g["active_adoption"].count(),
            "tickets": g["active_tickets"].sum(),
            "resolution_sum": g["active_resolution_sum"].sum(),
            "resolution_count": g["active_resolution_count"].sum(),
            "answers": g["answers"].sum(),
            "promoters": g["promoters"].sum(),
            "detractors": g["detractors"].sum(),
            "cohort": g["cohort"].sum(),
            "cohort_churned": g["cohort_churned"].sum(),
            "start_mrr": g["cohort_start_mrr"].sum(),
            "kept_mrr": g["cohort_kept_mrr"].sum(),
        }
    )
    return pd.DataFrame(
        {
            "accounts": out["accounts"].astype(int),
            "arr": out["arr"],
            "avg_health": _ratio(out["health_sum"], out["health_n"]),
            "pct_red": _ratio(out["red"], out["scored"], 100),
            "usage_per_account": _ratio(out["events"], out["accounts"]),
            "feature_adoption": _ratio(out["adoption_sum"], out["adoption_n"]),
            "tickets_per_account": _ratio(out["tickets"], out["accounts"]),
            "avg_resolution_hours": _ratio(out["resolution_sum"], out["resolution_count"]),
            "nps": _ratio(out["promoters"] - out["detractors"], out["answers"], 100),
            "nps_answers": out["answers"].astype(int),
            "churn_rate": _ratio(out["cohort_churned"], out["cohort"], 100),
            "nrr": _ratio(out["kept_mrr"], out["start_mrr"], 100),
        }
    )


def _prepare(a: pd.DataFrame) -> pd.DataFrame:
    """Columns that are the per-account inputs masked to the accounts each figure counts."""
    active = a["active"]
    a = a.assign(
        active_mrr=a["mrr"].where(active, 0.0),
        active_health=a["health_score"].where(active),
        active_events=a["events"].where(active, 0.0),
        active_adoption=a["adoption"].where(active),
        active_tickets=a["tickets"].where(active, 0.0),
        active_resolution_sum=a["resolution_sum"].where(active, 0.0),
        active_resolution_count=a["resolution_count"].where(active, 0.0),
        cohort_churned=a["cohort"] & (a["churns"] > 0),
        cohort_start_mrr=a["start_mrr"].where(a["cohort"], 0.0),
        cohort_kept_mrr=(a["start_mrr"] + a["expansion"] + a["contraction"] + a["churn"]).where(
            a["cohort"], 0.0
        ),
    )
    return a


def summarise(frames: Frames, by: str) -> tuple[pd.DataFrame, pd.Series]:
    """One row per group (index: label, with `order` and `query` columns) and the total."""
    a = _prepare(_per_account(frames))
    keys = groups(frames.accounts, by)
    a = a.join(keys)
    if a.empty:
        columns = [*FIGURES, "nps_answers"]
        total = pd.Series({column: np.nan for column in columns}).astype("object")
        total[["accounts", "nps_answers"]] = 0
        return pd.DataFrame(columns=[*columns, "order", "query"]), total
    per_group = _figures(a.groupby("label"))
    meta = keys.groupby("label").agg(order=("order", "min"), query=("query", "first"))
    per_group = per_group.join(meta)
    per_group = per_group.sort_values(["order", "arr"], ascending=[True, False], kind="stable")
    total = _figures(a.groupby(lambda _: "all")).iloc[0]
    return per_group, total


@dataclass
class Analysis:
    by: str
    as_of: dt.date
    rows: list[dict]  # label, the FIGURES, nps_answers, order and the account-list query
    total: dict

    @property
    def retention_start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=RETENTION_DAYS)


def _list_query(query: str | None) -> str | None:
    """ "tier=3" → the account list's query string for that group, its value URL-encoded."""
    if not query:
        return None
    key, _, value = query.partition("=")
    return urlencode({key: value})


def _records(frame: pd.DataFrame) -> list[dict]:
    frame = frame.astype("object").where(frame.notna(), None)
    rows = [{"label": label, **row} for label, row in zip(frame.index, frame.to_dict("records"), strict=True)]
    for row in rows:
        row["query"] = _list_query(row["query"])
    return rows


def analyse(by: str, as_of: dt.date, accounts: QuerySet | None = None) -> Analysis:
    per_group, total = summarise(load_frames(as_of, accounts), by)
    total = total.astype("object").where(total.notna(), None).to_dict()
    total["accounts"], total["nps_answers"] = int(total["accounts"]), int(total["nps_answers"])
    return Analysis(by=by, as_of=as_of, rows=_records(per_group), total=total)
