"""New data reaches the health score through a real worker, with no manual command: a usage
write marks the account stale, queues a debounced incremental rescore on commit, and the worker
rescoring it updates the account row."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from cs_platform.celery import app
from health.defaults import ensure_default_scorecards
from health.models import HealthScore, RunKind
from health.recompute import recompute
from tenancy.context import use_workspace

from .. import factories as f
from .worker import broker, filesystem_options, wait_for

TODAY = timezone.localdate()


def usage_change_reaches_the_score() -> None:
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

    with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=20):
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
    with broker("filesystem://", filesystem_options(tmp_path / "broker")):
        usage_change_reaches_the_score()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_usage_change_reaches_the_score_through_redis(executed_tasks):
    with broker(os.environ["REDIS_URL"], {"visibility_timeout": 3600}):
        usage_change_reaches_the_score()
