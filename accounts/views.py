from __future__ import annotations

from django.contrib import messages
from django.db.models import Avg, Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from tenancy.mixins import WorkspaceDetailView, WorkspaceListView
from tenancy.permissions import Action

from .filters import AccountFilterSet, ContactFilterSet
from .forms import CSMScoreForm, TouchpointForm
from .models import Account, Contact, DailyUsage
from .models.support import OPEN_TICKET_STATUSES
from .panels import default_query, panels_for, toolbars_for
from .timeline import timeline


class FilteredListView(WorkspaceListView):
    """A list page driven by a FilterSet; htmx requests get only the results fragment."""

    filterset_class = None
    results_template_name = ""
    default_sort = ""

    def get_queryset(self):
        data = self.request.GET.copy()
        if self.default_sort and not data.get("sort"):
            data["sort"] = self.default_sort
        self.filterset = self.filterset_class(data, queryset=super().get_queryset(), request=self.request)
        if not self.filterset.is_valid():
            return self.filterset.queryset.none()
        return self.filterset.qs

    def is_fragment_request(self) -> bool:
        # htmx asks for the results only, except when it restores a page missing from its
        # history cache: then it needs the whole page.
        headers = self.request.headers
        return bool(headers.get("HX-Request")) and not headers.get("HX-History-Restore-Request")

    def get_template_names(self):
        if self.results_template_name and self.is_fragment_request():
            return [self.results_template_name]
        return super().get_template_names()

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        # The same URL answers with a fragment or a page; caches must keep them apart.
        patch_vary_headers(response, ["HX-Request"])
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        sortless = query.copy()
        sortless.pop("sort", None)
        context["query_without_sort"] = sortless.urlencode()
        context["current_sort"] = self.request.GET.get("sort") or self.default_sort
        context["filters_active"] = any(any(values) for _, values in sortless.lists())
        context["fragment"] = self.is_fragment_request()
        return context


class SavedListMixin:
    """A bare list page opens the user's default list; toolbars (saved lists) come from above."""

    resource = ""

    def get(self, request, *args, **kwargs):
        if not request.GET and not request.headers.get("HX-Request"):
            query = default_query(request, self.resource)
            if query:
                return redirect(f"{request.path}?{query}")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["toolbars"] = [] if context.get("fragment") else toolbars_for(self.request, self.resource)
        return context


class AccountListView(SavedListMixin, FilteredListView):
    model = Account
    filterset_class = AccountFilterSet
    template_name = "accounts/account_list.html"
    results_template_name = "accounts/_account_results.html"
    default_sort = "name"
    resource = "accounts"

    def get_queryset(self):
        return super().get_queryset().select_related("tier", "lifecycle_stage", "csm_owner")


class ContactListView(SavedListMixin, FilteredListView):
    resource = "contacts"
    model = Contact
    filterset_class = ContactFilterSet
    template_name = "accounts/contact_list.html"
    results_template_name = "accounts/_contact_results.html"
    default_sort = "name"

    def get_queryset(self):
        return super().get_queryset().select_related("account")


class AccountDetailView(WorkspaceDetailView):
    """The account 360 page: who they are, what they pay, how they use it and how they feel."""

    model = Account
    template_name = "accounts/account_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("tier", "lifecycle_stage", "csm_owner")

    TIMELINE_EVENTS = 12

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.object
        account.workspace = self.request.workspace  # timeline sources build links without a query
        today = timezone.localdate()
        since = today - timezone.timedelta(days=89)
        usage = (
            DailyUsage.objects.filter(account=account, day__gte=since)
            .values("day")
            .annotate(events=Sum("events"))
            .order_by("day")
        )
        by_day = {row["day"]: row["events"] for row in usage}
        days = [since + timezone.timedelta(days=i) for i in range(90)]
        features = (
            DailyUsage.objects.filter(account=account, day__gte=today - timezone.timedelta(days=29))
            .values("feature")
            .annotate(events=Sum("events"), users=Count("contact", distinct=True))
            .order_by("-events")
        )
        tickets = account.tickets.select_related("contact")
        context.update(
            contacts=account.contacts.all(),
            invoices=account.invoices.all()[:24],
            tickets=tickets[:25],
            ticket_stats=tickets.aggregate(
                open=Count("pk", filter=Q(status__in=OPEN_TICKET_STATUSES)),
                csat=Avg("csat"),
            ),
            nps_responses=account.nps_responses.select_related("contact")[:20],
            touchpoints=account.touchpoints.select_related("author")[:25],
            csm_scores=account.csm_scores.select_related("author")[:10],
            mrr_movements=account.mrr_movements.all()[:20],
            usage_days=[{"day": d, "events": by_day.get(d, 0)} for d in days],
            usage_max=max(by_day.values(), default=0),
            usage_total_30=sum(v for d, v in by_day.items() if d > today - timezone.timedelta(days=30)),
            features=features,
            days_to_renewal=(account.renewal_date - today).days if account.renewal_date else None,
            panels=panels_for(self.request, account),
            timeline_page=timeline(account, limit=self.TIMELINE_EVENTS),
        )
        context.setdefault("touchpoint_form", TouchpointForm())
        context.setdefault("csm_score_form", CSMScoreForm())
        return context


class AccountFormView(AccountDetailView):
    """A CSM action posted from the account page. Invalid input re-renders the page with the
    errors beside the fields and saves nothing; success goes back to the page with a message."""

    required_action = Action.WORK
    form_class: type[TouchpointForm | CSMScoreForm]
    form_context_name = ""
    success_message = ""

    def get_object(self, queryset=None):
        # The scoped manager: another workspace's account id is a 404, never a write.
        accounts = Account.objects.select_related("tier", "lifecycle_stage", "csm_owner")
        return get_object_or_404(accounts, pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        account = self.get_object()
        return redirect("accounts:detail", request.workspace.slug, account.pk)

    def post(self, request, *args, **kwargs):
        self.object = account = self.get_object()
        form = self.form_class(request.POST)
        if not form.is_valid():
            context = self.get_context_data(object=account, **{self.form_context_name: form})
            return self.render_to_response(context)
        entry = form.save(commit=False)
        entry.account = account
        entry.author = request.user
        entry.save()
        messages.success(request, self.success_message)
        return redirect("accounts:detail", request.workspace.slug, account.pk)


class AccountTouchpointCreateView(AccountFormView):
    form_class = TouchpointForm
    form_context_name = "touchpoint_form"
    success_message = "Touchpoint logged."


class AccountCSMScoreCreateView(AccountFormView):
    form_class = CSMScoreForm
    form_context_name = "csm_score_form"
    success_message = "CSM score saved."
