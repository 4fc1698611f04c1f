"""Survey authoring in Chromium: axe-core finds no WCAG 2.1 A/AA violations on the list, the
editor, an error state and the preview, and questions are reordered with the keyboard alone. A
combined display condition (and / or / not) shows and hides a question as the respondent
answers, and without JavaScript the server decides on submit."""

from __future__ import annotations

import uuid

import pytest

from consult.accounts import service as accounts
from consult.accounts.models import Role
from tests.conftest import assert_accessible, screenshot
from tests.factories import every_type_survey, store

PASSWORD = "ett-långt-lösenord-i-webbläsaren"


@pytest.fixture(scope="module")
def admin_email(live_server) -> str:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    email = f"browser-author-{uuid.uuid4().hex[:8]}@test.se"
    with session_scope() as session:
        accounts.create_user(session, email=email, password=PASSWORD, role=Role.admin.value)
    return email


@pytest.fixture()
def survey_slug(live_server) -> str:  # type: ignore[no-untyped-def]
    return store(every_type_survey(status="draft")).slug


def log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("#field-email", email)
    page.fill("#field-password", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url("**/personal")


def question_order(slug: str) -> list[str]:
    from consult.db import session_scope
    from consult.surveys.service import load_spec

    with session_scope() as session:
        spec = load_spec(session, slug=slug)
    assert spec is not None
    return [q.code for q in spec.questions]


def test_authoring_pages_are_accessible(page, admin_email, survey_slug) -> None:  # type: ignore[no-untyped-def]
    log_in(page, admin_email)
    page.goto("/admin/surveys")
    assert page.locator("h1").inner_text() == "Enkäter"
    assert_accessible(page)
    screenshot(page, "authoring-01-list")

    page.goto(f"/admin/surveys/{survey_slug}")
    assert_accessible(page)
    screenshot(page, "authoring-02-survey")

    page.goto(f"/admin/surveys/{survey_slug}/questions/flera/edit")
    assert_accessible(page)
    screenshot(page, "authoring-03-question")

    # The error state: no Swedish text and a duplicate choice code.
    page.fill("#field-text_sv", "")
    page.fill("#field-choice-1-code", "1")
    page.locator("button.button-primary[value=save]").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "Skriv frågan på svenska" in summary.inner_text()
    assert "Ett annat svarsalternativ har redan koden 1" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert_accessible(page)
    screenshot(page, "authoring-04-error")

    page.goto(f"/admin/surveys/{survey_slug}/questions/new?page=1&type=scale")
    assert_accessible(page)

    page.goto(f"/admin/surveys/{survey_slug}/preview?page=2")
    assert "Förhandsvisning" in page.locator(".preview-banner").inner_text()
    assert_accessible(page)
    screenshot(page, "authoring-05-preview")

    page.goto("/admin/surveys/import")
    assert_accessible(page)
    page.goto(f"/admin/surveys/{survey_slug}/settings")
    assert_accessible(page)


def test_questions_are_reordered_with_the_keyboard_alone(page, admin_email, survey_slug) -> None:  # type: ignore[no-untyped-def]
    log_in(page, admin_email)
    page.goto(f"/admin/surveys/{survey_slug}")
    assert question_order(survey_slug)[:5] == ["kommun", "alder", "kon", "val", "flera"]
    # From the question's edit link, Tab reaches its move buttons; Enter presses them.
    page.locator("#question-kon a").first.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "move-kon-up"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "move-kon-down"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert question_order(survey_slug)[:5] == ["kommun", "alder", "val", "kon", "flera"]
    # Focus comes back to the same button, so pressing Enter again moves it one more step.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'move-kon-down'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert question_order(survey_slug)[:5] == ["kommun", "alder", "val", "flera", "kon"]
    page.wait_for_function("document.activeElement && document.activeElement.id === 'move-kon-down'")
    assert "Flyttad" in page.locator(".notice").first.inner_text()
    assert_accessible(page)
    screenshot(page, "authoring-06-moved")


def test_a_survey_nobody_answered_is_deleted_after_a_confirmation(page, admin_email, survey_slug) -> None:  # type: ignore[no-untyped-def]
    log_in(page, admin_email)
    page.goto(f"/admin/surveys/{survey_slug}")
    page.get_by_role("link", name="Radera enkäten").click()
    page.wait_for_url(f"**/admin/surveys/{survey_slug}/delete")
    assert "11 frågor med sina svarsalternativ" in page.locator("#delete-summary").inner_text()
    assert_accessible(page)
    screenshot(page, "authoring-07-delete")
    with page.expect_navigation():
        page.get_by_role("button", name="Radera enkäten").click()
    assert page.url.endswith("/admin/surveys?done=removed")
    assert "Enkäten är raderad" in page.locator(".notice").first.inner_text()
    assert survey_slug not in page.locator("main").inner_text()
    assert_accessible(page)


# --- A combined display condition, answered with and without JavaScript ---------------------


def combined_condition_survey(status: str = "open") -> str:
    """Page 1: kommun, kon, and cyklar (shown for Sundsvall or men). Page 2: prio, and the required
    fordjupning, shown when kommun = Sundsvall and (prio includes C or not(kon = Kvinna))."""
    from consult.surveys.schema import PageSpec, SurveySpec
    from tests.factories import choices, q

    fordjupning = {
        "all": [
            {"question": "kommun", "value": 1},
            {"any": [{"question": "prio", "op": "includes", "value": 3}, {"not": {"question": "kon", "value": 1}}]},
        ]
    }
    spec = SurveySpec(
        slug=f"villkor-{uuid.uuid4().hex[:10]}",
        title={"sv": "Villkor", "en": "Conditions"},
        status=status,
        pages=(
            PageSpec(
                questions=(
                    q("kommun", "single_choice", "Var bor du?", required=True, choices=choices("Sundsvall", "Timrå")),
                    q("kon", "single_choice", "Kön", required=True, choices=choices("Kvinna", "Man")),
                    q(
                        "cyklar",
                        "single_choice",
                        "Cyklar du?",
                        choices=choices("Ja", "Nej"),
                        condition={"any": [{"question": "kommun", "value": 1}, {"question": "kon", "value": 2}]},
                    ),
                )
            ),
            PageSpec(
                questions=(
                    q("prio", "multiple_choice", "Vad är viktigast?", choices=choices("A", "B", "C")),
                    q("fordjupning", "short_text", "Berätta mer om C", required=True, condition=fordjupning),
                )
            ),
        ),
    )
    return store(spec).slug


def start_survey(page, slug: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/s/{slug}")
    page.click("text=Starta enkäten")
    page.wait_for_url("**/r/**/1")


def stored_codes(receipt: str) -> set[str]:
    from sqlalchemy import select

    from consult.db import session_scope
    from consult.responses.models import Answer, Response
    from consult.surveys.models import Question

    with session_scope() as session:
        query = (
            select(Question.code)
            .join(Answer, Answer.question_id == Question.id)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.receipt == receipt.replace("-", ""))  # shown in groups
        )
        return set(session.execute(query).scalars())


def test_combined_condition_shows_and_hides_with_javascript(page) -> None:  # type: ignore[no-untyped-def]
    start_survey(page, combined_condition_survey())
    cyklar = page.locator("#q-cyklar")
    assert cyklar.count() == 1
    # Nothing chosen yet: neither Sundsvall nor man, so "Cyklar du?" waits.
    cyklar.wait_for(state="hidden")
    page.check("input[name=kommun][value='2']")  # Timrå
    page.check("input[name=kon][value='1']")  # Kvinna
    cyklar.wait_for(state="hidden")
    page.check("input[name=kon][value='2']")  # Man: the `or` holds
    cyklar.wait_for(state="visible")
    page.check("input[name=kon][value='1']")
    page.check("input[name=kommun][value='1']")  # Sundsvall: the other side holds
    cyklar.wait_for(state="visible")
    assert_accessible(page)
    page.click("button[value=next]")
    page.wait_for_url("**/r/**/2")

    page.locator("#progress").filter(has_text="Sida 2 av 2").wait_for()
    # Sundsvall and Kvinna: only "prio includes C" is left to decide on this page.
    fordjupning = page.locator("#q-fordjupning")
    assert fordjupning.count() == 1
    fordjupning.wait_for(state="hidden")
    page.check("input[name=prio][value='3']")
    fordjupning.wait_for(state="visible")
    screenshot(page, "conditions-01-combined-shown")
    page.uncheck("input[name=prio][value='3']")
    page.check("input[name=prio][value='1']")
    fordjupning.wait_for(state="hidden")
    # Hidden, so not required.
    page.click("button[value=next]")
    page.wait_for_url("**/kvitto")
    assert stored_codes(page.locator("#receipt-code").inner_text()) == {"kommun", "kon", "prio"}


def test_combined_condition_without_javascript_is_decided_by_the_server(page_no_js) -> None:  # type: ignore[no-untyped-def]
    page = page_no_js
    start_survey(page, combined_condition_survey())
    assert page.locator("#q-cyklar").is_visible()  # the browser cannot hide it; the server decides on submit
    page.check("input[name=kommun][value='1']")
    page.check("input[name=kon][value='1']")
    page.click("button[value=next]")
    page.wait_for_url("**/r/**/2")
    # Shown, since it depends on an answer on this page; A without C leaves it not required ...
    page.check("input[name=prio][value='1']")
    page.fill("#field-fordjupning", "Gäller inte mig")
    page.click("button[value=next]")
    page.wait_for_url("**/kvitto")
    # ... and its answer is not stored.
    assert stored_codes(page.locator("#receipt-code").inner_text()) == {"kommun", "kon", "prio"}


def test_combined_condition_in_the_editor_is_accessible(page, admin_email) -> None:  # type: ignore[no-untyped-def]
    slug = combined_condition_survey(status="draft")
    log_in(page, admin_email)
    page.goto(f"/admin/surveys/{slug}/questions/fordjupning/edit")
    description = page.locator("#condition-description").inner_text()
    assert description.startswith("Visas när kommun är ”Sundsvall” och (prio innehåller ”C” eller kon är inte")
    assert page.input_value("#field-condition_expression").startswith("${kommun} = '1' and (selected(${prio}, '3')")
    assert_accessible(page)
    screenshot(page, "authoring-combined-condition")
