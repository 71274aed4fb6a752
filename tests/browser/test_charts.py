"""Charts really render in Chromium: the account's health trend and the dashboard's charts."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .charts import assert_chart_drew
from .demo_data import SCORED_DAYS


def test_an_accounts_health_chart_draws_its_trend(csm_page):
    page = csm_page
    page.goto("/w/acme/accounts/?status=active&health_band=green")
    first = page.locator("#account-results tbody tr td a.fw-medium").first
    name = first.inner_text()
    first.click()
    expect(page).to_have_url(re.compile(r"/w/acme/accounts/\d+/$"))
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    assert_chart_drew(page.locator("#health canvas[data-chart=health]"), min_points=SCORED_DAYS)


def test_the_dashboard_charts_draw(signed_in):
    page = signed_in("admin@acme.test")
    page.goto("/w/acme/")
    expect(page.get_by_role("heading", name="Portfolio health")).to_be_visible()
    assert_chart_drew(page.locator("canvas[data-chart=waterfall]"), min_points=5)
    assert_chart_drew(page.locator("canvas[data-chart=bands]"), min_points=SCORED_DAYS)
