"""Server-side page timings on a large workspace (build it with bench/generate.py; use PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_health .venv/bin/python bench/pages.py --workspace bench-1

Requests go through Django's full stack in-process (middleware, views, templates), as a logged-in
CSM of the workspace, after two warm-up requests each; printed: p50 / p95 / max in ms and the
number of SQL queries per request. The list page is also fetched at two page sizes to show that
its query count does not grow with the page. Targets (p95): list ≤ 150 ms, account ≤ 200 ms,
dashboard ≤ 500 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from timing import measure, percentiles  # noqa: E402

from accounts.models import Account  # noqa: E402
from tenancy.context import use_workspace  # noqa: E402
from tenancy.models import Membership, Workspace  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", default="bench-1")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    ws = Workspace.objects.get(slug=args.workspace)
    membership = Membership.objects.filter(workspace=ws, role="csm").select_related("user").first()
    client = Client()
    client.force_login(membership.user)
    with use_workspace(ws):
        total = Account.objects.count()
        account = Account.objects.filter(status="active").order_by("-mrr").first()
        tier = account.tier_id
    base = f"/w/{ws.slug}"
    pages = [
        (
            "list, 3 filters + sort",
            f"{base}/accounts/?status=active&tier={tier}&health_band=yellow&sort=-mrr",
            150,
        ),
        ("list, deep page", f"{base}/accounts/?status=active&sort=-mrr&page=500", 150),
        ("account page", f"{base}/accounts/{account.pk}/", 200),
        ("dashboard", f"{base}/", 500),
        ("alerts inbox", f"{base}/alerts/", 150),
    ]
    print(f"{connection.vendor}, workspace {ws.slug} with {total:,} accounts, {args.repeat} requests each")
    # Baseline in the same run: the list's own rows, fetched bare with the ORM (the count and the
    # first 50 of the filtered, sorted accounts): what the list page costs before any page work.
    floor = sql_floor(ws, tier, args.repeat)
    print(f"{'baseline: bare list query':26} p50 {floor['p50']:7.1f} ms  p95 {floor['p95']:7.1f} ms")
    for label, url, target in pages:
        r, _ = measure(client, url, args.repeat)
        print(
            f"{label:26} p50 {r['p50']:7.1f} ms  p95 {r['p95']:7.1f} ms  max {r['max']:7.1f} ms"
            f"  {r['queries']:3d} queries  {r['p95'] / floor['p95']:5.1f}× baseline  (target p95 ≤ {target} ms)"
        )


def sql_floor(ws, tier: int, repeat: int) -> dict:
    times = []
    with use_workspace(ws):
        for n in range(repeat + 2):
            started = time.perf_counter()
            rows = Account.objects.filter(status="active", tier_id=tier, health_band="yellow").order_by(
                "-mrr"
            )
            rows.count()
            list(rows.values_list("pk", "name", "mrr")[:50])
            if n >= 2:
                times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


if __name__ == "__main__":
    main()
