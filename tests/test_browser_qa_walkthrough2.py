"""A resident on a phone looks up and withdraws a response with the receipt code, in Chromium:
what they see when they leave out the code or the tick, and where the browser takes them."""

from __future__ import annotations

from tests.conftest import assert_accessible, screenshot
from tests.factories import every_type_survey, store
from tests.test_api import VALID, post

PHONE = {"width": 375, "height": 740}


def test_lookup_with_an_odd_code_stays_on_the_lookup_page_with_a_message(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, locale="sv-SE", viewport=PHONE)
    page = context.new_page()
    try:
        page.goto("/mitt-svar?lang=sv")
        page.get_by_role("button", name="Visa mitt svar").click()
        page.locator(".error-summary").filter(has_text="Skriv din kvittokod.").wait_for()
        assert page.locator("#kvitto-error").inner_text().endswith("Skriv din kvittokod.")
        assert_accessible(page)
        page.fill("#field-kvitto", "../../etc")
        page.get_by_role("button", name="Visa mitt svar").click()
        page.locator(".error-summary").filter(has_text="Det finns inget svar med den kvittokoden").wait_for()
        assert page.url.startswith(f"{live_server}/mitt-svar")
        assert page.input_value("#field-kvitto") == "../../etc"
        assert_accessible(page)
    finally:
        context.close()


def test_withdrawing_without_the_tick_points_at_the_box(browser, live_server, client) -> None:  # type: ignore[no-untyped-def]
    survey = store(every_type_survey())
    receipt = post(client, survey.slug, VALID).json()["receipt"]
    context = browser.new_context(base_url=live_server, locale="sv-SE", viewport=PHONE)
    page = context.new_page()
    try:
        page.goto("/mitt-svar?lang=sv")
        page.fill("#field-kvitto", receipt)
        page.get_by_role("button", name="Visa mitt svar").click()
        # The answers have a page of their own: reloading it does not post the code again.
        page.get_by_role("heading", name="Ditt svar", exact=True).wait_for()
        assert page.url == f"{live_server}/mitt-svar/visa"
        page.reload()
        page.get_by_role("heading", name="Ditt svar", exact=True).wait_for()
        assert_accessible(page)
        page.get_by_role("button", name="Stäng sidan").click()
        page.locator(".notice").filter(has_text="Sidan med ditt svar är stängd.").wait_for()
        assert_accessible(page)
        page.go_back()  # the closed page is not in the browser's memory either
        assert "Stäng sidan" not in page.content()
        page.goto("/mitt-svar?lang=sv")
        page.fill("#field-kvitto", receipt)
        page.get_by_role("button", name="Visa mitt svar").click()
        page.get_by_role("button", name="Radera mitt svar").click()
        page.locator(".error-summary").wait_for()
        box = page.get_by_role("checkbox", name="Jag vill radera mitt svar. Det går inte att ångra.")
        assert box.get_attribute("aria-invalid") == "true"
        description = page.evaluate(
            "() => document.getElementById(document.getElementById('field-confirm')"
            ".getAttribute('aria-describedby')).innerText"
        )
        assert "Kryssa i rutan" in description
        assert_accessible(page)
        screenshot(page, "qa2-withdraw-without-tick")
        box.check()
        page.get_by_role("button", name="Radera mitt svar").click()
        page.get_by_role("heading", name="Ditt svar är raderat").wait_for()
        assert_accessible(page)
    finally:
        context.close()
