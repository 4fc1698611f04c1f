"""Kiosk mode on a shared tablet, in Chromium: the next person at the kiosk must not see the
previous person's answers, not even with the browser's Back button."""

from __future__ import annotations

import re

import pytest

from consult.surveys.schema import SurveySpec
from tests.conftest import press_back
from tests.factories import kiosk_survey, put_page_in_kiosk_mode, q, store

pytestmark = pytest.mark.browser

KIOSK_EVENT = "Framtidsdag i Sundsvall"
SECRET = "Person A:s egna ord"


@pytest.fixture(scope="module")
def survey(migrated: str) -> SurveySpec:
    return store(kiosk_survey("kiosk-bak", q("mer", "short_text", "Något mer?")))


def _answers_on_screen(page) -> dict:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """() => ({
            checked: [...document.querySelectorAll('input:checked')].map(e => e.id),
            typed: [...document.querySelectorAll('input[type=text], textarea')].map(e => e.value).filter(Boolean),
        })"""
    )


def test_back_button_after_start_over_does_not_show_the_previous_persons_answers(page, live_server, survey) -> None:  # type: ignore[no-untyped-def]
    put_page_in_kiosk_mode(page, live_server, survey.slug, KIOSK_EVENT)
    start = re.compile(rf"/s/{survey.slug}\?kiosk=")
    page.goto(f"/s/{survey.slug}?kiosk={KIOSK_EVENT}")
    page.get_by_role("button", name="Starta enkäten").click()
    page.wait_for_url("**/r/**/1")
    page.check("#kommun-2")
    page.fill("#field-kort", SECRET)
    page.click("button[value=next]")
    page.locator("#progress").filter(has_text="Sida 2 av 2").wait_for()
    page.check("#val-1")
    page.fill("#field-mer", SECRET)
    # Person A walks away half-way; the kiosk starts over (the button, or the idle timer).
    page.get_by_role("button", name="Avbryt och börja om").click()
    page.wait_for_url(start)

    # The next person presses Back: the browser would show A's page from its cache, with A's
    # choices restored into the form.
    press_back(page)
    page.wait_for_load_state()
    page.wait_for_url(start)
    assert page.get_by_role("button", name="Starta enkäten").is_visible()
    assert _answers_on_screen(page) == {"checked": [], "typed": []}
