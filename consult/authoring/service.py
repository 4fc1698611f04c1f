"""Survey authoring: every edit is made on the survey's definition (a SurveySpec), checked as a
whole and written back in one transaction, so a survey is never stored half-edited.

Once a survey has answers its structure is locked: only wording (and strategy links) may
change, in place, and each such change is audited with the old and the new text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from consult.accounts.service import record_audit
from consult.authoring import readiness
from consult.core.fields import pick, utcnow
from consult.core.i18n import N_, gettext_for
from consult.core.numbers import as_whole_number
from consult.db import lock_for_update
from consult.responses.models import Response
from consult.strategy.models import ItemKind, ReviewCycle, StrategyItem
from consult.strategy.service import items as strategy_items
from consult.strategy.service import municipalities
from consult.surveys.models import CHOICE_TYPES, QuestionType, Survey, SurveyStatus
from consult.surveys.schema import ConditionSpec, PageSpec, QuestionSpec, SurveySpec, condition_tests, is_compound
from consult.surveys.service import (
    load_spec,
    replace_survey_structure,
    save_survey,
    spec_from_rows,
    touch_survey,
    update_survey_wording,
)
from consult.surveys.standard import standard_choices
from consult.surveys.xlsform import XLSFormProblem, read_xlsform

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
RESERVED_SLUGS = {"new", "import"}  # paths of the admin pages themselves
STANDARD_TYPES = {QuestionType.municipality, QuestionType.age_band, QuestionType.gender}
EDIT_ACTION = "survey.edit"


# --- Errors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditError:
    """A reason an edit cannot be saved. `field` names the form field it belongs to (the
    element id is "field-" + field); `question` the question it concerns, if any."""

    field: str
    message: str  # English msgid with %(name)s parameters
    params: dict[str, Any] = field(default_factory=dict)
    question: str | None = None
    terms: dict[str, list[str]] = field(default_factory=dict)  # msgids, translated and listed

    def text(self, language: str) -> str:
        message = gettext_for(language, self.message)
        listed = {name: ", ".join(gettext_for(language, term) for term in terms) for name, terms in self.terms.items()}
        return message % {**self.params, **listed} if self.params or listed else message


class EditRefused(Exception):  # noqa: N818 - it is a refusal, shown to the user
    def __init__(self, errors: list[EditError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


# --- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyRow:
    survey: Survey
    responses: int
    cycle_name: dict[str, str] | None


def response_counts(session: Session, survey_ids: list[int]) -> dict[int, int]:
    if not survey_ids:
        return {}
    rows = session.exec(
        select(Response.survey_id, func.count())
        .where(Response.survey_id.in_(survey_ids))  # type: ignore[attr-defined]
        .group_by(Response.survey_id)
    ).all()
    return {survey_id: count for survey_id, count in rows}


def survey_rows(session: Session) -> list[SurveyRow]:
    surveys = session.exec(select(Survey).order_by(Survey.id.desc())).all()  # type: ignore[union-attr]
    counts = response_counts(session, [s.id for s in surveys if s.id is not None])
    cycles = {c.id: c.name for c in session.exec(select(ReviewCycle)).all()}
    return [SurveyRow(s, counts.get(s.id or 0, 0), cycles.get(s.cycle_id)) for s in surveys]


def get_survey(session: Session, slug: str) -> Survey | None:
    if len(slug) > 80:
        return None
    return session.exec(select(Survey).where(Survey.slug == slug)).first()


def has_answers(session: Session, survey_id: int) -> bool:
    return session.exec(select(Response.id).where(Response.survey_id == survey_id).limit(1)).first() is not None


def strategy_version_id(session: Session, cycle_id: int | None) -> int | None:
    """The strategy version a survey's priority links refer to: its cycle's proposal (or the
    current version when there is no proposal)."""
    if cycle_id is None:
        return None
    cycle = session.get(ReviewCycle, cycle_id)
    if cycle is None:
        return None
    return cycle.proposed_version_id or cycle.current_version_id


def priority_options(session: Session, cycle_id: int | None) -> list[StrategyItem]:
    """Goal areas and their priorities, in the strategy's order: what a question or choice may concern."""
    version_id = strategy_version_id(session, cycle_id)
    if version_id is None:
        return []
    linkable = {ItemKind.goal_area, ItemKind.priority}
    return [item for item in strategy_items(session, version_id=version_id) if item.kind in linkable]


def municipality_choices(session: Session) -> list[tuple[int, str]]:
    return [(m.code, m.name) for m in municipalities(session)]


# --- Checking a definition ----------------------------------------------------------------


def check_pages(pages: tuple[PageSpec, ...] | list[PageSpec]) -> list[EditError]:
    """What the survey as a whole gets wrong: duplicate codes and conditions on questions that
    are missing, later, not choice questions or lack the choice."""
    errors: list[EditError] = []
    earlier: dict[str, QuestionSpec] = {}
    everywhere = {q.code for page in pages for q in page.questions}
    for page in pages:
        for question in page.questions:
            if question.code in earlier:
                errors.append(
                    EditError(
                        "code",
                        N_("Another question already has the code %(code)s."),
                        {"code": question.code},
                        question.code,
                    )
                )
            condition = question.condition
            if condition is not None:
                errors.extend(_condition_errors(question, earlier, everywhere))
            earlier.setdefault(question.code, question)
    return errors


def _condition_errors(
    question: QuestionSpec, earlier: dict[str, QuestionSpec], everywhere: set[str]
) -> list[EditError]:
    """One error per test of the condition that names a question it may not depend on."""
    assert question.condition is not None
    # A combined condition is typed as one expression; a single test is chosen from a list.
    field_name = "condition_expression" if is_compound(question.condition) else "condition_target"
    errors: list[EditError] = []
    for test in condition_tests(question.condition):
        found = _test_error(question, test, earlier, everywhere)
        error = EditError(field_name, found[0], found[1], question.code) if found else None
        if error is not None and error not in errors:
            errors.append(error)
    return errors


def _test_error(
    question: QuestionSpec, test: ConditionSpec, earlier: dict[str, QuestionSpec], everywhere: set[str]
) -> tuple[str, dict[str, Any]] | None:
    params: dict[str, Any] = {"code": question.code, "other": test.question}
    if test.question == question.code:
        return N_("A question cannot depend on its own answer."), params
    if test.question not in everywhere:
        return N_("Question %(code)s is shown on an answer to %(other)s, which does not exist."), params
    target = earlier.get(test.question)
    if target is None:
        return N_(
            "Question %(code)s is shown on an answer to %(other)s, which comes later. It must come before."
        ), params
    if target.type not in CHOICE_TYPES:
        return N_("Question %(code)s can only depend on a choice question; %(other)s is not one."), params
    if test.value not in target.choice_codes:
        return N_("Question %(other)s has no choice with the code %(value)s."), {**params, "value": test.value}
    return None


def _structure(question: QuestionSpec) -> tuple:
    return (
        question.type,
        question.required,
        question.condition,
        question.max_choices,
        question.min_value,
        question.max_value,
        question.whole_numbers,
        question.allow_dont_know,
        question.max_length,
    )


def lock_errors(old: SurveySpec, new: SurveySpec) -> list[EditError]:
    """Once answered, only wording may change: anything else would orphan or reinterpret answers."""
    errors: list[EditError] = []
    if old.identity_mode != new.identity_mode:
        # The answers were given under what the first page said: anonymously, or with a name.
        message = N_("Whether respondents say who they are cannot change now: the survey has answers, given "
                     "under what its first page said then. Copy the survey to ask differently.")
        errors.append(EditError("identity_mode", message))
    old_codes = [q.code for q in old.questions]
    new_codes = [q.code for q in new.questions]
    for code in old_codes:
        if code not in new_codes:
            message = N_("Question %(code)s cannot be removed: the survey has answers.")
            errors.append(EditError("code", message, {"code": code}, code))
    for code in new_codes:
        if code not in old_codes:
            message = N_(
                "No question can be added or recoded (%(code)s): the survey has answers. "
                "Copy the survey to make a new version."
            )
            errors.append(EditError("code", message, {"code": code}, code))
    if errors:
        return errors
    old_layout = [[q.code for q in page.questions] for page in old.pages]
    new_layout = [[q.code for q in page.questions] for page in new.pages]
    if old_layout != new_layout:
        message = N_("Pages and questions cannot be moved, added or removed: the survey has answers.")
        return [EditError("structure", message)]
    for old_q, new_q in zip(old.questions, new.questions, strict=True):
        if [c.code for c in old_q.choices] != [c.code for c in new_q.choices]:
            message = N_("The choices of %(code)s cannot be added, removed, moved or recoded: the survey has answers.")
            errors.append(EditError("choices", message, {"code": new_q.code}, new_q.code))
        elif _structure(old_q) != _structure(new_q):
            message = N_("Only the wording of %(code)s can change now: the survey has answers.")
            errors.append(EditError("type", message, {"code": new_q.code}, new_q.code))
    return errors


def _wording_changes(old: SurveySpec, new: SurveySpec) -> list[dict[str, Any]]:
    """Every text that differs, with old and new value, for the audit log."""
    changes: list[dict[str, Any]] = []

    def compare(where: str, before: Any, after: Any) -> None:
        if (before or None) != (after or None):
            changes.append({"where": where, "old": before, "new": after})

    for name in ("title", "intro", "privacy_notice"):
        compare(name, getattr(old, name), getattr(new, name))
    for name in ("access", "audience", "opens_at", "closes_at"):  # settings, named as stored
        before, after = getattr(old, name), getattr(new, name)
        compare(name, None if before is None else str(before), None if after is None else str(after))
    for number, (old_page, new_page) in enumerate(zip(old.pages, new.pages, strict=False), start=1):
        compare(f"page {number} title", old_page.title, new_page.title)
    new_by_code = new.by_code
    for old_q in old.questions:
        new_q = new_by_code.get(old_q.code)
        if new_q is None:
            continue
        for name in ("text", "help", "low_label", "high_label", "required_message", "constraint_message"):
            compare(f"{old_q.code}.{name}", getattr(old_q, name), getattr(new_q, name))
        compare(f"{old_q.code}.priority", old_q.priority_key, new_q.priority_key)
        for old_c in old_q.choices:
            new_c = new_q.choice(old_c.code)
            if new_c is not None:
                compare(f"{old_q.code}.choice {old_c.code}", old_c.label, new_c.label)
                compare(f"{old_q.code}.choice {old_c.code}.priority", old_c.priority_key, new_c.priority_key)
    return changes


def build_spec(old: SurveySpec, **updates: Any) -> SurveySpec:
    """A new definition from the old one with `updates`, validated (model_copy would not be)."""
    errors = check_pages(updates.get("pages", old.pages))
    if errors:
        raise EditRefused(errors)
    data = {name: getattr(old, name) for name in SurveySpec.model_fields}
    data.update(updates)
    try:
        return SurveySpec.model_validate(data)
    except ValidationError as exc:
        raise EditRefused(
            [EditError("structure", N_("The survey is not valid: %(error)s"), {"error": _short(exc)})]
        ) from exc


def _short(exc: ValidationError) -> str:
    return "; ".join(str(e.get("msg", "")) for e in exc.errors())[:300]


# --- English texts of an open survey -------------------------------------------------------

_ENGLISH_FIELD_MESSAGES = {
    N_("question text"): (
        "text_en", N_("The survey is open and offered in English: write the question in English too.")
    ),
    N_("help text"): ("help_en", N_(
        "The survey is open and offered in English: write the help text in English too, or remove it in both "
        "languages."
    )),
    N_("introduction"): ("intro_en", N_(
        "The survey is open and offered in English: write the introduction in English too, or remove it in "
        "both languages."
    )),
    N_("privacy notice"): ("privacy_en", N_(
        "The survey is open and offered in English: write the privacy notice in English too."
    )),
}
_SCALE_LABEL_MESSAGE = N_(
    "The survey is open and offered in English: write the label in English too, or remove it in both languages."
)
_CHOICE_MESSAGE = N_("The survey is open and offered in English: write the choice “%(choice)s” in English too.")
_PAGE_TITLE_MESSAGE = N_(
    "The survey is open and offered in English: write the page title in English too, or remove it in both "
    "languages."
)


def _english_gap_parts(spec: SurveySpec) -> set[tuple]:
    """The English gaps of a survey offered in English (readiness.english_gaps), one entry per
    missing part, so that an edit's new gaps can be told from those the survey already had."""
    if not readiness.offers_english(spec):
        return set()
    found = set()
    for gap in readiness.english_gaps(spec):
        parts = [part for terms in gap.terms.values() for part in terms] or [""]
        for part in parts:
            found.add((gap.question, gap.message, tuple(sorted(gap.params.items())), part))
    return found


def english_loss_errors(old: SurveySpec, new: SurveySpec) -> list[EditError]:
    """Why an edit of an open survey offered in English cannot be saved: it would leave a text
    without English that had it (or start offering English while texts lack it), so a resident
    who chose English would read it in Swedish. The survey opened only with every English text
    (raise_for_missing_english); an edit may not take that back. Each error names the form field
    where the text is written (a choice as "choice-en-" + its position among the question's
    choices). Clearing the English title, which offers the survey in Swedish only, stays possible."""
    added = _english_gap_parts(new) - _english_gap_parts(old)
    if not added:
        return []
    if not readiness.offers_english(old):
        lead = EditError("title_en", N_(
            "The survey is open, so it can be offered in English only when all its texts are in English. "
            "Write the English texts listed here first, or leave the English title empty."
        ))
        gaps = readiness.english_gaps(new)
        return [lead, *(EditError("title_en", g.message, g.params, None, g.terms) for g in gaps)]
    errors: list[EditError] = []
    for code, message, params, part in sorted(added, key=lambda item: (item[0] or "", item[3])):
        question = new.by_code.get(code) if code else None
        if part in _ENGLISH_FIELD_MESSAGES:
            field_name, text = _ENGLISH_FIELD_MESSAGES[part]
            errors.append(EditError(field_name, text, question=code))
        elif part == N_("scale end labels") and question is not None:
            for field_name, label in (("low_en", question.low_label), ("high_en", question.high_label)):
                if label and not label.get("en", "").strip():
                    errors.append(EditError(field_name, _SCALE_LABEL_MESSAGE, question=code))
        elif part == N_("options") and question is not None:
            for position, choice in enumerate(question.choices):
                if not choice.label.get("en", "").strip():
                    params_ = {"choice": choice.label.get("sv", "") or str(choice.code)}
                    errors.append(EditError(f"choice-en-{position}", _CHOICE_MESSAGE, params_, code))
        elif code is None and "page" in dict(params):
            errors.append(EditError("title_en", _PAGE_TITLE_MESSAGE))
        else:  # texts the editor has no field for (an imported question's own error messages)
            terms = {"parts": [part]} if part else {}
            errors.append(EditError("main", message, dict(params), code, terms))
    return errors


# --- Writing ------------------------------------------------------------------------------


def commit_spec(
    session: Session,
    *,
    survey: Survey,
    old: SurveySpec,
    new: SurveySpec,
    user_id: int | None,
    request: Any = None,
    what: str = "edit",
) -> None:
    """Write `new` over the stored survey, or refuse without writing anything."""
    assert survey.id is not None
    if survey.status == SurveyStatus.open.value:
        errors = english_loss_errors(old, new)
        if errors:
            raise EditRefused(errors)
    version_id = strategy_version_id(session, survey.cycle_id)
    if has_answers(session, survey.id):
        errors = lock_errors(old, new)
        if errors:
            raise EditRefused(errors)
        changes = _wording_changes(old, new)
        if not changes and not session.is_modified(survey):  # saved as it was: nothing to write or log
            return
        update_survey_wording(session, survey=survey, spec=new, strategy_version_id=version_id)
        details: dict[str, Any] = {"what": what, "locked": True, "changes": changes}
    else:
        replace_survey_structure(session, survey=survey, spec=new, strategy_version_id=version_id)
        details = {"what": what, "questions": len(new.questions), "pages": len(new.pages)}
    touch_survey(session, survey=survey)
    record_audit(session, user_id=user_id, action=EDIT_ACTION, target=survey.slug, details=details, request=request)
    session.flush()


def _load(session: Session, slug: str) -> tuple[Survey, SurveySpec]:
    """The survey and its structure, to change: every edit rewrites the structure it read, so two
    edits at once wait for each other."""
    if len(slug) <= 80:
        lock_for_update(session, Survey, Survey.slug == slug)
    survey = get_survey(session, slug)
    if survey is None:
        raise LookupError(slug)
    return survey, spec_from_rows(session, survey)


def load(session: Session, slug: str) -> tuple[Survey, SurveySpec] | None:
    try:
        return _load(session, slug)
    except LookupError:
        return None


def _pages_without(pages: tuple[PageSpec, ...], code: str) -> list[PageSpec]:
    return [page.model_copy(update={"questions": tuple(q for q in page.questions if q.code != code)}) for page in pages]


def locate(spec: SurveySpec, code: str) -> tuple[int, int] | None:
    """(page index, index on the page) of a question, both from 0."""
    for page_index, page in enumerate(spec.pages):
        for index, question in enumerate(page.questions):
            if question.code == code:
                return page_index, index
    return None


def save_question(
    session: Session,
    *,
    slug: str,
    original_code: str | None,
    page_number: int,
    question: QuestionSpec,
    user_id: int | None,
    request: Any = None,
) -> SurveySpec:
    """Add a question at the end of a page, or replace one where it stands (or at the end of
    another page when `page_number` names another)."""
    survey, old = _load(session, slug)
    if not 1 <= page_number <= len(old.pages):
        raise EditRefused([EditError("page", N_("Choose one of the survey's pages."))])
    pages = list(old.pages)
    place = locate(old, original_code) if original_code else None
    if original_code and place is None:
        raise LookupError(original_code)
    if place is not None and place[0] == page_number - 1:
        page = pages[place[0]]
        questions = list(page.questions)
        questions[place[1]] = question
        pages[place[0]] = page.model_copy(update={"questions": tuple(questions)})
    else:
        if original_code:
            pages = _pages_without(tuple(pages), original_code)
        target = pages[page_number - 1]
        pages[page_number - 1] = target.model_copy(update={"questions": (*target.questions, question)})
    new = build_spec(old, pages=tuple(pages))
    commit_spec(session, survey=survey, old=old, new=new, user_id=user_id, request=request, what="question")
    return new


def delete_question(session: Session, *, slug: str, code: str, user_id: int | None, request: Any = None) -> None:
    survey, old = _load(session, slug)
    if locate(old, code) is None:
        raise LookupError(code)
    new = build_spec(old, pages=tuple(_pages_without(old.pages, code)))
    commit_spec(session, survey=survey, old=old, new=new, user_id=user_id, request=request, what="delete question")


def move_question(
    session: Session, *, slug: str, code: str, direction: int, user_id: int | None, request: Any = None
) -> None:
    """One step up (-1) or down (+1); from the top or bottom of a page it goes to the
    neighbouring page's end or start."""
    survey, old = _load(session, slug)
    place = locate(old, code)
    if place is None:
        raise LookupError(code)
    page_index, index = place
    pages = [list(page.questions) for page in old.pages]
    questions = pages[page_index]
    question = questions.pop(index)
    if direction < 0 and index > 0:
        questions.insert(index - 1, question)
    elif direction < 0 and page_index > 0:
        pages[page_index - 1].append(question)
    elif direction > 0 and index < len(questions):
        questions.insert(index + 1, question)
    elif direction > 0 and page_index < len(pages) - 1:
        pages[page_index + 1].insert(0, question)
    else:
        return  # already first or last: nothing to do
    new_pages = tuple(
        page.model_copy(update={"questions": tuple(questions)})
        for page, questions in zip(old.pages, pages, strict=True)
    )
    new = build_spec(old, pages=new_pages)
    commit_spec(session, survey=survey, old=old, new=new, user_id=user_id, request=request, what="move question")


def add_page(session: Session, *, slug: str, title: dict[str, str], user_id: int | None, request: Any = None) -> int:
    survey, old = _load(session, slug)
    new = build_spec(old, pages=(*old.pages, PageSpec(title=title or None, questions=())))
    commit_spec(session, survey=survey, old=old, new=new, user_id=user_id, request=request, what="add page")
    return len(new.pages)


def save_page_title(
    session: Session, *, slug: str, number: int, title: dict[str, str], user_id: int | None, request: Any = None
) -> None:
    survey, old = _load(session, slug)
    if not 1 <= number <= len(old.pages):
        raise LookupError(number)
    pages = list(old.pages)
    pages[number - 1] = pages[number - 1].model_copy(update={"title": title or None})
    new = build_spec(old, pages=tuple(pages))
    commit_spec(session, survey=survey, old=old, new=new, user_id=user_id, request=request, what="page title")


def move_page(
    session: Session, *, slug: str, number: int, direction: int, user_id: int | None, request: Any = None
) -> None:
    survey, old = _load(session, slug)
    if not 1 <= number <= len(old.pages):
        raise LookupError(number)
    other = number - 1 + direction
    if not 0 <= other < len(old.pages):
        return
    pages = list(old.pages)
    pages[number - 1], pages[other] = pages[other], pages[number - 1]
    new = build_spec(old, pages=tuple(pages))
    commit_spec(session, survey=survey, old=old, new=new, user_id=user_id, request=request, what="move page")


def delete_page(session: Session, *, slug: str, number: int, user_id: int | None, request: Any = None) -> None:
    survey, old = _load(session, slug)
    if not 1 <= number <= len(old.pages):
        raise LookupError(number)
    if old.pages[number - 1].questions:
        raise EditRefused([EditError("page", N_("Move or delete the page's questions first."))])
    if len(old.pages) == 1:
        raise EditRefused([EditError("page", N_("A survey needs at least one page."))])
    pages = tuple(p for n, p in enumerate(old.pages, start=1) if n != number)
    new = build_spec(old, pages=pages)
    commit_spec(session, survey=survey, old=old, new=new, user_id=user_id, request=request, what="delete page")


# --- Settings, status, creation, copies ---------------------------------------------------


def check_new_slug(session: Session, slug: str, field_name: str = "slug") -> list[EditError]:
    if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
        message = N_("Use lower-case letters a–z, digits and hyphens, starting with a letter or digit (at most 80).")
        return [EditError(field_name, message)]
    if get_survey(session, slug) is not None:
        return [EditError(field_name, N_("There is already a survey with the address %(slug)s."), {"slug": slug})]
    return []


def create_survey(
    session: Session, *, spec: SurveySpec, cycle_id: int | None, user_id: int | None, request: Any = None
) -> Survey:
    errors = check_new_slug(session, spec.slug)
    if errors:
        raise EditRefused(errors)
    if not spec.pages:
        spec = spec.model_copy(update={"pages": (PageSpec(questions=()),)})
    survey = save_survey(
        session, spec=spec, cycle_id=cycle_id, strategy_version_id=strategy_version_id(session, cycle_id)
    )
    _continue_revision(session, survey)
    record_audit(session, user_id=user_id, action="survey.create", target=spec.slug, details={}, request=request)
    return survey


def save_settings(
    session: Session,
    *,
    slug: str,
    updates: dict[str, Any],
    cycle_id: int | None,
    user_id: int | None,
    request: Any = None,
) -> None:
    survey, old = _load(session, slug)
    new = build_spec(old, **updates)
    if new.opens_at and new.closes_at and new.closes_at <= new.opens_at:
        raise EditRefused([EditError("closes_at", N_("The survey must close after it opens."))])
    if cycle_id != survey.cycle_id:
        survey.cycle_id = cycle_id
    commit_spec(session, survey=survey, old=old, new=new, user_id=user_id, request=request, what="settings")


ALLOWED_STATUS_CHANGES = {
    SurveyStatus.draft: {SurveyStatus.open},
    SurveyStatus.open: {SurveyStatus.closed},
    SurveyStatus.closed: {SurveyStatus.open},
}


def raise_for_missing_english(spec: SurveySpec) -> None:
    """A survey offered in English opens only with all its texts in English: a resident who
    chooses English would otherwise read parts of it in Swedish. The refusal lists each gap (a
    question's links to that question) and the two ways on: write the texts, or offer the
    survey in Swedish only by clearing its English title."""
    gaps = readiness.english_gaps(spec) if readiness.offers_english(spec) else []
    if gaps:
        lead = EditError("english", N_(
            "The survey is offered in English, but some of its texts lack English, so residents who choose "
            "English would read them in Swedish. Write the English texts listed here, or clear the English "
            "title in the settings to offer the survey in Swedish only."
        ))
        listed = [EditError("english", gap.message, gap.params, gap.question, gap.terms) for gap in gaps]
        raise EditRefused([lead, *listed])


def set_status(session: Session, *, slug: str, status: SurveyStatus, user_id: int | None, request: Any = None) -> None:
    survey, spec = _load(session, slug)
    current = SurveyStatus(survey.status)
    if status not in ALLOWED_STATUS_CHANGES[current]:
        raise EditRefused([EditError("status", N_("This change of status is not possible."))])
    if status == SurveyStatus.open and not spec.questions:
        raise EditRefused([EditError("status", N_("Add at least one question before opening the survey."))])
    if status == SurveyStatus.open:
        raise_for_missing_english(spec)
    survey.status = status.value
    if status == SurveyStatus.open and survey.closes_at and not is_future(survey.closes_at):
        survey.closes_at = None  # reopened by hand: a closing time already passed no longer applies
    touch_survey(session, survey=survey)
    details = {"from": current.value, "to": status.value}
    record_audit(session, user_id=user_id, action="survey.status", target=slug, details=details, request=request)


def copy_survey(
    session: Session,
    *,
    slug: str,
    new_slug: str,
    title: dict[str, str],
    cycle_id: int | None,
    user_id: int | None,
    request: Any = None,
) -> Survey:
    """A new draft with the same pages, questions and choices; strategy links are resolved by
    key against the target cycle's strategy (keys are stable across versions)."""
    source = load_spec(session, slug=slug)
    if source is None:
        raise LookupError(slug)
    errors = check_new_slug(session, new_slug)
    if not title.get("sv"):
        errors.append(EditError("title_sv", N_("Write a title in Swedish.")))
    if errors:
        raise EditRefused(errors)
    pages = tuple(
        page.model_copy(update={"questions": tuple(q.model_copy(update={"id": None}) for q in page.questions)})
        for page in source.pages
    )
    spec = source.model_copy(
        update={
            "id": None,
            "revision": 1,
            "slug": new_slug,
            "title": title,
            "status": SurveyStatus.draft,
            "opens_at": None,
            "closes_at": None,
            "pages": pages,
        }
    )
    survey = save_survey(
        session, spec=spec, cycle_id=cycle_id, strategy_version_id=strategy_version_id(session, cycle_id)
    )
    _continue_revision(session, survey)
    record_audit(
        session, user_id=user_id, action="survey.copy", target=new_slug, details={"from": slug}, request=request
    )
    return survey


# --- Deleting -----------------------------------------------------------------------------

DELETE_ACTION = "survey.delete"
# Never deleted with a survey: a response stored after the check (by a respondent who sent the last
# page meanwhile) makes the deletion fail on its foreign key, and nothing is deleted.
KEPT_TABLES = {"response"}


@dataclass(frozen=True)
class DeletionSummary:
    """What deleting a survey removes besides the survey itself: shown on the confirmation page."""

    pages: int
    questions: int
    drafts: int
    campaign_links: int
    invitations: int


def _count(session: Session, model: Any, survey_id: int) -> int:
    return session.exec(select(func.count()).select_from(model).where(model.survey_id == survey_id)).one()


def deletion_summary(session: Session, survey: Survey) -> DeletionSummary:
    from consult.campaigns.models import CampaignLink, SurveyInvitation
    from consult.responses.models import ResponseDraft
    from consult.surveys.models import Question, SurveyPage

    assert survey.id is not None
    return DeletionSummary(
        pages=_count(session, SurveyPage, survey.id),
        questions=_count(session, Question, survey.id),
        drafts=_count(session, ResponseDraft, survey.id),
        campaign_links=_count(session, CampaignLink, survey.id),
        invitations=_count(session, SurveyInvitation, survey.id),
    )


def deletion_refusal(session: Session, survey: Survey) -> EditError | None:
    """Why the survey may not be deleted, or None. Stored responses (submitted or withdrawn) are
    kept: they are the consultation's record; closing the survey stops new ones instead."""
    if has_answers(session, survey.id or 0):
        return _answered_refusal()
    return None


def _answered_refusal() -> EditError:
    return EditError("main", N_(
        "The survey cannot be deleted: it has stored responses, and deleting it would remove them from "
        "the results. Close the survey instead, so that it takes no more answers; its responses stay."
    ))


def _delete_with_dependents(session: Session, table: Any, condition: Any, tables: list[Any]) -> None:
    """Delete the rows of `table` that meet `condition`, and first, depth first, every row of any
    table that refers to them (by a foreign key, or for the survey table by a survey_id column
    kept without one), so no constraint is broken on any database and nothing is left pointing
    at a removed row."""
    from sqlalchemy import delete as sql_delete
    from sqlalchemy import select as sql_select

    for child in tables:
        if child is table or child.name in KEPT_TABLES:
            continue
        for column in child.columns:
            referenced = [fk.column for fk in column.foreign_keys if fk.column.table is table]
            if not referenced and table.name == "survey" and column.name == "survey_id" and not column.foreign_keys:
                referenced = [table.c.id]
            for target in referenced:
                keys = sql_select(target).where(condition)
                _delete_with_dependents(session, child, column.in_(keys), tables)
    session.execute(sql_delete(table).where(condition))


def delete_survey(session: Session, *, slug: str, user_id: int | None, request: Any = None) -> DeletionSummary:
    """Delete a survey nobody has answered, with everything that refers to it (pages, questions,
    choices, unfinished drafts, campaign links, invitation codes, weighting targets, pending
    imports, export jobs, theme runs), in the caller's transaction: all of it, or with a refusal
    nothing at all."""
    from consult.tables import metadata

    survey, _spec = _load(session, slug)
    refusal = deletion_refusal(session, survey)
    if refusal is not None:
        raise EditRefused([refusal])
    summary = deletion_summary(session, survey)
    details = {
        "name": survey.title.get("sv", "") if survey.title else "",
        "status": survey.status,
        "revision": survey.revision,
        "pages": summary.pages,
        "questions": summary.questions,
    }
    survey_table = metadata.tables["survey"]
    session.flush()
    try:
        _delete_with_dependents(session, survey_table, survey_table.c.id == survey.id, list(metadata.sorted_tables))
    except IntegrityError as exc:  # a response arrived after the check: the caller rolls everything back
        raise EditRefused([_answered_refusal()]) from exc
    session.expunge(survey)
    record_audit(session, user_id=user_id, action=DELETE_ACTION, target=slug, details=details, request=request)
    return summary


def _continue_revision(session: Session, survey: Survey) -> None:
    """A survey made at the address of a deleted one continues its revision numbers: every worker
    caches definitions and public pages by address and revision, and must not take the new survey
    for the old one."""
    from consult.accounts.models import AuditEvent

    events = session.exec(
        select(AuditEvent.details).where(AuditEvent.action == DELETE_ACTION, AuditEvent.target == survey.slug)
    ).all()
    previous = max((as_whole_number(str((d or {}).get("revision", ""))) or 0 for d in events), default=0)
    if previous >= survey.revision:
        survey.revision = previous + 1
        session.add(survey)
        session.flush()


# --- XLSForm ------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    problems: list[XLSFormProblem] = field(default_factory=list)
    errors: list[EditError] = field(default_factory=list)
    survey: Survey | None = None


def import_xlsform(
    session: Session,
    *,
    data: bytes,
    slug: str | None,
    cycle_id: int | None,
    user_id: int | None,
    request: Any = None,
) -> ImportOutcome:
    """Create a survey from a workbook, or nothing at all if the workbook has any problem."""
    result = read_xlsform(data, slug=slug or None)
    if result.problems or result.spec is None:
        return ImportOutcome(problems=result.problems)
    spec = result.spec
    if spec.status != SurveyStatus.draft:
        # A survey's own export, imported to reuse it, starts as a draft whatever its status was: an
        # imported open survey would be public at once, beside the one it was copied from.
        spec = spec.model_copy(update={"status": SurveyStatus.draft})
    errors = check_new_slug(session, spec.slug)
    errors += _unresolved_priorities(session, spec, cycle_id)
    if errors:
        return ImportOutcome(errors=errors)
    survey = save_survey(
        session, spec=spec, cycle_id=cycle_id, strategy_version_id=strategy_version_id(session, cycle_id)
    )
    _continue_revision(session, survey)
    details = {"kind": "xlsform", "questions": len(spec.questions)}
    record_audit(session, user_id=user_id, action="import", target=spec.slug, details=details, request=request)
    return ImportOutcome(survey=survey)


def _unresolved_priorities(session: Session, spec: SurveySpec, cycle_id: int | None) -> list[EditError]:
    keys = {q.priority_key for q in spec.questions if q.priority_key}
    keys |= {c.priority_key for q in spec.questions for c in q.choices if c.priority_key}
    if not keys:
        return []
    version_id = strategy_version_id(session, cycle_id)
    known = {item.key for item in strategy_items(session, version_id=version_id)} if version_id else set()
    missing = sorted(keys - known)
    if not missing:
        return []
    message = N_("The form links to strategy items that the chosen review cycle does not have: %(keys)s.")
    return [EditError("cycle", message, {"keys": ", ".join(missing)})]


# --- Small helpers for pages ---------------------------------------------------------------


def question_choices_for_type(session: Session, question_type: QuestionType) -> tuple:
    """The fixed choices of the demographic types (municipalities from the database)."""
    municipalities_list = municipality_choices(session) if question_type == QuestionType.municipality else []
    return standard_choices(question_type, municipalities_list)


def localized_text(text: dict[str, str] | None, language: str) -> str:
    return pick(text, language)


def is_future(moment: datetime | None) -> bool:
    if moment is None:
        return False
    from datetime import UTC

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware > utcnow()
