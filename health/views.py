from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View

from accounts.views import FilteredListView
from tenancy.mixins import WorkspaceMixin, WorkspacePageView
from tenancy.permissions import Action
from tenancy.tasks import enqueue_now

from .alerting import acknowledge, resolve, snooze
from .defaults import save_version
from .filters import AlertFilterSet
from .forms import AlertRuleForm, MeasureForm, MeasureFormSet, ScorecardForm, SnoozeForm, build_definition
from .models import ACTIVE_ALERT_STATUSES, Alert, AlertRule, HealthRun, HealthScore, Scorecard
from .rules import CATALOG as RULE_CATALOG
from .rules import with_defaults
from .scorecards import ScorecardSpec
from .tasks import rescore_workspace
from .whatif import preview


class AlertInboxView(FilteredListView):
    """Churn alerts, most severe first, with filters and bulk acknowledge."""

    model = Alert
    filterset_class = AlertFilterSet
    template_name = "health/alert_inbox.html"
    results_template_name = "health/_alert_results.html"

    def get_queryset(self):
        return super().get_queryset().select_related("account", "account__csm_owner", "account__tier", "rule")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rules_count"] = AlertRule.objects.filter(is_active=True).count()
        context["today"] = timezone.localdate()
        return context


class AlertActionView(WorkspaceMixin, View):
    """Acknowledge, snooze or resolve one alert or a selection (POST from the inbox or account)."""

    required_action = Action.WORK

    def post(self, request, *args, **kwargs):
        ids = [int(i) for i in request.POST.getlist("alert") if i.isdigit()]
        alerts = Alert.objects.filter(pk__in=ids)
        if not ids or not alerts.exists():
            raise Http404("No such alert")
        action = request.POST.get("action")
        if action == "acknowledge":
            done = acknowledge(alerts, request.user)
            messages.success(request, f"Acknowledged {done} alert{'s' if done != 1 else ''}.")
        elif action == "snooze":
            form = SnoozeForm(request.POST)
            if not form.is_valid():
                messages.error(request, " ".join(form.errors.get("until", ["Pick a date after today."])))
                return self.back(request)
            done = snooze(alerts, form.cleaned_data["until"], request.user)
            messages.success(request, f"Snoozed {done} until {form.cleaned_data['until']:%b %-d}.")
        elif action == "resolve":
            done = resolve(alerts, request.user, request.POST.get("note", "").strip()[:2000])
            messages.success(request, f"Resolved {done} alert{'s' if done != 1 else ''}.")
        else:
            messages.error(request, "Unknown action.")
        return self.back(request)

    def back(self, request):
        target = request.POST.get("next", "")
        prefix = f"/w/{self.workspace.slug}/"
        if not target.startswith(prefix):
            target = reverse("alerts:inbox", args=[self.workspace.slug])
        return redirect(target)


class ScorecardListView(WorkspacePageView):
    """Settings → Health scoring: the scorecards, who they score, and the recent runs."""

    template_name = "health/scorecard_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cards = list(
            Scorecard.objects.select_related("tier", "lifecycle_stage", "saved_list", "current_version")
        )
        latest_day = HealthScore.objects.order_by("-day").values_list("day", flat=True).first()
        counts = {}
        if latest_day:
            counts = dict(
                HealthScore.objects.filter(day=latest_day)
                .values("scorecard_version__scorecard")
                .annotate(n=Count("pk"))
                .values_list("scorecard_version__scorecard", "n")
            )
        rows = []
        for card in cards:
            spec = card.current_version.spec if card.current_version else None
            total = sum(m.weight for m in spec.measures) if spec else 1
            rows.append(
                {
                    "card": card,
                    "spec": spec,
                    "accounts": counts.get(card.pk, 0),
                    "measures": [
                        {"label": m.label, "weight": m.weight, "share": m.weight / total * 100}
                        for m in spec.measures
                    ]
                    if spec
                    else [],
                }
            )
        context["scorecards"] = rows
        context["runs"] = HealthRun.objects.all()[:20]
        return context


class RescoreView(WorkspaceMixin, View):
    required_action = Action.CONFIGURE

    def post(self, request, *args, **kwargs):
        if enqueue_now(rescore_workspace, self.workspace.pk):
            messages.success(request, "A full rescore is queued; the runs table shows when it finishes.")
        else:
            messages.error(
                request,
                "The task queue is unavailable right now, so no rescore was queued. Scores are"
                " unchanged; try again in a few minutes.",
            )
        return redirect("health:scorecards", workspace_slug=self.workspace.slug)


class ScorecardEditView(WorkspacePageView):
    """Edit a scorecard (or create a segment one): preview the draft, then save a new version."""

    template_name = "health/scorecard_form.html"
    required_action = Action.CONFIGURE

    def get_scorecard(self) -> Scorecard | None:
        pk = self.kwargs.get("pk")
        if pk is None:
            return None
        return get_object_or_404(Scorecard.objects.select_related("current_version"), pk=pk)

    def get(self, request, *args, **kwargs):
        scorecard = self.get_scorecard()
        definition = scorecard.current_version.definition if scorecard and scorecard.current_version else None
        if definition is None:
            default = Scorecard.objects.filter(is_default=True).select_related("current_version").first()
            definition = (
                default.current_version.definition
                if default and default.current_version
                else {"measures": []}
            )
        if scorecard is not None and request.GET.get("draft"):
            # A backtest's suggested draft, opened for preview and saving as a new version.
            from .backtest_views import suggested_definition

            definition = suggested_definition(scorecard, request.GET["draft"]) or definition
            messages.info(
                request,
                "Filled in with the backtest's suggested draft: preview it, then save it as a new version.",
            )
        form = ScorecardForm(instance=scorecard, definition=definition)
        formset = MeasureFormSet(
            initial=[MeasureForm.initial_from(m) for m in definition["measures"]], prefix="m"
        )
        return self.render(scorecard, form, formset)

    def post(self, request, *args, **kwargs):
        scorecard = self.get_scorecard()
        action = request.POST.get("action", "preview")
        form = ScorecardForm(request.POST, instance=scorecard)
        formset = MeasureFormSet(request.POST, prefix="m")
        if action == "add_row":
            data = request.POST.copy()
            data["m-TOTAL_FORMS"] = str(int(data.get("m-TOTAL_FORMS", 0)) + 1)
            return self.render(
                scorecard, ScorecardForm(data, instance=scorecard), MeasureFormSet(data, prefix="m")
            )
        if not (form.is_valid() and formset.is_valid()):
            return self.render(scorecard, form, formset, status=400)
        definition = build_definition(form, formset)
        if definition is None:
            return self.render(scorecard, form, formset, status=400)
        if action == "save":
            card = form.save()
            version = save_version(
                card, definition, user=request.user, note=form.cleaned_data.get("note", "")
            )
            if enqueue_now(rescore_workspace, self.workspace.pk):
                messages.success(
                    request, f"Saved {card.name} v{version.number}. A rescore with it is queued."
                )
            else:
                messages.warning(
                    request,
                    f"Saved {card.name} v{version.number}. The task queue is unavailable right now, so the"
                    " rescore with it runs at the next scheduled rescore (or use Rescore now later).",
                )
            return redirect("health:scorecards", workspace_slug=self.workspace.slug)
        conditions = {
            "tier_id": form.cleaned_data.get("tier").pk if form.cleaned_data.get("tier") else None,
            "lifecycle_stage_id": form.cleaned_data["lifecycle_stage"].pk
            if form.cleaned_data.get("lifecycle_stage")
            else None,
            "plan": form.cleaned_data.get("plan") or None,
            "priority": form.cleaned_data.get("priority") or 0,
        }
        if form.cleaned_data.get("saved_list"):
            from segments.membership import account_ids

            conditions["account_ids"] = account_ids(form.cleaned_data["saved_list"]) or set()
        if scorecard is not None and scorecard.is_default:
            conditions = {
                "tier_id": None,
                "lifecycle_stage_id": None,
                "plan": None,
                "priority": scorecard.priority,
            }
        result = preview(scorecard, ScorecardSpec.from_dict(definition), conditions)
        return self.render(scorecard, form, formset, preview_result=result)

    def render(self, scorecard, form, formset, preview_result=None, status=200):
        if scorecard is not None and scorecard.pk is None:
            raise Http404
        context = self.get_context_data(
            scorecard=scorecard,
            form=form,
            formset=formset,
            preview=preview_result,
            versions=scorecard.versions.select_related("created_by")[:10] if scorecard else [],
        )
        return self.render_to_response(context, status=status)


class AlertRuleListView(WorkspacePageView):
    template_name = "health/rule_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rules = list(
            AlertRule.objects.select_related("tier", "lifecycle_stage", "saved_list").annotate(
                active_alerts=Count("alerts", filter=Q(alerts__status__in=ACTIVE_ALERT_STATUSES))
            )
        )
        for rule in rules:
            kind = RULE_CATALOG.get(rule.kind)
            rule.kind_label = kind.label if kind else rule.kind
            values = with_defaults(rule.kind, rule.params) if kind else {}
            rule.param_text = (
                ", ".join(f"{p.label.lower()} {values[p.name]:g}" for p in kind.params) if kind else ""
            )
        context.update(rules=rules, kinds=list(RULE_CATALOG.values()))
        return context


class AlertRuleEditView(WorkspacePageView):
    template_name = "health/rule_form.html"
    required_action = Action.CONFIGURE

    def get_rule(self) -> AlertRule:
        if "pk" in self.kwargs:
            return get_object_or_404(AlertRule.objects.all(), pk=self.kwargs["pk"])
        kind = self.kwargs["kind"]
        if kind not in RULE_CATALOG:
            raise Http404("Unknown rule kind")
        return AlertRule(kind=kind, name=RULE_CATALOG[kind].label)

    def get(self, request, *args, **kwargs):
        rule = self.get_rule()
        return self.render_to_response(
            self.get_context_data(rule=rule, form=AlertRuleForm(instance=rule, kind=rule.kind))
        )

    def post(self, request, *args, **kwargs):
        rule = self.get_rule()
        form = AlertRuleForm(request.POST, instance=rule, kind=rule.kind)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(rule=rule, form=form), status=400)
        form.save()
        messages.success(request, f"Saved the rule “{rule.name}”. It is evaluated in the next health run.")
        return redirect("alerts:rules", workspace_slug=self.workspace.slug)
