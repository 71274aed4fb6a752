from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, ProtectedError, Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View

from accounts.models import Account, AccountStatus
from health.models import HealthDaySummary, HealthScore
from tenancy.mixins import WorkspaceMixin, WorkspacePageView
from tenancy.permissions import Action, can

from .analysis import DIMENSIONS, analyse
from .forms import AnalysisForm, SavedListForm
from .lists import clean_query, columns_of, open_query
from .models import DefaultList, ListResource, Visibility, visible_lists
from .portfolio import nps, retention

REVENUE_CACHE_SECONDS = 600


class DashboardView(WorkspacePageView):
    """Portfolio home: the numbers a CSM checks first, for their accounts or the whole workspace."""

    template_name = "segments/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        mine = self.request.GET.get("scope") == "mine"
        accounts = Account.objects.all()
        if mine:
            accounts = accounts.filter(csm_owner=self.request.user)
        today = timezone.localdate()
        active = accounts.filter(status=AccountStatus.ACTIVE)
        totals = active.aggregate(
            # The per-band sums come before `mrr=`: once an aggregate is named "mrr", a later
            # Sum("mrr") in the same call would refer to it instead of the column.
            red_mrr=Sum("mrr", filter=Q(health_band="red")),
            yellow_mrr=Sum("mrr", filter=Q(health_band="yellow")),
            green_mrr=Sum("mrr", filter=Q(health_band="green")),
            unscored_mrr=Sum("mrr", filter=Q(health_band="")),
            count=Count("pk"),
            mrr=Sum("mrr"),
            red=Count("pk", filter=Q(health_band="red")),
            yellow=Count("pk", filter=Q(health_band="yellow")),
            green=Count("pk", filter=Q(health_band="green")),
            unscored=Count("pk", filter=Q(health_band="")),
        )
        renewals = active.filter(
            renewal_date__gte=today, renewal_date__lte=today + timezone.timedelta(days=90)
        )
        upcoming = list(renewals.select_related("tier").order_by("renewal_date", "name")[:10])
        for account in upcoming:
            account.days_to_renewal = (account.renewal_date - today).days
        context.update(
            mine=mine,
            totals=totals,
            arr=(totals["mrr"] or 0) * 12,
            churned_90=accounts.filter(
                status=AccountStatus.CHURNED, churned_at__gte=today - timezone.timedelta(days=90)
            ).count(),
            upcoming_renewals=upcoming,
            renewals_count=renewals.count(),
            band_trend=self.band_trend(mine, today),
            **self.revenue_figures(mine, today, accounts),
            average_health=active.aggregate(avg=Avg("health_score"))["avg"],
            renewals_180=self.renewals_at_risk(active, today),
        )
        context["waterfall"] = context["retention"].waterfall
        return context

    def revenue_figures(self, mine: bool, today, accounts) -> dict:
        """Retention and NPS read a year of movements and answers: cached for ten minutes per
        workspace (and per CSM for "my accounts"); the page shows when they were computed."""
        scope = f"user-{self.request.user.pk}" if mine else "all"
        key = f"dashboard:revenue:{self.workspace.pk}:{scope}:{today.isoformat()}"
        return cache.get_or_set(
            key,
            lambda: {
                "retention": retention(today, accounts=accounts if mine else None),
                "nps": nps(today, accounts=accounts if mine else None),
                "revenue_computed_at": timezone.now(),
            },
            REVENUE_CACHE_SECONDS,
        )

    @staticmethod
    def renewals_at_risk(active, today) -> list[dict]:
        rows = []
        for days in (90, 180):
            due = active.filter(
                renewal_date__gte=today, renewal_date__lte=today + timezone.timedelta(days=days)
            )
            totals = due.aggregate(
                count=Count("pk"), mrr_due=Sum("mrr"), mrr_at_risk=Sum("mrr", filter=~Q(health_band="green"))
            )
            rows.append(
                {
                    "days": days,
                    "count": totals["count"],
                    "arr": (totals["mrr_due"] or 0) * 12,
                    "arr_at_risk": (totals["mrr_at_risk"] or 0) * 12,
                }
            )
        return rows

    def band_trend(self, mine: bool, today) -> list[dict]:
        """Accounts per band per day over the last 90 days: the runs' daily summaries for the
        workspace, the score history of my accounts for "my accounts"."""
        since = today - timezone.timedelta(days=90)
        if not mine:
            rows = HealthDaySummary.objects.filter(day__gt=since).values("day", "red", "yellow", "green")
        else:
            rows = (
                HealthScore.objects.filter(day__gt=since, account__csm_owner=self.request.user)
                .values("day")
                .annotate(
                    red=Count("pk", filter=Q(band="red")),
                    yellow=Count("pk", filter=Q(band="yellow")),
                    green=Count("pk", filter=Q(band="green")),
                )
            )
        return [
            {"day": r["day"].isoformat(), "red": r["red"], "yellow": r["yellow"], "green": r["green"]}
            for r in rows.order_by("day")
        ]


class SegmentAnalysisView(WorkspacePageView):
    """Tiers, stages, industries, size bands or plans side by side (segments/analysis.py)."""

    template_name = "segments/analysis.html"

    def get(self, request, *args, **kwargs):
        form = AnalysisForm(request.GET)
        if not form.is_valid():
            # A hand-edited URL: say what was wrong, with the valid choices one click away.
            context = self.get_context_data(form=form, dimensions=DIMENSIONS, by="tier", mine=False)
            return self.render_to_response(context, status=400)
        by, mine = form.cleaned_data["by"], form.cleaned_data["scope"] == "mine"
        accounts = Account.objects.filter(csm_owner=request.user) if mine else None
        context = self.get_context_data(
            form=form,
            dimensions=DIMENSIONS,
            by=by,
            mine=mine,
            analysis=analyse(by, timezone.localdate(), accounts),
        )
        return self.render_to_response(context)


class ListIndexView(WorkspacePageView):
    """Every list the user can open: their private lists and the workspace's public ones."""

    template_name = "segments/list_index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        lists = list(visible_lists(self.request.user).select_related("owner"))
        defaults = set(
            DefaultList.objects.filter(user=self.request.user).values_list("saved_list_id", flat=True)
        )
        context["lists"] = [
            {"list": saved, "query": open_query(saved), "is_default": saved.pk in defaults} for saved in lists
        ]
        return context


class ListCreateView(WorkspaceMixin, View):
    """Save the list page's current filters, sort and columns as a named list."""

    def post(self, request, *args, **kwargs):
        form = SavedListForm(request.POST)
        resource = request.POST.get("resource", ListResource.ACCOUNTS)
        target = "accounts:contacts" if resource == ListResource.CONTACTS else "accounts:list"
        back = reverse(target, args=[self.workspace.slug])
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect(f"{back}?{clean_query(request.POST.get('query', ''))}")
        if form.cleaned_data["visibility"] == Visibility.PUBLIC and not can(self.membership, Action.WORK):
            raise PermissionDenied("Viewers save private lists only.")
        saved = form.save(commit=False)
        saved.owner, saved.resource, saved.query = (
            request.user,
            resource,
            clean_query(form.cleaned_data["query"]),
        )
        saved.columns = columns_of(saved.query)
        saved.save()
        messages.success(request, f"Saved the list “{saved.name}”.")
        return redirect(f"{back}?{open_query(saved)}")


class ListDefaultView(WorkspaceMixin, View):
    """Make a list the page a user's accounts (or contacts) open with, or clear it."""

    def post(self, request, pk: int, *args, **kwargs):
        saved = get_object_or_404(visible_lists(request.user), pk=pk)
        if request.POST.get("clear"):
            DefaultList.objects.filter(user=request.user, resource=saved.resource).delete()
            messages.success(request, "Your list page opens unfiltered again.")
        else:
            DefaultList.objects.update_or_create(
                user=request.user, resource=saved.resource, defaults={"saved_list": saved}
            )
            messages.success(request, f"“{saved.name}” is now your default view.")
        return redirect(request.POST.get("next") or reverse("lists:index", args=[self.workspace.slug]))


class ListDeleteView(WorkspaceMixin, View):
    def post(self, request, pk: int, *args, **kwargs):
        saved = get_object_or_404(visible_lists(request.user), pk=pk)
        if saved.owner_id != request.user.pk and not can(self.membership, Action.CONFIGURE):
            raise PermissionDenied("Only its owner or an admin deletes a list.")
        try:
            saved.delete()
        except ProtectedError as error:
            users = ", ".join(
                sorted({f"{obj._meta.verbose_name} “{obj}”" for obj in error.protected_objects})
            )
            messages.error(
                request, f"The list “{saved.name}” defines a segment of {users}: change them first."
            )
            return redirect("lists:index", workspace_slug=self.workspace.slug)
        messages.success(request, f"Deleted the list “{saved.name}”.")
        return redirect("lists:index", workspace_slug=self.workspace.slug)
