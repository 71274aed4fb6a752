"""Two `celery beat` processes (a misconfigured deployment: beat must be a singleton) scheduling
full rescores every second, plus ten "Rescore now" clicks, with two workers of two pool processes
each: at most one rescore of a workspace runs at any time."""

from __future__ import annotations

import itertools
import time

import pytest
from django.test import Client
from django.urls import reverse

from health.models import HealthRun, RunStatus
from tenancy.context import use_workspace

from .conftest import app_on, bench_admin, build_workspace
from .procs import celery_beat, celery_worker, child_env, test_database_url, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACCOUNTS = 1500
WATCH_SECONDS = 12


def test_two_beats_and_ten_clicks_never_overlap_rescores(tmp_path, private_redis, processes):
    """The check: every health run that did work (not *skipped*) records when it started (after it
    took the workspace's lock) and finished (before it released it). Sorted by start, each run
    must finish before the next one starts. Runs turned away by the lock record themselves as
    skipped; there must be some, or the test did not make rescores compete."""
    ws = build_workspace(tmp_path, ACCOUNTS)
    env = child_env(tmp_path, test_database_url(), private_redis.url, HEALTH_RESCORE_INTERVAL_SECONDS="1")
    for name in ("worker-a", "worker-b"):
        processes.append(celery_worker(tmp_path, env, name, concurrency=2))
    for proc in processes:
        proc.wait_for_output("ready.")
    for name in ("beat-a", "beat-b"):
        processes.append(celery_beat(tmp_path, env, name))

    client = Client()
    client.force_login(bench_admin())
    url = reverse("health:rescore", kwargs={"workspace_slug": ws.slug})
    with app_on(private_redis.url):
        for _ in range(10):
            assert client.post(url).status_code == 302
            time.sleep(0.3)
    time.sleep(WATCH_SECONDS - 3)
    for proc in processes:
        if "beat" in proc.name:
            proc.stop()
            assert "Sending due task health-full-rescore" in proc.output(), proc.output()[-2000:]

    def settled():
        with use_workspace(ws):
            return not HealthRun.objects.filter(status=RunStatus.RUNNING).exists()

    wait_until(settled, 60, what="the last rescore to finish")
    with use_workspace(ws):
        all_runs = list(HealthRun.objects.order_by("started_at", "pk"))
    worked = [r for r in all_runs if r.status != RunStatus.SKIPPED]
    skipped = [r for r in all_runs if r.status == RunStatus.SKIPPED]
    assert len(worked) >= 3, [(r.kind, r.status) for r in all_runs]
    assert skipped, "no rescore was turned away: the test did not make them compete"
    assert all(r.status == RunStatus.SUCCEEDED for r in worked), [(r.status, r.error) for r in worked]
    for earlier, later in itertools.pairwise(worked):
        assert earlier.finished_at <= later.started_at, (
            f"run {earlier.pk} ({earlier.started_at:%H:%M:%S.%f}–{earlier.finished_at:%H:%M:%S.%f}) overlaps "
            f"run {later.pk} (from {later.started_at:%H:%M:%S.%f})"
        )
    print(f"{len(all_runs)} runs: {len(worked)} did the work one after the other, {len(skipped)} skipped")
