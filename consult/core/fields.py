"""Column helpers shared by every domain's tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def localized(nullable: bool = False) -> Any:
    """A per-language text stored as {"sv": ..., "en": ...}; Swedish is always present."""
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=nullable))


def json_field(default_factory: Any = dict, nullable: bool = True) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=nullable))


class UtcDateTime(TypeDecorator):
    """A moment stored in UTC and read back timezone-aware. SQLite keeps a timestamp as text without
    its zone, so a Swedish-time value (a remiss deadline, a survey's closing time) stored as it is
    would read back one or two hours off; PostgreSQL's timestamptz converts by itself. A value
    without a zone is taken to be UTC already, as everything here writes them."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def timestamp(nullable: bool = True, index: bool = False, default_now: bool = False) -> Any:
    """A timezone-aware timestamp column (SQLite stores it as text, PostgreSQL as timestamptz)."""
    return Field(
        default_factory=utcnow if default_now else lambda: None,
        sa_column=Column(UtcDateTime(), nullable=nullable, index=index),
    )


def pick(text: dict[str, str] | None, language: str) -> str:
    """The text in the wanted language, falling back to Swedish, then to any language."""
    if not text:
        return ""
    return text.get(language) or text.get("sv") or next(iter(text.values()), "")


# An address with one @, a dot in its domain and nothing that separates addresses in a list.
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
MAX_EMAIL_LENGTH = 254


def is_email(value: str) -> bool:
    """Whether `value` (already stripped) looks like one e-mail address."""
    return len(value) <= MAX_EMAIL_LENGTH and _EMAIL.match(value) is not None


def safe_cell(value: Any) -> Any:
    """Keep spreadsheet programs from running text that starts like a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# A NUL byte cannot be stored in a PostgreSQL text column, and no control character belongs in a
# one-line field (a name, a label, a place).
# Control characters, and the bidirectional controls that can make a name read backwards
# ("‮gnirts" shown as "string") in the staff lists it is copied into.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def one_line(value: str | None) -> str:
    """A one-line field as typed: control characters as spaces, runs of space as one, trimmed."""
    return " ".join(CONTROL_CHARS.sub(" ", value or "").split())
