"""A survey for invited people in Chromium: the code field is labelled and explained, a wrong
code is summarised and focused, axe-core finds no WCAG 2.1 A/AA violations, and the personal
link of a letter takes the respondent to the first page with one press."""

from __future__ import annotations

from tests.conftest import assert_accessible, screenshot
from tests.factories import every_type_survey, store


def _codes(survey_id: int, count: int) -> list[str]:
    from consult.campaigns import invitations
    from consult.db import session_scope

    with session_scope() as session:
        return invitations.create_codes(session, survey_id=survey_id, count=count, batch="Brev 1", user_id=None)


def test_invitation_code_errors_are_accessible_and_the_personal_link_starts(page) -> None:  # type: ignore[no-untyped-def]
    spec = store(every_type_survey(access="invitation"))
    assert spec.id is not None
    code = _codes(spec.id, 1)[0]
    page.goto(f"/s/{spec.slug}")
    assert page.get_by_label("Din inbjudningskod").input_value() == ""
    assert_accessible(page)
    page.get_by_label("Din inbjudningskod").fill("ABCD-EFGH")
    page.click("text=Starta enkäten")
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert "Koden gäller inte den här enkäten" in summary.inner_text()
    assert page.locator("#field-code").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "invitation-01-wrong-code")

    page.goto(f"/s/{spec.slug}?kod={code}")
    assert page.get_by_label("Din inbjudningskod").input_value() == code
    page.click("text=Starta enkäten")
    page.wait_for_url("**/r/**/1")
    assert "Sida 1 av 2" in page.locator("#progress").inner_text()


def test_the_invitation_codes_page_is_accessible_in_its_error_state(page) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import service
    from consult.db import session_scope

    spec = store(every_type_survey(access="invitation"))
    email = f"browser-codes-{spec.slug}@test.se"
    with session_scope() as session:
        service.create_user(session, email=email, password="ett-långt-lösenord-42", role="analyst")
    page.goto(f"/login?next=/admin/surveys/{spec.slug}/inbjudningar")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill("ett-långt-lösenord-42")
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"**/admin/surveys/{spec.slug}/inbjudningar")
    assert page.get_by_role("heading", level=1).inner_text() == "Inbjudningskoder"
    assert_accessible(page)
    page.get_by_label("Antal koder").fill("noll")
    page.get_by_role("button", name="Skapa koderna och ladda ner dem").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "Namnge utskicket" in summary.inner_text() or "Skriv ett heltal" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert_accessible(page)
    screenshot(page, "invitation-02-codes-error")


def test_a_code_used_on_another_device_first_gets_a_clear_accessible_page(page, browser, live_server) -> None:  # type: ignore[no-untyped-def]
    spec = store(every_type_survey(access="invitation"))
    assert spec.id is not None
    code = _codes(spec.id, 1)[0]
    other_context = browser.new_context(base_url=live_server, locale="sv-SE")
    other = other_context.new_page()
    for device in (page, other):
        device.goto(f"/s/{spec.slug}?kod={code}")
        device.click("text=Starta enkäten")
        device.wait_for_url("**/r/**/1")
    for device in (other, page):  # the other device finishes first
        device.get_by_label("Härnösand").check()
        device.get_by_label("Ja", exact=True).check()
        device.get_by_role("button", name="Nästa").click()
        device.wait_for_url("**/r/**/2")
        device.get_by_role("button", name="Skicka").click()
    other.wait_for_url("**/kvitto")
    other_context.close()
    # With JavaScript on, htmx swaps the 409 page in: the person must see why nothing was stored.
    page.get_by_role("heading", level=1, name="Inbjudningskoden har redan använts").wait_for()
    assert_accessible(page)
    screenshot(page, "invitation-03-code-used")
