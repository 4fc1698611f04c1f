"""Surveys, their pages, questions and choices."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from consult.core.fields import json_field, localized, timestamp


class QuestionType(StrEnum):
    single_choice = "single_choice"
    multiple_choice = "multiple_choice"
    scale = "scale"
    ranking = "ranking"
    number = "number"
    short_text = "short_text"
    long_text = "long_text"
    municipality = "municipality"
    age_band = "age_band"
    gender = "gender"


CHOICE_TYPES = {
    QuestionType.single_choice,
    QuestionType.multiple_choice,
    QuestionType.ranking,
    QuestionType.municipality,
    QuestionType.age_band,
    QuestionType.gender,
}
SINGLE_CODE_TYPES = {
    QuestionType.single_choice,
    QuestionType.municipality,
    QuestionType.age_band,
    QuestionType.gender,
}
LIST_TYPES = {QuestionType.multiple_choice, QuestionType.ranking}
TEXT_TYPES = {QuestionType.short_text, QuestionType.long_text}
# Who answered: the types results are broken down and weighted by.
DEMOGRAPHIC_TYPES = (QuestionType.municipality, QuestionType.gender, QuestionType.age_band)


class Audience(StrEnum):
    residents = "residents"
    organisations = "organisations"


class IdentityMode(StrEnum):
    anonymous = "anonymous"
    identified = "identified"


class Access(StrEnum):
    """Who may answer: anyone with the link, or only people holding an invitation code (a sample)."""

    open = "open"
    invitation = "invitation"


class SurveyStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


class ConditionOp(StrEnum):
    equals = "equals"
    includes = "includes"
    not_ = "not"


class Survey(SQLModel, table=True):
    __tablename__ = "survey"
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int | None = Field(default=None, foreign_key="review_cycle.id", index=True)
    slug: str = Field(unique=True, max_length=80)
    title: dict = localized()
    intro: dict = localized(nullable=True)
    privacy_notice: dict = localized(nullable=True)
    audience: str = Field(default=Audience.residents.value, max_length=20)
    identity_mode: str = Field(default=IdentityMode.anonymous.value, max_length=20)
    access: str = Field(default=Access.open.value, max_length=12)
    status: str = Field(default=SurveyStatus.draft.value, max_length=10)
    opens_at: datetime | None = timestamp()
    closes_at: datetime | None = timestamp()
    minutes_needed: int | None = None
    retention_days: int | None = None
    # Bumped on every change of structure or wording, so cached copies in worker processes renew.
    revision: int = 1
    updated_at: datetime = timestamp(nullable=False, default_now=True)


class SurveyPage(SQLModel, table=True):
    __tablename__ = "survey_page"
    __table_args__ = (UniqueConstraint("survey_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    position: int
    title: dict = localized(nullable=True)


class Question(SQLModel, table=True):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("survey_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    page_id: int = Field(foreign_key="survey_page.id", index=True)
    position: int
    code: str = Field(max_length=64)  # the variable name in exports; never changes once answered
    type: str = Field(max_length=20)
    required: bool = False
    text: dict = localized()
    help: dict = localized(nullable=True)
    max_choices: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    whole_numbers: bool = False  # number: refuse decimals (years, people), as XLSForm `integer` does
    low_label: dict = localized(nullable=True)  # scale end labels
    high_label: dict = localized(nullable=True)
    allow_dont_know: bool = False  # scale: offer "vet ej", stored as a null value
    max_length: int | None = None
    required_message: dict = localized(nullable=True)  # the author's own wording, e.g. from XLSForm
    constraint_message: dict = localized(nullable=True)
    priority_id: int | None = Field(default=None, foreign_key="strategy_item.id")
    # {"question": CODE, "op": "equals"|"includes"|"not", "value": CHOICE_CODE}
    condition: dict | None = json_field(lambda: None)


class Choice(SQLModel, table=True):
    __tablename__ = "choice"
    __table_args__ = (UniqueConstraint("question_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    code: int  # stable numeric code used in answers, exports and imports
    position: int
    label: dict = localized()
    name: str | None = Field(default=None, max_length=64)  # a non-numeric XLSForm choice name, kept
    priority_id: int | None = Field(default=None, foreign_key="strategy_item.id")
