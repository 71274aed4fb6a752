"""Alert rule evaluation at scale: the time the default rule set adds to a full health run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_health .venv/bin/python bench/alerts.py --workspace bench-1

Loads and scores the workspace once (as a full run does), then times, in the same run:
the scoring step alone, and the alert evaluation of the ten default rules over the same frames
(first pass: alerts opened; second pass: alerts kept fresh, the steady state of hourly runs).
Everything is rolled back at the end. Target: evaluation adds ≤ 5 s at 100,000 accounts.
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

from django.db import transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from health import alerting, recompute  # noqa: E402
from health.loading import load_inputs  # noqa: E402
from health.models import Alert, AlertRule  # noqa: E402
from tenancy.context import use_workspace  # noqa: E402
from tenancy.models import Workspace  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", default="bench-1")
    args = parser.parse_args()
    ws = Workspace.objects.get(slug=args.workspace)
    today = timezone.localdate()
    with use_workspace(ws), transaction.atomic():
        AlertRule.objects.all().delete()
        alerting.ensure_default_rules()
        started = time.perf_counter()
        inputs = load_inputs(today)
        loaded = time.perf_counter() - started
        cards = recompute.active_scorecards()
        started = time.perf_counter()
        results = recompute.score_inputs(inputs, cards, inputs.accounts["health_band"])
        scored = time.perf_counter() - started
        print(f"{len(results):,} accounts: load {loaded:.2f} s, score {scored:.2f} s")
        for label in ("first evaluation (opens alerts)", "second evaluation (refreshes them)"):
            started = time.perf_counter()
            counts, _, _ = alerting.evaluate(today, results, inputs)
            print(f"{label}: {time.perf_counter() - started:.2f} s {counts} (target ≤ 5 s)")
        per_rule = Alert.objects.values_list("rule__name").annotate(n=Count("pk")).order_by("-n")
        for name, n in per_rule:
            print(f"  {n:7,}  {name}")
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
