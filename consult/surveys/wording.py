"""Display conditions in words, for the survey's authors and for respondents without JavaScript."""

from __future__ import annotations

from consult.core.i18n import N_, _, current_language
from consult.surveys.models import LIST_TYPES
from consult.surveys.schema import (
    Condition,
    ConditionOp,
    ConditionSpec,
    QuestionSpec,
    SurveySpec,
    condition_tests,
    format_condition,
)

CONDITION_LABELS = {
    ConditionOp.equals: N_("is"),
    ConditionOp.includes: N_("includes"),
    ConditionOp.not_: N_("is not (and does not include)"),
}
# The operators that read right for a question with one answer and for one with several: "is" on a
# multiple-choice question would compare the whole list, "includes" on a single answer reads oddly.
SINGLE_ANSWER_OPS = {ConditionOp.equals: N_("is"), ConditionOp.not_: N_("is not")}
LIST_OPS = {ConditionOp.includes: N_("includes"), ConditionOp.not_: N_("does not include")}
SHORT_LABEL = 40


def ops_for(question: QuestionSpec | None) -> dict[ConditionOp, str]:
    """The operators a condition on this question may use, with their (untranslated) words;
    every operator when the question is not known yet."""
    if question is None:
        return CONDITION_LABELS
    return LIST_OPS if question.type in LIST_TYPES else SINGLE_ANSWER_OPS


def fitting_op(op: ConditionOp, question: QuestionSpec | None) -> ConditionOp:
    """The operator of the same sense that fits the question: "is" and "includes" both ask
    for the choice, so either becomes the one its type reads with."""
    if question is None or op in ops_for(question) or op == ConditionOp.not_:
        return op
    return ConditionOp.includes if question.type in LIST_TYPES else ConditionOp.equals


def short_label(question: QuestionSpec, lang: str) -> str:
    text = " ".join(question.label(lang).split())
    if len(text) <= SHORT_LABEL:
        return text
    cut = text[:SHORT_LABEL]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,.;:") + "…"  # at a word's end


def describe_condition(
    spec: SurveySpec, condition: Condition, *, labels: bool = False, short_labels: bool = False
) -> str:
    """A display condition for people: each test as "QUESTION is ”CHOICE”" (the question's code,
    its text when `labels`, or its text shortened when `short_labels`), joined by and / or / not
    in the reader's language; the operator in the words of the question's type."""
    lang = current_language.get()
    quote = "”{}”" if lang == "sv" else "“{}”"

    def test(leaf: ConditionSpec) -> str:
        source = spec.by_code.get(leaf.question)
        choice = source.choice(leaf.value) if source else None
        if source and labels:
            question = quote.format(source.label(lang))
        elif source and short_labels:
            question = quote.format(short_label(source, lang))
        else:
            question = leaf.question
        value = quote.format(choice.text(lang)) if choice else str(leaf.value)
        words = ops_for(source).get(leaf.op) if source else None
        return f"{question} {_(words or CONDITION_LABELS[leaf.op])} {value}"

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
