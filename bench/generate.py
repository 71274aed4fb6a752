#!/usr/bin/env python
"""Large synthetic data sets for the benchmarks.

    .venv/bin/python bench/generate.py --accounts 100000 --workspaces 10 [--days 180] [--seed 1] [--replace]

Builds N accounts spread over W workspaces named bench-1…bench-W, each with CSM users, tiers and
lifecycle stages, and per account on average ~5 contacts, ~2 usage rows per day of history
(account-level rollups of a few features), ~3 tickets, ~6 invoices, ~1 NPS response, ~2
touchpoints and ~1 CSM score. A latent risk per account correlates the signals (declining usage,
more tickets and worse CSAT, detractors, overdue invoices, a few churns), so health scores and
alerts have something to find.

Accounts go through `Account.all_workspaces.bulk_create`, which records their 'new' MRR
movements as live data does; churns go through the recording queryset `update()`. Everything else
is generated with numpy and written with COPY on PostgreSQL (binary COPY from a numpy record array
for the usage table) or with `executemany` on SQLite, in one transaction.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.apps import apps  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import demo  # noqa: E402
from accounts.models import (  # noqa: E402
    Account,
    Contact,
    CSMScore,
    DailyUsage,
    Invoice,
    LifecycleStage,
    MRRMovement,
    NPSResponse,
    Ticket,
    Tier,
    Touchpoint,
)
from accounts.mrr import movements_dated  # noqa: E402
from tenancy.models import Membership, User, Workspace  # noqa: E402
from tenancy.provisioning import provision_workspace  # noqa: E402

EPOCH_2000 = dt.date(2000, 1, 1)  # PostgreSQL's binary date epoch
PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
PG_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
ACCOUNT_CHUNK = 5000
CSMS_PER_WORKSPACE = 8
BENCH_PASSWORD = "bench12345"  # noqa: S105  (local benchmark logins)

# Features: (key, share of an account's daily events, adoption, seconds per event, weekend factor)
FEATURES = (
    ("dashboards", 0.5, 1.0, 90, 0.2),
    ("reports", 0.25, 0.8, 150, 0.2),
    ("exports", 0.06, 0.5, 20, 0.15),
    ("api", 0.6, 0.3, 1, 0.7),
)
TIERS = (("Enterprise", 5000, "purple"), ("Mid-market", 1000, "blue"), ("SMB", 0, "teal"))
STAGES = ("trial", "onboarding", "adoption", "established", "advocate", "churned")
PLANS = ("Starter", "Growth", "Enterprise")
INDUSTRIES = (
    "Software",
    "Financial services",
    "Healthcare",
    "Retail & e-commerce",
    "Manufacturing",
    "Education",
    "Media & entertainment",
    "Logistics",
    "Professional services",
    "Telecommunications",
)
WORDS = [
    "Northwind",
    "Bluepeak",
    "Brightline",
    "Cedar",
    "Summit",
    "Harbor",
    "Ironwood",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Oakridge",
    "Pinnacle",
    "Redwood",
    "Silverline",
    "Tidewater",
    "Vertex",
    "Willow",
    "Zenith",
    "Apex",
    "Beacon",
    "Cobalt",
    "Evergreen",
    "Falcon",
    "Granite",
    "Helix",
    "Horizon",
    "Juniper",
    "Keystone",
    "Maple",
    "Nova",
    "Orchid",
    "Polaris",
    "Sage",
    "Starling",
    "Trident",
    "Vantage",
    "Aurora",
    "Mosaic",
    "Osprey",
]
NOUNS = [
    "Labs",
    "Systems",
    "Capital",
    "Health",
    "Goods",
    "Industries",
    "Learning",
    "Media",
    "Logistics",
    "Partners",
    "Networks",
    "Cloud",
]
FIRST = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Ethan",
    "Sophia",
    "Lucas",
    "Mia",
    "Mason",
    "Amelia",
    "Logan",
    "Harper",
    "Elijah",
    "Evelyn",
    "James",
    "Grace",
    "Henry",
    "Chloe",
    "Samuel",
    "Zoe",
    "David",
    "Nora",
    "Leo",
    "Omar",
    "Fatima",
    "Wei",
    "Mei",
    "Raj",
    "Ananya",
    "Kenji",
    "Yuki",
    "Mateo",
    "Lucia",
    "Lars",
    "Ingrid",
    "Kofi",
    "Aisha",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nguyen",
    "Kim",
    "Patel",
    "Singh",
    "Chen",
    "Wang",
    "Tanaka",
    "Muller",
    "Rossi",
    "Dubois",
    "Jensen",
    "Novak",
    "Murphy",
    "Okafor",
    "Haddad",
]
TITLES = (
    "Data Analyst",
    "Operations Manager",
    "VP of Operations",
    "Head of Data",
    "Product Manager",
    "Financial Analyst",
    "IT Director",
    "BI Developer",
)
CATEGORIES = ("How-to", "Bug", "Data import", "Integrations", "Performance", "Billing", "Access & SSO")
SUBJECTS = {
    "How-to": "Question about scheduling reports",
    "Bug": "Dashboard shows stale numbers",
    "Data import": "CSV import fails on date columns",
    "Integrations": "CRM connector keeps disconnecting",
    "Performance": "Reports time out on large date ranges",
    "Billing": "Invoice shows the wrong number of seats",
    "Access & SSO": "SSO login loop for new users",
}
PRIORITIES = ("low", "normal", "high", "urgent")
TOUCHPOINT_KINDS = ("email", "call", "meeting", "qbr")


# --- Writing rows -------------------------------------------------------------------------------------


class Writer:
    """Appends rows to tables: COPY on PostgreSQL, executemany on SQLite (inside the caller's transaction)."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.counts: Counter[str] = Counter()

    def reserve_ids(self, model: type[models.Model], n: int) -> int:
        """First of `n` consecutive primary keys nobody else will be given (rows that reference each
        other are then written without reading ids back)."""
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cursor.fetchone()[0]
                cursor.execute("SELECT nextval(%s)", [sequence])
                first = cursor.fetchone()[0]
                cursor.execute("SELECT setval(%s, %s)", [sequence, first + n - 1])
            else:
                # The write transaction is held (IMMEDIATE), so nobody inserts meanwhile.
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {connection.ops.quote_name(table)}")
                first = cursor.fetchone()[0]
        return first

    def rows(self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        n = 0
        if self.postgres:
            with self._raw_cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        else:
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
            cursor = connection.connection.cursor()
            for batch in _batches(rows, 50_000):
                cursor.executemany(sql, batch)
                n += len(batch)
        self.counts[model.__name__] += n

    def usage(
        self, workspace_id: int, feature: str, account: np.ndarray, day: np.ndarray, events, secs
    ) -> None:
        """Account-level DailyUsage rows of one feature; `day` counts days since 2000-01-01."""
        n = len(account)
        if n == 0:
            return
        if self.postgres:
            # Binary COPY straight from a record array: every field of a row has a fixed width
            # (one feature per call), so no Python object is made per row.
            name = feature.encode()
            # Field count, then (length, value) per field, big-endian.
            record = np.dtype(
                [
                    ("n", ">i2"),
                    ("l1", ">i4"),
                    ("ws", ">i8"),
                    ("l2", ">i4"),
                    ("acc", ">i8"),
                    ("l3", ">i4"),
                    ("feat", f"S{len(name)}"),
                    ("l4", ">i4"),
                    ("day", ">i4"),
                    ("l5", ">i4"),
                    ("ev", ">i4"),
                    ("l6", ">i4"),
                    ("dur", ">i4"),
                ]
            )
            out = np.empty(n, dtype=record)
            out["n"], out["l1"], out["ws"], out["l2"], out["acc"] = 6, 8, workspace_id, 8, account
            out["l3"], out["feat"], out["l4"], out["day"] = len(name), name, 4, day
            out["l5"], out["ev"], out["l6"], out["dur"] = 4, events, 4, secs
            sql = (
                f"COPY {DailyUsage._meta.db_table} (workspace_id, account_id, feature, day, events, "
                "duration_seconds) FROM STDIN WITH (FORMAT binary)"
            )
            with self._raw_cursor() as cursor, cursor.copy(sql) as copy:
                copy.write(PG_COPY_HEADER)
                copy.write(out.tobytes())
                copy.write(PG_COPY_TRAILER)
        else:
            days = [
                (EPOCH_2000 + dt.timedelta(days=int(d))).isoformat() for d in range(day.min(), day.max() + 1)
            ]
            first = int(day.min())
            rows = zip(
                [workspace_id] * n,
                account.tolist(),
                [feature] * n,
                [days[d - first] for d in day.tolist()],
                events.tolist(),
                secs.tolist(),
                strict=True,
            )
            sql = (
                f"INSERT INTO {DailyUsage._meta.db_table} (workspace_id, account_id, feature, day, events, "
                "duration_seconds) VALUES (?, ?, ?, ?, ?, ?)"
            )
            connection.connection.cursor().executemany(sql, rows)
        self.counts["DailyUsage"] += n

    def _raw_cursor(self):
        connection.ensure_connection()
        return connection.connection.cursor()

    def ts(self, seconds: np.ndarray) -> list[str]:
        """Text timestamps (UTC) from seconds since the epoch, in each database's own format."""
        text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
        text = np.char.replace(text, "T", " ")
        if self.postgres:
            text = np.char.add(text, "+00")
        return text.tolist()

    def ts_or_none(self, seconds: np.ndarray, present: np.ndarray) -> list[str | None]:
        text = self.ts(np.where(present, seconds, 0))
        return [t if p else None for t, p in zip(text, present.tolist(), strict=True)]


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def next_anniversary(start: dt.date, after: dt.date) -> dt.date:
    year = after.year
    while True:
        day = dt.date(year, start.month, min(start.day, 28 if start.month == 2 else start.day))
        if day > after:
            return day
        year += 1


def dates(days_since_2000: np.ndarray) -> list[str]:
    lookup: dict[int, str] = {}
    out = []
    for d in days_since_2000.tolist():
        text = lookup.get(d)
        if text is None:
            text = lookup[d] = (EPOCH_2000 + dt.timedelta(days=d)).isoformat()
        out.append(text)
    return out


# --- PostgreSQL bulk-load helpers -----------------------------------------------------------------------


class SecondaryIndexes:
    """Drops a table's secondary indexes for a bulk load and recreates them afterwards.

    Building an index once over sorted data is several times faster than maintaining it row by
    row. DDL is transactional in PostgreSQL, so if the load fails the indexes are back as they were.
    Unique constraints backed by these indexes are dropped and re-added the same way.
    """

    def __init__(self, table: str) -> None:
        self.table = table
        self.indexes: list[tuple[str, str]] = []
        self.constraints: list[tuple[str, str]] = []

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'u'",
                [self.table],
            )
            self.constraints = cursor.fetchall()
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                [self.table],
            )
            self.indexes = cursor.fetchall()
            for name, _ in self.constraints:
                cursor.execute(f'ALTER TABLE "{self.table}" DROP CONSTRAINT "{name}"')
            for name, _ in self.indexes:
                cursor.execute(f'DROP INDEX "{name}"')

    def restore(self) -> None:
        with connection.cursor() as cursor:
            for _, definition in self.indexes:
                cursor.execute(definition)
            for name, definition in self.constraints:
                cursor.execute(f'ALTER TABLE "{self.table}" ADD CONSTRAINT "{name}" {definition}')


def tune_postgres_session() -> list[str]:
    """Settings for this transaction only; returns what could not be set (not a superuser…)."""
    skipped = []
    settings = (
        ("synchronous_commit", "off"),
        ("maintenance_work_mem", "'1GB'"),
        ("work_mem", "'256MB'"),
        # Rows are consistent by construction; skipping the per-row foreign-key triggers makes
        # COPY several times faster. Needs a superuser; otherwise the checks run at commit.
        ("session_replication_role", "replica"),
    )
    for name, value in settings:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL {name} = {value}")
        except Exception:  # a missing privilege only makes the load slower
            skipped.append(name)
    return skipped


# --- Workspaces -------------------------------------------------------------------------------------


def delete_workspaces(ids: list[int]) -> None:
    """TRUNCATE when the database holds nothing else (PostgreSQL), else one DELETE per table."""
    if connection.vendor == "postgresql" and _truncate_if_exclusive(_owned_tables(), ids):
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {Workspace._meta.db_table} WHERE id = ANY(%s)", [ids])
        return
    demo.delete_workspaces(ids)


def _owned_tables() -> dict[type[models.Model], str]:
    owned = {}
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Workspace and model._meta.managed:
                owned[model] = field.column
    return owned


def _truncate_if_exclusive(owned: dict[type[models.Model], str], ids: list[int]) -> bool:
    """When the tenant tables hold nothing but these workspaces (a database kept for benchmarks),
    TRUNCATE them: instant, and it leaves no dead rows behind for VACUUM. Otherwise, or if
    TRUNCATE is not allowed or another table still points at them, report False."""
    qn = connection.ops.quote_name
    in_ids = f"IN ({', '.join(['%s'] * len(ids))})"
    with connection.cursor() as cursor:
        for model, column in owned.items():
            table, col = qn(model._meta.db_table), qn(column)
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {col} NOT {in_ids})", ids)
            if cursor.fetchone()[0]:
                return False
    tables = {qn(model._meta.db_table) for model in owned}
    for model in apps.get_models(include_auto_created=True):  # link tables between tenant rows
        if model._meta.auto_created and any(f.related_model in owned for f in model._meta.concrete_fields):
            tables.add(qn(model._meta.db_table))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(sorted(tables))}")
    except Exception:  # not allowed, or referenced from elsewhere: delete row by row instead
        return False
    return True


def bench_users(slug: str, password_hash: str) -> tuple[User, list[User]]:
    def user(email: str, name: str) -> User:
        found = User.objects.filter(email=email).first()
        if found is None:
            found = User.objects.create_user(email=email, password=None, full_name=name)
            found.password = password_hash
            found.save(update_fields=["password"])
        return found

    admin = user(f"admin@{slug}.test", f"Admin {slug}")
    csms = [user(f"csm{k}@{slug}.test", f"CSM {k} {slug}") for k in range(1, CSMS_PER_WORKSPACE + 1)]
    return admin, csms


# --- The generator ------------------------------------------------------------------------------------


class Generator:
    def __init__(self, days: int, seed: int, writer: Writer) -> None:
        self.days = days
        self.seed = seed
        self.w = writer
        self.today = timezone.localdate()
        self.first_day = self.today - dt.timedelta(days=days)
        self.today_n = (self.today - EPOCH_2000).days  # day numbers count from 2000-01-01
        self.midnight = int(dt.datetime.combine(self.today, dt.time(), tzinfo=dt.UTC).timestamp())
        self.churns: dict[dt.date, list[int]] = {}

    def workspace(
        self, index: int, slug: str, n: int, users: tuple[User, list[User]], name: str | None = None
    ) -> None:
        rng = np.random.default_rng([self.seed, index])
        ws = Workspace.objects.create(name=name or f"Bench {index}", slug=slug)
        admin, csms = users
        Membership.objects.bulk_create(
            [Membership(workspace=ws, user=admin, role="admin")]
            + [Membership(workspace=ws, user=u, role="csm") for u in csms]
        )
        tiers = Tier.all_workspaces.bulk_create(
            [Tier(workspace=ws, name=name, position=i + 1, color=c) for i, (name, _, c) in enumerate(TIERS)]
        )
        stages = LifecycleStage.all_workspaces.bulk_create(
            [
                LifecycleStage(workspace=ws, key=key, name=key.capitalize(), position=i + 1)
                for i, key in enumerate(STAGES)
            ]
        )
        self.w.counts["Tier"] += len(tiers)
        self.w.counts["LifecycleStage"] += len(stages)
        for start in range(0, n, ACCOUNT_CHUNK):
            size = min(ACCOUNT_CHUNK, n - start)
            self.chunk(ws, rng, start, size, tiers, stages, csms)

    def chunk(self, ws, rng, offset, n, tiers, stages, csms) -> None:
        a = self.accounts(ws, rng, offset, n, tiers, stages, csms)
        contacts = self.contacts(ws, rng, a)
        self.usage(ws, rng, a)
        self.tickets(ws, rng, a, contacts)
        self.invoices(ws, rng, a)
        self.nps(ws, rng, a, contacts)
        self.relationship(ws, rng, a, csms)

    # ---- accounts (through the ORM, which records their 'new' MRR movements)

    def accounts(self, ws, rng, offset, n, tiers, stages, csms) -> dict[str, np.ndarray]:
        kind = rng.random(n)
        declining, growing = kind < 0.12, (kind >= 0.12) & (kind < 0.22)
        risk = np.where(declining, rng.beta(5, 3, n), rng.beta(1.5, 7, n))
        mrr = np.round(np.exp(rng.normal(math.log(900), 1.1, n)).clip(49, 60000) / 10) * 10
        age = rng.integers(20, 3 * 365, n)  # days since contract start
        churned = declining & (rng.random(n) < 0.3) & (age > 120)
        churn_ago = np.where(churned, rng.integers(3, min(self.days, 170), n), 0)
        employees = np.exp(rng.normal(math.log(300), 1.3, n)).clip(5, 80000).astype(int)
        licenses = (mrr / 60 * rng.uniform(0.7, 1.4, n)).clip(3, 5000).astype(int)
        owner = rng.integers(0, len(csms), n)
        has_owner = rng.random(n) > 0.05
        plan = np.where(mrr >= 5000, 2, np.where(mrr >= 1000, 1, 0))
        industry = rng.integers(0, len(INDUSTRIES), n)
        word, noun = rng.integers(0, len(WORDS), n), rng.integers(0, len(NOUNS), n)
        by_tier = {name: t for t, (name, _, _) in zip(tiers, TIERS, strict=True)}
        stage_by_key = {s.key: s for s in stages}

        objs = []
        for i in range(n):
            number = offset + i + 1
            start = self.today - dt.timedelta(days=int(age[i]))
            stage = "onboarding" if age[i] < 75 else "adoption" if age[i] < 240 else "established"
            if not churned[i] and risk[i] < 0.08 and age[i] > 400:
                stage = "advocate"
            name = f"{WORDS[word[i]]} {NOUNS[noun[i]]} {number}"
            objs.append(
                Account(
                    workspace=ws,
                    external_id=f"acct-{number:07d}",
                    name=name,
                    domain=f"{WORDS[word[i]].lower()}{number}.example",
                    industry=INDUSTRIES[industry[i]],
                    employee_count=int(employees[i]),
                    plan=PLANS[plan[i]],
                    mrr=int(mrr[i]),
                    licenses_purchased=int(licenses[i]),
                    contract_start=start,
                    renewal_date=next_anniversary(start, self.today),
                    tier=by_tier[next(t for t, floor, _ in TIERS if mrr[i] >= floor)],
                    lifecycle_stage=stage_by_key["churned" if churned[i] else stage],
                    csm_owner=csms[owner[i]] if has_owner[i] else None,
                )
            )
        # The 'new' movement is dated at each contract start by accounts.mrr.
        created = Account.all_workspaces.bulk_create(objs, batch_size=2000)
        ids = np.array([o.pk for o in created], dtype=np.int64)
        self.w.counts["Account"] += n
        for i in np.flatnonzero(churned):
            day = self.today - dt.timedelta(days=int(churn_ago[i]))
            self.churns.setdefault(day, []).append(int(ids[i]))
        return {
            "id": ids,
            "risk": risk,
            "declining": declining,
            "growing": growing,
            "mrr": mrr,
            "licenses": licenses,
            "age": age,
            "churned": churned,
            # Last active day, as a day number; the day before churn for churned accounts.
            "end": self.today_n - np.where(churned, churn_ago, 0),
            "start": self.today_n - age,
        }

    def apply_churns(self) -> None:
        """Churn through the recording `update()`, one call per churn day (all workspaces at once)."""
        for day in sorted(self.churns):
            with movements_dated(day):
                Account.all_workspaces.filter(pk__in=self.churns[day]).update(
                    status="churned", churned_at=day, churn_reason="Low adoption"
                )

    # ---- people

    def contacts(self, ws, rng, a) -> dict[str, np.ndarray]:
        per = 1 + rng.poisson(4, len(a["id"]))
        total = int(per.sum())
        first_id = self.w.reserve_ids(Contact, total)
        owner = np.repeat(np.arange(len(per)), per)
        position = np.arange(total) - np.repeat(np.cumsum(per) - per, per)
        first, last = rng.integers(0, len(FIRST), total), rng.integers(0, len(LAST), total)
        active = rng.random(total) > 0.05 + 0.2 * a["risk"][owner]
        seen_ago = rng.integers(0, 40 * 86400, total) + np.where(active, 0, 60 * 86400)
        seen = self.midnight - seen_ago
        never = rng.random(total) < 0.1
        created = self.midnight - rng.integers(90, 700, total) * 86400
        now = self.w.ts(np.array([self.midnight]))[0]
        ids = np.arange(first_id, first_id + total, dtype=np.int64)
        account_ids = a["id"][owner].tolist()
        seen_text = self.w.ts_or_none(seen, ~never)
        gone_text = self.w.ts_or_none(seen + 86400, ~active)
        created_text = self.w.ts(created)
        titles = rng.integers(0, len(TITLES), total).tolist()
        rows = (
            (
                int(ids[k]),
                ws.pk,
                account_ids[k],
                f"c-{ids[k]}",
                f"{FIRST[first[k]].lower()}.{LAST[last[k]].lower()}{k}@example.com",
                f"{FIRST[first[k]]} {LAST[last[k]]}",
                TITLES[titles[k]],
                bool(position[k] == 0),
                bool(position[k] == 1),
                bool(position[k] <= 2),
                bool(active[k]),
                seen_text[k],
                gone_text[k],
                created_text[k],
                now,
            )
            for k in range(total)
        )
        cols = [
            "id",
            "workspace_id",
            "account_id",
            "external_id",
            "email",
            "name",
            "title",
            "is_champion",
            "is_executive",
            "is_decision_maker",
            "is_active",
            "last_seen_at",
            "deactivated_at",
            "created_at",
            "updated_at",
        ]
        self.w.rows(Contact, cols, rows)
        # The contacts of account i are ids[first[i] : first[i] + per[i]].
        return {"first": first_id + np.cumsum(per) - per, "per": per}

    # ---- usage

    def usage(self, ws, rng, a) -> None:
        n = len(a["id"])
        day = np.arange(self.today_n - self.days, self.today_n)  # history ends yesterday
        t = (day - day[0]) / max(1, self.days - 1)  # 0 … 1 across the window
        weekend = ((day + 5) % 7) >= 5  # 2000-01-01 was a Saturday
        level = np.exp(rng.normal(math.log(10), 0.9, n)) * (a["licenses"] / a["licenses"].mean()) ** 0.3
        trend = np.ones((n, self.days))
        trend[a["growing"]] = 0.7 + 0.6 * t
        decline = np.clip((t - 0.5) * 2, 0, 1)  # the last half of the window falls to ~35%
        trend[a["declining"]] = 1 - 0.65 * decline
        # Nothing before the contract started or after the account churned.
        live = (day[None, :] >= a["start"][:, None]) & (day[None, :] < a["end"][:, None])
        ramp = np.clip((day[None, :] - a["start"][:, None]) / 45, 0.2, 1)
        base = level[:, None] * trend * live * ramp
        for key, share, adoption, seconds, weekend_factor in FEATURES:
            uses = rng.random(n) < adoption
            week = np.where(weekend, weekend_factor, 1.0)
            lam = base * (share * uses)[:, None] * week[None, :] * rng.gamma(4, 0.25, (n, self.days))
            events = rng.poisson(lam)
            acc_i, day_i = np.nonzero(events)
            ev = events[acc_i, day_i]
            secs = np.rint(ev * seconds * rng.lognormal(0, 0.3, len(ev))).astype(np.int64)
            self.w.usage(ws.pk, key, a["id"][acc_i], day[day_i], ev, secs)

    # ---- support, billing, relationship

    def tickets(self, ws, rng, a, contacts) -> None:
        per = rng.poisson(1.5 + 5 * a["risk"])
        total = int(per.sum())
        owner = np.repeat(np.arange(len(per)), per)
        risk = a["risk"][owner]
        opened = self.midnight - rng.integers(3600, self.days * 86400, total)
        priority = rng.choice(4, total, p=[0.25, 0.5, 0.18, 0.07])
        response = opened + (
            rng.lognormal(0, 0.8, total) * np.array([14, 6, 2, 0.5])[priority] * 3600
        ).astype(int)
        resolved = response + (
            rng.lognormal(0, 0.9, total) * np.array([72, 40, 20, 6])[priority] * 3600
        ).astype(int)
        # A few long-pending tickets, more of them at risky accounts.
        stuck = rng.random(total) < 0.02 + 0.1 * risk
        is_resolved = (resolved < self.midnight) & ~stuck
        has_response = response < self.midnight
        status = np.where(
            is_resolved,
            np.where(resolved < self.midnight - 7 * 86400, "closed", "solved"),
            np.where(has_response, "pending", "open"),
        )
        rated = is_resolved & (rng.random(total) < 0.6)
        bad = rng.random(total) < 0.05 + 0.6 * risk**2
        csat = np.where(bad, rng.integers(1, 3, total), rng.choice([3, 4, 5], total, p=[0.15, 0.35, 0.5]))
        contact = contacts["first"][owner] + rng.integers(0, 1 << 30, total) % contacts["per"][owner]
        category = rng.integers(0, len(CATEGORIES), total)
        escalated = rng.random(total) < 0.02 + 0.1 * risk
        opened_t, response_t = self.w.ts(opened), self.w.ts_or_none(response, has_response)
        resolved_t = self.w.ts_or_none(resolved, is_resolved)
        first_id = self.w.reserve_ids(Ticket, total)
        account_ids, contact_ids = a["id"][owner].tolist(), contact.tolist()
        rows = (
            (
                ws.pk,
                account_ids[k],
                contact_ids[k],
                f"t-{first_id + k}",
                SUBJECTS[CATEGORIES[category[k]]],
                PRIORITIES[priority[k]],
                str(status[k]),
                CATEGORIES[category[k]],
                opened_t[k],
                response_t[k],
                resolved_t[k],
                bool(escalated[k]),
                int(csat[k]) if rated[k] else None,
                opened_t[k],
                resolved_t[k] or opened_t[k],
            )
            for k in range(total)
        )
        cols = [
            "workspace_id",
            "account_id",
            "contact_id",
            "external_id",
            "subject",
            "priority",
            "status",
            "category",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "escalated",
            "csat",
            "created_at",
            "updated_at",
        ]
        self.w.rows(Ticket, cols, rows)

    def invoices(self, ws, rng, a) -> None:
        months = max(1, self.days // 30)
        n = len(a["id"])
        owner = np.repeat(np.arange(n), months)
        back = np.tile(np.arange(months, 0, -1), n)  # months ago, oldest first
        issued = self.today_n - back * 30 + (a["start"][owner] % 28) - 14
        keep = (issued >= a["start"][owner]) & (issued < a["end"][owner]) & (issued < self.today_n)
        owner, issued = owner[keep], issued[keep]
        total = len(owner)
        risk = a["risk"][owner]
        due = issued + 30
        paid_after = np.maximum(1, rng.normal(22 + 20 * risk, 8)).astype(int)
        overdue = (due < self.today_n) & (rng.random(total) < 0.01 + 0.25 * risk**2)
        paid = (issued + paid_after < self.today_n) & ~overdue
        failed = ~paid & (due < self.today_n) & (rng.random(total) < 0.15)
        status = np.where(paid, "paid", np.where(failed, "failed", "open"))
        amount = a["mrr"][owner]
        first_id = self.w.reserve_ids(Invoice, total)
        issued_d, due_d, paid_d = dates(issued), dates(due), dates(issued + paid_after)
        stamp = self.w.ts(np.array([self.midnight]))[0]
        account_ids, paid_l = a["id"][owner].tolist(), paid.tolist()
        rows = (
            (
                ws.pk,
                account_ids[k],
                f"inv-{first_id + k}",
                f"INV-{first_id + k:08d}",
                f"{amount[k]:.2f}",
                issued_d[k],
                due_d[k],
                paid_d[k] if paid_l[k] else None,
                str(status[k]),
                stamp,
                stamp,
            )
            for k in range(total)
        )
        cols = "workspace_id account_id external_id number amount issued_on due_on paid_on status created_at updated_at"
        self.w.rows(Invoice, cols.split(), rows)

    def nps(self, ws, rng, a, contacts) -> None:
        per = rng.poisson(1.0, len(a["id"]))
        owner = np.repeat(np.arange(len(per)), per)
        total = len(owner)
        risk = a["risk"][owner]
        score = np.clip(np.rint(rng.normal(9.2 - 9 * risk**2, 1.4)), 0, 10).astype(int)
        responded = self.midnight - rng.integers(3600, self.days * 86400, total)
        contact = contacts["first"][owner] + rng.integers(0, 1 << 30, total) % contacts["per"][owner]
        first_id = self.w.reserve_ids(NPSResponse, total)
        text = self.w.ts(responded)
        account_ids, contact_ids, scores = a["id"][owner].tolist(), contact.tolist(), score.tolist()
        rows = (
            (
                ws.pk,
                account_ids[k],
                contact_ids[k],
                f"n-{first_id + k}",
                scores[k],
                "",
                text[k],
                text[k],
                text[k],
            )
            for k in range(total)
        )
        cols = (
            "workspace_id account_id contact_id external_id score comment responded_at created_at updated_at"
        )
        self.w.rows(NPSResponse, cols.split(), rows)

    def relationship(self, ws, rng, a, csms) -> None:
        n = len(a["id"])
        csm_ids = np.array([u.pk for u in csms])
        per = rng.poisson(2.0, n) * (rng.random(n) > 0.1 * (1 + a["risk"]))  # some accounts get none
        owner = np.repeat(np.arange(n), per)
        total = len(owner)
        at = self.midnight - rng.integers(3600, self.days * 86400, total)
        kind = rng.choice(len(TOUCHPOINT_KINDS), total, p=[0.4, 0.3, 0.2, 0.1])
        sentiment = np.where(
            rng.random(total) < a["risk"][owner],
            "negative",
            np.where(rng.random(total) < 0.5, "positive", "neutral"),
        )
        author = csm_ids[rng.integers(0, len(csm_ids), total)].tolist()
        text = self.w.ts(at)
        first_id = self.w.reserve_ids(Touchpoint, total)
        account_ids = a["id"][owner].tolist()
        rows = (
            (
                ws.pk,
                account_ids[k],
                f"tp-{first_id + k}",
                TOUCHPOINT_KINDS[kind[k]],
                text[k],
                author[k],
                "Check-in",
                "",
                str(sentiment[k]),
                text[k],
                text[k],
            )
            for k in range(total)
        )
        cols = "workspace_id account_id external_id kind occurred_at author_id subject notes sentiment created_at updated_at"
        self.w.rows(Touchpoint, cols.split(), rows)

        scored = np.flatnonzero(rng.random(n) < 0.8)
        score = np.clip(np.rint(rng.normal(4.6 - 3.5 * a["risk"][scored], 0.5)), 1, 5).astype(int).tolist()
        when = self.w.ts(self.midnight - rng.integers(3600, 60 * 86400, len(scored)))
        first_id = self.w.reserve_ids(CSMScore, len(scored))
        account_ids = a["id"][scored].tolist()
        authors = csm_ids[rng.integers(0, len(csm_ids), len(scored))].tolist()
        rows = (
            (ws.pk, account_ids[k], f"cs-{first_id + k}", score[k], "", authors[k], when[k], when[k], when[k])
            for k in range(len(scored))
        )
        cols = "workspace_id account_id external_id score note author_id scored_at created_at updated_at"
        self.w.rows(CSMScore, cols.split(), rows)


class WorkspacesExist(Exception):
    pass


def build(
    plan: Sequence[tuple[str, str, int]],
    *,
    days: int = 180,
    seed: int = 1,
    replace: bool = False,
    keep_indexes: bool = False,
    provision: bool = True,
) -> Counter[str]:
    """Generate workspaces of the given sizes: `plan` is (slug, name, accounts) per workspace, the
    first workspace's random stream is seeded with index 1 and so on. Each workspace gets an admin
    and CSM users `admin@<slug>.test`, `csm1@<slug>.test`… (password BENCH_PASSWORD). Raises
    WorkspacesExist when one of the slugs is taken and `replace` is off. Prints its phases and
    the rows written; returns the row counts."""
    slugs = [slug for slug, _, _ in plan]
    started = time.perf_counter()
    writer = Writer()
    existing = list(Workspace.objects.filter(slug__in=slugs).values_list("pk", flat=True))
    if existing and not replace:
        raise WorkspacesExist(f"{len(existing)} of the workspace(s) {', '.join(slugs)} already exist")
    total_accounts = sum(n for _, _, n in plan)
    print(
        f"Generating {total_accounts:,} accounts in {len(plan)} workspace(s), {days} days ({connection.vendor})"
    )

    password_hash = make_password(BENCH_PASSWORD)
    users = {slug: bench_users(slug, password_hash) for slug in slugs}
    generator = Generator(days, seed, writer)
    indexes = SecondaryIndexes(DailyUsage._meta.db_table)
    phases: list[tuple[str, float]] = []

    def phase(label: str, since: float) -> float:
        now = time.perf_counter()
        phases.append((label, now - since))
        print(f"  {label}: {now - since:.1f} s", flush=True)
        return now

    with transaction.atomic():
        mark = time.perf_counter()
        skipped = tune_postgres_session() if writer.postgres else []
        if skipped:
            print(f"  (could not set {', '.join(skipped)}: not a superuser; the load is slower)")
        if writer.postgres and not keep_indexes:
            indexes.drop()  # before deleting too: dead rows then leave no index entries behind
        if existing:
            delete_workspaces(existing)
            mark = phase(f"deleted {len(existing)} existing workspace(s)", mark)
        for index, (slug, name, n) in enumerate(plan, start=1):
            generator.workspace(index, slug, n, users[slug], name=name)
            mark = phase(f"{slug}: {n:,} accounts", mark)
        generator.apply_churns()
        mark = phase(f"churned {sum(len(v) for v in generator.churns.values()):,} accounts", mark)
        if writer.postgres and not keep_indexes:
            indexes.restore()
            mark = phase("rebuilt the usage indexes", mark)
        if provision:
            for ws in Workspace.objects.filter(slug__in=slugs):
                provision_workspace(ws)
            mark = phase("provisioned workspace defaults", mark)
    mark = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    phase("analyzed", mark)

    elapsed = time.perf_counter() - started
    ids = list(Workspace.objects.filter(slug__in=slugs).values_list("pk", flat=True))
    writer.counts["MRRMovement"] = MRRMovement.all_workspaces.filter(workspace_id__in=ids).count()
    writer.counts["Membership"] = Membership.objects.filter(workspace_id__in=ids).count()
    total = sum(writer.counts.values())
    width = max(len(k) for k in writer.counts)
    print(f"\nRows written ({connection.vendor}, {len(plan)} workspaces):")
    for name, count in sorted(writer.counts.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<{width}}  {count:>12,}")
    print(f"  {'total':<{width}}  {total:>12,}")
    print(f"Total time {elapsed:.1f} s, {total / elapsed:,.0f} rows/s")
    return writer.counts


# --- Command line ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, required=True, help="accounts in total, spread evenly")
    parser.add_argument("--workspaces", type=int, default=1, help="number of workspaces bench-1…bench-W")
    parser.add_argument("--days", type=int, default=180, help="days of usage, tickets and NPS history")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same day: same data)")
    parser.add_argument("--replace", action="store_true", help="delete bench workspaces that already exist")
    parser.add_argument(
        "--keep-indexes", action="store_true", help="PostgreSQL: keep the usage indexes during the load"
    )
    parser.add_argument(
        "--no-provision", action="store_true", help="skip the workspace defaults (scorecards…)"
    )
    args = parser.parse_args(argv)
    if args.accounts < 1 or args.workspaces < 1 or args.days < 1:
        parser.error("--accounts, --workspaces and --days must be positive")

    slugs = [f"bench-{i}" for i in range(1, args.workspaces + 1)]
    plan = [
        (
            slug,
            f"Bench {i}",
            args.accounts // args.workspaces + (1 if i <= args.accounts % args.workspaces else 0),
        )
        for i, slug in enumerate(slugs, start=1)
    ]
    try:
        build(
            plan,
            days=args.days,
            seed=args.seed,
            replace=args.replace,
            keep_indexes=args.keep_indexes,
            provision=not args.no_provision,
        )
    except WorkspacesExist as error:
        print(f"{error}; pass --replace to rebuild them.", file=sys.stderr)
        return 2
    print(f"Logins: admin@bench-1.test, csm1@bench-1.test … (password {BENCH_PASSWORD})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
