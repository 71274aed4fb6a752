"""Backtest pages: start a backtest of a scorecard (admins), follow its progress, read its
results (everyone in the workspace)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from accounts.forms import StyledFormMixin
from tenancy.mixins import WorkspacePageView
from tenancy.permissions import Action

from .backtest_loading import MAX_HORIZON_DAYS, MAX_POINTS, create_run, default_points
from .metrics import CATALOG
from .models import BacktestRun, BacktestStatus, Scorecard
from .tasks import run_backtest

MEASURE_SORTS = {
    "power": lambda m: -(m["power"] or 0),
    "auc": lambda m: -(m["auc"] or 0),
    "coverage": lambda m: -(m["coverage"] or 0),
    "label": lambda m: m["label"].lower(),
    "group": lambda m: (m["group"], m["label"].lower()),
}


class BacktestForm(StyledFormMixin, forms.Form):
    horizon_days = forms.IntegerField(
        label="Horizon (days)",
        min_value=7,
        max_value=MAX_HORIZON_DAYS,
        initial=90,
        help_text="What happened in this many days after each look-back date counts.",
    )
    points = forms.IntegerField(
        label="Look-back dates",
        min_value=1,
        max_value=MAX_POINTS,
        initial=12,
        help_text="How many dates to score the accounts as of.",
    )
    spacing_days = forms.IntegerField(
        label="Days between them", min_value=1, max_value=365, initial=30, help_text="30 for monthly."
    )
    last_as_of = forms.DateField(
        label="Latest look-back date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: today minus the horizon, so every horizon has fully passed.",
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        today = timezone.localdate()
        last = data.get("last_as_of") or today - dt.timedelta(days=data["horizon_days"])
        if last >= today:
            self.add_error("last_as_of", "Pick a date before today: nothing has happened after today yet.")
            return data
        data["as_of_dates"] = default_points(data["horizon_days"], data["points"], data["spacing_days"], last)
        if data["as_of_dates"][0] < dt.date(1990, 1, 1):
            self.add_error(
                "spacing_days", "The earliest look-back date would be before 1990; use fewer or closer dates."
            )
        return data


def _scorecard(pk: int) -> Scorecard:
    return get_object_or_404(Scorecard.objects.select_related("current_version"), pk=pk)


class BacktestView(WorkspacePageView):
    """A scorecard's backtests: the form to start one (admins) and the latest one's results."""

    template_name = "health/backtest.html"

    def required_action_for(self, method: str) -> Action:
        return Action.CONFIGURE if method == "POST" else Action.VIEW

    def get(self, request, *args, **kwargs):
        scorecard = _scorecard(kwargs["pk"])
        return self.render(scorecard, BacktestForm())

    def post(self, request, *args, **kwargs):
        scorecard = _scorecard(kwargs["pk"])
        form = BacktestForm(request.POST)
        if form.is_valid() and scorecard.current_version is None:
            form.add_error(None, "This scorecard has no saved version to backtest yet.")
        if not form.is_valid():
            return self.render(scorecard, form, status=400)
        run = create_run(
            scorecard, form.cleaned_data["as_of_dates"], form.cleaned_data["horizon_days"], user=request.user
        )
        run_backtest.delay_on_commit(self.workspace.pk, run.pk)
        messages.success(request, "The backtest is queued; this page follows its progress.")
        return redirect("health:backtest_run", workspace_slug=self.workspace.slug, pk=run.pk)

    def render(self, scorecard: Scorecard, form: BacktestForm, status: int = 200):
        runs = list(BacktestRun.objects.filter(scorecard=scorecard).select_related("scorecard_version")[:20])
        latest = next((r for r in runs if r.status == BacktestStatus.SUCCEEDED and not r.draft), None)
        context = self.get_context_data(scorecard=scorecard, form=form, runs=runs)
        context.update(results_context(latest, self.request.GET.get("sort", "power")) if latest else {})
        return self.render_to_response(context, status=status)


class BacktestRunView(WorkspacePageView):
    """One backtest: progress while it runs, its results once done."""

    template_name = "health/backtest_run.html"

    def get(self, request, *args, **kwargs):
        run = get_object_or_404(
            BacktestRun.objects.select_related("scorecard", "scorecard_version", "created_by"),
            pk=kwargs["pk"],
        )
        context = self.get_context_data(run=run, scorecard=run.scorecard)
        if run.status == BacktestStatus.SUCCEEDED:
            context.update(results_context(run, request.GET.get("sort", "power")))
        return self.render_to_response(context)


class BacktestProgressView(WorkspacePageView):
    """Polled by htmx while a backtest runs; once it has finished the page reloads itself."""

    template_name = "health/_backtest_progress.html"

    def get(self, request, *args, **kwargs):
        run = get_object_or_404(BacktestRun.objects.select_related("scorecard"), pk=kwargs["pk"])
        response = self.render_to_response(self.get_context_data(run=run))
        if run.finished and request.headers.get("HX-Request"):
            response["HX-Refresh"] = "true"
        return response


def results_context(run: BacktestRun, sort: str) -> dict:
    """What the results partial shows, from a finished run's stored JSON."""
    results = run.results or {}
    if results.get("empty"):
        return {"result_run": run, "results": results}
    pooled = {"bands": [], "roc": [], "red": {}, "deciles": [], **(results.get("pooled") or {})}
    measures = sorted(results.get("measures") or [], key=MEASURE_SORTS.get(sort, MEASURE_SORTS["power"]))
    suggestion = results.get("suggestion") or {}
    comparison = []
    if suggestion.get("status") == "ok" and suggestion.get("definition"):
        comparison = compare(run.definition, suggestion["definition"])
    bands = [
        {
            "band": b["band"],
            "churn_rate": round((b.get("churn_rate") or 0) * 100, 2),
            "accounts": b.get("accounts"),
        }
        for b in pooled["bands"]
    ]
    return {
        "result_run": run,
        "results": results,
        "pooled": pooled,
        "measures": measures,
        "sort": sort if sort in MEASURE_SORTS else "power",
        "suggestion": suggestion,
        "comparison": comparison,
        "roc_data": {"points": pooled["roc"], "auc": pooled.get("auc")},
        "band_data": bands,
    }


def compare(current: dict, draft: dict) -> list[dict]:
    """Rows of the side-by-side: every metric in either definition with its share of the weight."""

    def shares(definition: dict) -> dict[str, dict]:
        total = sum(m["weight"] for m in definition["measures"]) or 1
        return {m["metric"]: {**m, "share": m["weight"] / total * 100} for m in definition["measures"]}

    now, new = shares(current), shares(draft)
    rows = []
    for key in [*now, *[k for k in new if k not in now]]:
        rows.append(
            {
                "metric": key,
                "label": CATALOG[key].label if key in CATALOG else key,
                "current": now.get(key),
                "draft": new.get(key),
            }
        )
    return sorted(
        rows, key=lambda r: -max((r["current"] or {}).get("share", 0), (r["draft"] or {}).get("share", 0))
    )


def suggested_definition(scorecard: Scorecard, run_id: str) -> dict:
    """The suggested draft of one of the scorecard's backtests (404 for anything else)."""
    if not (run_id.isdigit() and len(run_id) <= 9):
        raise Http404("No such backtest")
    run = get_object_or_404(BacktestRun.objects.all(), pk=int(run_id), scorecard=scorecard)
    suggestion = (run.results or {}).get("suggestion") or {}
    if suggestion.get("status") != "ok":
        raise Http404("This backtest has no suggested draft")
    return suggestion["definition"]
