"""Surveys whose respondents say who they are: the identity is asked on the start page (or sent
through the API), checked, kept apart from the answers, shown to staff and removed with the
response. Anonymous surveys never ask and refuse an identity sent to them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from consult.responses.models import Answer, Response, ResponseDraft, ResponseIdentity
from tests.factories import every_type_survey, store
from tests.staff import create_staff, csrf_from, logged_in
from tests.test_api import VALID, post
from tests.test_privacy import show_own_response
from tests.test_survey_pages import csrf, receipt_of

PASSWORD = "identified-surveys-2025"


@pytest.fixture(scope="module")
def identified(client):  # type: ignore[no-untyped-def]
    return store(every_type_survey(identity_mode="identified"))


@pytest.fixture(scope="module")
def anonymous(client):  # type: ignore[no-untyped-def]
    return store(every_type_survey())


def _count(model, **where) -> int:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return session.execute(query).scalar_one()


def _identity(response_id: int) -> ResponseIdentity | None:
    from consult.db import session_scope

    with session_scope() as session:
        found = session.get(ResponseIdentity, response_id)
        if found is not None:
            session.expunge(found)
        return found


def _response_by_receipt(receipt: str) -> Response:
    from consult.db import session_scope

    with session_scope() as session:
        response = session.execute(select(Response).where(Response.receipt == receipt)).scalar_one()
        session.expunge(response)
        return response


def _answer_both_pages(client, url: str, html: str) -> str:  # type: ignore[no-untyped-def]
    """Answer the two pages of the every-type survey; returns the receipt code."""
    first = client.post(url, data={"csrftoken": csrf(html), "kommun": "1", "val": "1", "action": "next"},
                        follow_redirects=False)
    assert first.status_code == 303
    second_url = first.headers["location"]
    done = client.post(second_url, data={"csrftoken": csrf(client.get(second_url).text), "lang": "Fler bussar",
                                         "action": "next"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("/kvitto")
    return receipt_of(client, done.headers["location"])


def test_the_start_page_asks_who_you_are_and_explains_why(client, identified, anonymous) -> None:  # type: ignore[no-untyped-def]
    client.cookies.delete("consult_answered")
    html = client.get(f"/s/{identified.slug}").text
    assert "<legend>Vem är du?</legend>" in html and "This survey asks who you are." not in html
    assert 'for="field-name"' in html and 'id="field-name" name="name"' in html
    assert 'type="email"' in html and "syns bara för de handläggare" in html
    plain = client.get(f"/s/{anonymous.slug}").text
    assert "Vem är du?" not in plain and 'name="name"' not in plain


def test_a_missing_name_and_a_bad_address_are_explained_and_nothing_is_kept(client, identified) -> None:  # type: ignore[no-untyped-def]
    client.cookies.delete("consult_answered")
    token = csrf(client.get(f"/s/{identified.slug}").text)
    drafts_before = _count(ResponseDraft, survey_id=identified.id)
    response = client.post(f"/s/{identified.slug}/start",
                           data={"csrftoken": token, "name": "  ", "email": "anna.example.se"})
    assert response.status_code == 422
    html = response.text
    assert "<title>Fel:" in html and "Det finns ett problem" in html
    assert 'href="#field-name"' in html and 'href="#field-email"' in html
    assert 'id="name-error"' in html and "Skriv ditt namn." in html and "Ange en giltig e-postadress." in html
    assert 'value="anna.example.se"' in html  # what was typed stays
    assert _count(ResponseDraft, survey_id=identified.id) == drafts_before
    only_control = client.post(f"/s/{identified.slug}/start", data={"csrftoken": token, "name": "\x00\x01"})
    assert only_control.status_code == 422 and "Skriv ditt namn." in only_control.text
    english = client.post(f"/s/{identified.slug}/start?lang=en", data={"csrftoken": token, "name": "x" * 201})
    assert english.status_code == 422 and "The name is too long (at most 200 characters)." in english.text
    client.get("/?lang=sv")


def test_the_identity_is_stored_apart_from_the_answers_and_shown_to_staff(app, client, identified) -> None:  # type: ignore[no-untyped-def]
    client.cookies.delete("consult_answered")
    token = csrf(client.get(f"/s/{identified.slug}").text)
    started = client.post(f"/s/{identified.slug}/start", follow_redirects=False, data={
        "csrftoken": token, "name": " Anna   Svensson ", "email": "anna@example.se", "organisation": ""})
    assert started.status_code == 303
    url = started.headers["location"]
    receipt = _answer_both_pages(client, url, client.get(url).text)
    response = _response_by_receipt(receipt)
    identity = _identity(response.id)
    assert identity is not None
    assert (identity.name, identity.email, identity.organisation) == ("Anna Svensson", "anna@example.se", None)
    texts = [t for (t,) in _rows(select(Answer.text).where(Answer.response_id == response.id)) if t]
    assert texts == ["Fler bussar"]  # the name is not among the answers
    emails = create_staff("identified", PASSWORD)
    staff = logged_in(app, emails["analyst"], PASSWORD)
    page = staff.get(f"/granskning/{response.id}")
    assert page.status_code == 200 and "Svarande" in page.text and "Anna Svensson" in page.text
    assert "anna@example.se" in page.text


def _rows(query):  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        return session.execute(query).all()


def test_an_anonymous_survey_keeps_no_name_even_when_one_is_posted(client, anonymous) -> None:  # type: ignore[no-untyped-def]
    client.cookies.delete("consult_answered")
    token = csrf(client.get(f"/s/{anonymous.slug}").text)
    started = client.post(f"/s/{anonymous.slug}/start", data={"csrftoken": token, "name": "Anna Svensson"},
                          follow_redirects=False)
    url = started.headers["location"]
    receipt = _answer_both_pages(client, url, client.get(url).text)
    assert _identity(_response_by_receipt(receipt).id) is None


def test_the_api_requires_a_name_for_identified_surveys(client, identified) -> None:  # type: ignore[no-untyped-def]
    before = _count(Response, survey_id=identified.id)
    missing = post(client, identified.slug, VALID)
    assert missing.status_code == 422
    assert {e["field"]: e["code"] for e in missing.json()["errors"]} == {"respondent.name": "required"}
    bad = post(client, identified.slug, VALID, respondent={"name": "Anna", "email": "anna@"})
    assert bad.status_code == 422
    assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [("respondent.email", "invalid")]
    assert bad.json()["errors"][0]["message"] == "Ange en giltig e-postadress."
    nul = post(client, identified.slug, VALID, respondent={"name": "Anna\u0000 Ek\n"})
    assert nul.status_code == 201 and _identity(_response_by_receipt(nul.json()["receipt"]).id).name == "Anna Ek"
    before += 1
    unknown = post(client, identified.slug, VALID, respondent={"name": "Anna", "phone": "070"})
    assert unknown.status_code == 422
    assert _count(Response, survey_id=identified.id) == before


def test_the_api_stores_the_respondent_and_treats_resends_by_their_content(client, identified) -> None:  # type: ignore[no-untyped-def]
    client_uuid = str(uuid.uuid4())
    respondent = {"name": "Föreningen Norrsken", "email": "info@norrsken.example", "organisation": "Norrsken"}
    created = post(client, identified.slug, VALID, client_uuid=client_uuid, respondent=respondent)
    assert created.status_code == 201
    again = post(client, identified.slug, VALID, client_uuid=client_uuid, respondent=respondent)
    assert again.status_code == 200 and again.json() == created.json()
    other = post(client, identified.slug, VALID, client_uuid=client_uuid, respondent={**respondent, "name": "Annan"})
    assert other.status_code == 409
    identity = _identity(_response_by_receipt(created.json()["receipt"]).id)
    assert identity is not None and identity.organisation == "Norrsken"
    structure = client.get(f"/api/surveys/{identified.slug}").json()
    assert structure["identity_mode"] == "identified"


def test_the_api_refuses_a_name_for_an_anonymous_survey(client, anonymous) -> None:  # type: ignore[no-untyped-def]
    before = _count(Response, survey_id=anonymous.id)
    refused = post(client, anonymous.slug, VALID, respondent={"name": "Anna Svensson"})
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("respondent", "not_allowed")]
    assert _count(Response, survey_id=anonymous.id) == before
    assert client.get(f"/api/surveys/{anonymous.slug}").json()["identity_mode"] == "anonymous"


def test_deleting_a_response_or_anonymising_it_removes_who_answered(client, identified) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from consult.core.fields import utcnow
    from consult.db import session_scope
    from consult.privacy.service import purge
    from consult.surveys.models import Survey

    respondent = {"name": "Bo Ek", "organisation": "Ek AB"}
    deleted = post(client, identified.slug, VALID, respondent=respondent).json()["receipt"]
    response_id = _response_by_receipt(deleted).id
    page = show_own_response(client, deleted)
    assert "Bo Ek" in page.text and "Ek AB" in page.text  # all that is kept about them, to see
    form = {"csrftoken": csrf_from(page.text), "kvitto": deleted}
    unconfirmed = client.post("/mitt-svar/radera", data=form)
    assert unconfirmed.status_code == 422 and "Bo Ek" in unconfirmed.text and _identity(response_id) is not None
    confirm = client.post("/mitt-svar/radera", data={**form, "confirm": "yes"})
    assert confirm.status_code == 200 and _identity(response_id) is None

    kept = post(client, identified.slug, VALID, respondent={"name": "Eva Lind"}).json()["receipt"]
    kept_id = _response_by_receipt(kept).id
    with session_scope() as session:
        survey = session.get(Survey, identified.id)
        survey.retention_days = 1
        session.add(survey)
    with session_scope() as session:
        purge(session, now=utcnow() + timedelta(days=2), anonymise=True)
    assert _identity(kept_id) is None
    assert _count(Answer, response_id=kept_id) > 0  # the statistics stay


def test_staff_download_who_answered_apart_from_the_answers_and_it_is_logged(app, client, identified,
                                                                             anonymous) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    from consult.accounts.models import AuditEvent

    receipt = post(client, identified.slug, VALID, respondent={"name": "=HYPERLINK(\"x\")", "organisation": "Byalaget"})
    response_id = _response_by_receipt(receipt.json()["receipt"]).id
    emails = create_staff("respondents", PASSWORD)
    staff = logged_in(app, emails["analyst"], PASSWORD)
    page = staff.get(f"/arbetsyta/enkater/{identified.slug}/export")
    assert "Vilka som svarade" in page.text and f"/arbetsyta/enkater/{identified.slug}/svarande.csv" in page.text
    logged_before = _count(AuditEvent, action="export")
    download = staff.get(f"/arbetsyta/enkater/{identified.slug}/svarande.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    mine = next(row for row in rows if row["response_id"] == str(response_id))
    assert mine["name"] == "'=HYPERLINK(\"x\")" and mine["organisation"] == "Byalaget" and mine["email"] == ""
    assert _count(AuditEvent, action="export") == logged_before + 1
    long_csv = staff.get(f"/arbetsyta/enkater/{identified.slug}/export.csv").text
    assert "HYPERLINK" not in long_csv and "Byalaget" not in long_csv
    assert "Vilka som svarade" not in staff.get(f"/arbetsyta/enkater/{anonymous.slug}/export").text
    assert staff.get(f"/arbetsyta/enkater/{anonymous.slug}/svarande.csv").status_code == 404
