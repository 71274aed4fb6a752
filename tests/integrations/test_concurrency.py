"""Partner API under concurrent writes, over real HTTP against gunicorn (the production server:
two worker processes of 25 threads, on the test database) on PostgreSQL: 50 requests released at
the same instant by a barrier. (Django's test live server accepts only a few pending connections,
so 50 at once would be refused at the socket, not by the product.)"""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest
import requests

from accounts.models import Account, MRRMovement
from integrations.models import IdempotencyRecord, IngestCount
from tenancy.context import use_workspace

from ..faults.procs import Process, child_env, free_port, python, test_database_url, wait_until
from .conftest import Api

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARALLEL = 50


@pytest.fixture
def api(tmp_path, keys, two_workspaces):
    port = free_port()
    argv = python(
        "-m",
        "gunicorn",
        "cs_platform.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        "--workers=2",
        "--threads=25",
        "--timeout=60",
    )
    env = child_env(tmp_path, test_database_url(), None, DB_CONN_MAX_AGE="0")
    server = Process("gunicorn", argv, env, tmp_path / "gunicorn.log").start()
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
        except requests.RequestException:
            return False

    try:
        wait_until(up, 60, what="gunicorn to serve")
        yield Api(base, keys.a, two_workspaces.a)
    finally:
        server.stop()


def at_once(call) -> list:
    """`call(i)` from PARALLEL threads released together; the responses in order."""
    barrier = threading.Barrier(PARALLEL)
    results: list = [None] * PARALLEL

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except Exception as error:  # reported by the assertions
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_parallel_upserts_of_one_partner_id_make_one_row(api, two_workspaces):
    responses = at_once(
        lambda i: api.put(
            "accounts/race-1", json={"external_id": "race-1", "name": f"Racer {i}", "mrr": f"{100 + i}.00"}
        )
    )
    statuses = Counter(getattr(r, "status_code", repr(r)) for r in responses)
    assert set(statuses) <= {200, 201}, statuses
    assert statuses[201] == 1, statuses  # exactly one request created it; the rest updated it
    with use_workspace(two_workspaces.a):
        rows = list(Account.objects.filter(external_id="race-1"))
        assert len(rows) == 1
        # The row holds one of the requests' values, whole (name and MRR of the same request).
        name, mrr = rows[0].name, rows[0].mrr
        assert mrr == Decimal(f"{100 + int(name.split()[-1])}.00")
        assert MRRMovement.objects.filter(account=rows[0], kind="new").count() == 1


def test_parallel_retries_with_one_idempotency_key_write_once(api, two_workspaces):
    body = {"external_id": "idem-race", "name": "Once", "mrr": "250.00"}
    with use_workspace(two_workspaces.a):
        ingested_before = (
            IngestCount.objects.filter(resource="account").values_list("records", flat=True).first()
        )
    responses = at_once(lambda i: api.post("accounts", json=body, headers={"Idempotency-Key": "race-key"}))
    errors = [r for r in responses if not hasattr(r, "status_code")]
    assert not errors, errors[:3]
    original = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers]
    replayed = [r for r in responses if r.headers.get("Idempotent-Replayed") == "true"]
    conflicts = [r for r in responses if r.status_code == 409]
    assert len(original) == 1, Counter(r.status_code for r in responses)
    assert len(original) + len(replayed) + len(conflicts) == PARALLEL, Counter(
        r.status_code for r in responses
    )
    assert all(r.json() == original[0].json() and r.status_code == 201 for r in replayed)
    assert all(r.headers["Content-Type"] == "application/problem+json" for r in conflicts)
    with use_workspace(two_workspaces.a):
        account = Account.objects.get(external_id="idem-race")
        assert MRRMovement.objects.filter(account=account).count() == 1
        assert IdempotencyRecord.objects.filter(key="race-key").count() == 1
        ingested = IngestCount.objects.filter(resource="account").values_list("records", flat=True).first()
        assert (ingested or 0) - (ingested_before or 0) == 1
    print(f"1 write, {len(replayed)} replays, {len(conflicts)} conflicts (409)")
