"""The one place an account's tier or lifecycle stage changes.

Every path (the account page, the list's bulk actions, the partner API, the automatic rules, a
playbook step) calls `set_field`, which works on a whole queryset at once: one read of the rows
that change, one UPDATE, one `bulk_create` of `AccountChange` rows, and — once the transaction
commits — one `accounts.signals.account_changed` per change, listing the accounts it moved.

A person's choice (`override=True`) marks the field as overridden, so the automatic rules leave it
alone until someone clears the override (`clear_override`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone

from tenancy.context import current_workspace_id

from .models import Account, AccountChange, ChangeField, ChangeSource, LifecycleStage, Tier
from .signals import account_changed


@dataclass(frozen=True)
class FieldSpec:
    field: str  # AccountChange.field and the signal's `field`
    fk: str  # Account's foreign key
    model: type[models.Model]
    override: str  # Account's override flag

    @property
    def attname(self) -> str:
        return f"{self.fk}_id"


FIELDS = {
    ChangeField.TIER: FieldSpec(ChangeField.TIER, "tier", Tier, "tier_overridden"),
    ChangeField.STAGE: FieldSpec(ChangeField.STAGE, "lifecycle_stage", LifecycleStage, "stage_overridden"),
}


def set_field(
    accounts: models.QuerySet,
    field: str,
    value: models.Model | None,
    *,
    source: str,
    user=None,
    override: bool | None = None,
    reason: str = "",
) -> int:
    """Set the tier or stage of every account in `accounts` to `value`; returns how many changed.

    `override=True` (a person's choice) also marks every selected account as overridden, even
    those already at `value`; `override=None` leaves the flags as they are (rules, playbooks).
    """
    spec = FIELDS[ChangeField(field)]
    if value is not None and not isinstance(value, spec.model):
        raise TypeError(f"{field} takes a {spec.model.__name__}")
    # A plain pk filter: the caller's queryset may carry annotations, ordering or a slice.
    selected = Account.objects.filter(pk__in=accounts.order_by().values("pk"))
    now = timezone.now()
    with transaction.atomic():
        to_change = selected.exclude(**{spec.fk: value})
        before = list(to_change.select_for_update().values_list("pk", spec.attname).order_by("pk"))
        updates: dict = {spec.fk: value, "updated_at": now}
        if override is not None:
            updates[spec.override] = override
            selected.update(**updates)
        elif before:
            Account.objects.filter(pk__in=[pk for pk, _ in before]).update(**updates)
        if not before:
            return 0
        record(spec, before, value, source=source, user=user, reason=reason, at=now)
    return len(before)


def record(
    spec: FieldSpec,
    before: list[tuple[int, int | None]],
    value: models.Model | None,
    *,
    source: str,
    user=None,
    reason: str = "",
    at=None,
) -> list[AccountChange]:
    """History rows for accounts that moved from their `before` value to `value` (in bulk), and
    the `account_changed` signals once the transaction commits."""
    labels = dict(
        spec.model.objects.filter(pk__in={old for _, old in before if old}).values_list("pk", "name")
    )
    at = at or timezone.now()
    new_id = value.pk if value is not None else None
    changes = AccountChange.objects.bulk_create(
        [
            AccountChange(
                account_id=pk,
                field=spec.field,
                old_id=old,
                old_label=labels.get(old, "") if old else "",
                new_id=new_id,
                new_label=str(value) if value is not None else "",
                source=ChangeSource(source),
                changed_by=user if source == ChangeSource.USER else None,
                reason=reason[:200],
                changed_at=at,
            )
            for pk, old in before
        ],
        batch_size=1000,
    )
    workspace_id = current_workspace_id()

    def notify() -> None:
        account_changed.send(
            sender=Account,
            workspace_id=workspace_id,
            field=str(spec.field),
            new_id=new_id,
            changes=before,
            source=str(source),
        )

    if before:
        transaction.on_commit(notify)
    return changes


def clear_override(accounts: models.QuerySet, field: str) -> int:
    """Let the automatic rules manage the field again (from their next run)."""
    spec = FIELDS[ChangeField(field)]
    return accounts.filter(**{spec.override: True}).update(
        **{spec.override: False, "updated_at": timezone.now()}
    )


def history(account: Account, limit: int = 10) -> list[AccountChange]:
    return list(AccountChange.objects.filter(account=account).select_related("changed_by")[:limit])


def record_written(field: str, rows: list[tuple[int, int | None, int | None]], *, source: str) -> int:
    """History for tier or stage values already written by a batch upsert (the partner API):
    `rows` are (account id, old id, new id) of accounts whose value changed. The accounts are
    marked as overridden, as a person's choice would be. A few queries per distinct new value."""
    spec = FIELDS[ChangeField(field)]
    by_value: dict[int | None, list[tuple[int, int | None]]] = {}
    for account_id, old, new in rows:
        if old != new:
            by_value.setdefault(new, []).append((account_id, old))
    if not by_value:
        return 0
    values = spec.model.objects.in_bulk([pk for pk in by_value if pk is not None])
    now = timezone.now()
    with transaction.atomic():
        for new, moved in by_value.items():
            Account.objects.filter(pk__in=[pk for pk, _ in moved]).update(**{spec.override: True})
            record(spec, moved, values.get(new), source=source, at=now)
    return sum(len(moved) for moved in by_value.values())
