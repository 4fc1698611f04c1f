"""Display conditions in words, for the survey's authors and for respondents without JavaScript."""

from __future__ import annotations

from consult.core.i18n import N_, _, current_language
from consult.surveys.schema import Condition, ConditionOp, ConditionSpec, SurveySpec, condition_tests, format_condition

CONDITION_LABELS = {
    ConditionOp.equals: N_("is"),
    ConditionOp.includes: N_("includes"),
    ConditionOp.not_: N_("is not (and does not include)"),
}


def describe_condition(spec: SurveySpec, condition: Condition, *, labels: bool = False) -> str:
    """A display condition for people: each test as "QUESTION is ”CHOICE”" (the question's code,
    or its text when `labels`), joined by and / or / not in the reader's language."""
    lang = current_language.get()
    quote = "”{}”" if lang == "sv" else "“{}”"

    def test(leaf: ConditionSpec) -> str:
        source = spec.by_code.get(leaf.question)
        choice = source.choice(leaf.value) if source else None
        question = quote.format(source.label(lang)) if labels and source else leaf.question
        value = quote.format(choice.text(lang)) if choice else str(leaf.value)
        return f"{question} {_(CONDITION_LABELS[leaf.op])} {value}"

    return format_condition(condition, test, and_word=_("and"), or_word=_("or"), not_word=_("not"))


def same_page_condition_notes(spec: SurveySpec, questions: tuple | list) -> dict[str, str]:
    """For each question whose condition depends on an answer on the same page: the condition in
    words. Without JavaScript such a question is always on screen, so it says when it applies."""
    on_page = {question.code for question in questions}
    return {
        question.code: describe_condition(spec, question.condition, labels=True)
        for question in questions
        if question.condition and any(test.question in on_page for test in condition_tests(question.condition))
    }
