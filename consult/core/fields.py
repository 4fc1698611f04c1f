"""Column helpers shared by every domain's tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def localized(nullable: bool = False) -> Any:
    """A per-language text stored as {"sv": ..., "en": ...}; Swedish is always present."""
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=nullable))


def json_field(default_factory: Any = dict, nullable: bool = True) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=nullable))


def timestamp(nullable: bool = True, index: bool = False, default_now: bool = False) -> Any:
    """A timezone-aware timestamp column (SQLite stores it as text, PostgreSQL as timestamptz)."""
    return Field(
        default_factory=utcnow if default_now else lambda: None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index),
    )


def pick(text: dict[str, str] | None, language: str) -> str:
    """The text in the wanted language, falling back to Swedish, then to any language."""
    if not text:
        return ""
    return text.get(language) or text.get("sv") or next(iter(text.values()), "")
