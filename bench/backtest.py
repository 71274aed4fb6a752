"""Backtest benchmark: a multi-point backtest of a workspace's default scorecard (use PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_health .venv/bin/python bench/backtest.py \
        --workspace bench-1

Scores every account as of each look-back date (12 monthly by default), reads the outcomes,
computes every figure of the backtest page, the per-measure table and the suggested weights, and
prints the wall time of each stage and the process's peak memory. Nothing is written: the work
runs inside a transaction that is rolled back, and the run is not stored (so the benchmark needs
no migration of the database it reads). Target (issue): 12 points at 100,000 accounts ≤ 5 minutes
on 2 cores. Nothing asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Account, DailyUsage, MRRMovement  # noqa: E402
from health import backtest  # noqa: E402
from health.backtest_loading import default_points, observations  # noqa: E402
from health.models import ScorecardVersion  # noqa: E402
from health.scorecards import ScorecardSpec  # noqa: E402
from tenancy.context import use_workspace  # noqa: E402
from tenancy.models import Workspace  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", default="bench-1")
    parser.add_argument("--points", type=int, default=12)
    parser.add_argument("--spacing", type=int, default=30, help="days between look-back dates")
    parser.add_argument("--horizon", type=int, default=90)
    parser.add_argument(
        "--last",
        type=dt.date.fromisoformat,
        help="latest look-back date (default: today − horizon; the bench data's history may be shorter)",
    )
    args = parser.parse_args()
    workspace = Workspace.objects.get(slug=args.workspace)
    points = default_points(args.horizon, args.points, args.spacing, args.last)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}, workspace {workspace.slug}")
    print(f"look-back dates: {len(points)}, {points[0]} … {points[-1]}, horizon {args.horizon} days")
    print(f"peak memory after start-up: {peak_mib():.0f} MiB")
    with use_workspace(workspace), transaction.atomic():
        accounts = Account.objects.count()
        churned = Account.objects.filter(status="churned").count()
        moves = MRRMovement.objects.filter(kind="churn").count()
        first_usage = DailyUsage.objects.order_by("day").values_list("day", flat=True).first()
        print(
            f"data: {accounts:,} accounts ({churned:,} churned, {moves:,} churn movements), usage from {first_usage}"
        )
        # Only the version's definition is read: the bench database may predate later columns.
        definition = (
            ScorecardVersion.objects.filter(scorecard__is_default=True)
            .order_by("-number")
            .values_list("definition", flat=True)
            .first()
        )
        spec = ScorecardSpec.from_dict(definition)

        started = time.monotonic()
        laps: list[float] = []

        def progress(done: int, total: int) -> None:
            laps.append(time.monotonic())

        obs = observations(spec, points, args.horizon, progress)
        loaded = time.monotonic()
        per_point = [b - a for a, b in zip([started, *laps[:-1]], laps, strict=True)]
        print(
            f"1. scoring as of each date + outcomes: {loaded - started:.1f} s for {len(obs):,} account-dates "
            f"(per date: min {min(per_point):.1f} s, max {max(per_point):.1f} s); peak {peak_mib():.0f} MiB"
        )
        figures = {
            "pooled": backtest.headline(obs),
            "points": backtest.per_point(obs),
            "measures": backtest.measure_power(obs, set(spec.metric_keys)),
        }
        stats = time.monotonic()
        print(f"2. AUC, bands, deciles, per date, per measure: {stats - loaded:.1f} s")
        suggestion = backtest.suggest(obs, spec)
        done = time.monotonic()
        print(f"3. suggested weights (cross-validated): {done - stats:.1f} s")
        transaction.set_rollback(True)
    total = done - started
    pooled = figures["pooled"]
    print(
        f"total: {total:.1f} s ({total / 60:.2f} min; target ≤ 5 min) · peak memory {peak_mib():.0f} MiB · "
        f"{timezone.now():%Y-%m-%d}"
    )
    print(
        f"result: AUC {pooled['auc']}, churn events {pooled['churn_events']} ({pooled['churned_accounts']} accounts), "
        f"suggestion {suggestion['status']}"
        + (
            f" (CV AUC draft {suggestion['cv']['draft_auc']} vs current {suggestion['cv']['current_auc']})"
            if suggestion["status"] == "ok"
            else ""
        )
    )


if __name__ == "__main__":
    main()
