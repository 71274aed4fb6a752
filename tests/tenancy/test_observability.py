"""Operability: request ids on every response and log line, the health check, Prometheus metrics."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from health.models import Alert, AlertRule, HealthRun, RunKind, RunStatus
from integrations.models import IngestCount, count_ingested
from tenancy.context import use_workspace
from tenancy.observability import JsonFormatter, LogContextFilter

from ..support import wurl

pytestmark = pytest.mark.django_db


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(LogContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def collected():
    handler = Collect()
    logger = logging.getLogger("accounts")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_a_request_id_is_kept_or_made_and_reaches_the_log_lines(client, two_workspaces, collected):
    tw = two_workspaces
    client.force_login(tw.a_csm)
    given = client.get(wurl(tw.a, "accounts:list"), headers={"X-Request-ID": "lb-7f3a9c2e11"})
    assert given["X-Request-ID"] == "lb-7f3a9c2e11"
    made = client.get(wurl(tw.a, "accounts:list"), headers={"X-Request-ID": "bad id with spaces"})
    assert made["X-Request-ID"] != "bad id with spaces" and len(made["X-Request-ID"]) == 32
    # A line logged while serving a page names the request and the workspace.
    from tenancy.observability import _request_id

    token = _request_id.set("req-12345678")
    try:
        with use_workspace(tw.a):
            logging.getLogger("accounts.views").warning("something to see")
    finally:
        _request_id.reset(token)
    record = collected.records[-1]
    assert (record.request_id, record.workspace_id) == ("req-12345678", tw.a.pk)
    line = JsonFormatter().format(record)
    assert '"request_id": "req-12345678"' in line and f'"workspace_id": {tw.a.pk}' in line


def test_healthz_checks_the_database_and_the_broker(client, monkeypatch):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}
    from cs_platform.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["checks"]["broker"].startswith("error:")


def test_metrics_need_the_token_and_report_runs_alerts_and_ingestion(client, settings, two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        HealthRun.objects.create(kind=RunKind.SCHEDULED, status=RunStatus.SUCCEEDED, as_of="2026-11-01")
        rule = AlertRule.objects.create(kind="no_touchpoint", name="Quiet", severity="high")
        Alert.objects.create(account=tw.sample.account, rule=rule, severity="high", summary="quiet")
        count_ingested("daily_usage", 500)
        count_ingested("daily_usage", 250)
    with use_workspace(tw.b):
        count_ingested("daily_usage", 7)
    settings.METRICS_TOKEN = ""
    settings.DEBUG = False
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    assert Client().get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 404
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert response.status_code == 200
    text = response.content.decode()
    a = tw.a.slug
    assert f'cs_health_runs_total{{kind="scheduled",status="succeeded",workspace="{a}"}} 1.0' in text
    assert f'cs_alerts_open{{severity="high",workspace="{a}"}} 1.0' in text
    assert f'cs_records_ingested_total{{resource="daily_usage",workspace="{a}"}} 750.0' in text
    assert f'cs_records_ingested_total{{resource="daily_usage",workspace="{tw.b.slug}"}} 7.0' in text
    assert 'cs_queue_depth{queue="celery"}' in text
    with use_workspace(tw.a):
        assert IngestCount.objects.get().records == 750
