"""Every "bad input" case of the API gets a precise problem response, and nothing is half-written."""

from __future__ import annotations

import pytest

from accounts.models import Account, NPSResponse
from tenancy.context import use_workspace
from tenancy.models import ApiKey

from .conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)

PROBLEM = "application/problem+json"


def errors_of(response) -> dict[str, str]:
    assert response.headers["Content-Type"] == PROBLEM, response.text
    body = response.json()
    assert body["status"] == response.status_code
    assert body["title"] and body["detail"]
    return {e["pointer"]: e["detail"] for e in body.get("errors", [])}


@pytest.mark.parametrize(
    ("path", "record", "pointer", "words"),
    [
        ("accounts", {"external_id": "x", "name": 12}, "/name", "string"),
        ("accounts", {"external_id": "x", "name": "X", "mrr": "lots"}, "/mrr", "number"),
        ("accounts", {"external_id": "x", "name": "X", "colour": "red"}, "/colour", "Unknown field"),
        ("accounts", {"name": "No id"}, "/external_id", "required"),
        ("accounts", {"external_id": "x", "name": "X", "mrr": "-5"}, "/mrr", "greater than or equal to 0"),
        (
            "accounts",
            {"external_id": "x", "name": "X", "renewal_date": "03/04/2027"},
            "/renewal_date",
            "YYYY-MM-DD",
        ),
        (
            "nps-responses",
            {
                "external_id": "n",
                "account_external_id": "qk-ext-7731",
                "score": 11,
                "responded_at": "2026-11-01T00:00:00Z",
            },
            "/score",
            "less than or equal to 10",
        ),
        (
            "touchpoints",
            {"external_id": "t", "account_external_id": "no-such-account"},
            "/account_external_id",
            "No account",
        ),
        (
            "invoices",
            {
                "external_id": "i",
                "account_external_id": "qk-ext-7731",
                "amount": "1",
                "issued_on": "2026-10-10",
                "due_on": "2026-10-01",
            },
            "/due_on",
            "before",
        ),
    ],
    ids=[
        "wrong-type",
        "not-a-number",
        "unknown-field",
        "missing-external-id",
        "negative-mrr",
        "date-format",
        "nps-11",
        "unknown-account",
        "due-before-issue",
    ],
)
def test_invalid_record_gets_422_with_a_pointer(api_a, two_workspaces, path, record, pointer, words):
    with use_workspace(two_workspaces.a):
        before = (Account.objects.count(), NPSResponse.objects.count())
    response = api_a.post(path, json=record)
    assert response.status_code == 422, response.text
    errors = errors_of(response)
    assert pointer in errors, errors
    assert words.lower() in errors[pointer].lower()
    with use_workspace(two_workspaces.a):
        assert (Account.objects.count(), NPSResponse.objects.count()) == before


def test_malformed_json_is_400(api_a):
    response = api_a.post(
        "accounts", data=b'{"external_id": "x",', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON" in errors_of(response) or "JSON" in response.json()["detail"]


def test_wrong_content_type_is_415(api_a):
    response = api_a.post(
        "accounts", data="external_id=x&name=X", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415
    errors_of(response)


def test_body_that_is_not_an_object_is_422(api_a):
    response = api_a.post("accounts", json=["not", "an", "object"])
    assert response.status_code == 422
    assert "" in errors_of(response)


def test_put_with_a_different_external_id_in_the_body_is_422(api_a):
    response = api_a.put("accounts/one", json={"external_id": "two", "name": "X"})
    assert response.status_code == 422
    assert "/external_id" in errors_of(response)


def test_missing_malformed_and_revoked_keys_are_401(live_server, keys, two_workspaces):
    for token in (None, "not-a-key", "csp_deadbeef_nope"):
        api = Api(live_server.url, token or "")
        if token is None:
            del api.session.headers["Authorization"]
        response = api.get("accounts")
        assert response.status_code == 401, token
        errors_of(response)
    with use_workspace(two_workspaces.a):
        ApiKey.objects.filter(name="A sync").update(revoked_at="2026-01-01T00:00:00Z")
    response = Api(live_server.url, keys.a).get("accounts")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_read_only_key_cannot_write(live_server, keys, two_workspaces):
    api = Api(live_server.url, keys.a_read)
    assert api.get("accounts").status_code == 200
    for response in (
        api.post("accounts", json={"external_id": "r", "name": "R"}),
        api.put("accounts/r", json={"name": "R"}),
        api.post("accounts/bulk", json={"records": [{"external_id": "r", "name": "R"}]}),
    ):
        assert response.status_code == 403
        assert "scope" in errors_of(response) or "scope" in response.json()["detail"]
    with use_workspace(two_workspaces.a):
        assert not Account.objects.filter(external_id="r").exists()


def test_unsupported_methods_are_405(api_a):
    response = api_a.request("DELETE", "accounts/qk-ext-7731")
    assert response.status_code == 405
    errors_of(response)
