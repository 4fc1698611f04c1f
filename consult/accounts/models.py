"""Staff accounts and the audit log of what staff do."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from consult.core.fields import json_field, timestamp


class Role(StrEnum):
    admin = "admin"
    analyst = "analyst"
    interviewer = "interviewer"


class User(SQLModel, table=True):
    __tablename__ = "staff_user"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)  # stored lower-case
    name: str = Field(default="", max_length=200)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=255)  # argon2id, encoded with its parameters
    active: bool = True
    # Set by an admin's new account or reset: the holder must choose their own password before
    # anything else (see deps.require_role). Never set by the CLI, the demo or one's own change.
    password_temporary: bool = False
    # Logins that began before this moment have ended (set when the password is reset by e-mail:
    # whoever knew the old one is logged out everywhere). Whole seconds, as the session keeps them.
    sessions_since: datetime | None = timestamp()
    created_at: datetime | None = timestamp(nullable=False, default_now=True)
    last_login_at: datetime | None = timestamp()

    @property
    def display_name(self) -> str:
        return self.name or self.email


class PasswordResetToken(SQLModel, table=True):
    """A link sent to a staff member who forgot their password. The token itself is only in the
    mail: the table keeps its SHA-256, the account, when it expires and when it was used."""

    __tablename__ = "password_reset_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime | None = timestamp(nullable=False, default_now=True)
    expires_at: datetime | None = timestamp(nullable=False)
    used_at: datetime | None = timestamp()


class AuditAction(StrEnum):
    """The actions accounts writes itself; other domains add their own strings (response.edit, export...)."""

    login = "login"
    login_failed = "login_failed"
    login_blocked = "login_blocked"
    logout = "logout"
    password_reset_requested = "user.password_reset_requested"
    password_reset_done = "user.password_reset_done"


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_action_at", "action", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = timestamp(nullable=False, index=True, default_now=True)
    user_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    action: str = Field(max_length=40)
    target: str = Field(default="", max_length=200)  # e.g. "response:123"
    details: dict[str, Any] | None = json_field()
    # Keyed hash of the client address: lets an admin see that attempts came from one place
    # without the log holding the address itself.
    ip_hash: str = Field(default="", max_length=64)
