"""A CSM's day in the account pages, in Chromium: logging in, the starting lists, filtering without
a reload, saving a private list and making it the default view."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from segments.lists import STARTING_LISTS
from segments.models import DefaultList, SavedList
from tenancy.context import use_workspace

from .conftest import log_in

RESULT_NAMES = "#account-results tbody tr td a.fw-medium"  # the name cell's link (after the bulk checkbox)


def test_logging_in_with_email_and_password_opens_the_dashboard(page, demo_workspace):
    page.goto("/w/acme/")
    expect(page).to_have_url(re.compile(r"/login/"))  # not logged in yet
    page.get_by_label("Email").fill("csm@acme.test")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct email address and password")

    log_in(page, "csm@acme.test")
    expect(page).to_have_url(re.compile(r"/w/acme/$"))
    expect(page.get_by_role("heading", name="Portfolio health")).to_be_visible()
    expect(page.locator("header")).to_contain_text("Casey Morgan")


@pytest.mark.parametrize("name", [name for name, _, _ in STARTING_LISTS])
def test_each_starting_list_opens_with_rows(csm_page, demo_workspace, name):
    page = csm_page
    page.goto("/w/acme/accounts/")
    page.get_by_role("button", name="Saved lists").click()
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("button", name=f"List: {name}")).to_be_visible()
    rows = page.locator(RESULT_NAMES)
    expect(rows.first).to_be_visible()
    with use_workspace(demo_workspace):
        saved = SavedList.objects.get(name=name, is_seeded=True)
    assert f"list={saved.pk}" in page.url
    assert rows.count() > 0


def test_filtering_updates_the_results_in_place(csm_page, demo_workspace):
    page = csm_page
    page.goto("/w/acme/")
    page.get_by_role("link", name="Accounts", exact=True).click()
    expect(page.locator(RESULT_NAMES).first).to_be_visible()
    documents: list[str] = []
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else None)
    page.evaluate("window.__sameDocument = true")

    page.locator("#account-filters select[name=health_band]").select_option("red")
    expect(page).to_have_url(re.compile(r"health_band=red"))  # htmx pushed the filtered URL
    with use_workspace(demo_workspace):
        red = set(Account.objects.filter(health_band="red").values_list("name", flat=True))
    assert red, "the demo has red accounts"
    expect(page.locator(RESULT_NAMES)).to_have_count(min(len(red), 50))
    assert set(page.locator(RESULT_NAMES).all_inner_texts()) <= red

    page.locator("#account-q").fill(sorted(red)[0])  # typing filters too, after a short pause
    expect(page.locator(RESULT_NAMES)).to_have_count(1)
    expect(page.locator(RESULT_NAMES)).to_have_text(sorted(red)[0])

    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    assert documents == [], f"full page loads happened: {documents}"


def test_a_saved_private_list_becomes_the_default_view(page, signed_in, demo_workspace):
    name = "Jordan's yellow accounts"
    log_in(page, "jordan@acme.test")
    page.get_by_role("link", name="Accounts", exact=True).click()
    page.locator("#account-filters select[name=health_band]").select_option("yellow")
    expect(page).to_have_url(re.compile(r"health_band=yellow"))

    page.get_by_label("List name").fill(name)
    page.get_by_label("Who sees it").select_option("private")
    page.get_by_role("button", name="Save as list").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Saved the list “{name}”")
    expect(page.get_by_role("button", name=f"List: {name}")).to_be_visible()

    page.get_by_role("button", name="Make my default view").click()
    expect(page.get_by_role("alert")).to_contain_text("is now your default view")

    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="Accounts", exact=True).click()
    expect(page.get_by_role("button", name=f"List: {name}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"health_band=yellow"))
    expect(page.locator("#account-filters select[name=health_band]")).to_have_value("yellow")
    with use_workspace(demo_workspace):
        saved = SavedList.objects.get(name=name)
        assert saved.visibility == "private" and saved.owner.email == "jordan@acme.test"
        assert DefaultList.objects.get(user=saved.owner, resource="accounts").saved_list == saved

    # Private: another CSM neither sees it among the lists nor gets it as a default.
    casey = signed_in("csm@acme.test")
    casey.goto("/w/acme/lists/")
    expect(casey.get_by_role("heading", name="Customer lists")).to_be_visible()
    expect(casey.locator(".page-body")).not_to_contain_text(name)
    casey.goto("/w/acme/accounts/")
    expect(casey).to_have_url(re.compile(r"/w/acme/accounts/$"))
