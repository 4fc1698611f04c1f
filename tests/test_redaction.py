"""Staff remove what the automatic redaction missed from a free-text answer: with a reason, for
good (the corrections' history too), logged without the text, and refused with a message beside
the field when the input is unusable."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from consult.accounts.models import AuditEvent
from consult.responses import review
from consult.responses.models import Answer
from consult.responses.review_models import ResponseEdit
from consult.responses.service import NewResponse, store_responses
from tests.factories import every_type_survey, store
from tests.staff import create_staff, csrf_from, logged_in

PASSWORD = "redaction-tests-2025"
TEXT = "Min granne Kalle  Berg på Storgatan är sjuk. Hälsa kalle berg!"


@pytest.fixture(scope="module")
def staff(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff("redaction", PASSWORD)


@pytest.fixture(scope="module")
def survey(client):  # type: ignore[no-untyped-def]
    return store(every_type_survey())


def _stored_response(survey) -> int:  # type: ignore[no-untyped-def]
    """A response whose long answer names a neighbour, corrected once so its history has the text too."""
    from consult.db import session_scope

    values = {"kommun": 1, "val": 1, "kort": "Bussar", "lang": TEXT}
    with session_scope() as session:
        stored = store_responses(session, [NewResponse(spec=survey, client_uuid=str(uuid.uuid4()), values=values)])
        response_id = stored[0].response_id
        assert response_id is not None
        review.edit_response(
            session, spec=survey, response_id=response_id, values={**values, "kort": "Tåg"}, user_id=None
        )
    return response_id


def _answer_text(response_id: int, survey) -> str:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    question_id = survey.by_code["lang"].id
    with session_scope() as session:
        return session.execute(
            select(Answer.text).where(Answer.response_id == response_id, Answer.question_id == question_id)
        ).scalar_one()


def _audit(response_id: int) -> list[dict]:  # type: ignore[type-arg]
    from consult.db import session_scope

    with session_scope() as session:
        events = session.execute(
            select(AuditEvent).where(
                AuditEvent.action == "response.redact", AuditEvent.target == f"response:{response_id}"
            )
        ).scalars()
        return [dict(event.details or {}) for event in events]


def test_an_analyst_removes_a_name_from_the_answer_and_its_history(app, staff, survey) -> None:  # type: ignore[no-untyped-def]
    response_id = _stored_response(survey)
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    page = analyst.get(f"/granskning/{response_id}")
    assert page.status_code == 200
    assert "Ta bort text ur ett svar" in page.text and 'name="phrase"' in page.text
    assert 'maxlength="1000"' in page.text  # the browser stops where the server would refuse
    assert '<option value="lang">' in page.text and '<option value="kommun">' not in page.text

    # Typed as shown on one line and in other case: both mentions go, whatever their spacing.
    done = analyst.post(
        f"/granskning/{response_id}/ta-bort-text",
        data={"csrftoken": csrf_from(page.text), "question": "lang", "phrase": "kalle berg", "reason": "identity"},
    )
    assert done.status_code == 303 and "removed=2" in done.headers["location"]
    shown = analyst.get(done.headers["location"]).text
    assert "Texten togs bort ur svaret (2 ställen)." in shown
    assert "Kalle" not in shown and "Min granne [borttaget] på Storgatan" in shown
    assert "Text borttagen ur" in shown and "Namnger en person eller visar vem hen är" in shown

    assert _answer_text(response_id, survey) == "Min granne [borttaget] på Storgatan är sjuk. Hälsa [borttaget]!"
    from consult.db import session_scope

    with session_scope() as session:
        edit = session.execute(select(ResponseEdit).where(ResponseEdit.response_id == response_id)).scalar_one()
        assert "Kalle" not in str(edit.previous) and "[borttaget]" in edit.previous["lang"]
    assert _audit(response_id) == [{"question": "lang", "reason": "identity", "occurrences": 2, "characters": 21}]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"question": "lang", "phrase": "Olle Ek", "reason": "identity"},
            "phrase",
            "Svaret innehåller inte den texten",
        ),
        ({"question": "lang", "phrase": "   ", "reason": "identity"}, "phrase", "Skriv texten som ska tas bort."),
        ({"question": "lang", "phrase": "Kalle", "reason": ""}, "reason", "Välj varför texten tas bort."),
        ({"question": "kommun", "phrase": "Kalle", "reason": "other"}, "question", "Välj ett av svarets fritextsvar."),
        (
            {"question": "lang", "phrase": "K" * 1001, "reason": "other"},
            "phrase",
            "Korta texten till högst 1000 tecken.",
        ),
        (  # far past any limit: still a message beside the field, not "the request could not be read"
            {"question": "lang", "phrase": "K" * 100_000, "reason": "other"},
            "phrase",
            "Korta texten till högst 1000 tecken.",
        ),
    ],
)
def test_unusable_input_is_refused_beside_its_field_and_changes_nothing(
    app, staff, survey, form, field, message
) -> None:  # type: ignore[no-untyped-def]
    response_id = _stored_response(survey)
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    token = csrf_from(analyst.get(f"/granskning/{response_id}").text)
    refused = analyst.post(f"/granskning/{response_id}/ta-bort-text", data={"csrftoken": token, **form})
    assert refused.status_code == 422
    assert f'href="#field-{field}"' in refused.text and f'id="{field}-error"' in refused.text
    assert message in refused.text
    if form["phrase"].strip() and len(form["phrase"]) < 100:
        assert f'value="{form["phrase"]}"' in refused.text  # what was typed is kept
    assert _answer_text(response_id, survey) == TEXT
    assert _audit(response_id) == []


def test_personal_data_hidden_on_the_page_can_be_removed_as_it_is_shown(app, staff, survey) -> None:  # type: ignore[no-untyped-def]
    """The page shows a phone number the automatic redaction found as "[telefon]"; copied as shown,
    that passage is removed from the stored answer for good (it used to say the answer did not
    contain the text)."""
    from consult.db import session_scope

    values = {"kommun": 1, "val": 1, "lang": "Ring mig på 070-123 45 67 om bussarna, tack."}
    with session_scope() as session:
        stored = store_responses(session, [NewResponse(spec=survey, client_uuid=str(uuid.uuid4()), values=values)])
    response_id = stored[0].response_id
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    page = analyst.get(f"/granskning/{response_id}")
    assert "Ring mig på [telefon] om bussarna" in page.text and "070-123" not in page.text
    done = analyst.post(f"/granskning/{response_id}/ta-bort-text", data={
        "csrftoken": csrf_from(page.text), "question": "lang", "phrase": "mig på [telefon]", "reason": "contact"})
    assert done.status_code == 303 and "removed=1" in done.headers["location"]
    assert _answer_text(response_id, survey) == "Ring [borttaget] om bussarna, tack."
    assert _audit(response_id) == [{"question": "lang", "reason": "contact", "occurrences": 1, "characters": 20}]


def test_a_long_review_comment_gets_a_message_beside_the_field(app, staff, survey) -> None:  # type: ignore[no-untyped-def]
    response_id = _stored_response(survey)
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    token = csrf_from(analyst.get(f"/granskning/{response_id}").text)
    refused = analyst.post(f"/granskning/{response_id}/status",
                           data={"csrftoken": token, "state": "approved", "comment": "x" * 20_000})
    assert refused.status_code == 422 and 'id="comment-error"' in refused.text
    assert "Korta kommentaren till högst 2000 tecken" in refused.text


def test_only_analysts_remove_text_and_only_with_the_forms_token(app, staff, survey) -> None:  # type: ignore[no-untyped-def]
    response_id = _stored_response(survey)
    form = {"question": "lang", "phrase": "Kalle", "reason": "identity"}
    interviewer = logged_in(app, staff["interviewer"], PASSWORD)
    token = csrf_from(interviewer.get("/intervju").text)
    assert (
        interviewer.post(f"/granskning/{response_id}/ta-bort-text", data={"csrftoken": token, **form}).status_code
        == 403
    )
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    analyst.get(f"/granskning/{response_id}")
    assert analyst.post(f"/granskning/{response_id}/ta-bort-text", data=form).status_code == 403
    assert analyst.post("/granskning/999999999/ta-bort-text", data=form).status_code in (403, 404)
    assert _answer_text(response_id, survey) == TEXT


def test_the_form_and_its_messages_are_in_english_for_english_staff(app, staff, survey) -> None:  # type: ignore[no-untyped-def]
    response_id = _stored_response(survey)
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    page = analyst.get(f"/granskning/{response_id}?lang=en")
    assert "Remove text from an answer" in page.text
    refused = analyst.post(
        f"/granskning/{response_id}/ta-bort-text",
        data={"csrftoken": csrf_from(page.text), "question": "lang", "phrase": "Olle", "reason": "other"},
    )
    assert refused.status_code == 422 and "The answer does not contain this text." in refused.text


def _response_with(survey, text: str) -> int:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    values = {"kommun": 1, "val": 1, "lang": text}
    with session_scope() as session:
        stored = store_responses(session, [NewResponse(spec=survey, client_uuid=str(uuid.uuid4()), values=values)])
    response_id = stored[0].response_id
    assert response_id is not None
    return response_id


def test_placeholders_are_in_the_pages_language(app, staff, survey) -> None:  # type: ignore[no-untyped-def]
    """An English page reads "[email]" and "[removed]" where the Swedish one reads "[e-post]" and
    "[borttaget]"; neither shows the address."""
    response_id = _response_with(survey, "Skriv till anna.berg@example.se. Kalle bor här.")
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    page = analyst.get(f"/granskning/{response_id}")
    analyst.post(f"/granskning/{response_id}/ta-bort-text", data={
        "csrftoken": csrf_from(page.text), "question": "lang", "phrase": "Kalle", "reason": "identity"})

    english = analyst.get(f"/granskning/{response_id}?lang=en").text
    assert "Skriv till [email]. [removed] bor här." in english
    assert "anna.berg" not in english and "[e-post]" not in english and "[borttaget]" not in english
    assert "such as [phone]" in english and "replaced by [removed]" in english  # the hints too
    swedish = analyst.get(f"/granskning/{response_id}?lang=sv").text
    assert "Skriv till [e-post]. [borttaget] bor här." in swedish
    assert "anna.berg" not in swedish and "[email]" not in swedish


@pytest.mark.parametrize("language, phrase", [
    ("en", "me on [phone] about"),
    ("en", "me on [PHONE]  about"),
    ("sv", "me on [telefon] about"),  # copied from the Swedish page, then read in English: still found
])
def test_a_placeholder_copied_from_the_english_page_is_found(app, staff, survey, language, phrase) -> None:  # type: ignore[no-untyped-def]
    response_id = _response_with(survey, "Call me on 070-123 45 67 about the buses.")
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    page = analyst.get(f"/granskning/{response_id}?lang={language}")
    done = analyst.post(f"/granskning/{response_id}/ta-bort-text", data={
        "csrftoken": csrf_from(page.text), "question": "lang", "phrase": phrase, "reason": "contact"})
    assert done.status_code == 303, done.text
    assert _answer_text(response_id, survey) == "Call [borttaget] the buses."


def test_text_removed_before_can_be_named_by_its_english_placeholder(app, staff, survey) -> None:  # type: ignore[no-untyped-def]
    """The English page shows an earlier removal as "[removed]"; a phrase that includes it is found."""
    response_id = _response_with(survey, "Kalle Berg bor på hörnet, fråga honom.")
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    token = csrf_from(analyst.get(f"/granskning/{response_id}?lang=en").text)
    analyst.post(f"/granskning/{response_id}/ta-bort-text", data={
        "csrftoken": token, "question": "lang", "phrase": "Kalle Berg", "reason": "identity"})
    done = analyst.post(f"/granskning/{response_id}/ta-bort-text", data={
        "csrftoken": token, "question": "lang", "phrase": "[removed] bor på hörnet", "reason": "identity"})
    assert done.status_code == 303, done.text
    assert _answer_text(response_id, survey) == "[borttaget], fråga honom."


def test_the_swedish_placeholders_are_the_ones_the_redaction_writes_and_stores() -> None:
    """Swedish pages show the text as analysis.redact writes it, and "[borttaget]" as it is stored;
    every language has a placeholder of its own for each kind."""
    from analysis.redact import TYPES, placeholder
    from consult.core.redacting import REMOVED, placeholders

    assert placeholders("sv") == {kind: placeholder(kind) for kind in (*TYPES, REMOVED)}
    assert placeholders("sv")[REMOVED] == "[borttaget]"
    assert len(set(placeholders("en").values())) == len(TYPES) + 1
