"""Responses and their answers, stored long: one row per answered question."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from consult.core.fields import json_field, timestamp
from consult.core.i18n import N_


class Channel(StrEnum):
    web = "web"
    campaign = "campaign"
    interview_in_person = "interview_in_person"
    interview_phone = "interview_phone"
    event = "event"
    paper = "paper"
    kiosk = "kiosk"


# How every page, chart and export names a response's channel (a key may be the member or its value).
CHANNEL_LABELS: dict[str, str] = {
    Channel.web: N_("Web"),
    Channel.campaign: N_("Campaign link"),
    Channel.interview_in_person: N_("Interview in person"),
    Channel.interview_phone: N_("Phone interview"),
    Channel.event: N_("Event"),
    Channel.paper: N_("Paper"),
    Channel.kiosk: N_("Kiosk"),
}


class ResponseStatus(StrEnum):
    submitted = "submitted"
    withdrawn = "withdrawn"


class ReviewState(StrEnum):
    received = "received"
    has_issues = "has_issues"
    edited = "edited"
    approved = "approved"
    rejected = "rejected"


class Response(SQLModel, table=True):
    __tablename__ = "response"
    __table_args__ = (
        Index("ix_response_survey_submitted", "survey_id", "submitted_at"),
        # A survey's tags, one index seek each (the workspace's filter list, the campaigns' counts).
        Index("ix_response_survey_tag", "survey_id", "campaign_tag"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # Looked up through the composite indexes it leads (no index of its own to keep up on every
    # submission).
    survey_id: int = Field(foreign_key="survey.id")
    client_uuid: str = Field(max_length=36, unique=True)  # made by the client; resends are idempotent
    content_hash: str = Field(max_length=64)  # tells an identical resend from a conflicting one
    receipt: str = Field(max_length=32, unique=True)
    channel: str = Field(default=Channel.web.value, max_length=24)
    campaign_tag: str | None = Field(default=None, max_length=64)
    event_name: str | None = Field(default=None, max_length=200)
    language: str = Field(default="sv", max_length=5)
    started_at: datetime | None = timestamp()
    submitted_at: datetime | None = timestamp()
    consent_quote: bool | None = None
    status: str = Field(default=ResponseStatus.submitted.value, max_length=12)
    review_state: str = Field(default=ReviewState.received.value, max_length=12)
    # Salted hash of IP address and user agent, never the clear address; kept to flag bursts.
    source_hash: str | None = Field(default=None, max_length=64, index=True)
    entered_by_id: int | None = Field(default=None, index=True)  # the interviewer, when one entered it


class Answer(SQLModel, table=True):
    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("response_id", "question_id"),
        # Covers the results queries (counts per choice, scale values, "vet ej") without reading rows.
        Index("ix_answer_question_choice", "question_id", "choice", "number", "dont_know", "response_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # Found through the unique (response_id, question_id) index, which it leads.
    response_id: int = Field(foreign_key="response.id")
    question_id: int = Field(foreign_key="question.id")
    choice: int | None = None  # single choice and the demographic types
    number: float | None = None  # scale and number
    text: str | None = None
    dont_know: bool = False  # scale answered "vet ej"


class ResponseIdentity(SQLModel, table=True):
    """Who answered, for surveys whose respondents say who they are (identity mode "identified").
    Kept apart from the response so that answers can be read, analysed and exported without names,
    and so that removing a person's identity leaves the statistics whole."""

    __tablename__ = "response_identity"
    response_id: int = Field(foreign_key="response.id", primary_key=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    organisation: str | None = Field(default=None, max_length=200)


class AnswerSelection(SQLModel, table=True):
    """One selected option of a multiple-choice or ranking answer, so options are counted one by one."""

    __tablename__ = "answer_selection"
    __table_args__ = (Index("ix_selection_question_choice", "question_id", "choice", "rank", "response_id"),)
    id: int | None = Field(default=None, primary_key=True)
    # Keyed by response and question (not by the answer row) so a batch of responses is
    # written without reading back every answer's id.
    response_id: int = Field(foreign_key="response.id", index=True)
    question_id: int = Field(foreign_key="question.id")
    choice: int
    rank: int | None = None  # 1 = first, for ranking


class ResponseDraft(SQLModel, table=True):
    """Answers kept page by page so a respondent can resume from a link."""

    __tablename__ = "response_draft"
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    client_uuid: str = Field(max_length=36)
    language: str = Field(default="sv", max_length=5)
    channel: str = Field(default="web", max_length=24)
    campaign_tag: str | None = Field(default=None, max_length=64)
    event_name: str | None = Field(default=None, max_length=200)
    answers: dict = json_field(dict, nullable=False)
    page: int = 1
    started_at: datetime | None = timestamp()
    expires_at: datetime | None = timestamp(index=True)
    source_hash: str | None = Field(default=None, max_length=64)
    # Name, e-mail and organisation given on the start page of an identified survey, until the
    # response is submitted (then in response_identity).
    identity: dict | None = json_field(lambda: None, nullable=True)
    # The invitation code that opened this draft (surveys for invited people only); it is marked
    # used when the response is stored, in the same transaction.
    invitation_id: int | None = Field(default=None, foreign_key="survey_invitation.id")
