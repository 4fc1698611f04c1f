"""Answers kept page by page, so a respondent can leave and resume from a link."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, select

from consult.core.fields import utcnow
from consult.responses.models import ResponseDraft
from consult.responses.service import new_token


@dataclass(frozen=True)
class DraftUpdate:
    token: str
    answers: dict
    page: int


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
    )
    session.add(draft)
    session.flush()
    return draft


def get_draft(session: Session, *, token: str, survey_id: int) -> ResponseDraft | None:
    draft = session.exec(
        select(ResponseDraft).where(ResponseDraft.token == token, ResponseDraft.survey_id == survey_id)
    ).first()
    if draft is None:
        return None
    expires = draft.expires_at
    if expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) < utcnow():
        return None
    return draft


def save_draft_updates(session: Session, updates: list[DraftUpdate]) -> list[bool]:
    """Batch handler for the writer: store each draft's answers and furthest page."""
    results = []
    for item in updates:
        result = session.execute(
            update(ResponseDraft).where(ResponseDraft.token == item.token).values(answers=item.answers, page=item.page)
        )
        results.append(result.rowcount == 1)
    return results


def delete_draft(session: Session, *, token: str) -> None:
    session.execute(delete(ResponseDraft).where(ResponseDraft.token == token))


def purge_expired_drafts(session: Session, *, now: datetime | None = None) -> int:
    result = session.execute(delete(ResponseDraft).where(ResponseDraft.expires_at < (now or utcnow())))
    return result.rowcount or 0
