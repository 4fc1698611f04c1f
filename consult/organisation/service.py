"""The organisation's name: stored once, read through a per-worker cache that the page cache keys on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlmodel import Session, select

from consult.core.i18n import N_
from consult.organisation.models import OrganisationSettings

MAX_NAME = 120


def settings(session: Session) -> OrganisationSettings | None:
    return session.exec(select(OrganisationSettings).order_by(OrganisationSettings.id)).first()  # type: ignore[arg-type]


def check_name(*, sv: str, en: str) -> dict[str, str]:
    """Errors by field ("name_sv", "name_en"); the English name may be left empty (then the Swedish one is used)."""
    errors = {}
    if not sv.strip():
        errors["name_sv"] = N_("Enter the organisation's name in Swedish.")
    for field, value in (("name_sv", sv), ("name_en", en)):
        if len(value.strip()) > MAX_NAME and field not in errors:
            errors[field] = N_("The name can be at most 120 characters long.")
    return errors


def set_name(session: Session, *, sv: str, en: str) -> OrganisationSettings:
    """Store the name (checked with check_name first). The caller commits."""
    row = settings(session) or OrganisationSettings()
    row.name = {"sv": sv.strip(), "en": en.strip() or sv.strip()}
    row.revision = (row.revision or 0) + 1
    session.add(row)
    session.flush()
    name_cache.forget()
    return row


def set_default_name(session: Session, *, name: dict[str, str]) -> None:
    """The name a fresh install gets (the demo's); never over a name someone has saved."""
    if settings(session) is None:
        set_name(session, sv=name["sv"], en=name.get("en", ""))


class NameCache:
    """The name and its revision per worker process. A cheap check at most every `ttl` seconds keeps
    the workers in step after an admin renames the organisation."""

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._value: tuple[int, dict[str, str]] | None = None
        self._checked_at = 0.0
        self.session_factory: Callable[[], AbstractContextManager[Session]] | None = None

    def get(self) -> tuple[int, dict[str, str]]:
        now = time.monotonic()
        with self._lock:
            if self._value is not None and now - self._checked_at < self.ttl:
                return self._value
        value = self._read()
        with self._lock:
            self._value, self._checked_at = value, now
        return value

    def _read(self) -> tuple[int, dict[str, str]]:
        if self.session_factory is None:
            from consult.db import session_scope

            self.session_factory = session_scope
        with self.session_factory() as session:
            row = settings(session)
            return (row.revision, dict(row.name or {})) if row else (0, {})

    def forget(self) -> None:
        with self._lock:
            self._value = None


name_cache = NameCache()


def organisation_name(language: str) -> str:
    """The name in `language`, the Swedish one when that is missing, or "" when none is set."""
    names = name_cache.get()[1]
    return names.get(language) or names.get("sv") or ""


def revision() -> int:
    return name_cache.get()[0]
