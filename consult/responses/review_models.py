"""Tables of the review workflow: the earlier versions of edited responses, review-state
changes with their comments, and flags analysts should see (bursts from one source)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from consult.core.fields import json_field, timestamp


class ResponseEdit(SQLModel, table=True):
    """One correction of a response: the answers before it and what changed, per question code."""

    __tablename__ = "response_edit"
    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    version: int  # the version this edit replaced; the first submission is version 1
    edited_at: datetime | None = timestamp(nullable=False, default_now=True)
    edited_by_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    previous: dict[str, Any] = json_field(dict, nullable=False)  # CODE: value before the edit
    changes: dict[str, Any] = json_field(dict, nullable=False)  # CODE: [old, new]


class ReviewEvent(SQLModel, table=True):
    """A review-state change set by staff, with their comment."""

    __tablename__ = "review_event"
    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    at: datetime | None = timestamp(nullable=False, default_now=True)
    user_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    from_state: str = Field(max_length=12)
    to_state: str = Field(max_length=12)
    comment: str = Field(default="", max_length=2000)


class ResponseFlag(SQLModel, table=True):
    """Marks for analysts. A flag never blocks or removes a response."""

    __tablename__ = "response_flag"
    response_id: int = Field(foreign_key="response.id", primary_key=True)
    burst: bool = False  # one source sent more answers than the threshold within the window
    flagged_at: datetime | None = timestamp(nullable=False, default_now=True)
