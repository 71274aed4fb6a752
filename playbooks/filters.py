"""The task list's filters: which tab (open, due today, overdue, done), whose tasks, priority and
source. `who` defaults to the visitor, so the page is "my tasks" until asked otherwise."""

from __future__ import annotations

import django_filters
from django.utils import timezone

from . import ctas
from .models import CLOSED_STATUSES, Task, TaskPriority, TaskSource, TaskStatus

VIEWS = [
    ("open", "Open"),
    ("today", "Due today"),
    ("overdue", "Overdue"),
    ("done", "Done or cancelled"),
]
WHO_ME, WHO_ALL, WHO_NOBODY = "", "all", "nobody"


class TaskFilterSet(django_filters.FilterSet):
    view = django_filters.ChoiceFilter(choices=VIEWS, method="by_view", empty_label=None, label="Show")
    who = django_filters.ChoiceFilter(method="by_assignee", label="Assigned to", empty_label=None)
    priority = django_filters.ChoiceFilter(choices=TaskPriority.choices)
    source = django_filters.ChoiceFilter(choices=TaskSource.choices)

    class Meta:
        model = Task
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Members are read inside the request's workspace: another workspace's user id is not a
        # choice, so it reads as an invalid filter rather than as that person's tasks.
        members = [(str(u.pk), u.full_name or u.email) for u in ctas.assignable_members()]
        self.filters["who"].extra["choices"] = [
            (WHO_ME, "Me"),
            (WHO_ALL, "Anyone"),
            (WHO_NOBODY, "Unassigned"),
            *members,
        ]

    @property
    def view_name(self) -> str:
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        return data.get("view") or "open"

    @property
    def who_value(self) -> str:
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        return data.get("who") or WHO_ME

    def by_view(self, queryset, name, value):
        return queryset  # applied in `qs`, which also runs when the parameter is absent

    def by_assignee(self, queryset, name, value):
        return queryset  # applied in `qs` for the same reason

    @property
    def qs(self):
        queryset = super().qs
        today = timezone.localdate()
        view = self.view_name
        if view == "done":
            queryset = queryset.filter(status__in=CLOSED_STATUSES).order_by("-completed_at", "-pk")
        else:
            queryset = queryset.filter(status=TaskStatus.OPEN)
            if view == "today":
                queryset = queryset.filter(due_on=today)
            elif view == "overdue":
                queryset = queryset.filter(due_on__lt=today)
            queryset = queryset.by_urgency()
        who = self.who_value
        if who == WHO_ME:
            queryset = queryset.filter(assignee=self.request.user) if self.request else queryset.none()
        elif who == WHO_NOBODY:
            queryset = queryset.filter(assignee__isnull=True)
        elif who != WHO_ALL:
            queryset = queryset.filter(assignee_id=int(who))
        return queryset
