"""Validation errors in words a respondent understands, in their language."""

from __future__ import annotations

from consult.core.fields import pick
from consult.core.formatting import typed_number
from consult.core.i18n import N_, gettext_for
from consult.responses.validation import FieldError
from consult.surveys.schema import QuestionSpec

MESSAGES: dict[str, str] = {
    "required": N_("Answer this question."),
    "not_a_choice": N_("Choose one of the options."),
    "unknown_choice": N_("That option does not exist for this question."),
    "duplicate_choice": N_("Each option can be chosen only once."),
    "too_many": N_("Choose at most %(max)s options."),
    "no_dont_know": N_("Choose a value on the scale."),
    "scale_range": N_("Choose a value from %(min)s to %(max)s."),
    "not_a_number": N_("Enter a number, for example 12."),
    "not_whole": N_("Enter a whole number."),
    "too_small": N_("Enter a number of at least %(min)s."),
    "too_large": N_("Enter a number of at most %(max)s."),
    "not_text": N_("Enter text."),
    "too_long": N_("Shorten your answer to at most %(max)s characters (now %(length)s)."),
    "unknown_question": N_("There is no question with this code in the survey."),
    "unsupported": N_("This question type cannot be answered here."),
    "rank_invalid": N_("Choose a rank from the list."),
    "rank_duplicate": N_("Give each option a different rank."),
    "one_value": N_("Give one answer only."),
    "empty_entry": N_("Enter at least one answer: an empty form is not a response."),
}


# What the person entering a paper form does when the form breaks a rule the web survey enforces: the
# usual coding rule of survey research, so no one has to guess which of the ticks the respondent meant.
PAPER_NOTES: dict[str, str] = {
    "too_many": N_("If more boxes are ticked on the paper form than allowed, leave the question blank: "
                   "an invalid answer counts as unanswered."),
}


AUTHOR_CONSTRAINT_KINDS = {"too_small", "too_large", "too_long", "scale_range", "too_many"}


def error_message(error: FieldError, language: str, question: QuestionSpec | None = None, *,
                  paper: bool = False) -> str:
    """The message for one field error; a survey author's own wording wins where they gave one.
    `paper`: the answers are entered from a paper form, and the message says what to enter."""
    message = _message(error, language, question)
    note = PAPER_NOTES.get(error.kind) if paper else None
    return f"{message} {gettext_for(language, note)}" if note else message


def _message(error: FieldError, language: str, question: QuestionSpec | None) -> str:
    if question is not None:
        own = question.required_message if error.kind == "required" else None
        if error.kind in AUTHOR_CONSTRAINT_KINDS:
            own = question.constraint_message
        if own:
            return pick(own, language)
    template = gettext_for(language, MESSAGES.get(error.kind, MESSAGES["unsupported"]))
    try:
        params = {k: typed_number(v, language) if isinstance(v, float) else v for k, v in error.params.items()}
        return template % params if error.params else template
    except (KeyError, TypeError, ValueError):
        return template
