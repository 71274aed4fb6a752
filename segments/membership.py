"""Which accounts a saved list holds right now, outside any page: for the playbooks started when
an account joins a list. "My accounts" (`mine=true`) resolves for the list's owner."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import QueryDict

from accounts.filters import AccountFilterSet
from accounts.models import Account
from tenancy.models import Workspace

from .models import ListResource, SavedList, Visibility


@dataclass
class _Viewer:
    """What the filterset reads of a request: who is looking, in which workspace."""

    user: object
    workspace: Workspace


class _Anonymous:
    is_authenticated = False


def segment_lists():
    """The lists that may define a segment (of a scorecard, an alert rule, a playbook): public
    account lists, so every admin sees what a segment means."""
    return SavedList.objects.filter(resource=ListResource.ACCOUNTS, visibility=Visibility.PUBLIC)


def account_ids(saved: SavedList) -> set[int] | None:
    """The ids of the accounts in `saved` now; None when the list is not an account list or its
    filter no longer parses (a deleted tier, say): a broken list must not look empty."""
    if saved.resource != ListResource.ACCOUNTS:
        return None
    data = QueryDict(saved.query)
    viewer = _Viewer(saved.owner if saved.owner_id else _Anonymous(), saved.workspace)
    filterset = AccountFilterSet(data, queryset=Account.objects.all(), request=viewer)
    if not filterset.is_valid():
        return None
    return set(filterset.qs.order_by().values_list("pk", flat=True))
