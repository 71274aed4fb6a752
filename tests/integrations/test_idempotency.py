"""Idempotency-Key: the first response is replayed for 24 h; reuse with another body is 422;
a retry while the first is in flight is 409."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Account, MRRMovement
from integrations.models import IdempotencyRecord
from tenancy.context import use_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_retry_replays_the_first_response(api_a, two_workspaces):
    tw = two_workspaces
    headers = {"Idempotency-Key": "k-1"}
    record = {"external_id": "idem-1", "name": "Idem", "mrr": "10.00"}
    first = api_a.post("accounts", json=record, headers=headers)
    assert first.status_code == 201
    with use_workspace(tw.a):
        Account.objects.filter(external_id="idem-1").update(name="Changed since")
    retry = api_a.post("accounts", json=record, headers=headers)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    with use_workspace(tw.a):
        assert Account.objects.get(external_id="idem-1").name == "Changed since"  # not written again
        assert MRRMovement.objects.filter(account__external_id="idem-1").count() == 1


def test_bulk_retry_is_replayed_and_errors_too(api_a):
    headers = {"Idempotency-Key": "batch-7"}
    body = {"records": [{"external_id": "ib-1", "name": "A"}, {"external_id": "ib-2", "mrr": "-1"}]}
    first = api_a.post("accounts/bulk", json=body, headers=headers)
    retry = api_a.post("accounts/bulk", json=body, headers=headers)
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    bad = api_a.post("accounts", json={"name": 5}, headers={"Idempotency-Key": "bad-1"})
    again = api_a.post("accounts", json={"name": 5}, headers={"Idempotency-Key": "bad-1"})
    assert bad.status_code == again.status_code == 422
    assert again.headers["Content-Type"] == "application/problem+json"


def test_same_key_different_body_is_422(api_a):
    headers = {"Idempotency-Key": "k-2"}
    assert api_a.post("accounts", json={"external_id": "i2", "name": "A"}, headers=headers).status_code == 201
    response = api_a.post("accounts", json={"external_id": "i2", "name": "B"}, headers=headers)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "different request" in response.json()["detail"]
    other_path = api_a.put("accounts/i2", json={"external_id": "i2", "name": "A"}, headers=headers)
    assert other_path.status_code == 422


def test_a_retry_while_the_first_is_in_flight_is_409(api_a, two_workspaces):
    body = b'{"external_id": "i3", "name": "A"}'
    from integrations.idempotency import fingerprint

    with use_workspace(two_workspaces.a):
        IdempotencyRecord.objects.create(
            key="k-3",
            fingerprint=fingerprint("POST", "/api/v1/accounts", body),
            expires_at=timezone.now() + dt.timedelta(hours=24),
        )
    response = api_a.post(
        "accounts", data=body, headers={"Idempotency-Key": "k-3", "Content-Type": "application/json"}
    )
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    with use_workspace(two_workspaces.a):
        assert not Account.objects.filter(external_id="i3").exists()


def test_keys_are_per_workspace_and_expire(api_a, api_b, two_workspaces):
    headers = {"Idempotency-Key": "shared"}
    assert api_a.post("accounts", json={"external_id": "s", "name": "A"}, headers=headers).status_code == 201
    b = api_b.post("accounts", json={"external_id": "s", "name": "B's"}, headers=headers)
    assert b.status_code == 201 and "Idempotent-Replayed" not in b.headers
    with use_workspace(two_workspaces.a):
        IdempotencyRecord.objects.filter(key="shared").update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
    later = api_a.post("accounts", json={"external_id": "s", "name": "Renamed"}, headers=headers)
    assert later.status_code == 200 and "Idempotent-Replayed" not in later.headers


def test_reads_ignore_the_header_and_long_keys_are_refused(api_a):
    assert api_a.get("accounts", headers={"Idempotency-Key": "r"}).status_code == 200
    response = api_a.post(
        "accounts", json={"external_id": "l", "name": "L"}, headers={"Idempotency-Key": "x" * 256}
    )
    assert response.status_code == 400


def test_a_concurrent_retry_gets_409_then_the_replay(api_a, two_workspaces, monkeypatch):
    """Two real requests with one key: the second arrives while the first is being written."""
    import threading
    import time

    from integrations.api.writer import BatchWriter

    release = threading.Event()
    original = BatchWriter.write

    def slow_write(self, *args, **kwargs):
        release.wait(timeout=20)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BatchWriter, "write", slow_write)
    headers = {"Idempotency-Key": "race-1"}
    record = {"external_id": "race", "name": "Race"}
    first: dict = {}
    worker = threading.Thread(
        target=lambda: first.update(r=api_a.post("accounts", json=record, headers=headers))
    )
    worker.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with use_workspace(two_workspaces.a):
            if IdempotencyRecord.objects.filter(key="race-1").exists():
                break
        time.sleep(0.05)
    second = api_a.post("accounts", json=record, headers=headers)
    release.set()
    worker.join(timeout=30)
    assert second.status_code == 409
    assert first["r"].status_code == 201
    third = api_a.post("accounts", json=record, headers=headers)
    assert third.status_code == 201
    assert third.headers["Idempotent-Replayed"] == "true"
    with use_workspace(two_workspaces.a):
        assert Account.objects.filter(external_id="race").count() == 1
