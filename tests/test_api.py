"""The JSON API contract: structure, submission, idempotency and every kind of bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from consult.responses.models import Answer, AnswerSelection, Response
from tests.factories import every_type_survey, store

VALID = {
    "kommun": 1,
    "alder": 2,
    "kon": 1,
    "val": 1,
    "flera": [1, 3],
    "skala": 4,
    "rang": [3, 1],
    "antal": 12.5,
    "kort": "Kort svar",
    "lang": "Ett längre svar om kollektivtrafiken.",
}


@pytest.fixture(scope="module")
def survey(client):  # type: ignore[no-untyped-def]
    return store(every_type_survey())


def post(client, slug: str, answers: dict, client_uuid: str | None = None, **extra):  # type: ignore[no-untyped-def]
    body = {"client_uuid": client_uuid or str(uuid.uuid4()), "language": "sv", "answers": answers, **extra}
    return client.post(f"/api/surveys/{slug}/responses", json=body)


def response_count(slug_id: int) -> int:
    from consult.db import session_scope

    with session_scope() as session:
        return session.execute(
            select(func.count()).select_from(Response).where(Response.survey_id == slug_id)
        ).scalar_one()


def test_open_surveys_are_listed(client, survey) -> None:  # type: ignore[no-untyped-def]
    listed = client.get("/api/surveys").json()
    assert {"slug": survey.slug, "title": "Testenkät"} in listed
    assert any(s["slug"] == "vasternorrland-2030" for s in listed)


def test_structure_in_both_languages(client, survey) -> None:  # type: ignore[no-untyped-def]
    sv = client.get(f"/api/surveys/{survey.slug}?lang=sv").json()
    en = client.get(f"/api/surveys/{survey.slug}?lang=en").json()
    assert sv["title"] == "Testenkät" and en["title"] == "Test survey"
    questions = {q["code"]: q for page in sv["pages"] for q in page["questions"]}
    assert questions["flera"]["type"] == "multiple_choice" and questions["flera"]["max_choices"] == 2
    assert questions["skala"]["min"] == 1 and questions["skala"]["max"] == 5
    assert questions["val"]["choices"] == [{"code": 1, "label": "Ja"}, {"code": 2, "label": "Nej"}]
    assert questions["varfor_nej"]["condition"] == {"question": "val", "op": "equals", "value": 2}
    assert {q["type"] for q in questions.values()} == {
        "municipality",
        "age_band",
        "gender",
        "single_choice",
        "multiple_choice",
        "scale",
        "ranking",
        "number",
        "short_text",
        "long_text",
    }


def test_structure_says_which_number_questions_take_whole_numbers_only(client, survey) -> None:  # type: ignore[no-untyped-def]
    questions = {q["code"]: q for page in client.get(f"/api/surveys/{survey.slug}").json()["pages"]
                 for q in page["questions"]}
    assert questions["antal"]["whole_numbers"] is False and questions["antal"]["max"] == 100
    demo = client.get("/api/surveys/vasternorrland-2030").json()
    years = next(q for page in demo["pages"] for q in page["questions"] if q["code"] == "ar_i_lanet")
    assert years["whole_numbers"] is True and (years["min"], years["max"]) == (0, 110)


def test_a_whole_number_question_refuses_decimals(client) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.surveys.schema import PageSpec, SurveySpec
    from tests.factories import q

    spec = store(SurveySpec(
        slug=f"heltal-{uuid.uuid4().hex[:10]}",
        title={"sv": "Heltal"},
        status="open",
        pages=(PageSpec(questions=(q("ar", "number", whole_numbers=True), q("timmar", "number"))),),
    ))
    refused = post(client, spec.slug, {"ar": 12.5, "timmar": 2.5})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "ar", "code": "not_whole", "message": "Svara med ett heltal."}]
    assert post(client, spec.slug, {"ar": "12,5"}).json()["errors"][0]["code"] == "not_whole"
    assert response_count(spec.id) == 0
    for years in (12, 12.0, "12"):
        assert post(client, spec.slug, {"ar": years, "timmar": 2.5}).status_code == 201
    with session_scope() as session:
        numbers = session.execute(select(Answer.question_id, Answer.number).join(Response)
                                  .where(Response.survey_id == spec.id)).all()
    assert sorted(number for _, number in numbers) == [2.5, 2.5, 2.5, 12, 12, 12]


def test_unknown_survey_is_404_json(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/surveys/no-such-survey")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_submission_is_stored_long(client, survey) -> None:  # type: ignore[no-untyped-def]
    response = post(client, survey.slug, VALID)
    assert response.status_code == 201, response.text
    receipt = response.json()["receipt"]
    assert len(receipt) >= 26  # at least 128 bits
    from consult.db import session_scope

    with session_scope() as session:
        stored = session.execute(select(Response).where(Response.receipt == receipt)).scalar_one()
        answers = session.execute(select(Answer).where(Answer.response_id == stored.id)).scalars().all()
        assert len(answers) == len(VALID)
        by_question = {a.question_id: a for a in answers}
        ranking_id = survey.by_code["rang"].id
        ranks = session.execute(
            select(AnswerSelection.choice, AnswerSelection.rank)
            .where(AnswerSelection.response_id == stored.id, AnswerSelection.question_id == ranking_id)
            .order_by(AnswerSelection.rank)
        ).all()
        assert [tuple(r) for r in ranks] == [(3, 1), (1, 2)]
        assert by_question[survey.by_code["antal"].id].number == 12.5
        assert stored.source_hash and "127.0.0.1" not in stored.source_hash


def test_free_text_is_stored_exactly_as_written(client, survey) -> None:  # type: ignore[no-untyped-def]
    """Answers reach PostgreSQL through COPY's text format, where tabs, line breaks, backslashes and
    the text \\N mean something: every one of them must come back as the respondent wrote it
    (save a carriage return, stored as the line break it is in every other answer)."""
    written = "Två rader\nmed\ttabb, bakstreck \\ och \\N, \"citat\" och \r vagnretur: åäö"
    response = post(client, survey.slug, {**VALID, "lang": written})
    assert response.status_code == 201, response.text
    from consult.db import session_scope

    with session_scope() as session:
        stored = session.execute(select(Response.id).where(Response.receipt == response.json()["receipt"])).scalar_one()
        text = session.execute(select(Answer.text).where(
            Answer.response_id == stored, Answer.question_id == survey.by_code["lang"].id)).scalar_one()
    assert text == written.replace("\r", "\n")


def test_a_short_text_answer_stays_one_line(client, survey) -> None:  # type: ignore[no-untyped-def]
    response = post(client, survey.slug, {**VALID, "kort": "Fler\r\nbussar\tpå kvällen"})
    assert response.status_code == 201, response.text
    from consult.db import session_scope

    with session_scope() as session:
        stored = session.execute(select(Response.id).where(Response.receipt == response.json()["receipt"])).scalar_one()
        text = session.execute(select(Answer.text).where(
            Answer.response_id == stored, Answer.question_id == survey.by_code["kort"].id)).scalar_one()
    assert text == "Fler bussar på kvällen"


def test_identical_resend_gives_same_receipt(client, survey) -> None:  # type: ignore[no-untyped-def]
    client_uuid = str(uuid.uuid4())
    first = post(client, survey.slug, VALID, client_uuid)
    again = post(client, survey.slug, VALID, client_uuid)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["receipt"] == again.json()["receipt"]


def test_same_uuid_other_content_conflicts(client, survey) -> None:  # type: ignore[no-untyped-def]
    client_uuid = str(uuid.uuid4())
    assert post(client, survey.slug, VALID, client_uuid).status_code == 201
    changed = {**VALID, "kort": "Något annat"}
    response = post(client, survey.slug, changed, client_uuid)
    assert response.status_code == 409
    assert "detail" in response.json()


def test_a_response_another_worker_stored_meanwhile_gets_that_receipt(client, survey, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A client resends while its first attempt is being stored by the other worker process: the
    other worker's insert lands between this worker's check and its insert. The batch must not fail
    (nor the other responses in it): the resend is answered as a resend, with the stored receipt."""
    from consult.db import session_scope
    from consult.responses import service
    from consult.responses.validation import parse_json_answers, validate_complete
    from consult.surveys.service import load_spec

    client_uuid = str(uuid.uuid4())
    with session_scope() as session:
        spec = load_spec(session, slug=survey.slug)
    values = validate_complete(spec, parse_json_answers(spec, VALID)).values
    insert_fresh, raced = service._insert_fresh, {}

    def other_worker_first(session, fresh, results):  # type: ignore[no-untyped-def]
        if not raced:
            raced["now"] = True
            item = service.NewResponse(spec=spec, client_uuid=client_uuid, values=values)
            raced["stored"] = service.store_one(session_scope, item)
        return insert_fresh(session, fresh, results)

    monkeypatch.setattr(service, "_insert_fresh", other_worker_first)
    before = response_count(survey.id)
    answered = post(client, survey.slug, VALID, client_uuid)
    assert answered.status_code == 200, answered.text
    assert answered.json()["receipt"] == raced["stored"].receipt
    assert response_count(survey.id) == before + 1


def test_line_breaks_are_stored_and_counted_as_one_character(client, survey) -> None:  # type: ignore[no-untyped-def]
    """CRLF and CR become LF before the length is checked, as in the survey's form."""
    from consult.db import session_scope

    text = "\r\n".join(["x" * 99] * 49 + ["y" * 100])  # 5,000 characters once each break is one
    response = post(client, survey.slug, {**VALID, "lang": text, "kort": "a\r\nb"})
    assert response.status_code == 201, response.text
    with session_scope() as session:
        stored = session.execute(select(Response).where(Response.receipt == response.json()["receipt"])).scalar_one()
        texts = set(session.execute(select(Answer.text).where(Answer.response_id == stored.id,
                                                              Answer.text.is_not(None))).scalars())
    assert texts == {text.replace("\r\n", "\n"), "a b"}


def test_dont_know_on_a_scale_is_null(client, survey) -> None:  # type: ignore[no-untyped-def]
    response = post(client, survey.slug, {**VALID, "skala": None})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("answers", "field", "code"),
    [
        ({**VALID, "val": 9}, "val", "unknown_choice"),
        ({**VALID, "flera": [1, 2, 3]}, "flera", "too_many"),
        ({**VALID, "flera": [1, 1]}, "flera", "duplicate_choice"),
        ({**VALID, "antal": 101}, "antal", "too_large"),
        ({**VALID, "antal": -1}, "antal", "too_small"),
        ({**VALID, "antal": "tolv"}, "antal", "not_a_number"),
        ({**VALID, "antal": 10**400}, "antal", "not_a_number"),  # a JSON integer too large for a float
        ({**VALID, "antal": "1_0"}, "antal", "not_a_number"),  # Python's digit grouping, not a number to people
        ({**VALID, "skala": 6}, "skala", "scale_range"),
        ({**VALID, "lang": "x" * 5001}, "lang", "too_long"),
        ({**VALID, "kort": 12}, "kort", "not_text"),
        ({**VALID, "rang": [1, 7]}, "rang", "unknown_choice"),
        ({k: v for k, v in VALID.items() if k != "kommun"}, "kommun", "required"),
        ({**VALID, "val": 2}, "varfor_nej", "required"),
        ({**VALID, "val": 2, "varfor_nej": " \n\t "}, "varfor_nej", "required"),  # spaces alone answer nothing
        ({**VALID, "val": 2, "varfor_nej": "\x00\x00"}, "varfor_nej", "required"),
        ({**VALID, "okand": 1}, "okand", "unknown_question"),
    ],
)
def test_bad_answers_get_field_errors_and_store_nothing(client, survey, answers, field, code) -> None:  # type: ignore[no-untyped-def]
    before = response_count(survey.id)
    response = post(client, survey.slug, answers)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert {"field": field, "code": code} in [{"field": e["field"], "code": e["code"]} for e in errors]
    assert all(e["message"] for e in errors)
    assert response_count(survey.id) == before


def test_errors_in_english_when_asked(client, survey) -> None:  # type: ignore[no-untyped-def]
    body = {"client_uuid": str(uuid.uuid4()), "language": "en", "answers": {**VALID, "val": 9}}
    sv_body = {**body, "language": "sv", "client_uuid": str(uuid.uuid4())}
    en = client.post(f"/api/surveys/{survey.slug}/responses", json=body).json()["errors"][0]["message"]
    sv = client.post(f"/api/surveys/{survey.slug}/responses", json=sv_body).json()["errors"][0]["message"]
    assert en == "That option does not exist for this question."
    assert sv == "Alternativet finns inte för den här frågan."
    # The whole reply is in the answers' language, whatever the address or cookie asks for.
    reply = client.post(f"/api/surveys/{survey.slug}/responses?lang=sv",
                        json={**body, "client_uuid": str(uuid.uuid4())}).json()
    assert reply["detail"] == "Some answers are not valid."
    assert reply["errors"][0]["message"] == "That option does not exist for this question."


def test_text_of_spaces_alone_is_no_answer(client, survey) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.responses.models import Answer

    response = post(client, survey.slug, {**VALID, "kort": "   \n "})
    assert response.status_code == 201
    with session_scope() as session:
        stored = session.execute(select(Response).where(Response.receipt == response.json()["receipt"])).scalar_one()
        texts = session.execute(select(Answer.text).where(Answer.response_id == stored.id)).scalars().all()
    assert [t for t in texts if t is not None] == [VALID["lang"]]  # "kort" is not stored as ""


def test_hidden_answers_are_dropped(client, survey) -> None:  # type: ignore[no-untyped-def]
    answers = {**VALID, "val": 1, "varfor_nej": "Det här ska inte sparas"}
    response = post(client, survey.slug, answers)
    assert response.status_code == 201
    from consult.db import session_scope

    with session_scope() as session:
        texts = session.execute(select(Answer.text).where(Answer.question_id == survey.by_code["varfor_nej"].id)).all()
    assert ("Det här ska inte sparas",) not in texts


def test_a_bad_answer_to_a_hidden_question_is_dropped_not_refused(client, survey) -> None:  # type: ignore[no-untyped-def]
    too_long = "x" * 600  # varfor_nej takes 500 characters and is asked only when val is 2 (Nej)
    response = post(client, survey.slug, {**VALID, "val": 1, "varfor_nej": too_long})
    assert response.status_code == 201, response.text
    from consult.db import session_scope

    with session_scope() as session:
        texts = session.execute(select(Answer.text).where(Answer.question_id == survey.by_code["varfor_nej"].id)).all()
    assert (too_long,) not in texts
    refused = post(client, survey.slug, {**VALID, "val": 2, "varfor_nej": too_long})
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("varfor_nej", "too_long")]


def test_malformed_json_is_422(client, survey) -> None:  # type: ignore[no-untyped-def]
    before = response_count(survey.id)
    response = client.post(
        f"/api/surveys/{survey.slug}/responses",
        content=b'{"client_uuid": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["errors"]
    assert response_count(survey.id) == before


@pytest.mark.parametrize(
    "body",
    [
        {"client_uuid": "not-a-uuid", "answers": {}},
        {"client_uuid": str(uuid.uuid4()), "answers": []},
        {"client_uuid": str(uuid.uuid4()), "language": "de", "answers": {}},
        {"answers": {}},
        [],
    ],
)
def test_wrong_shapes_are_422(client, survey, body) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"/api/surveys/{survey.slug}/responses", json=body)
    assert response.status_code == 422
    assert "errors" in response.json()


def test_body_over_1mb_is_413(client, survey) -> None:  # type: ignore[no-untyped-def]
    before = response_count(survey.id)
    big = {**VALID, "lang": "x" * 1_100_000}
    response = post(client, survey.slug, big)
    assert response.status_code == 413
    assert "detail" in response.json()
    assert response_count(survey.id) == before


def test_closed_survey_refuses_answers(client) -> None:  # type: ignore[no-untyped-def]
    closed = store(every_type_survey(status="closed"))
    response = post(client, closed.slug, VALID)
    assert response.status_code == 409
    assert response_count(closed.id) == 0
    past = store(every_type_survey(closes_at=datetime.now(UTC) - timedelta(days=1)))
    assert post(client, past.slug, VALID).status_code == 409


def test_draft_survey_is_not_public(client) -> None:  # type: ignore[no-untyped-def]
    draft = store(every_type_survey(status="draft"))
    assert client.get(f"/api/surveys/{draft.slug}").status_code == 404
    assert post(client, draft.slug, VALID).status_code == 404


def test_openapi_documents_the_contract(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/openapi.json").json()
    assert "/api/surveys/{slug}/responses" in schema["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and '<html lang="en">' in docs.text


def test_public_submissions_are_rate_limited(client, survey, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from consult.core import ratelimit

    ratelimit.reset()
    monkeypatch.setenv("CONSULT_SUBMIT_RATE", "3/minute")
    statuses = [post(client, survey.slug, VALID).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    refused = post(client, survey.slug, VALID)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "detail" in refused.json()
    ratelimit.reset()


def test_a_batch_gets_back_the_ids_of_its_own_responses(client, survey) -> None:  # type: ignore[no-untyped-def]
    """The writer reports each stored response's id (its receipt page and audit use it), also when
    the newest response was deleted just before, and beside a resend of an older one."""
    from sqlalchemy import delete

    from consult.db import session_scope
    from consult.responses.service import NewResponse, Outcome, store_responses

    def new(client_uuid: str, text: str) -> NewResponse:
        return NewResponse(spec=survey, client_uuid=client_uuid, values={"kommun": 1, "val": 1, "lang": text})

    with session_scope() as session:
        older, newest = store_responses(session, [new(str(uuid.uuid4()), "äldre"), new(str(uuid.uuid4()), "nyast")])
    with session_scope() as session:
        session.execute(delete(Answer).where(Answer.response_id == newest.response_id))
        session.execute(delete(Response).where(Response.id == newest.response_id))
    fresh = [str(uuid.uuid4()) for _ in range(4)]
    older_uuid = None
    with session_scope() as session:
        older_uuid = session.get(Response, older.response_id).client_uuid  # type: ignore[union-attr]
        batch = [new(fresh[0], "ett"), new(older_uuid, "äldre"), new(fresh[1], "två"), new(fresh[2], "tre"),
                 new(fresh[3], "fyra"), new(fresh[1], "två")]
        results = store_responses(session, batch)
    assert [r.outcome for r in results] == [Outcome.created, Outcome.duplicate, Outcome.created, Outcome.created,
                                            Outcome.created, Outcome.duplicate]
    with session_scope() as session:
        for item, result in zip(batch, results, strict=True):
            stored = session.get(Response, result.response_id)
            assert stored is not None and stored.client_uuid == item.client_uuid
            assert result.receipt == stored.receipt
            text = session.scalars(select(Answer.text).where(Answer.response_id == stored.id,
                                                             Answer.text.is_not(None))).one()
            assert text == item.values["lang"]
