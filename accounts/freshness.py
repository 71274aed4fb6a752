"""Marks accounts whose health inputs changed, so the incremental rescore picks them up.

Saving or deleting any input row (usage, tickets, invoices, NPS, touchpoints, CSM scores,
contacts, the account itself) marks its account stale and sends `inputs_changed`; bulk writers
(the API's batch upserts) call `mark_inputs_changed` themselves. `health` listens to the signal,
`accounts` never imports `health`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal

from tenancy.context import use_workspace
from tenancy.lookups import one_of

from .models import (
    Account,
    Contact,
    CSMScore,
    DailyUsage,
    Invoice,
    NPSResponse,
    Ticket,
    Touchpoint,
    UsageEvent,
)

# Args: workspace_id (int), account_ids (list[int]).
inputs_changed = Signal()

INPUT_MODELS = (Contact, CSMScore, DailyUsage, Invoice, NPSResponse, Ticket, Touchpoint, UsageEvent)


def mark_inputs_changed(workspace_id: int, account_ids: Iterable[int]) -> None:
    ids = sorted(set(account_ids))
    if not ids:
        return
    with use_workspace(workspace_id):
        Account.objects.filter(one_of("pk", ids), health_stale=False).update(health_stale=True)
    inputs_changed.send(sender=Account, workspace_id=workspace_id, account_ids=ids)


def _input_row_changed(sender, instance, signal, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    if sender is Account:
        mark_inputs_changed(instance.workspace_id, [instance.pk])
    else:
        mark_inputs_changed(instance.workspace_id, [instance.account_id])


# Connected per model (not to every sender): a model with delete listeners loses Django's fast
# bulk delete, so only the health inputs pay for this.
for _model in INPUT_MODELS:
    post_save.connect(_input_row_changed, sender=_model, dispatch_uid=f"freshness-save-{_model.__name__}")
    post_delete.connect(_input_row_changed, sender=_model, dispatch_uid=f"freshness-delete-{_model.__name__}")
post_save.connect(_input_row_changed, sender=Account, dispatch_uid="freshness-save-Account")
