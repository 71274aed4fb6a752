"""The scorecard editor as an admin meets it: preview a draft, then save a new version."""

import pytest
from django.test import Client

from health.defaults import ensure_default_scorecards
from health.forms import MeasureForm
from health.models import HealthScore, Scorecard
from health.recompute import recompute
from tenancy.context import use_workspace
from tenancy.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    ws = f.WorkspaceFactory()
    admin = f.UserFactory()
    csm = f.UserFactory()
    f.MembershipFactory(user=admin, workspace=ws, role=Role.ADMIN)
    f.MembershipFactory(user=csm, workspace=ws, role=Role.CSM)
    with use_workspace(ws):
        ensure_default_scorecards()
        for n in range(6):
            account = f.AccountFactory(name=f"Account {n}")
            f.CSMScoreFactory(account=account, score=1 + n % 5)
        recompute(ws.pk)
        card = Scorecard.objects.get(is_default=True)
    client = Client()
    client.force_login(admin)
    return {"ws": ws, "client": client, "card": card, "csm": csm}


def post_data(card: Scorecard, **overrides) -> dict:
    definition = card.current_version.definition
    data = {
        "name": card.name,
        "priority": "0",
        "is_active": "on",
        "red_below": definition["red_below"],
        "green_from": definition["green_from"],
        "hysteresis": definition["hysteresis"],
        "min_coverage": "50",
        "csat_n": "5",
        "m-TOTAL_FORMS": str(len(definition["measures"])),
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "1",
        "m-MAX_NUM_FORMS": "1000",
    }
    for i, measure in enumerate(definition["measures"]):
        for key, value in MeasureForm.initial_from(measure).items():
            if value is not None and key != "group":
                data[f"m-{i}-{key}"] = value
    data.update(overrides)
    return data


def edit_url(setup) -> str:
    return f"/w/{setup['ws'].slug}/settings/health/scorecards/{setup['card'].pk}/"


def test_preview_shows_the_draft_distribution_and_saves_nothing(setup):
    data = post_data(setup["card"], action="preview", red_below="80", green_from="95", hysteresis="2")
    response = setup["client"].post(edit_url(setup), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "What-if preview" in body and "Would change band" in body
    assert response.context["preview"]["accounts"] == 6
    assert Scorecard.all_workspaces.get(pk=setup["card"].pk).current_version.number == 1


def test_saving_makes_a_new_version_that_the_next_run_records(setup):
    data = post_data(setup["card"], action="save", note="More weight on the CSM's view")
    data["m-0-weight"] = "99"
    response = setup["client"].post(edit_url(setup), data)
    assert response.status_code == 302
    with use_workspace(setup["ws"]):
        card = Scorecard.objects.get(pk=setup["card"].pk)
        assert card.current_version.number == 2
        assert card.current_version.definition["measures"][0]["weight"] == 99
        recompute(setup["ws"].pk)
        versions = set(HealthScore.objects.values_list("scorecard_version__number", flat=True))
    assert versions == {2}


def test_invalid_draft_shows_the_error_beside_the_field_and_saves_nothing(setup):
    data = post_data(setup["card"], action="save")
    data["m-0-best"] = data["m-0-worst"]  # a linear mapping needs two different bounds
    response = setup["client"].post(edit_url(setup), data)
    assert response.status_code == 400
    assert "two different bounds" in response.content.decode()
    assert Scorecard.all_workspaces.filter(pk=setup["card"].pk, current_version__number=1).exists()


def test_csm_cannot_edit_scorecards(setup):
    client = Client()
    client.force_login(setup["csm"])
    assert client.get(edit_url(setup)).status_code == 403
    assert client.post(edit_url(setup), post_data(setup["card"], action="save")).status_code == 403
