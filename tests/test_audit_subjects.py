"""The audit log's "Gäller" column says what an event concerns as a person reads it (the survey's
title, the organisation whose remiss answer was published, a colleague's e-mail) instead of the
reference the code recorded ("survey:1"); what it cannot name stays as recorded."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from sqlalchemy import event, select

from consult.surveys.schema import PageSpec, SurveySpec
from tests.factories import q, store
from tests.staff import create_staff, logged_in

PASSWORD = "granskningsloggens-lösenord"
DEMO_CYCLE_KEY = "oversyn-2025"  # the review cycle of the demo (consult/fixtures/vasternorrland.yaml)
QUESTION_TEXT = "Vad tycker du om kollektivtrafiken i ditt område, och vad skulle få dig att åka mer? " * 2


@pytest.fixture(scope="module")
def staff(migrated: str, demo) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff("audit-subjects", PASSWORD)


@pytest.fixture(scope="module")
def survey(migrated: str) -> SurveySpec:
    return store(
        SurveySpec(
            slug=f"logg-{uuid.uuid4().hex[:8]}",
            title={"sv": "Loggens enkät", "en": "The log's survey"},
            status="open",
            pages=(PageSpec(questions=(q("trafik", "long_text", QUESTION_TEXT.strip()),)),),
        )
    )


def user_id(email: str) -> int:
    from consult.accounts import service
    from consult.db import session_scope

    with session_scope() as session:
        user = service.get_user_by_email(session, email)
        assert user is not None and user.id is not None
        return user.id


def stored_response(spec: SurveySpec) -> int:
    from consult.db import session_scope
    from consult.responses.service import NewResponse, store_responses

    with session_scope() as session:
        stored = store_responses(session, [NewResponse(spec=spec, client_uuid=str(uuid.uuid4()),
                                                       values={"trafik": "Fler turer"})])
    assert stored[0].response_id is not None
    return stored[0].response_id


def demo_remiss_answer() -> tuple[int, str, str, str]:
    """A submitted answer of the demo remiss: its id, the organisation's name, the round's key and title."""
    from consult.db import session_scope
    from consult.remiss.models import Organisation, RemissAnswer, RemissInvitation, RemissRound

    with session_scope() as session:
        row = session.execute(
            select(RemissAnswer.id, Organisation.name, RemissRound.key, RemissRound.title)
            .join(RemissInvitation, RemissInvitation.id == RemissAnswer.invitation_id)
            .join(Organisation, Organisation.id == RemissInvitation.organisation_id)
            .join(RemissRound, RemissRound.id == RemissAnswer.round_id)
            .order_by(RemissAnswer.id)
        ).first()
    assert row is not None, "the demo loads remiss answers"
    return row[0], row[1], row[2], row[3]["sv"]


def record(actor: str, *targets: tuple[str, str]) -> None:
    """One event per (action, target), by the given staff member."""
    from consult.accounts import service
    from consult.db import session_scope

    with session_scope() as session:
        for action, target in targets:
            service.record_audit(session, user_id=user_id(actor), action=action, target=target)


def subject_column(page: str) -> dict[str, str]:
    """Action shown -> text of the "Gäller" column, from the audit table."""
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        text = [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
        found[text[2]] = text[3]
    return found


def test_the_log_names_what_each_event_concerns(app, staff, survey: SurveySpec) -> None:  # type: ignore[no-untyped-def]
    response_id = stored_response(survey)
    answer_id, organisation, round_key, round_title = demo_remiss_answer()
    question_id = survey.question("trafik").id  # type: ignore[union-attr]
    colleague = staff["interviewer"]
    record(
        staff["analyst"],
        ("t.survey-by-id", f"survey:{survey.id}"),
        ("t.survey-by-slug", f"survey:{survey.slug}"),
        ("t.bare-slug", survey.slug),  # the authoring pages record the slug alone
        ("t.question", f"question:{question_id}"),
        ("t.response", f"response:{response_id}"),
        ("t.remiss", f"remiss:{round_key}"),
        ("t.remiss-answer", f"remiss_answer:{answer_id}"),
        ("t.cycle", f"cycle:{DEMO_CYCLE_KEY}"),
        ("t.user", f"user:{user_id(colleague)}"),
        ("t.unknown-kind", "thing:7"),
        ("t.gone", "survey:987654321"),
        ("t.huge-id", "response:99999999999999999999999"),
    )
    admin = logged_in(app, staff["admin"], PASSWORD)
    page = admin.get(f"/admin/audit?user={user_id(staff['analyst'])}&lang=sv")
    assert page.status_code == 200, page.text[:500]
    subjects = subject_column(page.text)
    assert subjects["t.survey-by-id"] == "Enkät: Loggens enkät"
    assert subjects["t.survey-by-slug"] == "Enkät: Loggens enkät"
    assert subjects["t.bare-slug"] == "Enkät: Loggens enkät"
    question = subjects["t.question"]
    assert question.startswith("Fråga: Vad tycker du om kollektivtrafiken") and question.endswith("… (Loggens enkät)")
    assert len(question) < len(QUESTION_TEXT)  # a long question is cut short
    assert subjects["t.response"] == f"Svar #{response_id} (Loggens enkät)"
    assert subjects["t.remiss"] == f"Remiss: {round_title}"
    assert subjects["t.remiss-answer"] == f"Remissvar från {organisation} ({round_title})"
    assert subjects["t.cycle"].startswith("Revideringsomgång: ") and DEMO_CYCLE_KEY not in subjects["t.cycle"]
    assert subjects["t.user"] == colleague
    # What it cannot name is shown as it was recorded, never dropped and never an error.
    assert subjects["t.unknown-kind"] == "thing:7"
    assert subjects["t.gone"] == "survey:987654321"
    assert subjects["t.huge-id"] == "response:99999999999999999999999"

    english = subject_column(admin.get(f"/admin/audit?user={user_id(staff['analyst'])}&lang=en").text)
    assert english["t.survey-by-id"] == "Survey: The log's survey"
    assert english["t.remiss-answer"].startswith(f"Consultation answer from {organisation} (")


def test_one_query_per_kind_of_reference_not_per_event(migrated: str, demo, survey: SurveySpec) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import service
    from consult.db import get_engine, session_scope

    targets = [f"survey:{survey.id}"] * 30 + [survey.slug] * 10 + [f"response:{n}" for n in range(1, 40)]
    targets += [f"cycle:{DEMO_CYCLE_KEY}", "thing:1", ""]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = get_engine()
    with session_scope() as session:
        session.connection()  # the session's own setup is not counted
        event.listen(engine, "before_cursor_execute", count)
        try:
            names = service.audit_subjects(session, targets, language="sv", translate=lambda text: text)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3, selects  # surveys (by id and by slug together), responses, cycles
    assert names[f"survey:{survey.id}"] == names[survey.slug] == "Survey: Loggens enkät"
    assert "thing:1" not in names and "" not in names


def test_a_survey_edit_reads_as_what_changed_from_what_to_what() -> None:
    """The audit log showed survey edits as raw keys ("locked: ja; changes: where=q1.text, old=…")."""
    from consult.accounts.service import describe_details
    from consult.core.i18n import gettext_for

    details = {"what": "question", "locked": True,
               "changes": [{"where": "q1.text", "old": {"sv": "Bor du här?"}, "new": {"sv": "Bor du i länet?"}}]}
    shown = describe_details(details, lambda text: gettext_for("sv", text))
    assert shown == "Ändringar: q1.text: sv=Bor du här? → sv=Bor du i länet?; Enkäten hade svar: ja; Ändring: fråga"
