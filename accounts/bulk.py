"""Bulk actions of the account list: assign a CSM, set the tier, set the stage, on chosen
accounts or on every account matching the list's filters. Tier and stage go through
`accounts.changes` (recorded in bulk, and overriding the automatic rules)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from .changes import set_field
from .filters import AccountFilterSet
from .models import Account, ChangeField, ChangeSource


class BulkQueryError(ValueError):
    """The list's filters, sent with "all matching", do not parse."""


def target_accounts(form, request) -> QuerySet:
    data = form.cleaned_data
    if not data.get("all_matching"):
        return Account.objects.filter(pk__in=[a.pk for a in data["accounts"]])
    query = QueryDict(data.get("query") or "", mutable=True)
    for name in ("page", "cols", "list", "sort"):
        query.pop(name, None)
    filterset = AccountFilterSet(query, queryset=Account.objects.all(), request=request)
    if not filterset.is_valid():
        fields = ", ".join(sorted(filterset.errors))
        raise BulkQueryError(f"The list's filters are not valid ({fields}); fix them and try again.")
    return filterset.qs


def plural(n: int) -> str:
    return f"{n} account" if n == 1 else f"{n} accounts"


def apply(form, request) -> str:
    """Run the form's action; returns the confirmation shown to the person."""
    data = form.cleaned_data
    accounts = target_accounts(form, request)
    selected = Account.objects.filter(pk__in=accounts.order_by().values("pk"))
    total = selected.count()
    action = data["action"]
    if action == "assign_csm":
        csm = data["csm"]
        changed = selected.filter(~Q(csm_owner=csm) | Q(csm_owner__isnull=True)).update(
            csm_owner=csm, updated_at=timezone.now()
        )
        what = f"Assigned {csm.display_name} as CSM"
    else:
        field, value = (
            (ChangeField.TIER, data["tier"]) if action == "set_tier" else (ChangeField.STAGE, data["stage"])
        )
        changed = set_field(
            selected, field, value, source=ChangeSource.USER, user=request.user, override=True
        )
        what = f"Set the {'tier' if field == ChangeField.TIER else 'stage'} to {value}"
    unchanged = total - changed
    note = f" ({unchanged} already had it)" if unchanged else ""
    return f"{what} on {plural(changed)}{note}."
