"""Saved customer lists: the seven starting lists, the default-list hook and the toolbar that
list pages show (registered with `accounts.panels`, so `accounts` never imports `segments`)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import QueryDict

from accounts.columns import open_alerts_column, register_account_column
from accounts.panels import Toolbar, register_default_query, register_toolbar

from .models import DefaultList, ListResource, SavedList, Visibility, visible_lists

# The common customer lists every workspace starts with (name, description, query).
STARTING_LISTS = [
    (
        "New accounts this week",
        "Customers whose contract started in the last 7 days.",
        "status=active&customer_since_days=7",
    ),
    ("Onboarding", "Accounts in the onboarding stage.", "status=active&stage=onboarding"),
    (
        "Renewals in the next 90 days",
        "Renewals coming up, soonest first, with their ARR and health.",
        "status=active&renewal_within=90&sort=renewal"
        "&cols=name,arr,health,renewal,primary_contact,latest_interaction,recent_nps,csm",
    ),
    (
        "At risk: red health, low key-feature use",
        "Red accounts with fewer than 50 report events in 30 days.",
        "status=active&health_band=red&key_feature=reports&key_feature_below=50",
    ),
    (
        "No interaction for 30 days",
        "Nobody has called, met or written in 30 days.",
        "status=active&no_touchpoint_days=30",
    ),
    (
        "Churned in the last 60 days",
        "Recently lost accounts, for win-back and post-mortems.",
        "churned_within=60",
    ),
    (
        "Unpaid or failed invoices",
        "Accounts with an overdue or failed invoice.",
        "status=active&unpaid_invoices=true",
    ),
]


def ensure_starting_lists() -> None:
    if SavedList.objects.filter(is_seeded=True).exists():
        return
    SavedList.objects.bulk_create(
        SavedList(
            name=name,
            description=description,
            query=query,
            columns=columns_of(query),
            visibility=Visibility.PUBLIC,
            is_seeded=True,
        )
        for name, description, query in STARTING_LISTS
    )


def clean_query(query: str) -> str:
    """The list page's query without what is not part of a list (page number, list marker)."""
    data = QueryDict(query, mutable=True)
    for key in ("page", "list"):
        data.pop(key, None)
    return data.urlencode()


def columns_of(query: str) -> list[str]:
    """The columns a list query names (`cols`), kept on the saved list too."""
    value = QueryDict(query).get("cols") or ""
    return [key for key in value.split(",") if key][:40]


def open_query(saved: SavedList) -> str:
    query = saved.query
    if saved.columns and "cols" not in QueryDict(query):
        query = "&".join(part for part in (query, urlencode({"cols": ",".join(saved.columns)})) if part)
    return "&".join(part for part in (query, urlencode({"list": saved.pk})) if part)


def default_query(request, resource: str) -> str | None:
    if not getattr(request, "workspace", None) or not request.user.is_authenticated:
        return None
    choice = (
        DefaultList.objects.filter(user=request.user, resource=resource).select_related("saved_list").first()
    )
    return open_query(choice.saved_list) if choice else None


def toolbar_context(request, resource: str) -> dict:
    lists = list(visible_lists(request.user, resource).select_related("owner"))
    current_id = request.GET.get("list", "")
    current = next((saved for saved in lists if str(saved.pk) == current_id), None)
    default = (
        DefaultList.objects.filter(user=request.user, resource=resource)
        .values_list("saved_list_id", flat=True)
        .first()
    )
    return {
        "saved_lists": [{"list": saved, "query": open_query(saved)} for saved in lists],
        "current_list": current,
        "default_list_id": default,
        "list_resource": resource,
        "current_query": clean_query(request.GET.urlencode()),
    }


def _open_alerts():
    from health.models import ACTIVE_ALERT_STATUSES, Alert

    return Coalesce(
        Subquery(
            Alert.objects.filter(account=OuterRef("pk"), status__in=ACTIVE_ALERT_STATUSES)
            .order_by()
            .values("account")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )


def register() -> None:
    register_toolbar(Toolbar("saved-lists", "segments/_list_toolbar.html", toolbar_context))
    register_default_query(default_query)
    # Open alerts live in health, beside segments; the account list offers them as a column.
    register_account_column(open_alerts_column(_open_alerts))


__all__ = ["STARTING_LISTS", "ListResource", "ensure_starting_lists", "register"]
