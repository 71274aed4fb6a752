"""Playbook pages: the list, the editor (admins) and the run log. Everyone in the workspace
reads the list and the run log; only admins open the editor. Objects come from the scoped
managers, so another workspace's playbook or run id is a 404."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from tenancy.mixins import WorkspaceDetailView, WorkspaceListView, WorkspacePageView
from tenancy.permissions import Action

from . import runner
from .models import Playbook, PlaybookRun, PlaybookStep, RunStatus, StepKind, StepRun
from .playbook_forms import PlaybookForm, StepForm, StepFormSet, save_playbook, step_initial

RECENT_DAYS = 30


class PlaybookListView(WorkspacePageView):
    template_name = "playbooks/playbook_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
        recent = Q(runs__created_at__gte=since)
        playbooks = (
            Playbook.objects.select_related("alert_rule", "stage", "filter_tier", "filter_stage")
            .prefetch_related(Prefetch("steps", queryset=PlaybookStep.objects.order_by("position", "pk")))
            .annotate(
                recent_runs=Count("runs", filter=recent),
                recent_failed=Count("runs", filter=recent & Q(runs__status=RunStatus.FAILED)),
            )
        )
        context.update(playbooks=playbooks, recent_days=RECENT_DAYS)
        return context


class PlaybookEditView(WorkspacePageView):
    """New or existing playbook: its settings and ordered steps, saved together or not at all."""

    template_name = "playbooks/playbook_form.html"
    required_action = Action.CONFIGURE

    def get_playbook(self) -> Playbook:
        if "pk" in self.kwargs:
            return get_object_or_404(Playbook.objects.all(), pk=self.kwargs["pk"])
        return Playbook(trigger="band_entered", band="red", frequency_cap_days=30)

    def get(self, request, *args, **kwargs):
        playbook = self.get_playbook()
        if playbook.pk:
            initial = [StepForm.initial_from(s) for s in playbook.steps.order_by("position", "pk")]
        else:
            initial = [step_initial(StepKind.CREATE_TASK, 1)]
        formset = StepFormSet(initial=initial, prefix="s")
        return self.render(playbook, PlaybookForm(instance=playbook), formset)

    def post(self, request, *args, **kwargs):
        playbook = self.get_playbook()
        add = request.POST.get("add")
        if add:
            if add not in StepKind.values:
                raise Http404("Unknown step kind")
            # Keep what was typed and append an empty step of the chosen kind.
            data = request.POST.copy()
            total = int(data.get("s-TOTAL_FORMS") or 0)
            for name, value in step_initial(add, total + 1).items():
                data[f"s-{total}-{name}"] = value
            data["s-TOTAL_FORMS"] = str(total + 1)
            form = PlaybookForm(data, instance=playbook)
            formset = StepFormSet(data, prefix="s")
            return self.render(playbook, form, formset, fresh=True)
        form = PlaybookForm(request.POST, instance=playbook)
        formset = StepFormSet(request.POST, prefix="s")
        if not (form.is_valid() and formset.is_valid()):
            return self.render(playbook, form, formset, status=400)
        saved = save_playbook(form, formset)
        messages.success(request, f"Saved the playbook “{saved.name}”.")
        return redirect("tasks:playbooks", workspace_slug=self.workspace.slug)

    def render(self, playbook, form, formset, status=200, fresh=False):
        context = self.get_context_data(
            playbook=playbook, form=form, formset=formset, step_kinds=StepKind.choices, fresh=fresh
        )
        return self.render_to_response(context, status=status)


class RunLogView(WorkspaceListView):
    """Runs, newest first, with each step's status, attempts and last error; filter by
    playbook and status (?playbook=<id>&status=failed)."""

    model = PlaybookRun
    template_name = "playbooks/run_log.html"
    context_object_name = "runs"

    def get_queryset(self):
        runs = PlaybookRun.objects.select_related("playbook", "account").prefetch_related(
            Prefetch("step_runs", queryset=StepRun.objects.order_by("position", "pk"))
        )
        self.playbook = None
        wanted = self.request.GET.get("playbook", "")
        if wanted.isdigit():
            # Read inside the workspace: another workspace's id names nothing and filters to nothing.
            self.playbook = Playbook.objects.filter(pk=int(wanted)).first()
            runs = runs.filter(playbook=self.playbook) if self.playbook else runs.none()
        self.status = self.request.GET.get("status", "")
        if self.status in RunStatus.values:
            runs = runs.filter(status=self.status)
        return runs.order_by("-created_at", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            playbooks=Playbook.objects.order_by("name"),
            selected_playbook=self.playbook,
            status=self.status,
            statuses=RunStatus.choices,
            query_without_page=query.urlencode(),
        )
        return context


class RunDetailView(WorkspaceDetailView):
    model = PlaybookRun
    template_name = "playbooks/run_detail.html"
    context_object_name = "run"

    def get_queryset(self):
        return PlaybookRun.objects.select_related("playbook", "account")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["step_runs"] = self.object.step_runs.order_by("position", "pk")
        context["max_attempts"] = runner.MAX_ATTEMPTS
        return context


class RunRetryView(WorkspaceDetailView):
    """Admins send a failed run's failed steps through another round of attempts."""

    model = PlaybookRun
    required_action = Action.CONFIGURE

    def get(self, request, *args, **kwargs):
        return redirect("tasks:playbook_run", request.workspace.slug, self.get_object().pk)

    def post(self, request, *args, **kwargs):
        from .tasks import execute_step

        run = self.get_object()
        ids = runner.retry_failed_steps(run, request.user)
        workspace_id = request.workspace.pk
        for step_run_id in ids:
            execute_step.delay_on_commit(workspace_id, step_run_id)
        if ids:
            messages.success(request, f"Retrying {len(ids)} failed step{'s' if len(ids) != 1 else ''}.")
        else:
            messages.info(request, "This run has no failed step to retry.")
        return redirect("tasks:playbook_run", request.workspace.slug, run.pk)
