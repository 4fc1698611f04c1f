"""Answers kept page by page, so a respondent can leave and resume from a link."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session

from consult.core.fields import utcnow
from consult.db import KeyedReads, fetch_one
from consult.responses.models import ResponseDraft
from consult.responses.service import new_token


@dataclass(frozen=True)
class DraftUpdate:
    token: str
    answers: dict
    page: int
    language: str | None = None  # the language the respondent goes on in, when it changed


def start_draft(
    session: Session,
    *,
    survey_id: int,
    language: str,
    channel: str = "web",
    campaign_tag: str | None = None,
    event_name: str | None = None,
    source_hash: str | None = None,
    days: int = 7,
    identity: dict | None = None,
    invitation_id: int | None = None,
) -> ResponseDraft:
    now = utcnow()
    draft = ResponseDraft(
        token=new_token(),
        survey_id=survey_id,
        client_uuid=str(uuid.uuid4()),
        language=language,
        channel=channel,
        campaign_tag=campaign_tag,
        event_name=event_name,
        answers={},
        page=1,
        started_at=now,
        expires_at=now + timedelta(days=days),
        source_hash=source_hash,
        identity=identity,
        invitation_id=invitation_id,
    )
    session.add(draft)
    session.flush()
    return draft


@dataclass(frozen=True)
class DraftView:
    """A draft as the survey pages read it."""

    token: str
    survey_id: int
    client_uuid: str
    language: str
    channel: str
    campaign_tag: str | None
    event_name: str | None
    answers: dict
    page: int
    started_at: datetime | None
    expires_at: datetime | None
    source_hash: str | None
    identity: dict | None = None  # name, e-mail, organisation: identified surveys only
    invitation_id: int | None = None  # the code it was started with: surveys for invited people only


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):  # SQLite keeps timestamps as text
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


DRAFT_COLUMNS = (
    "token, survey_id, client_uuid, language, channel, campaign_tag, event_name, answers, page,"
    " started_at, expires_at, source_hash, identity, invitation_id"
)
_draft_reads = KeyedReads(f"SELECT {DRAFT_COLUMNS} FROM response_draft", "token")


def get_draft(*, token: str, survey_id: int) -> DraftView | None:
    """The unexpired draft with this token (for code off the event loop). Survey page views read
    drafts with read_draft instead."""
    row = fetch_one(
        f"SELECT {DRAFT_COLUMNS} FROM response_draft WHERE token = :token AND survey_id = :survey_id",
        {"token": token, "survey_id": survey_id},
    )
    return _live_draft(row, survey_id)


async def read_draft(*, token: str, survey_id: int) -> DraftView | None:
    """get_draft for a request on the event loop: every survey page view reads one, so these
    reads are batched on PostgreSQL (consult.db.KeyedReads)."""
    return _live_draft(await _draft_reads.get(token), survey_id)


async def close_draft_reads() -> None:
    await _draft_reads.close()


def _live_draft(row: dict | None, survey_id: int) -> DraftView | None:
    if row is None or row["survey_id"] != survey_id:
        return None
    answers, identity = row["answers"], row["identity"]
    draft = DraftView(
        **{
            **row,
            "answers": json.loads(answers) if isinstance(answers, str | bytes) else answers,
            "identity": json.loads(identity) if isinstance(identity, str | bytes) else identity,
            "started_at": _as_datetime(row["started_at"]),
            "expires_at": _as_datetime(row["expires_at"]),
        }
    )
    if draft.expires_at is not None and draft.expires_at < utcnow():
        return None
    return draft


def save_draft_updates(session: Session, updates: list[DraftUpdate]) -> list[bool]:
    """Batch handler for the writer: store each draft's answers and furthest page."""
    results = []
    for item in updates:
        values = {"answers": item.answers, "page": item.page}
        if item.language is not None:
            values["language"] = item.language
        result = session.execute(update(ResponseDraft).where(ResponseDraft.token == item.token).values(**values))
        results.append(result.rowcount == 1)
    return results


def delete_draft(session: Session, *, token: str) -> None:
    session.execute(delete(ResponseDraft).where(ResponseDraft.token == token))


def purge_expired_drafts(session: Session, *, now: datetime | None = None) -> int:
    result = session.execute(delete(ResponseDraft).where(ResponseDraft.expires_at < (now or utcnow())))
    return result.rowcount or 0
