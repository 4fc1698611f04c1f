"""The survey definition as plain data: what the demo fixture, the API, imports and the
renderer all share. Workers cache it per survey, so answering needs no database read."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from consult.core.fields import pick
from consult.surveys.models import (
    CHOICE_TYPES,
    Audience,
    ConditionOp,
    IdentityMode,
    QuestionType,
    SurveyStatus,
)

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
    model_config = ConfigDict(frozen=True)
    question: str
    op: ConditionOp = ConditionOp.equals
    value: int


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
    low_label: Localized | None = None
    high_label: Localized | None = None
    allow_dont_know: bool = False
    max_length: int | None = None
    priority_key: str | None = None
    condition: ConditionSpec | None = None
    # Messages written by the survey's author (XLSForm required_message / constraint_message);
    # None means the built-in message.
    required_message: Localized | None = None
    constraint_message: Localized | None = None

    @model_validator(mode="after")
    def _check(self) -> QuestionSpec:
        if self.type in CHOICE_TYPES and not self.choices:
            raise ValueError(f"question {self.code}: a choice question needs choices")
        codes = [c.code for c in self.choices]
        if len(codes) != len(set(codes)):
            raise ValueError(f"question {self.code}: duplicate choice codes")
        return self

    def label(self, language: str) -> str:
        return pick(self.text, language)

    def choice(self, code: int) -> ChoiceSpec | None:
        return next((c for c in self.choices if c.code == code), None)

    @property
    def choice_codes(self) -> set[int]:
        return {c.code for c in self.choices}


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
            if question.condition and question.condition.question not in seen:
                raise ValueError(
                    f"question {question.code}: its condition refers to {question.condition.question}, "
                    "which is not an earlier question"
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
