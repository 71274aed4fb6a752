"""PostgreSQL restarts while a real web server (gunicorn, the production server) is serving pages
and the API from several threads: during the outage every request gets a 503 (a problem document
from the API, a page elsewhere), never a 500; afterwards the same server processes serve again
without a restart."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

import psycopg
import requests

from .procs import PrivatePostgres, Process, child_env, free_port, python, wait_until

SEED = """
from accounts.models import Account
from tenancy.context import use_workspace
from tenancy.models import ApiKey, Membership, User, Workspace
ws = Workspace.objects.create(name="Outage Co", slug="outage")
user = User.objects.create_user("admin@outage.test", "outage-pass-12345", full_name="Outage Admin")
Membership.objects.create(user=user, workspace=ws, role="admin")
with use_workspace(ws):
    _, key = ApiKey.issue("sync", ["read", "write"])
    for i in range(20):
        Account.objects.create(name=f"Account {i}", external_id=f"o-{i}", mrr=100 + i)
print("KEY=" + key)
"""


@dataclass
class Hit:
    kind: str
    started: float
    ended: float
    status: int
    content_type: str
    body: str


def login(base: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    response = session.post(
        f"{base}/login/",
        data={"username": "admin@outage.test", "password": "outage-pass-12345", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        timeout=10,
    )
    assert response.ok and "/login/" not in response.url, response.text[:500]
    return session


def test_postgres_restart_under_load_answers_503_then_recovers(tmp_path, processes):
    """Phases, by wall clock: normal (2 s), PostgreSQL stopped (`pg_ctl stop -m fast`, which
    also cuts the server's open connections) for 3 s, started again, then 5 s more. Four threads
    loop over the account list page, the API's account list, an API upsert and `/healthz`.

    - no request gets a 500 (or any 5xx other than 503), and none fails to get an answer;
    - a request made entirely within the outage gets 503: `application/problem+json` from the
      API, the "Temporarily unavailable" page elsewhere, `/healthz` naming the database;
    - from 2 s after PostgreSQL is back every request succeeds, served by the same processes:
      broken persistent connections are replaced (`CONN_HEALTH_CHECKS`, and Django drops a
      connection that raised at the end of the request).
    """
    pg = PrivatePostgres().start()
    try:
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE cs")
        env = child_env(tmp_path, pg.url("cs"), None, DB_CONN_MAX_AGE="600", DEBUG="true")
        migrate = Process(
            "migrate", python("manage.py", "migrate", "--no-input"), env, tmp_path / "migrate.log"
        )
        assert migrate.start().proc.wait(240) == 0, migrate.output()[-3000:]
        migrate.stop()
        seed = Process("seed", python("manage.py", "shell", "-c", SEED), env, tmp_path / "seed.log")
        assert seed.start().proc.wait(120) == 0, seed.output()[-3000:]
        seed.stop()
        key = re.search(r"KEY=(\S+)", seed.output())[1]

        port = free_port()
        web = Process(
            "web",
            python(
                "-m",
                "gunicorn",
                "cs_platform.wsgi:application",
                f"--bind=127.0.0.1:{port}",
                "--workers=2",
                "--threads=4",
                "--timeout=60",
            ),
            env,
            tmp_path / "web.log",
        ).start()
        processes.append(web)
        base = f"http://127.0.0.1:{port}"

        def healthy():
            try:
                return requests.get(f"{base}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, 60, what="gunicorn to serve")
        worker_pids = set(web.children())
        session = login(base)
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {key}"

        calls = {
            "page": lambda n: session.get(f"{base}/w/outage/accounts/", timeout=15),
            "api-list": lambda n: api.get(f"{base}/api/v1/accounts", timeout=15),
            "api-upsert": lambda n: api.put(
                f"{base}/api/v1/accounts/load-1",
                json={"external_id": "load-1", "name": f"Load {n}", "mrr": f"{100 + n % 7}.00"},
                timeout=15,
            ),
            "healthz": lambda n: requests.get(f"{base}/healthz", timeout=15),
        }
        hits: list[Hit] = []
        stop = threading.Event()

        def load(kind: str) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                started = time.monotonic()
                try:
                    response = calls[kind](n)
                    hit = Hit(
                        kind,
                        started,
                        time.monotonic(),
                        response.status_code,
                        response.headers.get("Content-Type", ""),
                        response.text[:2000],
                    )
                except requests.RequestException as error:
                    hit = Hit(kind, started, time.monotonic(), 0, "", repr(error))
                hits.append(hit)
                time.sleep(0.05)

        threads = [threading.Thread(target=load, args=(kind,), daemon=True) for kind in calls]
        for thread in threads:
            thread.start()
        time.sleep(2)
        stop_begin = time.monotonic()
        pg.stop("fast")
        stopped = time.monotonic()
        time.sleep(3)
        start_begin = time.monotonic()
        pg.start()
        started = time.monotonic()
        time.sleep(5)
        stop.set()
        for thread in threads:
            thread.join(30)
        assert web.proc.poll() is None, "the web server died"
        assert set(web.children()) == worker_pids, "gunicorn had to replace its worker processes"
    finally:
        pg.destroy()

    statuses = {(h.kind, h.status) for h in hits}
    assert not [h for h in hits if h.status == 0], [h.body for h in hits if h.status == 0][:3]
    assert not [h for h in hits if h.status >= 500 and h.status != 503], [
        (h.kind, h.status, h.body[:300]) for h in hits if h.status >= 500 and h.status != 503
    ]
    before = [h for h in hits if h.ended < stop_begin]
    during = [h for h in hits if h.started > stopped and h.ended < start_begin]
    after = [h for h in hits if h.started > started + 2]
    assert before and all(h.status in (200, 201) for h in before), statuses
    assert {h.kind for h in during} == set(calls), "a kind of request was not tried during the outage"
    for h in during:
        assert h.status == 503, (h.kind, h.status, h.body[:300])
        if h.kind.startswith("api"):
            assert h.content_type == "application/problem+json", h.content_type
            assert '"status": 503' in h.body
        elif h.kind == "page":
            assert h.content_type.startswith("text/html") and "Temporarily unavailable" in h.body
        else:
            assert '"database": "error' in h.body
    assert {h.kind for h in after} == set(calls)
    assert all(h.status in (200, 201) for h in after), [
        (h.kind, h.status, h.body[:200]) for h in after if h.status >= 300
    ]
    print(
        f"{len(hits)} requests: {len(before)} before the outage (all 2xx), {len(during)} during it (all 503), "
        f"{len(after)} from 2 s after PostgreSQL returned (all 2xx); 5xx other than 503: 0"
    )
