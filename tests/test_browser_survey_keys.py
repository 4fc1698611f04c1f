"""A resident answers the survey with the keyboard: Enter in a field (the Go key of a phone's
keyboard) goes on as "Next" does, with JavaScript on and off, and never switches the language."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import assert_accessible
from tests.factories import every_type_survey, store

pytestmark = pytest.mark.browser

SLUG = "vasternorrland-2030"


def start_in_english(page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/s/{SLUG}?lang=en")
    page.get_by_role("button", name="Start the survey").click()
    page.wait_for_url("**/r/**/1")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_enter_in_a_field_goes_to_the_next_page_in_the_same_language(
    request, javascript: bool
) -> None:  # type: ignore[no-untyped-def]
    page = request.getfixturevalue("page" if javascript else "page_no_js")
    start_in_english(page)
    page.check("#kommun-2282")
    page.check("#alder-3")
    page.check("#kon-1")
    # An answer the page refuses: Enter shows its error, in English, and keeps what was typed.
    page.fill("#field-ar_i_lanet", "12 years")
    page.press("#field-ar_i_lanet", "Enter")
    page.locator(".error-summary").wait_for()
    assert page.get_attribute("html", "lang") == "en"
    assert "lang=" not in page.url and page.url.endswith("/1")
    assert page.input_value("#field-ar_i_lanet") == "12 years"
    assert page.locator("#ar_i_lanet-error").is_visible()
    if javascript:  # axe-core is a script
        assert_accessible(page)  # the hidden default button is neither tabbable nor announced
    # Corrected, Enter goes on to page 2, still in English.
    page.fill("#field-ar_i_lanet", "12")
    page.press("#field-ar_i_lanet", "Enter")
    page.wait_for_url("**/r/**/2")
    page.get_by_text("Page 2 of 4").wait_for()
    assert page.get_attribute("html", "lang") == "en"


def test_the_default_button_is_not_a_tab_stop(page) -> None:  # type: ignore[no-untyped-def]
    """Tabbing from the header's language button reaches the page, not an invisible button."""
    start_in_english(page)
    page.get_by_role("button", name="På svenska").focus()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-hidden')") is None
    # And the language switch still keeps the page's answers.
    page.check("#kommun-2282")
    page.fill("#field-ar_i_lanet", "7")
    page.get_by_role("button", name="På svenska").click()
    page.wait_for_url("**/r/**/1?lang=sv")
    page.get_by_text("Sida 1 av 4").wait_for()
    assert page.is_checked("#kommun-2282") and page.input_value("#field-ar_i_lanet") == "7"


def _answer_the_first_page(page, address: str) -> None:  # type: ignore[no-untyped-def]
    """Start the every-type survey at `address` and answer its first page."""
    page.goto(address)
    page.get_by_role("button", name="Starta enkäten").click()
    page.get_by_label("Kramfors").check()
    page.get_by_label("Ja", exact=True).check()
    page.get_by_role("button", name="Nästa").click()
    page.wait_for_url("**/r/**/2")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_an_error_summary_link_shows_the_fields_label_and_error(request, javascript: bool) -> None:  # type: ignore[no-untyped-def]
    """Following a link of the error summary focuses the field with its label and its error in
    sight, not at the very top of the window with both scrolled off above it."""
    page = request.getfixturevalue("page" if javascript else "page_no_js")
    page.set_viewport_size({"width": 390, "height": 560})  # a phone with its keyboard open
    spec = store(every_type_survey())
    _answer_the_first_page(page, f"/s/{spec.slug}")
    page.fill("#field-antal", "tolv")
    page.get_by_role("button", name="Skicka").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    if javascript:  # the swapped-in summary takes focus once htmx settles; a key pressed before that is lost
        expect(summary).to_be_focused()
    summary.locator('a[href="#field-antal"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#field-antal")).to_be_focused()
    page.wait_for_timeout(300)  # the scroll settles
    height = page.evaluate("window.innerHeight")
    assert page.evaluate("window.scrollY") > 0  # the field is further down the page
    for selector in ('label[for="field-antal"]', "#antal-error", "#field-antal"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box)


def test_the_survey_opened_again_offers_to_go_on(page) -> None:  # type: ignore[no-untyped-def]
    """A phone that began answering and opens the campaign link again may go on where it left off."""
    spec = store(every_type_survey())
    _answer_the_first_page(page, f"/s/{spec.slug}?k=affisch")
    page.goto(f"/s/{spec.slug}?k=affisch")
    assert_accessible(page)
    page.get_by_role("link", name="Fortsätt där du slutade").click()
    page.wait_for_url("**/r/**/2")
    page.get_by_role("button", name="Tillbaka").click()
    page.locator("#progress").filter(has_text="Sida 1 av 2").wait_for()
    assert page.get_by_label("Kramfors").is_checked()
