"""One health run for the current workspace: load inputs → metrics → engine → persist.

Called by the Celery tasks, `manage.py recompute_health` and the pages alike. A run holds the
workspace's "health" lock, so two rescores of one workspace never overlap; accounts are scored in
chunks by id range to bound memory, each chunk written in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

import pandas as pd
from django.db import transaction
from django.db.models import Avg, Count, Q
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import Account
from tenancy.locks import workspace_lock

from . import engine, metrics
from .loading import count_workspace_features, load_inputs
from .models import HealthDaySummary, HealthRun, HealthScore, RunKind, RunStatus, Scorecard
from .persist import publish_current, save

log = logging.getLogger(__name__)

LOCK_NAME = "health-recompute"
LOCK_TIMEOUT = dt.timedelta(minutes=30)  # longer than the task's hard time limit
CHUNK_SIZE = 50_000

# Sent after each chunk is persisted, inside its transaction: receivers (alert rules) evaluate
# on the same frames. Args: workspace_id, as_of, results (DataFrame), inputs.
scores_computed = Signal()


@dataclass
class ActiveScorecard:
    id: int
    version_id: int
    spec: object
    assignment: dict


def active_scorecards() -> list[ActiveScorecard]:
    """The scorecards in use, with the members of their saved lists resolved now (a list's
    members are read as of now even when a past day is scored)."""
    cards = Scorecard.objects.filter(is_active=True, current_version__isnull=False).select_related(
        "current_version", "saved_list__owner", "saved_list__workspace"
    )
    active = []
    for card in cards:
        assignment = card.as_assignment()
        if card.saved_list_id:
            from segments.membership import account_ids

            members = account_ids(card.saved_list)
            if members is None:
                log.warning(
                    "scorecard %s skipped: its saved list %s does not parse", card.pk, card.saved_list_id
                )
                continue
            assignment["account_ids"] = members
        active.append(
            ActiveScorecard(card.pk, card.current_version_id, card.current_version.spec, assignment)
        )
    return active


def previous_bands(as_of: dt.date, accounts: pd.DataFrame) -> pd.Series:
    """Bands the accounts had before `as_of`, for hysteresis."""
    if as_of >= timezone.localdate():
        return accounts["health_band"]
    rows = HealthScore.objects.filter(day=as_of - dt.timedelta(days=1), account_id__in=list(accounts.index))
    return (
        pd.Series(dict(rows.values_list("account_id", "band")), dtype=object)
        .reindex(accounts.index)
        .fillna("")
    )


def score_inputs(inputs, cards: list[ActiveScorecard], bands_before: pd.Series | None = None) -> pd.DataFrame:
    """Pure step (no database): every account scored by the scorecard that applies to it."""
    if inputs.accounts.empty:
        return pd.DataFrame()
    assignment = engine.assign_scorecards(inputs.accounts, [c.assignment for c in cards])
    parts = []
    for card in cards:
        ids = assignment.index[assignment == card.id]
        if len(ids) == 0:
            continue
        raw = metrics.compute(inputs, card.spec.metric_keys, card.spec.params).loc[ids]
        prev = bands_before.loc[ids] if bands_before is not None else None
        result = engine.score(raw, card.spec, prev)
        result["scorecard_id"] = card.id
        result["scorecard_version_id"] = card.version_id
        parts.append(result)
    return pd.concat(parts) if parts else pd.DataFrame()


def summarise_day(day: dt.date) -> None:
    """Refresh the day's band counts from its score history (one indexed aggregate)."""
    totals = HealthScore.objects.filter(day=day).aggregate(
        red=Count("pk", filter=Q(band="red")),
        yellow=Count("pk", filter=Q(band="yellow")),
        green=Count("pk", filter=Q(band="green")),
        insufficient=Count("pk", filter=Q(band="")),
        average_score=Avg("score"),
    )
    HealthDaySummary.objects.update_or_create(day=day, defaults=totals)


def stale_account_ids(limit: int = CHUNK_SIZE) -> list[int]:
    return list(Account.objects.filter(health_stale=True).order_by("pk").values_list("pk", flat=True)[:limit])


def _chunks(account_ids: list[int] | None) -> list[dict]:
    """Keyword arguments for `load_inputs`, one dict per chunk: id ranges for a full run (no huge
    IN lists), id lists for the incremental path."""
    if account_ids is not None:
        return [
            {"account_ids": account_ids[i : i + CHUNK_SIZE]} for i in range(0, len(account_ids), CHUNK_SIZE)
        ]
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    return [
        {"id_range": (ids[i], ids[min(i + CHUNK_SIZE, len(ids)) - 1])} for i in range(0, len(ids), CHUNK_SIZE)
    ]


def recompute(
    workspace_id: int,
    *,
    as_of: dt.date | None = None,
    account_ids: list[int] | None = None,
    stale_only: bool = False,
    kind: str = RunKind.MANUAL,
) -> HealthRun:
    """Score the current workspace's accounts as of a date (default today): all of them, the
    given `account_ids`, or (`stale_only`) those whose inputs changed since their last score."""
    as_of = as_of or timezone.localdate()
    with workspace_lock(LOCK_NAME, LOCK_TIMEOUT) as held:
        if not held:
            now = timezone.now()
            return HealthRun.objects.create(
                kind=kind, as_of=as_of, status=RunStatus.SKIPPED, started_at=now, finished_at=now
            )
        # Holding the lock, no other run of this workspace is alive: a run still marked running
        # died with its worker (the lock expired or is taken over by the task's redelivery).
        HealthRun.objects.filter(status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error="Worker lost: the run did not finish."
        )
        if stale_only:
            account_ids = stale_account_ids()
            Account.objects.filter(pk__in=account_ids).update(health_stale=False)
        run = HealthRun.objects.create(kind=kind, as_of=as_of)
        started = time.monotonic()
        try:
            cards = active_scorecards()
            if not cards:
                # Nothing to score with yet: a state of the workspace, not a fault of the run.
                HealthRun.objects.filter(pk=run.pk).update(
                    status=RunStatus.FAILED,
                    finished_at=timezone.now(),
                    error="No active scorecard: create one under Settings → Health scoring.",
                )
                log.warning("health run %s: workspace %s has no active scorecard", run.pk, workspace_id)
                run.refresh_from_db()
                return run
            scored = 0
            chunks = _chunks(account_ids)
            if account_ids is None:
                # Every chunk compares feature breadth with the same workspace-wide count.
                features = count_workspace_features(as_of, fresh=True)
                chunks = [{**chunk, "workspace_features": features} for chunk in chunks]
            # Several chunks of today: each chunk's history is saved in its own transaction, and
            # the accounts' current health switches for all of them at once at the end.
            deferred = [] if len(chunks) > 1 and as_of >= timezone.localdate() else None
            for chunk in chunks:
                scored += _score_chunk(workspace_id, as_of, chunk, cards, deferred)
            if deferred:
                with transaction.atomic():
                    publish_current(pd.concat(deferred))
        except Exception as exc:
            if stale_only:
                Account.objects.filter(pk__in=account_ids).update(health_stale=True)
            HealthRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
            )
            log.exception("health run %s failed", run.pk)
            raise
        summarise_day(as_of)
        HealthRun.objects.filter(pk=run.pk).update(
            status=RunStatus.SUCCEEDED, finished_at=timezone.now(), accounts_scored=scored
        )
        log.info("health run %s: %d accounts in %.2f s", run.pk, scored, time.monotonic() - started)
        run.refresh_from_db()
        return run


def _score_chunk(
    workspace_id: int, as_of: dt.date, chunk: dict, cards: list[ActiveScorecard], deferred: list | None
) -> int:
    refreshing = "id_range" in chunk and as_of >= timezone.localdate()
    if refreshing:
        # A full run of today rescores these accounts from what is stored now, so their stale
        # flags are cleared first; a change landing after this point flags them again.
        low, high = chunk["id_range"]
        Account.objects.filter(pk__gte=low, pk__lte=high, health_stale=True).update(health_stale=False)
    try:
        return _score_and_save(workspace_id, as_of, chunk, cards, deferred)
    except Exception:
        if refreshing:
            Account.objects.filter(pk__gte=low, pk__lte=high).update(health_stale=True)
        raise


def _score_and_save(
    workspace_id: int, as_of: dt.date, chunk: dict, cards: list[ActiveScorecard], deferred: list | None = None
) -> int:
    """Score one chunk and save it in one transaction. With `deferred` (a list), the accounts'
    current health is not written here: the chunk's results are appended for the run to publish."""
    inputs = load_inputs(as_of, **chunk)
    results = score_inputs(inputs, cards, previous_bands(as_of, inputs.accounts))
    if results.empty:
        return 0
    weights = {card.version_id: {m.metric: m.weight for m in card.spec.measures} for card in cards}
    with transaction.atomic():
        save(as_of, results, weights, current=deferred is None and as_of >= timezone.localdate())
        if deferred is not None:
            deferred.append(results[["score", "band", "coverage"]])
        scores_computed.send(
            sender=None, workspace_id=workspace_id, as_of=as_of, results=results, inputs=inputs
        )
    return len(results)
