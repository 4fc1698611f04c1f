"""A respondent's own response: see it and delete it with the receipt code; retention purges."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlmodel import Session

from consult.core.fields import utcnow
from consult.responses.models import Answer, AnswerSelection, Response, ResponseDraft, ResponseIdentity
from consult.surveys.models import Question, QuestionType, Survey


@dataclass(frozen=True)
class OwnAnswer:
    code: str
    question: dict
    value: str
    # Each option chosen (multiple choice) or ranked (ranking, in order): labels may hold commas,
    # so the page lists them rather than showing `value`, where they are joined.
    choices: tuple[str, ...] | None = None
    ranked: bool = False


def find_by_receipt(session: Session, *, receipt: str) -> Response | None:
    if not receipt or len(receipt) > 32:
        return None
    return session.execute(select(Response).where(Response.receipt == receipt.strip().upper())).scalar_one_or_none()


# --- the page that shows a response, for a short while after its code was typed -----------------
# The code is posted, never put in an address. After the post the browser is sent on to a page of
# its own (so that reloading it does not post the code again), and that page knows which response
# to show from a signed cookie that names the response, not the code, and holds for ten minutes:
# long enough to read the answers and delete them, short on a shared computer.
SHOWN_RESPONSE_SECONDS = 600


def _shown_serializer():  # type: ignore[no-untyped-def]
    from consult.config import get_settings
    from consult.core.signing import serializer

    return serializer(get_settings().secret_key, salt="consult-shown-response")


def shown_response_cookie(*, response: Response, now: datetime | None = None) -> str:
    """The cookie value that lets this browser see the response for SHOWN_RESPONSE_SECONDS."""
    at = int((now or utcnow()).timestamp())
    return _shown_serializer().dumps({"id": response.id, "receipt": _receipt_digest(response.receipt), "at": at})


def shown_response(session: Session, *, cookie: str | None, now: datetime | None = None) -> Response | None:
    """The response the cookie names, if its signature holds, it is recent, and the response is
    still the one it was made for (SQLite may give a deleted response's id to the next one)."""
    if not cookie or len(cookie) > 300:
        return None
    from itsdangerous import BadSignature

    try:
        data = _shown_serializer().loads(cookie)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int) or not isinstance(data.get("at"), int):
        return None
    if not 0 <= (now or utcnow()).timestamp() - data["at"] <= SHOWN_RESPONSE_SECONDS:
        return None
    response = session.get(Response, data["id"])
    if response is None or _receipt_digest(response.receipt) != data.get("receipt"):
        return None
    return response


def _receipt_digest(receipt: str) -> str:
    # Enough to tell one response's code from another's; the code itself stays out of the cookie.
    return hashlib.sha256(receipt.encode()).hexdigest()[:16]


def own_answers(session: Session, *, response: Response, language: str) -> list[OwnAnswer]:
    """The respondent's answers as they gave them, with choice labels, in question order."""
    from consult.core.fields import pick
    from consult.core.i18n import gettext_for
    from consult.surveys.models import Choice

    questions = session.execute(
        select(Question).where(Question.survey_id == response.survey_id).order_by(Question.position)
    ).scalars()
    answers = {
        a.question_id: a for a in session.execute(select(Answer).where(Answer.response_id == response.id)).scalars()
    }
    selections: dict[int, list[int]] = {}
    for row in session.execute(
        select(AnswerSelection.question_id, AnswerSelection.choice)
        .where(AnswerSelection.response_id == response.id)
        .order_by(AnswerSelection.rank)
    ):
        selections.setdefault(row.question_id, []).append(row.choice)
    result = []
    for question in questions:
        answer = answers.get(question.id)
        if answer is None:
            continue
        labels = {
            c.code: pick(c.label, language)
            for c in session.execute(select(Choice).where(Choice.question_id == question.id)).scalars()
        }
        chosen = None
        if question.id in selections:
            chosen = tuple(labels.get(code, str(code)) for code in selections[question.id])
            value = ", ".join(chosen)
        elif answer.choice is not None:
            value = labels.get(answer.choice, str(answer.choice))
        elif answer.dont_know:
            value = gettext_for(language, "Don't know")
        elif answer.number is not None:
            value = f"{answer.number:g}"
        else:
            value = answer.text or ""
        result.append(OwnAnswer(code=question.code, question=question.text, value=value, choices=chosen,
                                ranked=question.type == QuestionType.ranking))
    return result


def delete_responses(session: Session, response_ids: list[int]) -> int:
    """Delete responses with their answers, in one transaction."""
    if not response_ids:
        return 0
    session.execute(delete(AnswerSelection).where(AnswerSelection.response_id.in_(response_ids)))
    session.execute(delete(Answer).where(Answer.response_id.in_(response_ids)))
    _delete_dependents(session, response_ids)
    result = session.execute(delete(Response).where(Response.id.in_(response_ids)))
    return result.rowcount or 0


def _delete_dependents(session: Session, response_ids: list[int]) -> None:
    """Rows other domains keep per response (history, flags, theme assignments) go too."""
    from consult.tables import metadata

    for table in metadata.sorted_tables:
        if table.name in {"answer", "answer_selection", "response"} or "response_id" not in table.c:
            continue
        session.execute(delete(table).where(table.c.response_id.in_(response_ids)))


@dataclass(frozen=True)
class PurgeReport:
    deleted: int
    anonymised: int
    drafts: int
    source_hashes: int


def purge(session: Session, *, now: datetime | None = None, anonymise: bool = False) -> PurgeReport:
    """Apply each survey's retention period. Deleting removes the response; anonymising keeps the
    coded answers for statistics but removes free text, who answered (identified surveys), timestamps'
    precision and the source hash."""
    now = now or utcnow()
    expired: list[int] = []
    for survey_id, days in session.execute(
        select(Survey.id, Survey.retention_days).where(Survey.retention_days.is_not(None))
    ):
        cutoff = now - timedelta(days=days)
        expired += list(
            session.execute(
                select(Response.id).where(Response.survey_id == survey_id, Response.submitted_at < cutoff)
            ).scalars()
        )
    deleted = anonymised = 0
    if anonymise and expired:
        session.execute(update(Answer).where(Answer.response_id.in_(expired)).values(text=None))
        session.execute(delete(ResponseIdentity).where(ResponseIdentity.response_id.in_(expired)))
        session.execute(
            update(Response)
            .where(Response.id.in_(expired))
            .values(source_hash=None, started_at=None, event_name=None, consent_quote=None)
        )
        anonymised = len(expired)
    else:
        for start in range(0, len(expired), 500):
            deleted += delete_responses(session, expired[start : start + 500])
    drafts = session.execute(delete(ResponseDraft).where(ResponseDraft.expires_at < now)).rowcount or 0
    hashes = (
        session.execute(
            update(Response)
            .where(Response.source_hash.is_not(None), Response.submitted_at < now - timedelta(days=30))
            .values(source_hash=None)
        ).rowcount
        or 0
    )
    return PurgeReport(deleted=deleted, anonymised=anonymised, drafts=drafts, source_hashes=hashes)
