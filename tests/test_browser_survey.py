"""A resident completes the demo survey in Chromium, with JavaScript on and off, and
axe-core finds no WCAG 2.1 A/AA violations on any page, including the error state."""

from __future__ import annotations

from sqlalchemy import select

from consult.responses.models import Response
from tests.conftest import assert_accessible, screenshot

SLUG = "vasternorrland-2030"


def fill_page_one(page) -> None:  # type: ignore[no-untyped-def]
    page.check("#kommun-2282")
    page.check("#alder-3")
    page.check("#kon-1")
    page.fill("#field-ar_i_lanet", "12")


def fill_page_two(page) -> None:  # type: ignore[no-untyped-def]
    page.check("#mal_plats-4")
    page.check("#mal_leva-5")
    page.check("#mal_vaxa-dk")
    page.check("#prioriteringar-8")
    page.check("#prioriteringar-10")


def fill_page_three(page) -> None:  # type: ignore[no-untyped-def]
    page.check("#framtidstro-4")
    page.check("#bo_kvar-2")
    page.fill("#field-forandra", "Fler bussturer mellan Kramfors och Härnösand på kvällarna.")


def fill_page_four(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#field-flytta_varfor", "Jobb")
    page.check("#consent_quote-1")


def receipt_stored(receipt: str) -> Response | None:
    from consult.db import session_scope

    with session_scope() as session:
        stored = receipt.replace("-", "")  # shown in groups
        return session.execute(select(Response).where(Response.receipt == stored)).scalar_one_or_none()


def test_resident_completes_survey_with_javascript(page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/s/{SLUG}")
    assert page.locator("h1").inner_text() == "Västernorrland 2030"
    assert_accessible(page)
    screenshot(page, "js-01-start")
    page.click("text=Starta enkäten")
    page.wait_for_url("**/r/**/1")
    assert "Sida 1 av 4" in page.locator("#progress").inner_text()
    assert_accessible(page)

    # Submit the first page empty: error summary, focused, with links to the fields.
    page.click("button[value=next]")
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert "Svara på frågan." in summary.inner_text()
    assert page.locator("#kommun-error").is_visible()
    assert_accessible(page)
    screenshot(page, "js-02-errors")
    summary.locator("a[href='#field-kommun']").click()

    fill_page_one(page)
    page.click("button[value=next]")
    page.wait_for_url("**/r/**/2")
    page.locator("#progress").filter(has_text="Sida 2 av 4").wait_for()
    assert_accessible(page)
    screenshot(page, "js-03-page2")
    fill_page_two(page)
    page.click("button[value=next]")
    page.wait_for_url("**/r/**/3")
    page.locator("#progress").filter(has_text="Sida 3 av 4").wait_for()
    assert_accessible(page)
    fill_page_three(page)
    screenshot(page, "js-04-page3")
    page.click("button[value=next]")
    page.wait_for_url("**/r/**/4")
    page.locator("#progress").filter(has_text="Sida 4 av 4").wait_for()
    # bo_kvar = Nej, so the follow-up question is shown
    assert page.locator("#field-flytta_varfor").is_visible()
    assert_accessible(page)
    fill_page_four(page)
    page.click("button[value=next]")
    page.wait_for_url("**/kvitto")
    page.locator("#receipt-code").wait_for()
    assert_accessible(page)
    screenshot(page, "js-05-receipt")
    code = page.locator("#receipt-code").inner_text()
    stored = receipt_stored(code)
    assert stored is not None and stored.channel == "web"
    # The code opens the respondent's own answers, and no address the history keeps holds it.
    page.get_by_role("button", name="Se eller radera ditt svar").click()
    page.get_by_role("heading", level=1, name="Ditt svar").wait_for()
    assert code not in page.url
    assert_accessible(page)
    # Deleting it: the survey's own address says so, and this browser may answer again.
    page.get_by_label("Jag vill radera mitt svar. Det går inte att ångra.").check()
    page.get_by_role("button", name="Radera mitt svar").click()
    page.get_by_role("heading", level=1, name="Ditt svar är raderat").wait_for()
    assert page.url.endswith(f"/s/{SLUG}/raderat") and receipt_stored(code) is None
    assert_accessible(page)
    page.get_by_role("link", name="Svara på enkäten igen").click()
    page.get_by_role("button", name="Starta enkäten").wait_for()


def test_resident_completes_survey_without_javascript(page_no_js) -> None:  # type: ignore[no-untyped-def]
    page = page_no_js
    page.goto(f"/s/{SLUG}")
    page.click("text=Starta enkäten")
    page.click("button[value=next]")
    assert page.locator(".error-summary").is_visible()
    screenshot(page, "nojs-01-errors")
    fill_page_one(page)
    # Switching language keeps what is filled in on the page (the switch is a button of its form).
    page.get_by_role("button", name="In English").click()
    page.get_by_text("Page 1 of 4").wait_for()
    assert page.is_checked("#kommun-2282") and page.input_value("#field-ar_i_lanet") == "12"
    page.get_by_role("button", name="På svenska").click()
    page.get_by_text("Sida 1 av 4").wait_for()
    page.click("button[value=next]")
    fill_page_two(page)
    page.click("button[value=next]")
    fill_page_three(page)
    page.click("button[value=next]")
    fill_page_four(page)
    page.click("button[value=next]")
    assert "Tack för dina svar" in page.locator("h1").inner_text()
    screenshot(page, "nojs-02-receipt")
    stored = receipt_stored(page.locator("#receipt-code").inner_text())
    assert stored is not None


def test_survey_in_english_with_keyboard(page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/s/{SLUG}?lang=en")
    assert "How we handle your answers" in page.content()
    page.keyboard.press("Tab")  # skip link first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.click("text=Start the survey")
    page.wait_for_url("**/r/**/1")
    assert "Page 1 of 4" in page.locator("#progress").inner_text()
    assert "Which municipality do you live in?" in page.content()
    assert_accessible(page)
    page.check("#kommun-2282")  # with htmx too, the switch keeps the page's answers and reloads it all
    page.get_by_role("button", name="På svenska").click()
    page.wait_for_url("**/r/**/1?lang=sv")
    page.get_by_text("Sida 1 av 4").wait_for()
    assert page.is_checked("#kommun-2282") and page.get_attribute("html", "lang") == "sv"
    assert_accessible(page)
    page.goto("/?lang=sv")
