"""The review workflow: corrections that keep every earlier version, review states with a
comment, and the repeat-answer safeguards (source hashes kept 30 days, bursts flagged).
Plain functions over a session; the pages are in consult/interviews/routes.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session

from consult.accounts.service import record_audit
from consult.core.fields import utcnow
from consult.responses.models import Answer, AnswerSelection, Response, ReviewState
from consult.responses.redaction import redaction_history
from consult.responses.review_models import ResponseEdit, ResponseFlag, ReviewEvent
from consult.responses.service import answer_row, consent_from
from consult.responses.validation import Value
from consult.surveys.models import LIST_TYPES, SINGLE_CODE_TYPES, QuestionType
from consult.surveys.schema import SurveySpec

MAX_COMMENT_LENGTH = 2000


class ReviewError(ValueError):
    """A review action that cannot be done; the message is an English msgid for _()."""


# --- reading a response ----------------------------------------------------------------------


def current_answers(session: Session, *, spec: SurveySpec, response_id: int) -> dict[str, Value]:
    """The response's answers as clean values, the same shape validation produces."""
    by_id = {q.id: q for q in spec.questions}
    values: dict[str, Value] = {}
    rows = session.execute(
        select(Answer.question_id, Answer.choice, Answer.number, Answer.text, Answer.dont_know).where(
            Answer.response_id == response_id
        )
    )
    for question_id, choice, number, text, dont_know in rows:
        question = by_id.get(question_id)
        if question is None or question.type in LIST_TYPES:
            continue
        if question.type in SINGLE_CODE_TYPES:
            values[question.code] = choice
        elif question.type in (QuestionType.scale, QuestionType.number):
            values[question.code] = None if dont_know else number
        else:
            values[question.code] = text
    selections = session.execute(
        select(AnswerSelection.question_id, AnswerSelection.choice)
        .where(AnswerSelection.response_id == response_id)
        .order_by(AnswerSelection.question_id, AnswerSelection.rank, AnswerSelection.id)
    )
    listed: dict[str, list[int]] = defaultdict(list)
    for question_id, choice in selections:
        question = by_id.get(question_id)
        if question is not None:
            listed[question.code].append(choice)
    values.update(listed)
    return {q.code: values[q.code] for q in spec.questions if q.code in values}


def diff_answers(old: dict[str, Value], new: dict[str, Value]) -> dict[str, list[Value]]:
    """CODE: [old, new] for every question whose answer changed (None when unanswered)."""
    changes: dict[str, list[Value]] = {}
    for code in list(old) + [c for c in new if c not in old]:
        before, after = old.get(code), new.get(code)
        if (code in old) != (code in new) or before != after:
            changes[code] = [before, after]
    return changes


# --- corrections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditResult:
    changes: dict[str, list[Value]]
    version: int  # the response's version after the edit


def edit_response(
    session: Session,
    *,
    spec: SurveySpec,
    response_id: int,
    values: dict[str, Value],
    user_id: int | None,
    request: Any = None,
) -> EditResult:
    """Replace a response's answers with `values` (already validated), keeping the previous
    version in the history and marking the response "edited". No change, no new version."""
    response = session.get(Response, response_id)
    if response is None or response.survey_id != spec.id:
        raise ReviewError("There is no such response.")
    previous = current_answers(session, spec=spec, response_id=response_id)
    changes = diff_answers(previous, values)
    versions = _version_count(session, response_id)
    if not changes:
        return EditResult({}, versions)
    session.add(
        ResponseEdit(
            response_id=response_id, version=versions, edited_by_id=user_id, previous=previous, changes=changes
        )
    )
    _replace_answers(session, spec=spec, response_id=response_id, values=values)
    old_state = response.review_state
    response.review_state = ReviewState.edited.value
    response.consent_quote = consent_from(spec, values)
    session.add(response)
    record_audit(
        session,
        user_id=user_id,
        action="response.edit",
        target=f"response:{response_id}",
        details={"changed": sorted(changes), "version": versions + 1, "from_state": old_state},
        request=request,
    )
    session.flush()
    return EditResult(changes, versions + 1)


def _version_count(session: Session, response_id: int) -> int:
    """How many versions the response has had: the first submission plus one per edit."""
    edits = session.execute(
        select(func.count()).select_from(ResponseEdit).where(ResponseEdit.response_id == response_id)
    ).scalar_one()
    return int(edits) + 1


def _replace_answers(session: Session, *, spec: SurveySpec, response_id: int, values: dict[str, Value]) -> None:
    session.execute(delete(Answer).where(Answer.response_id == response_id))
    session.execute(delete(AnswerSelection).where(AnswerSelection.response_id == response_id))
    answers, selections = [], []
    for code, value in values.items():
        question = spec.by_code[code]
        answers.append({"response_id": response_id, "question_id": question.id, **answer_row(question.type, value)})
        if question.type in LIST_TYPES and isinstance(value, list):
            selections.extend(
                {"response_id": response_id, "question_id": question.id, "choice": choice, "rank": rank}
                for rank, choice in enumerate(value, start=1)
            )
    if answers:
        session.execute(insert(Answer.__table__), answers)
    if selections:
        session.execute(insert(AnswerSelection.__table__), selections)


# --- review states -----------------------------------------------------------------------------


# The states a reviewer picks by hand. "edited" is not one: it says the answers were changed,
# so only edit_response sets it (as in KoboToolbox and ODK Central).
CHOSEN_STATES = tuple(s.value for s in ReviewState if s != ReviewState.edited)


def set_review_state(
    session: Session, *, response_id: int, state: str, comment: str, user_id: int | None, request: Any = None
) -> ReviewEvent:
    if state == ReviewState.edited.value:
        raise ReviewError("A response is marked edited when its answers are corrected; choose another state.")
    if state not in CHOSEN_STATES:
        raise ReviewError("Choose one of the review states.")
    comment = comment.replace("\x00", "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ReviewError("The comment is too long.")
    response = session.get(Response, response_id)
    if response is None:
        raise ReviewError("There is no such response.")
    event = ReviewEvent(
        response_id=response_id, user_id=user_id, from_state=response.review_state, to_state=state, comment=comment
    )
    session.add(event)
    response.review_state = state
    session.add(response)
    record_audit(
        session,
        user_id=user_id,
        action="response.state",
        target=f"response:{response_id}",
        details={"from": event.from_state, "to": state, "comment": comment},
        request=request,
    )
    session.flush()
    return event


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    user_id: int | None
    kind: str  # "edit", "state" or "redaction"
    changes: dict[str, list[Value]] | None = None
    version: int | None = None
    from_state: str | None = None
    to_state: str | None = None
    comment: str = ""
    question_code: str = ""  # redaction: the answer text was removed from
    reason: str = ""  # redaction: a key of redaction.REASONS


def response_history(session: Session, *, response_id: int) -> list[HistoryItem]:
    """Edits, state changes and redactions, oldest first."""
    items = [
        HistoryItem(at=e.edited_at, user_id=e.edited_by_id, kind="edit", changes=e.changes, version=e.version + 1)
        for e in session.execute(select(ResponseEdit).where(ResponseEdit.response_id == response_id)).scalars()
        if e.edited_at is not None
    ]
    items += [
        HistoryItem(
            at=e.at, user_id=e.user_id, kind="state", from_state=e.from_state, to_state=e.to_state, comment=e.comment
        )
        for e in session.execute(select(ReviewEvent).where(ReviewEvent.response_id == response_id)).scalars()
        if e.at is not None
    ]
    items += [
        HistoryItem(at=r.at, user_id=r.user_id, kind="redaction", question_code=r.question_code, reason=r.reason)
        for r in redaction_history(session, response_id=response_id)
    ]
    return sorted(items, key=lambda item: _aware(item.at))


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- repeat answers: source hashes and bursts --------------------------------------------------


def purge_source_hashes(session: Session, older_than_days: int = 30, *, now: datetime | None = None) -> int:
    """Forget the source hash of responses older than the retention period; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    result = session.execute(
        update(Response)
        .where(Response.source_hash.is_not(None), Response.submitted_at < cutoff)
        .values(source_hash=None)
    )
    return int(result.rowcount or 0)


def flag_bursts(session: Session, survey_id: int, window_minutes: int = 10, threshold: int = 20) -> int:
    """Flag every response that belongs to more than `threshold` answers from one source within
    `window_minutes`. Returns how many responses were newly flagged. Nothing is blocked or removed."""
    busy_sources = session.execute(
        select(Response.source_hash)
        .where(Response.survey_id == survey_id, Response.source_hash.is_not(None))
        .group_by(Response.source_hash)
        .having(func.count() > threshold)
    ).scalars()
    window = timedelta(minutes=window_minutes)
    burst_ids: set[int] = set()
    for source in busy_sources:
        rows = session.execute(
            select(Response.id, Response.submitted_at)
            .where(Response.survey_id == survey_id, Response.source_hash == source, Response.submitted_at.is_not(None))
            .order_by(Response.submitted_at)
        ).all()
        burst_ids |= _ids_in_bursts([(rid, _aware(at)) for rid, at in rows], window, threshold)
    return _flag(session, burst_ids)


def _ids_in_bursts(rows: list[tuple[int, datetime]], window: timedelta, threshold: int) -> set[int]:
    """Sliding window over time-ordered rows: any window holding more than `threshold` is a burst."""
    flagged: set[int] = set()
    start = 0
    next_unflagged = 0  # rows before this index are flagged already, so each row is added once
    for end in range(len(rows)):
        while rows[end][1] - rows[start][1] > window:
            start += 1
        if end - start + 1 > threshold:
            first = max(start, next_unflagged)
            flagged.update(rid for rid, _ in rows[first : end + 1])
            next_unflagged = end + 1
    return flagged


def _flag(session: Session, response_ids: set[int]) -> int:
    if not response_ids:
        return 0
    known = dict(
        session.execute(
            select(ResponseFlag.response_id, ResponseFlag.burst).where(ResponseFlag.response_id.in_(response_ids))
        ).all()
    )
    fresh = [{"response_id": rid, "burst": True, "flagged_at": utcnow()} for rid in response_ids if rid not in known]
    if fresh:
        session.execute(insert(ResponseFlag.__table__), fresh)
    unflagged = [rid for rid, burst in known.items() if not burst]
    if unflagged:
        session.execute(update(ResponseFlag).where(ResponseFlag.response_id.in_(unflagged)).values(burst=True))
    return len(fresh) + len(unflagged)


def burst_flagged(session: Session, response_ids: list[int]) -> set[int]:
    if not response_ids:
        return set()
    return set(
        session.execute(
            select(ResponseFlag.response_id).where(ResponseFlag.response_id.in_(response_ids), ResponseFlag.burst)
        ).scalars()
    )


# --- one response per browser session -----------------------------------------------------------

ANSWERED_COOKIE = "consult_answered"
ANSWERED_COOKIE_PATH = "/s/"
MAX_REMEMBERED_SURVEYS = 20


def _answered_serializer():  # type: ignore[no-untyped-def]
    from consult.config import get_settings
    from consult.core.signing import serializer

    return serializer(get_settings().secret_key, salt="consult-answered-surveys")


def answered_surveys(cookie: str | None) -> dict[str, str]:
    """survey id (as text) -> receipt, from this browser's signed cookie; a bad cookie is none."""
    if not cookie or len(cookie) > 4000:
        return {}
    from itsdangerous import BadSignature

    try:
        data = _answered_serializer().loads(cookie)
    except BadSignature:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def forget_answered(cookie: str | None, *, receipt: str) -> str | None:
    """The cookie value without the survey this receipt answered (the respondent deleted that
    response, and may answer again); None when the cookie does not hold it."""
    answered = answered_surveys(cookie)
    kept = {survey: code for survey, code in answered.items() if code != receipt}
    return None if len(kept) == len(answered) else _answered_serializer().dumps(kept)


def mark_answered(cookie: str | None, *, survey_id: int, receipt: str) -> str:
    """The cookie value with this survey added; only the latest surveys are kept, so it stays small."""
    answered = answered_surveys(cookie)
    answered.pop(str(survey_id), None)
    answered[str(survey_id)] = receipt
    kept = dict(list(answered.items())[-MAX_REMEMBERED_SURVEYS:])
    return _answered_serializer().dumps(kept)
