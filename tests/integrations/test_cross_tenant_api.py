"""A key of workspace B reaches nothing of workspace A, under every method, and cannot attach
records to A's accounts or contacts by guessing their external ids."""

from __future__ import annotations

import pytest

from tests.support import snapshot

from .samples import a_alert, a_health_score, a_task

pytestmark = pytest.mark.django_db(transaction=True)

A_OBJECTS = {
    "accounts": "qk-ext-7731",
    "contacts": "qk-contact-1",
    "invoices": "qk-inv-42",
    "tickets": "qk-ticket-9",
    "nps-responses": "qk-nps-1",
    "touchpoints": "qk-tp-1",
}


@pytest.mark.parametrize("path", sorted(A_OBJECTS))
def test_objects_of_a_are_404_for_b(api_b, two_workspaces, path):
    tw = two_workspaces
    before = snapshot(tw.a)
    url = f"{path}/{A_OBJECTS[path]}"
    assert api_b.get(url).status_code == 404
    for method in ("PATCH", "DELETE"):
        assert api_b.request(method, url, json={}).status_code in (404, 405)
    listing = api_b.get(path)
    assert listing.status_code == 200
    assert not tw.leaks(listing.content)
    assert not tw.leaks(api_b.get(path, params={"q": "quokka"}).content)
    assert snapshot(tw.a) == before


def read_only_objects(tw) -> dict[str, str]:
    """A's objects of the read-only resources, by the path that addresses each."""
    return {
        "health": tw.sample.account.external_id,
        "health-history": str(a_health_score(tw).pk),
        "alerts": str(a_alert(tw).pk),
        "tasks": str(a_task(tw).pk),
        "tiers": str(tw.sample.tier.pk),
        "stages": tw.sample.stage.key,
    }


def test_read_only_objects_of_a_are_404_for_b_and_unwritable(api_a, api_b, two_workspaces):
    tw = two_workspaces
    objects = read_only_objects(tw)
    for path, ident in objects.items():
        assert api_a.get(f"{path}/{ident}").status_code == 200, path  # the sample is real
        assert tw.leaks(api_a.get(path).content), path
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            for url in (path, f"{path}/{ident}"):
                assert api_a.request(method, url, json={}).status_code == 405, (method, url)
    before = snapshot(tw.a)
    for path, ident in objects.items():
        assert api_b.get(f"{path}/{ident}").status_code == 404, path
        listing = api_b.get(path, params={"account_external_id": "qk-ext-7731", "q": "quokka"})
        assert listing.status_code == 200, (path, listing.text)
        assert not tw.leaks(listing.content), path
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            for url in (path, f"{path}/{ident}"):
                assert api_b.request(method, url, json={}).status_code == 405, (method, url)
    assert snapshot(tw.a) == before


REFERENCING = {
    "contacts": {"external_id": "probe"},
    "invoices": {"external_id": "probe", "amount": "1", "issued_on": "2026-01-01", "due_on": "2026-01-02"},
    "tickets": {"external_id": "probe", "opened_at": "2026-01-01T00:00:00Z"},
    "nps-responses": {"external_id": "probe", "score": 0, "responded_at": "2026-01-01T00:00:00Z"},
    "touchpoints": {"external_id": "probe"},
    "csm-scores": {"external_id": "probe", "score": 1},
    "daily-usage": {"feature": "probe", "day": "2026-01-01", "events": 1},
    "usage-events": {"feature": "probe", "occurred_at": "2026-01-01T00:00:00Z"},
}


@pytest.mark.parametrize("path", sorted(REFERENCING))
def test_b_cannot_attach_records_to_a_by_guessing_ids(api_b, two_workspaces, path):
    tw = two_workspaces
    before = snapshot(tw.a)
    record = {**REFERENCING[path], "account_external_id": "qk-ext-7731"}
    for response in (
        api_b.post(path, json=record),
        api_b.post(f"{path}/bulk", json={"records": [record]}),
        api_b.post(f"{path}/bulk", params={"atomic": "1"}, json={"records": [record]}),
    ):
        assert response.status_code in (200, 422), response.text
        pointers = [e["pointer"] for e in response.json().get("errors", [])] + [
            e["pointer"] for r in response.json().get("results", []) for e in r.get("errors", [])
        ]
        assert any(p.endswith("/account_external_id") for p in pointers), response.text
        assert "does not exist" not in response.text or "No account" in response.text
    if "contact_external_id" in api_b.get(path).text or path in (
        "tickets",
        "nps-responses",
        "daily-usage",
        "usage-events",
    ):
        own = {**REFERENCING[path], "account_external_id": "wb-ext-1", "contact_external_id": "qk-contact-1"}
        response = api_b.post(path, json=own)
        assert response.status_code == 422
        assert "/contact_external_id" in {e["pointer"] for e in response.json()["errors"]}
    assert snapshot(tw.a) == before


def test_b_writing_the_same_external_id_creates_its_own_record(api_b, two_workspaces):
    tw = two_workspaces
    before = snapshot(tw.a)
    response = api_b.put("accounts/qk-ext-7731", json={"name": "B's own", "mrr": "1.00"})
    assert response.status_code == 201
    assert not [s for s in tw.leaks(response.content) if s != "qk-ext-7731"]
    assert snapshot(tw.a) == before


def test_backtests_of_a_are_invisible_to_b(api_a, api_b, two_workspaces):
    from health.defaults import DEFAULT_DEFINITION, save_version
    from health.models import BacktestRun, Scorecard
    from tenancy.context import use_workspace

    tw = two_workspaces
    with use_workspace(tw.a):
        card = Scorecard.objects.create(name="Quokka churn scorecard")
        version = save_version(card, DEFAULT_DEFINITION)
        BacktestRun.objects.create(
            scorecard=card, scorecard_version=version, definition=DEFAULT_DEFINITION,
            as_of_dates=["2026-01-01"], horizon_days=90, status="succeeded", results={"pooled": {"auc": 0.7}},
        )  # fmt: skip
    tw.strings_of_a.append(card.name)
    assert tw.leaks(api_a.get(f"backtests/{card.pk}").content)  # A's own key sees it
    before = snapshot(tw.a)
    assert api_b.get(f"backtests/{card.pk}").status_code == 404
    listing = api_b.get("backtests")
    assert listing.status_code == 200 and listing.json()["results"] == []
    assert not tw.leaks(listing.content)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = api_b.request(method, f"backtests/{card.pk}", json={})
        assert response.status_code in (404, 405) and not tw.leaks(response.content)
    assert snapshot(tw.a) == before
