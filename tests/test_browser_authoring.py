"""Survey authoring in Chromium: axe-core finds no WCAG 2.1 A/AA violations on the list, the
editor, an error state and the preview, and questions are reordered with the keyboard alone."""

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
