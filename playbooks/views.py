"""Task pages: my tasks, a task with its comments, new task and edit. Reads need `view`; every
POST needs `work` (admins and CSMs). Objects come from the scoped managers, so another
workspace's task or account id is a 404; changes go through `playbooks.ctas`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Account
from accounts.views import FilteredListView
from tenancy.mixins import WorkspaceDetailView, WorkspacePageView
from tenancy.permissions import Action

from . import ctas
from .filters import WHO_ALL, TaskFilterSet
from .forms import CommentForm, ReassignForm, TaskCreateForm, TaskEditForm
from .models import Task

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class WorkOnPostMixin:
    """Anyone in the workspace reads; only roles that work accounts may change anything."""

    def required_action_for(self, method: str) -> Action:
        return Action.VIEW if method in SAFE_METHODS else Action.WORK


def _safe_next(request, fallback: str) -> str:
    """A `next` URL inside the current workspace, or the fallback."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    prefix = f"/w/{request.workspace.slug}/"
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return fallback


# The tabs of the list page: (key, label, query, count key).
TABS = [
    ("open", "My open", "", "open"),
    ("today", "Due today", "view=today", "today"),
    ("overdue", "Overdue", "view=overdue", "overdue"),
    ("all", "All open in workspace", f"who={WHO_ALL}", "all"),
    ("done", "Done", "view=done", "done"),
]


class TaskListView(FilteredListView):
    """My tasks: open, due today, overdue, the whole workspace's open tasks, done."""

    model = Task
    filterset_class = TaskFilterSet
    template_name = "playbooks/task_list.html"
    results_template_name = "playbooks/_task_results.html"

    def get_queryset(self):
        return super().get_queryset().select_related("account", "assignee")

    def current_tab(self) -> str:
        view, who = self.filterset.view_name, self.filterset.who_value
        if view == "open" and who == WHO_ALL:
            return "all"
        return view

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = ctas.tab_counts(self.request.user)
        current = self.current_tab()
        context.update(
            today=timezone.localdate(),
            tab=current,
            tabs=[
                {"key": key, "label": label, "query": query, "count": counts[count], "active": key == current}
                for key, label, query, count in TABS
            ],
            mine=self.filterset.who_value == "",
        )
        return context


class TaskFormPageView(WorkOnPostMixin, WorkspacePageView):
    template_name = "playbooks/task_form.html"

    def render_form(self, form, status: int = 200, **extra):
        return self.render_to_response(self.get_context_data(form=form, **extra), status=status)


class TaskCreateView(TaskFormPageView):
    """New task. Under an account's URL the account is fixed (the account page's panel posts
    here and comes back to the account); otherwise the form offers the workspace's accounts."""

    def get_account(self) -> Account | None:
        if "account_pk" in self.kwargs:
            return get_object_or_404(Account.objects.all(), pk=self.kwargs["account_pk"])
        return None

    def make_form(self, account, data=None):
        initial = {}
        requested = self.request.GET.get("account", "")
        if account is None and requested.isdigit():
            # A prefill only: an id outside the workspace is simply not among the choices.
            initial["account"] = Account.objects.filter(pk=int(requested)).first()
        return TaskCreateForm(data, account=account, user=self.request.user, initial=initial)

    def get(self, request, *args, **kwargs):
        account = self.get_account()
        return self.render_form(self.make_form(account), account=account)

    def post(self, request, *args, **kwargs):
        account = self.get_account()
        form = self.make_form(account, request.POST)
        task = form.save() if form.is_valid() else None
        if task is None:
            return self.render_form(form, account=account)
        messages.success(request, f"Task “{task.title}” created.")
        if account is not None:
            fallback = reverse("accounts:detail", args=[self.workspace.slug, account.pk]) + "#tasks"
            return redirect(_safe_next(request, fallback))
        return redirect("tasks:detail", self.workspace.slug, task.pk)


class TaskEditView(TaskFormPageView):
    template_name = "playbooks/task_edit.html"

    def get_task(self) -> Task:
        return get_object_or_404(Task.objects.select_related("account"), pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        task = self.get_task()
        return self.render_form(TaskEditForm(instance=task), task=task)

    def post(self, request, *args, **kwargs):
        task = self.get_task()
        form = TaskEditForm(request.POST, instance=task)
        if not form.is_valid():
            return self.render_form(form, task=task)
        try:
            form.save()
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.render_form(form, task=task)
        messages.success(request, "Task updated.")
        return redirect("tasks:detail", self.workspace.slug, task.pk)


class TaskDetailView(WorkOnPostMixin, WorkspaceDetailView):
    model = Task
    template_name = "playbooks/task_detail.html"
    context_object_name = "task"

    def get_queryset(self):
        return Task.objects.select_related(
            "account", "account__csm_owner", "assignee", "created_by", "completed_by"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        task = self.object
        context.update(
            comments=task.comments.select_related("author"),
            today=timezone.localdate(),
        )
        context.setdefault("comment_form", CommentForm())
        context.setdefault("reassign_form", ReassignForm(initial={"assignee": task.assignee_id}))
        return context


class TaskActionView(TaskDetailView):
    """A change posted from the task page (or a list's quick action). A GET goes to the task."""

    success_message = ""

    def get(self, request, *args, **kwargs):
        task = self.get_object()  # 404 for another workspace's task, before anything else
        return redirect("tasks:detail", request.workspace.slug, task.pk)

    def post(self, request, *args, **kwargs):
        self.object = task = self.get_object()
        response = self.act(request, task)
        if response is not None:
            return response
        messages.success(request, self.success_message.format(task=task))
        fallback = reverse("tasks:detail", args=[self.workspace.slug, task.pk])
        return redirect(_safe_next(request, fallback))

    def act(self, request, task: Task):
        """Do the change; return a response to show errors instead of redirecting."""
        raise NotImplementedError

    def invalid(self, **forms):
        return self.render_to_response(self.get_context_data(object=self.object, **forms))


class TaskCompleteView(TaskActionView):
    success_message = "Marked “{task.title}” done."

    def act(self, request, task):
        ctas.complete_task(task, request.user)


class TaskCancelView(TaskActionView):
    success_message = "Cancelled “{task.title}”."

    def act(self, request, task):
        ctas.cancel_task(task, request.user)


class TaskReopenView(TaskActionView):
    success_message = "Reopened “{task.title}”."

    def act(self, request, task):
        ctas.reopen_task(task, request.user)


class TaskReassignView(TaskActionView):
    success_message = "Reassigned to {task.assignee.display_name}."

    def act(self, request, task):
        form = ReassignForm(request.POST)
        if not form.is_valid():
            return self.invalid(reassign_form=form)
        try:
            ctas.reassign_task(task, form.cleaned_data["assignee"], by=request.user)
        except ValidationError as error:
            form.add_error("assignee", error.message_dict.get("assignee", error.messages))
            return self.invalid(reassign_form=form)


class TaskCommentView(TaskActionView):
    success_message = "Comment added."

    def act(self, request, task):
        form = CommentForm(request.POST)
        if not form.is_valid():
            return self.invalid(comment_form=form)
        ctas.add_comment(task, request.user, form.cleaned_data["body"])
