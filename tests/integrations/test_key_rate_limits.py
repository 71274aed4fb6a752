"""Per-key request rates: an admin sets one on the key's settings page; the API counts that
key against it (others keep the default), with the RateLimit-* headers saying so."""

from __future__ import annotations

import pytest
from django.test import override_settings

from integrations.models import ApiKeyRateLimit
from tenancy.context import use_workspace
from tenancy.models import ApiKey
from tests.support import wurl

from .conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)


def key_of(token: str) -> ApiKey:
    return ApiKey.all_workspaces.get(prefix=token.split("_")[1])


def test_an_admin_gives_a_key_its_own_rate_and_the_api_applies_it(
    client, two_workspaces, keys, api_a, live_server
):
    tw = two_workspaces
    key = key_of(keys.a)
    client.force_login(tw.a_admin)
    url = wurl(tw.a, "integrations:api_key_rate", pk=key.pk)
    assert client.get(url).status_code == 200
    assert client.post(url, {"requests_per_minute": "2"}).status_code == 302
    with override_settings(API_RATE_LIMIT=100):
        answers = [api_a.get("accounts") for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert {r.headers["RateLimit-Limit"] for r in answers} == {"2"}
        assert answers[2].headers["Content-Type"] == "application/problem+json"
        assert "Over 2 requests a minute" in answers[2].json()["detail"]
        reader = Api(live_server.url, keys.a_read)
        assert reader.get("accounts").headers["RateLimit-Limit"] == "100"  # the default, per key
    # Emptying the field returns the key to the default.
    assert client.post(url, {"requests_per_minute": ""}).status_code == 302
    with use_workspace(tw.a):
        assert not ApiKeyRateLimit.objects.exists()


@pytest.mark.parametrize("value", ["0", "-1", "abc", "99999999"])
def test_a_bad_rate_is_explained(client, two_workspaces, keys, value):
    tw = two_workspaces
    client.force_login(tw.a_admin)
    response = client.post(
        wurl(tw.a, "integrations:api_key_rate", pk=key_of(keys.a).pk), {"requests_per_minute": value}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["requests_per_minute"]
    with use_workspace(tw.a):
        assert not ApiKeyRateLimit.objects.exists()


def test_only_admins_set_rates_and_only_for_their_own_keys(client, two_workspaces, keys):
    tw = two_workspaces
    a_key = key_of(keys.a)
    for user in (tw.a_csm, tw.a_viewer):
        client.force_login(user)
        url = wurl(tw.a, "integrations:api_key_rate", pk=a_key.pk)
        assert client.post(url, {"requests_per_minute": "5"}).status_code == 403
    client.force_login(tw.b_admin)
    assert (
        client.post(
            wurl(tw.b, "integrations:api_key_rate", pk=a_key.pk), {"requests_per_minute": "5"}
        ).status_code
        == 404
    )
    with use_workspace(tw.a):
        assert not ApiKeyRateLimit.objects.exists()
