from __future__ import annotations

from django.contrib import messages
from django.db.models import Avg, Count, Q, Sum
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views import View

from tenancy.mixins import WorkspaceDetailView, WorkspaceListView, WorkspaceMixin, WorkspacePageView
from tenancy.permissions import Action, can

from . import bulk
from .changes import clear_override, history, set_field
from .columns import parse_columns
from .export import stream_csv
from .filters import AccountFilterSet, ContactFilterSet
from .forms import BulkActionForm, CSMScoreForm, StageRulesForm, TierStageForm, TouchpointForm
from .models import Account, ChangeField, ChangeSource, Contact, DailyUsage, LifecycleStage, StageRules
from .models.support import OPEN_TICKET_STATUSES
from .panels import default_query, panels_for, toolbars_for


class FilteredListView(WorkspaceListView):
    """A list page driven by a FilterSet; htmx requests get only the results fragment.

    Bad input never fails the page: filters whose values do not parse (letters in a number, a
    tier that does not exist or was deleted since a list was saved) are dropped and named on the
    page, the rest still apply; a page number past the end shows the last page and says so.
    The columns come from the `cols` parameter (`accounts.columns`).
    """

    filterset_class = None
    results_template_name = ""
    default_sort = ""
    resource = ""  # "accounts" or "contacts": the column catalogue (`accounts.columns`)
    # Drop filters that do not parse and clamp the page number, saying so on the page
    # (the results template includes "accounts/_list_notices.html").
    forgiving = False
    # Not filters: kept in the query string, ignored by the filterset.
    passthrough_params = ("page", "cols", "list", "per_page")
    page_sizes = (25, 50, 100, 200)

    def get_queryset(self):
        data = self.request.GET.copy()
        if self.default_sort and not data.get("sort"):
            data["sort"] = self.default_sort
        self.columns = parse_columns(self.resource, self.request.GET.get("cols")) if self.resource else None
        base = super().get_queryset()
        if self.columns is not None:
            base = self.columns.apply(base)
        self.filterset = self.filterset_class(data, queryset=base, request=self.request)
        self.dropped: dict[str, str] = {}
        if not self.filterset.is_valid():
            if not self.forgiving:
                return base.none()
            for name, errors in self.filterset.errors.items():
                field = self.filterset.form.fields.get(name)
                label = field.label if field is not None and field.label else name
                self.dropped[str(label)] = " ".join(errors)
                data.pop(name, None)
            self.filterset = self.filterset_class(data, queryset=base, request=self.request)
            if not self.filterset.is_valid():  # cannot happen once the bad fields are gone
                return base.none()
        return self.filterset.qs

    def get_paginate_by(self, queryset):
        asked = self.request.GET.get("per_page", "")
        if self.forgiving and asked.isdigit() and int(asked) in self.page_sizes:
            return int(asked)
        return super().get_paginate_by(queryset)

    def paginate_queryset(self, queryset, page_size):
        self.page_note = ""
        if not self.forgiving:
            return super().paginate_queryset(queryset, page_size)
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        asked = self.request.GET.get("page") or "1"
        page = paginator.get_page(asked)
        if asked != "last" and str(page.number) != asked.strip():
            self.page_note = (
                f"There is no page “{asked[:20]}”; showing page {page.number} of {paginator.num_pages}."
            )
        return paginator, page, page.object_list, page.has_other_pages()

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
        filters_only = sortless.copy()
        for name in self.passthrough_params:
            filters_only.pop(name, None)
        context["filters_active"] = any(any(values) for _, values in filters_only.lists())
        context["fragment"] = self.is_fragment_request()
        context["dropped_filters"] = self.dropped
        context["page_note"] = self.page_note
        context["export_query"] = query.urlencode()
        if self.columns is None:
            return context
        context["columns"] = self.columns.columns
        context["cols_value"] = "" if self.columns.is_default else ",".join(self.columns.keys)
        context["unknown_columns"] = self.columns.unknown
        context["column_links"] = self.columns.links(self.request.GET)
        context["rows"] = [
            {
                "obj": obj,
                "cells": [
                    {"column": c, "value": c.value(obj), "band": c.band(obj) if c.band else ""}
                    for c in self.columns.columns
                ],
            }
            for obj in context["object_list"]
        ]
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
    """The customer list: filters, chosen columns and sort, bulk actions and CSV export."""

    model = Account
    filterset_class = AccountFilterSet
    template_name = "accounts/account_list.html"
    results_template_name = "accounts/_account_results.html"
    default_sort = "name"
    resource = "accounts"
    forgiving = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_bulk"] = can(self.membership, Action.WORK)
        if context["can_bulk"]:
            context["bulk_form"] = BulkActionForm()
        context["total_matching"] = context["paginator"].count if context.get("paginator") else 0
        return context


class ContactListView(SavedListMixin, FilteredListView):
    resource = "contacts"
    forgiving = True
    model = Contact
    filterset_class = ContactFilterSet
    template_name = "accounts/contact_list.html"
    results_template_name = "accounts/_contact_results.html"
    default_sort = "name"

    def get_queryset(self):
        return super().get_queryset().select_related("account")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["total_matching"] = context["paginator"].count if context.get("paginator") else 0
        return context


class AccountDetailView(WorkspaceDetailView):
    """The account 360 page: who they are, what they pay, how they use it and how they feel."""

    model = Account
    template_name = "accounts/account_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("tier", "lifecycle_stage", "csm_owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.object
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
        )
        context.setdefault(
            "tier_stage_form",
            TierStageForm(initial={"tier": account.tier_id, "stage": account.lifecycle_stage_id}),
        )
        context["tier_stage_history"] = history(account)
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


class ExportMixin:
    """The list's CSV: the same filters, columns and sort as the page, streamed in chunks."""

    paginate_by = None
    export_name = ""

    def get(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        return stream_csv(queryset, self.columns.columns, f"{self.workspace.slug}-{self.export_name}")


class AccountExportView(ExportMixin, AccountListView):
    export_name = "accounts"


class ContactExportView(ExportMixin, ContactListView):
    export_name = "contacts"


class AccountBulkView(WorkspaceMixin, View):
    """Apply a bulk action from the account list, then go back to the same list."""

    required_action = Action.WORK

    def post(self, request, *args, **kwargs):
        form = BulkActionForm(request.POST)
        back = reverse("accounts:list", args=[self.workspace.slug])
        query = clean_list_query(request.POST.get("query", ""))
        if query:
            back = f"{back}?{query}"
        if not form.is_valid():
            problems = [e for errors in form.errors.values() for e in errors]
            messages.error(request, "Nothing was changed: " + " ".join(problems))
            return redirect(back)
        try:
            message = bulk.apply(form, request)
        except bulk.BulkQueryError as error:
            messages.error(request, f"Nothing was changed: {error}")
            return redirect(back)
        messages.success(request, message)
        return redirect(back)


def clean_list_query(query: str) -> str:
    data = QueryDict(query[:4000], mutable=True)
    data.pop("page", None)
    return data.urlencode()


class AccountTierStageView(AccountDetailView):
    """A person sets the tier or stage on the account page (overriding the automatic rules), or
    clears an override so the rules manage the field again."""

    required_action = Action.WORK

    def get(self, request, *args, **kwargs):
        account = get_object_or_404(Account.objects.all(), pk=self.kwargs["pk"])
        return redirect("accounts:detail", request.workspace.slug, account.pk)

    def post(self, request, *args, **kwargs):
        self.object = account = get_object_or_404(
            Account.objects.select_related("tier", "lifecycle_stage", "csm_owner"), pk=self.kwargs["pk"]
        )
        selected = Account.objects.filter(pk=account.pk)
        action = request.POST.get("action", "save")
        if action in ("clear_tier", "clear_stage"):
            field = ChangeField.TIER if action == "clear_tier" else ChangeField.STAGE
            clear_override(selected, field)
            messages.success(
                request,
                f"The {'tier' if field == ChangeField.TIER else 'stage'} is automatic again; "
                "the rules set it at the next health run.",
            )
            return redirect("accounts:detail", request.workspace.slug, account.pk)
        form = TierStageForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(object=account, tier_stage_form=form))
        changed = []
        for field, current, value in (
            (ChangeField.TIER, account.tier, form.cleaned_data["tier"]),
            (ChangeField.STAGE, account.lifecycle_stage, form.cleaned_data["stage"]),
        ):
            if current != value:
                set_field(selected, field, value, source=ChangeSource.USER, user=request.user, override=True)
                changed.append(f"{'tier' if field == ChangeField.TIER else 'stage'} → {value or 'none'}")
        if changed:
            messages.success(
                request, "Changed " + ", ".join(changed) + " (kept until the override is cleared)."
            )
        else:
            messages.info(request, "Nothing changed.")
        return redirect("accounts:detail", request.workspace.slug, account.pk)


class TierStageRulesView(WorkspacePageView):
    """The automatic tier and stage rules: everyone reads them, admins change them."""

    template_name = "accounts/tier_stage_rules.html"

    def required_action_for(self, method: str) -> Action:
        return Action.CONFIGURE if method == "POST" else Action.VIEW

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Reading the page creates nothing: the defaults show until an admin saves.
        context.setdefault("form", StageRulesForm(instance=StageRules.objects.first() or StageRules()))
        context["can_configure"] = can(self.membership, Action.CONFIGURE)
        context["stages"] = LifecycleStage.objects.all()
        return context

    def post(self, request, *args, **kwargs):
        form = StageRulesForm(request.POST, instance=StageRules.for_workspace())
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        form.save()
        messages.success(request, "Rules saved; they apply at the next health run.")
        return redirect("accounts:rules", request.workspace.slug)
