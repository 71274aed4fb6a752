"""Background work of segments: the automatic tier and stage rules after each health run."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from tenancy.locks import workspace_lock
from tenancy.tasks import enqueue_once, release_once, workspace_task

from .rules import apply_rules

log = logging.getLogger(__name__)

LOCK_NAME = "tier-stage-rules"
LOCK_TIMEOUT = dt.timedelta(minutes=10)  # longer than the task's hard time limit
RULES_DELAY_SECONDS = 5


@workspace_task(
    name="segments.tasks.apply_tier_stage_rules",
    soft_time_limit=240,
    time_limit=300,
)
def apply_tier_stage_rules(workspace_id: int) -> dict[str, int] | None:
    """Idempotent: a second run right after the first finds nothing to move."""
    release_once(apply_tier_stage_rules, workspace_id)
    with workspace_lock(LOCK_NAME, LOCK_TIMEOUT) as held:
        if not held:
            # Another run is applying the rules; the next health run triggers them again.
            return None
        with transaction.atomic():
            moved = apply_rules()
    log.info("tier/stage rules in workspace %s moved %s", workspace_id, moved)
    return moved


def on_scores_computed(sender, workspace_id: int, as_of: dt.date, **kwargs) -> None:
    """After a health run of today (full or incremental) commits, apply the rules once more.

    Connected to `health.recompute.scores_computed`, which is sent inside the run's transaction:
    the task is enqueued on commit, so it reads the new scores, and a run that rolls back
    enqueues nothing.
    """
    from django.utils import timezone

    if workspace_id is None or as_of < timezone.localdate():
        return  # history backfills do not move today's tiers and stages
    # The rules read the whole workspace: a burst of incremental runs (one per write) waits a
    # few seconds and shares one application of the rules.
    enqueue_once(apply_tier_stage_rules, workspace_id, countdown=RULES_DELAY_SECONDS)
