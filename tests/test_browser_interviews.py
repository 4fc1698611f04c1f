"""Interviewers, analysts and kiosks in Chromium: the offline queue sends each entry exactly once,
the keyboard-only entry form, corrections and review, kiosk mode's return to the start, and
axe-core on every page of the channel."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from consult.responses.models import Response, ResponseDraft
from consult.surveys.schema import PageSpec, SurveySpec
from tests.conftest import assert_accessible, screenshot
from tests.factories import choices, event_survey, put_page_in_kiosk_mode, q, store

pytestmark = pytest.mark.browser

PASSWORD = "ett-långt-lösenord-42"
KIOSK_EVENT = "Framtidsdag i Härnösand"
# The waiting entries of the interviewer logged in on this page (each person has their own).
QUEUE = "'consult.interviews.queue.v2.' + document.querySelector('[data-interview]').dataset.person"


@pytest.fixture(scope="module", autouse=True)
def review_tables(migrated: str) -> None:
    """The migrated test database, which has the review tables."""


@pytest.fixture(scope="module")
def staff(review_tables) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from consult.accounts import service
    from consult.db import session_scope

    suffix = uuid.uuid4().hex[:6]
    emails = {name: f"browser-{name}-{suffix}@intervju.se" for name in ("interviewer", "analyst", "interviewer2")}
    with session_scope() as session:
        for name, email in emails.items():
            service.create_user(session, email=email, password=PASSWORD, role=name.rstrip("2"), name=f"Test {name}")
    return emails


@pytest.fixture(scope="module")
def survey(review_tables) -> SurveySpec:  # type: ignore[no-untyped-def]
    return store(event_survey(
        "intervju",
        (q("val", "single_choice", "Vill du bo kvar?", required=True, choices=choices("Ja", "Nej")),
         q("kort", "short_text", "Vad behövs mest?")),
        PageSpec(title={"sv": "Framtiden", "en": "The future"},
                 questions=(q("skala", "scale", "Hur ser du på framtiden?", allow_dont_know=True),)),
    ))


def log_in(page, email: str, next_path: str) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts.service import reset_login_limits

    reset_login_limits()  # many logins from one address in one test run
    page.goto(f"/login?next={next_path}")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(re.escape(next_path.split("?")[0])))


def responses_entered_by(email: str) -> list[Response]:
    from consult.accounts.service import get_user_by_email
    from consult.db import session_scope

    with session_scope() as session:
        user = get_user_by_email(session, email)
        assert user is not None
        query = select(Response).where(Response.entered_by_id == user.id).order_by(Response.id)  # as stored
        return list(session.execute(query).scalars())


def open_entry_form(page, survey: SurveySpec, channel_label: str, place: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Enkät").select_option(survey.slug)
    page.get_by_label(channel_label, exact=True).check()
    page.get_by_label("Plats eller evenemang").fill(place)
    page.get_by_role("button", name="Börja fylla i").click()
    page.wait_for_url("**/intervju/formular?**")


def fill_entry(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.check("#kommun-2")
    page.check("#val-1")
    page.fill("#field-kort", text)


def test_offline_entries_arrive_exactly_once(page, staff, survey) -> None:  # type: ignore[no-untyped-def]
    log_in(page, staff["interviewer"], "/intervju")
    assert page.get_by_role("heading", level=1).inner_text() == "Intervjuer"
    assert_accessible(page)
    open_entry_form(page, survey, "Ansikte mot ansikte", "Kramfors bibliotek")
    assert page.evaluate("document.activeElement.id") == "kommun-1"  # ready for the first answer
    assert_accessible(page)  # also loads axe-core while the network is there

    page.context.set_offline(True)
    for n in (1, 2, 3):
        fill_entry(page, f"Offline {n}")
        if n == 2:
            page.keyboard.press("Control+Enter")
        else:
            page.get_by_role("button", name="Spara och nästa").click()
        status = page.locator("#queue-status")
        status.filter(has_text=f"{n} svar väntar på att skickas").wait_for()
        assert page.input_value("#field-kort") == ""  # an empty form for the next respondent
        assert "Ingen anslutning" in page.locator("#entry-status").inner_text()
    assert page.get_attribute("#queue-status", "aria-live") == "polite"
    uuids = page.evaluate(f"JSON.parse(localStorage.getItem({QUEUE})).map(e => e.payload.client_uuid)")
    assert len(set(uuids)) == 3
    # A resend of an entry the server may already have must be harmless: queue one twice.
    page.evaluate(
        f"""() => {{ const key = {QUEUE};
                   const queue = JSON.parse(localStorage.getItem(key));
                   localStorage.setItem(key, JSON.stringify(queue.concat([queue[0]]))); }}"""
    )
    assert_accessible(page)
    screenshot(page, "interviews-offline-queue")
    assert responses_entered_by(staff["interviewer"]) == []

    page.context.set_offline(False)
    page.locator("[data-interview][data-waiting='0']").wait_for(timeout=60_000)  # polls until the queue is empty
    assert page.locator("#queue-status").is_hidden()
    stored = responses_entered_by(staff["interviewer"])
    assert sorted(r.client_uuid for r in stored) == sorted(uuids)
    assert {r.channel for r in stored} == {"interview_in_person"}
    assert {r.event_name for r in stored} == {"Kramfors bibliotek"}
    assert all(r.started_at is not None and r.started_at <= r.submitted_at for r in stored)  # type: ignore[operator]


def test_status_after_sending_says_what_became_of_the_waiting_entries(browser, live_server, staff, survey) -> None:  # type: ignore[no-untyped-def]
    """QA (English, on a phone): of two entries kept offline, the server took one and refused the
    other, yet the status line still said there was no connection. It now says what happened."""
    context = browser.new_context(base_url=live_server, locale="en-GB", viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, staff["interviewer"], "/intervju")
        page.goto(f"/intervju/formular?survey={survey.slug}&channel=interview_phone&lang=en")
        before = len(responses_entered_by(staff["interviewer"]))
        page.context.set_offline(True)
        page.get_by_role("button", name="Save and next").click()  # nothing chosen: the server will refuse it
        page.locator("#queue-status").filter(has_text="1 response is waiting to be sent").wait_for()
        fill_entry(page, "Valid")
        page.get_by_role("button", name="Save and next").click()
        page.locator("#queue-status").filter(has_text="2 responses are waiting to be sent").wait_for()
        assert page.locator("#entry-status").inner_text().startswith("No connection")

        page.context.set_offline(False)
        page.locator("[data-interview][data-waiting='0']").wait_for(timeout=60_000)
        assert page.locator("#queue-problems").is_visible()
        assert page.locator("#entry-status").inner_text() == (
            "The connection is back. 1 waiting response was sent. "
            "1 waiting response could not be saved and needs correcting: see below."
        )
        assert len(responses_entered_by(staff["interviewer"])) == before + 1
        assert_accessible(page)
        screenshot(page, "interviews-sent-and-refused-phone")

        # The refused one, corrected and saved, leaves nothing waiting or to correct.
        page.get_by_role("button", name="Show the first one in the form").click()
        page.check("#kommun-1")
        page.check("#val-2")
        page.get_by_role("button", name="Save and next").click()
        page.locator("#entry-status").filter(has_text="The answers were saved").wait_for()
        assert page.locator("#queue-problems").is_hidden()
        assert len(responses_entered_by(staff["interviewer"])) == before + 2
    finally:
        context.close()


def test_waiting_entries_are_sent_only_under_the_name_of_who_entered_them(page, staff, survey) -> None:  # type: ignore[no-untyped-def]
    """A QA pass queued an entry on a shared tablet, logged out, and logged in as another interviewer:
    the entry was sent under the second person's name. Each person's waiting entries are their own."""
    first, second = staff["interviewer"], staff["interviewer2"]
    log_in(page, first, "/intervju")
    open_entry_form(page, survey, "Ansikte mot ansikte", "Timrå")
    before = len(responses_entered_by(first))
    page.route("**/api/intervju/responses", lambda route: route.abort())  # the server cannot be reached
    fill_entry(page, "Väntar på nätet")
    page.get_by_role("button", name="Spara och nästa").click()
    page.locator("#queue-status").filter(has_text="1 svar väntar på att skickas").wait_for()
    page.unroute("**/api/intervju/responses")
    # Logging out says what stays on the device, and can be called off.
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_timeout(300)
    assert asked and asked[0].startswith("1 intervjusvar på den här enheten är inte sparat än.")
    assert "/intervju" in page.url and page.locator("#queue-status").is_visible()
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_url("**/login**")
    assert len(asked) == 2

    log_in(page, second, "/intervju")
    open_entry_form(page, survey, "Ansikte mot ansikte", "Timrå")
    page.wait_for_timeout(1500)  # the form sends what is waiting as it opens
    assert page.locator("#queue-status").is_hidden()
    assert responses_entered_by(second) == [] and len(responses_entered_by(first)) == before
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Logga ut").click()  # nothing of the second person's waits: no question
    page.wait_for_url("**/login**")
    assert len(asked) == 2

    log_in(page, first, "/intervju")
    open_entry_form(page, survey, "Ansikte mot ansikte", "Timrå")
    page.locator("[data-interview][data-waiting='0']").wait_for(timeout=30_000)
    assert len(responses_entered_by(first)) == before + 1 and responses_entered_by(second) == []


def _set_temporary_password(email: str, temporary: bool) -> None:
    from consult.accounts.service import get_user_by_email
    from consult.db import session_scope

    with session_scope() as session:
        user = get_user_by_email(session, email)
        assert user is not None
        user.password_temporary = temporary
        session.add(user)


def test_entries_held_back_by_a_temporary_password_say_so(page, staff, survey) -> None:  # type: ignore[no-untyped-def]
    """An admin resets the interviewer's password while the form is open: the server keeps the
    entry out until the interviewer chooses a password, and the queue says that, not that the
    login expired (which sends the interviewer to a login that does not help)."""
    email = staff["interviewer2"]
    log_in(page, email, "/intervju")
    open_entry_form(page, survey, "Ansikte mot ansikte", "Sollefteå")
    before = len(responses_entered_by(email))
    _set_temporary_password(email, True)
    try:
        fill_entry(page, "Väntar på ett eget lösenord")
        page.get_by_role("button", name="Spara och nästa").click()
        status = page.locator("#queue-status")
        status.filter(has_text="1 svar väntar på att skickas").wait_for()
        assert "tillfälligt lösenord" in status.inner_text() and "inloggning har gått ut" not in status.inner_text()
        assert_accessible(page)
    finally:
        _set_temporary_password(email, False)
    page.locator("[data-interview][data-waiting='0']").wait_for(timeout=60_000)  # sent once it may be
    assert len(responses_entered_by(email)) == before + 1


def test_keyboard_entry_with_errors_from_the_server(page, staff, survey) -> None:  # type: ignore[no-untyped-def]
    log_in(page, staff["interviewer"], "/intervju")
    open_entry_form(page, survey, "Telefon", "")
    before = len(responses_entered_by(staff["interviewer"]))

    page.fill("#field-kort", "Enter ska inte spara")
    page.press("#field-kort", "Enter")
    page.wait_for_timeout(500)
    assert len(responses_entered_by(staff["interviewer"])) == before

    page.get_by_role("button", name="Spara och nästa").click()  # nothing chosen: the server explains
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.locator("#kommun-error").is_visible() and page.locator("#val-error").is_visible()
    assert page.input_value("#field-kort") == "Enter ska inte spara"
    assert_accessible(page)
    screenshot(page, "interviews-entry-errors")
    assert len(responses_entered_by(staff["interviewer"])) == before

    page.check("#kommun-1")
    page.check("#val-2")
    page.keyboard.press("Control+Enter")
    page.locator("#entry-status").filter(has_text="Svaren sparades").wait_for()
    assert page.locator(".error-summary").count() == 0 and page.input_value("#field-kort") == ""
    assert page.evaluate("document.activeElement.id") == "kommun-1"
    stored = responses_entered_by(staff["interviewer"])
    assert len(stored) == before + 1 and stored[-1].channel == "interview_phone"


def test_enter_on_a_choice_does_not_save_a_half_entered_respondent(page, staff, survey) -> None:  # type: ignore[no-untyped-def]
    """QA: with the required questions answered, Enter on a focused option saved the entry and
    cleared the form, in the middle of the interview. Only Ctrl+Enter or the button saves."""
    log_in(page, staff["interviewer"], "/intervju")
    open_entry_form(page, survey, "Telefon", "")
    before = len(responses_entered_by(staff["interviewer"]))
    fill_entry(page, "Halvvägs")
    for option in ("#val-1", "#kommun-2", "#skala-1"):
        page.focus(option)
        page.keyboard.press("Enter")
    page.wait_for_timeout(800)
    assert len(responses_entered_by(staff["interviewer"])) == before
    assert page.is_checked("#val-1") and page.is_checked("#kommun-2")
    assert page.input_value("#field-kort") == "Halvvägs"
    assert "Svaren sparades" not in page.locator("#entry-status").inner_text()

    page.focus("#val-1")
    page.keyboard.press("Control+Enter")
    page.locator("#entry-status").filter(has_text="Svaren sparades").wait_for()
    assert len(responses_entered_by(staff["interviewer"])) == before + 1
    # Enter on the button itself is a deliberate press.
    page.evaluate("document.getElementById('entry-status').textContent = ''")
    fill_entry(page, "Knappen")
    page.focus("[data-save]")
    page.keyboard.press("Enter")
    page.locator("#entry-status").filter(has_text="Svaren sparades").wait_for()
    assert len(responses_entered_by(staff["interviewer"])) == before + 2


def test_entry_and_correction_without_javascript(page_no_js, staff, survey) -> None:  # type: ignore[no-untyped-def]
    page = page_no_js
    log_in(page, staff["interviewer"], "/intervju")
    page.get_by_label("Evenemang", exact=True).check()
    page.get_by_role("button", name="Börja fylla i").click()
    assert page.locator("#place-error").is_visible()  # an event needs its name
    open_entry_form(page, survey, "Inmatning från papper", "Pappersenkät Sollefteå")
    fill_entry(page, "Fler bussar")
    page.get_by_role("button", name="Spara och nästa").click()
    page.wait_for_url(re.compile(r"saved=\d+"))
    assert "Svaren sparades" in page.locator("#entry-status").inner_text()
    entry = responses_entered_by(staff["interviewer"])[-1]
    assert entry.channel == "paper" and entry.event_name == "Pappersenkät Sollefteå"

    page.get_by_role("link", name="Dina svar i dag").first.click()
    page.get_by_role("link", name=re.compile(rf"Rätta .*\(#{entry.id}\)")).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Rätta ett svar"
    page.fill("#field-kort", "Fler tåg")
    page.get_by_role("button", name="Spara rättelsen").click()
    assert "Rättelsen sparades" in page.locator(".notice").inner_text()


def test_analyst_reviews_an_edited_response(page, browser, live_server, staff, survey) -> None:  # type: ignore[no-untyped-def]
    edited = next(r for r in responses_entered_by(staff["interviewer"]) if r.review_state == "edited")
    log_in(page, staff["analyst"], f"/granskning?survey={survey.slug}")
    assert page.get_by_role("heading", level=1).inner_text() == "Granska svar"
    assert_accessible(page)
    page.get_by_role("link", name=f"#{edited.id}", exact=True).click()
    history = page.locator("ol.history").inner_text()
    assert "Redigerad (version 2)" in history and "Fler bussar → Fler tåg" in history
    assert_accessible(page)
    page.get_by_label("Godkänt").check()
    page.get_by_label("Kommentar").fill("Stämmer med pappersenkäten")
    page.get_by_role("button", name="Spara statusen").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert "Stämmer med pappersenkäten" in page.locator("ol.history").inner_text()
    assert_accessible(page)
    screenshot(page, "interviews-review")

    # Text the automatic redaction missed: a phrase the answer lacks is refused in an error summary
    # that takes focus; one it has is removed and the history says why.
    page.get_by_label("Fråga", exact=True).select_option("kort")
    page.get_by_label("Text som ska tas bort").fill("Kalle Berg")
    page.get_by_label("Annat skäl").check()
    page.get_by_role("button", name="Ta bort texten").click()
    assert "Svaret innehåller inte den texten" in page.locator(".error-summary").inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.get_by_label("Text som ska tas bort").input_value() == "Kalle Berg"
    assert_accessible(page)
    page.get_by_label("Text som ska tas bort").fill("TÅG")
    page.get_by_role("button", name="Ta bort texten").click()
    page.wait_for_url(re.compile(r"removed=1"))
    assert "Fler [borttaget]" in page.locator("table").first.inner_text()
    assert "Text borttagen ur" in page.locator("ol.history").inner_text()
    assert_accessible(page)

    interviewer_context = browser.new_context(base_url=live_server, locale="sv-SE")
    other = interviewer_context.new_page()
    log_in(other, staff["interviewer"], "/intervju")
    assert_accessible(other)  # today's entries, with their review states
    assert other.goto(f"/granskning/{edited.id}").status == 403
    interviewer_context.close()


def test_kiosk_returns_to_the_start(page, live_server, survey) -> None:  # type: ignore[no-untyped-def]
    put_page_in_kiosk_mode(page, live_server, survey.slug, KIOSK_EVENT)
    start_url = f"/s/{survey.slug}?kiosk={KIOSK_EVENT}"
    page.goto(start_url)
    page.get_by_role("button", name="Starta enkäten").click()
    page.wait_for_url("**/r/**/1")
    assert page.locator(".resume").count() == 0
    assert page.get_by_role("button", name="Avbryt och börja om").is_visible()
    assert_accessible(page)
    page.check("#kommun-1")
    page.check("#val-1")
    page.click("button[value=next]")
    page.locator("#progress").filter(has_text="Sida 2 av 2").wait_for()
    page.check("#skala-dk")
    page.click("button[value=next]")
    page.get_by_role("link", name="Nytt svar").wait_for()
    assert "/tack?kiosk=" in page.url and "kvitto" not in page.url  # no receipt code in a shared device's history
    # The kiosk script, once it has run, says the page returns by itself.
    page.get_by_text("Enkäten börjar om för nästa person om några sekunder.").wait_for()
    assert_accessible(page)
    screenshot(page, "kiosk-receipt")
    page.wait_for_url(re.compile(rf"/s/{survey.slug}\?kiosk="), timeout=20_000)  # back by itself
    assert page.get_by_role("button", name="Starta enkäten").is_visible()

    from consult.db import session_scope

    with session_scope() as session:
        kiosk = session.execute(
            select(func.count()).where(Response.survey_id == survey.id, Response.channel == "kiosk")
        ).scalar_one()
        tagged = session.execute(
            select(Response.event_name).where(Response.survey_id == survey.id, Response.channel == "kiosk")
        ).scalars()
        tagged = list(tagged)
    assert kiosk == 1 and tagged == [KIOSK_EVENT]


def test_kiosk_clears_answers_after_inactivity(page, live_server, survey) -> None:  # type: ignore[no-untyped-def]
    put_page_in_kiosk_mode(page, live_server, survey.slug, KIOSK_EVENT)
    page.clock.install()
    page.goto(f"/s/{survey.slug}?kiosk={KIOSK_EVENT}")
    page.get_by_role("button", name="Starta enkäten").click()
    page.wait_for_url("**/r/**/1")
    token = page.url.split("/r/")[1].split("/")[0]
    page.check("#kommun-2")
    page.clock.fast_forward("03:10")  # more than the three idle minutes
    page.wait_for_url(re.compile(rf"/s/{survey.slug}\?kiosk="))
    from consult.db import session_scope

    with session_scope() as session:
        assert session.execute(select(ResponseDraft).where(ResponseDraft.token == token)).first() is None


def test_second_answer_from_the_same_browser_gets_a_friendly_page(page, survey) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/s/{survey.slug}")
    page.get_by_role("button", name="Starta enkäten").click()
    page.check("#kommun-1")
    page.check("#val-2")
    page.click("button[value=next]")
    page.locator("#progress").filter(has_text="Sida 2 av 2").wait_for()
    page.click("button[value=next]")
    page.locator("#receipt-code").wait_for()
    receipt = page.locator("#receipt-code").inner_text()
    page.goto(f"/s/{survey.slug}")
    assert page.get_by_role("heading", level=1).inner_text() == "Du har redan svarat"
    assert receipt in page.content()
    assert_accessible(page)
    screenshot(page, "already-answered")


def test_identified_survey_entry_asks_who_answers(page, staff, survey) -> None:  # type: ignore[no-untyped-def]
    identified = store(event_survey(
        "intervju-namn",
        (q("val", "single_choice", "Vill du bo kvar?", required=True, choices=choices("Ja", "Nej")),),
    ).model_copy(update={"identity_mode": "identified"}))
    log_in(page, staff["interviewer"], "/intervju")
    open_entry_form(page, identified, "Telefon", "")
    assert page.locator("#section-respondent").inner_text() == "Vem som svarar"
    before = len(responses_entered_by(staff["interviewer"]))
    page.check("#kommun-2")
    page.check("#val-1")
    page.get_by_role("button", name="Spara och nästa").click()  # no name: the server explains
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "Skriv ditt namn." in summary.inner_text()
    assert page.locator("#respondent-name-error").is_visible()
    assert_accessible(page)
    screenshot(page, "interviews-identified-errors")
    page.get_by_label("Den svarandes namn").fill("Karin Ek")
    page.get_by_role("button", name="Spara och nästa").click()
    page.locator("#entry-status").filter(has_text="Svaren sparades").wait_for()
    assert page.input_value("#field-respondent-name") == ""  # ready for the next respondent
    assert len(responses_entered_by(staff["interviewer"])) == before + 1


def test_without_scripts_the_kiosk_thanks_page_promises_no_restart(page_no_js, live_server, survey) -> None:  # type: ignore[no-untyped-def]
    put_page_in_kiosk_mode(page_no_js, live_server, survey.slug, KIOSK_EVENT)
    # Nothing brings the start page back by itself without scripts, so the page must not say so.
    page_no_js.goto(f"/s/{survey.slug}/tack?kiosk={KIOSK_EVENT}")
    text = page_no_js.inner_text("main")
    assert "Tryck på Nytt svar för nästa person." in text and "om några sekunder" not in text
    page_no_js.get_by_role("link", name="Nytt svar").click()
    assert page_no_js.get_by_role("button", name="Starta enkäten").is_visible()
