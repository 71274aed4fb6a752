"""Web hardening: CSRF on every form, a strict Content-Security-Policy with no inline script on
any page, login throttling that does not reveal which emails exist, and a clean deploy check."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from ..support import snapshot
from .test_cross_tenant_sweep import POST_PAYLOADS, SAMPLES, TENANT_ROUTES
from .test_cross_tenant_sweep import world as world  # the fixture

ROOT = Path(__file__).resolve().parents[2]
PAGE_ROUTES = [r for r in TENANT_ROUTES if r.kind == "page"]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)


@pytest.mark.django_db
def test_every_form_refuses_a_post_without_a_csrf_token(world):
    tw = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(tw.a_admin)
    forms = [
        (route, reverse(route.name, kwargs={"workspace_slug": tw.a.slug, **SAMPLES[route.name](tw)}))
        for route in PAGE_ROUTES
        if route.accepts_post
    ]
    before = snapshot(tw.a)
    checked = []
    for route, url in forms:
        response = client.post(url, POST_PAYLOADS[route.name](tw))
        assert response.status_code == 403, f"POST {url} without a CSRF token: {response.status_code}"
        checked.append(route.key)
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post(reverse("login"), {"username": "x@y.z", "password": "p"}).status_code == 403
    assert snapshot(tw.a) == before
    assert len(checked) >= 20, checked  # the sweep's registry really was walked


@pytest.mark.django_db
def test_no_page_carries_inline_script_and_every_page_sends_the_policy(client, world):
    tw = world
    client.force_login(tw.a_admin)
    pages = 0
    for route in PAGE_ROUTES:
        if not route.accepts_get:
            continue
        url = reverse(route.name, kwargs={"workspace_slug": tw.a.slug, **SAMPLES[route.name](tw)})
        response = client.get(url, follow=True)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        pages += 1
        policy = response["Content-Security-Policy"]
        assert (
            "script-src 'self';" in policy + ";"
            and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
        )
        assert "frame-ancestors 'none'" in policy
        body = response.content.decode()
        for attrs, content in SCRIPT_TAG.findall(body):
            executable = "application/json" not in attrs
            assert not (executable and content.strip()), f"{url}: inline script {content.strip()[:80]!r}"
        assert not re.search(r"\son[a-z]+=\"", body), f"{url}: inline event handler"
    assert pages >= 20


@pytest.mark.django_db
def test_login_throttling_treats_known_and_unknown_emails_alike(client, settings, two_workspaces):
    from django.conf import settings as live

    limit = live.AXES_FAILURE_LIMIT
    url = reverse("login")
    known, unknown = two_workspaces.a_csm.email, "nobody-here@example.com"
    outcomes = {}
    for email in (known, unknown):
        seen = []
        for _ in range(limit + 1):
            response = client.post(url, {"username": email, "password": "wrong-password"})
            seen.append(
                (
                    response.status_code,
                    "enter a correct email address and password" in response.content.decode(),
                )
            )
        outcomes[email] = seen
    assert outcomes[known] == outcomes[unknown]
    assert outcomes[known][0] == (200, True)
    assert outcomes[known][-1][0] == 429
    # Locked out: even the right password is refused until the cool-off ends.
    two_workspaces.a_csm.set_password("the-right-one-123")
    two_workspaces.a_csm.save()
    response = client.post(url, {"username": known, "password": "the-right-one-123"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    # Another email from the same address is not locked by those failures.
    other = two_workspaces.b_csm
    other.set_password("another-right-one-123")
    other.save()
    response = client.post(url, {"username": other.email, "password": "another-right-one-123"})
    assert response.status_code == 302


def test_the_deploy_check_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "cs.example.com",
        "SECURE_SSL_REDIRECT": "true",
        "VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
