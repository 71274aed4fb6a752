"""Load the engine's `Inputs` for one workspace as of a date: a handful of set-based aggregate
queries (one row per account each), never a query per account. Only data up to `as_of` is read,
so scoring a past date sees what was known then."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from accounts.models import (
    Account,
    Contact,
    CSMScore,
    DailyUsage,
    Invoice,
    MRRMovement,
    NPSResponse,
    Ticket,
    Touchpoint,
)
from tenancy.context import current_workspace_id

from .inputs import Inputs

USAGE_WINDOW_DAYS = 181  # two full quarters of complete days, ending yesterday


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    return frame.set_index("account_id") if "account_id" in columns else frame


def _end_of(day: dt.date) -> dt.datetime:
    """The first instant after `day`: data strictly before it is 'known as of day'."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def _days_since(as_of: dt.date, moments: pd.Series) -> pd.Series:
    """Days from each moment to the end of `as_of`, or to now for today (never negative)."""
    moments = pd.to_datetime(moments, utc=True, errors="coerce")
    reference = min(_end_of(as_of), timezone.now())  # today: ages as of now, not of midnight
    return ((pd.Timestamp(reference) - moments).dt.total_seconds() / 86400).clip(lower=0)


def _restrict(qs, field: str, account_ids: list[int] | None, id_range: tuple[int, int] | None):
    if account_ids is not None:
        qs = qs.filter(**{f"{field}__in": account_ids})
    if id_range is not None:
        qs = qs.filter(**{f"{field}__gte": id_range[0], f"{field}__lte": id_range[1]})
    return qs


def load_accounts(
    as_of: dt.date, account_ids: list[int] | None = None, id_range: tuple[int, int] | None = None
) -> pd.DataFrame:
    # An account is a customer from its contract start (imported history counts), or from when
    # it was recorded if no start is known.
    qs = Account.objects.filter(
        Q(contract_start__lte=as_of) | Q(contract_start__isnull=True, created_at__lt=_end_of(as_of))
    )
    # Churned accounts are scored only for dates before they churned (backtests need those).
    qs = _restrict(qs.filter(Q(status="active") | Q(churned_at__gt=as_of)), "pk", account_ids, id_range)
    cols = [
        "pk", "contract_start", "renewal_date", "licenses_purchased", "mrr",
        "tier_id", "lifecycle_stage_id", "plan", "health_band", "status",
    ]  # fmt: skip
    frame = pd.DataFrame.from_records(list(qs.values_list(*cols)), columns=["account_id", *cols[1:]])
    frame = frame.set_index("account_id")
    # A churned account pays nothing now (its MRR field keeps the last contract value).
    frame["mrr"] = frame["mrr"].astype("float64").where(frame["status"] != "churned", 0.0)
    frame["licenses_purchased"] = frame["licenses_purchased"].astype("float64")
    start = pd.to_datetime(frame["contract_start"], errors="coerce")
    renewal = pd.to_datetime(frame["renewal_date"], errors="coerce")
    as_of_ts = pd.Timestamp(as_of)
    frame["tenure_days"] = (as_of_ts - start).dt.days.astype("float64")
    if as_of < timezone.localdate():
        renewal = renewal_as_of(renewal, as_of)
    frame["days_to_renewal"] = (renewal - as_of_ts).dt.days.astype("float64")
    return frame


def renewal_as_of(renewal: pd.Series, as_of: dt.date) -> pd.Series:
    """The renewal date an account had on a past day, from the one stored now.

    The row keeps only today's renewal date: a contract renewed after `as_of` has moved it a
    year on, so reading it as is would leak the renewal into the past. Contracts are taken to
    renew yearly: the date as of `as_of` is the anniversary of the stored one that falls in the
    year after `as_of`.
    """
    dates = pd.to_datetime(renewal, errors="coerce")
    known = dates.notna()
    if not known.any():
        return dates
    as_of_ts = pd.Timestamp(as_of)
    year = dates.dt.year.astype("float64")
    # Move by whole years until the date falls in (as_of, as_of + 366 days]; two corrections
    # after the first estimate absorb leap days.
    year = year - np.floor(((dates - as_of_ts).dt.days - 1) / 365.25)
    month, day = dates.dt.month, dates.dt.day.where(~((dates.dt.month == 2) & (dates.dt.day == 29)), 28)

    def build(years: pd.Series) -> pd.Series:
        parts = pd.DataFrame({"year": years, "month": month, "day": day})[known].astype(int)
        return pd.to_datetime(parts).reindex(dates.index)

    out = build(year)
    for _ in range(2):
        year = year + (out <= as_of_ts).astype(int) - ((out - as_of_ts).dt.days > 366).astype(int)
        out = build(year)
    return out


def _complete_days_30(as_of: dt.date) -> Q:
    last = as_of - dt.timedelta(days=1)
    return Q(day__gt=last - dt.timedelta(days=30), day__lte=last)


def count_workspace_features(as_of: dt.date, fresh: bool = False) -> int:
    """Distinct features used in the workspace over the 30 complete days before `as_of`.

    Kept in the cache for an hour: incremental runs score a handful of accounts and should not
    scan the whole workspace's usage for a number that barely moves within a day.
    """
    key = f"health:features:{current_workspace_id()}:{as_of.isoformat()}"
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    count = (
        DailyUsage.objects.filter(_complete_days_30(as_of), events__gt=0).values("feature").distinct().count()
    )
    cache.set(key, count, timeout=3600)
    return count


def load_inputs(
    as_of: dt.date,
    account_ids: list[int] | None = None,
    id_range: tuple[int, int] | None = None,
    workspace_features: int | None = None,
) -> Inputs:
    """Everything the metric catalogue needs, for the current workspace's accounts: all of them,
    a few (`account_ids`, the incremental path) or an id range (a chunk of a full run)."""
    accounts = load_accounts(as_of, account_ids, id_range)
    ids = None if account_ids is None else list(accounts.index)
    end = _end_of(as_of)

    def scoped(qs, field="account_id"):
        return _restrict(qs, field, ids, id_range)

    # Usage windows cover complete days, ending the day before `as_of`: today's rollups are still
    # filling up and would make every account look a day's worth less active.
    last = as_of - dt.timedelta(days=1)
    d30, d120 = last - dt.timedelta(days=30), last - dt.timedelta(days=120)
    in_30 = Q(day__gt=d30, day__lte=last)
    # One pass over the usage window, per (account, feature); account totals and the feature
    # breadth both come from it.
    per_feature = _frame(
        scoped(
            DailyUsage.objects.filter(day__gt=as_of - dt.timedelta(days=USAGE_WINDOW_DAYS), day__lte=as_of)
        )
        .filter(events__gt=0)
        .values("account_id", "feature")
        .annotate(
            events_30=Sum("events", filter=in_30),
            events_prev_90=Sum("events", filter=Q(day__gt=d120, day__lte=d30)),
            events_quarter=Sum("events", filter=Q(day__gt=last - dt.timedelta(days=90), day__lte=last)),
            events_prev_quarter=Sum(
                "events",
                filter=Q(day__gt=last - dt.timedelta(days=180), day__lte=last - dt.timedelta(days=90)),
            ),
            last_active=Max("day"),
        )
        .values_list(
            "account_id",
            "feature",
            "events_30",
            "events_prev_90",
            "events_quarter",
            "events_prev_quarter",
            "last_active",
        ),
        [
            "account_id",
            "feature",
            "events_30",
            "events_prev_90",
            "events_quarter",
            "events_prev_quarter",
            "last_active",
        ],
    ).reset_index()
    per_feature["last_active"] = pd.to_datetime(per_feature["last_active"])  # vectorised max below
    counts = ["events_30", "events_prev_90", "events_quarter", "events_prev_quarter"]
    per_feature[counts] = per_feature[counts].astype("float64").fillna(0)
    grouped = per_feature.groupby("account_id")
    usage = grouped[counts].sum()
    usage["days_since_active"] = (pd.Timestamp(as_of) - grouped["last_active"].max()).dt.days
    feature_usage = per_feature.loc[per_feature["events_30"] > 0, ["account_id", "feature", "events_30"]]
    feature_usage = feature_usage.rename(columns={"events_30": "events"})
    # Active users: distinct (contact, day) pairs of the attributed rows, counted in the database.
    pairs = (
        scoped(DailyUsage.objects.filter(in_30, contact_id__isnull=False, events__gt=0))
        .values("account_id", "contact_id", "day")
        .distinct()
    )
    sql, params = pairs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT account_id, COUNT(DISTINCT contact_id), COUNT(*) FROM ({sql}) AS pairs GROUP BY account_id",  # noqa: S608
            params,
        )
        users = _frame(cursor.fetchall(), ["account_id", "mau", "user_days_30"])
    usage = usage.join(users, how="outer").astype("float64")
    filled = [*counts, "mau", "user_days_30"]
    usage[filled] = usage[filled].fillna(0)
    if workspace_features is None:
        # Feature breadth compares with the whole workspace, whichever accounts this load covers.
        partial = ids is not None or id_range is not None
        workspace_features = (
            count_workspace_features(as_of) if partial else int(feature_usage["feature"].nunique())
        )

    d90_start = end - dt.timedelta(days=90)
    open_at_as_of = Q(opened_at__lt=end) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=end))
    ticket_rows = (
        scoped(Ticket.objects.filter(opened_at__lt=end))
        .values("account_id")
        .annotate(
            open_count=Count("pk", filter=open_at_as_of),
            oldest_open=Min("opened_at", filter=open_at_as_of),
            escalations_90=Count("pk", filter=Q(escalated=True, opened_at__gte=d90_start)),
        )
        .values_list("account_id", "open_count", "oldest_open", "escalations_90")
    )
    tickets = _frame(ticket_rows, ["account_id", "open_count", "oldest_open", "escalations_90"])
    tickets["oldest_open_days"] = _days_since(as_of, tickets["oldest_open"]).fillna(0)
    resolution = pd.DataFrame.from_records(
        list(
            scoped(Ticket.objects.filter(resolved_at__gte=d90_start, resolved_at__lt=end)).values_list(
                "account_id", "opened_at", "resolved_at"
            )
        ),
        columns=["account_id", "opened_at", "resolved_at"],
    )
    if not resolution.empty:
        hours = (
            pd.to_datetime(resolution["resolved_at"], utc=True)
            - pd.to_datetime(resolution["opened_at"], utc=True)
        ).dt.total_seconds() / 3600
        tickets = tickets.join(
            hours.groupby(resolution["account_id"]).mean().rename("avg_resolution_hours_90")
        )
    tickets = tickets.drop(columns="oldest_open")

    csat = pd.DataFrame.from_records(
        list(
            scoped(Ticket.objects.filter(csat__isnull=False, opened_at__lt=end))
            .filter(Q(resolved_at__isnull=True) | Q(resolved_at__lt=end))
            .values_list("account_id", "opened_at", "csat")
        ),
        columns=["account_id", "at", "csat"],
    )
    nps = pd.DataFrame.from_records(
        list(
            scoped(NPSResponse.objects.filter(responded_at__lt=end)).values_list(
                "account_id", "responded_at", "score"
            )
        ),
        columns=["account_id", "at", "score"],
    )
    csm_scores = pd.DataFrame.from_records(
        list(
            scoped(CSMScore.objects.filter(scored_at__lt=end)).values_list("account_id", "scored_at", "score")
        ),
        columns=["account_id", "at", "score"],
    )

    unpaid_at_as_of = Q(status__in=["open", "failed"]) | Q(paid_on__gt=as_of)
    invoice_rows = (
        scoped(Invoice.objects.filter(issued_on__lte=as_of, due_on__lt=as_of).exclude(status="void"))
        .filter(Q(paid_on__isnull=True) | Q(paid_on__gt=as_of))
        .filter(unpaid_at_as_of)
        .values("account_id")
        .annotate(oldest_due=Min("due_on"))
        .values_list("account_id", "oldest_due")
    )
    invoices = _frame(invoice_rows, ["account_id", "oldest_due"])
    invoices["oldest_overdue_days"] = (pd.Timestamp(as_of) - pd.to_datetime(invoices["oldest_due"])).dt.days
    failed = (
        scoped(
            Invoice.objects.filter(
                status="failed", due_on__gt=as_of - dt.timedelta(days=90), due_on__lte=as_of
            )
        )
        .values("account_id")
        .annotate(n=Count("pk"))
        .values_list("account_id", "n")
    )
    invoices = invoices.drop(columns="oldest_due").join(
        _frame(failed, ["account_id", "failed_90"]), how="outer"
    )

    # MRR at a past date = current MRR minus the movements recorded after it.
    after = (
        scoped(MRRMovement.objects.filter(occurred_on__gt=as_of - dt.timedelta(days=90)))
        .values("account_id")
        .annotate(
            since_as_of=Sum("amount", filter=Q(occurred_on__gt=as_of)),
            since_90=Sum("amount"),
        )
        .values_list("account_id", "since_as_of", "since_90")
    )
    moves = _frame(after, ["account_id", "since_as_of", "since_90"]).astype("float64").fillna(0)
    moves = moves.reindex(accounts.index).fillna(0)
    revenue = pd.DataFrame(index=accounts.index)
    revenue["mrr_as_of"] = accounts["mrr"] - moves["since_as_of"]
    revenue["mrr_90_days_before"] = revenue["mrr_as_of"] - (moves["since_90"] - moves["since_as_of"])

    touch_rows = (
        scoped(Touchpoint.objects.filter(occurred_at__lt=end))
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .values_list("account_id", "last")
    )
    touchpoints = _frame(touch_rows, ["account_id", "last"])
    touchpoints["last_touch_days"] = _days_since(as_of, touchpoints["last"])
    touchpoints = touchpoints.drop(columns="last")

    key_contacts = (
        scoped(Contact.objects.filter(created_at__lt=end))
        .filter(Q(is_champion=True) | Q(is_executive=True))
        .filter(Q(deactivated_at__isnull=True, is_active=True) | Q(deactivated_at__gte=end))
        .values("account_id")
        .annotate(n=Count("pk"))
        .values_list("account_id", "n")
    )
    contacts = _frame(key_contacts, ["account_id", "key_contacts_active"])

    return Inputs(
        as_of=as_of,
        workspace_features=workspace_features,
        accounts=accounts,
        usage=usage,
        feature_usage=feature_usage,
        tickets=tickets,
        csat=csat,
        nps=nps,
        csm_scores=csm_scores,
        invoices=invoices,
        revenue=revenue,
        touchpoints=touchpoints,
        contacts=contacts,
    )
