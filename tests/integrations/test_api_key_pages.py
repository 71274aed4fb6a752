"""The API keys settings page: admins create (shown once) and revoke keys; others only read."""

from __future__ import annotations

import pytest

from tenancy.context import use_workspace
from tenancy.models import ApiKey

from ..support import wurl


def shown_key(html: str) -> str:
    return html.split('id="new-api-key"')[1].split('value="')[1].split('"')[0]


@pytest.fixture
def tw(two_workspaces):
    return two_workspaces


def test_admin_creates_a_key_and_sees_it_exactly_once(client, tw):
    client.force_login(tw.a_admin)
    response = client.post(
        wurl(tw.a, "workspace_settings:api_key_create"), {"name": "Billing sync", "scopes": ["read", "write"]}
    )
    assert response.status_code == 302
    assert response["Location"] == wurl(tw.a, "workspace_settings:api_key_created")
    with use_workspace(tw.a):
        key = ApiKey.objects.get(name="Billing sync")
    assert key.scopes == ["read", "write"]
    assert key.created_by == tw.a_admin

    shown = client.get(response["Location"])
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"] or "no-cache" in shown["Cache-Control"]
    text = shown.content.decode()
    plaintext = shown_key(text)
    assert plaintext.startswith(f"csp_{key.prefix}_")
    assert ApiKey.hash_secret(plaintext.split("_", 2)[2]) == key.secret_hash

    again = client.get(response["Location"])
    assert again.status_code == 200
    assert plaintext not in again.content.decode()
    listing = client.get(wurl(tw.a, "workspace_settings:home")).content.decode()
    assert plaintext not in listing
    assert f"csp_{key.prefix}_" in listing
    assert "Billing sync" in listing


def test_the_key_works_against_the_api(client, tw):
    client.force_login(tw.a_admin)
    client.post(wurl(tw.a, "workspace_settings:api_key_create"), {"name": "Reader", "scopes": ["read"]})
    text = client.get(wurl(tw.a, "workspace_settings:api_key_created")).content.decode()
    plaintext = shown_key(text)
    client.logout()
    response = client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 200
    assert tw.sample.account.external_id in response.content.decode()


def test_a_key_needs_a_name_and_a_scope(client, tw):
    client.force_login(tw.a_admin)
    response = client.post(wurl(tw.a, "workspace_settings:api_key_create"), {"name": "", "scopes": []})
    assert response.status_code == 400
    with use_workspace(tw.a):
        assert not ApiKey.objects.exists()
    response = client.post(
        wurl(tw.a, "workspace_settings:api_key_create"), {"name": "x", "scopes": ["admin"]}
    )
    assert response.status_code == 400


def test_admin_revokes_after_confirming(client, tw):
    with use_workspace(tw.a):
        key, plaintext = ApiKey.issue("Help desk", ["read"])
    client.force_login(tw.a_admin)
    url = wurl(tw.a, "workspace_settings:api_key_revoke", pk=key.pk)
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Help desk" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None  # GET only asks

    assert client.post(url).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert client.get(url).status_code == 404  # already revoked
    response = client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("role", ["a_csm", "a_viewer"])
def test_csms_and_viewers_read_the_list_but_cannot_change_it(client, tw, role):
    with use_workspace(tw.a):
        key, _ = ApiKey.issue("Product analytics", ["read", "write"])
    client.force_login(getattr(tw, role))
    listing = client.get(wurl(tw.a, "workspace_settings:home"))
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "Product analytics" in text
    assert "New API key" not in text
    assert "Revoke" not in text
    create = wurl(tw.a, "workspace_settings:api_key_create")
    assert client.get(create).status_code == 403
    assert client.post(create, {"name": "Sneaky", "scopes": ["write"]}).status_code == 403
    revoke = wurl(tw.a, "workspace_settings:api_key_revoke", pk=key.pk)
    assert client.post(revoke).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    with use_workspace(tw.a):
        assert ApiKey.objects.count() == 1
