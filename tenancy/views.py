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


def healthz(request):
    """Liveness for load balancers and compose: the database answers; when did beat last fire."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beat = WorkerHeartbeat.objects.filter(name="beat").first()
    return JsonResponse(
        {
            "status": "ok",
            "time": timezone.now().isoformat(),
            "last_beat_task_at": beat.last_seen_at.isoformat() if beat else None,
        }
    )
