"""Per-key throttling with RateLimit-* headers, and the request body limit (413)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import Account
from tenancy.context import use_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_answer_carries_rate_limit_headers_and_429_past_the_limit(api_a, api_b):
    with override_settings(API_RATE_LIMIT=3):
        answers = [api_a.get("accounts") for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 200]
        assert [r.headers["RateLimit-Remaining"] for r in answers] == ["2", "1", "0"]
        assert {r.headers["RateLimit-Limit"] for r in answers} == {"3"}
        assert all(0 < int(r.headers["RateLimit-Reset"]) <= 60 for r in answers)
        over = api_a.post("accounts", json={"external_id": "t", "name": "T"})
        assert over.status_code == 429
        assert over.headers["Content-Type"] == "application/problem+json"
        assert 0 < int(over.headers["Retry-After"]) <= 60
        assert over.headers["RateLimit-Remaining"] == "0"
        assert api_b.get("accounts").status_code == 200  # counted per key
    with use_workspace(api_a.workspace):
        assert not Account.objects.filter(external_id="t").exists()


def test_an_oversized_body_is_413_before_it_is_read(api_a):
    with override_settings(API_MAX_BODY_BYTES=200):
        records = [{"external_id": f"big-{i}", "name": "x" * 20} for i in range(10)]
        response = api_a.post("accounts/bulk", json={"records": records})
        assert response.status_code == 413
        assert response.headers["Content-Type"] == "application/problem+json"
        assert "200 bytes" in response.json()["detail"]
        small = api_a.post("accounts", json={"external_id": "s", "name": "S"})
        assert small.status_code == 201
