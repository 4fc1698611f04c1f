"""Defects found by walking through consult in Chromium as its users do: a resident on a phone,
an interviewer on a flaky network, an organisation reading the public list of answers."""

from __future__ import annotations

import uuid

import pytest

from consult.surveys.schema import PageSpec, SurveySpec
from tests.conftest import assert_accessible, screenshot
from tests.factories import event_survey, q, store
from tests.test_browser_interviews import PASSWORD, log_in

PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def interviewer(migrated: str) -> str:
    from consult.accounts import service
    from consult.db import session_scope

    email = f"qa-interviewer-{uuid.uuid4().hex[:6]}@intervju.se"
    with session_scope() as session:
        service.create_user(session, email=email, password=PASSWORD, role="interviewer", name="QA Intervjuare")
    return email


@pytest.fixture(scope="module")
def survey(migrated: str) -> SurveySpec:
    return store(event_survey(
        "qa",
        (q("kort", "short_text", "Vad behövs mest?"),),
        PageSpec(title={"sv": "Sist", "en": "Last"}, questions=(q("lang", "long_text", "Något mer?"),)),
    ))


@pytest.fixture()
def phone(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, locale="sv-SE", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()




def page_width(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth")


def test_queued_entries_sent_later_replace_the_no_connection_notice(phone, interviewer, survey) -> None:  # type: ignore[no-untyped-def]
    page = phone
    log_in(page, interviewer, "/intervju")
    page.goto(f"/intervju/formular?survey={survey.slug}&channel=interview_phone&place=")
    assert_accessible(page)  # loads axe-core while the network is there
    page.context.set_offline(True)
    page.check("#kommun-1")
    page.fill("#field-kort", "Fler bussar")
    page.get_by_role("button", name="Spara och nästa").click()
    page.locator("#queue-status").filter(has_text="1 svar väntar på att skickas").wait_for()
    assert "Ingen anslutning" in page.locator("#entry-status").inner_text()

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator("[data-interview][data-waiting='0']").wait_for(timeout=60_000)
    status = page.locator("#entry-status")
    status.filter(has_text="de väntande svaren har skickats").wait_for()
    assert "Ingen anslutning" not in status.inner_text()
    assert_accessible(page)


def test_interviewers_list_of_the_day_fits_a_phone(phone, interviewer, survey) -> None:  # type: ignore[no-untyped-def]
    page = phone
    log_in(page, interviewer, "/intervju")
    for text in ("Första", "Andra"):
        page.goto(f"/intervju/formular?survey={survey.slug}&channel=event&place=Kramfors+bibliotek")
        page.check("#kommun-2")
        page.fill("#field-kort", text)
        page.get_by_role("button", name="Spara och nästa").click()
        page.locator("#entry-status").filter(has_text="sparades").wait_for()
    page.goto("/intervju")
    assert page.locator("main table tbody tr").count() >= 2
    assert page_width(page) <= PHONE["width"]  # the table scrolls in its box, the page does not
    assert page.get_by_role("region", name="Dina svar i dag").locator("tbody tr").count() >= 2
    screenshot(page, "qa-interviewer-today-phone")
    assert_accessible(page)


def test_resume_link_shows_the_whole_address(phone, live_server) -> None:  # type: ignore[no-untyped-def]
    page = phone
    page.goto("/s/vasternorrland-2030")
    page.get_by_role("button", name="Starta enkäten").click()
    page.wait_for_url("**/r/**/1")
    page.locator("summary", has_text="Fortsätt senare").click()
    link = page.locator("a.resume-link")
    shown = link.inner_text()
    assert shown.startswith(live_server + "/s/vasternorrland-2030/r/")
    assert shown == link.evaluate("a => a.href")
    assert page_width(page) <= PHONE["width"]


def test_public_list_of_remiss_answers_fits_a_phone(phone) -> None:  # type: ignore[no-untyped-def]
    page = phone
    page.goto("/remiss/rus-2025")
    assert page.locator("main table tbody tr").count() >= 1
    assert page_width(page) <= PHONE["width"]
    assert page.get_by_role("region", name="Organisationer som har svarat").locator("tbody tr").count() >= 1
    assert_accessible(page)
