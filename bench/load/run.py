"""Load test of the whole stack in one command: data, gunicorn, Celery worker and beat, locust.

    .venv/bin/python bench/load/run.py --database postgres://postgres@127.0.0.1:5432/wt_load \\
        --redis redis://127.0.0.1:6379/7 [--reuse] [--users 24 --spawn-rate 2 --run-time 10m --quiet-first 60]

1. Prepares the database (bench/load/prepare.py in its own process): creates it if missing,
   migrates, builds one large workspace and several small ones with bench/generate.py (skipped
   with `--reuse` when they exist with the same sizes), scores them, issues an API key per
   workspace. CSMs log in as `csm1@<slug>.test`… (the generator's users).
2. Empties the given Redis database (use one of its own) and starts the real stack on PostgreSQL
   and Redis from the URLs: gunicorn (`cs_platform.wsgi`, `--workers`, DEBUG off, the static
   files collected as in production), a Celery worker and Celery beat.
3. Runs locust headless (bench/load/locustfile.py) for `--run-time`: CSMs of every workspace
   read their pages; after `--quiet-first` seconds (their baseline) a partner feed starts writing
   to the large workspace through the API.
4. Stops the stack and prints the report from locust's CSV: requests/s, p50/p95/p99 per request
   name, the failure ratio (target < 1 %), the CSM pages' p50/p95/p99 per workspace size before
   the feed started and while it was writing, the time spent inside the web workers (gunicorn's
   access log) and the worker's health runs. Everything (CSV, report, server logs) is kept under
   `--results`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
FAILURE_TARGET = 0.01

sys.path.insert(0, str(HERE.parent))
from servers import ensure_database, free_port  # noqa: E402  (bench/servers.py)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", ""), help="a postgres:// URL")
    parser.add_argument(
        "--redis", default="redis://127.0.0.1:6379/7", help="Redis URL (broker and cache); emptied at start"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the data when it already exists")
    parser.add_argument("--large-accounts", type=int, default=20_000)
    parser.add_argument("--small-workspaces", type=int, default=4)
    parser.add_argument("--small-accounts", type=int, default=300)
    parser.add_argument("--days", type=int, default=90, help="days of generated history")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--celery-concurrency", type=int, default=1)
    parser.add_argument("--users", type=int, default=24, help="simulated users in all")
    parser.add_argument("--ingest-users", type=int, default=2, help="of which partner feeds")
    parser.add_argument("--spawn-rate", type=float, default=2, help="users started per second")
    parser.add_argument("--run-time", default="10m", help="locust's --run-time (30s, 2m, 10m…)")
    parser.add_argument(
        "--quiet-first",
        type=float,
        default=60,
        help="seconds at the start with CSMs only (their baseline), before the partner feed starts",
    )
    parser.add_argument("--results", default=str(HERE / "results"), help="folder for CSV, report, logs")
    parser.add_argument(
        "--report", metavar="FOLDER", help="only print the report of an earlier run kept in FOLDER (alone)"
    )
    args = parser.parse_args(argv)
    if args.report:
        return args
    if not args.database.startswith("postgres"):
        parser.error("pass --database postgres://… (or set DATABASE_URL)")
    if args.users <= args.ingest_users:
        parser.error("--users must leave room for CSMs after --ingest-users")
    return args


# --- Set-up ------------------------------------------------------------------------------------------


def stack_env(args, var_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": args.database,
        "REDIS_URL": args.redis,
        "VAR_DIR": str(var_dir),
        "DEBUG": "false",
        "SECRET_KEY": "load-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on the loopback: the cookies must not require HTTPS.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_BROKER_URL", None)
    return env


class Stack:
    """gunicorn, a Celery worker and Celery beat as child processes, each logging to a file."""

    def __init__(self, args, env: dict[str, str], folder: Path, port: int):
        self.env, self.folder, self.port = env, folder, port
        self.commands = {
            "web": [
                str(VENV_BIN / "gunicorn"),
                "cs_platform.wsgi",
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "--access-logfile",
                str(folder / "access.log"),
                "--access-logformat",
                '%(t)s "%(r)s" %(s)s %(b)s %(M)sms',
            ],
            "worker": [
                str(VENV_BIN / "celery"),
                "-A",
                "cs_platform",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(args.celery_concurrency),
                "--without-gossip",
                "--without-mingle",
            ],
            "beat": [
                str(VENV_BIN / "celery"),
                "-A",
                "cs_platform",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(folder / "beat-schedule"),
            ],
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        for name, command in self.commands.items():
            log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115  (closed with the process)
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/healthz"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            dead = [name for name, p in self.processes.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise SystemExit(
                    f"the stack did not start ({', '.join(dead) or 'timeout'}); see {self.folder}/*.log"
                )
            time.sleep(0.5)

    def check_alive(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class LoadSampler(threading.Thread):
    """The machine's 1-minute load average every 5 s: other work may share the cores."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(5):
            self.samples.append(os.getloadavg()[0])


# --- Report ---------------------------------------------------------------------------------------------


def read_stats(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def number(row: dict, column: str) -> float:
    value = row.get(column, "")
    try:
        return float(value)
    except ValueError:  # "N/A" for an entry without requests
        return float("nan")


HEALTH_RUN = re.compile(r"health run \d+: (\d+) accounts in ([\d.]+) s")


def health_runs(worker_log: Path) -> list[tuple[int, float]]:
    """(accounts, seconds) of each health run the worker logged."""
    if not worker_log.exists():
        return []
    return [(int(n), float(s)) for n, s in HEALTH_RUN.findall(worker_log.read_text(errors="replace"))]


ACCESS = re.compile(r'"(?:GET|POST|PUT) (\S+) HTTP/[\d.]+" \d+ \S+ (\d+)ms$')


def server_times(access_log: Path) -> dict[str, tuple[int, float, float]]:
    """Requests, p50 and p95 of gunicorn's request time: the API, and each workspace size's pages
    before the feed's first request and after it (the log is in the order requests ended)."""
    if not access_log.exists():
        return {}
    groups: dict[str, list[int]] = {}
    feeding = False
    for line in access_log.read_text(errors="replace").splitlines():
        match = ACCESS.search(line)
        if not match:
            continue
        path = match.group(1)
        if path.startswith("/api/"):
            feeding = True
            group = "partner API"
        elif path.startswith(("/w/load-large/", "/w/load-small-")):
            size = "large" if path.startswith("/w/load-large/") else "small"
            group = f"{size} pages, {'while ingesting' if feeding else 'before the feed'}"
        else:
            continue
        groups.setdefault(group, []).append(int(match.group(2)))
    result = {}
    for group, times in sorted(groups.items()):
        times.sort()
        result[group] = (
            len(times),
            times[len(times) // 2],
            times[min(len(times) - 1, int(len(times) * 0.95))],
        )
    return result


def report(stats_csv: Path, extra: dict, context: dict) -> str:
    rows = read_stats(stats_csv)
    total = next(r for r in rows if r["Name"] == "Aggregated")
    requests = int(number(total, "Request Count"))
    failures = int(number(total, "Failure Count"))
    ratio = failures / requests if requests else float("nan")
    lines = [
        f"Load test {context['started']}: {context['run_time']} with {context['users']} users "
        f"({context['ingest_users']} partner feeds), gunicorn {context['workers']} workers, "
        f"Celery worker concurrency {context['celery_concurrency']}; partner feed from {context['quiet']:.0f} s on",
        f"data: {context['workspaces']}",
        f"machine: {context['cores']} cores, load average during the run {context['load']}",
        "",
        f"total: {requests:,} requests, {number(total, 'Requests/s'):.1f} requests/s, "
        f"{failures:,} failures = {ratio:.2%} (target < {FAILURE_TARGET:.0%}: {'met' if ratio < FAILURE_TARGET else 'NOT met'})",
        "",
        f"{'request':<62} {'count':>7} {'fail':>5} {'req/s':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  (ms)",
    ]
    for row in sorted((r for r in rows if r["Name"] != "Aggregated"), key=lambda r: r["Name"]):
        name = f"{row['Type']} {row['Name']}"
        lines.append(
            f"{name:<62} {int(number(row, 'Request Count')):>7,} {int(number(row, 'Failure Count')):>5} "
            f"{number(row, 'Requests/s'):>6.2f} {number(row, '50%'):>7.0f} {number(row, '95%'):>7.0f} "
            f"{number(row, '99%'):>7.0f} {number(row, 'Max Response Time'):>7.0f}"
        )
    lines.append("")
    if extra:
        seconds = extra.get("ingest_seconds") or 0
        rate = extra["ingested_records"] / seconds if seconds else 0
        lines.append(
            f"partner feed: {extra['ingested_records']:,} records written in {seconds:.0f} s ({rate:,.0f} records/s)"
        )
        lines.append("CSM pages (logins aside), by workspace size:")
        for size in ("small", "large"):
            for phase, label in (
                ("before_ingest", f"before the feed started (first {extra.get('quiet_seconds', 0):.0f} s)"),
                ("while_ingesting", "while the large workspace ingests"),
            ):
                figures = extra.get(f"{size}_pages_{phase}")
                if figures and figures["requests"]:
                    lines.append(
                        f"  {size:<5} {label:<46} {figures['requests']:>6,} requests  p50 {figures['p50']:>5.0f} ms"
                        f"  p95 {figures['p95']:>5.0f} ms  p99 {figures['p99']:>5.0f} ms"
                    )
    server = server_times(stats_csv.parent / "access.log")
    if server:
        lines.append(
            "time inside the web workers (gunicorn's access log; the rest of locust's figure is the wait"
        )
        lines.append("for a free worker and the network):")
        for group, (n, p50, p95) in server.items():
            lines.append(f"  {group:<34} {n:>6,} requests  p50 {p50:>5.0f} ms  p95 {p95:>5.0f} ms")
    runs = health_runs(stats_csv.parent / "worker.log")
    if runs:
        seconds = sorted(s for _, s in runs)
        lines.append(
            f"Celery worker: {len(runs)} health runs (rescoring what the feed changed), "
            f"{sum(n for n, _ in runs):,} account scores, run time p50 {seconds[len(seconds) // 2]:.2f} s, "
            f"max {seconds[-1]:.2f} s"
        )
    failures_csv = stats_csv.with_name(stats_csv.name.replace("_stats.csv", "_failures.csv"))
    if failures_csv.exists():
        failed = read_stats(failures_csv)
        if failed:
            lines.append("")
            lines.append("failures:")
            for row in failed[:15]:
                lines.append(
                    f"  {row['Occurrences']:>5} × {row['Method']} {row['Name']}: {row['Error'][:160]}"
                )
    return "\n".join(lines)


def write_report(folder: Path) -> str:
    """The report of the run kept in `folder` (also written to its report.txt)."""
    extra_path = folder / "extra.json"
    extra = json.loads(extra_path.read_text()) if extra_path.exists() else {}
    context = json.loads((folder / "context.json").read_text())
    text = report(folder / "locust_stats.csv", extra, context)
    (folder / "report.txt").write_text(text + "\n")
    return text


# --- Main ------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.report:  # print an earlier run's report again: --report <its folder>
        print(write_report(Path(args.report)))
        return 0
    started = dt.datetime.now()
    folder = Path(args.results) / started.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True)
    var_dir = Path(args.results) / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = stack_env(args, var_dir)
    config = folder / "config.json"

    ensure_database(args.database)
    print("preparing the data …", flush=True)
    prepare = [
        str(VENV_BIN / "python"),
        str(HERE / "prepare.py"),
        "--config",
        str(config),
        "--large-accounts",
        str(args.large_accounts),
        "--small-workspaces",
        str(args.small_workspaces),
        "--small-accounts",
        str(args.small_accounts),
        "--days",
        str(args.days),
    ] + (["--reuse"] if args.reuse else [])
    # The preparation's own queued tasks (a first history backfill) are not part of the test.
    subprocess.run(
        prepare, cwd=ROOT, env={**env, "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"}, check=True
    )
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    import redis

    redis.Redis.from_url(args.redis).flushdb()

    port = free_port()
    stack = Stack(args, env, folder, port)
    sampler = LoadSampler()
    print(f"starting gunicorn ({args.workers} workers), Celery worker and beat on port {port} …", flush=True)
    stack.start()
    try:
        stack.wait_healthy()
        prefix = folder / "locust"
        command = [
            str(VENV_BIN / "locust"),
            "-f",
            str(HERE / "locustfile.py"),
            "--headless",
            "--host",
            f"http://127.0.0.1:{port}",
            "--users",
            str(args.users),
            "--spawn-rate",
            str(args.spawn_rate),
            "--run-time",
            args.run_time,
            "--stop-timeout",
            "30",
            "--csv",
            str(prefix),
            "--only-summary",
            "--exit-code-on-error",
            "0",
        ]
        locust_env = {
            **os.environ,
            "LOAD_CONFIG": str(config),
            "LOAD_EXTRA_STATS": str(folder / "extra.json"),
            "LOAD_INGEST_USERS": str(args.ingest_users),
            "LOAD_QUIET_SECONDS": str(args.quiet_first),
        }
        print(f"running locust for {args.run_time} ({args.users} users) …", flush=True)
        sampler.start()
        with open(folder / "locust.log", "w") as log:
            result = subprocess.run(command, cwd=ROOT, env=locust_env, stdout=log, stderr=subprocess.STDOUT)
        sampler.done.set()
        dead = stack.check_alive()
    finally:
        stack.stop()
    if result.returncode != 0:
        print(f"locust exited with {result.returncode}; see {folder / 'locust.log'}", file=sys.stderr)
    if dead:
        print(f"these processes died during the run: {', '.join(dead)}", file=sys.stderr)

    data = json.loads(config.read_text())
    loads = sampler.samples or [os.getloadavg()[0]]
    context = {
        "started": started.strftime("%Y-%m-%d %H:%M"),
        "run_time": args.run_time,
        "users": args.users,
        "ingest_users": args.ingest_users,
        "workers": args.workers,
        "celery_concurrency": args.celery_concurrency,
        "quiet": args.quiet_first,
        "cores": os.cpu_count(),
        "load": f"mean {sum(loads) / len(loads):.1f}, max {max(loads):.1f}",
        "workspaces": ", ".join(f"{w['slug']} {w['accounts']:,} accounts" for w in data["workspaces"]),
    }
    stats_csv = Path(f"{prefix}_stats.csv")
    if not stats_csv.exists():
        print(f"no statistics written; see {folder / 'locust.log'}", file=sys.stderr)
        return 1
    (folder / "context.json").write_text(json.dumps(context))
    print()
    print(write_report(folder))
    print(f"\nresults: {folder}")
    return 0 if result.returncode == 0 and not dead else 1


if __name__ == "__main__":
    sys.exit(main())
