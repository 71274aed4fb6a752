"""Celery entry point of the workspace scope, and platform-level tasks."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from celery import shared_task
from django.utils import timezone

from .context import use_workspace

log = logging.getLogger(__name__)

# Every task built by `workspace_task`; a test checks each tenant app's tasks are among them.
WORKSPACE_TASKS: set[str] = set()


def workspace_task(**task_options) -> Callable:
    """Declare a Celery task that runs inside one workspace.

    The task's first argument must be an integer ``workspace_id`` (ids, never model instances,
    cross the broker); the body runs with that workspace selected and it is reset afterwards.
    Enqueue with ``task.delay_on_commit(workspace_id, …)`` so the worker sees committed data.
    """

    def decorator(fn: Callable) -> Callable:
        def scoped(prefix: tuple, workspace_id: int, args, kwargs):
            if type(workspace_id) is not int:
                raise TypeError(f"{fn.__name__}: workspace_id must be an int, got {workspace_id!r}")
            with use_workspace(workspace_id):
                return fn(*prefix, workspace_id, *args, **kwargs)

        if task_options.get("bind"):

            @functools.wraps(fn)
            def run(self, workspace_id: int, *args, **kwargs):
                return scoped((self,), workspace_id, args, kwargs)
        else:

            @functools.wraps(fn)
            def run(workspace_id: int, *args, **kwargs):
                return scoped((), workspace_id, args, kwargs)

        task = shared_task(**task_options)(run)
        WORKSPACE_TASKS.add(task.name)
        return task

    return decorator


def enqueue_once(task, workspace_id: int, countdown: int, hold: int | None = None) -> None:
    """On commit, enqueue `task(workspace_id)` in `countdown` seconds unless one is already
    queued for the workspace: a burst of triggers (one per incremental health run) collapses into
    one run. The task calls `release_once(task, workspace_id)` first thing, so a trigger arriving
    while it runs queues the next one. The mark expires after `hold` seconds (default: the
    countdown plus ten minutes) in case the queued message is lost. Taken only on commit: a
    rolled-back trigger never holds back the next one."""
    from django.core.cache import cache
    from django.db import transaction

    def queue() -> None:
        if cache.add(once_key(task, workspace_id), 1, timeout=hold or countdown + 600):
            try:
                task.apply_async((workspace_id,), countdown=countdown)
            except Exception:
                cache.delete(once_key(task, workspace_id))  # let the next trigger try again
                raise

    # robust: the trigger's data is committed; a broker outage is logged, not raised.
    transaction.on_commit(queue, robust=True)


def enqueue_now(task, *args, **options) -> bool:
    """Enqueue `task(*args)` now (outside any transaction); False when the broker does not
    answer, so a page can say so instead of failing with a 500."""
    try:
        task.apply_async(args, **options)
    except Exception:
        log.warning("broker unavailable: %s not queued", task.name, exc_info=True)
        return False
    return True


def release_once(task, workspace_id: int) -> None:
    from django.core.cache import cache

    cache.delete(once_key(task, workspace_id))


def once_key(task, workspace_id: int) -> str:
    return f"queued-once:{task.name}:{workspace_id}"


@shared_task(name="tenancy.tasks.heartbeat")
def heartbeat() -> str:
    """Beat-scheduled: proves beat → broker → worker works; shown on /healthz."""
    from .models import WorkerHeartbeat

    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="beat", defaults={"last_seen_at": now})
    log.info("heartbeat: beat-scheduled task executed at %s", now.isoformat())
    return now.isoformat()


@shared_task(name="tenancy.tasks.fan_out", bind=True)
def fan_out(self, task_name: str, *args) -> int:
    """Beat-scheduled fan-out: enqueue `task_name(workspace_id, *args)` once per workspace.

    This is one of the few places allowed to see every workspace, and it only reads their ids.
    """
    from celery import current_app

    from .models import Workspace

    ids = list(Workspace.objects.values_list("pk", flat=True))
    # Children inherit the schedule's expiry: a rescore nobody picked up before the next one is due
    # is dropped rather than run late.
    expires = self.request.expires
    for workspace_id in ids:
        current_app.send_task(task_name, args=(workspace_id, *args), expires=expires)
    log.info("fan_out %s to %d workspaces", task_name, len(ids))
    return len(ids)
