"""The survey authoring pages under /admin/surveys. Thin: forms in forms.py, rules in service.py.
Every page works without JavaScript; every change is a POST that redirects back (303)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from consult.accounts.deps import require_role
from consult.accounts.models import Role, User
from consult.accounts.service import register_staff_link
from consult.authoring import readiness, service
from consult.authoring.forms import (
    BLANK_CHOICE_ROWS,
    NO_CYCLE,
    ChoiceRow,
    QuestionForm,
    SettingsForm,
    form_text,
    local_input,
)
from consult.authoring.service import EditError, EditRefused
from consult.core.formatting import local_stamp
from consult.core.i18n import N_, _, current_language
from consult.core.numbers import as_whole_number
from consult.core.templating import render
from consult.db import session_scope
from consult.strategy.models import ReviewCycle
from consult.strategy.service import cycles as review_cycles
from consult.surveys.models import CHOICE_TYPES, QuestionType, Survey, SurveyStatus
from consult.surveys.schema import PageSpec, SurveySpec
from consult.surveys.service import Availability, availability
from consult.surveys.wording import CONDITION_LABELS, describe_condition, ops_for
from consult.surveys.xlsform import read_relevant, write_xlsform

router = APIRouter(prefix="/admin/surveys", include_in_schema=False)
register_staff_link("/admin/surveys", N_("Surveys"), {Role.analyst})

Admin = Annotated[User, Depends(require_role(Role.admin))]
Viewer = Annotated[User, Depends(require_role(Role.analyst))]
Slug = Annotated[str, Query(max_length=80)]

MAX_UPLOAD_BYTES = 10_000_000
LOCKED_SETTINGS = (
    "code", "type", "required", "condition", "max_choices", "min_value", "max_value", "whole_numbers",
    "allow_dont_know", "max_length",
)  # fmt: skip
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TYPE_LABELS = {
    QuestionType.single_choice: N_("Single choice"),
    QuestionType.multiple_choice: N_("Multiple choice"),
    QuestionType.scale: N_("Scale"),
    QuestionType.ranking: N_("Ranking"),
    QuestionType.number: N_("Number"),
    QuestionType.short_text: N_("Short text"),
    QuestionType.long_text: N_("Long text"),
    QuestionType.municipality: N_("Municipality"),
    QuestionType.age_band: N_("Age band"),
    QuestionType.gender: N_("Gender"),
}
STATUS_LABELS = {
    SurveyStatus.draft: N_("Draft"),
    SurveyStatus.open: N_("Open"),
    SurveyStatus.closed: N_("Closed"),
}
DONE_MESSAGES = {
    "saved": N_("The changes are saved."),
    "created": N_("The survey is created. Add pages and questions below."),
    "moved": N_("Moved."),
    "deleted": N_("Deleted."),
    "status": N_("The status is changed."),
    "copied": N_("This is the new copy, a draft. Change it as you wish."),
    "imported": N_("The survey is imported from the XLSForm workbook, as a draft unless the form said otherwise."),
    "removed": N_("The survey is deleted, with its pages, questions, drafts, campaign links and invitation codes."),
}


def _lang() -> str:
    return current_language.get()


def _error_views(errors: list[EditError], *, current: str | None = None, fallback: str = "main") -> list[dict]:
    """Errors as the templates show them; an error about another question than the one on the
    form is listed in the summary and placed at `fallback`."""
    views = []
    for error in errors:
        field = error.field if error.field not in ("structure", "status") else "main"
        if error.question and current is not None and error.question != current:
            field = fallback
        views.append({"field": field, "text": error.text(_lang()), "question": error.question})
    return views


def _by_field(views: list[dict]) -> dict[str, str]:
    found: dict[str, str] = {}
    for view in views:
        found.setdefault(view["field"], view["text"])
    return found


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _survey_url(slug: str, **query: str) -> str:
    params = "&".join(f"{key}={quote(str(value))}" for key, value in query.items() if value)
    return f"/admin/surveys/{slug}" + (f"?{params}" if params else "")


def _load_or_404(session: Session, slug: str) -> tuple[Survey, SurveySpec]:
    found = service.load(session, slug)
    if found is None:
        raise HTTPException(404, _("There is no survey at this address."))
    return found


def _common(user: User) -> dict[str, Any]:
    return {
        "describe_condition": describe_condition,
        "can_edit": user.role == Role.admin,
        "type_labels": {t.value: _(label) for t, label in TYPE_LABELS.items()},
        "status_labels": {s.value: _(label) for s, label in STATUS_LABELS.items()},
        "condition_labels": {o.value: _(label) for o, label in CONDITION_LABELS.items()},
        "local_input": local_input,
        "local_time": local_stamp,
    }


# --- The list -----------------------------------------------------------------------------


@router.get("")
def survey_list(request: Request, user: Viewer, done: Annotated[str, Query(max_length=20)] = "") -> Response:
    with session_scope() as session:
        rows = service.survey_rows(session)
    context = {**_common(user), "rows": rows, "notice": _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None}
    return render(request, "authoring/list.html", context)


# --- Creating -----------------------------------------------------------------------------


def _settings_page(
    request: Request, user: User, *, form: SettingsForm, errors: list[EditError], template: str, extra: dict
) -> Response:
    views = _error_views(errors)
    with session_scope() as session:
        cycles = review_cycles(session)
    context = {**_common(user), "form": form, "errors": views, "error_by_field": _by_field(views), "cycles": cycles}
    return render(request, template, {**context, **extra}, 422 if errors else 200)


def _preselected_cycle(cycles: list) -> str:
    """A new survey's cycle before the admin chooses: the only one, or none to choose from. With
    several, nothing, so that a new consultation's answers do not end up in another cycle's
    dashboard and report."""
    if not cycles:
        return NO_CYCLE
    return str(cycles[0].id) if len(cycles) == 1 else ""


@router.get("/new")
def new_survey_form(request: Request, user: Admin) -> Response:
    with session_scope() as session:
        cycles = review_cycles(session)
    form = SettingsForm(cycle=_preselected_cycle(cycles))
    return _settings_page(request, user, form=form, errors=[], template="authoring/new.html", extra={})


@router.post("/new")
async def create_survey(request: Request, user: Admin) -> Response:
    form = SettingsForm.from_form(await request.form())
    with session_scope() as session:
        cycle_ids = {c.id for c in review_cycles(session) if c.id is not None}
    updates, cycle_id, errors = form.parse(cycle_ids, require_cycle=bool(cycle_ids))
    with session_scope() as session:
        errors = service.check_new_slug(session, form.slug) + errors
    if not errors:
        try:
            with session_scope() as session:
                spec = SurveySpec(slug=form.slug, pages=(PageSpec(questions=()),), **updates)
                service.create_survey(session, spec=spec, cycle_id=cycle_id, user_id=user.id, request=request)
        except EditRefused as refused:
            errors = refused.errors
    if errors:
        return _settings_page(request, user, form=form, errors=errors, template="authoring/new.html", extra={})
    return _redirect(_survey_url(form.slug, done="created"))


# --- XLSForm upload -----------------------------------------------------------------------


def _import_page(request: Request, user: User, **extra: Any) -> Response:
    with session_scope() as session:
        cycles = review_cycles(session)
    views = _error_views(extra.pop("errors", []))
    problems = extra.pop("problems", [])
    lang = _lang()
    context = {
        **_common(user),
        "cycles": cycles,
        "errors": views,
        "error_by_field": _by_field(views),
        "problems": [
            {"sheet": p.sheet, "row": p.row, "column": p.column, "cell": p.cell, "reason": p.message(lang)}
            for p in problems
        ],
        "values": extra.pop("values", {"slug": "", "cycle": _preselected_cycle(cycles)}),
    }
    status = 422 if views or problems else 200
    return render(request, "authoring/import.html", {**context, **extra}, status)


@router.get("/import")
def import_form(request: Request, user: Admin) -> Response:
    return _import_page(request, user)


@router.post("/import")
async def import_upload(request: Request, user: Admin) -> Response:
    form = await request.form()
    upload = form.get("file")
    slug = form.get("slug") if isinstance(form.get("slug"), str) else ""
    cycle = form.get("cycle") if isinstance(form.get("cycle"), str) else ""
    values = {"slug": str(slug)[:80].strip(), "cycle": str(cycle)}
    data = await upload.read(MAX_UPLOAD_BYTES + 1) if upload is not None and hasattr(upload, "read") else b""
    if not data:
        errors = [EditError("file", N_("Choose an XLSForm workbook (.xlsx) to upload."))]
        return _import_page(request, user, errors=errors, values=values)
    if len(data) > MAX_UPLOAD_BYTES:
        errors = [EditError("file", N_("The file is larger than 10 MB."))]
        return _import_page(request, user, errors=errors, values=values)
    with session_scope() as session:
        has_cycles = bool(review_cycles(session))
    if not values["cycle"] and has_cycles:
        message = N_("Choose the review cycle the survey belongs to, or “No review cycle”.")
        return _import_page(request, user, errors=[EditError("cycle", message)], values=values)
    with session_scope() as session:
        cycle_ids = {c.id for c in review_cycles(session)}
        cycle_id = as_whole_number(values["cycle"])
        cycle_id = cycle_id if cycle_id in cycle_ids else None
        outcome = service.import_xlsform(
            session, data=data, slug=values["slug"] or None, cycle_id=cycle_id, user_id=user.id, request=request
        )
        if outcome.problems or outcome.errors:
            session.rollback()
        created = outcome.survey.slug if outcome.survey else None
    if created is None:
        filename = getattr(upload, "filename", "") or ""
        return _import_page(
            request, user, problems=outcome.problems, errors=outcome.errors, values=values, filename=filename
        )
    return _redirect(_survey_url(created, done="imported"))


# --- One survey ---------------------------------------------------------------------------


def _overview(
    request: Request,
    user: User,
    slug: str,
    *,
    errors: list[EditError] | None = None,
    notice: str | None = None,
    focus: str = "",
) -> Response:
    with session_scope() as session:
        survey, spec = _load_or_404(session, slug)
        answered = service.response_counts(session, [survey.id or 0]).get(survey.id or 0, 0)
        cycle = session.get(ReviewCycle, survey.cycle_id) if survey.cycle_id else None
        priorities = {item.key: item.title for item in service.priority_options(session, survey.cycle_id)}
    views = _error_views(errors or [])
    gaps = [(gap.text(_), gap.question, gap.params.get("page")) for gap in readiness.gaps(spec)]
    for view in views:
        if view["question"] and view["question"] in spec.by_code:
            view["field"] = ""
            view["anchor"] = "question-" + view["question"]
        elif view["field"] == "english" and gaps:
            view["anchor"] = "gaps"  # what keeps the survey from opening, with a link to where each is fixed
        else:
            view["anchor"] = "main"
    context = {
        **_common(user),
        "survey": survey,
        "spec": spec,
        "answered": answered,
        "locked": answered > 0,
        "cycle": cycle,
        "priorities": priorities,
        "errors": views,
        "notice": notice,
        "focus": focus,
        "opens_in_future": service.is_future(spec.opens_at),
        "closed_by_schedule": survey.status == SurveyStatus.open and availability(spec) == Availability.closed,
        "gaps": gaps,
        "english_refused": any(view["field"] == "english" for view in views),
        "next_status": sorted(service.ALLOWED_STATUS_CHANGES[SurveyStatus(survey.status)]),
    }
    return render(request, "authoring/survey.html", context, 422 if views else 200)


@router.get("/{slug}")
def survey_overview(
    request: Request,
    slug: str,
    user: Viewer,
    done: Annotated[str, Query(max_length=20)] = "",
    focus: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    notice = _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None
    return _overview(request, user, slug, notice=notice, focus=focus)


def _apply(request: Request, user: User, slug: str, action, *, focus: str = "", done: str = "saved") -> Response:  # type: ignore[no-untyped-def]
    """Run one change; on refusal show the survey with the reasons and nothing changed."""
    try:
        with session_scope() as session:
            action(session)
    except EditRefused as refused:
        return _overview(request, user, slug, errors=refused.errors)
    except LookupError as missing:
        raise HTTPException(404, _("There is no such part of the survey.")) from missing
    # No #fragment: a page with a target fragment skips autofocus, which returns focus to the
    # button just pressed, so a keyboard user can press it again.
    return _redirect(_survey_url(slug, done=done, focus=focus))


async def _direction(request: Request) -> tuple[str, int]:
    """The move form's direction: its name for the focus anchor and its step (-1 up, 1 down)."""
    form = await request.form()
    name = "up" if form.get("direction") == "up" else "down"
    return name, -1 if name == "up" else 1


@router.post("/{slug}/status")
async def change_status(request: Request, slug: str, user: Admin) -> Response:
    form = await request.form()
    try:
        status = SurveyStatus(str(form.get("status", "")))
    except ValueError:
        return _overview(
            request, user, slug, errors=[EditError("status", N_("This change of status is not possible."))]
        )
    return _apply(
        request,
        user,
        slug,
        lambda s: service.set_status(s, slug=slug, status=status, user_id=user.id, request=request),
        done="status",
    )


@router.post("/{slug}/questions/{code}/move")
async def move_question(request: Request, slug: str, code: str, user: Admin) -> Response:
    direction, step = await _direction(request)
    return _apply(
        request,
        user,
        slug,
        lambda s: service.move_question(s, slug=slug, code=code, direction=step, user_id=user.id, request=request),
        focus=f"move-{code}-{direction}",
        done="moved",
    )


@router.post("/{slug}/questions/{code}/delete")
def delete_question(request: Request, slug: str, code: str, user: Admin) -> Response:
    return _apply(
        request,
        user,
        slug,
        lambda s: service.delete_question(s, slug=slug, code=code, user_id=user.id, request=request),
        done="deleted",
    )


@router.post("/{slug}/pages")
def add_page(request: Request, slug: str, user: Admin) -> Response:
    return _apply(
        request, user, slug, lambda s: service.add_page(s, slug=slug, title={}, user_id=user.id, request=request)
    )


@router.post("/{slug}/pages/{number}/move")
async def move_page(request: Request, slug: str, number: int, user: Admin) -> Response:
    direction, step = await _direction(request)
    return _apply(
        request,
        user,
        slug,
        lambda s: service.move_page(s, slug=slug, number=number, direction=step, user_id=user.id, request=request),
        focus=f"move-page-{number + step}-{direction}",
        done="moved",
    )


@router.post("/{slug}/pages/{number}/delete")
def delete_page(request: Request, slug: str, number: int, user: Admin) -> Response:
    return _apply(
        request,
        user,
        slug,
        lambda s: service.delete_page(s, slug=slug, number=number, user_id=user.id, request=request),
        done="deleted",
    )


# --- Page titles --------------------------------------------------------------------------


def _page_title_page(request: Request, user: User, slug: str, number: int, values: dict, errors: list) -> Response:
    with session_scope() as session:
        survey, spec = _load_or_404(session, slug)
    if not 1 <= number <= len(spec.pages):
        raise HTTPException(404, _("There is no such part of the survey."))
    views = _error_views(errors)
    context = {
        **_common(user),
        "spec": spec,
        "number": number,
        "values": values,
        "errors": views,
        "error_by_field": _by_field(views),
    }
    return render(request, "authoring/page_title.html", context, 422 if views else 200)


@router.get("/{slug}/pages/{number}")
def page_title_form(request: Request, slug: str, number: int, user: Admin) -> Response:
    with session_scope() as session:
        _survey, spec = _load_or_404(session, slug)
    title = (spec.pages[number - 1].title or {}) if 1 <= number <= len(spec.pages) else {}
    values = {"title_sv": title.get("sv", ""), "title_en": title.get("en", "")}
    return _page_title_page(request, user, slug, number, values, [])


@router.post("/{slug}/pages/{number}")
async def save_page_title(request: Request, slug: str, number: int, user: Admin) -> Response:
    form = await request.form()
    values = {name: form_text(form, name, 500) for name in ("title_sv", "title_en")}
    title = {lang: values[f"title_{lang}"] for lang in ("sv", "en") if values[f"title_{lang}"]}
    try:
        with session_scope() as session:
            service.save_page_title(session, slug=slug, number=number, title=title, user_id=user.id, request=request)
    except EditRefused as refused:
        return _page_title_page(request, user, slug, number, values, refused.errors)
    except LookupError as missing:
        raise HTTPException(404, _("There is no such part of the survey.")) from missing
    return _redirect(_survey_url(slug, done="saved", focus=f"page-{number}") + f"#page-{number}")


# --- Questions ----------------------------------------------------------------------------


def _condition_options(spec: SurveySpec, current: str | None, lang: str) -> list[dict]:
    """Choice questions a condition may name, with their choices; the question itself excluded."""
    return [
        {
            "code": q.code,
            "label": q.label(lang),
            "choices": [(f"{q.code}:{c.code}", c.text(lang), c.code) for c in q.choices],
        }
        for q in spec.questions
        if q.type in CHOICE_TYPES and q.code != current
    ]


def _condition_ops(spec: SurveySpec, form: QuestionForm) -> list[tuple[str, str]]:
    """The operators that fit the condition's question (once one is chosen): "is / is not" for a
    question with one answer, "includes / does not include" for one with several."""
    target = spec.by_code.get(form.condition_target.rpartition(":")[0])
    return [(op.value, _(words)) for op, words in ops_for(target).items()]


def _expression_description(spec: SurveySpec, expression: str) -> str:
    """A combined condition's expression in words, when it can be read ("" otherwise)."""
    if not expression:
        return ""
    condition, _problems = read_relevant(expression, spec.by_code)
    return describe_condition(spec, condition) if condition is not None else ""


def _question_page(
    request: Request,
    user: User,
    slug: str,
    form: QuestionForm,
    *,
    original: str | None,
    errors: list[EditError] | None = None,
    notice: str | None = None,
    focus: str = "",
    blank_rows: int = BLANK_CHOICE_ROWS,
) -> Response:
    lang = _lang()
    with session_scope() as session:
        survey, spec = _load_or_404(session, slug)
        locked = service.has_answers(session, survey.id or 0)
        priorities = service.priority_options(session, survey.cycle_id)
        standard = (
            service.question_choices_for_type(session, QuestionType(form.type))
            if form.question_type in service.STANDARD_TYPES
            else ()
        )
    views = _error_views(
        errors or [], current=form.code or original, fallback="choices" if form.has_editable_choices else "code"
    )
    rows = list(form.choices)
    if form.has_editable_choices and not locked:
        rows += [ChoiceRow() for _ in range(blank_rows)]
    context = {
        **_common(user),
        "spec": spec,
        "survey": survey,
        "form": form,
        "rows": rows,
        "original": original,
        "locked": locked and original is not None,
        "priorities": priorities,
        "standard_choices": standard,
        "condition_options": _condition_options(spec, original, lang),
        "condition_ops": _condition_ops(spec, form),
        "condition_description": _expression_description(spec, form.condition_expression),
        "editable_choices": form.has_editable_choices,
        "errors": views,
        "error_by_field": _by_field(views),
        "notice": notice,
        "focus": focus,
        "types": [t.value for t in QuestionType],
    }
    return render(request, "authoring/question.html", context, 422 if views else 200)


@router.get("/{slug}/questions/new")
def new_question_form(
    request: Request,
    slug: str,
    user: Admin,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    type: Annotated[str, Query(max_length=20)] = "",  # noqa: A002 - the form field's name
) -> Response:
    with session_scope() as session:
        survey, spec = _load_or_404(session, slug)
        locked = service.has_answers(session, survey.id or 0)
    if locked:
        errors = [
            EditError(
                "structure",
                N_("No question can be added: the survey has answers. Copy the survey to make a new version."),
            )
        ]
        return _overview(request, user, slug, errors=errors)
    if type not in {t.value for t in QuestionType}:
        context = {
            **_common(user),
            "spec": spec,
            "page": min(page, len(spec.pages)),
            "types": [t.value for t in QuestionType],
        }
        return render(request, "authoring/question_type.html", context)
    return _question_page(
        request, user, slug, QuestionForm(type=type, page=str(min(page, len(spec.pages)))), original=None
    )


@router.get("/{slug}/questions/{code}/edit")
def edit_question_form(
    request: Request,
    slug: str,
    code: str,
    user: Admin,
    done: Annotated[str, Query(max_length=20)] = "",
    focus: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    with session_scope() as session:
        _survey, spec = _load_or_404(session, slug)
    place = service.locate(spec, code)
    if place is None:
        raise HTTPException(404, _("There is no such part of the survey."))
    form = QuestionForm.from_spec(spec.by_code[code], place[0] + 1, spec)
    notice = _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None
    return _question_page(request, user, slug, form, original=code, notice=notice, focus=focus)


def _lock_form(submitted: QuestionForm, stored: QuestionForm) -> QuestionForm:
    """For an answered survey only wording is taken from the form; everything else stays."""
    locked = QuestionForm(**{**stored.__dict__, "choices": []})
    for name in ("text_sv", "text_en", "help_sv", "help_en", "low_sv", "low_en", "high_sv", "high_en", "priority"):
        setattr(locked, name, getattr(submitted, name))
    for index, row in enumerate(stored.choices):
        typed = submitted.choices[index] if index < len(submitted.choices) else row
        locked.choices.append(ChoiceRow(row.code, typed.sv, typed.en, typed.priority, name=row.name))
    return locked


def _place_choice_errors(errors: list[EditError], form: QuestionForm) -> list[EditError]:
    """The service names a choice by its position among the question's choices ("choice-en-2");
    the form's row is that choice's row among those not empty and not removed."""
    rows = [index for index, row in enumerate(form.choices) if not row.blank and not row.remove]
    placed = []
    for error in errors:
        prefix, _sep, number = error.field.rpartition("-")
        position = as_whole_number(number) if prefix == "choice-en" else None
        if position is not None:
            field = f"choice-{rows[position]}-en" if position < len(rows) else "choices"
            error = replace(error, field=field)
        placed.append(error)
    return placed


async def _save_question(request: Request, user: User, slug: str, original: str | None) -> Response:
    raw = await request.form(max_fields=2000)
    with session_scope() as session:
        survey, spec = _load_or_404(session, slug)
        locked = service.has_answers(session, survey.id or 0)
        old = spec.by_code.get(original) if original else None
        if original and old is None:
            raise HTTPException(404, _("There is no such part of the survey."))
        form = QuestionForm.from_form(raw, old)
        if locked and old is not None:
            place = service.locate(spec, old.code)
            form = _lock_form(form, QuestionForm.from_spec(old, (place or (0, 0))[0] + 1, spec))
        action = str(raw.get("action", "save"))
        add_row = action == "add-choice" and form.has_editable_choices and not locked
        moved_code = ""
        if action.startswith(("choice-up-", "choice-down-")) and not locked:
            direction, _sep, index = action.removeprefix("choice-").partition("-")
            position = as_whole_number(index)
            if position is not None:
                new_index = form.move_choice(position, -1 if direction == "up" else 1)
                if new_index is not None:
                    moved_code = f"{direction}:{new_index}"
        if add_row:
            question, errors = None, []
        else:
            question, errors = form.to_spec(
                standard_choices=lambda qtype: service.question_choices_for_type(session, qtype),
                questions=spec.by_code,
            )
        if locked and old is not None and question is not None:
            # Settings are kept exactly as stored (a form round trip may normalise e.g. 1–5 scale bounds).
            question = question.model_copy(update={name: getattr(old, name) for name in LOCKED_SETTINGS})
    if add_row:
        # One more empty row, with everything typed kept; nothing is stored until Save.
        filled = [row for row in form.choices if not row.blank]
        blank = len(form.choices) - len(filled) + 1
        form.choices = filled
        focus = f"field-choice-{len(filled) + blank - 1}-code"
        return _question_page(request, user, slug, form, original=original, focus=focus, blank_rows=blank)
    if not errors and question is not None:
        page_number = as_whole_number(form.page) or 0
        try:
            with session_scope() as session:
                service.save_question(
                    session,
                    slug=slug,
                    original_code=original,
                    page_number=page_number,
                    question=question,
                    user_id=user.id,
                    request=request,
                )
        except EditRefused as refused:
            errors = _place_choice_errors(refused.errors, form)
    if errors or question is None:
        return _question_page(request, user, slug, form, original=original, errors=errors)
    if moved_code:
        direction, _sep, index = moved_code.partition(":")
        target = f"/admin/surveys/{slug}/questions/{question.code}/edit?done=moved&focus=choice-{direction}-{index}"
        return _redirect(target)
    return _redirect(_survey_url(slug, done="saved", focus=f"question-{question.code}") + f"#question-{question.code}")


@router.post("/{slug}/questions/new")
async def create_question(request: Request, slug: str, user: Admin) -> Response:
    return await _save_question(request, user, slug, None)


@router.post("/{slug}/questions/{code}/edit")
async def update_question(request: Request, slug: str, code: str, user: Admin) -> Response:
    return await _save_question(request, user, slug, code)


# --- Settings, copies, preview, download ---------------------------------------------------


@router.get("/{slug}/settings")
def settings_form(request: Request, slug: str, user: Admin) -> Response:
    with session_scope() as session:
        survey, spec = _load_or_404(session, slug)
    form = SettingsForm.from_spec(spec, survey.cycle_id)
    return _settings_page(request, user, form=form, errors=[], template="authoring/settings.html", extra={"spec": spec})


@router.post("/{slug}/settings")
async def save_settings(request: Request, slug: str, user: Admin) -> Response:
    form = SettingsForm.from_form(await request.form())
    with session_scope() as session:
        _survey, spec = _load_or_404(session, slug)
        cycle_ids = {c.id for c in review_cycles(session) if c.id is not None}
    form.slug = spec.slug
    updates, cycle_id, errors = form.parse(cycle_ids)
    if not errors:
        try:
            with session_scope() as session:
                service.save_settings(
                    session, slug=slug, updates=updates, cycle_id=cycle_id, user_id=user.id, request=request
                )
        except EditRefused as refused:
            errors = refused.errors
    if errors:
        return _settings_page(
            request, user, form=form, errors=errors, template="authoring/settings.html", extra={"spec": spec}
        )
    return _redirect(_survey_url(slug, done="saved"))


def _copy_page(request: Request, user: User, slug: str, values: dict, errors: list) -> Response:
    with session_scope() as session:
        survey, spec = _load_or_404(session, slug)
        cycles = review_cycles(session)
    views = _error_views(errors)
    context = {
        **_common(user),
        "spec": spec,
        "survey": survey,
        "cycles": cycles,
        "values": values,
        "errors": views,
        "error_by_field": _by_field(views),
    }
    return render(request, "authoring/copy.html", context, 422 if views else 200)


@router.get("/{slug}/copy")
def copy_form(request: Request, slug: str, user: Admin) -> Response:
    with session_scope() as session:
        _survey, spec = _load_or_404(session, slug)
        cycles = review_cycles(session)
    values = {
        "slug": f"{spec.slug}-kopia"[:80],
        "title_sv": spec.title.get("sv", ""),
        "title_en": spec.title.get("en", ""),
        "cycle": str(cycles[0].id) if cycles else "",
    }
    return _copy_page(request, user, slug, values, [])


@router.post("/{slug}/copy")
async def copy_survey(request: Request, slug: str, user: Admin) -> Response:
    form = await request.form()
    values = {name: form_text(form, name, 500) for name in ("slug", "title_sv", "title_en", "cycle")}
    title = {lang: values[f"title_{lang}"] for lang in ("sv", "en") if values[f"title_{lang}"]}
    try:
        with session_scope() as session:
            cycle_ids = {c.id for c in review_cycles(session)}
            cycle_id = as_whole_number(values["cycle"])
            cycle_id = cycle_id if cycle_id in cycle_ids else None
            service.copy_survey(
                session,
                slug=slug,
                new_slug=values["slug"],
                title=title,
                cycle_id=cycle_id,
                user_id=user.id,
                request=request,
            )
    except EditRefused as refused:
        return _copy_page(request, user, slug, values, refused.errors)
    except LookupError as missing:
        raise HTTPException(404, _("There is no survey at this address.")) from missing
    return _redirect(_survey_url(values["slug"], done="copied"))


def _delete_page(request: Request, user: User, slug: str, errors: list[EditError]) -> Response:
    """What deleting the survey would remove, and the button that does it; or, for a survey that
    may not be deleted, why not and what to do instead (without a button)."""
    with session_scope() as session:
        survey, spec = _load_or_404(session, slug)
        summary = service.deletion_summary(session, survey)
        refusal = service.deletion_refusal(session, survey)
        answered = service.response_counts(session, [survey.id or 0]).get(survey.id or 0, 0)
    views = _error_views(errors)
    context = {
        **_common(user),
        "spec": spec,
        "survey": survey,
        "summary": summary,
        "answered": answered,
        "refusal": refusal.text(_lang()) if refusal is not None and not errors else None,
        "refused": refusal is not None,
        "errors": views,
    }
    return render(request, "authoring/delete.html", context, 422 if errors else 200)


@router.get("/{slug}/delete")
def delete_form(request: Request, slug: str, user: Admin) -> Response:
    return _delete_page(request, user, slug, [])


@router.post("/{slug}/delete")
def delete_survey(request: Request, slug: str, user: Admin) -> Response:
    try:
        with session_scope() as session:
            service.delete_survey(session, slug=slug, user_id=user.id, request=request)
    except EditRefused as refused:
        return _delete_page(request, user, slug, refused.errors)
    except LookupError as missing:
        raise HTTPException(404, _("There is no survey at this address.")) from missing
    return _redirect("/admin/surveys?done=removed")


@router.get("/{slug}/preview")
def preview(request: Request, slug: str, user: Viewer, page: Annotated[int, Query(ge=0, le=1000)] = 0) -> Response:
    """The survey as a respondent sees it, page by page, without starting a response."""
    with session_scope() as session:
        _survey, spec = _load_or_404(session, slug)
    page = min(page, len(spec.pages))
    context = {
        **_common(user),
        "spec": spec,
        "page": page,
        "page_count": len(spec.pages),
        "page_spec": spec.pages[page - 1] if page else None,
        "by_code": spec.by_code,
    }
    return render(request, "authoring/preview.html", context)


@router.get("/{slug}/xlsform")
def download_xlsform(slug: str, user: Viewer) -> Response:
    with session_scope() as session:
        _survey, spec = _load_or_404(session, slug)
    headers = {"Content-Disposition": f'attachment; filename="{spec.slug}.xlsx"'}
    return Response(write_xlsform(spec), media_type=XLSX_TYPE, headers=headers)
