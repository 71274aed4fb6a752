"""Outbound webhooks through a real Celery worker: a task created by a CSM is delivered to a
local receiver that answers 500 first; the worker retries after the backoff and the delivery
ends delivered, both attempts logged and both signed."""

from __future__ import annotations

import json
import os

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from cs_platform.celery import app
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from playbooks import ctas, delivery
from tenancy.context import use_workspace

from .. import factories as f
from ..celery.worker import broker, executed_tasks, filesystem_options, wait_for  # noqa: F401
from ..playbooks.hooks import webhook_receiver

SECRET = "worker-webhook-secret-0123456789"


def task_created_is_delivered_by_the_worker() -> None:
    ws = f.WorkspaceFactory()
    with webhook_receiver([500]) as hook:
        with use_workspace(ws):
            WebhookEndpoint.objects.create(url=hook.url, events=["task.created"], secret=SECRET)
            account = f.AccountFactory(external_id="hook-1", name="Hooked Inc")
        with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=20):
            with use_workspace(ws), transaction.atomic():
                ctas.create_task(account, "Send the renewal quote")

            def settled():
                with use_workspace(ws):
                    return WebhookDelivery.objects.filter(
                        status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED]
                    ).first()

            row = wait_for(settled, timeout=30)
        assert row is not None, "the worker did not settle the delivery"
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [(e["outcome"], e["http_status"]) for e in row.log] == [("retry", 500), ("ok", 200)]
    assert row.log[0]["retry_in_seconds"] == delivery.backoff_seconds(1)
    assert len(hook.received) == 2
    for request in hook.received:
        assert delivery.verify(request.body, SECRET, request.headers["X-CS-Signature"])
        body = json.loads(request.body)
        assert body["event"] == "task.created" and body["data"]["account"]["external_id"] == "hook-1"


@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_retried_by_the_worker_through_the_filesystem_broker(tmp_path, executed_tasks):  # noqa: F811
    with broker("filesystem://", filesystem_options(tmp_path / "broker")):
        task_created_is_delivered_by_the_worker()
    names = [name for name, _ in executed_tasks]
    assert names.count("integrations.tasks.deliver_webhook") == 2


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_retried_by_the_worker_through_redis(executed_tasks):  # noqa: F811
    with broker(os.environ["REDIS_URL"], {"visibility_timeout": 3600}):
        task_created_is_delivered_by_the_worker()
