"""Batches large enough for the set-based writes: outcomes, MRR movements, tier history, stale
marks and ingest counts are the same whether PostgreSQL gets the rows by COPY through a temporary
table or as statement parameters (and on SQLite, through the ORM)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts import mrr
from accounts.models import Account, AccountChange, DailyUsage, MRRMovement
from integrations.api import pg
from integrations.csv_import import writer_for
from integrations.models import ImportKind, IngestCount
from tenancy.context import use_workspace

N = 60


@pytest.fixture(params=["copy", "parameters"])
def route(request, monkeypatch):
    monkeypatch.setattr(pg, "COPY_FROM", 0 if request.param == "copy" else 10**6)
    monkeypatch.setattr(mrr, "COPY_FROM", 0 if request.param == "copy" else 10**6)
    return request.param


def write(kind, records, **kwargs):
    outcomes = writer_for(kind).write(records, prefix="/records", **kwargs)
    return [o.status or "not_written" for o in outcomes], outcomes


def accounts(n=N, **overrides):
    return [
        {"external_id": f"v-{i}", "name": f"Volume {i}", "mrr": f"{100 * (i % 5)}.00", **overrides}
        for i in range(n)
    ]


def test_accounts_in_volume(route, two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        statuses, _ = write(ImportKind.ACCOUNTS, accounts())
        assert statuses == ["created"] * N
        assert MRRMovement.objects.filter(kind="new", account__external_id__startswith="v-").count() == 48
        Account.objects.filter(external_id__startswith="v-").update(health_stale=False)

        again = accounts()
        for i in range(0, 10):
            again[i]["mrr"] = f"{100 * (i % 5) + 50}.00"  # 0 → 50 is new, the others expansions
        for i in range(10, 15):
            again[i]["status"] = "churned"
        for i in range(15, 20):
            again[i]["tier"] = tw.sample.tier.name
        again[20]["name"] = "Renamed"
        again.append({"external_id": "v-new", "name": "Brand new", "mrr": "10.00"})
        again.append({"external_id": "v-bad", "name": "Bad", "mrr": "-1"})
        statuses, outcomes = write(ImportKind.ACCOUNTS, again)
        assert statuses[:21] == ["updated"] * 21
        assert statuses[21:N] == ["unchanged"] * (N - 21)
        assert statuses[N:] == ["created", "error"]
        assert outcomes[-1].errors[0]["pointer"] == f"/records/{N + 1}/mrr"

        moves = {
            (m.account.external_id, m.kind, m.amount)
            for m in MRRMovement.objects.filter(account__external_id__startswith="v-").exclude(kind="new")
        }
        expected = {(f"v-{i}", "expansion", Decimal("50.00")) for i in range(10) if i % 5}
        expected |= {(f"v-{i}", "churn", -Decimal(100 * (i % 5))) for i in range(10, 15) if i % 5}
        assert moves == expected
        assert MRRMovement.objects.filter(account__external_id="v-0", kind="new").count() == 1  # 0 → 50
        assert MRRMovement.objects.filter(account__external_id="v-new", kind="new").count() == 1

        changes = AccountChange.objects.filter(account__external_id__startswith="v-", field="tier")
        assert sorted(c.account.external_id for c in changes) == [f"v-{i}" for i in range(15, 20)]
        assert all(c.new_label == tw.sample.tier.name and c.source == "api" for c in changes)
        assert set(
            Account.objects.filter(tier_overridden=True, external_id__startswith="v-").values_list(
                "external_id", flat=True
            )
        ) == {f"v-{i}" for i in range(15, 20)}

        stale = set(
            Account.objects.filter(external_id__startswith="v-", health_stale=True).values_list(
                "external_id", flat=True
            )
        )
        assert stale == {f"v-{i}" for i in range(21)} | {"v-new"}
        renamed = Account.objects.get(external_id="v-20")
        assert (renamed.name, renamed.mrr, renamed.status) == ("Renamed", Decimal("0.00"), "active")
        assert renamed.updated_at > renamed.created_at
        assert IngestCount.objects.get(resource="account").records == N + 22

        # Atomic: one bad record, nothing written.
        statuses, _ = write(ImportKind.ACCOUNTS, [*accounts(3, name="Atomic"), again[-1]], atomic=True)
        assert statuses == ["not_written"] * 3 + ["error"]
        assert not Account.objects.filter(name="Atomic").exists()
    with use_workspace(tw.b):
        assert not Account.objects.filter(external_id__startswith="v-").exists()


def test_daily_usage_in_volume(route, two_workspaces):
    tw = two_workspaces
    account, contact = tw.sample.account.external_id, tw.sample.contact.external_id

    def rows():
        return [
            {
                "account_external_id": account,
                "contact_external_id": contact if i % 3 == 0 else None,
                "feature": f"vol{i % 4}",
                "day": f"2026-10-{1 + i // 4:02d}",
                "events": i,
                "duration_seconds": 60 * i,
            }
            for i in range(N)
        ]

    with use_workspace(tw.a):
        statuses, _ = write(ImportKind.USAGE, rows())
        assert statuses == ["created"] * N
        assert DailyUsage.objects.filter(feature__startswith="vol").count() == N
        assert DailyUsage.objects.filter(feature__startswith="vol", contact__isnull=False).count() == N // 3

        again = rows()
        again[0]["events"] = 1000  # with a contact
        again[1]["duration_seconds"] = 7  # without
        del again[2]["events"]  # omitted: keeps the stored value
        again[3]["events"] = 0
        del again[3]["duration_seconds"]  # a group of its own, and changed
        del again[4]["events"], again[4]["duration_seconds"]  # nothing to update
        again.append(dict(again[5]))  # a duplicate: both refused
        statuses, outcomes = write(ImportKind.USAGE, again)
        assert statuses[:5] == ["updated", "updated", "unchanged", "updated", "unchanged"]
        assert statuses[5] == "error" and statuses[-1] == "error"
        assert statuses[6:N] == ["unchanged"] * (N - 6)
        assert outcomes[5].errors[0]["pointer"] == "/records/5/day"
        stored = {
            (u.feature, u.day.day, u.contact_id is not None): (u.events, u.duration_seconds)
            for u in DailyUsage.objects.filter(feature__startswith="vol")
        }
        assert stored[("vol0", 1, True)] == (1000, 0)
        assert stored[("vol1", 1, False)] == (1, 7)
        assert stored[("vol2", 1, False)] == (2, 120)
        assert stored[("vol3", 1, True)] == (0, 180)
        assert len(stored) == N
        assert IngestCount.objects.get(resource="dailyusage").records == N + 3
