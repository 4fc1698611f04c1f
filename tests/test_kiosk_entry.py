"""The way into kiosk mode from the interviewers' page: the survey and the event's name, checked
on the server with messages beside the fields, in Swedish and English; a good choice sends the
device, logged out, to the survey's kiosk start page."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from consult.accounts.models import AuditEvent
from tests.factories import choices, event_survey, put_in_kiosk_mode, q, store
from tests.staff import create_staff, csrf_from
from tests.staff import logged_in as staff_login

PASSWORD = "ett-långt-lösenord-42"
EVENT = "Framtidsdag i Härnösand"


@pytest.fixture(scope="module")
def staff(migrated: str) -> dict[str, str]:
    return create_staff("kiosk-entry", PASSWORD)


@pytest.fixture(scope="module")
def survey(migrated: str):  # type: ignore[no-untyped-def]
    question = q("val", "single_choice", "Vill du bo kvar?", choices=choices("Ja", "Nej"))
    return store(event_survey("kiosk-entry", (question,)))


@pytest.fixture()
def interviewer(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return staff_login(app, staff["interviewer"], PASSWORD)


def open_kiosk(client: TestClient, survey: str, place: str, lang: str = "sv"):  # type: ignore[no-untyped-def]
    page = client.get("/intervju", params={"lang": lang})
    assert page.status_code == 200
    return client.post("/intervju/kiosk", data={"csrftoken": csrf_from(page.text), "survey": survey, "place": place})


def test_the_interviewers_page_explains_and_offers_kiosk_mode(interviewer, survey) -> None:  # type: ignore[no-untyped-def]
    html = interviewer.get("/intervju").text
    assert "Öppna kioskläge" in html and "I kioskläge svarar den ena personen efter den andra" in html
    form = html[html.index('action="/intervju/kiosk"') :]
    assert f'<option value="{survey.slug}"' in form and 'id="field-kiosk-place"' in form
    english = interviewer.get("/intervju", params={"lang": "en"}).text
    assert "Open kiosk mode" in english and "no receipt code is shown" in english


def test_a_good_choice_opens_the_kiosk_start_page_logged_out(app, interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    sent = open_kiosk(interviewer, survey.slug, f"  {EVENT}\n")
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/s/{survey.slug}?kiosk=Framtidsdag+i+H%C3%A4rn%C3%B6sand&lang=sv"
    # The respondents who use the tablet next cannot reach the staff pages.
    assert interviewer.get("/intervju").status_code in (302, 303, 401)
    start = interviewer.get(sent.headers["location"])
    assert start.status_code == 200 and f'value="{EVENT}"' in start.text  # the device is a kiosk now
    assert start.status_code == 200 and f'name="kiosk" value="{EVENT}"' in start.text

    from consult.accounts.service import get_user_by_email
    from consult.db import session_scope

    with session_scope() as session:
        user = get_user_by_email(session, staff["interviewer"])
        assert user is not None
        actions = session.execute(select(AuditEvent.action).where(AuditEvent.user_id == user.id)).scalars().all()
    assert "logout" in actions


@pytest.mark.parametrize(
    ("lang", "place", "message"),
    [
        ("sv", "", "Ange evenemangets namn."),
        ("sv", " \t\x01 ", "Ange evenemangets namn."),  # what the kiosk would drop leaves nothing
        ("sv", "x" * 201, "Korta evenemangets namn till högst 200 tecken."),
        ("en", "", "Enter the name of the event."),
    ],
)
def test_a_missing_or_overlong_event_name_is_explained_beside_the_field(  # type: ignore[no-untyped-def]
    interviewer, survey, lang: str, place: str, message: str
) -> None:
    refused = open_kiosk(interviewer, survey.slug, place, lang)
    assert refused.status_code == 422
    html = refused.text
    opened = html.index('class="error-summary"')
    summary = html[opened : html.index("</ul>", opened)]
    assert '<a href="#field-kiosk-place">' in summary and message in summary
    beside = re.search(r'<p class="error-message" id="kiosk-place-error">(.*?)</p>', html, re.S)
    assert beside and message in beside.group(1)
    assert re.search(r'id="field-kiosk-place"[^>]*aria-describedby="kiosk-place-hint kiosk-place-error"', html)
    assert re.search(r'id="field-kiosk-place"[^>]*aria-invalid="true"', html)
    assert 'id="place-error"' not in html  # the entry form above is not blamed
    assert interviewer.get("/intervju").status_code == 200  # still logged in: nothing was opened


def test_a_survey_that_is_not_open_is_refused(interviewer) -> None:  # type: ignore[no-untyped-def]
    refused = open_kiosk(interviewer, f"finns-inte-{uuid.uuid4().hex[:6]}", EVENT)
    assert refused.status_code == 422
    assert '<a href="#field-kiosk-survey">Välj en enkät.</a>' in refused.text
    assert f'value="{EVENT}"' in refused.text  # what was typed stays


def test_kiosk_mode_needs_an_interviewer_and_the_forms_token(app, interviewer, survey) -> None:  # type: ignore[no-untyped-def]
    anonymous = TestClient(app, base_url="http://testserver", follow_redirects=False)
    token = csrf_from(anonymous.get("/login").text)
    stranger = anonymous.post("/intervju/kiosk", data={"csrftoken": token, "survey": survey.slug, "place": EVENT})
    assert stranger.status_code in (302, 303, 401, 403)
    assert "kiosk=" not in stranger.headers.get("location", "")
    forged = interviewer.post("/intervju/kiosk", data={"survey": survey.slug, "place": EVENT})
    assert forged.status_code == 403


def _start(client: TestClient, slug: str, kiosk: str | None) -> str:
    """Start a response as the survey's start page does; the address of its first page."""
    query = {"kiosk": kiosk} if kiosk else {}
    if kiosk:
        put_in_kiosk_mode(client, slug, kiosk)  # as an interviewer's "Open kiosk mode" does
    page = client.get(f"/s/{slug}", params=query)
    data = {"csrftoken": csrf_from(page.text), **query}
    started = client.post(f"/s/{slug}/start", data=data)
    assert started.status_code == 303
    return started.headers["location"]


def test_a_kiosk_address_whose_response_is_gone_leads_to_the_kiosk_start_without_javascript(
    app, survey
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete

    from consult.db import session_scope
    from consult.responses.models import ResponseDraft

    tablet = TestClient(app, base_url="http://testserver", follow_redirects=False)
    first_page = _start(tablet, survey.slug, EVENT)
    token = first_page.split("/r/")[1].split("/")[0]
    with session_scope() as session:  # the previous person finished or started over
        session.execute(delete(ResponseDraft).where(ResponseDraft.token == token))
    kiosk_start = f"/s/{survey.slug}?kiosk=Framtidsdag+i+H%C3%A4rn%C3%B6sand&lang=sv"
    for gone in (first_page, f"/s/{survey.slug}/r/{token}"):  # Back, or the resume address
        answer = tablet.get(gone)
        assert answer.status_code == 303 and answer.headers["location"] == kiosk_start

    # Any other browser gets the plain "not found" page for the same address.
    elsewhere = TestClient(app, base_url="http://testserver", follow_redirects=False)
    assert elsewhere.get(first_page).status_code == 404
    # A start page reached another way (the language link, the front page) stays in kiosk mode on the
    # tablet: a personal response would leave its receipt for the next person to find.
    next_page = _start(tablet, survey.slug, None)
    assert _draft_channel(next_page) == "kiosk"
    assert tablet.get(first_page).headers["location"] == kiosk_start
    assert 'href="?kiosk=Framtidsdag+i+H%C3%A4rn%C3%B6sand&amp;lang=en"' in tablet.get(kiosk_start).text


def _draft_channel(page_url: str) -> str:
    from sqlalchemy import select

    from consult.db import session_scope
    from consult.responses.models import ResponseDraft

    token = page_url.split("/r/")[1].split("/")[0]
    with session_scope() as session:
        return session.execute(select(ResponseDraft.channel).where(ResponseDraft.token == token)).scalar_one()


def test_a_kiosk_device_stays_on_its_survey_whatever_link_is_followed(app, survey) -> None:  # type: ignore[no-untyped-def]
    """The header leads to the front page, which lists every open survey: on a tablet in kiosk mode,
    another survey would run as a personal one and leave its receipt for the next person. Kiosk mode
    covers the device, so other surveys lead back to the kiosk's start."""
    question = q("val", "single_choice", "Ja eller nej?", choices=choices("Ja", "Nej"))
    other = store(event_survey("kiosk-other", (question,)))
    tablet = TestClient(app, base_url="http://testserver", follow_redirects=False)
    _start(tablet, survey.slug, EVENT)
    kiosk_start = f"/s/{survey.slug}?kiosk=Framtidsdag+i+H%C3%A4rn%C3%B6sand&lang=sv"
    opened = tablet.get(f"/s/{other.slug}")
    assert opened.status_code == 303 and opened.headers["location"] == kiosk_start
    token = csrf_from(tablet.get(kiosk_start).text)
    started = tablet.post(f"/s/{other.slug}/start", data={"csrftoken": token})
    assert started.status_code == 303 and started.headers["location"] == kiosk_start
    # A kiosk opened for the other survey (its kiosk link, from the interviewers' page) takes over.
    moved = _start(tablet, other.slug, "Mässa i Sundsvall")
    assert _draft_channel(moved) == "kiosk"
    other_start = f"/s/{other.slug}?kiosk=M%C3%A4ssa+i+Sundsvall&lang=sv"
    assert tablet.get(f"/s/{survey.slug}").headers["location"] == other_start
    # Any other browser opens both surveys as usual.
    elsewhere = TestClient(app, base_url="http://testserver", follow_redirects=False)
    assert elsewhere.get(f"/s/{other.slug}").status_code == 200


def test_an_address_alone_never_makes_a_kiosk(app, survey) -> None:  # type: ignore[no-untyped-def]
    """A kiosk is exempt from "one response per browser" and from the repeat-answer flag. Were
    ?kiosk= enough, anyone could answer again and again unflagged, under an event they made up."""
    from urllib.parse import quote

    from sqlalchemy import select

    from consult.db import session_scope
    from consult.responses.models import ResponseDraft
    from consult.surveys import kiosk

    visitor = TestClient(app, base_url="http://testserver", follow_redirects=False)
    page = visitor.get(f"/s/{survey.slug}", params={"kiosk": "Falsk mässa"})
    assert page.status_code == 200 and "Falsk mässa" not in page.text
    started = visitor.post(f"/s/{survey.slug}/start", data={"csrftoken": csrf_from(page.text), "kiosk": "Falsk mässa"})
    assert started.status_code == 303
    token = started.headers["location"].split("/r/")[1].split("/")[0]
    with session_scope() as session:
        draft = session.execute(select(ResponseDraft).where(ResponseDraft.token == token)).scalar_one()
        assert draft.channel == "web" and draft.event_name is None and draft.source_hash is not None
    assert visitor.get(f"/s/{survey.slug}/tack", params={"kiosk": "Falsk mässa"}).status_code == 303

    # Nor does a cookie that no interviewer's page signed, such as the unsigned one kiosks had before.
    forger = TestClient(app, base_url="http://testserver", follow_redirects=False)
    forger.cookies.set(kiosk.COOKIE, quote(f"{survey.slug}|Falsk mässa"))
    page = forger.get(f"/s/{survey.slug}")
    assert "Falsk mässa" not in page.text
    started = forger.post(f"/s/{survey.slug}/start", data={"csrftoken": csrf_from(page.text)})
    assert kiosk.COOKIE in started.headers.get("set-cookie", "")  # removed
    token = started.headers["location"].split("/r/")[1].split("/")[0]
    with session_scope() as session:
        draft = session.execute(select(ResponseDraft).where(ResponseDraft.token == token)).scalar_one()
        assert draft.channel == "web"


def _lang_of(html: str) -> str:
    match = re.search(r'<html lang="(\w+)"', html)
    assert match
    return match.group(1)


def _answer_whole_survey(tablet: TestClient, start_url: str, switch_to: str | None = None) -> str:
    """One respondent at the kiosk, switching language on the start page when asked; the address
    the kiosk goes to once the answers are sent (its thank-you page)."""
    page = tablet.get(start_url)
    if switch_to:
        page = tablet.get(start_url, params={"lang": switch_to})
        assert _lang_of(page.text) == switch_to
    first = tablet.post(f"{start_url.split('?')[0]}/start", data={"csrftoken": csrf_from(page.text)})
    page_one = first.headers["location"]
    html = tablet.get(page_one).text
    done = tablet.post(page_one, data={"csrftoken": csrf_from(html), "kommun": "1", "val": "1", "action": "next"})
    assert done.status_code == 303 and "/tack?" in done.headers["location"]
    return done.headers["location"]


def test_the_next_person_at_a_kiosk_starts_in_the_language_it_was_opened_in(app, interviewer, survey) -> None:  # type: ignore[no-untyped-def]
    """A respondent who switches a Swedish kiosk to English must not leave it in English for the
    next person: the thank-you page's return, "Nytt svar", the reset and a lost address all lead
    to the start page in the kiosk's own language."""
    sent = open_kiosk(interviewer, survey.slug, EVENT)  # the interviewer's page is in Swedish
    tablet = interviewer  # the same device, logged out and now a kiosk
    start_url = sent.headers["location"]
    thanks_url = _answer_whole_survey(tablet, start_url, switch_to="en")
    thanks = tablet.get(thanks_url)
    assert _lang_of(thanks.text) == "en" and "New response" in thanks.text  # thanked in their language
    new_response = re.search(r'<a class="button button-primary kiosk-new" href="([^"]+)"', thanks.text)
    assert new_response and 'data-kiosk-return="' + new_response.group(1) + '"' in thanks.text
    next_start = tablet.get(new_response.group(1).replace("&amp;", "&"))
    assert _lang_of(next_start.text) == "sv"

    # The next person switches to English and gives up half-way: "Avbryt och börja om" (which the
    # inactivity timer presses too) leads back to Swedish.
    page = tablet.get(start_url, params={"lang": "en"})
    page_one = tablet.post(f"/s/{survey.slug}/start", data={"csrftoken": csrf_from(page.text)}).headers["location"]
    html = tablet.get(page_one).text
    assert _lang_of(html) == "en"
    token = page_one.split("/r/")[1].split("/")[0]
    reset = tablet.post(f"/s/{survey.slug}/r/{token}/kiosk-reset", data={"csrftoken": csrf_from(html)})
    assert reset.status_code == 303
    assert _lang_of(tablet.get(reset.headers["location"]).text) == "sv"
    # Back to the abandoned address leads to the start in Swedish too.
    assert _lang_of(tablet.get(tablet.get(page_one).headers["location"]).text) == "sv"


def test_a_kiosk_opened_in_english_starts_each_person_in_english(app, interviewer, survey) -> None:  # type: ignore[no-untyped-def]
    sent = open_kiosk(interviewer, survey.slug, EVENT, lang="en")
    assert sent.headers["location"].endswith("&lang=en")
    tablet = interviewer
    assert _lang_of(tablet.get(sent.headers["location"]).text) == "en"
    thanks_url = _answer_whole_survey(tablet, sent.headers["location"], switch_to="sv")
    thanks = tablet.get(thanks_url).text
    assert _lang_of(thanks) == "sv"
    new_response = re.search(r'kiosk-new" href="([^"]+)"', thanks)
    assert new_response
    assert _lang_of(tablet.get(new_response.group(1).replace("&amp;", "&")).text) == "en"


def test_a_kiosk_cookie_from_before_kiosks_kept_their_language_still_works_in_swedish(app, survey) -> None:  # type: ignore[no-untyped-def]
    from consult.config import get_settings
    from consult.core.signing import serializer
    from consult.surveys import kiosk

    tablet = TestClient(app, base_url="http://testserver", follow_redirects=False)
    old = serializer(get_settings().secret_key, salt="consult-kiosk").dumps([survey.slug, EVENT])
    tablet.cookies.set(kiosk.COOKIE, old)
    tablet.cookies.set("lang", "en")  # the person before switched to English
    page_one = _start(tablet, survey.slug, None)
    assert _draft_channel(page_one) == "kiosk"
    html = tablet.get(page_one).text
    home = re.search(r'data-kiosk-home="([^"]+)"', html)
    assert home and home.group(1).replace("&amp;", "&").endswith("&lang=sv")


def _store_events(survey, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.responses.models import Channel
    from consult.responses.service import NewResponse, store_responses

    items = [
        NewResponse(spec=survey, client_uuid=str(uuid.uuid4()), values={"kommun": 1}, channel=Channel.event,
                    event_name=name)
        for name in names
    ]
    with session_scope() as session:
        store_responses(session, items)


def test_the_place_fields_offer_the_names_already_used_for_the_survey(app, interviewer) -> None:  # type: ignore[no-untyped-def]
    """One event typed two ways counts as two: the interviewers' page offers the names the survey's
    responses already carry, most used first, each spelling of one name once (the most used)."""
    question = q("val", "single_choice", "Vill du bo kvar?", choices=choices("Ja", "Nej"))
    survey = store(event_survey("kiosk-places", (question,)))
    _store_events(survey, ["Mässa i Sundsvall"] + ["Framtidsdag i Härnösand"] * 2
                  + ["framtidsdag  i härnösand"] + ["Kramfors bibliotek"] * 2 + ["Kramfors bibliotek"])
    html = interviewer.get("/intervju", params={"survey": survey.slug}).text
    datalist = re.search(rf'<datalist id="places-{survey.slug}">(.*?)</datalist>', html, re.S)
    assert datalist
    offered = re.findall(r'<option value="([^"]*)">', datalist.group(1))
    assert offered == ["Framtidsdag i Härnösand", "Kramfors bibliotek", "Mässa i Sundsvall"]
    assert re.search(rf'id="field-place"[^>]*list="places-{survey.slug}"', html)
    # The kiosk's event field too, for the survey chosen there.
    refused = open_kiosk(interviewer, survey.slug, "")
    assert refused.status_code == 422
    assert re.search(rf'id="field-kiosk-place"[^>]*list="places-{survey.slug}"', refused.text)
    assert 'data-places-for="field-kiosk-place"' in refused.text  # the script follows another choice


def test_at_most_fifty_place_names_are_offered(app, survey) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.interviews.service import used_places

    many = store(event_survey("kiosk-many", ()))
    _store_events(many, [f"Plats {n:02d}" for n in range(55)] + ["Plats 54"] * 3)
    with session_scope() as session:
        offered = used_places(session, survey_ids=[many.id])[many.id]
    assert len(offered) == 50 and offered[0] == "Plats 54" and offered[1] == "Plats 00"
