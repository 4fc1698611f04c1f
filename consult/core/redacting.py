"""Redacted free text in the reader's language.

`analysis.redact` replaces personal data with a typed placeholder; the words inside the brackets are
Swedish unless the caller passes others. Here they are translated: an English page reads "[email]"
where a Swedish one reads "[e-post]". Text an analyst removed by hand is stored as "[borttaget]"
(`STORED_REMOVED`) and is shown as "[removed]" in English.

Every place that shows or exports redacted text goes through `redact` (or `redact_series`), with the
language of the page, report or file. Code that reads text back from what a person copied off a page
(the manual redaction's phrase) recognises every language's placeholders (`placeholder_forms`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from analysis.redact import ADRESS, EPOST, NAMN, PERSONNUMMER, TELEFON
from analysis.redact import placeholder as default_placeholder
from analysis.redact import redact as redact_text
from analysis.redact import redact_series as redact_text_series
from consult.core.i18n import LANGUAGES, N_, current_language, gettext_for

if TYPE_CHECKING:
    import pandas as pd

REMOVED = "borttaget"  # the kind of the placeholder for text an analyst removed by hand
STORED_REMOVED = default_placeholder(REMOVED)  # what such text is replaced by in the stored answer

# The English placeholder is the msgid; the Swedish translation is the text analysis.redact writes.
MESSAGES: dict[str, str] = {
    PERSONNUMMER: N_("[personal identity number]"),
    TELEFON: N_("[phone]"),
    EPOST: N_("[email]"),
    ADRESS: N_("[address]"),
    NAMN: N_("[name]"),
    REMOVED: N_("[removed]"),
}


@lru_cache
def placeholders(language: str) -> dict[str, str]:
    """Kind of personal data -> its placeholder in `language` ("e-post" -> "[email]" in English)."""
    return {kind: gettext_for(language, message) for kind, message in MESSAGES.items()}


@lru_cache
def placeholder_forms() -> dict[str, frozenset[str]]:
    """Kind -> the placeholder in every language, and as stored or written by analysis.redact."""
    return {
        kind: frozenset({default_placeholder(kind), *(placeholders(language)[kind] for language in LANGUAGES)})
        for kind in MESSAGES
    }


def _language(language: str | None) -> str:
    return language or current_language.get()


def show_removed(text: str, language: str | None = None) -> str:
    """Stored text with the hand-removed passages' placeholder in the reader's language."""
    shown = placeholders(_language(language))[REMOVED]
    return text.replace(STORED_REMOVED, shown) if shown != STORED_REMOVED else text


def redact(text: str, language: str | None = None) -> str:
    """`text` as a reader sees it: personal data replaced by placeholders in `language` (by default
    the request's)."""
    language = _language(language)
    return show_removed(redact_text(text, placeholders(language)), language)


def redact_series(answers: pd.Series, language: str | None = None) -> pd.Series:
    """`redact` for every text in a Series; missing and non-text values are left as they are."""
    language = _language(language)
    redacted = redact_text_series(answers, placeholders(language))
    if placeholders(language)[REMOVED] == STORED_REMOVED:
        return redacted
    return redacted.map(lambda value: show_removed(value, language) if isinstance(value, str) else value)
