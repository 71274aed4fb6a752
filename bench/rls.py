"""What row-level security costs: the same pages and API reads with and without it, in one run.

    createdb bench_rls
    DATABASE_URL=postgres://cs_app@127.0.0.1:5432/bench_rls \\
    DATABASE_OWNER_URL=postgres://postgres@127.0.0.1:5432/bench_rls .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_rls .venv/bin/python bench/generate.py --accounts 20000 --workspaces 3
    .venv/bin/python bench/rls.py --app postgres://cs_app@127.0.0.1:5432/bench_rls \\
        --owner postgres://postgres@127.0.0.1:5432/bench_rls --workspace bench-1

Two configurations, each in a process of its own, alternated `--rounds` times so that a machine
slowing down affects both alike:

- **baseline**: Django's stock PostgreSQL backend connected as the owner (a superuser: no policy
  applies, no `set_config`) — the product as it was before row-level security;
- **rls**: the product's backend connected as the application role: every statement passes the
  policies and every transaction carries its workspace.

Each page is requested through Django's full stack in-process as a CSM of the workspace (as in
bench/pages.py), each API read through the API view with a read key. Printed per request: the
median over the rounds of each round's p50 and p95 (ms), per configuration, and rls ÷ baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent


def child(workspace: str, repeat: int) -> None:
    sys.path[:0] = [str(ROOT), str(BENCH)]
    import django

    django.setup()
    from django.test import Client
    from timing import measure

    from accounts.models import Account
    from tenancy.context import use_workspace
    from tenancy.models import ApiKey, Membership, Workspace

    ws = Workspace.objects.get(slug=workspace)
    user = Membership.objects.filter(workspace=ws, role="csm").select_related("user").first().user
    with use_workspace(ws):
        account = Account.objects.filter(status="active").order_by("-mrr").first()
        _, key = ApiKey.issue("rls bench", ["read"])
    pages = Client()
    pages.force_login(user)
    api = Client(headers={"Authorization": f"Bearer {key}"})
    base = f"/w/{ws.slug}"
    requests = [
        ("list, 2 filters + sort", pages, f"{base}/accounts/?status=active&tier={account.tier_id}&sort=-mrr"),
        ("account page", pages, f"{base}/accounts/{account.pk}/"),
        ("dashboard", pages, f"{base}/"),
        ("alerts inbox", pages, f"{base}/alerts/"),
        ("API: accounts, 100", api, "/api/v1/accounts?page_size=100"),
        ("API: one account", api, f"/api/v1/accounts/{account.external_id}"),
    ]
    out = {}
    try:
        for name, client, url in requests:
            figures, _ = measure(client, url, repeat)
            out[name] = figures
    finally:
        with use_workspace(ws):
            ApiKey.objects.filter(name="rls bench").delete()
    print(json.dumps(out))


def run(settings: str, url: str, workspace: str, repeat: int) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "DATABASE_URL": url}
    env.pop("DATABASE_OWNER_URL", None)
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--workspace", workspace, "--repeat", str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--app", help="DATABASE_URL of the application role (held by the policies)")
    parser.add_argument("--owner", help="DATABASE_URL of the owner (a superuser: the baseline)")
    parser.add_argument("--workspace", default="bench-1")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.workspace, args.repeat)
        return
    if not (args.app and args.owner):
        parser.error("pass both --app and --owner")
    results = {"baseline": [], "rls": []}
    for n in range(args.rounds):
        for config, settings, url in (
            ("baseline", "plain_settings", args.owner),
            ("rls", "cs_platform.settings", args.app),
        ):
            print(f"round {n + 1}/{args.rounds}: {config} …", file=sys.stderr)
            results[config].append(run(settings, url, args.workspace, args.repeat))
    names = list(results["rls"][0])
    print(
        f"{'request':28} {'baseline p50':>13} {'rls p50':>9} {'ratio':>6} {'baseline p95':>13} {'rls p95':>9} {'ratio':>6}"
    )
    for name in names:
        row = []
        for stat in ("p50", "p95"):
            # The median over rounds of each round's figure.
            base = sorted(r[name][stat] for r in results["baseline"])[len(results["baseline"]) // 2]
            rls = sorted(r[name][stat] for r in results["rls"])[len(results["rls"]) // 2]
            row.append(f"{base:13.1f} {rls:9.1f} {rls / base:5.2f}×")
        print(f"{name:28} {row[0]} {row[1]}")


if __name__ == "__main__":
    main()
