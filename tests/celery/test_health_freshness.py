"""New data reaches the health score through a real worker, with no manual command: a usage
write marks the account stale, queues a debounced incremental rescore on commit, and the worker
rescoring it updates the account row."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from cs_platform.celery import app
from health.defaults import ensure_default_scorecards
from health.models import HealthScore, RunKind
from health.recompute import recompute
from health.tasks import debounce_key
from tenancy.context import use_workspace

from .. import factories as f
from .worker import broker, filesystem_options, wait_for

TODAY = timezone.localdate()


def usage_change_reaches_the_score(broker_url: str, transport_options: dict) -> None:
    # The history is written before the worker's broker is in place: the rescore those writes
    # request goes to the in-memory transport and is dropped, and its debounce key is released as
    # the worker would, so the worker sees only the batch below however long this setup takes.
    ws = f.WorkspaceFactory()
    with use_workspace(ws):
        ensure_default_scorecards()
        account = f.AccountFactory(name="Fresh Data Co", licenses_purchased=20)
        for n in range(31, 121):
            f.DailyUsageFactory(
                account=account, feature="reports", day=TODAY - dt.timedelta(days=n), events=30
            )
        recompute(ws.pk)
        before = Account.objects.get(pk=account.pk)
        assert before.health_score is not None
    cache.delete(debounce_key(ws.pk))

    with (
        broker(broker_url, transport_options),
        start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=20),
    ):
        with use_workspace(ws), transaction.atomic():
            # A batch of writes in one transaction queues one rescore, sent when it commits.
            for n in range(1, 31):
                f.DailyUsageFactory(
                    account=account, feature="reports", day=TODAY - dt.timedelta(days=n), events=30
                )

        def rescored():
            with use_workspace(ws):
                row = Account.objects.get(pk=account.pk)
                return row if row.health_computed_at > before.health_computed_at else None

        after = wait_for(rescored, timeout=30)
    assert after is not None, "the worker did not rescore the account"
    with use_workspace(ws):
        history = HealthScore.objects.get(account=account, day=TODAY)
        # The last 30 complete days against the 30-day average of the 90 before: flat again.
        assert history.measures["usage_trend"]["raw"] == pytest.approx(0, abs=0.01)
        assert not Account.objects.get(pk=account.pk).health_stale
        from health.models import HealthRun

        kinds = list(HealthRun.objects.values_list("kind", flat=True))
    assert kinds.count(RunKind.INCREMENTAL) == 1
    assert after.health_score > before.health_score


@pytest.mark.django_db(transaction=True)
def test_usage_change_reaches_the_score_through_the_filesystem_broker(tmp_path, executed_tasks):
    usage_change_reaches_the_score("filesystem://", filesystem_options(tmp_path / "broker"))


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_usage_change_reaches_the_score_through_redis(executed_tasks):
    usage_change_reaches_the_score(os.environ["REDIS_URL"], {"visibility_timeout": 3600})
