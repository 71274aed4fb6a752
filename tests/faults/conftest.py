"""Fixtures of the fault tests: a private Redis, workspaces built by the benchmark generator, the
test process's Celery app and cache pointed at the private Redis, health-state snapshots."""

from __future__ import annotations

import copy
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from django.db import connection, connections

from accounts.models import Account
from health.models import HealthDaySummary, HealthRun, HealthScore
from tenancy.context import use_workspace
from tenancy.models import User, Workspace

from ..celery.worker import broker
from .procs import ROOT, PrivateRedis, Process, child_env, python, test_database_url


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path / "redis").start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Every child process a test starts; all are stopped at the end whatever happened."""
    started: list[Process] = []
    yield started
    for proc in reversed(started):
        proc.stop()


@contextmanager
def app_on(redis_url: str) -> Iterator[None]:
    """The test process's Celery app publishes to `redis_url` (queue `celery`, where the child
    workers listen) for the block."""
    with broker(redis_url, {"visibility_timeout": 3600}, queue="celery"):
        yield


@pytest.fixture
def cache_on(settings):
    """Point the test process's cache at a Redis (the product's fail-soft backend)."""

    def point(redis_url: str) -> None:
        caches = copy.deepcopy(settings.CACHES)
        caches["default"] = {
            "BACKEND": "cs_platform.cache.ResilientRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"fault-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
        settings.CACHES = caches

    return point


def build_workspace(tmp_path, accounts: int, slug: str = "bench-1", days: int = 60) -> Workspace:
    """A workspace of `accounts` accounts with correlated history, written by the benchmark
    generator in a child process (committed: child workers see it), then named `slug`. Its broker
    is a folder of its own, so the backfill that provisioning queues is never run. Its admin is
    `admin@bench-1.test` (password `bench12345`) whatever the slug."""
    folder = tmp_path / f"generate-{slug}"
    folder.mkdir(exist_ok=True)
    argv = python(str(ROOT / "bench" / "generate.py"), f"--accounts={accounts}", f"--days={days}")
    proc = Process(
        f"generate-{slug}", argv, child_env(folder, test_database_url(owner=True), None), folder / "log"
    )
    proc.start().proc.wait(300)
    proc.stop()
    assert proc.proc.returncode == 0, proc.output()[-3000:]
    Workspace.objects.filter(slug="bench-1").update(slug=slug, name=f"Bench {slug}")
    return Workspace.objects.get(slug=slug)


def bench_admin() -> User:
    return User.objects.get(email="admin@bench-1.test")


# --- Health state as every page sees it ---------------------------------------------------------------

State = dict[int, tuple]


def health_state(workspace_id: int) -> State:
    """Every account's current health (score, band, coverage) in ONE statement, so one snapshot
    of the database (what one page query sees), on the calling thread's own connection."""
    table = Account._meta.db_table
    # Raw SQL sees the workspace's rows only inside its scope (row-level security on PostgreSQL).
    with use_workspace(workspace_id), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, health_score, health_band, health_coverage FROM {table} WHERE workspace_id = %s",  # noqa: S608
            [workspace_id],
        )
        return {
            row[0]: (row[1], row[2], None if row[3] is None else round(float(row[3]), 3)) for row in cursor
        }


def reset_health(ws: Workspace) -> None:
    """Back to "never scored": no current score, no history, no summary, no runs."""
    Account.all_workspaces.filter(workspace=ws).update(
        health_score=None, health_band="", health_coverage=None, health_computed_at=None, health_stale=False
    )
    with use_workspace(ws):
        HealthScore.objects.all().delete()
        HealthDaySummary.objects.all().delete()
        HealthRun.objects.all().delete()


DASHBOARD_BANDS = re.compile(r'aria-label="(\d+) red, (\d+) yellow, (\d+) green, (\d+) not scored"')


def band_counts(state: State, active_ids: set[int]) -> tuple[int, int, int, int]:
    bands = [state[i][1] for i in active_ids]
    return (bands.count("red"), bands.count("yellow"), bands.count("green"), bands.count(""))


@dataclass
class Observer:
    """Polls, until stopped, the database's health state of a workspace (one statement a time)
    and the dashboard page; records every distinct state seen."""

    workspace_id: int
    page: Callable[[], tuple[int, str]] | None = None
    states: list[State] = field(default_factory=list)
    dashboards: list[tuple[int, tuple | None]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    polls: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _poll_db(self) -> None:
        try:
            while not self._stop.is_set():
                state = health_state(self.workspace_id)
                self.polls += 1
                if not self.states or self.states[-1] != state:
                    self.states.append(state)
                time.sleep(0.02)
        except BaseException as error:  # reported by the test
            self.errors.append(error)
        finally:
            connections.close_all()

    def _poll_page(self) -> None:
        try:
            while not self._stop.is_set():
                status, body = self.page()
                match = DASHBOARD_BANDS.search(body)
                self.dashboards.append((status, tuple(int(g) for g in match.groups()) if match else None))
                time.sleep(0.05)
        except BaseException as error:
            self.errors.append(error)
        finally:
            connections.close_all()

    @contextmanager
    def running(self) -> Iterator[Observer]:
        threads = [threading.Thread(target=self._poll_db, daemon=True)]
        if self.page is not None:
            threads.append(threading.Thread(target=self._poll_page, daemon=True))
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(30)
