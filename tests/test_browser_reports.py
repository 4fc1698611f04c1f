"""An analyst in Chromium reads the summary report and the organisations' answers, writes "Vad vi gör
med synpunkterna" (first with an error), publishes the report and a visitor reads it; axe-core
checks every page, and the print layout is captured."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import assert_accessible, screenshot
from tests.test_browser_workspace import log_in
from tests.test_reports import DEMO_CYCLE, demo_round_key, new_cycle_with_small_survey, release_test_cycles
from tests.test_workspace import create_staff

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def analyst_email(migrated: str, demo) -> Iterator[str]:  # type: ignore[no-untyped-def]
    yield create_staff()["analyst"]
    release_test_cycles()


def wait_for_images(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")


def test_analyst_reads_the_report_and_the_organisations_answers(page, analyst_email: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, analyst_email, f"/arbetsyta/rapport/{DEMO_CYCLE}")
    assert page.get_by_role("heading", level=1).inner_text() == "Översyn av RUS 2025"
    for name in (
        "Metod",
        "Resultat per fråga",
        "Teman i de skrivna svaren",
        "Organisationernas ställningstaganden",
        "Vad vi gör med synpunkterna",
    ):
        assert page.get_by_role("heading", name=name, exact=True).count() == 1, name
    assert page.locator("figure.rp-chart img").count() >= 5
    wait_for_images(page)
    assert_accessible(page)
    screenshot(page, "report-staff")

    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible() and not page.locator(".rp-toolbar").is_visible()
    screenshot(page, "report-print")
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ned arbetsversionen som pdf").click()
    assert download.value.suggested_filename == f"sammanstallning-{DEMO_CYCLE}.pdf"

    page.goto(f"/arbetsyta/remiss/{demo_round_key()}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Organisationernas svar")
    assert page.locator("figure.rp-chart img").count() >= 1
    assert page.locator(".rp-comment").count() >= 1
    wait_for_images(page)
    assert_accessible(page)
    screenshot(page, "report-organisations")


def test_analyst_writes_what_we_do_and_publishes(page, browser, live_server, analyst_email: str) -> None:  # type: ignore[no-untyped-def]
    cycle = new_cycle_with_small_survey()
    log_in(page, analyst_email, f"/arbetsyta/rapport/{cycle}/atgarder")
    page.get_by_role("button", name="Spara").click()  # nothing written: an error
    summary = page.locator(".error-summary")
    assert summary.is_visible() and "svenska" in summary.inner_text()
    assert page.get_by_label("På svenska").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "report-actions-error")

    page.get_by_label("På svenska").fill("Vi har läst alla svar.\n\nKollektivtrafiken får en egen prioritering.")
    page.get_by_role("button", name="Spara").click()
    page.wait_for_url(re.compile(rf"/arbetsyta/rapport/{cycle}\?sparat=1"))
    assert "Kollektivtrafiken får en egen prioritering." in page.locator("#atgarder").locator("..").inner_text()
    page.get_by_role("button", name="Publicera sammanställningen").click()
    page.wait_for_url(re.compile(r"sparat=p"))

    visitor = browser.new_context(base_url=live_server, locale="sv-SE")
    public = visitor.new_page()
    public.goto(f"/rapport/{cycle}")
    assert public.get_by_role("heading", level=1).is_visible()
    assert "Kollektivtrafiken får en egen prioritering." in public.inner_text("body")
    assert "färre än 5" in public.inner_text("body")
    wait_for_images(public)
    assert_accessible(public)
    screenshot(public, "report-public")
    public.emulate_media(media="print")
    screenshot(public, "report-public-print")
    visitor.close()
