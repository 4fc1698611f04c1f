"""The page-by-page answering flow, as plain functions: what a page shows, what a submitted
page changes, and where the respondent goes next."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consult.responses.validation import (
    FieldError,
    Value,
    check_required,
    drop_hidden,
    form_raw_value,
    parse_form_answers,
    visible_codes,
)
from consult.surveys.schema import QuestionSpec, SurveySpec


@dataclass
class PageOutcome:
    answers: dict[str, Value]  # every page's answers after this submission
    errors: list[FieldError] = field(default_factory=list)
    next_page: int | None = None  # None when the survey is complete
    error_page: int | None = None  # set when an earlier page needs attention at the end
    typed: dict[str, Any] = field(default_factory=dict)  # the page as submitted, shown again on error


def questions_on_page(spec: SurveySpec, page: int, answers: dict[str, Value]) -> list[QuestionSpec]:
    """The page's questions a respondent should see, given earlier answers. Questions whose
    condition depends on this same page are shown, and dropped on submit if they do not apply."""
    codes_here = {q.code for q in spec.pages[page - 1].questions}
    visible = visible_codes(spec, answers)
    shown = []
    for question in spec.pages[page - 1].questions:
        depends_here = question.condition is not None and question.condition.question in codes_here
        if question.code in visible or depends_here:
            shown.append(question)
    return shown


def submit_page(
    spec: SurveySpec, *, page: int, stored: dict[str, Value], form: Any, going_back: bool = False
) -> PageOutcome:
    page_questions = spec.pages[page - 1].questions
    parsed = parse_form_answers(page_questions, form)
    page_codes = {q.code for q in page_questions}
    merged = {code: value for code, value in stored.items() if code not in page_codes}
    merged.update(parsed.values)
    if going_back:
        # Keep what parses so nothing typed is lost, and go back without insisting.
        return PageOutcome(answers=merged, next_page=max(page - 1, 1))
    typed = _typed_values(page_questions, form)
    failed = {e.field for e in parsed.errors}
    errors = parsed.errors + [e for e in check_required(spec, merged, page_codes) if e.field not in failed]
    errors.sort(key=lambda e: [q.code for q in page_questions].index(e.field))
    if errors:
        return PageOutcome(answers=merged, errors=errors, next_page=page, typed=typed)
    if page < len(spec.pages):
        return PageOutcome(answers=merged, next_page=page + 1)
    # Last page: the whole response must hold together, since earlier answers decide conditions.
    missing = check_required(spec, merged)
    if missing:
        first = min(spec.page_of(e.field) for e in missing)
        return PageOutcome(answers=merged, errors=missing, next_page=first, error_page=first)
    return PageOutcome(answers=drop_hidden(spec, merged), next_page=None)


def _typed_values(questions: tuple[QuestionSpec, ...], form: Any) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for question in questions:
        raw = form_raw_value(question, form)
        if isinstance(raw, list):
            typed[question.code] = [str(v)[:20] for v in raw]
        elif isinstance(raw, str):
            typed[question.code] = raw
    return typed


def form_values_for_template(answers: dict[str, Value]) -> dict[str, Any]:
    """Answers as the templates check them: choice codes as strings, lists as sets of strings."""
    shown: dict[str, Any] = {}
    for code, value in answers.items():
        if isinstance(value, list):
            shown[code] = [str(v) for v in value]
        elif isinstance(value, float) and value.is_integer():
            shown[code] = str(int(value))
        elif value is None:
            shown[code] = "dk"
        else:
            shown[code] = str(value)
    return shown
