"""An analyst in Chromium: starts a theme analysis, watches the progress bar, accepts the themes,
renames one in place with htmx, and reads the coverage matrix; axe-core on every page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import assert_accessible, screenshot
from tests.test_themes_web import HEALTH_ANSWERS, TRANSPORT_ANSWERS, add_answers, make_survey

pytestmark = pytest.mark.browser

PASSWORD = "ett-långt-lösenord-42"
ANSWERS = HEALTH_ANSWERS + TRANSPORT_ANSWERS  # the same health and bus answers as the HTTP tests


@pytest.fixture(scope="module", autouse=True)
def theme_tables(migrated: str, demo: dict) -> Iterator[None]:
    """The migrated test database, which has the theme tables; the worker stops afterwards."""
    yield


@pytest.fixture(scope="module")
def analyst_email(theme_tables: None) -> str:
    from consult.accounts import service
    from consult.db import session_scope

    email = f"browser-teman-{uuid.uuid4().hex[:6]}@test.se"
    with session_scope() as session:
        service.create_user(session, email=email, password=PASSWORD, role="analyst", name="Anna Analytiker")
    return email


@pytest.fixture(scope="module")
def survey_slug(theme_tables: None) -> str:
    """A small survey in the 2025 review cycle with health-care and bus answers."""
    spec = make_survey()
    add_answers(spec, ANSWERS)
    return spec.slug


def health_theme(slug: str) -> int:
    """The theme that holds the first health-care answer."""
    from sqlalchemy import select

    from consult.db import session_scope
    from consult.responses.models import Answer
    from consult.surveys.service import load_spec
    from consult.themes.models import ThemeAssignment

    with session_scope() as session:
        spec = load_spec(session, slug=slug)
        assert spec is not None and spec.question("behov") is not None
        theme_id = session.execute(
            select(ThemeAssignment.theme_id)
            .join(
                Answer,
                (Answer.response_id == ThemeAssignment.response_id)
                & (Answer.question_id == ThemeAssignment.question_id),
            )
            .where(Answer.text == ANSWERS[0], Answer.question_id == spec.question("behov").id)  # type: ignore[union-attr]
        ).scalar()
    assert theme_id is not None
    return int(theme_id)


def log_in(page, email: str, next_path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(next_path)
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def test_analyst_explores_renames_and_reads_coverage(page, analyst_email: str, survey_slug: str) -> None:  # type: ignore[no-untyped-def]
    base = f"/arbetsyta/enkater/{survey_slug}/teman/behov"
    log_in(page, analyst_email, base)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Teman:")
    assert_accessible(page)
    screenshot(page, "themes-explorer-empty")

    page.get_by_label("Antal teman").fill("2")
    page.get_by_role("button", name="Starta en temaanalys").click()
    # The progress bar polls itself; when the run ends the page reloads with the candidates.
    page.get_by_role("button", name="Godta dessa teman").wait_for(timeout=90_000)
    assert_accessible(page)
    screenshot(page, "themes-candidates")
    page.get_by_role("button", name="Godta dessa teman").click()
    page.wait_for_url(re.compile(re.escape(base) + "#teman$"))
    table = page.get_by_role("table", name=re.compile("Teman, störst först"))
    assert table.is_visible()
    assert_accessible(page)
    screenshot(page, "themes-explorer")

    # The health theme's page; rename it in place (htmx swaps the name block, no reload).
    table.locator(f"a[href$='/tema/{health_theme(survey_slug)}']").click()
    page.wait_for_url(re.compile(r"/tema/\d+$"))
    assert_accessible(page)
    page.evaluate("window.__noReload = true")
    page.get_by_label("Temats namn").fill("Vård och hälsa nära")
    page.get_by_role("button", name="Byt namn").click()
    page.get_by_role("status").filter(has_text="Temat har bytt namn.").wait_for()
    assert page.get_by_role("heading", level=1).inner_text() == "Vård och hälsa nära"
    assert page.evaluate("window.__noReload === true")  # the page was not reloaded
    assert "Anna Analytiker bytte namn på ett tema" in page.locator("#theme-history").inner_text()
    assert_accessible(page)
    screenshot(page, "themes-theme")

    # The coverage matrix, with the switch to the current strategy version.
    page.goto(f"{base}/tackning")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Strategins täckning")
    assert page.get_by_role("table").is_visible()
    assert_accessible(page)
    screenshot(page, "themes-coverage")
    page.get_by_label("Version av strategin").select_option("rus-2020")
    page.wait_for_url(re.compile(r"version=rus-2020"))
    page.get_by_role("heading", name=re.compile("Teman som ingen prioritering täcker")).wait_for()
    uncovered = page.locator("section", has=page.locator("#uncovered-heading"))
    assert "Vård och hälsa nära" in uncovered.inner_text()
    assert_accessible(page)


def test_the_explorer_works_without_javascript(page_no_js, analyst_email: str, survey_slug: str) -> None:  # type: ignore[no-untyped-def]
    base = f"/arbetsyta/enkater/{survey_slug}/teman/behov"
    log_in(page_no_js, analyst_email, base)
    assert page_no_js.get_by_role("heading", level=1).inner_text().startswith("Teman:")
    link = page_no_js.get_by_role("table", name=re.compile("Teman, störst först")).get_by_role("link").first
    link.click()
    page_no_js.wait_for_url(re.compile(r"/tema/\d+$"))
    page_no_js.get_by_label("Temats namn").fill("Namn utan skript")
    page_no_js.get_by_role("button", name="Byt namn").click()
    page_no_js.wait_for_url(re.compile(r"klart=namn"))
    assert page_no_js.get_by_role("heading", level=1).inner_text() == "Namn utan skript"
