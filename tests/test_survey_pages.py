"""The resident's survey over plain HTTP, as a browser without JavaScript uses it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from consult.responses.models import Answer, Response, ResponseDraft
from tests.factories import every_type_survey, shown_receipt, store


def csrf(html: str) -> str:
    match = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


def start(client, slug: str, query: str = "") -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Open the start page and press start; returns the first page's URL and its HTML."""
    client.cookies.delete("consult_answered")  # each test is a new respondent
    page = client.get(f"/s/{slug}{query}")
    assert page.status_code == 200
    data = {"csrftoken": csrf(page.text)}
    tag = re.search(r'name="campaign_tag" value="([^"]+)"', page.text)
    if tag:
        data["campaign_tag"] = tag.group(1)
    response = client.post(f"/s/{slug}/start", data=data, follow_redirects=False)
    assert response.status_code == 303
    url = response.headers["location"]
    return url, client.get(url).text


def receipt_of(client, location: str) -> str:  # type: ignore[no-untyped-def]
    """The receipt code the receipt page shows (it is not in the page's address)."""
    return shown_receipt(client.get(location).text)


@pytest.fixture(scope="module")
def survey(client):  # type: ignore[no-untyped-def]
    return store(every_type_survey())


def test_start_page_explains_the_survey(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/s/vasternorrland-2030").text
    assert "Västernorrland 2030" in html
    assert "Ungefär 8 minuter" in html
    assert "Så hanterar vi dina svar" in html
    assert 'href="?lang=en"' in html


def test_start_page_in_english(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/s/vasternorrland-2030?lang=en").text
    assert "How we handle your answers" in html and 'lang="en"' in html
    client.get("/s/vasternorrland-2030?lang=sv")  # back to Swedish for the other tests


def test_form_without_csrf_token_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    client.get("/s/vasternorrland-2030")
    response = client.post("/s/vasternorrland-2030/start", data={}, follow_redirects=False)
    assert response.status_code == 403


def test_each_respondent_gets_their_own_page_and_own_answers_back(client) -> None:  # type: ignore[no-untyped-def]
    """Unanswered pages are rendered once and shared: each respondent must still get their own
    resume link and form address, a fresh CSRF token, and their own answers when they come back."""
    survey = store(every_type_survey())
    first_url, first_html = start(client, survey.slug)
    first_token = first_url.split("/r/")[1].split("/")[0]
    second_url, second_html = start(client, survey.slug)
    second_token = second_url.split("/r/")[1].split("/")[0]
    assert first_token != second_token
    for html, own, other in ((first_html, first_token, second_token), (second_html, second_token, first_token)):
        assert f'action="/s/{survey.slug}/r/{own}/1"' in html and f"/r/{own}</a>" in html
        # The link's text is the whole address, so a copy of it works without JavaScript too.
        assert f">http://testserver/s/{survey.slug}/r/{own}</a>" in html
        assert other not in html
        assert csrf(html) and "\x00" not in html
    answered = {"csrftoken": csrf(first_html), "kommun": "1", "val": "2", "flera": ["1", "3"], "action": "next"}
    assert client.post(first_url, data=answered, follow_redirects=False).status_code == 303
    back = client.get(first_url).text
    assert re.search(r'name="val" value="2"[^>]*checked', back)
    assert not re.search(r'name="val" value="2"[^>]*checked', client.get(second_url).text)


def test_whole_survey_without_javascript(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    assert "Sida 1 av 2" in html
    first = {"csrftoken": csrf(html), "kommun": "1", "val": "2", "flera": ["1", "3"], "action": "next"}
    response = client.post(url, data=first, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("/2")
    second_url = response.headers["location"]
    html = client.get(second_url).text
    assert "Sida 2 av 2" in html
    second = {
        "csrftoken": csrf(html),
        "skala": "dk",
        "rang__2": "1",
        "rang__3": "2",
        "antal": "12,5",
        "lang": "Fler bussar",
        "varfor_nej": "För att",
        "action": "next",
    }
    response = client.post(second_url, data=second, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/s/{survey.slug}/kvitto"
    receipt_page = client.get(response.headers["location"])
    assert "Tack för dina svar" in receipt_page.text and receipt_page.headers["cache-control"] == "no-store"
    # The code is shown in groups of four, easier to read out and write down.
    assert re.search(r'id="receipt-code">(?:[A-Z2-7]{4}-){6}[A-Z2-7]{2}<', receipt_page.text)
    receipt = receipt_of(client, response.headers["location"])
    from consult.db import session_scope

    with session_scope() as session:
        stored = session.execute(select(Response).where(Response.receipt == receipt)).scalar_one()
        count = session.execute(select(func.count()).select_from(Answer).where(Answer.response_id == stored.id))
        assert count.scalar_one() == 8
        assert session.execute(select(ResponseDraft).where(ResponseDraft.survey_id == survey.id)).first() is None
    # The resume link (or Back) after sending says the answers were sent, with the receipt; in another
    # browser the link is simply gone.
    for address in (url.rsplit("/", 1)[0], second_url):
        again = client.get(address, follow_redirects=True)
        assert again.status_code == 200 and "Du har redan svarat" in again.text
        assert shown_receipt(again.text) == receipt and f'name="kvitto" value="{receipt}"' in again.text
    elsewhere = TestClient(client.app, base_url="http://testserver").get(second_url)
    assert elsewhere.status_code == 404 and "Länken har gått ut" in elsewhere.text


def test_errors_are_listed_and_shown_beside_the_field(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    response = client.post(url, data={"csrftoken": csrf(html), "flera": ["1", "2", "3"], "action": "next"})
    assert response.status_code == 422
    html = response.text
    assert "Det finns ett problem" in html
    assert 'href="#field-kommun"' in html and 'href="#field-flera"' in html
    assert 'id="kommun-error"' in html and "Svara på frågan." in html
    assert "Välj högst 2 alternativ." in html
    assert html.count('aria-invalid="true"') >= 2
    assert "<title>Fel:" in html
    # what was typed is kept
    assert 'value="1" checked' in html


def test_errors_in_english(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    response = client.post(url + "?lang=en", data={"csrftoken": csrf(html), "action": "next"})
    assert "There is a problem" in response.text and "Answer this question." in response.text
    client.get("/?lang=sv")


def test_spaces_or_nul_bytes_do_not_answer_a_required_question(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    first = {"csrftoken": csrf(html), "kommun": "1", "val": "2", "action": "next"}
    second_url = client.post(url, data=first, follow_redirects=False).headers["location"]
    html = client.get(second_url).text
    for typed in ("   ", "\x00\x00"):
        refused = client.post(second_url, data={"csrftoken": csrf(html), "varfor_nej": typed, "action": "next"})
        assert refused.status_code == 422 and 'id="varfor_nej-error"' in refused.text


def test_hidden_question_is_not_required(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    response = client.post(
        url, data={"csrftoken": csrf(html), "kommun": "2", "val": "1", "action": "next"}, follow_redirects=False
    )
    second_url = response.headers["location"]
    html = client.get(second_url).text
    response = client.post(second_url, data={"csrftoken": csrf(html), "action": "next"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("/kvitto")


def test_condition_shows_question_after_trigger(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    response = client.post(
        url, data={"csrftoken": csrf(html), "kommun": "2", "val": "2", "action": "next"}, follow_redirects=False
    )
    html = client.get(response.headers["location"]).text
    assert 'name="varfor_nej"' in html
    response = client.post(
        response.headers["location"], data={"csrftoken": csrf(html), "action": "next"}, follow_redirects=False
    )
    assert response.status_code == 422 and 'href="#field-varfor_nej"' in response.text


def test_resume_link_keeps_answers(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    client.post(url, data={"csrftoken": csrf(html), "kommun": "2", "val": "1", "action": "next"})
    token = url.split("/r/")[1].split("/")[0]
    resumed = client.get(f"/s/{survey.slug}/r/{token}", follow_redirects=False)
    assert resumed.headers["location"].endswith("/2")
    first_page = client.get(f"/s/{survey.slug}/r/{token}/1").text
    assert 'id="kommun-2" name="kommun" value="2" checked' in first_page


def test_a_resume_link_opened_elsewhere_goes_on_in_the_language_begun_in(app, survey) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    # Browsers of their own (no lifespan: page views need no writer), so the shared client keeps Swedish.
    first_browser, other_browser = (TestClient(app, base_url="http://testserver") for _ in range(2))
    first_browser.get(f"/s/{survey.slug}?lang=en")
    url, _html = start(first_browser, survey.slug)
    token = url.split("/r/")[1].split("/")[0]
    page = other_browser.get(f"/s/{survey.slug}/r/{token}")  # no language chosen in this one
    assert page.status_code == 200 and '<html lang="en">' in page.text
    chosen = other_browser.get(f"/s/{survey.slug}/r/{token}?lang=sv")  # unless they choose another
    assert '<html lang="sv">' in chosen.text
    assert '<html lang="sv">' in other_browser.get(f"/s/{survey.slug}/r/{token}").text


def test_switching_language_on_a_page_keeps_what_was_ticked_there(app, survey) -> None:  # type: ignore[no-untyped-def]
    """The language switch of a question page is a button of its form: the page's answers are kept,
    unchecked (a required answer may still be missing), and the same page comes back in the other
    language. With htmx the whole page is reloaded, header and all."""
    from fastapi.testclient import TestClient

    browser = TestClient(app, base_url="http://testserver")  # its own, so the shared client keeps Swedish
    url, html = start(browser, survey.slug)
    assert 'form="survey-form" name="action" value="lang-en"' in html
    switched = browser.post(url, data={"csrftoken": csrf(html), "kommun": "2", "action": "lang-en"},
                            follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == f"{url}?lang=en"
    english = browser.get(switched.headers["location"]).text
    assert '<html lang="en">' in english and 'id="kommun-2" name="kommun" value="2" checked' in english
    assert 'value="lang-sv"' in english and "error-summary" not in english
    by_htmx = browser.post(url, data={"csrftoken": csrf(english), "kommun": "1", "action": "lang-sv"},
                           headers={"HX-Request": "true"}, follow_redirects=False)
    assert by_htmx.status_code == 200 and by_htmx.headers["hx-redirect"] == f"{url}?lang=sv"
    assert 'id="kommun-1" name="kommun" value="1" checked' in browser.get(f"{url}?lang=sv").text
    # A language the survey does not have is an ordinary "next", which checks the page.
    odd = browser.post(url, data={"csrftoken": csrf(english), "action": "lang-de"}, follow_redirects=False)
    assert odd.status_code == 422


def test_enter_in_a_field_presses_next_not_the_language_switch(client, survey) -> None:  # type: ignore[no-untyped-def]
    """Enter in a field presses the form's first submit button in document order (its default
    button), and the header's language switch comes before the form: a copy of "Next" without a
    name comes before it, so Enter posts no action, which is "next" (the page is checked)."""
    url, html = start(client, survey.slug)
    buttons = re.findall(r"<button[^>]*>", html)
    of_form = [b for b in buttons if 'form="survey-form"' in b or ('type="submit"' in b and "form=" not in b)]
    first = of_form[0]
    assert 'form="survey-form"' in first and "name=" not in first and "lang-" not in first
    assert 'tabindex="-1"' in first and 'aria-hidden="true"' in first
    pressed = client.post(url, data={"csrftoken": csrf(html), "kommun": "1"}, follow_redirects=False)
    assert pressed.status_code == 422 and '<html lang="sv">' in pressed.text  # checked, not switched


def test_line_breaks_count_as_the_browser_counts_them(client, survey) -> None:  # type: ignore[no-untyped-def]
    """A browser posts a textarea's line breaks as CRLF while its maxlength counts each as one: a
    text at the limit the browser allowed is accepted, and stored with plain line breaks."""
    from consult.db import session_scope

    url, html = start(client, survey.slug)
    second = client.post(url, data={"csrftoken": csrf(html), "kommun": "1", "val": "1"}, follow_redirects=False)
    page_two = second.headers["location"]
    lines = ["x" * 99] * 49 + ["y" * 100]
    text = "\r\n".join(lines)  # 4,951 characters and 49 breaks: 5,000 to the browser, 5,049 posted
    answered = client.post(page_two, data={"csrftoken": csrf(html), "lang": text, "kort": "a\rb"},
                           follow_redirects=False)
    assert answered.status_code == 303, re.findall(r'class="error-message"[^<]*<span[^>]*>[^<]*</span>([^<]*)',
                                                     answered.text)
    receipt = receipt_of(client, answered.headers["location"])
    with session_scope() as session:
        stored = session.execute(select(Response).where(Response.receipt == receipt)).scalar_one()
        texts = set(session.execute(select(Answer.text).where(Answer.response_id == stored.id,
                                                              Answer.text.is_not(None))).scalars())
    assert texts == {"\n".join(lines), "a b"}
    # One over the browser's limit is still refused, counted as the browser counts.
    url, html = start(client, survey.slug)
    second = client.post(url, data={"csrftoken": csrf(html), "kommun": "1", "val": "1"}, follow_redirects=False)
    over = client.post(second.headers["location"], data={"csrftoken": csrf(html), "lang": text + "z"})
    assert over.status_code == 422 and "(nu 5001)" in over.text


def test_a_response_is_stored_in_the_language_the_respondent_went_on_in(app, survey) -> None:  # type: ignore[no-untyped-def]
    """Begun in Swedish, switched to English on the first page: a resume link elsewhere goes on in
    English, and the response is stored as answered in English (the language column of exports)."""
    from fastapi.testclient import TestClient

    from consult.db import session_scope

    browser, elsewhere = (TestClient(app, base_url="http://testserver") for _ in range(2))
    url, html = start(browser, survey.slug)
    token = url.split("/r/")[1].split("/")[0]
    answers = {"csrftoken": csrf(html), "kommun": "1", "val": "1"}
    browser.post(url, data={**answers, "action": "lang-en"})
    english = browser.post(url, data={**answers, "action": "next"}, follow_redirects=False)
    assert english.status_code == 303 and english.headers["location"].endswith("/2")
    resumed = elsewhere.get(f"/s/{survey.slug}/r/{token}")
    assert resumed.url.path.endswith("/2") and '<html lang="en">' in resumed.text
    last = browser.get(english.headers["location"]).text
    sent = browser.post(english.headers["location"], data={"csrftoken": csrf(last), "action": "next"},
                        follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].endswith("/kvitto")
    receipt = receipt_of(browser, sent.headers["location"])
    with session_scope() as session:
        stored = session.execute(select(Response).where(Response.receipt == receipt)).scalar_one()
        assert stored.language == "en"


def test_a_form_address_opened_again_leads_back_to_its_form(app, client, survey) -> None:  # type: ignore[no-untyped-def]
    """Pages shown in answer to a form keep its address: the language switch opens it with GET."""
    from fastapi.testclient import TestClient

    url, _html = start(client, survey.slug)
    token = url.split("/r/")[1].split("/")[0]
    again = TestClient(app, base_url="http://testserver").get(f"/s/{survey.slug}/start?lang=en",
                                                               follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/s/{survey.slug}"
    assert "lang=en" in again.headers["set-cookie"]
    link = client.get(f"/s/{survey.slug}/r/{token}/lank", follow_redirects=False)
    assert link.status_code == 303 and link.headers["location"] == f"/s/{survey.slug}/r/{token}"
    for path in ("/mitt-svar/radera", "/mitt-svar/stang"):
        assert client.get(path).url.path in ("/mitt-svar", "/mitt-svar/visa")


def test_back_keeps_what_was_typed(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    response = client.post(
        url, data={"csrftoken": csrf(html), "kommun": "1", "val": "1", "action": "next"}, follow_redirects=False
    )
    second_url = response.headers["location"]
    html = client.get(second_url).text
    response = client.post(second_url, data={"csrftoken": csrf(html), "kort": "sparat", "action": "back"})
    assert response.status_code == 200  # redirected to page 1
    html = client.get(second_url).text
    assert 'value="sparat"' in html


def test_back_keeps_an_answer_not_yet_valid_until_the_page_is_sent(client, survey) -> None:  # type: ignore[no-untyped-def]
    """Back never checks a page and never loses what was entered on it: an answer the page would
    refuse ("12 år" for a number) is kept as typed, shown again, and refused only by Next."""
    url, html = start(client, survey.slug)
    second = client.post(url, data={"csrftoken": csrf(html), "kommun": "1", "val": "1"}, follow_redirects=False)
    second_url = second.headers["location"]
    back = client.post(second_url, data={"csrftoken": csrf(html), "antal": "12 år", "skala": "3",
                                         "action": "back"}, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == url
    again = client.post(url, data={"csrftoken": csrf(html), "kommun": "1", "val": "1"}, follow_redirects=False)
    assert again.headers["location"] == second_url
    shown = client.get(second_url).text
    assert 'value="12 år"' in shown and 'id="skala-3" name="skala" value="3" checked' in shown
    sent = client.post(second_url, data={"csrftoken": csrf(shown), "antal": "12 år", "skala": "3"})
    assert sent.status_code == 422 and "Skriv ett tal" in sent.text


def test_an_answer_kept_unchecked_is_checked_before_the_response_is_sent(client, survey) -> None:  # type: ignore[no-untyped-def]
    """Three ticks where two are allowed, kept by the language switch on page 1 and never sent with
    Next: sending the last page leads back to them, with the error, rather than dropping them."""
    url, html = start(client, survey.slug)
    second = client.post(url, data={"csrftoken": csrf(html), "kommun": "1", "val": "1"}, follow_redirects=False)
    second_url = second.headers["location"]
    switched = client.post(url, data={"csrftoken": csrf(html), "kommun": "1", "val": "1", "flera": ["1", "2", "3"],
                                      "action": "lang-sv"}, follow_redirects=False)
    assert switched.status_code == 303
    shown = client.get(url).text
    assert all(f'id="flera-{n}" name="flera" value="{n}" checked' in shown for n in (1, 2, 3))
    sent = client.post(second_url, data={"csrftoken": csrf(shown)}, follow_redirects=False)
    assert sent.status_code == 422 and "Välj högst 2 alternativ." in sent.text
    assert 'href="#field-flera"' in sent.text and 'id="flera-3" name="flera" value="3" checked' in sent.text
    fixed = client.post(url, data={"csrftoken": csrf(shown), "kommun": "1", "val": "1", "flera": ["1", "3"]},
                        follow_redirects=False)
    assert fixed.headers["location"] == second_url
    done = client.post(second_url, data={"csrftoken": csrf(shown)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("/kvitto")
    client.cookies.delete("consult_answered")  # the next tests are new respondents


def test_the_limit_on_choices_describes_its_question(client, survey) -> None:  # type: ignore[no-untyped-def]
    """"Choose at most 2." is read with the question, not found only once the error says so."""
    url, html = start(client, survey.slug)
    assert '<fieldset id="field-flera" tabindex="-1" aria-describedby="flera-limit">' in html
    assert '<p class="hint" id="flera-limit">Välj högst 2.</p>' in html
    refused = client.post(url, data={"csrftoken": csrf(html), "kommun": "1", "val": "1", "flera": ["1", "2", "3"]})
    assert 'aria-describedby="flera-limit flera-error" aria-invalid="true"' in refused.text
    second = client.post(url, data={"csrftoken": csrf(html), "kommun": "1", "val": "1"})
    assert '<fieldset id="field-rang" tabindex="-1" aria-describedby="rang-limit">' in second.text
    assert 'id="rang-limit">Ge 1 till' in second.text


def test_opening_the_survey_again_offers_to_go_on_with_the_response_begun(app, survey) -> None:  # type: ignore[no-untyped-def]
    """The campaign link or QR code opened again on the same phone: the start page offers the
    response begun in this browser (and only in this one), or starting over."""
    from fastapi.testclient import TestClient

    phone, other = (TestClient(app, base_url="http://testserver") for _ in range(2))
    url, html = start(phone, survey.slug, "?k=affisch")
    token = url.split("/r/")[1].split("/")[0]
    assert "Fortsätt där du slutade" not in phone.get(f"/s/{survey.slug}?k=affisch").text  # nothing answered yet
    second = phone.post(url, data={"csrftoken": csrf(html), "kommun": "2", "val": "1"}, follow_redirects=False)
    again = phone.get(f"/s/{survey.slug}?k=affisch").text
    assert f'<a class="button button-primary" href="/s/{survey.slug}/r/{token}">Fortsätt där du slutade</a>' in again
    assert ">Börja om</button>" in again and "Starta enkäten" not in again
    assert "Fortsätt där du slutade" not in other.get(f"/s/{survey.slug}?k=affisch").text
    going_on = phone.get(f"/s/{survey.slug}/r/{token}")
    assert going_on.url.path == second.headers["location"]
    # Starting over is a new, empty response; the page then offers that one once it has answers.
    new_url, new_html = start(phone, survey.slug, "?k=affisch")
    assert new_url != url and 'checked' not in new_html.split('id="survey-form"')[1].split("</form>")[0]
    assert "Fortsätt där du slutade" not in phone.get(f"/s/{survey.slug}").text
    # Once sent, there is nothing to go on with.
    phone.post(url, data={"csrftoken": csrf(html), "kommun": "2", "val": "1"}, follow_redirects=False)
    page_two = phone.get(second.headers["location"]).text
    sent = phone.post(second.headers["location"], data={"csrftoken": csrf(page_two)}, follow_redirects=False)
    assert sent.headers["location"].endswith("/kvitto") and "consult_draft" not in phone.cookies


def test_expired_or_unknown_link(client, survey) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/s/{survey.slug}/r/NOSUCHTOKEN/1")
    assert response.status_code == 404
    assert "Länken har gått ut" in response.text


def test_campaign_tag_is_recorded(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug, "?k=facebook")
    from consult.db import session_scope

    token = url.split("/r/")[1].split("/")[0]
    with session_scope() as session:
        draft = session.execute(select(ResponseDraft).where(ResponseDraft.token == token)).scalar_one()
    assert draft.campaign_tag == "facebook" and draft.channel == "campaign"


def test_switching_language_on_a_campaign_link_keeps_its_tag(app, survey) -> None:  # type: ignore[no-untyped-def]
    """A QR code's link carries its campaign tag: the language switch of the (cached) start page
    keeps it, and only it, so the response still counts for the campaign."""
    browser, other = (TestClient(app, base_url="http://testserver") for _ in range(2))
    other.get(f"/s/{survey.slug}?k=facebook&fbclid=someone-else")  # the cached page is another visitor's
    page = browser.get(f"/s/{survey.slug}?k=facebook")
    assert 'href="?k=facebook&amp;lang=en"' in page.text
    url, _html = start(browser, survey.slug, "?k=facebook&lang=en")
    from consult.db import session_scope

    token = url.split("/r/")[1].split("/")[0]
    with session_scope() as session:
        draft = session.execute(select(ResponseDraft).where(ResponseDraft.token == token)).scalar_one()
    assert draft.campaign_tag == "facebook" and draft.language == "en"


def test_closed_survey_has_a_friendly_page(client) -> None:  # type: ignore[no-untyped-def]
    closed = store(every_type_survey(status="closed"))
    response = client.get(f"/s/{closed.slug}")
    assert response.status_code == 410
    assert "Enkäten är stängd" in response.text


def test_not_yet_open_survey(client) -> None:  # type: ignore[no-untyped-def]
    later = store(every_type_survey(opens_at=datetime.now(UTC) + timedelta(days=3)))
    response = client.get(f"/s/{later.slug}")
    assert response.status_code == 403
    assert "Enkäten har inte öppnat än" in response.text


def test_unknown_survey_page_is_404(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/s/finns-inte")
    assert response.status_code == 404
    assert "Det finns ingen enkät" in response.text


@pytest.mark.parametrize(
    "data",
    [
        {"kommun": "99", "val": "1"},
        {"kommun": "abc", "val": "1"},
        {"kommun": "1", "val": "1", "flera": ["1", "1"]},
        {"kommun": "1", "val": "1", "flera": "x" * 10000},
    ],
)
def test_bad_form_values_never_500(client, survey, data) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    response = client.post(url, data={"csrftoken": csrf(html), **data, "action": "next"})
    assert response.status_code == 422


def test_two_answers_to_a_one_answer_question_are_refused_not_guessed(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    response = client.post(url, data={"csrftoken": csrf(html), "kommun": ["1", "2"], "val": "1", "action": "next"})
    assert response.status_code == 422 and "Ge bara ett svar." in response.text
    again = client.get(url)
    assert not re.search(r'name="kommun" value="[12]"[^>]*checked', again.text)  # nothing was kept


def test_a_question_that_depends_on_the_same_page_says_when_it_applies(client) -> None:  # type: ignore[no-untyped-def]
    from consult.surveys.schema import PageSpec, SurveySpec
    from tests.factories import choices, q

    has_car = {"question": "bil", "op": "equals", "value": 1}
    first = PageSpec(questions=(q("bil", "single_choice", "Har du bil?", choices=choices("Ja", "Nej")),
                                q("marke", "short_text", "Vilket bilmärke?", condition=has_car)))
    second = PageSpec(questions=(q("varfor", "short_text", "Varför har du bil?", condition=has_car),))
    slug = f"villkor-{datetime.now(UTC).strftime('%H%M%S%f')}"
    spec = store(SurveySpec(slug=slug, title={"sv": "Villkor"}, status="open", pages=(first, second)))
    url, html = start(client, spec.slug)
    # Without JavaScript both questions of page 1 are on screen: the second says when to answer it.
    assert 'class="condition-note">Svara bara om ”Har du bil?” är ”Ja”.</p>' in html
    assert html.count('class="condition-note"') == 1
    page_two = client.post(url, data={"csrftoken": csrf(html), "bil": "1", "action": "next"}, follow_redirects=True)
    assert "Varför har du bil?" in page_two.text and "condition-note" not in page_two.text  # decided already


def test_a_form_with_thousands_of_fields_is_refused_and_nothing_is_kept(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    flood = [("csrftoken", csrf(html)), ("kommun", "1"), ("val", "1"), ("action", "next")]
    flood += [(f"extra{n}", "x") for n in range(1200)]
    response = client.post(url, content=urlencode(flood), headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and "Formuläret kunde inte läsas" in response.text
    again = client.get(url)
    assert again.status_code == 200 and not re.search(r'name="val" value="1"[^>]*checked', again.text)


def test_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    headers = client.get("/s/vasternorrland-2030").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"]


def number_survey(name: str, *questions):  # type: ignore[no-untyped-def]
    """An open survey with the given number questions on page 1 and a short text on page 2."""
    from consult.surveys.schema import PageSpec, SurveySpec
    from tests.factories import q

    return store(
        SurveySpec(
            slug=f"{name}-{datetime.now(UTC).strftime('%H%M%S%f')}",
            title={"sv": name, "en": name},
            status="open",
            pages=(PageSpec(questions=questions), PageSpec(questions=(q("kort", "short_text"),))),
        )
    )


def test_decimals_are_written_back_as_the_respondent_writes_them(client) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import q

    spec = number_survey("decimaler", q("tal", "number", "Hur många timmar?", min_value=0, max_value=2.5))
    url, html = start(client, spec.slug)
    too_large = client.post(url, data={"csrftoken": csrf(html), "tal": "3,5", "action": "next"})
    assert too_large.status_code == 422 and "Skriv ett tal som är högst 2,5." in too_large.text
    english = client.post(url + "?lang=en", data={"csrftoken": csrf(html), "tal": "3.5", "action": "next"})
    assert "Enter a number of at most 2.5." in english.text
    client.get("/?lang=sv")
    saved = client.post(url, data={"csrftoken": csrf(html), "tal": "1,25", "action": "next"}, follow_redirects=False)
    assert saved.status_code == 303
    assert 'value="1,25"' in client.get(url).text


def test_a_whole_number_question_refuses_decimals_beside_the_field(client) -> None:  # type: ignore[no-untyped-def]
    """QA found 12,5 stored as the years someone had lived in the county, though the help said
    whole years: such a question refuses it, says why, keeps what was typed, and stores nothing."""
    from consult.db import session_scope
    from tests.factories import q

    spec = number_survey("heltal", q("ar", "number", "Hur många år?", min_value=0, max_value=110, whole_numbers=True),
                         q("timmar", "number", "Hur många timmar?"))
    url, html = start(client, spec.slug)
    assert 'name="ar" type="text" inputmode="numeric"' in html
    assert 'name="timmar" type="text" inputmode="decimal"' in html  # decimals are still typed elsewhere
    refused = client.post(url, data={"csrftoken": csrf(html), "ar": "12,5", "timmar": "1,5", "action": "next"})
    assert refused.status_code == 422
    assert 'href="#field-ar"' in refused.text and 'href="#field-timmar"' not in refused.text
    assert re.search(r'id="ar-error">.*Svara med ett heltal\.</p>', refused.text)
    assert 'value="12,5"' in refused.text and 'aria-invalid="true"' in refused.text
    with session_scope() as session:
        draft = session.execute(select(ResponseDraft).where(ResponseDraft.survey_id == spec.id)).scalar_one_or_none()
        assert draft is None or "ar" not in draft.answers
        assert session.execute(select(Response).where(Response.survey_id == spec.id)).first() is None
    english = client.post(url + "?lang=en", data={"csrftoken": csrf(html), "ar": "12.5", "action": "next"})
    assert english.status_code == 422 and "Enter a whole number." in english.text
    client.get("/?lang=sv")
    saved = client.post(url, data={"csrftoken": csrf(html), "ar": "12", "timmar": "1,5", "action": "next"},
                        follow_redirects=False)
    assert saved.status_code == 303
    back = client.get(url).text
    assert 'value="12"' in back and 'value="1,5"' in back


def test_a_ranking_with_a_limit_says_so_and_offers_only_those_positions(client) -> None:  # type: ignore[no-untyped-def]
    from consult.surveys.schema import PageSpec
    from tests.factories import choices, q

    ranking = q("topp", "ranking", choices=choices("A", "B", "C", "D"), max_choices=2)
    page = PageSpec(title={"sv": "Sida"}, questions=(ranking,))
    spec = store(every_type_survey().model_copy(update={"pages": (page,)}))
    _url, html = start(client, spec.slug)
    assert "Rangordna högst 2." in html
    select = html.split('name="topp__1"')[1].split("</select>")[0]
    assert '<option value="2">' in select and '<option value="3">' not in select


def test_after_deleting_the_response_this_browser_may_answer_again(client, survey) -> None:  # type: ignore[no-untyped-def]
    url, html = start(client, survey.slug)
    first = {"csrftoken": csrf(html), "kommun": "1", "val": "1", "action": "next"}
    second_url = client.post(url, data=first, follow_redirects=False).headers["location"]
    done = client.post(second_url, data={"csrftoken": csrf(client.get(second_url).text), "action": "next"},
                       follow_redirects=False)
    receipt = receipt_of(client, done.headers["location"])
    assert "Du har redan svarat" in client.get(f"/s/{survey.slug}").text
    own = client.post("/mitt-svar", data={"csrftoken": csrf(client.get("/mitt-svar").text), "kvitto": receipt})
    assert own.headers["cache-control"] == "no-store"  # the code and the answers: not for Back
    deleted = client.post("/mitt-svar/radera", data={"csrftoken": csrf(own.text), "kvitto": receipt, "confirm": "yes"},
                          follow_redirects=False)
    assert deleted.headers["location"] == f"/s/{survey.slug}/raderat"
    page = client.get(deleted.headers["location"])
    assert "Ditt svar är raderat" in page.text and page.headers["cache-control"] == "no-store"
    again = client.get(f"/s/{survey.slug}").text
    assert "Du har redan svarat" not in again and "Starta enkäten" in again
    assert client.get(f"/s/{survey.slug}/kvitto").status_code == 404


def test_a_browser_without_the_receipt_is_led_to_the_receipt_code_form(client, survey) -> None:  # type: ignore[no-untyped-def]
    client.cookies.delete("consult_answered")
    page = client.get(f"/s/{survey.slug}/kvitto")
    assert page.status_code == 404 and "Inget kvitto i den här webbläsaren" in page.text
    assert '<a href="/mitt-svar">Se eller radera ditt svar</a>' in page.text
    assert f'<a href="/s/{survey.slug}">' in page.text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=8), st.sampled_from(["", "&", "&&"]))
def test_a_posted_page_is_read_as_the_standard_library_reads_it(pairs, joiner) -> None:  # type: ignore[no-untyped-def]
    """The survey pages' own reading of a URL-encoded form gives what parse_qsl gives."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import parse_qsl, urlencode

    from starlette.requests import Request

    from consult.surveys.routes import _posted_form

    body = (urlencode(pairs) + joiner + "bare&a+b=c%20d%zz").encode()

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", b"application/x-www-form-urlencoded")]}
    # In a thread of its own: the browser tests' event loop may be running in this one.
    with ThreadPoolExecutor(1) as pool:
        fields = pool.submit(asyncio.run, _posted_form(Request(scope, receive))).result()
    expected: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        expected.setdefault(name, []).append(value)
    assert fields == expected
