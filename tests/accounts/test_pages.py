"""The account pages, through the test client (real middleware, templates and scoped queries)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, CSMScore, Touchpoint
from tenancy.context import use_workspace

from .. import factories as f
from ..support import wurl

pytestmark = pytest.mark.django_db


@pytest.fixture
def csm(client, two_workspaces):
    client.force_login(two_workspaces.a_csm)
    return client


@pytest.fixture
def portfolio(two_workspaces):
    """Three more accounts in A with distinct revenue, health and renewal dates."""
    today = timezone.localdate()
    with use_workspace(two_workspaces.a):
        return {
            name: f.AccountFactory(
                name=name,
                domain=domain,
                mrr=Decimal(mrr),
                health_score=health,
                renewal_date=today + dt.timedelta(days=days),
            )
            for name, domain, mrr, health, days in [
                ("Aardvark Co", "aardvark.example", "500", 80, 10),
                ("Mongoose Ltd", "mongoose.example", "3000", 20, 100),
                ("Zebra Inc", "zebra.example", "100", 55, 40),
            ]
        }


def names(response) -> list[str]:
    return [a.name for a in response.context["object_list"]]


def templates(response) -> set[str]:
    return {t.name for t in response.templates}


def test_dashboard(csm, two_workspaces, portfolio):
    response = csm.get(wurl(two_workspaces.a, "dashboard:home"))
    assert response.status_code == 200
    assert "segments/dashboard.html" in templates(response)
    totals = response.context["totals"]
    assert totals["count"] == 4
    assert totals["mrr"] == Decimal("7800.00")
    assert response.context["arr"] == Decimal("93600.00")
    assert two_workspaces.b_account.name.encode() not in response.content


def test_dashboard_scoped_to_my_accounts(csm, two_workspaces, portfolio):
    response = csm.get(wurl(two_workspaces.a, "dashboard:home"), {"scope": "mine"})
    assert response.status_code == 200
    # Only the sample account is owned by A's CSM.
    assert response.context["totals"]["count"] == 1
    assert response.context["totals"]["mrr"] == Decimal("4200.00")


def test_account_list_shows_the_workspace_accounts(csm, two_workspaces, portfolio):
    response = csm.get(wurl(two_workspaces.a, "accounts:list"))
    assert response.status_code == 200
    assert "accounts/account_list.html" in templates(response)
    assert names(response) == ["Aardvark Co", "Mongoose Ltd", "Quokka Alpha Holdings", "Zebra Inc"]
    for name in names(response):
        assert name.encode() in response.content
    assert two_workspaces.b_account.name.encode() not in response.content
    assert (
        wurl(two_workspaces.a, "accounts:detail", pk=portfolio["Zebra Inc"].pk).encode() in response.content
    )


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Aardvark Co", "Mongoose Ltd", "Quokka Alpha Holdings", "Zebra Inc"]),
        ("-name", ["Zebra Inc", "Quokka Alpha Holdings", "Mongoose Ltd", "Aardvark Co"]),
        ("-mrr", ["Quokka Alpha Holdings", "Mongoose Ltd", "Aardvark Co", "Zebra Inc"]),
        ("mrr", ["Zebra Inc", "Aardvark Co", "Mongoose Ltd", "Quokka Alpha Holdings"]),
        ("renewal", ["Aardvark Co", "Zebra Inc", "Mongoose Ltd", "Quokka Alpha Holdings"]),
    ],
)
def test_account_list_sorting(csm, two_workspaces, portfolio, sort, expected):
    response = csm.get(wurl(two_workspaces.a, "accounts:list"), {"sort": sort})
    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("health", ["Mongoose Ltd", "Zebra Inc", "Aardvark Co"]),
        ("-health", ["Aardvark Co", "Zebra Inc", "Mongoose Ltd"]),
    ],
)
def test_account_list_sorting_by_health(csm, two_workspaces, portfolio, sort, expected):
    # Unscored accounts sort first or last depending on the database; only the scored ones count.
    response = csm.get(wurl(two_workspaces.a, "accounts:list"), {"sort": sort})
    assert response.status_code == 200
    assert [n for n in names(response) if n in portfolio] == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("mongoose", ["Mongoose Ltd"]),
        ("ZEBRA.example", ["Zebra Inc"]),
        ("qk-ext-7731", ["Quokka Alpha Holdings"]),
        ("no such customer", []),
        ("  ", ["Aardvark Co", "Mongoose Ltd", "Quokka Alpha Holdings", "Zebra Inc"]),
    ],
)
def test_account_list_search(csm, two_workspaces, portfolio, q, expected):
    response = csm.get(wurl(two_workspaces.a, "accounts:list"), {"q": q})
    assert response.status_code == 200
    assert names(response) == expected


def test_account_list_filters_by_tier_and_mine(csm, two_workspaces, portfolio):
    tw = two_workspaces
    response = csm.get(wurl(tw.a, "accounts:list"), {"tier": tw.sample.tier.pk})
    assert names(response) == ["Quokka Alpha Holdings"]
    response = csm.get(wurl(tw.a, "accounts:list"), {"mine": "true"})
    assert names(response) == ["Quokka Alpha Holdings"]


def test_account_list_pagination(csm, two_workspaces):
    with use_workspace(two_workspaces.a):
        Account.objects.bulk_create([Account(name=f"Bulk {n:03d}", mrr=Decimal(n)) for n in range(60)])
    url = wurl(two_workspaces.a, "accounts:list")
    first = csm.get(url)
    assert first.status_code == 200
    page = first.context["page_obj"]
    assert page.paginator.count == 61
    assert len(first.context["object_list"]) == 50
    assert page.has_next()
    second = csm.get(url, {"page": 2, "sort": "name"})
    assert second.status_code == 200
    assert names(second) == [*(f"Bulk {n:03d}" for n in range(50, 60)), "Quokka Alpha Holdings"]
    # Past the end: the last page, with a message saying so (not an error page).
    past = csm.get(url, {"page": 3})
    assert past.status_code == 200
    assert past.context["page_obj"].number == 2
    assert "There is no page “3”; showing page 2 of 2." in past.content.decode()


def test_htmx_request_gets_only_the_results_fragment(csm, two_workspaces, portfolio):
    url = wurl(two_workspaces.a, "accounts:list")
    response = csm.get(url, {"sort": "-mrr"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    used = templates(response)
    assert "accounts/_account_results.html" in used
    assert "accounts/account_list.html" not in used
    assert "base.html" not in used
    assert b"<html" not in response.content
    assert names(response)[0] == "Quokka Alpha Holdings"
    assert "HX-Request" in response.headers["Vary"]
    # A full page is served to an ordinary request and to htmx restoring its history.
    for headers in ({}, {"HX-Request": "true", "HX-History-Restore-Request": "true"}):
        full = csm.get(url, headers=headers)
        assert "accounts/account_list.html" in templates(full)
        assert b"<html" in full.content


def test_contact_list(csm, two_workspaces):
    tw = two_workspaces
    url = wurl(tw.a, "accounts:contacts")
    response = csm.get(url)
    assert response.status_code == 200
    assert [c.name for c in response.context["object_list"]] == [
        "Bartholomew Quokkaby",
        "Wilhelmina Quokkason",
    ]
    assert tw.sample.contact.email.encode() in response.content
    assert b"Walter Wombat" not in response.content
    response = csm.get(url, {"q": "wilhelmina@"})
    assert [c.name for c in response.context["object_list"]] == ["Wilhelmina Quokkason"]
    response = csm.get(url, {"is_champion": "true"})
    assert [c.pk for c in response.context["object_list"]] == [tw.sample.contact.pk]
    fragment = csm.get(url, headers={"HX-Request": "true"})
    assert "accounts/_contact_results.html" in templates(fragment)
    assert "accounts/contact_list.html" not in templates(fragment)


def test_account_detail_shows_its_data(csm, two_workspaces):
    tw = two_workspaces
    s = tw.sample
    with use_workspace(tw.a):
        other = f.AccountFactory(name="Other Customer")
        f.ContactFactory(account=other, name="Not Related Person")
    response = csm.get(wurl(tw.a, "accounts:detail", pk=s.account.pk))
    assert response.status_code == 200
    assert response.context["object"] == s.account
    body = response.content.decode()
    for text in (
        s.account.name,
        s.contact.name,
        s.contact.email,
        s.other_contact.name,
        s.invoice.number,
        s.ticket.subject,
        s.nps.comment,
        s.touchpoint.subject,
    ):
        assert text in body, f"{text!r} missing from the account page"
    assert "Not Related Person" not in body
    assert set(response.context["contacts"]) == {s.contact, s.other_contact}


def test_account_detail_of_a_missing_account_is_404(csm, two_workspaces):
    missing_pk = Account.all_workspaces.order_by("-pk").first().pk + 1000
    response = csm.get(wurl(two_workspaces.a, "accounts:detail", pk=missing_pk))
    assert response.status_code == 404


def test_csm_sets_a_score_from_the_account_page(csm, two_workspaces):
    tw = two_workspaces
    account = tw.sample.account
    response = csm.post(
        wurl(tw.a, "accounts:csm_score_create", pk=account.pk), {"score": "5", "note": "Thriving"}
    )
    assert response.status_code == 302
    latest = CSMScore.all_workspaces.filter(account=account).order_by("-pk").first()
    assert (latest.score, latest.note, latest.author_id, latest.workspace_id) == (
        5,
        "Thriving",
        tw.a_csm.pk,
        tw.a.pk,
    )


@pytest.mark.parametrize(
    ("url_name", "form_name", "payload", "field", "model"),
    [
        (
            "accounts:csm_score_create",
            "csm_score_form",
            {"score": "9", "note": "Out of range"},
            "score",
            CSMScore,
        ),
        (
            "accounts:touchpoint_create",
            "touchpoint_form",
            {"kind": "call", "occurred_at": "2999-01-01T10:00", "subject": "Future"},
            "occurred_at",
            Touchpoint,
        ),
    ],
)
def test_invalid_form_rerenders_the_page_and_saves_nothing(
    csm, two_workspaces, url_name, form_name, payload, field, model
):
    tw = two_workspaces
    before = model.all_workspaces.count()
    response = csm.post(wurl(tw.a, url_name, pk=tw.sample.account.pk), payload)
    assert response.status_code == 200
    assert "accounts/account_detail.html" in templates(response)
    assert model.all_workspaces.count() == before
    form = response.context[form_name]
    assert field in form.errors
    for error in form.errors[field]:
        assert error in response.content.decode().replace("&#x27;", "'")
