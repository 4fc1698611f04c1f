"""What a survey still lacks before residents see it: the texts of its English version, a privacy
notice that says what Article 13 of the GDPR asks, and a retention period. The survey page lists
it with links to where each gap is fixed. Only the English texts block opening, and only for a
survey offered in English (a Swedish-only survey is a choice, made by leaving out the English
title): see consult.authoring.service.set_status. No HTTP here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from consult.core.i18n import N_
from consult.surveys.schema import QuestionSpec, SurveySpec


@dataclass(frozen=True)
class Gap:
    message: str  # an English msgid, with %(name)s parameters
    params: dict[str, str] = field(default_factory=dict)  # shown as they are (question codes)
    terms: dict[str, list[str]] = field(default_factory=dict)  # msgids, translated and listed
    question: str | None = None  # the code of the question to edit; None: the survey's settings

    def text(self, translate: Callable[[str], str]) -> str:
        listed = {name: ", ".join(translate(term) for term in terms) for name, terms in self.terms.items()}
        return translate(self.message) % {**self.params, **listed}


def _missing(value: dict | None, language: str) -> bool:
    return bool(value) and not (value or {}).get(language, "").strip()


def _question_gaps(question: QuestionSpec, language: str) -> list[str]:
    """Which of the question's texts lack `language` (only texts the question has in some language)."""
    parts = []
    if not (question.text or {}).get(language, "").strip():
        parts.append(N_("question text"))
    if _missing(question.help, language):
        parts.append(N_("help text"))
    if _missing(question.low_label, language) or _missing(question.high_label, language):
        parts.append(N_("scale end labels"))
    if any(not (choice.label or {}).get(language, "").strip() for choice in question.choices):
        parts.append(N_("options"))
    if _missing(question.required_message, language) or _missing(question.constraint_message, language):
        parts.append(N_("own error messages"))
    return parts


def gaps(spec: SurveySpec) -> list[Gap]:
    found: list[Gap] = []
    if not spec.questions:
        found.append(Gap(N_("The survey has no questions yet.")))
    if not (spec.privacy_notice or {}).get("sv", "").strip():
        found.append(Gap(N_(
            "There is no privacy notice. Say who is responsible for the answers, why they are collected "
            "and on what legal basis, how long they are kept, and how to reach the data protection officer."
        )))
    if spec.retention_days is None:
        found.append(Gap(N_("No retention period is set, so the answers are kept until someone deletes them.")))
    if not offers_english(spec):
        found.append(Gap(N_("The survey has no English title, so it is offered in Swedish only.")))
        return found
    return found + english_gaps(spec)


def offers_english(spec: SurveySpec) -> bool:
    """A survey is offered in English when it has an English title (see SurveySpec.languages);
    clearing the title in the settings offers it in Swedish only."""
    return bool((spec.title or {}).get("en", "").strip())


def english_gaps(spec: SurveySpec) -> list[Gap]:
    """The texts a survey offered in English lacks in English. A resident who chooses English
    would see each of them in Swedish, so a survey with any of them is not opened."""
    found: list[Gap] = []
    for name, value in (("intro", spec.intro), ("privacy_notice", spec.privacy_notice)):
        if _missing(value, "en"):
            label = N_("introduction") if name == "intro" else N_("privacy notice")
            found.append(Gap(N_("The English %(part)s is missing."), terms={"part": [label]}))
    for number, page in enumerate(spec.pages, start=1):
        if _missing(page.title, "en"):
            found.append(Gap(N_("The title of page %(page)s is missing in English."), {"page": str(number)}))
    for question in spec.questions:
        parts = _question_gaps(question, "en")
        if parts:
            found.append(
                Gap(N_("%(code)s lacks English: %(parts)s."), {"code": question.code}, {"parts": parts}, question.code)
            )
    return found
