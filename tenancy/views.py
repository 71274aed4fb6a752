from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from .models import WorkerHeartbeat


@login_required
def home(request):
    """After login: straight into the only workspace, or a chooser for people in several."""
    memberships = list(request.user.memberships.select_related("workspace").order_by("workspace__name"))
    if len(memberships) == 1:
        return redirect("dashboard:home", workspace_slug=memberships[0].workspace.slug)
    return render(request, "tenancy/choose_workspace.html", {"choices": memberships})


def _check(probe) -> str:
    try:
        probe()
    except Exception as error:  # a health check reports any failure instead of raising it
        return f"error: {type(error).__name__}: {error}"[:300]
    return "ok"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    from cs_platform.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def healthz(request):
    """For load balancers, compose and monitoring: the database and the Celery broker answer
    (503 when either does not), and when beat last fired."""
    checks = {"database": _check(_database), "broker": _check(_broker)}
    healthy = all(v == "ok" for v in checks.values())
    beat = None
    if checks["database"] == "ok":
        beat = WorkerHeartbeat.objects.filter(name="beat").first()
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "checks": checks,
            "time": timezone.now().isoformat(),
            "last_beat_task_at": beat.last_seen_at.isoformat() if beat else None,
        },
        status=200 if healthy else 503,
    )
