"""Health scoring benchmark, on data from bench/generate.py (use PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_health REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/health.py --workspace bench-1

Prints, all measured in this run:
  1. a full rescore of the workspace: wall time and the peak memory of the process doing it;
  2. the floor: one bare SQL aggregate over the same usage rows the rescore reads;
  3. the naive way (a loop over accounts issuing ORM queries per metric) on a sample, per account,
     extrapolated to the workspace, and the ratio to the full rescore;
  4. freshness: with a real Celery worker running, the time from a committed write to the
     account's new score, over N writes (p50, p95, max).
Targets (issue: full rescore of 100,000 accounts ≤ 20 s and ≤ 1 GiB; naive ≥ 100× slower;
rescore ≤ 3× the floor; freshness p95 ≤ 10 s) are printed beside the figures; nothing asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Max, Min, Q, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import (  # noqa: E402
    Account,
    Contact,
    CSMScore,
    DailyUsage,
    Invoice,
    NPSResponse,
    Ticket,
    Touchpoint,
)
from health import engine  # noqa: E402
from health.loading import USAGE_WINDOW_DAYS  # noqa: E402
from health.models import HealthScore, Scorecard  # noqa: E402
from health.recompute import recompute  # noqa: E402
from tenancy.context import use_workspace  # noqa: E402
from tenancy.models import Workspace  # noqa: E402


def rescore_in_child(slug: str) -> dict:
    """Run the full rescore in a fresh process so its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--workspace", slug, "--phase", "rescore"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def phase_rescore(ws: Workspace) -> None:
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with use_workspace(ws):
        started = time.perf_counter()
        run = recompute(ws.pk)
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"seconds": seconds, "accounts": run.accounts_scored, "peak_kib": peak, "baseline_kib": baseline}
        )
    )


def floor(ws: Workspace) -> float:
    """The bare aggregate: usage per account over the window the rescore reads; best of three."""
    today = timezone.localdate()
    table = DailyUsage._meta.db_table
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT account_id, SUM(events) FROM {table} WHERE workspace_id = %s AND day > %s AND day <= %s"
                " GROUP BY account_id",
                [ws.pk, today - dt.timedelta(days=USAGE_WINDOW_DAYS), today],
            )
            cursor.fetchall()
        best = min(best, time.perf_counter() - started)
    return best


def naive_score(account: Account, spec, today: dt.date) -> float | None:
    """What a first version would do: per account, one ORM query per metric, then the maths."""
    end = timezone.now()
    d30, d120 = today - dt.timedelta(days=30), today - dt.timedelta(days=120)
    usage = DailyUsage.objects.filter(account=account)
    values: dict[str, float | None] = {}
    recent = usage.filter(day__gt=d30).aggregate(s=Sum("events"))["s"] or 0
    before = usage.filter(day__gt=d120, day__lte=d30).aggregate(s=Sum("events"))["s"] or 0
    values["usage_trend"] = (recent / (before / 3) - 1) * 100 if before else None
    mau = usage.filter(day__gt=d30, contact__isnull=False).values("contact").distinct().count()
    values["seat_utilisation"] = (
        mau / account.licenses_purchased * 100 if account.licenses_purchased else None
    )
    used = usage.filter(day__gt=d30, events__gt=0).values("feature").distinct().count()
    all_features = DailyUsage.objects.filter(day__gt=d30, events__gt=0).values("feature").distinct().count()
    values["feature_breadth"] = used / all_features * 100 if all_features else None
    last = usage.filter(events__gt=0).aggregate(m=Max("day"))["m"]
    values["days_since_activity"] = (today - last).days if last else 181
    oldest = Ticket.objects.filter(account=account, resolved_at__isnull=True).aggregate(m=Min("opened_at"))[
        "m"
    ]
    values["oldest_open_ticket_days"] = (end - oldest).days if oldest else 0
    rated = list(Ticket.objects.filter(account=account, csat__isnull=False).order_by("-opened_at")[:5])
    values["csat_recent"] = statistics.mean(t.csat for t in rated) if rated else None
    nps = NPSResponse.objects.filter(account=account).order_by("-responded_at").first()
    values["nps_score"] = nps.score if nps else None
    csm = CSMScore.objects.filter(account=account).order_by("-scored_at").first()
    values["csm_score"] = csm.score if csm else None
    overdue = Invoice.objects.filter(
        account=account, status__in=["open", "failed"], due_on__lt=today
    ).aggregate(m=Min("due_on"))["m"]
    values["overdue_invoice_days"] = (today - overdue).days if overdue else 0
    touch = Touchpoint.objects.filter(account=account).aggregate(m=Max("occurred_at"))["m"]
    values["days_since_touchpoint"] = (end - touch).days if touch else None
    values["key_contacts_active"] = Contact.objects.filter(
        Q(is_champion=True) | Q(is_executive=True), account=account, is_active=True
    ).count()
    # The same mapping maths, one account at a time.
    import pandas as pd

    raw = pd.DataFrame([{m.metric: values.get(m.metric) for m in spec.measures}], dtype="float64")
    return float(engine.score(raw, spec)["score"].iloc[0])


def naive(ws: Workspace, sample: int) -> float:
    with use_workspace(ws):
        spec = Scorecard.objects.get(is_default=True).current_version.spec
        ids = list(Account.objects.filter(status="active").values_list("pk", flat=True))
        chosen = random.Random(7).sample(ids, min(sample, len(ids)))
        accounts = list(Account.objects.filter(pk__in=chosen))
        today = timezone.localdate()
        started = time.perf_counter()
        for account in accounts:
            naive_score(account, spec, today)
        return (time.perf_counter() - started) / len(accounts)


def freshness(ws: Workspace, writes: int) -> list[float]:
    """Start a real worker, then time committed write → new score, one write at a time."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = open("/tmp/bench-health-worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cs_platform", "worker", "--loglevel", "INFO", "--concurrency", "2",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    latencies = []
    try:
        time.sleep(5)  # let the worker connect
        with use_workspace(ws):
            ids = list(Account.objects.filter(status="active").values_list("pk", flat=True))
            rng = random.Random(11)
            for _ in range(writes):
                account_id = rng.choice(ids)
                written = timezone.now()
                Touchpoint.objects.create(account_id=account_id, kind="call", subject="Benchmark call")
                started = time.perf_counter()
                deadline = started + 60
                while time.perf_counter() < deadline:
                    # Today's history row is rewritten by every run that scores the account (the
                    # account row itself only when its score, band or coverage changed).
                    computed = (
                        HealthScore.objects.filter(account_id=account_id, day=timezone.localdate())
                        .values_list("computed_at", flat=True)
                        .first()
                    )
                    if computed and computed >= written:
                        break
                    time.sleep(0.05)
                latencies.append(time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", default="bench-1")
    parser.add_argument("--sample", type=int, default=200, help="accounts scored the naive way")
    parser.add_argument("--writes", type=int, default=20, help="writes timed for freshness (0 to skip)")
    parser.add_argument("--phase", choices=["all", "rescore"], default="all", help=argparse.SUPPRESS)
    args = parser.parse_args()
    ws = Workspace.objects.get(slug=args.workspace)
    if args.phase == "rescore":
        phase_rescore(ws)
        return
    print(f"database: {connection.vendor}, workspace {ws.slug}")
    with use_workspace(ws):
        n_accounts = Account.objects.count()
        n_usage = DailyUsage.objects.count()
    print(f"data: {n_accounts:,} accounts, {n_usage:,} daily usage rows")
    rescore_in_child(ws.slug)  # warm the database caches, as a scheduled run would find them
    full = rescore_in_child(ws.slug)
    print(
        f"full rescore: {full['seconds']:.2f} s for {full['accounts']:,} accounts (target ≤ 20 s at 100,000)"
    )
    print(
        f"peak memory of the rescoring process: {full['peak_kib'] / 1024:.0f} MiB"
        f" (after Django start-up {full['baseline_kib'] / 1024:.0f} MiB; target ≤ 1024 MiB)"
    )
    bare = floor(ws)
    print(f"floor, one bare SQL aggregate over the same usage rows: {bare:.2f} s")
    print(f"  rescore / floor = {full['seconds'] / bare:.1f}× (target ≤ 3×)")
    per_account = naive(ws, args.sample)
    projected = per_account * full["accounts"]
    print(f"naive loop, {args.sample} sampled accounts: {per_account * 1000:.1f} ms per account,"
          f" {projected:.0f} s projected for the workspace")  # fmt: skip
    print(f"  naive / set-based = {projected / full['seconds']:.0f}× (target ≥ 100×)")
    if args.writes:
        latencies = sorted(freshness(ws, args.writes))
        p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
        print(
            f"freshness over {len(latencies)} writes: p50 {statistics.median(latencies):.2f} s,"
            f" p95 {p95:.2f} s, max {latencies[-1]:.2f} s (target p95 ≤ 10 s)"
        )


if __name__ == "__main__":
    main()
