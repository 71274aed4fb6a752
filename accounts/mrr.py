"""MRR movements, recorded automatically whenever an account's MRR or status changes.

Every write path funnels here: `Account.save()`, and the account queryset's `update()`,
`bulk_update()` and `bulk_create()` (including upserts with `update_conflicts=True`, which the
bulk API uses). Each compares the revenue state before and after and records the movements, in the
same transaction. Raw SQL that bypasses the ORM would bypass this too; the one writer that uses
it, the partner API's set-based account upsert on PostgreSQL (integrations/api/writer.py), calls
`record_changes` itself with every written account's state before and after, in its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from tenancy import rls
from tenancy.managers import TenantQuerySet

if TYPE_CHECKING:
    from .models import Account

ACTIVE, CHURNED = "active", "churned"
ZERO = Decimal("0")

_effective_date: ContextVar[dt.date | None] = ContextVar("mrr_effective_date", default=None)
# Django's bulk_update writes through queryset.update(); that inner update must not record again.
_in_bulk_update: ContextVar[bool] = ContextVar("mrr_in_bulk_update", default=False)


@contextmanager
def movements_dated(day: dt.date) -> Iterator[None]:
    """Date the movements recorded inside the block (history imports and the demo seed)."""
    token = _effective_date.set(day)
    try:
        yield
    finally:
        _effective_date.reset(token)


def classify(
    old_mrr: Decimal | None, old_status: str | None, new_mrr: Decimal, new_status: str
) -> tuple[str, Decimal] | None:
    """The movement (kind, signed amount) between two revenue states; None when there is none.

    `old_status is None` means the account is new.
    """
    old_mrr = ZERO if old_mrr is None else Decimal(old_mrr)
    new_mrr = Decimal(new_mrr)
    if old_status is None:
        return ("new", new_mrr) if new_status == ACTIVE and new_mrr > 0 else None
    if old_status == ACTIVE and new_status == CHURNED:
        return ("churn", -old_mrr) if old_mrr > 0 else None
    if old_status == CHURNED and new_status == ACTIVE:
        return ("reactivation", new_mrr) if new_mrr > 0 else None
    if new_status == CHURNED or new_mrr == old_mrr:
        return None
    if old_mrr == 0:
        return ("new", new_mrr)
    return ("expansion" if new_mrr > old_mrr else "contraction", new_mrr - old_mrr)


def _movement_day(account: Account, kind: str, today: dt.date | None = None) -> dt.date:
    forced = _effective_date.get()
    if forced is not None:
        return forced
    today = today or timezone.localdate()
    if kind == "new" and account.contract_start and account.contract_start <= today:
        return account.contract_start
    if kind == "churn" and account.churned_at and account.churned_at <= today:
        return account.churned_at
    return today


def record_changes(changes: Sequence[tuple[Account, tuple[Decimal, str] | None]], source: str = "") -> int:
    """Record movements for (account after the write, (mrr, status) before it or None if new)."""
    rows = []
    today = timezone.localdate()
    for account, before in changes:
        old_mrr, old_status = before if before is not None else (None, None)
        movement = classify(old_mrr, old_status, account.mrr, account.status)
        if movement is None:
            continue
        kind, amount = movement
        rows.append(
            {
                "workspace_id": account.workspace_id,
                "account_id": account.pk,
                "kind": kind,
                "amount": amount,
                "mrr_before": ZERO if old_mrr is None or old_status == CHURNED else old_mrr,
                "mrr_after": ZERO if account.status == CHURNED else Decimal(account.mrr),
                "occurred_on": _movement_day(account, kind, today),
                "source": source,
            }
        )
    if rows:
        _insert_movements(rows)
    return len(rows)


# From this many movements at once (a bulk upsert through the API), PostgreSQL gets them by COPY.
COPY_FROM = 200


def _insert_movements(rows: list[dict]) -> None:
    from django.db import connection

    from .models import MRRMovement

    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        MRRMovement.all_workspaces.bulk_create([MRRMovement(**row) for row in rows])
        return
    # The same rows bulk_create would write (created_at by its default), without a model
    # instance and an INSERT parameter per value. Inside the caller's transaction. PostgreSQL
    # refuses COPY into a table under row-level security, so the rows are copied into a
    # temporary table and moved with one INSERT … SELECT, which the policy checks.
    now = timezone.now()
    fields = [MRRMovement._meta.get_field(name) for name in [*rows[0], "created_at"]]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    definition = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    table = quote(MRRMovement._meta.db_table)
    rls.sync(connection)  # COPY below is raw psycopg: carry the workspace into this transaction
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE mrr_movements_in ({definition}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY mrr_movements_in ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([*row.values(), now])
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM mrr_movements_in")  # noqa: S608
        cursor.execute("DROP TABLE mrr_movements_in")


REVENUE_FIELDS = {"mrr", "status"}


class AccountQuerySet(TenantQuerySet):
    def _revenue_before(self, pks) -> dict[int, tuple[Decimal, str]]:
        qs = self.model.all_workspaces.filter(pk__in=list(pks))
        return {pk: (mrr, status) for pk, mrr, status in qs.values_list("pk", "mrr", "status")}

    def update(self, **kwargs):
        if not REVENUE_FIELDS & kwargs.keys() or _in_bulk_update.get():
            return super().update(**kwargs)
        with transaction.atomic():
            pks = list(self.select_for_update().values_list("pk", flat=True))
            before = self._revenue_before(pks)
            count = super().update(**kwargs)
            after = self.model.all_workspaces.filter(pk__in=pks)
            record_changes([(account, before.get(account.pk)) for account in after])
        return count

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if not REVENUE_FIELDS & set(fields):
            return super().bulk_update(objs, fields, *args, **kwargs)
        with transaction.atomic():
            before = self._revenue_before(obj.pk for obj in objs)
            token = _in_bulk_update.set(True)
            try:
                count = super().bulk_update(objs, fields, *args, **kwargs)
            finally:
                _in_bulk_update.reset(token)
            after = self.model.all_workspaces.filter(pk__in=[obj.pk for obj in objs])
            record_changes([(account, before.get(account.pk)) for account in after])
        return count

    def bulk_create(self, objs, *args, **kwargs):
        objs = self._stamp(list(objs))
        with transaction.atomic():
            before: dict[tuple[int, str], tuple[Decimal, str]] | None = None
            keys = {(obj.workspace_id, obj.external_id) for obj in objs if obj.external_id}
            if kwargs.get("update_conflicts"):
                # An upsert: accounts that already exist are compared with their stored state,
                # read once concurrent upserts of the same partner ids have committed (their
                # keys are locked; the rows too) so a racing creation is seen as an update.
                from tenancy.locks import lock_keys

                for workspace_id in sorted({w for w, _ in keys}):
                    lock_keys("accounts.Account", workspace_id, [(e,) for w, e in keys if w == workspace_id])
                before = {
                    (a.workspace_id, a.external_id): (a.mrr, a.status)
                    for a in self._by_keys(keys).select_for_update()
                    if (a.workspace_id, a.external_id) in keys
                }
            created = super().bulk_create(objs, *args, **kwargs)
            if before is None:
                record_changes([(obj, None) for obj in created])
            else:
                # Re-read: on conflict the returned objects may lack their database ids.
                after = [a for a in self._by_keys(keys) if (a.workspace_id, a.external_id) in keys]
                record_changes([(a, before.get((a.workspace_id, a.external_id))) for a in after])
        return created

    def _by_keys(self, keys: set[tuple[int, str]]):
        return self.model.all_workspaces.filter(
            workspace_id__in={w for w, _ in keys}, external_id__in=[e for _, e in keys]
        )
