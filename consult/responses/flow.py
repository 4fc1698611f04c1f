"""The page-by-page answering flow, as plain functions: what a page shows, what a submitted
page changes, and where the respondent goes next."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consult.core.formatting import typed_number
from consult.responses.validation import (
    FieldError,
    Parsed,
    Value,
    answer_errors,
    check_required,
    coerce_value,
    drop_hidden,
    leaf_met,
    parse_form_answers,
    typed_form_values,
    visible_codes,
)
from consult.surveys.schema import (
    AllOf,
    AnyOf,
    Condition,
    ConditionSpec,
    NotCondition,
    QuestionSpec,
    SurveySpec,
    condition_parts,
    referenced_questions,
)

# The draft's key for answers kept as typed but not yet valid (four ticks where three are allowed,
# "12 years" for a number): Back and the language switch never check a page, and never lose what
# was entered on it either. Such answers are shown again on their page and checked when it is sent
# with Next; the last page's Next sends the respondent back to them. No question code has a "#".
UNCHECKED = "#unchecked"


@dataclass
class PageOutcome:
    answers: dict[str, Value]  # every page's answers after this submission
    errors: list[FieldError] = field(default_factory=list)
    next_page: int | None = None  # None when the survey is complete
    error_page: int | None = None  # set when an earlier page needs attention at the end
    typed: dict[str, Any] = field(default_factory=dict)  # the page as submitted, shown again on error


def questions_on_page(spec: SurveySpec, page: int, answers: dict[str, Value]) -> list[QuestionSpec]:
    """The page's questions a respondent should see, given earlier pages' answers.

    A question whose condition also tests answers on this same page is shown, carrying what is
    left of its condition once the earlier pages' tests are decided; the browser script hides
    it while that remainder does not hold, and on submit the server drops it if it does not
    apply (so without JavaScript it is simply shown)."""
    codes_here = {q.code for q in spec.pages[page - 1].questions}
    visible = visible_codes(spec, answers)

    def decided(test: ConditionSpec) -> bool | None:
        if test.question in codes_here or test.question not in visible:
            return None  # left to the page, or never asked: stays in the remainder
        return leaf_met(test, answers)

    shown: list[QuestionSpec] = []
    shown_codes: set[str] = set()
    for question in spec.pages[page - 1].questions:
        rest = _remainder(question.condition, decided) if question.condition is not None else True
        # What is left tests only questions not shown here or hidden earlier when it names
        # none shown on this page, and such tests never hold: nothing could show the question.
        if rest is False or (rest is not True and not shown_codes.intersection(referenced_questions(rest))):
            continue
        unchanged = rest is question.condition or (rest is True and question.condition is None)
        shown.append(question if unchanged else _with_condition(question, rest))
        shown_codes.add(question.code)
    return shown


def _with_condition(question: QuestionSpec, condition: Condition | bool) -> QuestionSpec:
    return question.model_copy(update={"condition": None if condition is True else condition})


def _remainder(condition: Condition, decided: Callable[[ConditionSpec], bool | None]) -> Condition | bool:
    """The condition with the tests `decided` knows replaced by their value and simplified away.
    True and False are exact (Kleene logic: false decides `and`, true decides `or`); what is
    left only tests questions `decided` returned None for."""
    if isinstance(condition, ConditionSpec):
        known = decided(condition)
        return condition if known is None else known
    if isinstance(condition, NotCondition):
        inner = _remainder(condition.negated, decided)
        if isinstance(inner, bool):
            return not inner
        return condition if inner is condition.negated else NotCondition(negated=inner)
    is_any = isinstance(condition, AnyOf)
    parts = condition_parts(condition)
    decisive, neutral = (True, False) if is_any else (False, True)
    kept: list[Condition] = []
    for part in parts:
        rest = _remainder(part, decided)
        if rest is decisive:
            return decisive
        if rest is not neutral:
            kept.append(rest)  # type: ignore[arg-type]
    if not kept:
        return neutral
    if len(kept) == 1:
        return kept[0]
    if len(kept) == len(parts) and all(a is b for a, b in zip(kept, parts, strict=True)):
        return condition
    return AnyOf(any=tuple(kept)) if is_any else AllOf(all=tuple(kept))


def submit_page(
    spec: SurveySpec, *, page: int, stored: dict[str, Value], form: Any, keep_to: int | None = None
) -> PageOutcome:
    """The page's answers merged into the stored ones, checked, and the page to go to. With
    `keep_to` (Back, or the language switch, which shows the same page again) nothing is checked:
    what parses is kept, what does not is kept as typed (under UNCHECKED), and the respondent goes
    to that page without being held up."""
    page_questions = spec.pages[page - 1].questions
    parsed = parse_form_answers(page_questions, form)
    page_codes = {q.code for q in page_questions}
    unchecked = {code: raw for code, raw in stored.get(UNCHECKED, {}).items() if code not in page_codes}
    merged = {code: value for code, value in stored.items() if code not in page_codes and code != UNCHECKED}
    merged.update(parsed.values)
    if keep_to is not None:
        typed = typed_form_values(page_questions, form)
        unchecked.update({e.field: typed[e.field] for e in parsed.errors if e.field in typed})
        if unchecked:
            merged[UNCHECKED] = unchecked
        return PageOutcome(answers=merged, next_page=min(max(keep_to, 1), len(spec.pages)))
    if unchecked:
        merged[UNCHECKED] = unchecked  # other pages' answers still waiting to be checked
    visible = visible_codes(spec, merged)
    # The same rule as every channel: a question hidden by the answers (on this page, or changed
    # on an earlier one) is neither checked nor required, and its answer is dropped at the end.
    errors = answer_errors(spec, Parsed(values=merged, errors=parsed.errors), codes=page_codes, visible=visible)
    if errors:
        return PageOutcome(answers=merged, errors=errors, next_page=page, typed=typed_form_values(page_questions, form))
    if page < len(spec.pages):
        return PageOutcome(answers=merged, next_page=page + 1)
    # Last page: the whole response must hold together, since earlier answers decide conditions.
    now_valid, pending = check_unchecked(spec, unchecked, visible)
    merged.update(now_valid)
    held = {e.field for e in pending}
    missing = pending + [e for e in check_required(spec, merged, visible=visible) if e.field not in held]
    if missing:
        first = min(spec.page_of(e.field) for e in missing)
        missing.sort(key=lambda e: [q.code for q in spec.questions].index(e.field))
        return PageOutcome(answers=merged, errors=missing, next_page=first, error_page=first)
    return PageOutcome(answers=drop_hidden(spec, merged, visible=visible), next_page=None)


def check_unchecked(
    spec: SurveySpec, unchecked: dict[str, Any], visible: set[str]
) -> tuple[dict[str, Value], list[FieldError]]:
    """The answers kept unchecked, for questions still shown, checked: the ones now valid (the
    survey changed since) and what is wrong with the others."""
    values: dict[str, Value] = {}
    errors: list[FieldError] = []
    for code, raw in unchecked.items():
        question = spec.by_code.get(code)
        if question is None or code not in visible:
            continue
        value, error = coerce_value(question, raw)
        if error:
            errors.append(error)
        elif value != "":
            values[code] = value
    return values, errors


def form_values_for_template(answers: dict[str, Value]) -> dict[str, Any]:
    """Answers as the templates check them: choice codes as strings, lists as sets of strings.
    Answers kept unchecked are shown as they were typed."""
    shown: dict[str, Any] = {}
    for code, value in answers.items():
        if code == UNCHECKED:
            continue
        if isinstance(value, list):
            shown[code] = [str(v) for v in value]
        elif isinstance(value, float):
            shown[code] = typed_number(value)
        elif value is None:
            shown[code] = "dk"
        else:
            shown[code] = str(value)
    shown.update(answers.get(UNCHECKED) or {})  # type: ignore[arg-type]
    return shown
