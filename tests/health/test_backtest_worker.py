"""A backtest started on the page runs on a real Celery worker, and the page follows it: the
progress fragment polls until the worker has stored the results, then reloads the page."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client
from django.utils import timezone

from cs_platform.celery import app
from health.defaults import ensure_default_scorecards
from health.models import BacktestRun, Scorecard
from tenancy.context import use_workspace
from tenancy.models import Role
from tests import factories as f
from tests.celery.worker import broker, executed_tasks, filesystem_options, wait_for  # noqa: F401
from tests.support import wurl


@pytest.mark.django_db(transaction=True)
def test_a_backtest_started_on_the_page_runs_on_a_worker(tmp_path, executed_tasks):  # noqa: F811
    ws = f.WorkspaceFactory()
    admin = f.UserFactory()
    f.MembershipFactory(user=admin, workspace=ws, role=Role.ADMIN)
    today = timezone.localdate()
    with use_workspace(ws):
        ensure_default_scorecards()
        card = Scorecard.objects.get(is_default=True)
        for n in range(3):
            account = f.AccountFactory(contract_start=today - dt.timedelta(days=400))
            f.CSMScoreFactory(account=account, score=1 + n, scored_at=timezone.now() - dt.timedelta(days=200))
    client = Client()
    client.force_login(admin)
    with (
        broker("filesystem://", filesystem_options(tmp_path / "broker")),
        start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=20),
    ):
        response = client.post(
            wurl(ws, "health:backtest", pk=card.pk),
            {"points": "4", "spacing_days": "30", "horizon_days": "60"},
        )
        assert response.status_code == 302
        run = BacktestRun.all_workspaces.get(workspace=ws)
        progress_url = wurl(ws, "health:backtest_progress", pk=run.pk)

        def finished():
            answer = client.get(progress_url, headers={"HX-Request": "true"})
            return answer if answer.has_header("HX-Refresh") else None

        assert wait_for(finished) is not None, "the worker never finished the backtest"
    assert [name for name, _ in executed_tasks] == ["health.tasks.run_backtest"]
    run.refresh_from_db()
    assert run.status == "succeeded" and run.progress == 100
    assert run.results["pooled"]["observations"] == 12  # 3 accounts × 4 look-back dates
    page = client.get(wurl(ws, "health:backtest_run", pk=run.pk))
    assert b"ROC AUC for churn" in page.content
