"""The account and contact lists as a CSM uses them: choosing columns, exporting, bad input.

Through the test client: real middleware, templates, filterset and scoped queries.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.columns import ACCOUNT_COLUMNS, CONTACT_COLUMNS
from accounts.models import Account, Contact, NPSResponse, Touchpoint
from segments.models import SavedList
from tenancy.context import use_workspace

from .. import factories as f
from ..support import wurl

pytestmark = pytest.mark.django_db


@pytest.fixture
def csm(client, two_workspaces):
    client.force_login(two_workspaces.a_csm)
    return client


def body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response))))


def add_accounts(workspace, n: int) -> None:
    """`n` accounts, each with a contact, a touchpoint and an NPS answer (so every column has data)."""
    now = timezone.now()
    with use_workspace(workspace):
        tier = f.TierFactory(name="Bulk tier")
        accounts = Account.objects.bulk_create(
            [
                Account(name=f"Bulk {i:03d}", mrr=Decimal(i), tier=tier, employee_count=i * 10)
                for i in range(n)
            ]
        )
        Contact.objects.bulk_create([Contact(account=a, name=f"Person {a.name}") for a in accounts])
        Touchpoint.objects.bulk_create([Touchpoint(account=a, occurred_at=now) for a in accounts])
        NPSResponse.objects.bulk_create([NPSResponse(account=a, score=9, responded_at=now) for a in accounts])


# --- column chooser -------------------------------------------------------------------------------
def test_the_chosen_columns_are_shown_in_their_order(csm, two_workspaces):
    tw = two_workspaces
    response = csm.get(
        wurl(tw.a, "accounts:list"), {"cols": "mrr,recent_nps,primary_contact,latest_interaction"}
    )
    assert response.status_code == 200
    assert [c.key for c in response.context["columns"]] == [
        "name",  # always there, first
        "mrr",
        "recent_nps",
        "primary_contact",
        "latest_interaction",
    ]
    html = response.content.decode()
    positions = [html.index(label) for label in ("Recent NPS", "Primary contact", "Latest interaction")]
    assert positions == sorted(positions)
    row = response.context["rows"][0]
    values = {cell["column"].key: cell["value"] for cell in row["cells"]}
    assert values["recent_nps"] == tw.sample.nps.score
    assert values["primary_contact"] == "Wilhelmina Quokkason"  # the champion comes first
    assert values["latest_interaction"] == tw.sample.touchpoint.occurred_at
    # The chooser's links move, hide and add columns, keeping the rest of the query.
    links = response.context["column_links"]
    mrr = next(item for item in links["chosen"] if item["column"].key == "mrr")
    assert "cols=mrr%2Cprimary_contact" not in mrr["down"]
    assert "cols=recent_nps%2Cmrr%2Cprimary_contact%2Clatest_interaction" in mrr["down"].replace(
        "name%2C", ""
    )
    assert any(item["column"].key == "industry" for item in links["available"])


def test_an_unknown_column_is_named_and_left_out(csm, two_workspaces):
    response = csm.get(wurl(two_workspaces.a, "accounts:list"), {"cols": "name,bogus,mrr"})
    assert response.status_code == 200
    assert [c.key for c in response.context["columns"]] == ["name", "mrr"]
    assert "Unknown columns left out: bogus." in response.content.decode()


def test_sorting_by_a_chosen_column(csm, two_workspaces):
    add_accounts(two_workspaces.a, 3)
    response = csm.get(
        wurl(two_workspaces.a, "accounts:list"), {"q": "Bulk", "cols": "employees", "sort": "-employees"}
    )
    assert [a.name for a in response.context["object_list"]] == ["Bulk 002", "Bulk 001", "Bulk 000"]


@pytest.mark.parametrize(
    ("url_name", "catalogue"), [("accounts:list", ACCOUNT_COLUMNS), ("accounts:contacts", CONTACT_COLUMNS)]
)
def test_the_query_count_does_not_grow_with_the_page_size(csm, two_workspaces, url_name, catalogue):
    add_accounts(two_workspaces.a, 120)
    url = wurl(two_workspaces.a, url_name)
    every_column = ",".join(catalogue)
    counts = {}
    for per_page in (25, 100):
        with CaptureQueriesContext(connection) as queries:
            response = csm.get(url, {"cols": every_column, "per_page": per_page})
        assert response.status_code == 200
        assert len(response.context["object_list"]) == per_page
        counts[per_page] = len(queries)
    assert counts[25] == counts[100], counts


def test_columns_and_sort_are_saved_with_a_list(csm, two_workspaces):
    tw = two_workspaces
    response = csm.post(
        wurl(tw.a, "lists:create"),
        {"name": "Big spenders", "visibility": "private", "query": "sort=-mrr&cols=name,arr,csm&page=3"},
    )
    assert response.status_code == 302
    with use_workspace(tw.a):
        saved = SavedList.objects.get(name="Big spenders")
    assert saved.columns == ["name", "arr", "csm"]
    opened = csm.get(response["Location"])
    assert [c.key for c in opened.context["columns"]] == ["name", "arr", "csm"]
    assert opened.context["current_sort"] == "-mrr"


def test_the_renewals_starting_list_shows_its_columns(csm, two_workspaces):
    from segments.lists import ensure_starting_lists, open_query

    with use_workspace(two_workspaces.a):
        ensure_starting_lists()
        renewals = SavedList.objects.get(name="Renewals in the next 90 days")
    response = csm.get(f"{wurl(two_workspaces.a, 'accounts:list')}?{open_query(renewals)}")
    assert [c.key for c in response.context["columns"]] == [
        "name",
        "arr",
        "health",
        "renewal",
        "primary_contact",
        "latest_interaction",
        "recent_nps",
        "csm",
    ]


def test_open_alerts_column(csm, two_workspaces):
    from health.models import Alert, AlertRule

    tw = two_workspaces
    with use_workspace(tw.a):
        rule = AlertRule.objects.create(kind="no_touchpoint", name="Silence", params={"days": 5})
        Alert.objects.create(account=tw.sample.account, rule=rule, severity="high", summary="Quiet")
    response = csm.get(wurl(tw.a, "accounts:list"), {"cols": "name,open_alerts"})
    values = [cell["value"] for cell in response.context["rows"][0]["cells"]]
    assert values == ["Quokka Alpha Holdings", 1]


# --- CSV export -----------------------------------------------------------------------------------
def test_export_streams_the_list_with_its_filters_columns_and_sort(csm, two_workspaces):
    tw = two_workspaces
    add_accounts(tw.a, 5)
    response = csm.get(
        wurl(tw.a, "accounts:export"), {"mrr_min": "2", "cols": "name,mrr,recent_nps,tier", "sort": "-mrr"}
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == ["Name", "MRR", "Recent NPS", "Tier"]
    assert [r[0] for r in rows[1:]] == ["Quokka Alpha Holdings", "Bulk 004", "Bulk 003", "Bulk 002"]
    assert rows[2] == ["Bulk 004", "4.00", "9", "Bulk tier"]


def test_export_neutralises_spreadsheet_formulas(csm, two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        for name in ('=HYPERLINK("http://evil")', "+1+2", "-3", "@SUM(A1)", "Plain"):
            f.AccountFactory(name=name, industry="Formula test")
    response = csm.get(wurl(tw.a, "accounts:export"), {"industry": "Formula test", "cols": "name"})
    names = sorted(r[0] for r in csv_rows(response)[1:])
    assert names == sorted(['\'=HYPERLINK("http://evil")', "'+1+2", "'-3", "'@SUM(A1)", "Plain"])


def test_contact_export(csm, two_workspaces):
    response = csm.get(wurl(two_workspaces.a, "accounts:contacts_export"), {"cols": "name,email,account"})
    rows = csv_rows(response)
    assert rows[0] == ["Name", "Email", "Account"]
    assert ["Wilhelmina Quokkason", "wilhelmina@quokka-alpha.example", "Quokka Alpha Holdings"] in rows


def test_export_with_a_bad_filter_still_exports_what_parses(csm, two_workspaces):
    response = csm.get(wurl(two_workspaces.a, "accounts:export"), {"mrr_min": "lots", "cols": "name"})
    assert response.status_code == 200
    assert csv_rows(response)[1:] == [["Quokka Alpha Holdings"]]


# --- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "label"),
    [
        ({"mrr_min": "12abc"}, "MRR at least"),
        ({"renewal_within": "soon"}, "Renews within (days)"),
        ({"tier": "999999"}, "Tier"),
        ({"tier": "gold"}, "Tier"),
        ({"health_band": "purple"}, "Health"),
        ({"csm_owner": "-1"}, "CSM"),
        ({"health_min": "NaN"}, "Health at least"),
    ],
)
def test_a_malformed_filter_is_named_and_the_rest_still_apply(csm, two_workspaces, params, label):
    tw = two_workspaces
    with use_workspace(tw.a):
        f.AccountFactory(name="Churned one", status="churned")
    response = csm.get(wurl(tw.a, "accounts:list"), {**params, "status": "active"})
    assert response.status_code == 200
    assert label in response.context["dropped_filters"]
    assert "were left out" in response.content.decode()
    assert [a.name for a in response.context["object_list"]] == ["Quokka Alpha Holdings"]


@pytest.mark.parametrize("page", ["99999999999999999999", "abc", "-4", "0"])
def test_a_page_number_out_of_range_shows_a_page_and_says_so(csm, two_workspaces, page):
    response = csm.get(wurl(two_workspaces.a, "accounts:list"), {"page": page})
    assert response.status_code == 200
    assert response.context["page_obj"].number == 1
    assert "showing page 1 of 1" in response.content.decode()


def test_contact_list_bad_input(csm, two_workspaces):
    response = csm.get(wurl(two_workspaces.a, "accounts:contacts"), {"sort": "shoe size", "page": "x"})
    assert response.status_code == 200
    assert "Sort" in response.context["dropped_filters"]
    assert response.context["page_note"]


def test_a_saved_list_whose_tier_was_deleted_still_opens(csm, two_workspaces):
    tw = two_workspaces
    with use_workspace(tw.a):
        doomed = f.TierFactory(name="Doomed tier")
        f.AccountFactory(name="Churned one", status="churned")
        saved = SavedList.objects.create(
            name="Doomed accounts", query=f"tier={doomed.pk}&status=active", visibility="public"
        )
        doomed.delete()
    from segments.lists import open_query

    response = csm.get(f"{wurl(tw.a, 'accounts:list')}?{open_query(saved)}")
    assert response.status_code == 200
    assert "Tier" in response.context["dropped_filters"]
    assert "Select a valid choice" in response.content.decode()
    assert [a.name for a in response.context["object_list"]] == ["Quokka Alpha Holdings"]
    assert response.context["toolbars"][0]["context"]["current_list"] == saved


@pytest.mark.parametrize(
    "params",
    [
        {"renewal_within": "1e308"},
        {"churned_within": "-99999999999999999999"},
        {"mrr_min": "1e400"},
        {"mrr_max": "99999999999999999999999999999"},
        {"health_min": "Infinity"},
        {"key_feature": "reports", "key_feature_below": "1e30"},
    ],
)
def test_extreme_numbers_never_fail_the_page(csm, two_workspaces, params):
    response = csm.get(wurl(two_workspaces.a, "accounts:list"), params)
    assert response.status_code == 200
    export = csm.get(wurl(two_workspaces.a, "accounts:export"), params)
    assert export.status_code == 200
    body(export)
