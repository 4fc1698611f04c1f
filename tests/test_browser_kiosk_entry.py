"""Kiosk mode in Chromium: an interviewer opens it from the interviewers' page (errors beside the
field, axe-core on each state), and Back on the kiosk after a finished response lands on the
kiosk's start page rather than on a "page not found" dead end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from consult.surveys.schema import SurveySpec
from tests.conftest import assert_accessible, press_back, screenshot
from tests.factories import kiosk_survey, put_page_in_kiosk_mode, store
from tests.staff import create_staff

pytestmark = pytest.mark.browser

PASSWORD = "ett-långt-lösenord-42"
KIOSK_EVENT = "Framtidsdag i Härnösand"
NOT_FOUND = "Sidan finns inte"


@pytest.fixture(scope="module")
def survey(migrated: str) -> SurveySpec:
    return store(kiosk_survey("kiosk-in"))


def kiosk_start(survey: SurveySpec) -> re.Pattern[str]:
    return re.compile(rf"/s/{survey.slug}\?kiosk=")


def log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts.service import reset_login_limits

    reset_login_limits()
    page.goto("/login?next=/intervju")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/intervju"))


def test_an_interviewer_opens_kiosk_mode_from_the_interviewers_page(page, survey) -> None:  # type: ignore[no-untyped-def]
    log_in(page, create_staff("kiosk-browser", PASSWORD)["interviewer"])
    kiosk_form = page.locator("form[action='/intervju/kiosk']")
    assert kiosk_form.get_by_role("heading", name="Öppna kioskläge").is_visible()
    assert "ingen kvittokod visas" in kiosk_form.inner_text()
    assert_accessible(page)

    kiosk_form.get_by_label("Vad ska kiosken visa?").select_option(survey.slug)
    kiosk_form.get_by_role("button", name="Öppna kioskläge").click()  # no event name yet
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "Ange evenemangets namn." in page.locator("#kiosk-place-error").inner_text()
    assert page.get_by_label("Evenemangets namn").get_attribute("aria-invalid") == "true"
    assert page.locator("#field-kiosk-survey").input_value() == survey.slug  # the choice stays
    assert_accessible(page)
    screenshot(page, "kiosk-entry-error")
    summary.get_by_role("link", name="Ange evenemangets namn.").click()
    assert page.evaluate("document.activeElement.id") == "field-kiosk-place"

    page.get_by_label("Evenemangets namn").fill(KIOSK_EVENT)
    page.get_by_role("button", name="Öppna kioskläge").click()
    page.wait_for_url(kiosk_start(survey))
    assert page.get_by_role("button", name="Starta enkäten").is_visible()
    assert page.locator("input[name=kiosk]").input_value() == KIOSK_EVENT
    # The tablet is handed over logged out: the staff pages ask for a login again.
    page.goto("/intervju")
    assert "/login" in page.url


def answer_at_the_kiosk(page, live_server: str, survey: SurveySpec) -> None:  # type: ignore[no-untyped-def]
    put_page_in_kiosk_mode(page, live_server, survey.slug, KIOSK_EVENT)
    page.goto(f"/s/{survey.slug}?kiosk={KIOSK_EVENT}")
    page.get_by_role("button", name="Starta enkäten").click()
    page.wait_for_url("**/r/**/1")
    page.check("#kommun-2")
    page.fill("#field-kort", "Person A:s egna ord")
    page.click("button[value=next]")
    page.locator("#progress").filter(has_text="Sida 2 av 2").wait_for()
    page.check("#val-1")
    page.click("button[value=next]")
    page.get_by_role("link", name="Nytt svar").wait_for()


def lands_on_the_kiosk_start(page, survey: SurveySpec) -> None:  # type: ignore[no-untyped-def]
    # The address is polled: after Back, the page left behind and the page come back to may each
    # send the kiosk to its start, and the browser abandons one of those two navigations, which
    # wait_for_url would report as a failure although the kiosk ends where it should.
    expect(page).to_have_url(kiosk_start(survey))


def back_lands_on_the_kiosk_start(page, survey: SurveySpec) -> None:  # type: ignore[no-untyped-def]
    press_back(page)
    lands_on_the_kiosk_start(page, survey)
    page.get_by_role("button", name="Starta enkäten").wait_for()
    assert NOT_FOUND not in page.content()


@pytest.mark.parametrize("next_person", ["waits", "taps New response"])
def test_back_after_a_finished_kiosk_response_lands_on_the_kiosk_start(page, live_server, survey, next_person) -> None:  # type: ignore[no-untyped-def]
    answer_at_the_kiosk(page, live_server, survey)
    if next_person == "waits":
        page.wait_for_url(kiosk_start(survey), timeout=20_000)  # the thank-you page returns by itself
    else:
        page.get_by_role("link", name="Nytt svar").click()
        page.wait_for_url(kiosk_start(survey))
    for _press in range(3):  # the finished response's pages are gone: every Back ends at the start
        back_lands_on_the_kiosk_start(page, survey)
    assert_accessible(page)


def test_a_gone_response_outside_a_kiosk_still_says_so(page, survey) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/s/{survey.slug}")
    page.get_by_role("button", name="Starta enkäten").click()
    page.wait_for_url("**/r/**/1")
    page.goto(page.url.replace("/r/", "/r/X"))  # an address with no draft behind it
    page.wait_for_timeout(500)  # the kiosk script would have moved on by now
    assert "/r/X" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == NOT_FOUND
    assert_accessible(page)


def test_back_within_a_kiosk_response_stays_unless_the_response_is_gone(page, live_server, survey) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete

    from consult.db import session_scope
    from consult.responses.models import ResponseDraft

    put_page_in_kiosk_mode(page, live_server, survey.slug, KIOSK_EVENT)
    page.goto(f"/s/{survey.slug}?kiosk={KIOSK_EVENT}")
    page.get_by_role("button", name="Starta enkäten").click()
    page.wait_for_url("**/r/**/1")
    token = page.url.split("/r/")[1].split("/")[0]
    page.check("#kommun-2")
    page.click("button[value=next]")
    page.locator("#progress").filter(has_text="Sida 2 av 2").wait_for()
    press_back(page)  # the same person, still answering: page 1 again, reloaded from the server
    page.wait_for_url("**/r/**/1")
    page.wait_for_timeout(1000)
    assert "/r/" in page.url and page.locator("#progress").inner_text() == "Sida 1 av 2"

    # Forward reloads page 2 from the server; the response goes only once that request is in.
    with page.expect_response(lambda response: response.url.endswith(f"/r/{token}/2")):
        press_back(page, forward=True)
    page.wait_for_url("**/r/**/2")
    page.wait_for_load_state()  # the reloaded page 2, not the one the URL changed on
    page.locator("#progress").filter(has_text="Sida 2 av 2").wait_for()
    with session_scope() as session:  # the response is gone meanwhile (as after a finished one)
        session.execute(delete(ResponseDraft).where(ResponseDraft.token == token))
    press_back(page)
    lands_on_the_kiosk_start(page, survey)
    expect(page.get_by_role("button", name="Starta enkäten")).to_be_visible()


def test_the_place_fields_offer_the_chosen_surveys_names(page, survey) -> None:  # type: ignore[no-untyped-def]
    """Each survey's place and event names already used are offered on both place fields; with
    the script, the offer follows the survey chosen beside the field."""
    import uuid

    from consult.db import session_scope
    from consult.responses.models import Channel
    from consult.responses.service import NewResponse, store_responses

    other = store(kiosk_survey("kiosk-named"))
    with session_scope() as session:
        store_responses(session, [
            NewResponse(spec=other, client_uuid=str(uuid.uuid4()), values={"kommun": 1}, channel=Channel.event,
                        event_name="Mässa i Sundsvall"),
        ])
    log_in(page, create_staff("kiosk-places-browser", PASSWORD)["interviewer"])
    kiosk_form = page.locator("form[action='/intervju/kiosk']")
    kiosk_form.get_by_label("Vad ska kiosken visa?").select_option(other.slug)
    assert page.locator("#field-kiosk-place").get_attribute("list") == f"places-{other.slug}"
    options = page.locator(f"datalist#places-{other.slug} option")
    assert options.evaluate_all("(all) => all.map((o) => o.value)") == ["Mässa i Sundsvall"]
    kiosk_form.get_by_label("Vad ska kiosken visa?").select_option(survey.slug)
    assert page.locator("#field-kiosk-place").get_attribute("list") in (None, f"places-{survey.slug}")
    page.locator("#field-survey").select_option(other.slug)
    assert page.locator("#field-place").get_attribute("list") == f"places-{other.slug}"
    assert_accessible(page)
