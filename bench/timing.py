"""Timing helpers shared by the page benchmarks (bench/pages.py, lists.py, analysis.py).
Import after django.setup()."""

from __future__ import annotations

import statistics
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext


def percentiles(times_ms: list[float]) -> dict:
    times = sorted(times_ms)
    return {
        "p50": statistics.median(times),
        "p95": times[max(0, round(0.95 * len(times)) - 1)],
        "max": times[-1],
    }


def measure(client, url: str, repeat: int, warmup: int = 2) -> tuple[dict, object]:
    """GET `url` `repeat` times after `warmup` requests: p50/p95/max in ms and the most SQL
    queries one request made; also the last response."""
    for _ in range(warmup):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times, queries = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.append(len(captured.captured_queries))
    return {**percentiles(times), "queries": max(queries)}, response
