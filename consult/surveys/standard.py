"""Choice lists that every survey shares for the demographic question types, so results
compare across surveys and review cycles."""

from __future__ import annotations

from consult.surveys.models import QuestionType
from consult.surveys.schema import ChoiceSpec

AGE_BANDS: list[tuple[int, str, str]] = [
    (1, "16–24 år", "16–24 years"),
    (2, "25–34 år", "25–34 years"),
    (3, "35–44 år", "35–44 years"),
    (4, "45–54 år", "45–54 years"),
    (5, "55–64 år", "55–64 years"),
    (6, "65–74 år", "65–74 years"),
    (7, "75 år eller äldre", "75 years or older"),
]
GENDERS: list[tuple[int, str, str]] = [
    (1, "Kvinna", "Woman"),
    (2, "Man", "Man"),
    (3, "Annat", "Other"),
    (4, "Vill inte uppge", "Prefer not to say"),
]


def standard_choices(question_type: str, municipalities: list[tuple[int, str]]) -> tuple[ChoiceSpec, ...]:
    """Choices for the demographic types; municipalities are given as (SCB code, name)."""
    if question_type == QuestionType.age_band:
        return tuple(ChoiceSpec(code=c, label={"sv": sv, "en": en}) for c, sv, en in AGE_BANDS)
    if question_type == QuestionType.gender:
        return tuple(ChoiceSpec(code=c, label={"sv": sv, "en": en}) for c, sv, en in GENDERS)
    if question_type == QuestionType.municipality:
        return tuple(ChoiceSpec(code=c, label={"sv": name, "en": name}) for c, name in municipalities)
    return ()
