"""A resident with JavaScript on, where htmx swaps the pages: the browser's Back, a survey that closes
while someone answers, and sending again after the receipt. Each must show what the server knows."""

from __future__ import annotations

import re

import pytest

from consult.surveys.schema import SurveySpec
from tests.conftest import assert_accessible, press_back, screenshot
from tests.factories import every_type_survey, store

pytestmark = pytest.mark.browser


def start(page, spec: SurveySpec) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/s/{spec.slug}")
    page.get_by_role("button", name="Starta enkäten").click()
    page.wait_for_url("**/r/**/1")


def answer_page_one(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Kramfors").check()
    page.get_by_label("Nej", exact=True).check()
    page.get_by_label("B", exact=True).check()
    page.get_by_role("button", name="Nästa").click()
    page.wait_for_url("**/r/**/2")


def test_back_shows_the_answers_already_saved(page) -> None:  # type: ignore[no-untyped-def]
    spec = store(every_type_survey())
    start(page, spec)
    answer_page_one(page)
    page.get_by_label("Kort").fill("Mer service på landsbygden")
    press_back(page)
    page.wait_for_url("**/r/**/1")
    # The server's copy of page 1, not an empty snapshot: sending it again keeps the answers.
    assert page.get_by_label("Kramfors").is_checked()
    assert page.get_by_label("Nej", exact=True).is_checked()
    assert page.get_by_label("B", exact=True).is_checked()
    page.get_by_role("button", name="Nästa").click()
    page.wait_for_url("**/r/**/2")
    page.get_by_role("button", name="Tillbaka").click()
    page.locator("#progress").filter(has_text="Sida 1 av 2").wait_for()
    assert page.get_by_label("Kramfors").is_checked()


def test_a_survey_closed_while_someone_answers_says_so(page) -> None:  # type: ignore[no-untyped-def]
    from consult.authoring.service import set_status
    from consult.db import session_scope
    from consult.surveys.models import SurveyStatus

    spec = store(every_type_survey())
    start(page, spec)
    answer_page_one(page)
    with session_scope() as session:
        set_status(session, slug=spec.slug, status=SurveyStatus.closed, user_id=None)
    page.wait_for_timeout(2500)  # the server's workers check a survey's status every two seconds
    page.get_by_role("button", name="Skicka").click()
    heading = page.get_by_role("heading", level=1)
    heading.filter(has_text=spec.title["sv"]).wait_for()
    assert "Enkäten är stängd" in page.locator("#survey").inner_text()
    assert_accessible(page)
    screenshot(page, "survey-closed-while-answering")


def test_sending_again_after_the_receipt_shows_the_already_answered_page(page) -> None:  # type: ignore[no-untyped-def]
    spec = store(every_type_survey())
    start(page, spec)
    answer_page_one(page)
    page.fill("#field-varfor_nej", "För långt till jobbet")
    page.get_by_role("button", name="Skicka").click()
    page.wait_for_url("**/kvitto")
    press_back(page)
    page.wait_for_url(re.compile(r"/r/"))
    page.wait_for_load_state()
    if page.get_by_role("button", name="Skicka").count():  # the page, if the browser shows it again
        page.get_by_role("button", name="Skicka").click()
    page.get_by_role("heading", level=1, name="Du har redan svarat").wait_for()
    assert page.get_by_role("button", name="Se eller radera ditt svar").is_visible()
    assert_accessible(page)
