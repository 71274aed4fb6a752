"""A worker killed in the middle of a full health rescore: the rescore is delivered again and
completes, with the scores a clean rescore gives, and no page ever shows a half-written result.

Real processes: `celery worker` (prefork) children on a private redis-server, the test database
shared with them, the dashboard page served by Django's test client in a thread.
"""

from __future__ import annotations

import json
import os
import signal
import time
from contextlib import contextmanager

import psycopg
import pytest
import redis
from django.test import Client
from django.urls import reverse

from accounts.models import Account, AccountStatus
from health.models import HealthRun, RunKind, RunStatus
from health.recompute import recompute
from tenancy.context import use_workspace

from .conftest import Observer, app_on, band_counts, bench_admin, build_workspace, health_state, reset_health
from .procs import celery_worker, child_env, test_database_url, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Enough accounts for the final rescore's write to take a moment while the pages are polled.
ACCOUNTS = 2500


class WriteGate:
    """Holds the score history table locked against writes (its own connection, as the owner):
    a rescore that reaches its writes waits there, so the test kills it at a known point —
    everything computed, nothing written — however fast or slow the machine is."""

    def __init__(self, url: str):
        self.connection = psycopg.connect(url)
        self.seen: set[int] = set()

    def close_gate(self) -> None:
        self.connection.execute("LOCK TABLE health_healthscore IN EXCLUSIVE MODE")

    def open_gate(self) -> None:
        self.connection.rollback()

    def new_waiter(self) -> int | None:
        """The pid of a backend that waits at the gate and was not seen before."""
        rows = self.connection.execute(
            "SELECT l.pid FROM pg_locks l WHERE NOT l.granted AND l.relation = 'health_healthscore'::regclass"
        ).fetchall()
        fresh = {pid for (pid,) in rows} - self.seen
        if fresh:
            self.seen |= fresh
            return fresh.pop()
        return None


@contextmanager
def write_gate(url: str):
    gate = WriteGate(url)
    try:
        yield gate
    finally:
        gate.connection.close()


def runs(ws) -> list[HealthRun]:
    with use_workspace(ws):
        return list(HealthRun.objects.order_by("started_at", "pk"))


def running_run(ws, exclude: set[int]) -> HealthRun | None:
    return next((r for r in runs(ws) if r.status == RunStatus.RUNNING and r.pk not in exclude), None)


def test_a_killed_worker_s_rescore_is_delivered_again_and_never_half_visible(
    tmp_path, private_redis, processes
):
    """Two kills, then a fresh worker:

    1. SIGKILL of the pool process running the rescore (what the out-of-memory killer does): the
       worker's main process sees the child die and, with `acks_late` + `reject_on_worker_lost`,
       puts the message back; its new pool process starts the rescore again.
    2. SIGKILL of the whole worker (main process and pool, like a machine that died) during that
       second attempt: nobody puts the message back; it stays unacknowledged in Redis until the
       broker's visibility timeout passes. A new worker is started (with a 2-second visibility
       timeout instead of the production hour, so the test is short) and gets it again.

    Each kill happens at a known point, not after a guessed delay: the test holds the score
    history table locked against writes (`WriteGate`), so each attempt computes everything and
    then waits at its first write; the kill comes when a new backend waits there. The lock is
    released before the third attempt.

    The third delivery must not be turned away by the workspace lock that the killed attempts left
    behind (the product lets a task's redelivery take over the lock held under its own task id)
    and it must complete.

    Why "no half-written result" is checked soundly: pages read the accounts' current health
    (score, band, coverage on the account rows). Two threads poll while the faults happen: one
    reads every account's health of the workspace in ONE SQL statement (one snapshot of the
    database, as any single page query sees it) about 50 times a second, and records every
    distinct state; the other requests the dashboard and reads its band counts. The workspace
    starts never scored (the "old" set) and a clean rescore in this process gave the "new" set;
    every recorded state must be exactly one of the two, and every dashboard must show the counts
    of one of the two. The workspace is smaller than one scoring chunk (50,000 accounts), so the
    run writes it in one transaction; a larger workspace's accounts switch in one statement after
    its last chunk (tests/health/test_recompute.py, docs/health-scoring.md).
    """
    ws = build_workspace(tmp_path, ACCOUNTS)
    reset_health(ws)
    old = health_state(ws.pk)
    with use_workspace(ws):
        clean = recompute(ws.pk, kind=RunKind.MANUAL)
    assert clean.status == RunStatus.SUCCEEDED
    new = health_state(ws.pk)
    scored = sum(1 for value in new.values() if value[0] is not None)
    assert scored > ACCOUNTS * 0.8, f"only {scored} accounts scored by the clean run"
    reset_health(ws)
    assert health_state(ws.pk) == old

    # A backend whose client died while it waited on a lock notices within half a second (as it
    # would when it next talked to the client) instead of holding the lock it then gets.
    env = child_env(
        tmp_path, test_database_url(), private_redis.url, PGOPTIONS="-c client_connection_check_interval=500"
    )
    first = celery_worker(tmp_path, env, "first")
    processes.append(first)
    first.wait_for_output("ready.")

    admin = bench_admin()
    trigger, poller = Client(), Client()
    trigger.force_login(admin)
    poller.force_login(admin)
    dashboard = reverse("dashboard:home", kwargs={"workspace_slug": ws.slug})

    def page():
        response = poller.get(dashboard)
        return response.status_code, response.content.decode()

    active = set(
        Account.all_workspaces.filter(workspace=ws, status=AccountStatus.ACTIVE).values_list("pk", flat=True)
    )
    observer = Observer(ws.pk, page)
    with write_gate(test_database_url(owner=True)) as gate, observer.running():
        gate.close_gate()
        with app_on(private_redis.url):
            response = trigger.post(reverse("health:rescore", kwargs={"workspace_slug": ws.slug}))
        assert response.status_code == 302

        # 1. Kill the pool process while the run waits at the gate: computed, nothing written.
        first_run = wait_until(lambda: running_run(ws, set()), 60, what="the rescore to start")
        wait_until(gate.new_waiter, 60, what="the rescore to reach its writes")
        children = first.children()
        assert len(children) == 1, children
        os.kill(children[0], signal.SIGKILL)

        # 2. The worker delivers it again to its new pool process; kill the whole worker there too.
        second_run = wait_until(lambda: running_run(ws, {first_run.pk}), 60, what="the redelivered rescore")
        wait_until(gate.new_waiter, 60, what="the redelivered rescore to reach its writes")
        first.kill_group(signal.SIGKILL)
        first.proc.wait(10)
        gate.open_gate()
        assert health_state(ws.pk) == old, "a killed run left scores behind"

        # 3. A new worker gets the unacknowledged message back once the visibility timeout passed.
        second = celery_worker(
            tmp_path,
            env,
            "second",
            transport_options={
                "visibility_timeout": 2,
                "unacked_restore_interval": 1,
                "unacked_restore_throttle": 1,
            },
        )
        processes.append(second)
        done = wait_until(
            lambda: next((r for r in runs(ws) if r.status == RunStatus.SUCCEEDED), None),
            90,
            what=f"the rescore to complete on the new worker:\n{second.output()[-2000:]}",
        )
        time.sleep(0.3)  # one more observation of the final state

    assert not observer.errors, observer.errors
    final = health_state(ws.pk)
    assert final == new, "the redelivered rescore's scores differ from a clean rescore's"
    assert done.accounts_scored == clean.accounts_scored

    # Every state any page could have read was the full old set or the full new set.
    assert observer.states[0] == old and observer.states[-1] == new
    assert all(state in (old, new) for state in observer.states), [
        sum(1 for k in state if state[k] != old[k]) for state in observer.states if state not in (old, new)
    ]
    expected = {band_counts(old, active), band_counts(new, active)}
    assert observer.dashboards, "the dashboard was never read"
    assert {status for status, _ in observer.dashboards} == {200}
    assert {counts for _, counts in observer.dashboards} <= expected
    assert band_counts(old, active) in {c for _, c in observer.dashboards}

    print(
        f"{observer.polls} snapshots of {len(new)} accounts: {len(observer.states)} distinct states "
        f"(old, then new); {len(observer.dashboards)} dashboards, all 200 with old or new counts"
    )
    # The two killed attempts are recorded as failed (worker lost), then one success.
    history = runs(ws)
    assert [r.pk for r in history][:2] == [first_run.pk, second_run.pk]
    assert [r.status for r in history] == [RunStatus.FAILED, RunStatus.FAILED, RunStatus.SUCCEEDED], [
        (r.status, r.error) for r in history
    ]
    assert all("Worker lost" in r.error for r in history[:2])
    # The rescore's message was consumed: it is neither queued nor unacknowledged any more (the
    # worker may still hold follow-ups it scheduled with a countdown, unacknowledged until due).
    broker = redis.Redis.from_url(private_redis.url)
    left = [json.loads(m)[0] for m in broker.lrange("celery", 0, -1)]
    left += [json.loads(m)[0] for m in broker.hvals("unacked")]
    assert "health.tasks.rescore_workspace" not in [m["headers"]["task"] for m in left]
