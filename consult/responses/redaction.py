"""Removing text from a stored free-text answer, with a logged reason (Citizen Space's redaction).

The automatic redaction (`analysis.redact`) finds personnummer, phone numbers, e-mail and street
addresses and introduced names. It cannot know that "min granne Kalle på Storgatan" names someone,
or that an answer tells of another person's illness. An analyst who reads such a passage removes it
here. The text is removed for good, not hidden: from the current answer and from the earlier
versions kept by corrections, so the review workflow's history does not keep what was removed. The
audit log records who, when, which answer, why and how many characters went, never the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from analysis.redact import find_personal_data, placeholder
from consult.accounts.models import AuditEvent
from consult.accounts.service import record_audit
from consult.core.i18n import N_
from consult.core.problems import FieldProblem
from consult.core.redacting import STORED_REMOVED, placeholder_forms
from consult.responses.models import Answer, Response
from consult.responses.review_models import ResponseEdit
from consult.surveys.models import TEXT_TYPES
from consult.surveys.schema import SurveySpec

AUDIT_ACTION = "response.redact"
PLACEHOLDER = STORED_REMOVED
MAX_PHRASE_LENGTH = 1000
REASONS: dict[str, str] = {
    "identity": N_("Names a person or tells who they are"),
    "contact": N_("Contact details the automatic redaction missed"),
    "sensitive": N_("Sensitive personal data (health, beliefs, origin, sexuality)"),
    "offensive": N_("Offensive or threatening content"),
    "other": N_("Other reason"),
}


class RedactionProblem(FieldProblem):
    """Input the redaction cannot use: `field` names the form field, `message` is an English msgid."""


@dataclass(frozen=True)
class Redaction:
    question_code: str
    occurrences: int
    characters: int


@dataclass(frozen=True)
class RedactionRecord:
    at: datetime
    user_id: int | None
    question_code: str
    reason: str
    occurrences: int


_BRACKETED = re.compile(r"\[[^\[\]]{1,60}\]")


def _placeholder_kinds() -> dict[str, str]:
    """A placeholder's words (lower case, single-spaced) -> its kind, for every language's."""
    return {_key(form): kind for kind, forms in placeholder_forms().items() for form in forms}


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _words(text: str) -> str:
    """A regular expression for `text` however the answer breaks or spaces its words."""
    words = text.split()
    if not words:
        return r"\s+" if text else ""
    body = r"\s+".join(re.escape(word) for word in words)
    return (r"\s+" if text[0].isspace() else "") + body + (r"\s+" if text[-1].isspace() else "")


def _any_language(kind: str) -> str:
    """A regular expression for the placeholder of `kind` in any language ("[telefon]", "[phone]")."""
    forms = sorted(placeholder_forms()[kind], key=len, reverse=True)
    return "(?:" + "|".join(_words(form) for form in forms) + ")"


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """The phrase as the analyst typed it, matched regardless of case and of how the answer
    breaks or spaces its words (it was shown to them on one line). A placeholder in it matches the
    same placeholder in any language: the analyst may copy it from the English page."""
    phrase = phrase.strip()
    kinds = _placeholder_kinds()
    parts, previous = [], 0
    for found in _BRACKETED.finditer(phrase):
        kind = kinds.get(_key(found.group()))
        if kind is None:
            continue
        parts += [_words(phrase[previous:found.start()]), _any_language(kind)]
        previous = found.end()
    parts.append(_words(phrase[previous:]))
    return re.compile("".join(parts), re.IGNORECASE)


def remove_phrase(text: str, pattern: re.Pattern[str]) -> tuple[str, list[str]]:
    """`text` with the passages `pattern` finds replaced by the placeholder, and those passages.

    The analyst copies the phrase from the answer as shown, where personal data the automatic
    redaction found is already a placeholder ("ring mig på [telefon]", on an English page "ring mig
    på [phone]"). Such a phrase is found in the answer as shown, and each placeholder in it stands
    for the stored text it hides."""
    matches = pattern.findall(text)
    if matches:
        return pattern.sub(PLACEHOLDER, text), matches
    pieces = _shown_pieces(text)
    shown = "".join(piece for piece, _start, _end, _hidden in pieces)
    ranges = [(_stored_at(pieces, m.start(), start=True), _stored_at(pieces, m.end(), start=False))
              for m in pattern.finditer(shown)]
    if not ranges:
        return text, []
    parts, previous = [], 0
    for start, end in ranges:
        parts += [text[previous:start], PLACEHOLDER]
        previous = end
    return "".join([*parts, text[previous:]]), [text[start:end] for start, end in ranges]


def _shown_pieces(text: str) -> list[tuple[str, int, int, bool]]:
    """The text as the review page shows it, in pieces: (shown text, stored start, stored end,
    whether the piece is a placeholder for personal data)."""
    pieces, previous = [], 0
    for span in find_personal_data(text):
        pieces.append((text[previous:span.start], previous, span.start, False))
        pieces.append((placeholder(span.type), span.start, span.end, True))
        previous = span.end
    pieces.append((text[previous:], previous, len(text), False))
    return pieces


def _stored_at(pieces: list[tuple[str, int, int, bool]], position: int, *, start: bool) -> int:
    """Where a position in the shown text lies in the stored text; inside a placeholder, the whole
    hidden passage is taken."""
    offset = 0
    for shown, stored_start, stored_end, hidden in pieces:
        if offset <= position < offset + len(shown) or (not start and position == offset + len(shown)):
            if hidden:
                return stored_start if start else stored_end
            return stored_start + position - offset
        offset += len(shown)
    return pieces[-1][2]


def redactable_questions(spec: SurveySpec, values: dict[str, Any]) -> list[str]:
    """The codes of the response's free-text answers that have text to remove."""
    return [q.code for q in spec.questions if q.type in TEXT_TYPES and isinstance(values.get(q.code), str)]


def redact_answer(
    session: Session,
    *,
    spec: SurveySpec,
    response_id: int,
    question_code: str,
    phrase: str,
    reason: str,
    user_id: int | None,
    request: Any = None,
) -> Redaction:
    """Replace every occurrence of `phrase` in one free-text answer (and in the answer's earlier
    versions) with a placeholder. Raises RedactionProblem, changing nothing, when the input is unusable."""
    response = session.get(Response, response_id)
    if response is None or response.survey_id != spec.id:
        raise RedactionProblem("question", N_("There is no such response."))
    question = spec.by_code.get(question_code)
    if question is None or question.type not in TEXT_TYPES:
        raise RedactionProblem("question", N_("Choose one of the response's free-text answers."))
    phrase = " ".join(phrase.split())
    if not phrase:
        raise RedactionProblem("phrase", N_("Enter the text to remove."))
    if len(phrase) > MAX_PHRASE_LENGTH:
        raise RedactionProblem("phrase", N_("Shorten the text to at most 1000 characters."))
    if reason not in REASONS:
        raise RedactionProblem("reason", N_("Choose why the text is removed."))
    answer = session.execute(
        select(Answer).where(Answer.response_id == response_id, Answer.question_id == question.id)
    ).scalar_one_or_none()
    pattern = phrase_pattern(phrase)
    text, matches = remove_phrase(answer.text or "", pattern) if answer is not None else ("", [])
    if not matches:
        raise RedactionProblem(
            "phrase", N_("The answer does not contain this text. Copy it from the answer as it is shown.")
        )
    answer.text = text  # type: ignore[union-attr]
    session.add(answer)
    _redact_earlier_versions(session, response_id=response_id, question_code=question.code, pattern=pattern)
    result = Redaction(question.code, len(matches), sum(len(m) for m in matches))
    record_audit(
        session,
        user_id=user_id,
        action=AUDIT_ACTION,
        target=f"response:{response_id}",
        details={
            "question": question.code,
            "reason": reason,
            "occurrences": result.occurrences,
            "characters": result.characters,
        },
        request=request,
    )
    session.flush()
    return result


def _redact_earlier_versions(
    session: Session, *, response_id: int, question_code: str, pattern: re.Pattern[str]
) -> None:
    """The corrections' history keeps the answers as they were; remove the phrase there too."""

    def clean(value: Any) -> Any:
        return remove_phrase(value, pattern)[0] if isinstance(value, str) else value

    edits = session.execute(select(ResponseEdit).where(ResponseEdit.response_id == response_id)).scalars().all()
    for edit in edits:
        previous = dict(edit.previous)
        changes = dict(edit.changes)
        if question_code in previous:
            previous[question_code] = clean(previous[question_code])
        if question_code in changes:
            changes[question_code] = [clean(value) for value in changes[question_code]]
        if previous != edit.previous or changes != edit.changes:
            # Assign new dicts: JSON columns do not notice changes made inside the old ones.
            session.execute(
                update(ResponseEdit).where(ResponseEdit.id == edit.id).values(previous=previous, changes=changes)
            )


def redaction_history(session: Session, *, response_id: int) -> list[RedactionRecord]:
    """The response's redactions from the audit log, oldest first."""
    events = session.execute(
        select(AuditEvent)
        .where(AuditEvent.action == AUDIT_ACTION, AuditEvent.target == f"response:{response_id}")
        .order_by(AuditEvent.id)
    ).scalars()
    return [
        RedactionRecord(
            at=event.at,
            user_id=event.user_id,
            question_code=str((event.details or {}).get("question", "")),
            reason=str((event.details or {}).get("reason", "other")),
            occurrences=int((event.details or {}).get("occurrences", 0)),
        )
        for event in events
        if event.at is not None
    ]
