"""Saved customer lists as CSMs use them: the seven starting lists, saving, defaults, privacy."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from segments.lists import STARTING_LISTS, ensure_starting_lists
from segments.models import SavedList
from tenancy.context import use_workspace
from tenancy.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def setup(db):
    ws = f.WorkspaceFactory()
    users = {}
    for role in ("admin", "csm", "viewer"):
        users[role] = f.UserFactory()
        f.MembershipFactory(user=users[role], workspace=ws, role=role)
    users["csm2"] = f.UserFactory()
    f.MembershipFactory(user=users["csm2"], workspace=ws, role=Role.CSM)
    with use_workspace(ws):
        ensure_starting_lists()
        onboarding = f.LifecycleStageFactory(name="Onboarding", key="onboarding")
        accounts = {
            "renewing": f.AccountFactory(
                name="Renewing Soon", renewal_date=TODAY + dt.timedelta(days=30), csm_owner=users["csm"]
            ),
            "later": f.AccountFactory(
                name="Renewing Later", renewal_date=TODAY + dt.timedelta(days=200), csm_owner=users["csm2"]
            ),
            "new": f.AccountFactory(
                name="Brand New", contract_start=TODAY - dt.timedelta(days=3), lifecycle_stage=onboarding
            ),
            "lost": f.AccountFactory(name="Lost Recently", mrr=Decimal("100")),
            "unpaid": f.AccountFactory(name="Owes Money"),
        }
        lost = accounts["lost"]
        lost.status, lost.churned_at = "churned", TODAY - dt.timedelta(days=10)
        lost.save()
        f.InvoiceFactory(
            account=accounts["unpaid"], status="failed", issued_on=TODAY - dt.timedelta(days=5), due_on=TODAY
        )
        for key in ("renewing", "later", "new", "unpaid"):
            f.TouchpointFactory(account=accounts[key], occurred_at=timezone.now() - dt.timedelta(days=2))
        lists = {saved.name: saved for saved in SavedList.objects.all()}
    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    return {"ws": ws, "users": users, "clients": clients, "accounts": accounts, "lists": lists}


def names(response) -> set[str]:
    assert response.status_code == 200
    return {a.name for a in response.context["object_list"]}


def open_list(setup, client, name):
    saved = setup["lists"][name]
    return client.get(f"/w/{setup['ws'].slug}/accounts/?{saved.query}&list={saved.pk}")


def test_the_seven_starting_lists_select_the_right_accounts(setup):
    assert len(setup["lists"]) == len(STARTING_LISTS) == 7
    csm = setup["clients"]["csm"]
    assert names(open_list(setup, csm, "Renewals in the next 90 days")) == {"Renewing Soon"}
    assert names(open_list(setup, csm, "New accounts this week")) == {"Brand New"}
    assert names(open_list(setup, csm, "Onboarding")) == {"Brand New"}
    assert names(open_list(setup, csm, "Churned in the last 60 days")) == {"Lost Recently"}
    assert names(open_list(setup, csm, "Unpaid or failed invoices")) == {"Owes Money"}
    assert names(open_list(setup, csm, "No interaction for 30 days")) == set()
    assert open_list(setup, csm, "At risk: red health, low key-feature use").status_code == 200
    page = open_list(setup, csm, "Renewals in the next 90 days").content.decode()
    assert "List: Renewals in the next 90 days" in page


def test_saving_a_private_list_and_making_it_the_default(setup):
    ws, csm = setup["ws"], setup["clients"]["csm"]
    response = csm.post(
        f"/w/{ws.slug}/lists/new/",
        {
            "name": "My renewals",
            "visibility": "private",
            "query": "renewal_within=90&mine=true&page=3",
            "resource": "accounts",
        },
    )
    assert response.status_code == 302
    saved = SavedList.all_workspaces.get(name="My renewals")
    assert saved.query == "renewal_within=90&mine=true" and saved.owner == setup["users"]["csm"]
    # Private: the other CSM does not see it.
    other = setup["clients"]["csm2"].get(f"/w/{ws.slug}/lists/")
    assert "My renewals" not in other.content.decode()
    assert setup["clients"]["csm2"].post(f"/w/{ws.slug}/lists/{saved.pk}/default/").status_code == 404
    # Default view: the bare accounts page opens it.
    csm.post(f"/w/{ws.slug}/lists/{saved.pk}/default/")
    bare = csm.get(f"/w/{ws.slug}/accounts/")
    assert bare.status_code == 302 and "list=" in bare["Location"] and "mine=true" in bare["Location"]
    csm.post(f"/w/{ws.slug}/lists/{saved.pk}/default/", {"clear": "1"})
    assert csm.get(f"/w/{ws.slug}/accounts/").status_code == 200


def test_my_accounts_in_a_public_list_resolves_for_whoever_opens_it(setup):
    ws = setup["ws"]
    setup["clients"]["admin"].post(
        f"/w/{ws.slug}/lists/new/",
        {"name": "Mine", "visibility": "public", "query": "mine=true", "resource": "accounts"},
    )
    saved = SavedList.all_workspaces.get(name="Mine")
    url = f"/w/{ws.slug}/accounts/?{saved.query}&list={saved.pk}"
    assert names(setup["clients"]["csm"].get(url)) == {"Renewing Soon"}
    assert names(setup["clients"]["csm2"].get(url)) == {"Renewing Later"}


def test_viewers_save_private_lists_only(setup):
    ws, viewer = setup["ws"], setup["clients"]["viewer"]
    data = {"name": "Viewer list", "query": "status=active", "resource": "accounts"}
    assert viewer.post(f"/w/{ws.slug}/lists/new/", {**data, "visibility": "public"}).status_code == 403
    assert viewer.post(f"/w/{ws.slug}/lists/new/", {**data, "visibility": "private"}).status_code == 302


def test_malformed_filters_get_a_message_not_an_error(setup):
    response = setup["clients"]["csm"].get(
        f"/w/{setup['ws'].slug}/accounts/", {"renewal_within": "soon", "tier": "999999"}
    )
    assert response.status_code == 200
    assert "Some filters are not valid" in response.content.decode()


def test_only_owner_or_admin_deletes_a_list(setup):
    ws = setup["ws"]
    setup["clients"]["csm"].post(
        f"/w/{ws.slug}/lists/new/",
        {"name": "Shared", "visibility": "public", "query": "", "resource": "accounts"},
    )
    saved = SavedList.all_workspaces.get(name="Shared")
    assert setup["clients"]["csm2"].post(f"/w/{ws.slug}/lists/{saved.pk}/delete/").status_code == 403
    assert setup["clients"]["admin"].post(f"/w/{ws.slug}/lists/{saved.pk}/delete/").status_code == 302
    assert not SavedList.all_workspaces.filter(pk=saved.pk).exists()
