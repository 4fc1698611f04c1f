"""Read-side helpers shared by the survey pages and the API."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from consult.core.fields import pick
from consult.core.i18n import _
from consult.db import session_scope
from consult.surveys.models import CHOICE_TYPES, QuestionType
from consult.surveys.schema import QuestionSpec, SurveySpec
from consult.surveys.service import Availability, availability, survey_cache


def survey_or_404(slug: str, *, include_drafts: bool = False) -> SurveySpec:
    spec = survey_cache.get(session_scope, slug) if len(slug) <= 80 else None
    if spec is None or (availability(spec) == Availability.draft and not include_drafts):
        raise HTTPException(404, _("There is no survey at this address."))
    return spec


def question_view(question: QuestionSpec, language: str) -> dict[str, Any]:
    """The question in one language, in the shape the API documents."""
    view: dict[str, Any] = {
        "code": question.code,
        "type": question.type.value,
        "required": question.required,
        "text": question.label(language),
        "help": pick(question.help, language) or None,
        "condition": question.condition.model_dump(mode="json") if question.condition else None,
    }
    if question.type in CHOICE_TYPES:
        view["choices"] = [{"code": c.code, "label": c.text(language)} for c in question.choices]
    if question.type in (QuestionType.multiple_choice, QuestionType.ranking):
        view["max_choices"] = question.max_choices
    if question.type == QuestionType.scale:
        view.update(
            min=question.min_value if question.min_value is not None else 1,
            max=question.max_value if question.max_value is not None else 5,
            low_label=pick(question.low_label, language) or None,
            high_label=pick(question.high_label, language) or None,
            allow_dont_know=question.allow_dont_know,
        )
    if question.type == QuestionType.number:
        view.update(min=question.min_value, max=question.max_value, whole_numbers=question.whole_numbers)
    return view
