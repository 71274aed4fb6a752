"""Prometheus metrics at `/metrics`, read from the database and the broker at scrape time, so
every web process answers the same figures and nothing is lost when a process restarts.

Access: with `METRICS_TOKEN` set, scrapers send `Authorization: Bearer <token>`; without it the
endpoint is open only when `DEBUG` is on, and 404 otherwise.
"""

from __future__ import annotations

import datetime as dt
import hmac

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

QUEUES = ("celery",)


class PlatformCollector:
    """Platform-level figures across workspaces (labelled by workspace slug)."""

    def collect(self):
        from health.models import ACTIVE_ALERT_STATUSES, Alert, HealthRun
        from integrations.models import IngestCount
        from tenancy.models import Workspace

        slugs = dict(Workspace.objects.values_list("pk", "slug"))

        runs = CounterMetricFamily(
            "cs_health_runs",
            "Health rescore runs by kind and outcome",
            labels=["workspace", "kind", "status"],
        )
        for row in HealthRun.all_workspaces.values("workspace_id", "kind", "status").annotate(n=Count("pk")):
            runs.add_metric([slugs.get(row["workspace_id"], "?"), row["kind"], row["status"]], row["n"])
        yield runs

        since = timezone.now() - dt.timedelta(days=1)
        last = GaugeMetricFamily(
            "cs_health_run_last_seconds",
            "Duration of the latest finished run of each workspace in the last 24 h",
            labels=["workspace"],
        )
        # One query: the day's finished runs in order, the last one of each workspace wins.
        latest = {
            workspace_id: (finished - started).total_seconds()
            for workspace_id, started, finished in HealthRun.all_workspaces.filter(finished_at__gte=since)
            .order_by("finished_at", "pk")
            .values_list("workspace_id", "started_at", "finished_at")
        }
        for workspace_id, seconds in latest.items():
            last.add_metric([slugs.get(workspace_id, "?")], seconds)
        yield last

        alerts = GaugeMetricFamily("cs_alerts_open", "Open alerts", labels=["workspace", "severity"])
        for row in (
            Alert.all_workspaces.filter(status__in=ACTIVE_ALERT_STATUSES)
            .values("workspace_id", "severity")
            .annotate(n=Count("pk"))
        ):
            alerts.add_metric([slugs.get(row["workspace_id"], "?"), row["severity"]], row["n"])
        yield alerts

        ingested = CounterMetricFamily(
            "cs_records_ingested",
            "Records written through the partner API and CSV imports",
            labels=["workspace", "resource"],
        )
        for row in IngestCount.all_workspaces.values("workspace_id", "resource", "records"):
            ingested.add_metric([slugs.get(row["workspace_id"], "?"), row["resource"]], row["records"])
        yield ingested

        depth = GaugeMetricFamily("cs_queue_depth", "Messages waiting in the Celery queue", labels=["queue"])
        for queue, count in queue_depths().items():
            depth.add_metric([queue], count)
        yield depth


def queue_depths() -> dict[str, float]:
    """Messages waiting per queue; NaN when the broker does not answer."""
    from cs_platform.celery import app

    depths: dict[str, float] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            channel = conn.default_channel
            for queue in QUEUES:
                try:
                    depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except Exception:  # the queue does not exist yet: nothing waits in it
                    depths[queue] = 0
    except Exception:
        depths = dict.fromkeys(QUEUES, float("nan"))
    return depths


def _authorised(request) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        # As bytes: compare_digest refuses non-ASCII str (a mangled header must be a 404, not a 500).
        return hmac.compare_digest(given.encode(), token.encode())
    return settings.DEBUG


def metrics(request):
    if not _authorised(request):
        raise Http404
    registry = CollectorRegistry()
    registry.register(PlatformCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
