"""Carrying out a playbook run: its steps in order, each attempt logged.

A step that fails in a way worth retrying (a webhook timing out or answering 5xx) is handed to
its own task with exponential backoff and the run goes on with its next steps: one slow endpoint
never holds back the rest of the run, nor any other account's run (each run is its own task).
The run is finished when every step has succeeded, failed for good or been skipped.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from . import steps
from .models import PlaybookRun, RunStatus, StepRun, StepStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
OPEN_STEP_STATUSES = (StepStatus.PENDING, StepStatus.RETRYING)


def backoff_seconds(attempts: int) -> int:
    """Seconds before the next attempt after `attempts` failed ones: 2, 4, 8, 16."""
    return 2**attempts


def prepare(run: PlaybookRun) -> list[StepRun]:
    """The run's step rows, made from the playbook's steps the first time (idempotent)."""
    existing = list(run.step_runs.all())
    if existing:
        return existing
    rows = [
        StepRun(run=run, step=step, position=index, kind=step.kind)
        for index, step in enumerate(run.playbook.steps.order_by("position", "pk"), start=1)
    ]
    with transaction.atomic():
        StepRun.objects.bulk_create(rows)
    return list(run.step_runs.all())


def execute_run(run_id: int, retry_step) -> PlaybookRun | None:
    """Run every open step of the run once, in order. `retry_step(step_run_id, countdown)`
    schedules another attempt of a step that failed in a retryable way."""
    run = PlaybookRun.objects.select_related("playbook").filter(pk=run_id).first()
    if run is None or run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        return run
    if run.status == RunStatus.PENDING:
        run.status, run.started_at = RunStatus.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
    for step_run in prepare(run):
        if step_run.status == StepStatus.PENDING:
            countdown = attempt(step_run, run)
            if countdown is not None:
                retry_step(step_run.pk, countdown)
    finish_if_done(run)
    return run


def attempt(step_run: StepRun, run: PlaybookRun) -> int | None:
    """One attempt of a step, logged. Returns the countdown of the next attempt when it should
    be retried, else None (succeeded or failed for good)."""
    config = step_run.step.config if step_run.step_id else None
    number = step_run.attempts + 1
    # Claim this attempt number: a task delivered twice at once (acks_late after a lost worker)
    # finds it taken and leaves the step to the other delivery.
    claimed = StepRun.objects.filter(
        pk=step_run.pk, attempts=step_run.attempts, status__in=OPEN_STEP_STATUSES
    ).update(attempts=number)
    if not claimed:
        return None
    if config is None:
        duration, result, error = 0.0, None, steps.StepError("The step was removed from the playbook.")
    else:
        duration, result, error = steps.timed(steps.perform, step_run, run, config)
    step_run.attempts = number
    retry_in = None
    if error is None:
        step_run.status = StepStatus.SUCCEEDED
        step_run.last_error = ""
        step_run.finished_at = timezone.now()
        entry = steps.attempt_entry(number, "ok", duration, http_status=(result or {}).get("http_status"))
    else:
        retryable = (
            isinstance(error, steps.RetryableStepError)
            and attempts_this_round(step_run, number) < MAX_ATTEMPTS
        )
        step_run.last_error = str(error)[:2000]
        if retryable:
            step_run.status = StepStatus.RETRYING
            retry_in = backoff_seconds(number)
        else:
            step_run.status = StepStatus.FAILED
            step_run.finished_at = timezone.now()
        entry = steps.attempt_entry(
            number,
            "retry" if retryable else "failed",
            duration,
            http_status=error.http_status,
            error=str(error)[:500],
            retry_in_seconds=retry_in,
        )
        log.info("playbook step %s of run %s: %s", step_run.position, run.pk, error)
    step_run.log = [*step_run.log, entry]
    step_run.save(update_fields=["status", "attempts", "last_error", "log", "finished_at"])
    return retry_in


def attempts_this_round(step_run: StepRun, number: int) -> int:
    """Attempts since the step was last retried by hand (each manual retry gets a fresh budget)."""
    manual = [e for e in step_run.log if e.get("outcome") == "manual retry"]
    return number - (manual[-1].get("after_attempts", 0) if manual else 0)


def retry_failed_steps(run: PlaybookRun, user) -> list[int]:
    """Put the run's failed steps back in line for another round of attempts (a person fixed the
    webhook endpoint, say); returns their ids for the caller to enqueue on commit."""
    with transaction.atomic():
        failed = list(
            StepRun.objects.select_for_update().filter(run=run, status=StepStatus.FAILED).order_by("position")
        )
        now = timezone.now()
        for step_run in failed:
            step_run.status = StepStatus.RETRYING
            step_run.finished_at = None
            step_run.log = [
                *step_run.log,
                {
                    "attempt": None,
                    "at": now.isoformat(timespec="seconds"),
                    "outcome": "manual retry",
                    "by": getattr(user, "email", ""),
                    "after_attempts": step_run.attempts,
                },
            ]
            step_run.save(update_fields=["status", "finished_at", "log"])
        if failed:
            PlaybookRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, finished_at=None)
    return [s.pk for s in failed]


def execute_step(step_run_id: int) -> int | None:
    """Another attempt of a step that is waiting for a retry; returns the next countdown if it
    failed again in a retryable way."""
    step_run = StepRun.objects.select_related("step", "run", "run__playbook").filter(pk=step_run_id).first()
    if step_run is None or step_run.status not in OPEN_STEP_STATUSES:
        return None
    countdown = attempt(step_run, step_run.run)
    finish_if_done(step_run.run)
    return countdown


def finish_if_done(run: PlaybookRun) -> None:
    statuses = list(run.step_runs.values_list("status", flat=True))
    if any(s in OPEN_STEP_STATUSES for s in statuses):
        return
    status = RunStatus.FAILED if StepStatus.FAILED in statuses else RunStatus.SUCCEEDED
    PlaybookRun.objects.filter(pk=run.pk).update(status=status, finished_at=timezone.now())
    run.status = status
