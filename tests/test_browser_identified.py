"""An identified survey's start page in Chromium: the identity fields are labelled, a missing name
is summarised and focused, axe-core finds no WCAG 2.1 A/AA violations, and with a name the
respondent reaches the first page."""

from __future__ import annotations

from tests.conftest import assert_accessible, screenshot
from tests.factories import every_type_survey, store


def test_identified_start_page_errors_are_accessible(page) -> None:  # type: ignore[no-untyped-def]
    spec = store(every_type_survey(identity_mode="identified"))
    page.goto(f"/s/{spec.slug}")
    assert page.locator("legend").inner_text() == "Vem är du?"
    assert_accessible(page)
    page.fill("#field-email", "inte en adress")
    page.click("text=Starta enkäten")
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert "Skriv ditt namn." in summary.inner_text() and "Ange en giltig e-postadress." in summary.inner_text()
    assert page.locator("#field-name").get_attribute("aria-invalid") == "true"
    assert page.locator("#field-email").input_value() == "inte en adress"
    assert_accessible(page)
    screenshot(page, "identified-01-start-errors")
    summary.locator("a[href='#field-name']").click()
    page.keyboard.type("Anna Svensson")
    page.fill("#field-email", "anna@example.se")
    page.click("text=Starta enkäten")
    page.wait_for_url("**/r/**/1")
    assert "Sida 1 av 2" in page.locator("#progress").inner_text()
