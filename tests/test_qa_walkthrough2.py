"""Defects found by a second walk through consult as its users do: the analyst coding themes, the
report's publisher, the resident looking up or withdrawing a response. Each pinned by what they see."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from consult.surveys.schema import PageSpec, SurveySpec
from tests.factories import every_type_survey, q, store
from tests.staff import csrf_from
from tests.test_api import VALID, post
from tests.test_privacy import show_own_response
from tests.test_reports import new_cycle_with_small_survey, release_test_cycles
from tests.test_themes_web import (  # noqa: F401  (fixtures used by name)
    analyst,
    csrf,
    health_survey,
    staff,
    theme_tables,
)
from tests.test_workspace import create_staff, logged_in_client

# --- the resident: "Se ditt svar" ---------------------------------------------------------------------


def test_looking_up_an_empty_receipt_code_says_what_to_write(client: TestClient) -> None:
    page = show_own_response(client, "  ")
    assert page.status_code == 422
    assert 'class="error-summary"' in page.text and "Skriv din kvittokod." in page.text
    assert 'aria-describedby="kvitto-error"' in page.text


def test_a_receipt_code_with_slashes_or_dots_stays_on_the_lookup_page(client: TestClient) -> None:
    """The code went into the redirect as it was typed: "../../etc" sent the browser to /ETC."""
    page = show_own_response(client, "../../etc")
    assert page.status_code == 404
    assert "Det finns inget svar med den kvittokoden" in page.text
    assert 'value="../../etc"' in page.text


def test_a_very_long_receipt_code_gets_a_message_not_a_validation_error(client: TestClient) -> None:
    page = show_own_response(client, "x" * 5000)
    assert page.status_code == 404
    assert "Det finns inget svar med den kvittokoden" in page.text


def test_a_typed_code_with_spaces_and_small_letters_still_finds_the_response(client: TestClient) -> None:
    survey = store(every_type_survey())
    receipt = post(client, survey.slug, VALID).json()["receipt"]
    typed = " ".join([receipt[:6].lower(), receipt[6:]])
    found = show_own_response(client, typed)
    assert found.status_code == 200 and receipt in found.text
    grouped = "-".join(receipt[i : i + 4] for i in range(0, len(receipt), 4))  # as written down in groups
    found = show_own_response(client, grouped)
    assert found.status_code == 200 and receipt in found.text


def test_deleting_without_the_tick_shows_the_error_beside_the_box(client: TestClient) -> None:
    survey = store(every_type_survey())
    receipt = post(client, survey.slug, VALID).json()["receipt"]
    own = show_own_response(client, receipt)
    refused = client.post("/mitt-svar/radera", data={"csrftoken": csrf_from(own.text), "kvitto": receipt})
    assert refused.status_code == 422
    assert re.search(r'<p class="error-message" id="confirm-error">.*Kryssa i rutan', refused.text)
    assert 'aria-describedby="confirm-error"' in refused.text


def test_start_page_counts_one_page_and_one_question_in_the_singular(client: TestClient) -> None:
    survey = store(
        SurveySpec(
            slug=f"qa2-{uuid.uuid4().hex[:8]}",
            title={"sv": "Kort enkät", "en": "Short survey"},
            status="open",
            pages=(PageSpec(title={"sv": "Sida", "en": "Page"}, questions=(q("fri", "long_text", "Något?"),)),),
        )
    )
    swedish = client.get(f"/s/{survey.slug}?lang=sv").text
    assert "1 fråga på 1 sida" in swedish and "1 sidor" not in swedish
    english = client.get(f"/s/{survey.slug}?lang=en").text
    assert "1 question on 1 page" in english
    several = client.get(f"/s/{store(every_type_survey()).slug}?lang=sv").text
    assert re.search(r"\d+ frågor på \d+ sid(a|or)<", several)
    client.get("/?lang=sv")


# --- the report's publisher ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_analyst(app, demo) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    yield logged_in_client(app, create_staff()["analyst"])
    release_test_cycles()


def test_published_report_shows_its_full_address_to_copy(report_analyst: TestClient) -> None:
    cycle = new_cycle_with_small_survey()
    page = report_analyst.get(f"/arbetsyta/rapport/{cycle}?lang=sv")
    sent = report_analyst.post(
        f"/arbetsyta/rapport/{cycle}/publicering", data={"csrftoken": csrf_from(page.text), "publish": "1"}
    )
    assert sent.status_code == 303
    shown = report_analyst.get(sent.headers["location"]).text
    address = f"http://testserver/rapport/{cycle}"
    assert f"Sammanställningen är publicerad på {address}." in html.unescape(shown)
    assert f'<a href="{address}">{address}</a>' in shown


# --- the analyst coding answers ------------------------------------------------------------------------


def test_confirming_with_no_answer_chosen_says_so_beside_the_answers(analyst: TestClient, health_survey: dict) -> None:  # noqa: F811
    base, theme = health_survey["base"], health_survey["health_theme"]
    url = f"{base}/tema/{theme}/svar"
    refused = analyst.post(url, data={"csrftoken": csrf(analyst, f"{base}/tema/{theme}"), "atgard": "bekrafta"})
    assert refused.status_code == 422
    assert re.search(r'<fieldset id="field-svar"[^>]*aria-describedby="error-svar"', refused.text)
    assert re.search(r'<p class="error-message" id="error-svar">[^<]+</p>', refused.text)


def test_theme_history_quotes_a_new_name_the_swedish_way(analyst: TestClient, health_survey: dict) -> None:  # noqa: F811
    """It used German quotes („Buss”); Swedish writes ”Buss”, English “Bus”."""
    base, theme = health_survey["base"], health_survey["bus_theme"]
    page = f"{base}/tema/{theme}"
    renamed = analyst.post(f"{page}/namn", data={"csrftoken": csrf(analyst, page), "namn": "Bussar på landet"})
    assert renamed.status_code in (200, 303)
    swedish = analyst.get(f"{page}?lang=sv").text
    assert "→ ”Bussar på landet”" in swedish and "„" not in swedish
    assert re.search(r"bytte namn på ett tema: ”[^”]+” → ”Bussar på landet”", swedish)
    english = analyst.get(f"{page}?lang=en").text
    assert "→ “Bussar på landet”" in english
    analyst.get(f"{page}?lang=sv")
