"""The segment analysis page in Chromium: reached from the navigation, switching what it compares."""

from __future__ import annotations

import re

from django.utils import timezone
from playwright.sync_api import expect

from segments.analysis import analyse
from tenancy.context import use_workspace

ROWS = "#segment-analysis tbody tr"


def test_comparing_segments_from_the_navigation(csm_page, demo_workspace):
    page = csm_page
    page.goto("/w/acme/")
    page.get_by_role("link", name="Segments").click()
    expect(page.get_by_role("heading", name="Segment analysis")).to_be_visible()
    expect(page.locator(ROWS).first).to_contain_text("Enterprise")
    expect(page.locator(ROWS)).to_have_count(3)  # Enterprise, Mid-market, SMB

    page.get_by_role("link", name="Industry").click()
    expect(page).to_have_url(re.compile(r"by=industry"))
    with use_workspace(demo_workspace):
        industries = [row["label"] for row in analyse("industry", timezone.localdate()).rows]
    expect(page.locator(f"{ROWS} th")).to_have_text(industries)

    page.get_by_role("link", name="My accounts").click()
    expect(page).to_have_url(re.compile(r"by=industry&scope=mine"))
    expect(page.locator(".page-pretitle")).to_have_text("My accounts")

    # A group opens the list of its accounts: as many as the page counted.
    first_row = page.locator(ROWS).first
    counted = int(first_row.locator("td").first.inner_text().replace(",", ""))
    first_row.locator("th a").click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    expect(page).to_have_url(re.compile(r"status=active&industry=.+&mine=true"))
    expect(page.locator("#account-results tbody tr")).to_have_count(min(counted, 50))
