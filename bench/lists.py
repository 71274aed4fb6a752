"""Customer-list power features on a large workspace (build it with bench/generate.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_lists .venv/bin/python bench/lists.py --workspace bench-1

Prints, for a logged-in CSM through Django's full stack in-process:
- the account list with its default columns, and with every column of the catalogue at 25 and at 200 rows per page: p50 / p95
  and the SQL queries per request (the same at both sizes);
- the streamed CSV export of every account with every column: time, rows, and the peak
  Python memory while streaming (one chunk at a time, not the whole list);
- the automatic tier/stage rules over the whole workspace: a first run and a second run (which
  finds nothing to move), with their queries;
- a bulk "set stage" on every active account.
The rules and the bulk action run inside a transaction that is rolled back, so the data set is
left as it was and the script can be run again.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from timing import measure  # noqa: E402

from accounts.changes import set_field  # noqa: E402
from accounts.columns import ACCOUNT_COLUMNS  # noqa: E402
from accounts.models import Account, AccountChange, LifecycleStage, Tier  # noqa: E402
from accounts.provisioning import DEFAULT_TIERS  # noqa: E402
from segments.rules import apply_rules  # noqa: E402
from tenancy.context import use_workspace  # noqa: E402
from tenancy.models import Membership, Workspace  # noqa: E402


def export(client: Client, url: str) -> dict:
    started = time.perf_counter()
    response = client.get(url)
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    seconds = time.perf_counter() - started
    # Memory in a second pass: tracing every allocation slows Python down several times.
    tracemalloc.start()
    for _ in client.get(url).streaming_content:
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": seconds, "rows": lines - 1, "peak_mb": peak / 2**20}


class Rollback(Exception):
    pass


def rolled_back(work):
    """Run `work` in a transaction that is rolled back; returns what it returned and its timing."""
    result = {}
    try:
        with transaction.atomic():
            result = work()
            raise Rollback
    except Rollback:
        pass
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", default="bench-1")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    ws = Workspace.objects.get(slug=args.workspace)
    membership = Membership.objects.filter(workspace=ws, role="csm").select_related("user").first()
    client = Client()
    client.force_login(membership.user)
    base = f"/w/{ws.slug}/accounts/"
    every = ",".join(ACCOUNT_COLUMNS)
    with use_workspace(ws):
        total = Account.objects.count()
    print(f"{connection.vendor}, workspace {ws.slug} with {total:,} accounts")

    r, _ = measure(client, f"{base}?status=active&health_band=yellow&sort=-mrr", args.repeat)
    print(
        f"list, default columns, 50 rows: p50 {r['p50']:7.1f} ms  p95 {r['p95']:7.1f} ms  {r['queries']} queries"
    )
    for per_page in (25, 200):
        r, _ = measure(
            client, f"{base}?status=active&sort=-mrr&cols={every}&per_page={per_page}", args.repeat
        )
        print(
            f"list, all {len(ACCOUNT_COLUMNS)} columns, {per_page:3d} rows: p50 {r['p50']:7.1f} ms"
            f"  p95 {r['p95']:7.1f} ms  {r['queries']} queries"
        )

    r = export(client, f"{base}export.csv?cols={every}&sort=name")
    print(
        f"CSV export, all columns: {r['rows']:,} rows in {r['seconds']:.1f} s"
        f" ({r['rows'] / r['seconds']:,.0f} rows/s), peak Python memory {r['peak_mb']:.1f} MiB"
    )

    with use_workspace(ws):

        def rules_twice():
            # Ranges 20 % below the defaults, so the first run has accounts to move (rolled back).
            for name, start, _ in DEFAULT_TIERS:
                Tier.objects.filter(name=name).update(mrr_from=start * 0.8)
            out = {}
            for run in ("first", "second"):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    moved = apply_rules()
                    out[run] = (time.perf_counter() - started, moved, len(captured))
            out["history"] = AccountChange.objects.count()
            return out

        r = rolled_back(rules_twice)
        for run in ("first", "second"):
            seconds, moved, queries = r[run]
            print(f"rules, {run} run: {seconds:.2f} s, {queries} queries, moved {moved}")

        def bulk_stage():
            stage = LifecycleStage.objects.order_by("position").first()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                changed = set_field(
                    Account.objects.filter(status="active"), "stage", stage, source="user", override=True
                )
                seconds = time.perf_counter() - started
            return {"changed": changed, "seconds": seconds, "queries": len(captured), "stage": stage.name}

        r = rolled_back(bulk_stage)
        print(
            f"bulk set stage '{r['stage']}' on all active accounts: {r['changed']:,} changed in"
            f" {r['seconds']:.2f} s, {r['queries']} queries (rolled back)"
        )


if __name__ == "__main__":
    main()
