"""The load test's simulated users (locust). Started by bench/load/run.py, which prepares the data
and the stack and passes the JSON written by bench/load/prepare.py in `LOAD_CONFIG`.

User classes:

- `PartnerIngest` (a fixed number, `LOAD_INGEST_USERS`, spawned first): a partner system feeding
  the large workspace through the API — bulk daily usage and account batches of a few hundred
  records, single upserts, an `Idempotency-Key` on some writes and an occasional retry of one
  (which must come back replayed). Each ingest user owns its own slice of the accounts, as
  concurrent feeds of one partner would.
- `LargeCSM` and `SmallCSM`: a CSM of the large workspace or of one of the small ones; logs in
  once, then reads the dashboard, the account list with filters, an account page (and its
  timeline, as the page's htmx call does), the alerts inbox and the task list.

Request names say who made the request: `[api] …`, `[large] …`, `[small] …`, so the report gives
each workspace size its own latencies. A request fails when its status is not the expected one
or when a 200 lacks what the page or answer must contain (a page that shows the login form, a
bulk answer with refused records…).

The feed starts `LOAD_QUIET_SECONDS` after the test (CSMs only until then). Besides locust's own
CSV, `LOAD_EXTRA_STATS` (a JSON path) receives the CSM pages' latencies per workspace size
(locust `StatsEntry`s fed from the request event, logins left out) before the feed started (from
the moment every user was spawned) and while it was writing, and the number of records the feed
wrote.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
import uuid

from locust import HttpUser, between, events, task
from locust.stats import StatsEntry

CONFIG = json.loads(open(os.environ["LOAD_CONFIG"]).read()) if os.environ.get("LOAD_CONFIG") else None  # noqa: SIM115
FEATURES = ("dashboards", "reports", "exports", "api")
ACCOUNT_LINK = re.compile(r'href="/w/[\w-]+/accounts/(\d+)/"')
# While the feed wrote (a request ended less than this many seconds ago, or one is in flight).
INGEST_ACTIVE_WINDOW = 10.0
# The feed starts this many seconds after the test: the CSM pages' latencies before it are the
# baseline the pages while ingesting are compared with.
QUIET_SECONDS = float(os.environ.get("LOAD_QUIET_SECONDS", "0"))


def workspaces(size: str) -> list[dict]:
    return [w for w in CONFIG["workspaces"] if w["size"] == size] if CONFIG else []


# --- The partner feed ----------------------------------------------------------------------------


class IngestState:
    """When the feed last wrote and how much; shared by the users of this locust process."""

    lock = threading.Lock()
    in_flight = 0
    last_end = 0.0
    records = 0
    started_at: float | None = None
    stopped_at: float | None = None

    @classmethod
    def active(cls) -> bool:
        return cls.in_flight > 0 or time.monotonic() - cls.last_end < INGEST_ACTIVE_WINDOW

    @classmethod
    def not_yet(cls) -> bool:
        return cls.started_at is None


class PartnerIngest(HttpUser):
    fixed_count = int(os.environ.get("LOAD_INGEST_USERS", "2"))
    wait_time = between(0.5, 2)
    instances = 0

    def on_start(self) -> None:
        large = workspaces("large")[0]
        self.client.headers["Authorization"] = f"Bearer {large['key']}"
        # Each ingest user owns a slice of the accounts: two feeds never write the same rows at once.
        slot = PartnerIngest.instances
        PartnerIngest.instances += 1
        self.feed = large["feed"][slot % self.fixed_count :: max(self.fixed_count, 1)]
        self.prefix = f"ld{uuid.uuid4().hex[:6]}"
        self.created = 0
        self.today = time.strftime("%Y-%m-%d")
        # The quiet start: CSMs only (gevent's sleep; the other users keep running).
        time.sleep(max(0.0, TEST_START + QUIET_SECONDS - time.monotonic()))
        if IngestState.started_at is None:
            IngestState.started_at = time.monotonic()

    # -- helpers

    def post(self, path: str, name: str, payload, expect, method: str = "POST", key: str | None = None):
        headers = {"Idempotency-Key": key} if key else {}
        IngestState.in_flight += 1
        try:
            with self.client.request(
                method, path, json=payload, headers=headers, name=name, catch_response=True
            ) as response:
                error = expect(response)
                if error:
                    response.failure(error)
                else:
                    response.success()
                return response, error
        finally:
            IngestState.in_flight -= 1
            IngestState.last_end = time.monotonic()

    def maybe_key(self) -> str | None:
        return f"load-{uuid.uuid4()}" if random.random() < 0.3 else None

    def write(self, path: str, name: str, payload, expect, method: str = "POST") -> None:
        """A write, sometimes with an Idempotency-Key; now and then retried with the same key, as
        a client does after a timeout: the retry must be answered from the stored response."""
        key = self.maybe_key()
        response, error = self.post(path, name, payload, expect, method, key)
        if key and not error and random.random() < 0.25:
            self.post(path, f"{name} (idempotent retry)", payload, replayed(response), method, key)

    # -- tasks

    @task(4)
    def bulk_daily_usage(self) -> None:
        accounts = random.sample(self.feed, 75)
        day = (
            self.today
            if random.random() < 0.7
            else time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        )
        records = [
            {
                "account_external_id": ext,
                "feature": feature,
                "day": day,
                "events": random.randint(1, 400),
                "duration_seconds": random.randint(60, 20_000),
            }
            for ext, _, _ in accounts
            for feature in FEATURES
        ]
        self.write(
            "/api/v1/daily-usage/bulk", "[api] POST daily-usage/bulk (300)", {"records": records}, bulk_ok
        )

    @task(2)
    def bulk_accounts(self) -> None:
        n = random.randint(200, 400)
        records = []
        for ext, name, mrr in random.sample(self.feed, n - 10):
            change = random.choice((0, 0, 10, 50, -10, -50))
            records.append({"external_id": ext, "name": name, "mrr": f"{max(float(mrr) + change, 0):.2f}"})
        for _ in range(10):  # and a few new customers
            self.created += 1
            records.append(
                {
                    "external_id": f"{self.prefix}-{self.created}",
                    "name": f"Load new {self.prefix} {self.created}",
                    "plan": "Growth",
                    "mrr": "500.00",
                }
            )
        self.write(
            "/api/v1/accounts/bulk", "[api] POST accounts/bulk (200-400)", {"records": records}, bulk_ok
        )

    @task(3)
    def single_account(self) -> None:
        ext, name, mrr = random.choice(self.feed)
        payload = {"name": name, "mrr": f"{float(mrr) + random.choice((0, 10, -10)):.2f}"}
        self.write(f"/api/v1/accounts/{ext}", "[api] PUT accounts/{external_id}", payload, single_ok, "PUT")

    @task(3)
    def single_usage(self) -> None:
        ext, _, _ = random.choice(self.feed)
        payload = {
            "account_external_id": ext,
            "feature": random.choice(FEATURES),
            "day": self.today,
            "events": random.randint(1, 400),
            "duration_seconds": random.randint(60, 20_000),
        }
        self.write("/api/v1/daily-usage", "[api] POST daily-usage", payload, single_ok)

    @task(1)
    def single_touchpoint(self) -> None:
        ext, _, _ = random.choice(self.feed)
        self.created += 1
        payload = {
            "external_id": f"{self.prefix}-tp-{self.created}",
            "account_external_id": ext,
            "kind": "call",
            "subject": "Load test check-in",
            "sentiment": random.choice(("positive", "neutral", "negative")),
        }
        self.write("/api/v1/touchpoints", "[api] POST touchpoints", payload, single_ok)


def bulk_ok(response) -> str | None:
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    try:
        summary = response.json()["summary"]
    except (ValueError, KeyError):
        return "no summary in the bulk answer"
    if summary.get("error"):
        return f"{summary['error']} record(s) refused: {response.text[:300]}"
    written = summary.get("created", 0) + summary.get("updated", 0) + summary.get("unchanged", 0)
    with IngestState.lock:
        IngestState.records += written
    return None


def single_ok(response) -> str | None:
    if response.status_code not in (200, 201):
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if response.headers.get("X-Outcome") not in ("created", "updated", "unchanged"):
        return "no X-Outcome header"
    with IngestState.lock:
        IngestState.records += 1
    return None


def replayed(first):
    def check(response) -> str | None:
        if response.status_code != first.status_code:
            return f"retry answered HTTP {response.status_code}, first {first.status_code}"
        if response.headers.get("Idempotent-Replayed") != "true":
            return "retry with the same Idempotency-Key was not replayed"
        return None

    return check


# --- CSMs ------------------------------------------------------------------------------------------

ACCOUNT_FILTERS = (
    "?status=active&health_band=red&sort=-mrr",
    "?mine=true&sort=renewal",
    "?status=active&renewal_within=90&sort=renewal",
    "?health_band=yellow&sort=-health",
    "?q=Summit",
    "?status=active&sort=-mrr&page=2",
    "",
)
PAGE_MARKERS = {
    "dashboard": "<title>Dashboard ·",
    "account list": 'id="account-results"',
    "account page": 'id="account-timeline"',
    "alerts inbox": 'id="alert-results"',
    "tasks": 'id="task-results"',
}


class CSM(HttpUser):
    abstract = True
    size = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.workspace = random.choice(workspaces(self.size))
        self.base = f"/w/{self.workspace['slug']}"
        self.email = random.choice(self.workspace["csms"])
        self.account_ids: list[str] = []
        self.login()

    def login(self) -> None:
        name = f"[{self.size}] login"
        with self.client.get("/login/", name=f"{name} form", catch_response=True) as response:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
            if response.status_code != 200 or not token:
                response.failure(f"no login form (HTTP {response.status_code})")
                return
        with self.client.post(
            "/login/",
            data={
                "username": self.email,
                "password": CONFIG["password"],
                "csrfmiddlewaretoken": token.group(1),
                "next": "",
            },
            name=name,
            catch_response=True,
        ) as response:
            # Logged in: redirected to the workspace's dashboard.
            if response.status_code != 200 or PAGE_MARKERS["dashboard"] not in response.text:
                response.failure(
                    f"login did not reach the dashboard (HTTP {response.status_code}, {response.url})"
                )

    def page(self, label: str, url: str, marker: str, **kwargs):
        with self.client.get(url, name=f"[{self.size}] {label}", catch_response=True, **kwargs) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif "/login/" in response.url:
                response.failure("sent to the login page")
            elif marker not in response.text:
                response.failure(f"200 without {marker!r}")
            return response

    @task(2)
    def dashboard(self) -> None:
        self.page("dashboard", f"{self.base}/", PAGE_MARKERS["dashboard"])

    @task(4)
    def account_list(self) -> None:
        query = random.choice(ACCOUNT_FILTERS)
        response = self.page(
            "account list (filters)", f"{self.base}/accounts/{query}", PAGE_MARKERS["account list"]
        )
        ids = ACCOUNT_LINK.findall(response.text or "")
        if ids:
            self.account_ids = ids

    @task(3)
    def account_page(self) -> None:
        if not self.account_ids:
            self.account_list()
        if not self.account_ids:
            return
        pk = random.choice(self.account_ids)
        self.page("account page", f"{self.base}/accounts/{pk}/", PAGE_MARKERS["account page"])
        # The page loads its timeline right after it (htmx).
        self.page(
            "account timeline",
            f"{self.base}/accounts/{pk}/timeline/?embedded=1",
            "list-group-item",
            headers={"HX-Request": "true"},
        )

    @task(2)
    def alerts_inbox(self) -> None:
        query = random.choice(("", "?mine=true", "?severity=high"))
        self.page("alerts inbox", f"{self.base}/alerts/{query}", PAGE_MARKERS["alerts inbox"])

    @task(1)
    def my_tasks(self) -> None:
        self.page("tasks", f"{self.base}/tasks/", PAGE_MARKERS["tasks"])


class LargeCSM(CSM):
    size = "large"
    weight = 1


class SmallCSM(CSM):
    size = "small"
    weight = 1


# --- Extra figures -----------------------------------------------------------------------------------

TEST_START = time.monotonic()
SPAWNED = False  # every user started (and so logged in, or logging in): the baseline counts from here
# CSM pages (logins aside) by workspace size: before the feed started, and while it wrote.
PAGES: dict[tuple[str, str], StatsEntry] = {}


@events.init.add_listener
def on_init(environment, **kwargs) -> None:
    for size in ("large", "small"):
        for phase in ("before_ingest", "while_ingesting"):
            PAGES[size, phase] = StatsEntry(environment.stats, f"[{size}] pages {phase}", "GET")


@events.test_start.add_listener
def on_test_start(environment, **kwargs) -> None:
    global TEST_START
    TEST_START = time.monotonic()


@events.spawning_complete.add_listener
def on_spawning_complete(user_count, **kwargs) -> None:
    global SPAWNED
    SPAWNED = True


@events.test_stop.add_listener
def on_test_stop(environment, **kwargs) -> None:
    IngestState.stopped_at = time.monotonic()


@events.request.add_listener
def on_request(name, response_time, response_length, exception, **kwargs) -> None:
    if exception is not None or "login" in name or not name.startswith("[") or name.startswith("[api]"):
        return
    size = name[1 : name.index("]")]
    if IngestState.not_yet():
        if not SPAWNED:
            return
        phase = "before_ingest"
    elif IngestState.active():
        phase = "while_ingesting"
    else:
        return
    PAGES[size, phase].log(response_time, response_length or 0)


@events.quitting.add_listener
def on_quitting(environment, **kwargs) -> None:
    path = os.environ.get("LOAD_EXTRA_STATS")
    if not path:
        return
    end = IngestState.stopped_at or time.monotonic()
    figures = {
        "ingested_records": IngestState.records,
        "ingest_seconds": (end - IngestState.started_at) if IngestState.started_at else 0,
        "quiet_seconds": QUIET_SECONDS,
    }
    for (size, phase), entry in PAGES.items():
        figures[f"{size}_pages_{phase}"] = {
            "requests": entry.num_requests,
            **{f"p{int(q * 100)}": entry.get_response_time_percentile(q) for q in (0.5, 0.95, 0.99)},
        }
    with open(path, "w") as out:
        json.dump(figures, out, indent=2)
