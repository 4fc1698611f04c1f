"""Storing responses: idempotent by client UUID, all of a response or none of it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from consult.core import ratelimit
from consult.core.fields import utcnow
from consult.core.ratelimit import RateVerdict
from consult.db import note_write
from consult.responses.models import Answer, AnswerSelection, Channel, Response, ResponseDraft, ResponseIdentity
from consult.responses.validation import Value
from consult.surveys.models import LIST_TYPES, SINGLE_CODE_TYPES, TEXT_TYPES, QuestionType
from consult.surveys.schema import SurveySpec


class Outcome(StrEnum):
    created = "created"
    duplicate = "duplicate"  # identical resend: harmless, same receipt
    conflict = "conflict"  # same client UUID, different content
    invitation_used = "invitation_used"  # its invitation code was used by another response meanwhile


@dataclass
class NewResponse:
    spec: SurveySpec
    client_uuid: str
    values: dict[str, Value]
    language: str = "sv"
    channel: Channel = Channel.web
    campaign_tag: str | None = None
    event_name: str | None = None
    started_at: datetime | None = None
    submitted_at: datetime = field(default_factory=utcnow)
    consent_quote: bool | None = None
    source_hash: str | None = None
    entered_by_id: int | None = None
    draft_token: str | None = None  # the page-by-page draft this response completes, deleted with it
    identity: dict[str, str | None] | None = None  # name, email, organisation (identified surveys)
    invitation_id: int | None = None  # the invitation code to mark used (surveys for invited people)

    @property
    def content_hash(self) -> str:
        return content_hash(self.spec.slug, self.values, self.identity)


@dataclass(frozen=True)
class Stored:
    outcome: Outcome
    receipt: str | None
    response_id: int | None = None


def content_hash(slug: str, values: Mapping[str, Value], identity: Mapping[str, str | None] | None = None) -> str:
    content: dict[str, object] = {"survey": slug, "answers": values}
    if identity is not None:  # anonymous responses keep the hashes they always had
        content["respondent"] = identity
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_token(nbytes: int = 16) -> str:
    """An unguessable token of nbytes*8 bits (128 by default), readable and URL-safe."""
    return base64.b32encode(secrets.token_bytes(nbytes)).decode().rstrip("=")


def source_hash(*, secret: str, ip: str | None, user_agent: str | None) -> str:
    """A keyed hash of where an answer came from: spots repeats without keeping the address."""
    message = f"{ip or ''}\n{user_agent or ''}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def consent_from(spec: SurveySpec, values: Mapping[str, Value]) -> bool | None:
    """The answer to the survey's consent question, if it has one (code "consent_quote")."""
    if "consent_quote" not in spec.by_code:
        return None
    return values.get("consent_quote") == 1


def answer_cells(question_type: QuestionType, value: Value) -> tuple[object, object, object, bool]:
    """The answer's (choice, number, text, dont_know) columns, in ANSWER_VALUE_COLUMNS order."""
    if question_type in SINGLE_CODE_TYPES:
        return value, None, None, False
    if question_type in NUMBER_TYPES:
        return None, value, None, value is None
    if question_type in TEXT_TYPES:
        return None, None, value, False
    return None, None, None, False  # multiple choice and ranking: their options are in answer_selection


def answer_row(question_type: QuestionType, value: Value) -> dict[str, object]:
    return dict(zip(ANSWER_VALUE_COLUMNS, answer_cells(question_type, value), strict=True))


NUMBER_TYPES = frozenset({QuestionType.scale, QuestionType.number})


class KnownResponse(NamedTuple):
    """A stored response with a client UUID the batch also holds: a resend, or a conflicting one."""

    client_uuid: str
    content_hash: str
    receipt: str
    id: int


def store_responses(session: Session, items: Sequence[NewResponse]) -> list[Stored]:
    """Insert a batch in the session's transaction. Known client UUIDs are answered without writing.
    Raises IntegrityError if another process inserted one of the UUIDs meanwhile; the caller
    then retries item by item."""
    uuids = [item.client_uuid for item in items]
    existing = {
        row[0]: KnownResponse(*row)
        for row in driver_rows(session, "SELECT client_uuid, content_hash, receipt, id FROM response"
                               " WHERE client_uuid IN ({})", uuids)
    }
    results: list[Stored | None] = []
    fresh: list[tuple[int, NewResponse]] = []
    seen_in_batch: dict[str, int] = {}
    for index, item in enumerate(items):
        known = existing.get(item.client_uuid)
        if known is not None:
            outcome = Outcome.duplicate if known.content_hash == item.content_hash else Outcome.conflict
            results.append(Stored(outcome, known.receipt if outcome == Outcome.duplicate else None, known.id))
        elif item.client_uuid in seen_in_batch:
            results.append(None)  # resolved after the first copy is inserted
        else:
            seen_in_batch[item.client_uuid] = index
            results.append(None)
            fresh.append((index, item))
    fresh = _claim_invitations(session, fresh, results)
    if fresh:
        _insert_fresh(session, fresh, results)
    # A response refused for its used code keeps its draft: the answers are not thrown away.
    finished_drafts = [
        item.draft_token
        for item, result in zip(items, results, strict=True)
        if item.draft_token and not (result and result.outcome == Outcome.invitation_used)
    ]
    if finished_drafts:
        note_write(session)
        driver_rows(session, f"DELETE FROM {ResponseDraft.__tablename__} WHERE token IN ({{}})", finished_drafts)
    for index, item in enumerate(items):
        if results[index] is None:
            first = results[seen_in_batch[item.client_uuid]]
            assert first is not None
            same = items[seen_in_batch[item.client_uuid]].content_hash == item.content_hash
            results[index] = (
                first
                if first.outcome == Outcome.invitation_used
                else Stored(Outcome.duplicate, first.receipt, first.response_id)
                if same
                else Stored(Outcome.conflict, None, first.response_id)
            )
    return [r for r in results if r is not None]


def _claim_invitations(
    session: Session, fresh: list[tuple[int, NewResponse]], results: list[Stored | None]
) -> list[tuple[int, NewResponse]]:
    """Mark the new responses' invitation codes used; a response whose code another response
    used first is not stored. In the batch's transaction, so a failed batch frees its codes."""
    if not any(item.invitation_id for _, item in fresh):
        return fresh
    from consult.campaigns.invitations import claim

    kept = []
    for index, item in fresh:
        if item.invitation_id is None or claim(session, invitation_id=item.invitation_id):
            kept.append((index, item))
        else:
            results[index] = Stored(Outcome.invitation_used, None)
    return kept


RESPONSE_COLUMNS = (
    "survey_id", "client_uuid", "content_hash", "receipt", "channel", "campaign_tag", "event_name", "language",
    "started_at", "submitted_at", "consent_quote", "status", "review_state", "source_hash", "entered_by_id",
)  # fmt: skip


def _insert_fresh(session: Session, fresh: list[tuple[int, NewResponse]], results: list[Stored | None]) -> None:
    receipts = [new_token() for _ in fresh]
    stamp = _timestamp_writer(session)
    response_rows = [
        (
            item.spec.id, item.client_uuid, item.content_hash, receipt, item.channel.value, item.campaign_tag,
            item.event_name, item.language, stamp(item.started_at), stamp(item.submitted_at),
            item.consent_quote, "submitted", "received", item.source_hash, item.entered_by_id,
        )  # fmt: skip
        for (_, item), receipt in zip(fresh, receipts, strict=True)
    ]
    insert_rows(session, Response.__tablename__, RESPONSE_COLUMNS, response_rows)
    inserted = [(response_id,) for response_id in _new_response_ids(session, [item.client_uuid for _, item in fresh])]
    answer_rows: list[tuple] = []
    selection_rows: list[tuple] = []
    for (index, item), receipt, (response_id,) in zip(fresh, receipts, inserted, strict=True):
        results[index] = Stored(Outcome.created, receipt, response_id)
        by_code = item.spec.by_code
        for code, value in item.values.items():
            question = by_code[code]
            answer_rows.append((response_id, question.id, *answer_cells(question.type, value)))
            if question.type in LIST_TYPES and isinstance(value, list):
                selection_rows.extend(
                    (response_id, question.id, code, rank) for rank, code in enumerate(value, start=1)
                )
    insert_rows(session, Answer.__tablename__, ("response_id", "question_id", *ANSWER_VALUE_COLUMNS), answer_rows)
    selection_columns = ("response_id", "question_id", "choice", "rank")
    insert_rows(session, AnswerSelection.__tablename__, selection_columns, selection_rows)
    identity_rows = [
        (response_id, item.identity["name"], item.identity.get("email"), item.identity.get("organisation"))
        for (_, item), (response_id,) in zip(fresh, inserted, strict=True) if item.identity
    ]
    insert_rows(session, ResponseIdentity.__tablename__, ("response_id", "name", "email", "organisation"),
                identity_rows)


ANSWER_VALUE_COLUMNS = ("choice", "number", "text", "dont_know")


def _new_response_ids(session: Session, client_uuids: list[str]) -> list[int]:
    """The ids of the responses just inserted, in order. On SQLite the batch holds the only write
    lock and rows without a given id get the largest id plus one, so the ids are the last one
    and those before it. On PostgreSQL other transactions draw from the same sequence meanwhile:
    the ids are read back by client UUID (unique), one indexed read instead of a RETURNING per row."""
    if session.get_bind().dialect.name == "sqlite":
        ((last,),) = driver_rows(session, "SELECT last_insert_rowid()", [])
        return list(range(last - len(client_uuids) + 1, last + 1))
    ids = dict(driver_rows(session, "SELECT client_uuid, id FROM response WHERE client_uuid IN ({})", client_uuids))
    return [ids[uuid] for uuid in client_uuids]


def _timestamp_writer(session: Session) -> Callable[[datetime | None], object]:
    """The dialect's own conversion of a timestamp column's values, for plain DBAPI inserts."""
    dialect = session.get_bind().dialect
    column_type = Response.__table__.c.submitted_at.type
    return column_type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)


USE_COPY = True  # tests/bench/bench_write.py compares it with executemany


def insert_rows(session: Session, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Rows inserted with the driver itself, in the session's transaction: used for answer rows, some
    twenty per response, where SQLAlchemy's per-row parameter handling costs more than the database.
    PostgreSQL takes them with COPY, which spares the server a statement per row."""
    if not rows:
        return
    note_write(session)
    postgres = session.connection().dialect.name == "postgresql" and USE_COPY
    names = ", ".join(columns)
    sql = (f"COPY {table} ({names}) FROM STDIN" if postgres
           else f"INSERT INTO {table} ({names}) VALUES ({', '.join([_marker(session)] * len(columns))})")
    with _driver_cursor(session, sql) as cursor:
        if postgres:
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, rows)


def driver_rows(session: Session, sql: str, values: Sequence[Any]) -> list[tuple]:
    """The rows of `sql`, whose one ``{}`` becomes a placeholder per value (an IN list), run by the
    driver in the session's transaction: the batch writer's lookups, where building and compiling
    a SQLAlchemy statement for each batch cost more than the query.

    On PostgreSQL they are planned afresh each time. psycopg prepares a statement it has run five
    times, and the server then keeps one generic plan for it: planned while the table was small,
    that plan is a sequential scan, kept as the table grows (2-9 ms a lookup at 10,000 responses
    instead of 0.1 ms), whether the keys go as an IN list or as one array."""
    sql = sql.format(", ".join([_marker(session)] * len(values)))
    with _driver_cursor(session, sql) as cursor:
        if session.connection().dialect.name == "postgresql":
            cursor.execute(sql, tuple(values), prepare=False)
        else:
            cursor.execute(sql, tuple(values))
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


def _marker(session: Session) -> str:
    return "?" if session.connection().dialect.paramstyle == "qmark" else "%s"


@contextmanager
def _driver_cursor(session: Session, sql: str) -> Iterator[Any]:
    connection = session.connection()
    cursor = connection.connection.cursor()
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        yield cursor
    except dbapi_error as error:
        # As SQLAlchemy reports it (IntegrityError, OperationalError, ...): a response another
        # process stored meanwhile must reach the callers' retry, not fail the whole batch.
        raise DBAPIError.instance(sql, None, error, dbapi_error) from error
    finally:
        cursor.close()


def store_one(session_factory, item: NewResponse) -> Stored:  # type: ignore[no-untyped-def]
    """Store one response in its own transaction, answering a concurrent duplicate correctly."""
    for _attempt in range(3):
        try:
            with session_factory() as session:
                result = store_responses(session, [item])[0]
                session.commit()
                return result
        except IntegrityError:
            continue  # another process won the race; the next attempt sees its row
    raise RuntimeError("could not store response")


def request_source_hash(request) -> str:  # type: ignore[no-untyped-def]
    from consult.config import get_settings

    client = request.client.host if request.client else None
    return source_hash(secret=get_settings().secret_key, ip=client, user_agent=request.headers.get("user-agent"))


DEFAULT_SUBMIT_RATE = "60/minute"


def hit_submission_limit(*, source: str) -> RateVerdict:
    """Public submissions and survey starts per source (the keyed hash of address and browser).
    Generous for a household or a kiosk, a wall for a script; CONSULT_SUBMIT_RATE sets it."""
    item = ratelimit.rate_item(ratelimit.configured_rate("CONSULT_SUBMIT_RATE", DEFAULT_SUBMIT_RATE))
    return ratelimit.hit(item, "submit", source)
