"""The thin database side of a backtest: observations (scores as of T, outcomes in (T, T+H]) for
the current workspace, and the run that stores a backtest's results.

Scores come from the same path as every health run: `load_inputs(T)` (which reads only data
known by the end of T) → metric catalogue → engine. Churned accounts are included for every T
before their churn. Outcomes are read once for all look-back dates from MRR movements and the
accounts' churn dates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
from django.utils import timezone

from accounts.models import Account, MRRMovement

from . import engine, metrics
from .backtest import summarise
from .loading import load_inputs
from .models import BacktestRun, BacktestStatus
from .scorecards import ScorecardSpec

log = logging.getLogger(__name__)

MAX_POINTS = 24
MAX_HORIZON_DAYS = 730


def default_points(horizon_days: int, count: int = 12, spacing_days: int = 30, last: dt.date | None = None):
    """`count` look-back dates `spacing_days` apart, the latest `horizon_days` before today (so
    every horizon has fully happened), oldest first."""
    last = last or timezone.localdate() - dt.timedelta(days=horizon_days)
    return [last - dt.timedelta(days=spacing_days * k) for k in range(count - 1, -1, -1)]


def load_outcomes(points: list[dt.date], horizon_days: int) -> pd.DataFrame:
    """Churn, contraction and expansion events after the earliest T: (account_id, kind, amount, day)."""
    first, last = min(points), max(points) + dt.timedelta(days=horizon_days)
    moves = pd.DataFrame.from_records(
        list(
            MRRMovement.objects.filter(
                occurred_on__gt=first, occurred_on__lte=last, kind__in=["churn", "contraction", "expansion"]
            ).values_list("account_id", "kind", "amount", "occurred_on")
        ),
        columns=["account_id", "kind", "amount", "day"],
    )
    # An account marked churned without a recorded movement (imported history) still counts.
    marked = pd.DataFrame.from_records(
        list(
            Account.objects.filter(churned_at__gt=first, churned_at__lte=last).values_list("pk", "churned_at")
        ),
        columns=["account_id", "day"],
    ).assign(kind="churn_status", amount=0.0)
    events = pd.concat([moves, marked], ignore_index=True)
    events["amount"] = events["amount"].astype("float64")
    events["day"] = pd.to_datetime(events["day"])
    return events


def outcomes_at(
    as_of: dt.date, horizon_days: int, events: pd.DataFrame, accounts: pd.DataFrame
) -> pd.DataFrame:
    """What happened to each account in (as_of, as_of + horizon]."""
    start, end = pd.Timestamp(as_of), pd.Timestamp(as_of + dt.timedelta(days=horizon_days))
    window = events[(events["day"] > start) & (events["day"] <= end)]
    index = accounts.index

    def has(kind: str) -> pd.Series:
        ids = window.loc[window["kind"] == kind, "account_id"].unique()
        return pd.Series(index.isin(ids), index=index)

    churned = has("churn") | has("churn_status")
    contracted = has("contraction")
    losses = window[window["kind"].isin(["churn", "contraction"])].groupby("account_id")["amount"].sum()
    lost = (-losses).clip(lower=0).reindex(index).fillna(0.0)
    frame = pd.DataFrame(
        {
            "churned": churned,
            "contracted": contracted,
            "expanded": has("expansion"),
            "renewed": accounts["days_to_renewal"].between(1, horizon_days, inclusive="both") & ~churned,
            "lost_mrr": lost,
        },
        index=index,
    )
    return frame


def observations(
    spec: ScorecardSpec,
    points: list[dt.date],
    horizon_days: int,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """One row per (T, account that was a customer at T): the score as of T under `spec`, every
    catalogue metric's raw value as of T, and the outcomes in (T, T+H]."""
    events = load_outcomes(points, horizon_days)
    keys = list(metrics.CATALOG)
    parts = []
    for number, as_of in enumerate(sorted(points), 1):
        inputs = load_inputs(as_of)
        if not inputs.accounts.empty:
            raw = metrics.compute(inputs, keys, spec.params)
            # No previous band: every date is scored afresh, without hysteresis from live bands.
            scored = engine.score(raw[spec.metric_keys], spec)
            frame = pd.DataFrame(
                {
                    "as_of": as_of.isoformat(),
                    "account_id": inputs.index,
                    "score": scored["score"].to_numpy(),
                    "band": scored["band"].to_numpy(),
                    "mrr": inputs.revenue["mrr_as_of"].reindex(inputs.index).to_numpy(dtype="float64"),
                },
                index=inputs.index,
            )
            frame = frame.join(outcomes_at(as_of, horizon_days, events, inputs.accounts))
            # Revenue lost by a churn without a recorded movement: its MRR at T.
            silent = frame["churned"] & (frame["lost_mrr"] == 0)
            frame.loc[silent, "lost_mrr"] = frame.loc[silent, "mrr"].fillna(0)
            # Single precision halves the memory of the widest part of the frame (a 100,000-account
            # workspace over 12 dates is a million rows); ranks and percentiles do not need more.
            raws = pd.DataFrame({f"raw:{key}": raw[key].to_numpy(dtype="float32") for key in keys})
            frame = pd.concat([frame.reset_index(drop=True), raws], axis=1)
            parts.append(frame)
        if progress is not None:
            progress(number, len(points))
    if not parts:
        return pd.DataFrame(columns=["as_of", "account_id", "score", "band", "churned"])
    obs = pd.concat(parts, ignore_index=True)
    raw_columns = [c for c in obs.columns if c.startswith("raw:")]
    obs[raw_columns] = obs[raw_columns].replace([np.inf, -np.inf], np.nan)
    return obs


def run_backtest(run: BacktestRun) -> BacktestRun:
    """Compute a stored run's backtest, reporting progress on the row; results are stored."""
    BacktestRun.objects.filter(pk=run.pk).update(
        status=BacktestStatus.RUNNING, started_at=timezone.now(), progress=0, error=""
    )
    try:
        spec = ScorecardSpec.from_dict(run.definition)
        points = [dt.date.fromisoformat(d) for d in run.as_of_dates]

        def progress(done: int, total: int) -> None:
            # Loading and scoring is most of the work; the last 10% is the statistics.
            BacktestRun.objects.filter(pk=run.pk).update(progress=int(90 * done / total))

        obs = observations(spec, points, run.horizon_days, progress)
        results = summarise(obs, spec)
    except Exception as exc:
        BacktestRun.objects.filter(pk=run.pk).update(
            status=BacktestStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
        )
        log.exception("backtest %s failed", run.pk)
        run.refresh_from_db()
        return run
    BacktestRun.objects.filter(pk=run.pk).update(
        status=BacktestStatus.SUCCEEDED, finished_at=timezone.now(), progress=100, results=results
    )
    run.refresh_from_db()
    return run


def latest_runs():
    """The latest finished backtest of each scorecard (of its current or any earlier version)."""
    from django.db.models import Max

    latest = (
        BacktestRun.objects.filter(status=BacktestStatus.SUCCEEDED, draft=False)
        .values("scorecard")
        .annotate(last=Max("pk"))
        .values("last")
    )
    return BacktestRun.objects.filter(pk__in=latest)


def create_run(
    scorecard,
    points: list[dt.date],
    horizon_days: int,
    user=None,
    definition: dict | None = None,
) -> BacktestRun:
    """Store a queued backtest of the scorecard's current version (or of `definition`, a draft)."""
    if definition is None:
        version = scorecard.current_version
        if version is None:
            raise ValueError(f"Scorecard {scorecard} has no version to backtest.")
        definition = version.definition
    else:
        version = None
        ScorecardSpec.from_dict(definition)
    return BacktestRun.objects.create(
        scorecard=scorecard,
        scorecard_version=version,
        draft=version is None,
        definition=definition,
        as_of_dates=[d.isoformat() for d in sorted(points)],
        horizon_days=horizon_days,
        created_by=user,
    )
