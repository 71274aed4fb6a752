"""The load test's pieces that can be checked without a stack: the locust file loads and defines
its user classes, and the report reads locust's CSV correctly. (The load test itself is
bench/load/run.py; it is not run by the test suite.)"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOAD = ROOT / "bench" / "load"


def load_run_module():
    spec = importlib.util.spec_from_file_location("load_run", LOAD / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_locustfile_defines_the_user_classes():
    # In a process of its own: importing locust monkey-patches the standard library (gevent).
    locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or shutil.which("locust")
    if locust is None:
        pytest.skip("locust is not installed (dev extras)")
    done = subprocess.run(  # noqa: S603  (the locust next to this Python)
        [locust, "-f", str(LOAD / "locustfile.py"), "--list"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("Available Users:")[1].split() == ["PartnerIngest", "LargeCSM", "SmallCSM"]


HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
    "99.99%,100%"
)


def test_report_reads_locusts_csv(tmp_path):
    run = load_run_module()
    (tmp_path / "locust_stats.csv").write_text(
        "\n".join(
            [
                HEADER,
                "GET,[small] dashboard,150,0,80,90,20,700,5000,2.5,0,80,90,100,110,200,300,500,650,700,700,700",
                "POST,[api] POST daily-usage/bulk (300),50,3,900,950,300,4000,9000,0.8,0.05,900,1000,1100,"
                "1200,1500,2000,3000,3900,4000,4000,4000",
                "GET,[large] login,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A",
                ",Aggregated,200,3,100,300,20,4000,6000,3.3,0.05,100,200,300,400,900,1500,2500,3500,4000,4000,4000",
            ]
        )
        + "\n"
    )
    (tmp_path / "locust_failures.csv").write_text(
        "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
        "POST,[api] POST daily-usage/bulk (300),HTTP 503: unavailable,3,1,2\n"
    )
    (tmp_path / "worker.log").write_text(
        "INFO health.recompute [req=a ws=1] health run 7: 220 accounts in 0.50 s\n"
        "INFO health.recompute [req=b ws=1] health run 8: 30 accounts in 1.50 s\n"
    )
    (tmp_path / "access.log").write_text(
        '[23/Nov/2026:16:24:33 +0000] "GET /w/load-small-1/ HTTP/1.1" 200 9000 12ms\n'
        '[23/Nov/2026:16:24:34 +0000] "POST /api/v1/daily-usage/bulk HTTP/1.1" 200 55174 679ms\n'
        '[23/Nov/2026:16:24:35 +0000] "GET /w/load-small-2/alerts/?mine=true HTTP/1.1" 200 9000 41ms\n'
        '[23/Nov/2026:16:24:36 +0000] "GET /healthz HTTP/1.1" 200 133 4ms\n'
    )
    extra = {
        "ingested_records": 6000,
        "ingest_seconds": 60.0,
        "quiet_seconds": 30,
        "small_pages_before_ingest": {"requests": 40, "p50": 50, "p95": 120, "p99": 200},
        "small_pages_while_ingesting": {"requests": 140, "p50": 80, "p95": 310, "p99": 640},
    }
    context = {
        "started": "2026-11-23 10:00",
        "run_time": "1m",
        "users": 10,
        "ingest_users": 2,
        "workers": 3,
        "celery_concurrency": 1,
        "quiet": 30,
        "cores": 2,
        "load": "mean 3.0, max 4.0",
        "workspaces": "load-large 2,000 accounts",
    }
    text = run.report(tmp_path / "locust_stats.csv", extra, context)
    assert "200 requests, 3.3 requests/s, 3 failures = 1.50% (target < 1%: NOT met)" in text
    small = next(line for line in text.splitlines() if "[small] dashboard" in line)
    assert small.split()[-5:] == ["2.50", "80", "300", "650", "700"]
    assert "partner feed: 6,000 records written in 60 s (100 records/s)" in text
    before, during = (
        line.split() for line in text.splitlines() if line.startswith(("  small before", "  small while"))
    )
    assert "before the feed started (first 30 s)" in " ".join(before)
    assert [before[i] for i in (-11, -8, -5)] == ["40", "50", "120"]  # requests, p50, p95
    assert "while the large workspace ingests" in " ".join(during)
    assert [during[i] for i in (-11, -8, -5)] == ["140", "80", "310"]
    server = {line[:36].strip(): line[36:].split() for line in text.splitlines() if "requests  p50" in line}
    assert server["partner API"] == ["1", "requests", "p50", "679", "ms", "p95", "679", "ms"]
    assert server["small pages, before the feed"][3] == "12"
    assert server["small pages, while ingesting"][3] == "41"
    assert "2 health runs" in text and "250 account scores" in text
    assert "3 × POST [api] POST daily-usage/bulk (300): HTTP 503: unavailable" in text
