from django.db.models import Count, Q
from django.utils import timezone

from .models import Task, TaskStatus


def tasks(request) -> dict:
    """The viewer's open and overdue task counts for the navigation badge (one indexed query)."""
    if getattr(request, "workspace", None) is None or not request.user.is_authenticated:
        return {}
    counts = Task.objects.filter(assignee=request.user, status=TaskStatus.OPEN).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=timezone.localdate()))
    )
    return {"my_open_tasks": counts["open"], "my_overdue_tasks": counts["overdue"]}
