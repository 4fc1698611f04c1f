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
