"""Profile one bulk upsert request in-process (cProfile), to see where the server's time goes.

    .venv/bin/python bench/ingest_profile.py --database postgres://postgres@127.0.0.1:5432/wt_api_bench

Makes a fresh workspace and API key in the given database (created and migrated if missing, as
bench/ingest.py does), then sends through Django's test client, outside any web server: a
5,000-account batch of new accounts, the same accounts with a changed MRR (updates) and a batch
of new daily usage rows for them. Each request is timed without the profiler, then repeated on
fresh records under cProfile, whose top functions by cumulative time are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--top", type=int, default=35, help="functions printed per profile")
    parser.add_argument("--query", default="", help="query string of the bulk requests, e.g. echo=true")
    args = parser.parse_args()
    from ingest import account_records, ensure_database, usage_records

    if args.database.startswith("postgres"):
        ensure_database(args.database)
    if args.database:
        os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "ingest-profile-" + "x" * 40)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("API_RATE_LIMIT", "100000000")
    os.environ.setdefault("API_MAX_BODY_BYTES", str(20 * 1024 * 1024))
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tenancy.context import use_workspace
    from tenancy.models import ApiKey, Workspace

    call_command("migrate", verbosity=0)
    stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S%f")
    workspace = Workspace.objects.create(name=f"Profile {stamp}", slug=f"profile-{stamp}")
    with use_workspace(workspace):
        _, key = ApiKey.issue("profile", ["read", "write"])
    client = Client()
    headers = {"Authorization": f"Bearer {key}"}
    query = f"?{args.query}" if args.query else ""

    def post(resource: str, records: list[dict]) -> float:
        body = json.dumps({"records": records})
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/{resource}/bulk{query}", body, content_type="application/json", headers=headers
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content[:500]
        assert response.json()["summary"]["error"] == 0, response.json()["summary"]
        return elapsed

    def profiled(resource: str, records: list[dict]) -> None:
        profile = cProfile.Profile()
        profile.enable()
        post(resource, records)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())

    n = args.batch
    print(f"{connection.vendor}, {n:,} records per request")
    post("accounts", account_records("warm", 10))
    cases = [
        ("accounts", "create", lambda p: account_records(p, n)),
        ("accounts", "update", lambda p: account_records(p, n, mrr_offset=1)),
        ("daily-usage", "create", lambda p: usage_records(p, n // 5, 1, dt.date(2026, 1, 1))),
    ]
    for prefix in ("t", "p"):
        post("accounts", account_records(prefix, n))  # the accounts the updates and usage need
    for resource, what, make in cases:
        records = make("t")
        if what == "create" and resource == "accounts":
            records = make("tc")
        seconds = post(resource, records)
        print(
            f"{resource} {what}: {seconds:.2f} s for {len(records):,} records ({len(records) / seconds:,.0f}/s)"
        )
    for resource, what, make in cases:
        records = make("p") if not (what == "create" and resource == "accounts") else make("pc")
        print(f"===== profile: {resource} {what} =====")
        profiled(resource, records)


if __name__ == "__main__":
    main()
