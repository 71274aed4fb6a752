"""Celery tasks: thin wrappers over health/recompute.py. They take ids, are idempotent (a rerun
rewrites the same day's scores) and are enqueued on commit."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tenancy.tasks import enqueue_once, once_key, release_once, workspace_task

from .models import RunKind, RunStatus
from .recompute import recompute

# New data reaches the score within seconds, but a burst of writes causes one rescore.
DEBOUNCE_SECONDS = 2


@workspace_task(name="health.tasks.rescore_workspace")
def rescore_workspace(workspace_id: int, as_of: str | None = None) -> int:
    """The scheduled full rescore of one workspace (fanned out by beat)."""
    day = dt.date.fromisoformat(as_of) if as_of else None
    run = recompute(workspace_id, as_of=day, kind=RunKind.SCHEDULED)
    return run.accounts_scored


@workspace_task(name="health.tasks.rescore_stale", bind=True, max_retries=30)
def rescore_stale(self, workspace_id: int) -> int:
    """Rescore just the accounts whose inputs changed since their last score."""
    release_once(rescore_stale, workspace_id)
    run = recompute(workspace_id, stale_only=True, kind=RunKind.INCREMENTAL)
    if run.status == RunStatus.SKIPPED:
        # A full run holds the lock; the stale flags are still set, so try again shortly.
        raise self.retry(countdown=5)
    return run.accounts_scored


def debounce_key(workspace_id: int) -> str:
    return once_key(rescore_stale, workspace_id)


def request_stale_rescore(workspace_id: int) -> None:
    """Queue one incremental rescore for the workspace once the current transaction commits,
    unless one is already queued. With the broker down, the stale flags stay set and the next
    write (or the next full rescore) covers these accounts."""
    enqueue_once(rescore_stale, workspace_id, countdown=DEBOUNCE_SECONDS, hold=DEBOUNCE_SECONDS * 10)


@workspace_task(name="health.tasks.backfill_workspace")
def backfill_workspace(workspace_id: int, days: int) -> int:
    """Score each of the last `days` days, oldest first, then today (history for trend charts)."""
    today = timezone.localdate()
    scored = 0
    for offset in range(days, -1, -1):
        kind = RunKind.BACKFILL if offset else RunKind.SCHEDULED
        scored += recompute(workspace_id, as_of=today - dt.timedelta(days=offset), kind=kind).accounts_scored
    return scored


@workspace_task(name="health.tasks.run_backtest")
def run_backtest(workspace_id: int, backtest_id: int) -> str:
    """Compute one stored backtest (idempotent: a rerun recomputes and overwrites its results)."""
    from .backtest_loading import run_backtest as compute
    from .models import BacktestRun

    run = BacktestRun.objects.filter(pk=backtest_id).first()
    if run is None:
        return "missing"
    return compute(run).status
