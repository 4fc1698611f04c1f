"""Turn submitted answers (JSON or an HTML form) into clean values, or field errors.

One set of rules for every channel: the API, the survey pages, interviewers and imports.
A clean value is an int (choice code), a list of ints (multiple choice; ranking in order),
a float (scale, number), a str (text), or None (a scale answered "vet ej").
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from consult.core.numbers import as_whole_number
from consult.surveys.models import LIST_TYPES, SINGLE_CODE_TYPES, TEXT_TYPES, ConditionOp, QuestionType
from consult.surveys.schema import Condition, ConditionSpec, QuestionSpec, SurveySpec, evaluate_condition

DONT_KNOW_FORM_VALUE = "dk"
MAX_TEXT_LENGTH = 5000
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")
MAX_SHORT_TEXT_LENGTH = 500

Value = int | float | str | list[int] | None


@dataclass(frozen=True)
class FieldError:
    field: str
    kind: str  # a stable key, translated for people by consult.responses.messages
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Parsed:
    values: dict[str, Value] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    # Questions answered (validly or not) that their conditions hide: the answers were dropped.
    dropped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def leaf_met(test: ConditionSpec, values: Mapping[str, Value]) -> bool:
    """One leaf test against the answers, for a question that was asked."""
    answer = values.get(test.question)
    selected = answer if isinstance(answer, list) else ([answer] if answer is not None else [])
    match test.op:
        case ConditionOp.equals:
            return answer == test.value
        case ConditionOp.includes:
            return test.value in selected
        case ConditionOp.not_:
            return test.value not in selected
    return True


def condition_met(condition: Condition, values: Mapping[str, Value], visible: Collection[str] | None = None) -> bool:
    """Whether a question with this condition is shown. A test on a question outside `visible`
    (never asked) has no truth value, so it cannot make the condition true; see
    consult.surveys.schema.evaluate_condition. Without `visible` every question counts as asked."""

    def test(leaf: ConditionSpec) -> bool | None:
        if visible is not None and leaf.question not in visible:
            return None
        return leaf_met(leaf, values)

    return evaluate_condition(condition, test) is True


def visible_codes(spec: SurveySpec, values: Mapping[str, Value]) -> set[str]:
    """Questions shown given the answers so far. Questions come in order and conditions only
    refer to earlier ones, so one pass decides each question from the ones before it."""
    visible: set[str] = set()
    for question in spec.questions:
        cond = question.condition
        if cond is None or condition_met(cond, values, visible):
            visible.add(question.code)
    return visible


def _text_limit(question: QuestionSpec) -> int:
    if question.max_length:
        return min(question.max_length, MAX_TEXT_LENGTH)  # a survey made elsewhere (XLSForm) may ask for more
    return MAX_TEXT_LENGTH if question.type == QuestionType.long_text else MAX_SHORT_TEXT_LENGTH


def _as_int(raw: Any) -> int | None:
    if type(raw) is str and raw.isdigit() and raw.isascii() and len(raw) <= 18:
        return int(raw)  # what a form posts: plain digits (the rest below reads signs and spaces)
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if abs(raw) < 10**18 else None
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and len(raw) <= 18:
        stripped = raw.strip()
        number = as_whole_number(stripped.removeprefix("-"), 18)
        return None if number is None else (-number if stripped.startswith("-") else number)
    return None


def _as_number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        try:
            number = float(raw)
        except OverflowError:  # a JSON integer of hundreds of digits
            return None
    elif isinstance(raw, str):
        if "_" in raw:  # Python reads "1_000" as 1000; nobody writes a number that way
            return None
        try:
            # Swedish keyboards type a decimal comma.
            number = float(raw.strip().replace(",", ".").replace("\u2212", "-"))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _coerce_codes(question: QuestionSpec, raw: Any) -> tuple[Value, FieldError | None]:
    if question.type in SINGLE_CODE_TYPES:
        code = _as_int(raw)
        if code is None:
            return None, FieldError(question.code, "not_a_choice")
        if code not in question.choice_codes:
            return None, FieldError(question.code, "unknown_choice", {"value": code})
        return code, None
    items = raw if isinstance(raw, list) else [raw]
    codes = [_as_int(item) for item in items]
    if any(code is None for code in codes):
        return None, FieldError(question.code, "not_a_choice")
    unknown = [c for c in codes if c not in question.choice_codes]
    if unknown:
        return None, FieldError(question.code, "unknown_choice", {"value": unknown[0]})
    if len(set(codes)) != len(codes):
        return None, FieldError(question.code, "duplicate_choice")
    if question.max_choices and len(codes) > question.max_choices:
        return None, FieldError(question.code, "too_many", {"max": question.max_choices})
    return [c for c in codes if c is not None], None


def coerce_value(question: QuestionSpec, raw: Any) -> tuple[Value, FieldError | None]:
    """Check one answer's type and range. `raw` is already known to be present."""
    qtype = question.type
    if qtype in SINGLE_CODE_TYPES or qtype in LIST_TYPES:
        return _coerce_codes(question, raw)
    if qtype == QuestionType.scale:
        if raw is None or raw == DONT_KNOW_FORM_VALUE:
            if question.allow_dont_know:
                return None, None
            return None, FieldError(question.code, "no_dont_know")
        value = _as_int(raw)
        low, high = question.scale_range()
        if value is None or not low <= value <= high:
            return None, FieldError(question.code, "scale_range", {"min": low, "max": high})
        return float(value), None
    if qtype == QuestionType.number:
        number = _as_number(raw)
        if number is None:
            return None, FieldError(question.code, "not_a_number")
        if question.whole_numbers and not number.is_integer():
            return None, FieldError(question.code, "not_whole")
        if question.min_value is not None and number < question.min_value:
            return None, FieldError(question.code, "too_small", {"min": float(question.min_value)})
        if question.max_value is not None and number > question.max_value:
            return None, FieldError(question.code, "too_large", {"max": float(question.max_value)})
        return number, None
    if qtype in TEXT_TYPES:
        if not isinstance(raw, str):
            return None, FieldError(question.code, "not_text")
        text = plain_line_breaks(raw.replace("\x00", "")).strip()
        if qtype == QuestionType.short_text:  # a one-line answer stays one line in every table and export
            text = _LINE_BREAKS.sub(" ", text)
        limit = _text_limit(question)
        if len(text) > limit:
            return None, FieldError(question.code, "too_long", {"max": limit, "length": len(text)})
        return text, None
    return None, FieldError(question.code, "unsupported")


def plain_line_breaks(text: str) -> str:
    """Line breaks as one LF each. A browser posts a textarea's line breaks as CRLF, while its
    maxlength counts each as one character: counted and stored as posted, a text the browser let in
    would be refused as too long, and exports would carry stray CRs."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def parse_json_answers(spec: SurveySpec, answers: Mapping[str, Any]) -> Parsed:
    """Answers from the API: {CODE: VALUE}. A key with null means "vet ej" for a scale and
    "no answer" otherwise."""
    parsed = Parsed()
    for code, raw in answers.items():
        question = spec.question(code)
        if question is None:
            parsed.errors.append(FieldError(str(code)[:64], "unknown_question"))
            continue
        if raw is None and question.type == QuestionType.scale:
            value, error = coerce_value(question, None)
        elif is_empty(raw):
            continue
        else:
            value, error = coerce_value(question, raw)
        if error:
            parsed.errors.append(error)
        elif value != "":  # text of spaces alone is no answer, as in the form
            parsed.values[code] = value
    return parsed


def form_values(form: Any, name: str) -> list[Any]:
    """One field's values, in order, from an HTML form (a starlette FormData or a dict of lists)."""
    return form.getlist(name) if hasattr(form, "getlist") else form.get(name, [])


def form_raw_value(question: QuestionSpec, form: Any) -> Any:
    """Read one question's raw value from an HTML form."""
    if question.type == QuestionType.ranking:
        return _ranking_from_form(question, lambda name: form_values(form, name))
    values = form_values(form, question.code)
    if question.type == QuestionType.multiple_choice:
        return [v for v in values if v != ""]
    if len(values) == 1:  # what a page of ours posts
        return values[0] if isinstance(values[0], str) else None
    texts = [v for v in values if isinstance(v, str)]
    if len({text for text in texts if text.strip()}) > 1:
        return FormShapeError("one_value")  # only a hand-made request posts two different answers
    return texts[-1] if texts else None


class FormShapeError(ValueError):
    """A form whose shape no page of ours sends (two answers to a one-answer question, a bad rank)."""


def _ranking_from_form(question: QuestionSpec, getlist: Any) -> Any:
    """Without JavaScript a ranking is one select per option (rank 1..n or blank)."""
    ranked: list[tuple[int, int]] = []
    for choice in question.choices:
        raw = next(iter(getlist(f"{question.code}__{choice.code}")), "")
        if raw in ("", None):
            continue
        rank = _as_int(raw)
        if rank is None or not 1 <= rank <= len(question.choices):
            return FormShapeError("rank_invalid")
        ranked.append((rank, choice.code))
    ranks = [r for r, _ in ranked]
    if len(set(ranks)) != len(ranks):
        return FormShapeError("rank_duplicate")
    return [code for _, code in sorted(ranked)]


def typed_form_values(questions: Iterable[QuestionSpec], form: Any) -> dict[str, Any]:
    """What the person typed or chose, as posted, to show again beside the errors."""
    typed: dict[str, Any] = {}
    for question in questions:
        raw = form_raw_value(question, form)
        if isinstance(raw, list):
            typed[question.code] = [str(v)[:20] for v in raw]
        elif isinstance(raw, str):
            typed[question.code] = raw
    return typed


def parse_form_answers(questions: Iterable[QuestionSpec], form: Any) -> Parsed:
    parsed = Parsed()
    for question in questions:
        raw = form_raw_value(question, form)
        if isinstance(raw, FormShapeError):
            parsed.errors.append(FieldError(question.code, str(raw)))
            continue
        if question.type == QuestionType.scale and raw == DONT_KNOW_FORM_VALUE:
            value, error = coerce_value(question, None)
        elif is_empty(raw) or (isinstance(raw, str) and not raw.strip()):
            continue
        else:
            value, error = coerce_value(question, raw)
        if error:
            parsed.errors.append(error)
        elif value != "":  # spaces or NUL bytes alone are no answer
            parsed.values[question.code] = value
    return parsed


def check_required(
    spec: SurveySpec,
    values: Mapping[str, Value],
    codes: Iterable[str] | None = None,
    *,
    visible: Collection[str] | None = None,
) -> list[FieldError]:
    """Required questions that are visible and unanswered; hidden questions are never required.
    `visible` is visible_codes(spec, values) when the caller already has it."""
    if visible is None:
        visible = visible_codes(spec, values)
    wanted = set(codes) if codes is not None else None
    errors = []
    for question in spec.questions:
        if wanted is not None and question.code not in wanted:
            continue
        if question.required and question.code in visible and question.code not in values:
            errors.append(FieldError(question.code, "required"))
    return errors


def drop_hidden(
    spec: SurveySpec, values: Mapping[str, Value], *, visible: Collection[str] | None = None
) -> dict[str, Value]:
    if visible is None:
        visible = visible_codes(spec, values)
    return {code: value for code, value in values.items() if code in visible}


def answers_required(channel: str) -> bool:
    """A paper questionnaire is entered as the person filled it in: a question they left blank
    stays blank, even one the web survey requires. Interviewers ask every question."""
    return channel != "paper"


def answer_errors(
    spec: SurveySpec,
    parsed: Parsed,
    *,
    required: bool = True,
    codes: Collection[str] | None = None,
    visible: Collection[str] | None = None,
) -> list[FieldError]:
    """The rule every channel follows (the survey pages, both JSON APIs, the interviewer form and
    imports): conditions are decided on the server from the answers that parsed, and a question
    they hide is neither validated nor required, so an error in its answer is no error. What is
    left: errors in answers to shown questions (and to codes that are no question), then shown
    required questions left unanswered (unless `required` is False: a paper form entered as it
    was filled in), limited to `codes` when given, in the order of the questions."""
    if visible is None:
        visible = visible_codes(spec, parsed.values)
    errors = [e for e in parsed.errors if e.field in visible or spec.question(e.field) is None]
    if required:
        failed = {e.field for e in parsed.errors}
        errors += [e for e in check_required(spec, parsed.values, codes, visible=visible) if e.field not in failed]
    order = {question.code: index for index, question in enumerate(spec.questions)}
    return sorted(errors, key=lambda e: order.get(e.field, len(order)))


def validate_complete(spec: SurveySpec, parsed: Parsed, *, required: bool = True) -> Parsed:
    """The final check before a response is stored, by answer_errors; then the answers to hidden
    questions are dropped, and named in `dropped`."""
    visible = visible_codes(spec, parsed.values)
    errors = answer_errors(spec, parsed, required=required, visible=visible)
    if errors:
        return Parsed(values=parsed.values, errors=errors)
    answered = [*parsed.values, *(e.field for e in parsed.errors if e.field not in parsed.values)]
    return Parsed(values=drop_hidden(spec, parsed.values, visible=visible),
                  dropped=[code for code in answered if code not in visible])
