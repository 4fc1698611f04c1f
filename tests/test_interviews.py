"""Interviewer mode, corrections with history, review states, kiosk mode, one response per
browser, and the burst and retention safeguards (issue 3, sections 2, 4, 7 and 8)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consult.accounts import service as accounts
from consult.accounts.models import AuditEvent
from consult.interviews import service
from consult.responses import review
from consult.responses.models import Answer, Response, ResponseDraft
from consult.responses.review_models import ResponseEdit, ResponseFlag, ReviewEvent
from consult.responses.service import NewResponse, store_responses
from tests.factories import choices, every_type_survey, put_in_kiosk_mode, q, shown_receipt, store
from tests.staff import csrf_from
from tests.staff import logged_in as staff_login

PASSWORD = "ett-långt-lösenord-42"


def logged_in(app, email: str) -> TestClient:  # type: ignore[no-untyped-def]
    return staff_login(app, email, PASSWORD)


KIOSK_EVENT = "Framtidsdag i Härnösand"


@pytest.fixture(scope="module", autouse=True)
def review_tables(migrated: str) -> None:
    """The migrated test database, which has the review tables."""


@pytest.fixture(autouse=True)
def direct_writes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """This module's clients each run requests in an event loop of their own, so the batch writer
    (running in the shared `client`'s loop) cannot serve them: they write directly, as a script does."""
    from consult.app import writer

    monkeypatch.setattr(writer, "task", None)


@pytest.fixture(scope="module")
def staff(review_tables) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    suffix = uuid.uuid4().hex[:8]
    emails = {role: f"{role}-{suffix}@intervju.se" for role in ("admin", "analyst", "interviewer", "interviewer2")}
    with session_scope() as session:
        for key, email in emails.items():
            role = "interviewer" if key == "interviewer2" else key
            accounts.create_user(session, email=email, password=PASSWORD, role=role, name=f"Test {key}")
    return emails


@pytest.fixture(scope="module")
def survey(client):  # type: ignore[no-untyped-def]
    return store(every_type_survey())


def new_client(app) -> TestClient:  # type: ignore[no-untyped-def]
    accounts.reset_login_limits()
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


@pytest.fixture()
def interviewer(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff["interviewer"])


@pytest.fixture()
def analyst(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff["analyst"])


def user_id(email: str) -> int:
    from consult.db import session_scope

    with session_scope() as session:
        user = accounts.get_user_by_email(session, email)
        assert user is not None and user.id is not None
        return user.id


def entries_by(email: str) -> list[Response]:
    from consult.db import session_scope

    with session_scope() as session:
        # In the order stored (PostgreSQL returns an unordered scan in the order of its free space).
        rows = session.execute(
            select(Response).where(Response.entered_by_id == user_id(email)).order_by(Response.id)
        ).scalars()
        return list(rows)


def form_url(survey, channel: str = "interview_in_person", place: str = "Kramfors bibliotek") -> str:  # type: ignore[no-untyped-def]
    return f"/intervju/formular?survey={survey.slug}&channel={channel}&place={place}"


GOOD_ENTRY = {"kommun": "2", "val": "1", "flera": ["1", "3"], "skala": "4", "antal": "12,5", "kort": "Bussar"}


def submit_entry(client: TestClient, survey, data: dict, **setup):  # type: ignore[no-untyped-def]
    page = client.get(form_url(survey, **setup))
    assert page.status_code == 200
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    return client.post("/intervju/formular", data={**hidden, **data})


# --- access -------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(app, review_tables) -> None:  # type: ignore[no-untyped-def]
    client = new_client(app)
    for path in ("/intervju", "/intervju/formular", "/granskning", "/granskning/1", "/intervju/svar/1"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    api = client.post("/api/intervju/responses", json={})
    assert api.status_code == 401


def test_each_role_reaches_only_its_pages(app, staff, survey) -> None:  # type: ignore[no-untyped-def]
    analyst = logged_in(app, staff["analyst"])
    assert analyst.get("/intervju").status_code == 403
    assert analyst.get("/granskning").status_code == 200

    interviewer = logged_in(app, staff["interviewer"])
    assert interviewer.get("/intervju").status_code == 200
    assert interviewer.get("/granskning").status_code == 403
    entered = submit_entry(interviewer, survey, GOOD_ENTRY)
    assert entered.status_code == 303
    response_id = entries_by(staff["interviewer"])[-1].id
    assert interviewer.get(f"/granskning/{response_id}").status_code == 403
    token = csrf_from(interviewer.get("/intervju").text)
    refused = interviewer.post(f"/granskning/{response_id}/status", data={"csrftoken": token, "state": "approved"})
    assert refused.status_code == 403

    admin = logged_in(app, staff["admin"])
    assert admin.get("/intervju").status_code == 200
    assert admin.get(f"/granskning/{response_id}").status_code == 200


# --- entering responses --------------------------------------------------------------------------


def test_interviewer_enters_one_response_after_another(interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    start = interviewer.get("/intervju")
    assert "Intervjuer" in start.text and survey.slug in start.text
    page = interviewer.get(form_url(survey, channel="event", place=KIOSK_EVENT))
    assert page.status_code == 200
    assert "Spara och nästa" in page.text
    before = len(entries_by(staff["interviewer"]))

    saved = submit_entry(interviewer, survey, GOOD_ENTRY, channel="event", place=KIOSK_EVENT)
    assert saved.status_code == 303
    target = urlsplit(saved.headers["location"])
    assert target.path == "/intervju/formular" and parse_qs(target.query)["channel"] == ["event"]
    confirmation = interviewer.get(saved.headers["location"])
    assert "Svaren sparades" in confirmation.text
    assert 'name="kort" type="text" maxlength="500" value=""' in confirmation.text  # an empty form again

    rows = entries_by(staff["interviewer"])
    assert len(rows) == before + 1
    entry = rows[-1]
    assert entry.channel == "event" and entry.event_name == KIOSK_EVENT
    assert entry.started_at is not None and entry.submitted_at is not None
    assert entry.started_at <= entry.submitted_at
    assert entry.source_hash is None  # an interviewer's address says nothing about the respondent

    second = submit_entry(interviewer, survey, {"kommun": "1", "val": "1"}, channel="interview_phone", place="")
    assert second.status_code == 303
    assert entries_by(staff["interviewer"])[-1].channel == "interview_phone"
    today = interviewer.get("/intervju").text
    assert f"/intervju/svar/{entry.id}" in today and "Evenemang" in today and "Telefon" in today


def test_event_needs_a_name_and_setup_errors_are_shown(interviewer, survey) -> None:  # type: ignore[no-untyped-def]
    response = interviewer.get(form_url(survey, channel="event", place=""))
    assert response.status_code == 422
    assert 'id="place-error"' in response.text and "Ange evenemangets namn." in response.text
    assert 'class="error-summary"' in response.text and 'href="#field-place"' in response.text
    unknown = interviewer.get(form_url(survey, channel="smoke-signals"))
    assert unknown.status_code == 422 and 'id="channel-error"' in unknown.text


def test_bad_input_stores_nothing_and_is_explained(interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    before = len(entries_by(staff["interviewer"]))
    response = submit_entry(interviewer, survey, {"val": "1", "antal": "tolv", "kort": "sparas inte"})
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    assert 'href="#field-kommun"' in response.text and 'href="#field-antal"' in response.text
    assert 'id="kommun-error"' in response.text and 'id="antal-error"' in response.text
    assert "Skriv ett tal" in response.text or "tal" in response.text
    assert 'value="sparas inte"' in response.text  # what was typed is kept
    assert len(entries_by(staff["interviewer"])) == before


@pytest.mark.parametrize(
    "data",
    [
        {"kommun": "99"},
        {"kommun": ["1", "2"], "val": "x"},
        {"flera": ["1", "2", "3"], "kommun": "1", "val": "1"},
        {"rang__1": "1", "rang__2": "1", "kommun": "1", "val": "1"},
        {"skala": "9", "kommun": "1", "val": "1"},
        {"kort": "x" * 600, "kommun": "1", "val": "1"},
        {"started_at": "not a time", "kommun": "1", "val": "1", "client_uuid": "not-a-uuid"},
    ],
)
def test_odd_form_values_never_fail(interviewer, survey, data) -> None:  # type: ignore[no-untyped-def]
    response = submit_entry(interviewer, survey, data)
    assert response.status_code in (303, 422)


def test_resending_the_same_form_stores_it_once(interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    page = interviewer.get(form_url(survey))
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    before = len(entries_by(staff["interviewer"]))
    for _ in range(2):
        assert interviewer.post("/intervju/formular", data={**hidden, **GOOD_ENTRY}).status_code == 303
    assert len(entries_by(staff["interviewer"])) == before + 1
    changed = interviewer.post("/intervju/formular", data={**hidden, **GOOD_ENTRY, "kort": "annat"})
    assert changed.status_code == 409


# --- the JSON endpoint of the offline queue ---------------------------------------------------------


def test_json_endpoint_is_idempotent_and_validates(interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    client_uuid = str(uuid.uuid4())
    now = datetime.now(UTC)
    body = {
        "survey": survey.slug,
        "client_uuid": client_uuid,
        "channel": "paper",
        "event_name": "Pappersenkät Sollefteå",
        "started_at": (now - timedelta(minutes=6)).isoformat(),
        "submitted_at": (now - timedelta(minutes=1)).isoformat(),
        "form": [["kommun", "1"], ["val", "2"], ["varfor_nej", "Långt till jobbet"], ["rang__3", "1"]],
    }
    headers = {"X-Requested-With": "XMLHttpRequest"}
    first = interviewer.post("/api/intervju/responses", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = interviewer.post("/api/intervju/responses", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["receipt"] == first.json()["receipt"]
    conflict = interviewer.post(
        "/api/intervju/responses", json={**body, "form": [["kommun", "2"], ["val", "1"]]}, headers=headers
    )
    assert conflict.status_code == 409
    stored = [r for r in entries_by(staff["interviewer"]) if r.client_uuid == client_uuid]
    assert len(stored) == 1
    assert stored[0].channel == "paper" and stored[0].event_name == "Pappersenkät Sollefteå"
    assert (stored[0].submitted_at - stored[0].started_at) == timedelta(minutes=5)

    asked = {**body, "channel": "interview_phone", "event_name": ""}
    invalid = interviewer.post(
        "/api/intervju/responses", json={**asked, "client_uuid": str(uuid.uuid4()), "form": [["val", "1"]]}
    )
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "kommun"
    # A paper questionnaire keeps its blanks: the same answers are stored as they were filled in.
    blank_on_paper = interviewer.post(
        "/api/intervju/responses", json={**body, "client_uuid": str(uuid.uuid4()), "form": [["val", "1"]]}
    )
    assert blank_on_paper.status_code == 201
    wrong = interviewer.post(
        "/api/intervju/responses", json={**body, "client_uuid": str(uuid.uuid4()), "form": [["kommun", "9"]]}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "kommun"  # codes are still checked
    api_style = interviewer.post(
        "/api/intervju/responses",
        json={**body, "client_uuid": str(uuid.uuid4()), "form": None, "answers": {"kommun": 2, "val": 1}},
    )
    assert api_style.status_code == 201
    no_event = interviewer.post(
        "/api/intervju/responses", json={**body, "client_uuid": str(uuid.uuid4()), "channel": "event", "event_name": ""}
    )
    assert no_event.status_code == 422 and no_event.json()["errors"][0]["field"] == "event_name"
    before = len(entries_by(staff["interviewer"]))
    for empty in ({}, None, {"kort": "   "}):  # an entry with nothing in it is no respondent, in either shape
        refused = interviewer.post("/api/intervju/responses",
                                   json={**body, "client_uuid": str(uuid.uuid4()), "form": None, "answers": empty})
        assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "empty_entry", refused.text
    both = interviewer.post("/api/intervju/responses",
                            json={**body, "client_uuid": str(uuid.uuid4()), "answers": {"kommun": 2}})
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "form"
    naive = interviewer.post(  # a time without a zone is Swedish time, not a server error
        "/api/intervju/responses",
        json={**body, "client_uuid": str(uuid.uuid4()), "submitted_at": (now - timedelta(minutes=1)).replace(
            tzinfo=None).isoformat(), "started_at": "2025-01-01T00:00:00"})
    assert naive.status_code == 201, naive.text
    assert len(entries_by(staff["interviewer"])) == before + 1


# An answer too long for varfor_nej, which is asked only when val is 2 (Nej).
TOO_LONG = "x" * 600


def stored_answers(response_id: int, spec) -> dict:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        return review.current_answers(session, spec=spec, response_id=response_id)


def test_queued_entry_with_a_bad_answer_to_a_hidden_question_is_stored_without_it(interviewer, survey) -> None:  # type: ignore[no-untyped-def]
    answers = {"kommun": 2, "val": 1, "varfor_nej": TOO_LONG}
    body = {"survey": survey.slug, "channel": "interview_phone", "answers": answers}
    stored = interviewer.post("/api/intervju/responses", json={**body, "client_uuid": str(uuid.uuid4())})
    assert stored.status_code == 201, stored.text
    assert stored_answers(stored.json()["response_id"], survey) == {"kommun": 2, "val": 1}
    shown = {**body["answers"], "val": 2}
    refused = interviewer.post("/api/intervju/responses",
                               json={**body, "client_uuid": str(uuid.uuid4()), "answers": shown})
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("varfor_nej", "too_long")]


def test_entry_form_drops_a_bad_answer_to_a_hidden_question(interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    before = len(entries_by(staff["interviewer"]))
    refused = submit_entry(interviewer, survey, {"kommun": "2", "val": "2", "varfor_nej": TOO_LONG})
    assert refused.status_code == 422 and 'id="varfor_nej-error"' in refused.text
    assert 'href="#field-varfor_nej"' in refused.text
    assert len(entries_by(staff["interviewer"])) == before
    stored = submit_entry(interviewer, survey, {"kommun": "2", "val": "1", "varfor_nej": TOO_LONG})
    assert stored.status_code == 303
    entries = entries_by(staff["interviewer"])
    assert len(entries) == before + 1
    assert stored_answers(entries[-1].id, survey) == {"kommun": 2, "val": 1}


def test_times_from_the_browser_are_clamped() -> None:
    now = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    started, submitted = service.clamp_times(now + timedelta(hours=1), now + timedelta(days=1), now)
    assert submitted == now and started == now
    started, submitted = service.clamp_times(now - timedelta(days=2), now - timedelta(hours=1), now)
    assert submitted == now - timedelta(hours=1) and started is None  # a form left open for a day
    started, submitted = service.clamp_times(None, now - timedelta(days=30), now)
    assert submitted == now and started is None
    assert service.parse_time("2025-05-01T10:00:00Z") == datetime(2025, 5, 1, 10, tzinfo=UTC)
    assert service.parse_time("igår") is None


def test_a_paper_questionnaire_is_entered_with_its_blanks_an_interview_is_not(interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    blank = {"kommun": "1", "kort": "Fler bussar"}  # "val" is required on the web and left blank on paper
    asked = submit_entry(interviewer, survey, blank, channel="interview_phone")
    assert asked.status_code == 422 and 'id="val-error"' in asked.text
    before = len(entries_by(staff["interviewer"]))
    page = interviewer.get(form_url(survey, channel="paper", place=""))
    assert 'id="blanks-hint"' in page.text
    paper = submit_entry(interviewer, survey, blank, channel="paper", place="")
    assert paper.status_code == 303
    entries = entries_by(staff["interviewer"])
    assert len(entries) == before + 1 and entries[-1].channel == "paper"
    from consult.db import session_scope

    with session_scope() as session:
        stored = review.current_answers(session, spec=survey, response_id=entries[-1].id)
    assert stored == {"kommun": 1, "kort": "Fler bussar"}  # the blank stays blank
    empty = submit_entry(interviewer, survey, {}, channel="paper", place="")
    assert empty.status_code == 422 and "ett tomt formulär är inget svar" in empty.text
    assert len(entries_by(staff["interviewer"])) == before + 1  # a form saved blank is no respondent
    # Three boxes ticked where two are allowed: on paper the message says what to enter instead.
    over = submit_entry(interviewer, survey, {**blank, "flera": ["1", "2", "3"]}, channel="paper", place="")
    assert over.status_code == 422 and "Välj högst 2 alternativ." in over.text
    assert "lämna frågan tom" in over.text
    interview = submit_entry(interviewer, survey, {**GOOD_ENTRY, "flera": ["1", "2", "3"]}, channel="interview_phone")
    assert interview.status_code == 422 and "lämna frågan tom" not in interview.text
    assert len(entries_by(staff["interviewer"])) == before + 1


# --- corrections and review -------------------------------------------------------------------------


def test_correction_keeps_the_earlier_version(app, interviewer, analyst, staff, survey) -> None:  # type: ignore[no-untyped-def]
    assert submit_entry(interviewer, survey, GOOD_ENTRY).status_code == 303
    entry = entries_by(staff["interviewer"])[-1]
    form = interviewer.get(f"/intervju/svar/{entry.id}")
    assert form.status_code == 200
    assert 'id="kommun-2" name="kommun" value="2" checked' in form.text  # the saved answers, shown
    corrected = {**GOOD_ENTRY, "kommun": "1", "kort": "Tåg", "csrftoken": csrf_from(form.text)}
    corrected.pop("antal")
    saved = interviewer.post(f"/intervju/svar/{entry.id}", data=corrected)
    assert saved.status_code == 303 and saved.headers["location"] == f"/intervju?corrected={entry.id}"
    assert "Rättelsen sparades" in interviewer.get(saved.headers["location"]).text

    from consult.db import session_scope

    with session_scope() as session:
        row = session.get(Response, entry.id)
        assert row is not None and row.review_state == "edited"
        edits = session.execute(select(ResponseEdit).where(ResponseEdit.response_id == entry.id)).scalars().all()
        assert len(edits) == 1
        assert edits[0].edited_by_id == user_id(staff["interviewer"])
        assert edits[0].changes == {"kommun": [2, 1], "antal": [12.5, None], "kort": ["Bussar", "Tåg"]}
        assert edits[0].previous["kommun"] == 2
        values = review.current_answers(session, spec=survey, response_id=entry.id)
        assert values["kommun"] == 1 and "antal" not in values and values["flera"] == [1, 3]
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "response.edit", AuditEvent.target == f"response:{entry.id}")
        ).scalar_one()
        assert audit.user_id == user_id(staff["interviewer"])

    history = analyst.get(f"/granskning/{entry.id}").text
    assert "Redigerad (version 2)" in history
    assert "Kramfors → Härnösand" in history and "Bussar → Tåg" in history

    other = logged_in(app, staff["interviewer2"])
    # Someone else's entry looks exactly like one that does not exist.
    assert other.get(f"/intervju/svar/{entry.id}").status_code == 404
    assert other.get(f"/intervju/svar/{entry.id + 10_000}").status_code == 404


def test_own_entry_of_an_earlier_day_says_who_can_change_it(interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    assert submit_entry(interviewer, survey, GOOD_ENTRY).status_code == 303
    entry = entries_by(staff["interviewer"])[-1]
    with session_scope() as session:
        row = session.get(Response, entry.id)
        row.submitted_at = datetime.now(UTC) - timedelta(days=2)
        session.add(row)
    refused = interviewer.get(f"/intervju/svar/{entry.id}")
    assert refused.status_code == 403
    # It names the people who can correct it: an analyst never could before.
    assert "Be en analytiker eller en administratör att rätta" in refused.text


def test_correction_with_bad_input_changes_nothing(interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    assert submit_entry(interviewer, survey, GOOD_ENTRY).status_code == 303
    entry = entries_by(staff["interviewer"])[-1]
    token = csrf_from(interviewer.get(f"/intervju/svar/{entry.id}").text)
    response = interviewer.post(f"/intervju/svar/{entry.id}", data={"csrftoken": token, "val": "1"})
    assert response.status_code == 422 and 'id="kommun-error"' in response.text
    from consult.db import session_scope

    with session_scope() as session:
        assert session.get(Response, entry.id).review_state == "received"  # type: ignore[union-attr]
        count = session.execute(select(func.count()).select_from(Answer).where(Answer.response_id == entry.id))
        assert count.scalar_one() == 6


def test_analyst_sets_the_review_state_with_a_comment(analyst, interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    assert submit_entry(interviewer, survey, {**GOOD_ENTRY, "kort": "Ring mig på 070-123 45 67"}).status_code == 303
    entry = entries_by(staff["interviewer"])[-1]
    page = analyst.get(f"/granskning/{entry.id}")
    assert page.status_code == 200
    assert "070-123 45 67" not in page.text and "[telefon]" in page.text  # free text is redacted
    token = csrf_from(page.text)

    bad = analyst.post(f"/granskning/{entry.id}/status", data={"csrftoken": token, "state": "lost", "comment": "x"})
    assert bad.status_code == 422 and 'id="state-error"' in bad.text

    saved = analyst.post(
        f"/granskning/{entry.id}/status", data={"csrftoken": token, "state": "has_issues", "comment": "Oläsligt svar"}
    )
    assert saved.status_code == 303
    shown = analyst.get(saved.headers["location"]).text
    assert "Granskningsstatusen sparades" in shown and "Oläsligt svar" in shown
    analyst.post(f"/granskning/{entry.id}/status", data={"csrftoken": token, "state": "approved", "comment": ""})

    from consult.db import session_scope

    with session_scope() as session:
        assert session.get(Response, entry.id).review_state == "approved"  # type: ignore[union-attr]
        events = session.execute(
            select(ReviewEvent).where(ReviewEvent.response_id == entry.id).order_by(ReviewEvent.id)
        ).scalars()
        assert [(e.from_state, e.to_state, e.comment) for e in events] == [
            ("received", "has_issues", "Oläsligt svar"),
            ("has_issues", "approved", ""),
        ]
        audits = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "response.state", AuditEvent.target == f"response:{entry.id}")
        ).scalar_one()
        assert audits == 2
    listing = analyst.get(f"/granskning?survey={survey.slug}&state=approved").text
    assert f'href="/granskning/{entry.id}"' in listing


def age_entry(response_id: int, days: int = 2) -> None:
    """Move an entry back in time, past the day its interviewer may correct it."""
    from consult.db import session_scope

    with session_scope() as session:
        row = session.get(Response, response_id)
        assert row is not None
        row.submitted_at = datetime.now(UTC) - timedelta(days=days)
        session.add(row)


def test_analyst_corrects_the_answers_from_the_review_page(analyst, interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    assert submit_entry(interviewer, survey, GOOD_ENTRY).status_code == 303
    entry = entries_by(staff["interviewer"])[-1]
    age_entry(entry.id)  # out of the interviewer's reach: the correction is the analyst's own right
    page = analyst.get(f"/granskning/{entry.id}").text
    link = re.search(r'<a class="button button-secondary" href="([^"]+)">Rätta svaren</a>', page)
    assert link is not None and link.group(1) == f"/intervju/svar/{entry.id}?fran=granskning"

    form = analyst.get(link.group(1))
    assert form.status_code == 200
    assert 'name="fran" value="granskning"' in form.text and f'href="/granskning/{entry.id}">Avbryt' in form.text
    corrected = {**GOOD_ENTRY, "kort": "Tåg", "fran": "granskning", "csrftoken": csrf_from(form.text)}
    saved = analyst.post(f"/intervju/svar/{entry.id}", data=corrected)
    assert saved.status_code == 303 and saved.headers["location"] == f"/granskning/{entry.id}?corrected=1"
    shown = analyst.get(saved.headers["location"]).text
    assert "Rättelsen sparades" in shown and "Redigerad (version 2)" in shown and "Bussar → Tåg" in shown
    assert "<dd>Redigerat</dd>" in shown  # the state it now has is shown, though it cannot be picked

    from consult.db import session_scope

    analyst_id = user_id(staff["analyst"])
    with session_scope() as session:
        assert session.get(Response, entry.id).review_state == "edited"  # type: ignore[union-attr]
        edits = session.execute(select(ResponseEdit).where(ResponseEdit.response_id == entry.id)).scalars().all()
        assert [(e.edited_by_id, e.changes) for e in edits] == [(analyst_id, {"kort": ["Bussar", "Tåg"]})]
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "response.edit", AuditEvent.target == f"response:{entry.id}")
        ).scalar_one()
        assert audit.user_id == analyst_id

    # The reviewer moves the edited response on as usual.
    moved = analyst.post(
        f"/granskning/{entry.id}/status", data={"csrftoken": csrf_from(shown), "state": "approved", "comment": ""}
    )
    assert moved.status_code == 303
    with session_scope() as session:
        assert session.get(Response, entry.id).review_state == "approved"  # type: ignore[union-attr]


def test_analyst_corrects_a_response_to_an_identified_survey(analyst, interviewer, staff) -> None:  # type: ignore[no-untyped-def]
    spec = store(every_type_survey(identity_mode="identified"))
    assert submit_entry(interviewer, spec, {**GOOD_ENTRY, "respondent-name": "Anna Berg"}).status_code == 303
    entry = entries_by(staff["interviewer"])[-1]
    form = analyst.get(f"/intervju/svar/{entry.id}?fran=granskning")
    # The correction changes answers, not who gave them: no name fields, and none asked for.
    assert 'name="respondent-name"' not in form.text
    saved = analyst.post(
        f"/intervju/svar/{entry.id}",
        data={**GOOD_ENTRY, "kort": "Tåg", "fran": "granskning", "csrftoken": csrf_from(form.text)},
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/granskning/{entry.id}?corrected=1"


def test_edited_cannot_be_chosen_by_hand(analyst, interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    assert submit_entry(interviewer, survey, GOOD_ENTRY).status_code == 303
    entry = entries_by(staff["interviewer"])[-1]
    page = analyst.get(f"/granskning/{entry.id}").text
    assert 'name="state" value="edited"' not in page and 'name="state" value="approved"' in page

    refused = analyst.post(
        f"/granskning/{entry.id}/status", data={"csrftoken": csrf_from(page), "state": "edited", "comment": "x"}
    )
    assert refused.status_code == 422 and 'id="state-error"' in refused.text
    assert "markeras som redigerat när svaren rättas" in refused.text

    from consult.db import session_scope

    with session_scope() as session:
        assert session.get(Response, entry.id).review_state == "received"  # type: ignore[union-attr]
        assert session.execute(select(ReviewEvent).where(ReviewEvent.response_id == entry.id)).first() is None
        audits = select(func.count()).select_from(AuditEvent).where(AuditEvent.target == f"response:{entry.id}")
        assert session.execute(audits).scalar_one() == 0
        with pytest.raises(review.ReviewError):
            review.set_review_state(session, response_id=entry.id, state="edited", comment="", user_id=None)


def test_interviewer_still_cannot_correct_others_entries(app, interviewer, staff, survey) -> None:  # type: ignore[no-untyped-def]
    assert submit_entry(interviewer, survey, GOOD_ENTRY).status_code == 303
    entry = entries_by(staff["interviewer"])[-1]
    own_page = interviewer.get(f"/intervju/svar/{entry.id}")
    other = logged_in(app, staff["interviewer2"])
    token = csrf_from(other.get("/intervju").text)
    assert other.get(f"/intervju/svar/{entry.id}?fran=granskning").status_code == 404
    attempt = other.post(
        f"/intervju/svar/{entry.id}", data={**GOOD_ENTRY, "kort": "Tåg", "fran": "granskning", "csrftoken": token}
    )
    assert attempt.status_code == 404
    assert other.get(f"/granskning/{entry.id}").status_code == 403  # no way round through the review page

    # The entry's own interviewer still corrects it, and goes back to the interviewer's pages.
    saved = interviewer.post(
        f"/intervju/svar/{entry.id}", data={**GOOD_ENTRY, "kort": "Tåg", "csrftoken": csrf_from(own_page.text)}
    )
    assert saved.headers["location"] == f"/intervju?corrected={entry.id}"
    from consult.db import session_scope

    with session_scope() as session:
        edits = session.execute(select(ResponseEdit).where(ResponseEdit.response_id == entry.id)).scalars().all()
        assert [e.edited_by_id for e in edits] == [user_id(staff["interviewer"])]
    # Once the day is over the entry is the reviewers' to correct, and the refusal says who they are.
    age_entry(entry.id)
    late = interviewer.get(f"/intervju/svar/{entry.id}?fran=granskning")
    assert late.status_code == 403 and "Be en analytiker eller en administratör" in late.text


# --- kiosk mode -----------------------------------------------------------------------------------


def small_survey():  # type: ignore[no-untyped-def]
    from consult.surveys.schema import PageSpec, SurveySpec

    return SurveySpec(
        slug=f"kiosk-{uuid.uuid4().hex[:8]}",
        title={"sv": "Framtidsdagen", "en": "Future day"},
        status="open",
        pages=(
            PageSpec(questions=(q("kommun", "municipality", required=True, choices=choices("Härnösand", "Kramfors")),)),
            PageSpec(questions=(q("tanke", "short_text"),)),
        ),
    )


def test_kiosk_mode_tags_the_event_and_starts_over(app, review_tables) -> None:  # type: ignore[no-untyped-def]
    spec = store(small_survey())
    client = new_client(app)
    put_in_kiosk_mode(client, spec.slug, KIOSK_EVENT)  # as an interviewer's "Open kiosk mode" does
    start = client.get(f"/s/{spec.slug}", params={"kiosk": KIOSK_EVENT})
    assert f'name="kiosk" value="{KIOSK_EVENT}"' in start.text
    first = client.post(f"/s/{spec.slug}/start", data={"csrftoken": csrf_from(start.text), "kiosk": KIOSK_EVENT})
    page_one = first.headers["location"]
    html = client.get(page_one).text
    assert "resume-link" not in html and "kiosk-reset" in html and "Avbryt och börja om" in html
    token = page_one.split("/r/")[1].split("/")[0]

    second = client.post(page_one, data={"csrftoken": csrf_from(html), "kommun": "1", "action": "next"})
    html = client.get(second.headers["location"]).text
    done = client.post(second.headers["location"], data={"csrftoken": csrf_from(html), "action": "next"})
    receipt_url = done.headers["location"]
    # A thank-you page, not the receipt: the code would stay in the shared tablet's history and
    # let the next person see or withdraw this answer.
    assert receipt_url.startswith(f"/s/{spec.slug}/tack?") and "kiosk=" in receipt_url
    with_code = [part for part in receipt_url.split("/") if len(part) >= 20 and part.isupper()]
    assert not with_code
    assert "consult_answered" not in done.headers.get("set-cookie", "")  # a kiosk serves many people
    thanks = client.get(receipt_url)
    assert thanks.headers["cache-control"] == "no-store"
    receipt = thanks.text
    assert "Nytt svar" in receipt and "data-kiosk-return" in receipt
    assert f'href="/s/{spec.slug}?kiosk=Framtidsdag+i+H%C3%A4rn%C3%B6sand&amp;lang=sv"' in receipt

    from consult.db import session_scope

    with session_scope() as session:
        stored = session.execute(select(Response).where(Response.survey_id == spec.id)).scalar_one()
        assert stored.channel == "kiosk" and stored.event_name == KIOSK_EVENT
        assert stored.source_hash is None  # one tablet serving many people is no burst
        assert session.execute(select(ResponseDraft).where(ResponseDraft.token == token)).first() is None

    # The next person starts over; leaving half-way deletes what they typed.
    again = client.get(f"/s/{spec.slug}", params={"kiosk": KIOSK_EVENT})
    assert again.status_code == 200
    started = client.post(f"/s/{spec.slug}/start", data={"csrftoken": csrf_from(again.text), "kiosk": KIOSK_EVENT})
    url = started.headers["location"]
    html = client.get(url).text
    client.post(url, data={"csrftoken": csrf_from(html), "kommun": "2", "action": "next"})
    token = url.split("/r/")[1].split("/")[0]
    reset = client.post(f"/s/{spec.slug}/r/{token}/kiosk-reset", data={"csrftoken": csrf_from(html)})
    assert reset.status_code == 303 and reset.headers["location"].startswith(f"/s/{spec.slug}?kiosk=")
    # What they typed is gone: the tablet is sent to the kiosk start, any other browser told so.
    gone = client.get(f"/s/{spec.slug}/r/{token}/1")
    assert gone.status_code == 303 and gone.headers["location"].startswith(f"/s/{spec.slug}?kiosk=")
    assert new_client(app).get(f"/s/{spec.slug}/r/{token}/1").status_code == 404


def test_kiosk_reset_refuses_ordinary_drafts(app, review_tables) -> None:  # type: ignore[no-untyped-def]
    spec = store(small_survey())
    client = new_client(app)
    start = client.get(f"/s/{spec.slug}")
    url = client.post(f"/s/{spec.slug}/start", data={"csrftoken": csrf_from(start.text)}).headers["location"]
    html = client.get(url).text
    assert "resume-link" in html and "kiosk-reset" not in html
    token = url.split("/r/")[1].split("/")[0]
    assert client.post(f"/s/{spec.slug}/r/{token}/kiosk-reset", data={"csrftoken": csrf_from(html)}).status_code == 404


# --- one response per browser session ----------------------------------------------------------------


def answer_small_survey(client: TestClient, spec, **identity: str) -> str:  # type: ignore[no-untyped-def]
    start = client.get(f"/s/{spec.slug}")
    data = {"csrftoken": csrf_from(start.text), **identity}
    url = client.post(f"/s/{spec.slug}/start", data=data, follow_redirects=False).headers["location"]
    html = client.get(url).text
    data = {"csrftoken": csrf_from(html), "kommun": "1", "action": "next"}
    second = client.post(url, data=data, follow_redirects=False).headers["location"]
    html = client.get(second).text
    done = client.post(second, data={"csrftoken": csrf_from(html), "action": "next"}, follow_redirects=False)
    return shown_receipt(client.get(done.headers["location"]).text)


def test_one_response_per_browser_session(app, review_tables) -> None:  # type: ignore[no-untyped-def]
    spec = store(small_survey())
    browser = new_client(app)
    receipt = answer_small_survey(browser, spec)
    again = browser.get(f"/s/{spec.slug}")
    assert again.status_code == 200
    assert "Du har redan svarat" in again.text and shown_receipt(again.text) == receipt
    assert "Starta enkäten" not in again.text
    token = csrf_from(browser.get("/login").text)
    second_start = browser.post(f"/s/{spec.slug}/start", data={"csrftoken": token})
    assert "Du har redan svarat" in second_start.text
    assert browser.get(f"/s/{spec.slug}", params={"kiosk": KIOSK_EVENT}).status_code == 200  # kiosks are shared

    other_browser = new_client(app)
    assert "Starta enkäten" in other_browser.get(f"/s/{spec.slug}").text
    forged = new_client(app)
    forged.cookies.set("consult_answered", "e30.forged-signature", path="/s/")
    assert "Starta enkäten" in forged.get(f"/s/{spec.slug}").text


def test_identified_surveys_take_repeat_answers(app, review_tables) -> None:  # type: ignore[no-untyped-def]
    spec = store(small_survey().model_copy(update={"identity_mode": "identified"}))
    browser = new_client(app)
    answer_small_survey(browser, spec, name="Anna Svensson")
    assert "Starta enkäten" in browser.get(f"/s/{spec.slug}").text


# --- bursts and the retention of source hashes ---------------------------------------------------------


def stored_at(spec, moments: list[datetime], source: str) -> list[int]:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    items = [
        NewResponse(
            spec=spec,
            client_uuid=str(uuid.uuid4()),
            values={"kommun": 1},
            submitted_at=moment,
            source_hash=source,
        )
        for moment in moments
    ]
    with session_scope() as session:
        return [s.response_id for s in store_responses(session, items) if s.response_id is not None]


def test_bursts_from_one_source_are_flagged_not_blocked(app, analyst) -> None:  # type: ignore[no-untyped-def]
    spec = store(small_survey())
    now = datetime.now(UTC)
    burst = stored_at(spec, [now - timedelta(minutes=30, seconds=10 * i) for i in range(25)], "a" * 32)
    slow = stored_at(spec, [now - timedelta(minutes=15 * i) for i in range(25)], "b" * 32)
    few = stored_at(spec, [now - timedelta(seconds=i) for i in range(5)], "c" * 32)
    from consult.db import session_scope

    with session_scope() as session:
        assert review.flag_bursts(session, spec.id, window_minutes=10, threshold=20) == 25
        assert review.flag_bursts(session, spec.id, window_minutes=10, threshold=20) == 0  # idempotent
        flagged = set(session.execute(select(ResponseFlag.response_id).where(ResponseFlag.burst)).scalars())
        kept = session.execute(select(func.count()).select_from(Response).where(Response.survey_id == spec.id))
        assert kept.scalar_one() == 55
    assert set(burst) <= flagged and not (set(slow) | set(few)) & flagged

    listing = analyst.get(f"/granskning?survey={spec.slug}&flagged=1").text
    assert "25 svar" in listing and "Skur från en källa" in listing
    detail = analyst.get(f"/granskning/{burst[0]}").text
    assert "Markerat: skur från en källa." in detail
    assert "Markerat" not in analyst.get(f"/granskning/{slow[0]}").text


def test_burst_window_counts_only_answers_close_in_time() -> None:
    start = datetime(2025, 5, 1, 12, tzinfo=UTC)
    rows = [(i, start + timedelta(minutes=i)) for i in range(30)]  # one a minute: 11 in any 10 minutes
    assert review._ids_in_bursts(rows, timedelta(minutes=10), threshold=20) == set()
    assert review._ids_in_bursts(rows, timedelta(minutes=10), threshold=10) == set(range(30))
    assert review._ids_in_bursts(rows[:5], timedelta(minutes=10), threshold=4) == set(range(5))


def test_source_hashes_are_forgotten_after_30_days(review_tables) -> None:  # type: ignore[no-untyped-def]
    spec = store(small_survey())
    now = datetime.now(UTC)
    old = stored_at(spec, [now - timedelta(days=31)], "d" * 32)[0]
    recent = stored_at(spec, [now - timedelta(days=29)], "e" * 32)[0]
    from consult.db import session_scope

    with session_scope() as session:
        assert review.purge_source_hashes(session, older_than_days=30) >= 1
    with session_scope() as session:
        assert session.get(Response, old).source_hash is None  # type: ignore[union-attr]
        assert session.get(Response, recent).source_hash == "e" * 32  # type: ignore[union-attr]


def test_safeguard_commands_for_cron(review_tables) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from consult.cli import app as cli

    spec = store(small_survey())
    old = stored_at(spec, [datetime.now(UTC) - timedelta(days=40)], "f" * 32)[0]
    purged = CliRunner().invoke(cli, ["purge-source-hashes", "--days", "30"])
    assert purged.exit_code == 0 and "Forgot the source of" in purged.output
    flagged = CliRunner().invoke(cli, ["flag-bursts", "--window", "10", "--threshold", "20"])
    assert flagged.exit_code == 0 and "Marked" in flagged.output
    from consult.db import session_scope

    with session_scope() as session:
        assert session.get(Response, old).source_hash is None  # type: ignore[union-attr]


# --- identified surveys ------------------------------------------------------------------------------


def test_interviewer_enters_who_answers_an_identified_survey(interviewer, staff) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.responses.models import ResponseIdentity

    identified = store(every_type_survey(identity_mode="identified"))
    page = interviewer.get(form_url(identified))
    assert "Vem som svarar" in page.text and 'id="field-respondent-name" name="respondent-name"' in page.text
    assert "respondent-name" not in interviewer.get(form_url(store(every_type_survey()))).text
    before = len(entries_by(staff["interviewer"]))
    refused = submit_entry(interviewer, identified, {**GOOD_ENTRY, "respondent-email": "nej"})
    assert refused.status_code == 422
    assert 'href="#field-respondent-name"' in refused.text and "Skriv ditt namn." in refused.text
    assert 'value="nej"' in refused.text and "Ange en giltig e-postadress." in refused.text
    assert len(entries_by(staff["interviewer"])) == before
    saved = submit_entry(interviewer, identified, {**GOOD_ENTRY, "respondent-name": "Per Olsson",
                                                   "respondent-organisation": "Hembygdsföreningen"})
    assert saved.status_code == 303
    newest = max(entries_by(staff["interviewer"]), key=lambda r: r.id or 0)
    with session_scope() as session:
        identity = session.get(ResponseIdentity, newest.id)
        assert identity is not None and (identity.name, identity.organisation) == ("Per Olsson", "Hembygdsföreningen")


def test_the_interview_endpoint_takes_who_answers_from_the_form_or_as_respondent(interviewer) -> None:  # type: ignore[no-untyped-def]
    identified = store(every_type_survey(identity_mode="identified"))
    headers = {"X-Requested-With": "XMLHttpRequest"}
    body = {"survey": identified.slug, "client_uuid": str(uuid.uuid4()), "channel": "interview_phone",
            "form": [["kommun", "1"], ["val", "1"]]}
    missing = interviewer.post("/api/intervju/responses", json=body, headers=headers)
    assert missing.status_code == 422
    assert [(e["field"], e["code"]) for e in missing.json()["errors"]] == [("respondent-name", "required")]
    named = {**body, "form": [*body["form"], ["respondent-name", "Lisa Berg"]]}
    assert interviewer.post("/api/intervju/responses", json=named, headers=headers).status_code == 201
    answers = {"survey": identified.slug, "client_uuid": str(uuid.uuid4()), "channel": "interview_phone",
               "answers": {"kommun": 1, "val": 1}}
    refused = interviewer.post("/api/intervju/responses", json=answers, headers=headers)
    assert [e["field"] for e in refused.json()["errors"]] == ["respondent.name"]
    stored = interviewer.post("/api/intervju/responses", json={**answers, "respondent": {"name": "Lisa Berg"}},
                              headers=headers)
    assert stored.status_code == 201


def test_the_interview_endpoint_refuses_text_no_database_can_store(interviewer, staff) -> None:  # type: ignore[no-untyped-def]
    """A lone surrogate ("\\ud800") is valid to Python's JSON parser but not to UTF-8, so storing it
    would fail: the body is refused with a 422, whichever field holds it, and nothing is stored."""
    identified = store(every_type_survey(identity_mode="identified"))
    headers = {"X-Requested-With": "XMLHttpRequest", "content-type": "application/json"}
    before = len(entries_by(staff["interviewer"]))
    for field in ('["lang", "x\\udfffy"], ["respondent-name", "Ann"]', '["respondent-name", "A\\ud800b"]'):
        body = (f'{{"survey": "{identified.slug}", "client_uuid": "{uuid.uuid4()}", "channel": "interview_phone",'
                f' "form": [["kommun", "1"], ["val", "1"], {field}]}}')
        refused = interviewer.post("/api/intervju/responses", content=body.encode(), headers=headers)
        assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "json_invalid"
    assert len(entries_by(staff["interviewer"])) == before
