"""Running a real Celery worker inside a test: point the project's app at a broker, start a worker
thread, wait for what it writes to the database."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery.signals import task_postrun
from django.db import connections
from kombu import pools

from cs_platform.celery import app

WAIT_SECONDS = 20


def _drop_connection_pools() -> None:
    # The app caches its connection and producer pools, built from the broker settings.
    # kombu keeps pools in a process-wide registry keyed by broker URL; a closed pool left there
    # would be handed out again, so the registry is reset as well.
    if app._pool is not None:
        app._pool.force_close_all()
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    # Queues and routes are cached from the settings too (the default queue changes per test).
    for cached in ("queues", "router", "_rtable"):
        app.amqp.__dict__.pop(cached, None)


@contextmanager
def broker(url: str, transport_options: dict, queue: str | None = None) -> Iterator[None]:
    """Point the project's Celery app at another broker for the block, then restore it. Without
    `queue`, tasks go to a queue of the block's own: parallel test processes sharing one Redis
    never take each other's tasks."""
    keys = (
        "broker_url",
        "broker_read_url",
        "broker_write_url",
        "broker_transport_options",
        "task_default_queue",
    )
    saved = {key: app.conf[key] for key in keys}
    _drop_connection_pools()
    app.conf.update(
        broker_url=url,
        broker_read_url=None,
        broker_write_url=None,
        broker_transport_options=transport_options,
        task_default_queue=queue or f"test-{uuid.uuid4().hex[:12]}",
    )
    try:
        yield
    finally:
        _drop_connection_pools()
        app.conf.update(saved)


def filesystem_options(folder: Path) -> dict:
    (folder / "processed").mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder / "control"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }


@pytest.fixture
def executed_tasks() -> Iterator[list[tuple[str, int]]]:
    """(task name, thread id) of every task the worker ran; also closes the worker thread's
    database connections after each task, so none is left open when the test database is dropped."""
    executed: list[tuple[str, int]] = []

    def on_postrun(sender=None, **kwargs):
        executed.append((sender.name, threading.get_ident()))
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()

    task_postrun.connect(on_postrun, weak=False)
    try:
        yield executed
    finally:
        task_postrun.disconnect(on_postrun)


def wait_for(probe: Callable, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.1)
    return probe()
