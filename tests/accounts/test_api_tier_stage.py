"""Partners set an account's tier (by name) and stage (by key) over real HTTP: the change is
recorded as the API's, overrides the rules, and an unknown name is a field error."""

from __future__ import annotations

import pytest

from accounts.models import Account, AccountChange
from tenancy.context import use_workspace

from .. import factories as f
from ..integrations.conftest import api_a, keys  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_sets_tier_and_stage_and_the_change_is_recorded(api_a, two_workspaces):  # noqa: F811
    tw = two_workspaces
    with use_workspace(tw.a):
        gold = f.TierFactory(name="Gold")
        f.LifecycleStageFactory(name="Onboarding", key="onboarding")
    response = api_a.put("accounts/qk-ext-7731", json={"name": "Quokka Alpha Holdings", "tier": "Gold"})
    assert response.status_code == 200, response.text
    assert response.json()["tier"] == "Gold"
    assert response.json()["lifecycle_stage"] == "quokka-adoption"
    response = api_a.post(
        "accounts/bulk",
        json={
            "records": [
                {"external_id": "new-1", "name": "New One", "lifecycle_stage": "onboarding", "tier": "Gold"},
                {"external_id": "new-2", "name": "New Two", "tier": "Platinum"},
                {"external_id": "new-3", "name": "New Three", "lifecycle_stage": "nowhere"},
            ]
        },
    )
    body = response.json()
    assert response.status_code == 200, body
    errors = {e["pointer"]: e["detail"] for r in body["results"] for e in r.get("errors", [])}
    assert errors == {
        "/records/1/tier": "No tier “Platinum” in this workspace.",
        "/records/2/lifecycle_stage": "No lifecycle stage “nowhere” in this workspace.",
    }
    with use_workspace(tw.a):
        sample = Account.objects.get(external_id="qk-ext-7731")
        new = Account.objects.get(external_id="new-1")
        assert sample.tier == gold and sample.tier_overridden and not sample.stage_overridden
        assert new.lifecycle_stage.key == "onboarding" and new.stage_overridden and new.tier_overridden
        changes = sorted(
            AccountChange.objects.values_list(
                "account__external_id", "field", "old_label", "new_label", "source"
            )
        )
        assert changes == [
            ("new-1", "stage", "", "Onboarding", "api"),
            ("new-1", "tier", "", "Gold", "api"),
            ("qk-ext-7731", "tier", "Quokka Platinum", "Gold", "api"),
        ]
    # The same values again (a record read back and sent again): nothing is recorded.
    record = api_a.get("accounts/new-1").json()
    assert api_a.put("accounts/new-1", json=record).status_code == 200
    with use_workspace(tw.a):
        assert AccountChange.objects.count() == 3
