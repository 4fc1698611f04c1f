"""The survey definition as plain data: what the demo fixture, the API, imports and the
renderer all share. Workers cache it per survey, so answering needs no database read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, field_validator, model_validator

from consult.core.fields import pick
from consult.surveys.models import (
    CHOICE_TYPES,
    DEMOGRAPHIC_TYPES,
    Access,
    Audience,
    ConditionOp,
    IdentityMode,
    QuestionType,
    SurveyStatus,
)

SCALE_MIN, SCALE_MAX = 1, 5  # a scale's points when the question does not say

Localized = dict[str, str]


class ChoiceSpec(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: int
    label: Localized
    priority_key: str | None = None
    # The choice's name in an imported XLSForm when it was not a number (codes must be), kept
    # so the form exports with the names it came with.
    name: str | None = None

    def text(self, language: str) -> str:
        return pick(self.label, language)


class ConditionSpec(BaseModel):
    """One test on an earlier choice question's answer: the leaf of a display condition.
    `not` means "was asked and did not choose the value" (an unanswered question passes)."""

    model_config = ConfigDict(frozen=True)
    question: str
    op: ConditionOp = ConditionOp.equals
    value: int


# A display condition is a small tree: leaves are ConditionSpec tests, combined with all-of
# (and), any-of (or) and not. Stored as JSON: {"question", "op", "value"} for a leaf (the shape
# single conditions always had), {"all": [...]}, {"any": [...]} and {"not": {...}}.
MAX_CONDITION_DEPTH = 8


class AllOf(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    all: tuple[Condition, ...] = Field(min_length=2, max_length=50)


class AnyOf(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    any: tuple[Condition, ...] = Field(min_length=2, max_length=50)


class NotCondition(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )
    negated: Condition = Field(alias="not")


def _condition_kind(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in ("all", "any", "not"):
            if key in data:
                return key
        return "test"
    kinds = {ConditionSpec: "test", AllOf: "all", AnyOf: "any", NotCondition: "not"}
    return kinds.get(type(data))


Condition = Annotated[
    Union[  # noqa: UP007 - the tagged members read more clearly one per line
        Annotated[ConditionSpec, Tag("test")],
        Annotated[AllOf, Tag("all")],
        Annotated[AnyOf, Tag("any")],
        Annotated[NotCondition, Tag("not")],
    ],
    Discriminator(_condition_kind),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotCondition.model_rebuild()
_CONDITION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Condition)


def load_condition(data: Any) -> Condition:
    """A condition from its stored JSON (old single-test dicts load unchanged); the other way
    is `condition.model_dump(mode="json")`."""
    return _CONDITION_ADAPTER.validate_python(data)


def condition_parts(condition: Condition) -> tuple[Condition, ...]:
    if isinstance(condition, AllOf):
        return condition.all
    if isinstance(condition, AnyOf):
        return condition.any
    if isinstance(condition, NotCondition):
        return (condition.negated,)
    return ()


def condition_tests(condition: Condition) -> Iterator[ConditionSpec]:
    """The leaves, left to right."""
    if isinstance(condition, ConditionSpec):
        yield condition
    for part in condition_parts(condition):
        yield from condition_tests(part)


def referenced_questions(condition: Condition) -> list[str]:
    """The question codes a condition tests, in order of first mention."""
    return list(dict.fromkeys(test.question for test in condition_tests(condition)))


def condition_depth(condition: Condition) -> int:
    return 1 + max((condition_depth(part) for part in condition_parts(condition)), default=0)


def is_compound(condition: Condition | None) -> bool:
    return condition is not None and not isinstance(condition, ConditionSpec)


def normalize_condition(condition: Condition) -> Condition:
    """One way to write each condition, the way an XLSForm `relevant` expression reads back:
    `not` of a single test is that test's `not` op, not(not(x)) is x, and an all-of (any-of)
    inside an all-of (any-of) is merged into it. None of this changes what is shown."""
    if isinstance(condition, ConditionSpec):
        return condition
    if isinstance(condition, NotCondition):
        inner = normalize_condition(condition.negated)
        if isinstance(inner, ConditionSpec) and inner.op != ConditionOp.not_:
            return inner.model_copy(update={"op": ConditionOp.not_})
        if isinstance(inner, NotCondition):
            return inner.negated
        return condition if inner is condition.negated else NotCondition(negated=inner)
    kind = type(condition)
    flat: list[Condition] = []
    for part in condition_parts(condition):
        part = normalize_condition(part)
        flat.extend(condition_parts(part) if type(part) is kind else (part,))
    if flat == list(condition_parts(condition)):
        return condition
    return AnyOf(any=tuple(flat)) if kind is AnyOf else AllOf(all=tuple(flat))


def format_condition(
    condition: Condition, test: Callable[[ConditionSpec], str], *, and_word: str, or_word: str, not_word: str
) -> str:
    """The condition as text for people, each test written by `test`, in the reader's words for
    and / or / not; brackets around every combination inside another."""
    if isinstance(condition, ConditionSpec):
        return test(condition)

    def part_text(part: Condition) -> str:
        text = format_condition(part, test, and_word=and_word, or_word=or_word, not_word=not_word)
        return text if isinstance(part, ConditionSpec) else f"({text})"

    if isinstance(condition, NotCondition):
        return f"{not_word} {part_text(condition.negated)}"
    joiner = f" {or_word} " if isinstance(condition, AnyOf) else f" {and_word} "
    return joiner.join(part_text(part) for part in condition_parts(condition))


def evaluate_condition(condition: Condition, test: Callable[[ConditionSpec], bool | None]) -> bool | None:
    """Three-valued (Kleene) logic: `test` gives None for a test on a question that was never
    asked (hidden), which has no truth value; `not` keeps it unknown, `and` is false as soon
    as one part is false, `or` true as soon as one is true. A question is shown only when its
    condition is True, so a lone test on a hidden question hides it, as it always has."""
    if isinstance(condition, ConditionSpec):
        return test(condition)
    if isinstance(condition, NotCondition):
        inner = evaluate_condition(condition.negated, test)
        return None if inner is None else not inner
    results = [evaluate_condition(part, test) for part in condition_parts(condition)]
    decisive = isinstance(condition, AnyOf)  # true decides `or`, false decides `and`
    if decisive in results:
        return decisive
    return None if None in results else not decisive


class QuestionSpec(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int | None = None
    code: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    type: QuestionType
    required: bool = False
    text: Localized
    help: Localized | None = None
    choices: tuple[ChoiceSpec, ...] = ()
    max_choices: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    whole_numbers: bool = False  # number questions only: 12,5 is refused
    low_label: Localized | None = None
    high_label: Localized | None = None
    allow_dont_know: bool = False
    max_length: int | None = None
    priority_key: str | None = None
    condition: Condition | None = None
    # Messages written by the survey's author (XLSForm required_message / constraint_message);
    # None means the built-in message.
    required_message: Localized | None = None
    constraint_message: Localized | None = None

    @field_validator("condition")
    @classmethod
    def _normalize_condition(cls, condition: Condition | None) -> Condition | None:
        return normalize_condition(condition) if condition is not None else None

    @model_validator(mode="after")
    def _check(self) -> QuestionSpec:
        if self.type in CHOICE_TYPES and not self.choices:
            raise ValueError(f"question {self.code}: a choice question needs choices")
        codes = [c.code for c in self.choices]
        if len(codes) != len(set(codes)):
            raise ValueError(f"question {self.code}: duplicate choice codes")
        if self.condition is not None and condition_depth(self.condition) > MAX_CONDITION_DEPTH:
            raise ValueError(f"question {self.code}: the condition nests more than {MAX_CONDITION_DEPTH} levels")
        return self

    def label(self, language: str) -> str:
        return pick(self.text, language)

    def scale_range(self) -> tuple[int, int]:
        """The lowest and highest point a scale offers: 1 and 5 unless the question says otherwise."""
        low = int(self.min_value) if self.min_value is not None else SCALE_MIN
        high = int(self.max_value) if self.max_value is not None else SCALE_MAX
        return low, high

    def scale_ends(self, language: str) -> dict[int, str]:
        """What a scale's two ends mean, by point ({1: "Inte alls viktigt", 5: "Mycket viktigt"});
        "" for an end without a label."""
        low, high = self.scale_range()
        return {low: pick(self.low_label, language), high: pick(self.high_label, language)}

    def choice(self, code: int) -> ChoiceSpec | None:
        return next((c for c in self.choices if c.code == code), None)

    @cached_property
    def choice_codes(self) -> frozenset[int]:
        # Cached: validation asks once per selected code, on every submission.
        return frozenset(c.code for c in self.choices)


class PageSpec(BaseModel):
    model_config = ConfigDict(frozen=True)
    title: Localized | None = None
    questions: tuple[QuestionSpec, ...]


class SurveySpec(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int | None = None
    revision: int = 1
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")
    title: Localized
    intro: Localized | None = None
    privacy_notice: Localized | None = None
    audience: Audience = Audience.residents
    identity_mode: IdentityMode = IdentityMode.anonymous
    access: Access = Access.open
    status: SurveyStatus = SurveyStatus.draft
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    minutes_needed: int | None = None
    retention_days: int | None = None
    pages: tuple[PageSpec, ...]

    @model_validator(mode="after")
    def _check(self) -> SurveySpec:
        seen: set[str] = set()
        for question in self.questions:
            if question.code in seen:
                raise ValueError(f"duplicate question code {question.code}")
            tested = referenced_questions(question.condition) if question.condition else []
            later = [code for code in tested if code not in seen]
            if later:
                raise ValueError(
                    f"question {question.code}: its condition refers to {later[0]}, which is not an earlier question"
                )
            seen.add(question.code)
        return self

    @cached_property
    def questions(self) -> list[QuestionSpec]:
        return [q for page in self.pages for q in page.questions]

    def question(self, code: str) -> QuestionSpec | None:
        return self.by_code.get(code)

    @cached_property
    def by_code(self) -> dict[str, QuestionSpec]:
        return {q.code: q for q in self.questions}

    def page_of(self, code: str) -> int:
        for number, page in enumerate(self.pages, start=1):
            if any(q.code == code for q in page.questions):
                return number
        raise KeyError(code)

    def languages(self) -> list[str]:
        return [lang for lang in ("sv", "en") if self.title.get(lang)]

    def text(self, field: str, language: str) -> str:
        value: Any = getattr(self, field)
        return pick(value, language)


def demographic_questions(spec: SurveySpec) -> dict[str, QuestionSpec]:
    """The survey's first question of each demographic type (municipality, gender, age band), by type."""
    found: dict[str, QuestionSpec] = {}
    for question in spec.questions:
        if question.type in DEMOGRAPHIC_TYPES and question.type.value not in found:
            found[question.type.value] = question
    return found
