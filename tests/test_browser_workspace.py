"""An analyst in Chromium reads the overview, filters the results in place with htmx (the filter
ends up in the URL), opens a crosstab and the weighting page; axe-core checks every page."""

from __future__ import annotations

import re

import pytest

from tests.conftest import assert_accessible, screenshot
from tests.test_workspace import PASSWORD, SmallSurvey, create_small_survey, create_staff


@pytest.fixture(scope="module")
def small(migrated: str) -> SmallSurvey:
    return create_small_survey()


@pytest.fixture(scope="module")
def analyst_email(small) -> str:  # type: ignore[no-untyped-def]
    return create_staff()["analyst"]


def log_in(page, email: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(target)
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(re.escape(target.split("?")[0])))


def test_analyst_reads_the_overview_and_filters_results(page, small: SmallSurvey, analyst_email: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, analyst_email, "/arbetsyta")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Översikt")
    charts = page.locator("figure.ws-chart img")
    assert charts.count() >= 3
    charts.first.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('figure.ws-chart img'); return i.complete && i.naturalWidth > 0; }"
    )
    assert_accessible(page)
    screenshot(page, "workspace-overview")

    page.goto(f"/arbetsyta/enkater/{small.spec.slug}")
    assert "6 svarande matchar" in page.locator("#result-count").inner_text()
    assert_accessible(page)
    page.get_by_role("combobox", name="Kommun", exact=True).select_option("2281")  # htmx sends it on change
    page.wait_for_url(re.compile(r"kommun=2281"))
    page.wait_for_function("() => document.querySelector('#result-count').innerText.includes('3 svarande')")
    assert page.locator("#results table").first.is_visible()
    assert page.locator("h1").count() == 1  # the fragment went into #results, not a whole page
    # The crosstab link now carries the filter too.
    assert "kommun=2281" in (page.get_by_role("link", name="Korstabell").get_attribute("href") or "")
    assert_accessible(page)
    screenshot(page, "workspace-results-filtered")
    page.reload()  # the filtered URL works on its own
    assert "3 svarande matchar" in page.locator("#result-count").inner_text()


def test_crosstab_and_weighting_pages(page, small: SmallSurvey, analyst_email: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, analyst_email, f"/arbetsyta/enkater/{small.spec.slug}/korstabell")
    page.get_by_label("Rader").select_option("kon")
    page.get_by_label("Kolumner").select_option("val")
    page.get_by_role("button", name="Visa korstabell").click()
    page.wait_for_selector("#chi-square")
    assert_accessible(page)
    screenshot(page, "workspace-crosstab")

    page.goto(f"/arbetsyta/enkater/{small.spec.slug}/viktning")
    assert_accessible(page)
    page.get_by_label("Sundsvall").fill("75")
    page.get_by_label("Härnösand").fill("25")
    page.get_by_role("button", name="Spara och räkna vikter").click()
    page.wait_for_url(re.compile(r"sparat=1"))
    assert page.locator("#deff").inner_text().strip() != ""
    assert_accessible(page)
    page.get_by_label("Härnösand").fill("abc")
    page.get_by_role("button", name="Spara och räkna vikter").click()
    page.wait_for_selector(".error-summary")
    assert_accessible(page)
    screenshot(page, "workspace-weighting-error")
