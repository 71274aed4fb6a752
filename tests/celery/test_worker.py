"""A real Celery worker consumes real messages: the project's app, a broker, and the test database.

The worker runs in a thread of the test process (celery.contrib.testing), against kombu's
filesystem transport in a temporary folder, or against Redis when REDIS_URL is set. Its thread
opens its own database connection, so the tests are transactional: the worker only sees
committed rows (on SQLite the test database is a file for this reason).
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from kombu.simple import SimpleQueue

from cs_platform.celery import app
from tenancy.models import WorkerHeartbeat
from tenancy.tasks import fan_out, heartbeat

from .. import factories as f
from .worker import WAIT_SECONDS, broker, filesystem_options, wait_for


def heartbeat_through_a_worker(executed_tasks) -> None:
    assert not WorkerHeartbeat.objects.exists()
    with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=20):
        sent_at = time.monotonic()
        heartbeat.delay()
        row = wait_for(lambda: WorkerHeartbeat.objects.filter(name="beat").first())
        assert row is not None, f"no heartbeat written by the worker within {WAIT_SECONDS} s"
    assert time.monotonic() - sent_at < WAIT_SECONDS
    assert ("tenancy.tasks.heartbeat", threading.get_ident()) not in executed_tasks
    assert [name for name, _ in executed_tasks] == ["tenancy.tasks.heartbeat"]


@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_task_from_the_filesystem_broker(tmp_path, executed_tasks):
    with broker("filesystem://", filesystem_options(tmp_path / "broker")):
        heartbeat_through_a_worker(executed_tasks)
    # Consumed and acknowledged: no message is left in the folder.
    assert not list((tmp_path / "broker").glob("*.msg"))


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_task_from_redis(executed_tasks):
    with broker(os.environ["REDIS_URL"], {"visibility_timeout": 3600}):
        # Messages left by an earlier run would run too and prove nothing.
        app.control.purge()
        heartbeat_through_a_worker(executed_tasks)


@pytest.mark.django_db
def test_fan_out_enqueues_one_message_per_workspace(tmp_path):
    workspaces = f.WorkspaceFactory.create_batch(3)
    with broker("filesystem://", filesystem_options(tmp_path / "broker")):
        assert fan_out("health.tasks.rescore_workspace", "2024-05-01") == 3
        received = []
        with app.connection_for_read() as conn:
            queue = SimpleQueue(conn, app.conf.task_default_queue)
            while True:
                try:
                    message = queue.get(timeout=0.5)
                except queue.Empty:
                    break
                args, kwargs, _ = message.payload
                received.append((message.headers["task"], tuple(args), kwargs))
                message.ack()
            queue.close()
    assert sorted(received) == sorted(
        ("health.tasks.rescore_workspace", (ws.pk, "2024-05-01"), {}) for ws in workspaces
    )
