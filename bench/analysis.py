"""Segment analysis timings on a large workspace (build it with bench/generate.py; use PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_gen .venv/bin/python bench/analysis.py --workspace bench-1

For each way of grouping, the page is requested through Django's full stack in-process as a CSM of
the workspace (whole workspace, then "my accounts"), after one warm-up request (`--by tier
industry` limits the groupings); printed: p50 / p95 /
max in ms and the number of SQL queries per request, which must not depend on the number of
accounts or groups. Then one computation of the tier analysis is split into reading the frames
(the six queries) and the pandas part.
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
from django.utils import timezone  # noqa: E402
from timing import measure  # noqa: E402

from accounts.models import Account  # noqa: E402
from segments.analysis import DIMENSIONS, load_frames, summarise  # noqa: E402
from tenancy.context import use_workspace  # noqa: E402
from tenancy.models import Membership, Workspace  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", default="bench-1")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--by", nargs="*", choices=list(DIMENSIONS), default=list(DIMENSIONS))
    args = parser.parse_args()
    ws = Workspace.objects.get(slug=args.workspace)
    membership = Membership.objects.filter(workspace=ws, role="csm").select_related("user").first()
    client = Client()
    client.force_login(membership.user)
    with use_workspace(ws):
        total = Account.objects.count()
        mine = Account.objects.filter(csm_owner=membership.user).count()
    print(
        f"{connection.vendor}, workspace {ws.slug} with {total:,} accounts ({mine:,} of "
        f"{membership.user.email}), {args.repeat} requests each"
    )
    for by in args.by:
        for scope in ("all", "mine"):
            r, response = measure(
                client, f"/w/{ws.slug}/analysis/?by={by}&scope={scope}", args.repeat, warmup=1
            )
            # Group rows plus the total row are row headers.
            r["groups"] = response.content.count(b'<th scope="row"') - 1
            print(
                f"{by:9} {scope:5} {r['groups']:3d} groups  p50 {r['p50']:7.1f} ms  p95 {r['p95']:7.1f} ms"
                f"  max {r['max']:7.1f} ms  {r['queries']:3d} queries"
            )
    with use_workspace(ws):
        started = time.perf_counter()
        frames = load_frames(timezone.localdate())
        loaded = time.perf_counter()
        summarise(frames, "tier")
        done = time.perf_counter()
    print(
        f"tier analysis: reading the frames {(loaded - started) * 1000:.0f} ms "
        f"({len(frames.accounts):,} accounts, {len(frames.usage):,} account-feature rows, "
        f"{len(frames.tickets):,} tickets), pandas {(done - loaded) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
