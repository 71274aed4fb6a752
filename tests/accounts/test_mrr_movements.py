"""MRR movements are recorded for every change of an account's revenue, by every write path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import Account, AccountStatus, MRRMovement
from accounts.mrr import classify, movements_dated
from tenancy.context import use_workspace

from .. import factories as f

D = Decimal
ACTIVE, CHURNED = AccountStatus.ACTIVE, AccountStatus.CHURNED


def today() -> dt.date:
    return timezone.localdate()


def moves(account: Account) -> list[tuple]:
    return list(
        MRRMovement.objects.filter(account=account)
        .order_by("pk")
        .values_list("kind", "amount", "occurred_on", "mrr_before", "mrr_after")
    )


def kinds(account: Account) -> list[tuple[str, Decimal]]:
    return [(kind, amount) for kind, amount, *_ in moves(account)]


def reload(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


# --- classify: the pure rule ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("old_mrr", "old_status", "new_mrr", "new_status", "expected"),
    [
        (None, None, D("100"), ACTIVE, ("new", D("100"))),
        (None, None, D("0"), ACTIVE, None),
        (None, None, D("100"), CHURNED, None),
        (D("100"), ACTIVE, D("150"), ACTIVE, ("expansion", D("50"))),
        (D("100"), ACTIVE, D("60"), ACTIVE, ("contraction", D("-40"))),
        (D("100"), ACTIVE, D("0"), ACTIVE, ("contraction", D("-100"))),
        (D("0"), ACTIVE, D("100"), ACTIVE, ("new", D("100"))),
        (D("100"), ACTIVE, D("100"), ACTIVE, None),
        (D("100"), ACTIVE, D("100"), CHURNED, ("churn", D("-100"))),
        (D("100"), ACTIVE, D("250"), CHURNED, ("churn", D("-100"))),
        (D("0"), ACTIVE, D("0"), CHURNED, None),
        (D("100"), CHURNED, D("120"), ACTIVE, ("reactivation", D("120"))),
        (D("100"), CHURNED, D("0"), ACTIVE, None),
        (D("100"), CHURNED, D("200"), CHURNED, None),
        ("100.50", ACTIVE, 100, ACTIVE, ("contraction", D("-0.50"))),
    ],
)
def test_classify(old_mrr, old_status, new_mrr, new_status, expected):
    assert classify(old_mrr, old_status, new_mrr, new_status) == expected


# --- save() ------------------------------------------------------------------------------------


def test_create_records_new_dated_at_a_past_contract_start(workspace):
    start = today() - dt.timedelta(days=90)
    account = f.AccountFactory(mrr=D("1000"), contract_start=start)
    assert moves(account) == [("new", D("1000"), start, D("0"), D("1000"))]
    assert MRRMovement.objects.get(account=account).workspace_id == workspace.pk


def test_create_with_a_future_contract_start_is_dated_today(workspace):
    account = f.AccountFactory(mrr=D("500"), contract_start=today() + dt.timedelta(days=10))
    assert moves(account) == [("new", D("500"), today(), D("0"), D("500"))]


@pytest.mark.parametrize(("mrr", "status"), [(D("0"), ACTIVE), (D("700"), CHURNED)])
def test_create_without_revenue_records_nothing(workspace, mrr, status):
    account = f.AccountFactory(mrr=mrr, status=status)
    assert moves(account) == []


def test_save_with_higher_mrr_records_expansion(workspace):
    account = f.AccountFactory(mrr=D("1000"))
    account = reload(account)
    account.mrr = D("1500")
    account.save()
    assert moves(account)[1:] == [("expansion", D("500"), today(), D("1000"), D("1500"))]


def test_save_with_lower_mrr_records_contraction(workspace):
    account = f.AccountFactory(mrr=D("1000"))
    account.mrr = D("600")
    account.save()
    assert moves(account)[1:] == [("contraction", D("-400"), today(), D("1000"), D("600"))]


def test_churn_takes_the_old_mrr_dated_at_churned_at(workspace):
    account = f.AccountFactory(mrr=D("1000"))
    churned_on = today() - dt.timedelta(days=3)
    account.status = CHURNED
    account.churned_at = churned_on
    account.save()
    assert moves(account)[1:] == [("churn", D("-1000"), churned_on, D("1000"), D("0"))]


def test_reactivation_after_churn(workspace):
    account = f.AccountFactory(mrr=D("1000"))
    account.status = CHURNED
    account.save()
    account = reload(account)
    account.status = ACTIVE
    account.mrr = D("800")
    account.churned_at = None
    account.save()
    assert kinds(account) == [("new", D("1000")), ("churn", D("-1000")), ("reactivation", D("800"))]
    assert moves(account)[-1] == ("reactivation", D("800"), today(), D("0"), D("800"))


def test_saving_without_a_revenue_change_records_nothing(workspace):
    account = f.AccountFactory(mrr=D("1000"))
    account.name = "Renamed"
    account.save()
    reloaded = reload(account)
    reloaded.industry = "Retail"
    reloaded.save()
    reloaded.save()
    assert kinds(account) == [("new", D("1000"))]


def test_movements_dated_overrides_the_day(workspace):
    day = today() - dt.timedelta(days=400)
    with movements_dated(day):
        account = f.AccountFactory(mrr=D("300"), contract_start=today() - dt.timedelta(days=30))
        account.mrr = D("350")
        account.save()
        account.status = CHURNED
        account.churned_at = today() - dt.timedelta(days=2)
        account.save()
    assert [(k, day_) for k, _, day_, *_ in moves(account)] == [
        ("new", day),
        ("expansion", day),
        ("churn", day),
    ]
    account = reload(account)
    account.status = ACTIVE
    account.save()
    assert moves(account)[-1][2] == today()


# --- queryset writes ---------------------------------------------------------------------------


def test_queryset_update_records_a_movement_per_account(workspace):
    one = f.AccountFactory(mrr=D("100"))
    two = f.AccountFactory(mrr=D("200"))
    untouched = f.AccountFactory(mrr=D("300"))
    count = Account.objects.filter(pk__in=[one.pk, two.pk]).update(mrr=F("mrr") + 50)
    assert count == 2
    assert kinds(one)[1:] == [("expansion", D("50"))]
    assert kinds(two)[1:] == [("expansion", D("50"))]
    assert kinds(untouched) == [("new", D("300"))]
    Account.objects.filter(pk=one.pk).update(status=CHURNED)
    assert kinds(one)[-1] == ("churn", D("-150"))
    Account.objects.filter(pk=two.pk).update(mrr=D("20"))
    assert kinds(two)[-1] == ("contraction", D("-230"))


def test_queryset_update_of_other_fields_records_nothing(workspace):
    account = f.AccountFactory(mrr=D("100"))
    Account.objects.filter(pk=account.pk).update(name="Renamed", health_score=40)
    Account.objects.filter(pk=account.pk).update(mrr=D("100"))
    assert kinds(account) == [("new", D("100"))]


def test_bulk_update_records_movements(workspace):
    up = f.AccountFactory(mrr=D("100"))
    down = f.AccountFactory(mrr=D("200"))
    same = f.AccountFactory(mrr=D("300"))
    up.mrr, down.mrr = D("180"), D("50")
    same.name = "Same revenue"
    Account.objects.bulk_update([up, down, same], ["mrr", "name"])
    assert kinds(up)[1:] == [("expansion", D("80"))]
    assert kinds(down)[1:] == [("contraction", D("-150"))]
    assert kinds(same) == [("new", D("300"))]
    down.status = CHURNED
    Account.objects.bulk_update([down], ["status"])
    assert kinds(down)[-1] == ("churn", D("-50"))


def test_bulk_create_records_new(workspace):
    start = today() - dt.timedelta(days=60)
    created = Account.objects.bulk_create(
        [
            Account(name="Bulk one", external_id="bulk-1", mrr=D("100"), contract_start=start),
            Account(name="Bulk two", external_id="bulk-2", mrr=D("200")),
            Account(name="Bulk free", external_id="bulk-3", mrr=D("0")),
        ]
    )
    one, two, free = (Account.objects.get(external_id=f"bulk-{n}") for n in (1, 2, 3))
    assert [a.pk for a in created] == [one.pk, two.pk, free.pk]
    assert moves(one) == [("new", D("100"), start, D("0"), D("100"))]
    assert moves(two) == [("new", D("200"), today(), D("0"), D("200"))]
    assert moves(free) == []


def test_bulk_upsert_records_expansion_new_and_nothing(workspace):
    existing = f.AccountFactory(external_id="up-1", mrr=D("100"))
    unchanged = f.AccountFactory(external_id="up-2", mrr=D("200"))
    Account.objects.bulk_create(
        [
            Account(name=existing.name, external_id="up-1", mrr=D("160"), status=ACTIVE),
            Account(name="Brand new", external_id="up-3", mrr=D("90"), status=ACTIVE),
            Account(name=unchanged.name, external_id="up-2", mrr=D("200"), status=ACTIVE),
        ],
        update_conflicts=True,
        unique_fields=["workspace", "external_id"],
        update_fields=["mrr", "status"],
    )
    new = Account.objects.get(external_id="up-3")
    assert Account.objects.count() == 3
    assert kinds(existing) == [("new", D("100")), ("expansion", D("60"))]
    assert kinds(new) == [("new", D("90"))]
    assert kinds(unchanged) == [("new", D("200"))]


def test_bulk_upsert_records_churn(workspace):
    account = f.AccountFactory(external_id="up-churn", mrr=D("400"))
    Account.objects.bulk_create(
        [Account(name=account.name, external_id="up-churn", mrr=D("400"), status=CHURNED)],
        update_conflicts=True,
        unique_fields=["workspace", "external_id"],
        update_fields=["mrr", "status"],
    )
    assert kinds(account) == [("new", D("400")), ("churn", D("-400"))]


def test_upsert_in_one_workspace_leaves_the_same_external_id_elsewhere_alone(workspace):
    other = f.WorkspaceFactory()
    with use_workspace(other):
        theirs = f.AccountFactory(external_id="shared-id", mrr=D("999"))
    Account.objects.bulk_create(
        [Account(name="Ours", external_id="shared-id", mrr=D("10"))],
        update_conflicts=True,
        unique_fields=["workspace", "external_id"],
        update_fields=["mrr", "status"],
    )
    ours = Account.objects.get(external_id="shared-id")
    assert kinds(ours) == [("new", D("10"))]
    with use_workspace(other):
        assert reload(theirs).mrr == D("999")
        assert kinds(theirs) == [("new", D("999"))]


# --- the invariant: movements add up to the stored revenue --------------------------------------


def recorded_mrr(account: Account) -> Decimal:
    return MRRMovement.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or D("0")


def stored_mrr(account: Account) -> Decimal:
    row = reload(account)
    return row.mrr if row.status == ACTIVE else D("0")


def test_movements_add_up_to_the_mrr_after_a_mix_of_writes(workspace):
    account = f.AccountFactory(mrr=D("1000"))
    Account.objects.filter(pk=account.pk).update(mrr=D("1200"))
    account = reload(account)
    account.mrr = D("900")
    account.save()
    account.status = CHURNED
    Account.objects.bulk_update([account], ["status"])
    account = reload(account)
    account.status = ACTIVE
    account.mrr = D("700")
    account.save()
    assert recorded_mrr(account) == stored_mrr(account) == D("700")


def test_movements_add_up_after_saving_a_stale_instance(workspace):
    """An instance loaded before a queryset update writes its old MRR back on save()."""
    account = f.AccountFactory(mrr=D("1000"))
    stale = reload(account)
    Account.objects.filter(pk=account.pk).update(mrr=D("1500"))
    stale.name = "Edited in a form opened earlier"
    stale.save()  # writes mrr=1000 back over 1500
    assert reload(account).mrr == D("1000")
    assert recorded_mrr(account) == stored_mrr(account)


def test_save_with_update_fields_without_mrr_records_nothing(workspace):
    account = f.AccountFactory(mrr=D("1000"))
    account.mrr = D("5000")  # not saved: update_fields leaves mrr out
    account.name = "Renamed"
    account.save(update_fields=["name"])
    assert reload(account).mrr == D("1000")
    assert recorded_mrr(account) == stored_mrr(account) == D("1000")
