"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

Each test process seeds the demo once (`demo_workspace`, package scope) and empties the database
when its last browser test is done, so the suites that run after it in the same process start
from an empty database as usual. Between browser tests the data stays: pytest-django's
`transactional_db`, which the live server asks for, is overridden below so that it does not
flush after every test. Tests that change data (a saved list, a default view) do it as a user
no other browser test logs in as.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD
from tenancy.models import Workspace

from .demo_data import seed_browser_demo

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
INSTALL_HINT = (
    "The browser tests drive Debian's Chromium. Install it with `sudo apt-get install -y chromium` "
    "(bin/test and .ci/run do this themselves when run as root), or point CHROMIUM_PATH at a "
    "Chromium binary."
)
# Playwright answers within this many milliseconds or the test fails (the server is local).
TIMEOUT_MS = 15_000


def chromium_path() -> str:
    found = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    if not found or not os.access(found, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}. {INSTALL_HINT}", pytrace=False)
    return found


@pytest.fixture(scope="package", autouse=True)
def _chromium_installed() -> str:
    """Checked before anything else, so a machine without Chromium fails fast and says why."""
    return chromium_path()


@pytest.fixture(scope="package")
def demo_workspace(django_db_setup, django_db_blocker) -> Iterator[Workspace]:
    with django_db_blocker.unblock():
        workspace = seed_browser_demo()
    yield workspace
    with django_db_blocker.unblock():
        # What pytest-django does after a transactional test, once for the whole package (ids
        # keep counting up, as they do after every other test).
        call_command("flush", verbosity=0, interactive=False, reset_sequences=False)


@pytest.fixture
def transactional_db(demo_workspace, django_db_blocker) -> Iterator[None]:
    """Overrides pytest-django's fixture of that name for this package only: the test and the live
    server share the committed demo, which must survive from one test to the next."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="package")
def browser(_chromium_installed):
    path = _chromium_installed
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: bin/test installs it (pip install -e '.[dev]').", pytrace=False)
    # Playwright's synchronous API runs an event loop in this thread; Django refuses ORM calls
    # from a thread with a running loop unless told that this one is synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def new_context(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    return context


@contextmanager
def watched(page) -> Iterator:
    """The page, failing the test on any JavaScript error or console error it reports."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    assert not errors, f"JavaScript errors in the browser: {errors}"


@pytest.fixture
def page(browser, live_server):
    """A fresh browser window (no cookies) at 1280 × 900."""
    context = new_context(browser, live_server)
    try:
        with watched(context.new_page()) as tab:
            yield tab
    finally:
        context.close()


def log_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


@pytest.fixture(scope="package")
def _signed_in_contexts(browser) -> Iterator[dict]:
    contexts: dict = {}
    yield contexts
    for context in contexts.values():
        context.close()


@pytest.fixture
def signed_in(_signed_in_contexts, browser, live_server):
    """`signed_in(email)`: a new tab of that demo user, who logs in once per package. Tests that
    only read share the session and the browser's cache of the static files."""
    tabs = []

    def open_tab(email: str):
        context = _signed_in_contexts.get(email)
        if context is None:
            context = _signed_in_contexts[email] = new_context(browser, live_server)
            first = context.new_page()
            log_in(first, email)
            first.close()
        tab = context.new_page()
        tabs.append(tab)
        return stack.enter_context(watched(tab))

    with ExitStack() as stack:
        yield open_tab
    for tab in tabs:
        tab.close()


@pytest.fixture
def csm_page(signed_in):
    """A new tab of Casey, a CSM of Acme, signed in."""
    return signed_in("csm@acme.test")
