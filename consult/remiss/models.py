"""The remiss: organisations, rounds of formal consultation on a draft strategy version, each
organisation's invitation (its personal link) and its answer.

The draft itself is not stored here: it is the round's strategy version, whose StrategyItem
rows (goal areas, priorities, principles and prose sections) are the sections answers refer to.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from consult.core.fields import json_field, localized, timestamp


class Position(StrEnum):
    """An organisation's position on one priority."""

    agree = "agree"  # Instämmer
    partly = "partly"  # Instämmer delvis
    disagree = "disagree"  # Instämmer inte
    abstain = "abstain"  # Avstår


class AnswerStatus(StrEnum):
    draft = "draft"  # also an answer nobody has saved yet (version 0)
    submitted = "submitted"


class CommentTarget(StrEnum):
    priority = "priority"
    principle = "principle"
    overall = "overall"
    section = "section"  # anchored to a section, possibly to a quoted passage of it


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    actor_type: str = Field(max_length=60)  # one of the seed's actor types
    area: str = Field(default="", max_length=200)  # municipality or area served
    email: str = Field(default="", max_length=254)
    created_at: datetime | None = timestamp(nullable=False, default_now=True)


class RemissRound(SQLModel, table=True):
    __tablename__ = "remiss_round"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)  # in the public address /remiss/{key}
    version_id: int = Field(foreign_key="strategy_version.id", index=True)
    cycle_id: int | None = Field(default=None, foreign_key="review_cycle.id")
    title: dict = localized()
    intro: dict = localized(nullable=True)
    opens_at: datetime | None = timestamp()
    deadline: datetime | None = timestamp(nullable=False)  # answers after it are accepted and marked late
    closes_at: datetime | None = timestamp()  # after it the personal links no longer work
    created_at: datetime | None = timestamp(nullable=False, default_now=True)


class RemissInvitation(SQLModel, table=True):
    """One organisation's personal link for one round. The link's token is never stored: it is
    an HMAC of `token_nonce` under the app's secret key, and only its SHA-256 is kept for look-up
    (see service.link_token)."""

    __tablename__ = "remiss_invitation"
    __table_args__ = (UniqueConstraint("round_id", "organisation_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="remiss_round.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    token_nonce: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime | None = timestamp(nullable=False, default_now=True)
    invited_at: datetime | None = timestamp()
    reminded_at: datetime | None = timestamp()
    mail_error: str = Field(default="", max_length=300)


class RemissAnswer(SQLModel, table=True):
    """The organisation's answer: a draft (content as JSON, with a version number that guards
    against two people overwriting each other) until it is submitted; on submit its positions and
    comments are also written to RemissPosition / RemissComment for counting and reading."""

    __tablename__ = "remiss_answer"
    __table_args__ = (Index("ix_remiss_answer_round_status", "round_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="remiss_round.id")
    invitation_id: int = Field(foreign_key="remiss_invitation.id", unique=True)
    status: str = Field(default=AnswerStatus.draft.value, max_length=12)
    version: int = 0
    content: dict[str, Any] = json_field(dict, nullable=False)
    consent_publish: bool | None = None
    published: bool = False
    published_at: datetime | None = timestamp()
    updated_at: datetime | None = timestamp()
    submitted_at: datetime | None = timestamp()
    late: bool = False
    receipt: str | None = Field(default=None, max_length=32, unique=True)
    attachment_sha256: str | None = Field(default=None, max_length=64)
    attachment_name: str | None = Field(default=None, max_length=200)
    attachment_size: int | None = None


class RemissPosition(SQLModel, table=True):
    __tablename__ = "remiss_position"
    __table_args__ = (UniqueConstraint("answer_id", "item_key"),)
    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="remiss_answer.id", index=True)
    item_key: str = Field(max_length=64, index=True)
    position: str = Field(max_length=12)


class RemissComment(SQLModel, table=True):
    __tablename__ = "remiss_comment"
    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="remiss_answer.id", index=True)
    target: str = Field(max_length=12)
    section_key: str | None = Field(default=None, max_length=64, index=True)  # None for the draft as a whole
    quote: str | None = None
    start_offset: int | None = None
    end_offset: int | None = None
    text: str
    ordinal: int = 0
