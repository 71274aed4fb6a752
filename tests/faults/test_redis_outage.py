"""Redis (broker and cache) stops in the middle of work and starts again: no queued or running
task is lost, and pages and the API keep serving meanwhile (degraded where they must be)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from health.models import HealthRun, RunStatus
from tenancy.context import use_workspace
from tenancy.models import ApiKey, WorkerHeartbeat
from tenancy.tasks import heartbeat

from .conftest import app_on, bench_admin, build_workspace
from .procs import celery_worker, child_env, test_database_url, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACCOUNTS = 3000


def runs(ws, status=None) -> list[HealthRun]:
    with use_workspace(ws):
        found = HealthRun.objects.order_by("started_at", "pk")
        return list(found.filter(status=status) if status else found)


def test_redis_stops_and_returns(tmp_path, private_redis, processes, cache_on):
    """The private Redis runs as a broker's Redis should (append-only file, fsync on every write;
    docs/operations.md), so a restart keeps what was queued. With it stopped (SIGTERM) while a
    rescore runs and a second task waits in the queue:

    - the running rescore finishes (its work is in the database) and the queued task runs once
      Redis is back;
    - `/healthz` answers 503 naming the broker, with the database still "ok";
    - the dashboard, the account list and an API upsert answer as usual (the cache fails soft);
    - "Rescore now" answers with a message that nothing was queued, not a 500; after Redis
      returns the same click queues a rescore that runs.
    """
    ws = build_workspace(tmp_path, ACCOUNTS)
    env = child_env(tmp_path, test_database_url(), private_redis.url)
    worker = celery_worker(tmp_path, env, "worker")
    processes.append(worker)
    worker.wait_for_output("ready.")
    cache_on(private_redis.url)
    with use_workspace(ws):
        _, key = ApiKey.issue("sync", ["read", "write"])
    pages, api = Client(), Client(headers={"Authorization": f"Bearer {key}"})
    pages.force_login(bench_admin())
    rescore = reverse("health:rescore", kwargs={"workspace_slug": ws.slug})
    scorecards = reverse("health:scorecards", kwargs={"workspace_slug": ws.slug})

    with app_on(private_redis.url):
        assert pages.get("/healthz").status_code == 200
        assert pages.post(rescore).status_code == 302
        wait_until(lambda: runs(ws, RunStatus.RUNNING), 60, what="the rescore to start")
        heartbeat.delay()  # queued behind the rescore (one pool process)

        private_redis.stop()

        health = pages.get("/healthz")
        assert health.status_code == 503
        assert health.json()["checks"]["database"] == "ok"
        assert health.json()["checks"]["broker"].startswith("error")
        for url in (
            reverse("dashboard:home", kwargs={"workspace_slug": ws.slug}),
            reverse("accounts:list", kwargs={"workspace_slug": ws.slug}),
            scorecards,
        ):
            assert pages.get(url).status_code == 200, url
        upsert = api.put(
            "/api/v1/accounts/redis-down-1",
            {"external_id": "redis-down-1", "name": "Written while Redis was down", "mrr": "120.00"},
            content_type="application/json",
        )
        assert upsert.status_code == 201, upsert.content
        clicked = pages.post(rescore, follow=True)
        assert clicked.status_code == 200
        assert b"task queue is unavailable" in clicked.content
        assert not WorkerHeartbeat.objects.exists()

        private_redis.start()

        wait_until(
            lambda: WorkerHeartbeat.objects.exists(), 60, what="the queued task to run after Redis returned"
        )
        first = runs(ws)[0]
        assert first.status == RunStatus.SUCCEEDED, (first.status, first.error)
        assert pages.get("/healthz").status_code == 200
        clicked = pages.post(rescore, follow=True)
        assert b"A full rescore is queued" in clicked.content
        wait_until(
            lambda: len(runs(ws, RunStatus.SUCCEEDED)) >= 2, 60, what="the rescore queued after the outage"
        )
