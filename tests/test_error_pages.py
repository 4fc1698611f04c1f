"""Error answers a person can read: a bad address is not called a form, an impossible id is a
missing page, Starlette's English status phrases never reach a Swedish page, and the API's field
errors are in the client's language like the rest of its answer."""

from __future__ import annotations

import uuid

import pytest

from tests.staff import create_staff, logged_in

PASSWORD = "error-pages-2025"


@pytest.fixture(scope="module")
def analyst(app, client):  # type: ignore[no-untyped-def]
    return logged_in(app, create_staff("errorpages", PASSWORD)["analyst"], PASSWORD)


@pytest.mark.parametrize("path", ["/granskning?page=-1", "/granskning?page=999999999"])
def test_a_bad_value_in_the_address_is_explained_as_such(analyst, path: str) -> None:  # type: ignore[no-untyped-def]
    page = analyst.get(path)
    assert page.status_code == 400
    assert "Adressen har ett värde som sidan inte kan använda" in page.text and "Formuläret" not in page.text


def test_an_impossible_id_is_a_missing_page(analyst) -> None:  # type: ignore[no-untyped-def]
    page = analyst.get("/granskning/-1")
    assert page.status_code == 404 and "Sidan finns inte" in page.text


def test_a_wrong_method_is_explained_in_swedish(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/logout")
    assert page.status_code == 405
    assert "Method Not Allowed" not in page.text and "Det går inte att göra här" in page.text


def test_api_field_errors_are_in_the_clients_language(client) -> None:  # type: ignore[no-untyped-def]
    body = {"client_uuid": "inte-ett-uuid", "language": "fi", "campaign_tag": "å ä"}
    refused = client.post("/api/surveys/vasternorrland-2030/responses", json=body)
    assert refused.status_code == 422
    messages = {e["field"]: (e["code"], e["message"]) for e in refused.json()["errors"]}
    assert messages["answers"] == ("missing", "Fältet krävs.")
    assert messages["client_uuid"] == ("uuid_parsing", "Det här ska vara ett UUID.")
    assert messages["language"] == ("literal_error", "Det här är inte ett av de tillåtna värdena.")
    assert messages["campaign_tag"][0] == "string_pattern_mismatch"
    english = client.post("/api/surveys/vasternorrland-2030/responses?lang=en", json={"client_uuid": str(uuid.uuid4())})
    assert english.json()["errors"][0]["message"] == "This field is required."
    broken = client.post(
        "/api/surveys/vasternorrland-2030/responses", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["errors"][0]["message"] == "Kroppen är inte giltig JSON."


def test_a_form_post_over_the_size_limit_gets_a_page_that_sends_the_person_back(client) -> None:  # type: ignore[no-untyped-def]
    from tests.test_survey_pages import csrf, start

    url, html = start(client, "vasternorrland-2030")
    page = client.post(
        url,
        data={"csrftoken": csrf(html), "forandra": "x" * 1_100_000, "action": "next"},
        headers={"accept": "text/html,application/xhtml+xml"},
    )
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="sv">' in page.text and "Begäran är för stor" in page.text
    assert "Bakåt" in page.text
    api = client.post(
        "/api/surveys/vasternorrland-2030/responses",
        content=b"x" * 1_100_000,
        headers={"content-type": "application/json", "accept": "text/html"},
    )
    assert api.status_code == 413 and "detail" in api.json()
