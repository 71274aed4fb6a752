"""Data for the load test: one large workspace and several small ones, built with bench/generate.py.

Run by bench/load/run.py in a process of its own (generate.py sets Django up when imported), with
DATABASE_URL pointing at the load test's database:

    DATABASE_URL=postgres://… .venv/bin/python bench/load/prepare.py --config out.json [--reuse] …

1. migrates;
2. builds `load-large` (`--large-accounts`) and `load-small-1`…`load-small-K` (`--small-accounts`
   each) with the generator, replacing any earlier ones, unless `--reuse` is given and they exist
   with those sizes;
3. for freshly built workspaces: today's health scores (which open the alerts the inbox shows)
   and a few open tasks for each CSM, so every page the load test reads has something on it;
4. issues a new API key (`read`, `write`) per workspace, revoking the previous load-test keys;
5. writes the JSON the locust file reads: workspaces, their keys, CSM logins, and the large
   workspace's active accounts (the partner feed's ids).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")

import generate  # noqa: E402  (sets Django up)
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Account  # noqa: E402
from health.recompute import recompute  # noqa: E402
from playbooks import ctas  # noqa: E402
from playbooks.models import Task, TaskPriority  # noqa: E402
from tenancy.context import use_workspace  # noqa: E402
from tenancy.models import ApiKey, Membership, Workspace  # noqa: E402

LARGE = "load-large"
KEY_NAME = "load test"
TASKS_PER_CSM = 12


def plan(args) -> list[tuple[str, str, int]]:
    workspaces = [(LARGE, "Load Large", args.large_accounts)]
    workspaces += [
        (f"load-small-{i}", f"Load Small {i}", args.small_accounts)
        for i in range(1, args.small_workspaces + 1)
    ]
    return workspaces


def existing_sizes(slugs: list[str]) -> dict[str, int]:
    """The generated accounts of each workspace (an earlier run's feed added others)."""
    sizes = {}
    for ws in Workspace.objects.filter(slug__in=slugs):
        with use_workspace(ws):
            sizes[ws.slug] = Account.objects.filter(external_id__startswith="acct-").count()
    return sizes


def score_and_tasks(ws: Workspace) -> str:
    """Today's scores (the alert rules run on them) and some open tasks for each CSM."""
    with use_workspace(ws):
        started = time.perf_counter()
        run = recompute(ws.pk, kind="scheduled")
        scored = time.perf_counter() - started
        today = timezone.localdate()
        csms = [m.user for m in Membership.objects.filter(workspace=ws, role="csm").select_related("user")]
        made = 0
        for k, csm in enumerate(csms):
            accounts = Account.objects.filter(csm_owner=csm, status="active").order_by("pk")[:TASKS_PER_CSM]
            for n, account in enumerate(accounts):
                ctas.create_task(
                    account,
                    f"Check in with {account.name}",
                    due_on=today + dt.timedelta(days=(n + k) % 21 - 5),
                    assignee=csm,
                    priority=(TaskPriority.HIGH if n % 4 == 0 else TaskPriority.NORMAL),
                )
                made += 1
        return f"{run.accounts_scored:,} accounts scored in {scored:.1f} s ({run.status}), {made} tasks"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", required=True, help="where to write the locust file's JSON")
    parser.add_argument("--large-accounts", type=int, default=20_000)
    parser.add_argument("--small-workspaces", type=int, default=4)
    parser.add_argument("--small-accounts", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    workspaces = plan(args)
    slugs = [slug for slug, _, _ in workspaces]
    wanted = {slug: n for slug, _, n in workspaces}
    if args.reuse and existing_sizes(slugs) == wanted:
        print(f"reusing the workspaces {', '.join(slugs)}")
    else:
        if args.reuse:
            print("the load test's workspaces are missing or of other sizes: building them")
        generate.build(workspaces, days=args.days, replace=True)
        for ws in Workspace.objects.filter(slug__in=slugs).order_by("pk"):
            print(f"  {ws.slug}: {score_and_tasks(ws)}", flush=True)

    config = {"workspaces": [], "password": generate.BENCH_PASSWORD}
    for ws in Workspace.objects.filter(slug__in=slugs):
        with use_workspace(ws):
            ApiKey.objects.filter(name=KEY_NAME, revoked_at__isnull=True).update(revoked_at=timezone.now())
            _, key = ApiKey.issue(KEY_NAME, ["read", "write"])
            csms = list(
                Membership.objects.filter(workspace=ws, role="csm")
                .order_by("user__email")
                .values_list("user__email", flat=True)
            )
            entry = {
                "slug": ws.slug,
                "name": ws.name,
                "size": "large" if ws.slug == LARGE else "small",
                "accounts": Account.objects.count(),
                "open_tasks": Task.objects.filter(status="open").count(),
                "key": key,
                "csms": csms,
            }
            if ws.slug == LARGE:
                entry["feed"] = [
                    [external_id, name, str(mrr)]
                    for external_id, name, mrr in Account.objects.filter(status="active")
                    .order_by("pk")
                    .values_list("external_id", "name", "mrr")
                ]
            config["workspaces"].append(entry)
    Path(args.config).write_text(json.dumps(config))
    for entry in config["workspaces"]:
        print(
            f"  {entry['slug']}: {entry['accounts']:,} accounts, {entry['open_tasks']} open tasks, key issued"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
