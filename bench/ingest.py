"""Partner API ingest throughput against a real server process and PostgreSQL, in one run.

    .venv/bin/python bench/ingest.py --database postgres://postgres@127.0.0.1:5432/wt_api_bench

The script creates the database if it does not exist and migrates it, makes a fresh workspace
with an API key, starts gunicorn (2 workers, DEBUG off) on a free port, and measures over HTTP,
with as many client threads as server workers:

1. bulk upserts (`POST /api/v1/<resource>/bulk`, 5,000 records a request) of new accounts, of
   the same accounts again with a changed MRR (updates), and of new daily usage rows;
2. one record per request (`POST /api/v1/<resource>`) for a sample of new accounts and usage rows;
3. PostgreSQL `COPY` of the same rows into the same tables (in a second workspace, so the keys
   do not collide), through psycopg 3, from Python tuples — the floor any API write is held to.

Printed: records/s of each, and the ratios bulk ÷ single (target ≥ 20×) and COPY ÷ bulk
(target ≤ 10×); the bulk target is ≥ 10,000 records/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from servers import ensure_database, free_port  # noqa: E402  (bench/servers.py, beside this script)

FEATURES = ["dashboards", "reports", "exports", "api", "alerts"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", ""), help="a postgres:// URL")
    parser.add_argument("--accounts", type=int, default=20_000, help="accounts written in bulk")
    parser.add_argument("--usage-days", type=int, default=5, help="days of usage per account and feature")
    parser.add_argument(
        "--single", type=int, default=1_000, help="records written one per request, per resource"
    )
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers and client threads")
    return parser.parse_args()


class Client:
    def __init__(self, base: str, key: str):
        self.base = base
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(self, path: str, payload) -> tuple[int, dict]:
        body = json.dumps(payload).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST", headers=self.headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


def timed_requests(client: Client, path: str, payloads: list, workers: int, check) -> float:
    """Send every payload (in `workers` threads); returns the elapsed seconds."""
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for status, body in pool.map(lambda p: client.post(path, p), payloads):
            check(status, body)
    return time.perf_counter() - started


def bulk_ok(expected: str):
    def check(status, body):
        assert status == 200, (status, str(body)[:500])
        summary = body["summary"]
        assert summary["error"] == 0 and summary[expected] == len(body["results"]), summary

    return check


def single_ok(status, body):
    assert status in (200, 201), (status, str(body)[:500])


def account_records(prefix: str, n: int, mrr_offset: int = 0) -> list[dict]:
    start = dt.date(2027, 1, 1)
    return [
        {
            "external_id": f"{prefix}-{i}",
            "name": f"Ingest account {i}",
            "domain": f"a{i}.example.com",
            "plan": ("Starter", "Growth", "Enterprise")[i % 3],
            "mrr": f"{100 + (i % 900) + mrr_offset}.00",
            "licenses_purchased": 10 + i % 90,
            "renewal_date": (start + dt.timedelta(days=i % 365)).isoformat(),
        }
        for i in range(n)
    ]


def usage_records(prefix: str, n_accounts: int, days: int, first_day: dt.date) -> list[dict]:
    return [
        {
            "account_external_id": f"{prefix}-{i}",
            "feature": feature,
            "day": (first_day + dt.timedelta(days=d)).isoformat(),
            "events": 1 + (i * 7 + d * 3 + k) % 50,
            "duration_seconds": 60 * (1 + (i + d + k) % 30),
        }
        for i in range(n_accounts)
        for d in range(days)
        for k, feature in enumerate(FEATURES)
    ]


def batches(records: list, size: int) -> list[dict]:
    return [{"records": records[i : i + size]} for i in range(0, len(records), size)]


def copy_rows(model, rows: list[tuple], columns: list[str]) -> float:
    """COPY rows into the model's table on Django's connection; returns the seconds taken.

    PostgreSQL refuses COPY into a table under row-level security for a role the policies hold
    (the application role): then the floor is what such a role can do at best, COPY into a
    temporary table and one INSERT … SELECT (announced once on stderr)."""
    from django.db import connection, transaction

    from tenancy import rls

    table = model._meta.db_table
    held = _held_by_policies(connection)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        rls.sync(connection)  # as the application role, the rows pass the workspace's policy
        raw = cursor.cursor  # psycopg 3's cursor
        target = table
        if held:
            cursor.execute(f'CREATE TEMPORARY TABLE copy_in (LIKE "{table}") ON COMMIT DROP')
            cursor.execute("ALTER TABLE copy_in ALTER COLUMN id DROP NOT NULL")
            target = "copy_in"
        with raw.copy(f'COPY "{target}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        if held:
            names = ", ".join(columns)
            cursor.execute(f'INSERT INTO "{table}" ({names}) SELECT {names} FROM copy_in')
    return time.perf_counter() - started


def _held_by_policies(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        exempt = cursor.fetchone()[0]
    if not exempt and not getattr(_held_by_policies, "said", False):
        print(
            "COPY floor: through a temporary table (the role is held by row-level security)", file=sys.stderr
        )
        _held_by_policies.said = True
    return not exempt


def account_copy_rows(workspace_id: int, records: list[dict]) -> tuple[list[str], list[tuple]]:
    """The same accounts as full table rows (every NOT NULL column the ORM would fill)."""
    from psycopg.types.json import Jsonb

    from accounts.models import Account

    now = dt.datetime.now(dt.UTC)
    fields = [f for f in Account._meta.concrete_fields if f.attname != "id"]
    columns = [f'"{f.column}"' for f in fields]
    rows = []
    for record in records:
        values = dict(record)
        values["mrr"] = Decimal(values["mrr"])
        values["renewal_date"] = dt.date.fromisoformat(values["renewal_date"])
        obj = Account(workspace_id=workspace_id, created_at=now, updated_at=now, **values)
        row = []
        for f in fields:
            value = getattr(obj, f.attname)
            row.append(Jsonb(value) if f.get_internal_type() == "JSONField" else value)
        rows.append(tuple(row))
    return columns, rows


def main() -> None:
    args = parse_args()
    if not args.database.startswith("postgres"):
        sys.exit("bench/ingest.py measures PostgreSQL: pass --database postgres://… (or set DATABASE_URL)")
    ensure_database(args.database)
    os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from accounts.models import Account, DailyUsage
    from tenancy.context import use_workspace
    from tenancy.models import ApiKey, Workspace

    stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S")
    api_ws = Workspace.objects.create(name=f"Ingest {stamp}", slug=f"ingest-{stamp}")
    copy_ws = Workspace.objects.create(name=f"Ingest COPY {stamp}", slug=f"ingest-copy-{stamp}")
    with use_workspace(api_ws):
        _, key = ApiKey.issue("ingest bench", ["read", "write"])

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": args.database,
        "DEBUG": "false",
        "SECRET_KEY": "ingest-bench-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_RATE_LIMIT": "100000000",
        "API_MAX_BODY_BYTES": str(20 * 1024 * 1024),
        "CELERY_BROKER_URL": "memory://",  # the rescores writes queue are not part of ingest
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "cs_platform.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=10).close()  # noqa: S310
                break
            except OSError:  # not listening yet, or still starting
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("the server did not start")
                time.sleep(0.3)
        client = Client(base, key)
        n = args.accounts
        print(
            f"PostgreSQL {connection.pg_version // 10000}, gunicorn {args.workers} workers, "
            f"{args.workers} client threads, {args.batch:,} records per bulk request"
        )
        # Warm up both workers (imports, connections) outside the timings.
        timed_requests(
            client, "/api/v1/accounts", account_records("warm", args.workers * 2), args.workers, single_ok
        )

        figures: dict[str, float] = {}
        accounts = account_records("acc", n)
        seconds = timed_requests(
            client, "/api/v1/accounts/bulk", batches(accounts, args.batch), args.workers, bulk_ok("created")
        )
        figures["bulk accounts (create)"] = n / seconds
        changed = account_records("acc", n, mrr_offset=1)
        seconds = timed_requests(
            client, "/api/v1/accounts/bulk", batches(changed, args.batch), args.workers, bulk_ok("updated")
        )
        figures["bulk accounts (update)"] = n / seconds
        usage = usage_records("acc", n, args.usage_days, dt.date(2026, 1, 1))
        seconds = timed_requests(
            client, "/api/v1/daily-usage/bulk", batches(usage, args.batch), args.workers, bulk_ok("created")
        )
        figures["bulk daily usage (create)"] = len(usage) / seconds

        single_accounts = account_records("one", args.single)
        seconds = timed_requests(client, "/api/v1/accounts", single_accounts, args.workers, single_ok)
        figures["single accounts"] = args.single / seconds
        single_usage = usage_records("acc", args.single // len(FEATURES), 1, dt.date(2025, 6, 1))
        seconds = timed_requests(client, "/api/v1/daily-usage", single_usage, args.workers, single_ok)
        figures["single daily usage"] = len(single_usage) / seconds

        # COPY of the same rows into the same tables, in the second workspace.
        with use_workspace(copy_ws):
            columns, rows = account_copy_rows(copy_ws.pk, accounts)
            seconds = copy_rows(Account, rows, columns)
            figures["COPY accounts"] = n / seconds
            ids = dict(Account.objects.values_list("external_id", "pk"))
        usage_rows = [
            (copy_ws.pk, ids[r["account_external_id"]], None, r["feature"], dt.date.fromisoformat(r["day"]),
             r["events"], r["duration_seconds"])
            for r in usage
        ]  # fmt: skip
        usage_columns = [
            "workspace_id",
            "account_id",
            "contact_id",
            "feature",
            "day",
            "events",
            "duration_seconds",
        ]
        with use_workspace(copy_ws):
            seconds = copy_rows(DailyUsage, usage_rows, [f'"{c}"' for c in usage_columns])
        figures["COPY daily usage"] = len(usage) / seconds
        with use_workspace(api_ws):
            stored = (Account.objects.count(), DailyUsage.objects.count())
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"\nrecords: {n:,} accounts, {len(usage):,} daily usage rows; {args.single:,} single requests each")
    print(f"stored through the API: {stored[0]:,} accounts, {stored[1]:,} daily usage rows\n")
    for name, rate in figures.items():
        print(f"  {name:<28} {rate:>10,.0f} records/s")
    print()
    for kind, single, copy in (
        ("accounts", "single accounts", "COPY accounts"),
        ("daily usage", "single daily usage", "COPY daily usage"),
    ):
        bulk = figures[f"bulk {kind} (create)"]
        print(
            f"  {kind:<12} bulk ÷ single {bulk / figures[single]:6.1f}× (target ≥ 20×)   "
            f"COPY ÷ bulk {figures[copy] / bulk:5.1f}× (target ≤ 10×)   "
            f"bulk {'meets' if bulk >= 10_000 else 'misses'} 10,000/s"
        )


if __name__ == "__main__":
    main()
