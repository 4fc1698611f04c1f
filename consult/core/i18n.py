"""Swedish first, English second: gettext catalogues read from consult/locales/*.po.

The .po files are the source of truth; they are compiled in memory at start-up so no build
step is needed before the server runs.
"""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


def read_catalog(language: str) -> Catalog:
    """All of a language's .po files merged: each domain package may keep its own file
    (messages.po, accounts.po, ...), so parallel work does not fight over one catalogue."""
    merged = Catalog(locale=language)
    for po_file in sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string and not message.fuzzy:
                    merged[message.id] = message
    return merged


@lru_cache
def translations(language: str) -> gettext.NullTranslations:
    catalog = read_catalog(language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def normalise_language(value: str | None) -> str:
    if value:
        short = value.strip().lower()[:2]
        if short in LANGUAGES:
            return short
    return DEFAULT_LANGUAGE


def gettext_for(language: str, message: str) -> str:
    return translations(normalise_language(language)).gettext(message)


def _(message: str) -> str:
    """Translate into the language of the current request."""
    return translations(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where the language is known."""
    return message


def pgettext(context: str, message: str) -> str:
    return translations(current_language.get()).pgettext(context, message)


def language_from_accept(header: str | None) -> str | None:
    """The first of our languages in an Accept-Language header, by the client's order."""
    if not header:
        return None
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return None
