"""Interviewer pages (/intervju) and the analysts' review pages (/granskning). Thin: the
rules are in consult/interviews/service.py and consult/responses/review.py."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from consult.accounts.deps import require_role
from consult.accounts.models import AuditAction, Role, User
from consult.accounts.service import list_users, record_audit, register_staff_link
from consult.core.fields import utcnow
from consult.core.formatting import local_stamp, typed_number
from consult.core.i18n import N_, _, current_language, ngettext
from consult.core.redacting import REMOVED, placeholders, redact
from consult.core.routing import RowId
from consult.core.templating import paging, render
from consult.db import session_scope
from consult.interviews import service
from consult.responses import identity as identities
from consult.responses import redaction, review
from consult.responses.flow import form_values_for_template
from consult.responses.messages import error_message
from consult.responses.models import CHANNEL_LABELS, ReviewState
from consult.responses.models import Response as ResponseRow
from consult.responses.service import Outcome, Stored
from consult.responses.validation import FieldError, Value, answers_required
from consult.surveys import kiosk as kiosk_mode
from consult.surveys.models import SINGLE_CODE_TYPES, QuestionType, Survey
from consult.surveys.schema import QuestionSpec, SurveySpec
from consult.surveys.service import list_open_surveys, load_spec

router = APIRouter(include_in_schema=False)

register_staff_link("/granskning", N_("Review responses"), {Role.analyst.value})

Interviewer = Annotated[User, Depends(require_role(Role.interviewer.value))]
Analyst = Annotated[User, Depends(require_role(Role.analyst.value))]
# Corrections: interviewers their own entries of the day, analysts (and admins) any response.
Corrector = Annotated[User, Depends(require_role(Role.interviewer.value, Role.analyst.value))]

REVIEW_PAGE_SIZE = 50
STATE_LABELS = {
    ReviewState.received.value: N_("Received"),
    ReviewState.has_issues.value: N_("Has issues"),
    ReviewState.edited.value: N_("Edited"),
    ReviewState.approved.value: N_("Approved"),
    ReviewState.rejected.value: N_("Rejected"),
}


def _language() -> str:
    return current_language.get()


IDENTITY_LABELS = {"name": N_("Respondent's name"), "email": N_("E-mail address (optional)"),
                   "organisation": N_("Organisation (optional)")}


def _field_errors(spec: SurveySpec, errors: list[FieldError] | None,
                  identity_problems: list[identities.IdentityProblem] | None = None, *,
                  channel: str = "") -> dict[str, Any]:
    """An entry form's errors for its template: the summary's list and each field's message, who
    answered first (it comes first in the form)."""
    language = _language()
    shown = [
        {"field": service.IDENTITY_FORM_FIELDS[p.field], "label": _(IDENTITY_LABELS[p.field]), "message": _(p.message)}
        for p in identity_problems or []
    ] + [
        {
            "field": e.field,
            "label": spec.by_code[e.field].label(language) if e.field in spec.by_code else e.field,
            "message": error_message(e, language, spec.by_code.get(e.field), paper=not answers_required(channel)),
        }
        for e in errors or []
    ]
    return {"errors": shown, "error_by_field": {e["field"]: e["message"] for e in shown}}


def _values_shown_again(outcome: service.EntryOutcome) -> dict[str, Any]:
    """A refused entry's values as typed, to show in the form again."""
    return {**form_values_for_template(outcome.values), **outcome.typed}


def _open_surveys() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(s.slug, s.title.get(_language()) or s.title.get("sv", s.slug)) for s in list_open_surveys(session)]


def _used_places() -> dict[str, list[str]]:
    """Per open survey (by slug), the place and event names its responses already carry."""
    with session_scope() as session:
        surveys = list_open_surveys(session)
        places = service.used_places(session, survey_ids=[s.id for s in surveys if s.id is not None])
        return {s.slug: places[s.id] for s in surveys if s.id in places}


def _open_slugs() -> set[str]:
    return {slug for slug, _title in _open_surveys()}


def _spec(slug: str) -> SurveySpec:
    from consult.surveys.views import survey_or_404

    return survey_or_404(slug)


# --- the interviewer's start page -------------------------------------------------------------


def _setup_page(
    request: Request,
    user: User,
    *,
    setup: service.Setup | None = None,
    kiosk: service.KioskSetup | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    with session_scope() as session:
        entries = service.todays_entries(session, user_id=user.id or 0, now=utcnow())
    surveys = _open_surveys()
    context = {
        "surveys": surveys,
        # The names already used, offered on the place fields (a datalist per survey): the same
        # event typed another way would count apart. The list follows the chosen survey.
        "used_places": _used_places(),
        "first_survey": surveys[0][0] if surveys else "",
        "channels": service.INTERVIEW_CHANNELS,
        "channel_labels": CHANNEL_LABELS,
        "state_labels": STATE_LABELS,
        "setup": setup or service.Setup(survey="", channel="", place=""),
        "kiosk": kiosk or service.KioskSetup(survey="", event_name=""),
        "errors": {k: _(v) for k, v in (errors or {}).items()},
        "entries": entries,
        "notice": notice,
        "local_time": lambda moment: local_stamp(moment, "%H:%M"),
    }
    return render(request, "interviews/setup.html", context, status_code)


@router.get("/intervju")
def interview_start(
    request: Request,
    user: Interviewer,
    corrected: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    survey: Annotated[str, Query(max_length=80)] = "",
    channel: Annotated[str, Query(max_length=24)] = "",
    place: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    notice = _("Your correction was saved.") if corrected else None
    setup = service.Setup(survey=survey, channel=channel, place=service.clean_place(place)[:200])
    return _setup_page(request, user, setup=setup, notice=notice)


def _setup_or_errors(survey: str, channel: str, place: str) -> tuple[service.Setup, dict[str, str]]:
    setup = service.Setup(survey=survey.strip(), channel=channel, place=service.clean_place(place))
    return setup, service.setup_errors(setup, _open_slugs())


@router.post("/intervju/kiosk")
def open_kiosk(
    request: Request,
    user: Interviewer,
    survey: Annotated[str, Form(max_length=80)] = "",
    place: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Hand the device over as a kiosk: the survey's start page in kiosk mode, with this device
    logged out, so the respondents who use it next cannot reach the staff pages."""
    kiosk = service.KioskSetup(survey=survey.strip(), event_name=service.clean_place(place))
    errors = service.kiosk_errors(kiosk, _open_slugs())
    if errors:
        return _setup_page(request, user, kiosk=kiosk, errors=errors, status_code=422)
    with session_scope() as session:
        record_audit(session, user_id=user.id, action=AuditAction.logout, request=request)
    request.session.clear()
    # The kiosk keeps the language of the page it was opened from: every next person starts in it.
    language = request.state.language
    response = RedirectResponse(service.kiosk_start_url(kiosk, language), status_code=303)
    # Only this, done by a logged-in interviewer, makes a device a kiosk: see consult.surveys.kiosk.
    kiosk_mode.put_in_kiosk_mode(request, response, slug=kiosk.survey, event_name=kiosk.event_name,
                                 language=language)
    return response


# --- entering responses ---------------------------------------------------------------------------


def _entry_page(
    request: Request,
    *,
    spec: SurveySpec,
    setup: service.Setup,
    values: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    identity_problems: list[identities.IdentityProblem] | None = None,
    client_uuid: str | None = None,
    started_at: str | None = None,
    saved: int | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "spec": spec,
        "setup": setup,
        "channel_label": _(CHANNEL_LABELS[setup.channel]),
        "blanks_allowed": not answers_required(setup.channel),
        "values": values or {},
        "identity_fields": service.IDENTITY_FORM_FIELDS if identities.asks_identity(spec) else None,
        "identity_labels": IDENTITY_LABELS,
        **_field_errors(spec, errors, identity_problems, channel=setup.channel),
        "client_uuid": client_uuid or str(uuid.uuid4()),
        "started_at": started_at or utcnow().isoformat(),
        "saved": saved,
        "setup_query": urlencode({"survey": setup.survey, "channel": setup.channel, "place": setup.place}),
    }
    return render(request, "interviews/entry.html", context, status_code)


@router.get("/intervju/formular")
def entry_form(
    request: Request,
    user: Interviewer,
    survey: Annotated[str, Query(max_length=80)] = "",
    channel: Annotated[str, Query(max_length=24)] = "",
    place: Annotated[str, Query(max_length=400)] = "",
    saved: Annotated[int | None, Query(ge=0, le=10_000_000)] = None,
) -> Response:
    setup, errors = _setup_or_errors(survey, channel, place)
    if errors:
        return _setup_page(request, user, setup=setup, errors=errors, status_code=422)
    return _entry_page(request, spec=_spec(setup.survey), setup=setup, saved=saved)


@router.post("/intervju/formular")
async def save_entry(request: Request, user: Interviewer) -> Response:
    from consult.app import writer

    form = await request.form()
    setup, setup_problems = _setup_or_errors(
        str(form.get("survey", ""))[:80], str(form.get("channel", ""))[:24], str(form.get("place", ""))[:400]
    )
    if setup_problems:
        return _setup_page(request, user, setup=setup, errors=setup_problems, status_code=422)
    spec = _spec(setup.survey)
    client_uuid = _valid_uuid(str(form.get("client_uuid", ""))) or str(uuid.uuid4())
    started_raw = str(form.get("started_at", ""))[:40]
    outcome = service.validate_entry(spec, form, required=answers_required(setup.channel))
    if not outcome.ok:
        values = _values_shown_again(outcome)
        return _entry_page(
            request,
            spec=spec,
            setup=setup,
            values=values,
            errors=outcome.errors,
            identity_problems=outcome.identity_problems,
            client_uuid=client_uuid,
            started_at=started_raw,
            status_code=422,
        )
    now = utcnow()
    started, submitted = service.clamp_times(service.parse_time(started_raw), None, now)
    item = service.new_entry(
        spec,
        values=outcome.values,
        client_uuid=client_uuid,
        channel=setup.channel,
        place=setup.place,
        user_id=user.id,
        language=_language(),
        started_at=started,
        submitted_at=submitted,
        identity=outcome.identity,
    )
    stored: Stored = await writer.submit("response", item)
    if stored.outcome == Outcome.conflict:
        raise HTTPException(409, _("This entry was already saved with other answers. Start a new entry."))
    count = _todays_count(user)
    query = urlencode({"survey": setup.survey, "channel": setup.channel, "place": setup.place, "saved": count})
    return RedirectResponse(f"/intervju/formular?{query}", status_code=303)


def _todays_count(user: User) -> int:
    with session_scope() as session:
        return len(service.todays_entries(session, user_id=user.id or 0, now=utcnow()))


def _valid_uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value)) if value and len(value) <= 40 else None
    except ValueError:
        return None


# --- corrections ---------------------------------------------------------------------------------


def _is_reviewer(user: User) -> bool:
    return user.role in (Role.admin, Role.analyst)


def _correctable(session: Session, user: User, response_id: int) -> tuple[ResponseRow, SurveySpec]:
    response = session.get(ResponseRow, response_id)
    reviewer = _is_reviewer(user)
    # To an interviewer another person's response is "no such response", so ids do not tell how
    # many exist or whose they are. Reviewers see every response on /granskning anyway.
    if response is None or not (reviewer or response.entered_by_id == user.id):
        raise HTTPException(404, _("There is no such response."))
    if not service.may_correct(response, user_id=user.id or 0, reviewer=reviewer, now=utcnow()):
        raise HTTPException(
            403,
            _("You can correct your own entries only on the day you entered them. "
              "Ask an analyst or an administrator to correct this one."),
        )
    survey = session.get(Survey, response.survey_id)
    spec = load_spec(session, slug=survey.slug) if survey else None
    if spec is None:
        raise HTTPException(404, _("There is no such response."))
    return response, spec


# Where a correction returns to: the review page it was opened from, else the interviewer's start
# page. A fixed name rather than a URL, so the form cannot be made to redirect elsewhere.
FROM_REVIEW = "granskning"


def _back_to_review(user: User, source: str) -> bool:
    # An analyst has no interviewer pages to go back to, whatever the link said.
    return source == FROM_REVIEW or user.role == Role.analyst


def _correction_page(
    request: Request,
    *,
    response: ResponseRow,
    spec: SurveySpec,
    values: dict[str, Any],
    from_review: bool,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "spec": spec,
        "response": response,
        "from_review": from_review,
        "from_review_value": FROM_REVIEW,
        "channel_label": _(CHANNEL_LABELS.get(response.channel, response.channel)),
        "submitted": local_stamp(response.submitted_at),
        "values": values,
        **_field_errors(spec, errors, channel=response.channel),
    }
    return render(request, "interviews/correct.html", context, status_code)


@router.get("/intervju/svar/{response_id}")
def correction_form(
    request: Request,
    response_id: RowId,
    user: Corrector,
    fran: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    with session_scope() as session:
        response, spec = _correctable(session, user, response_id)
        values = review.current_answers(session, spec=spec, response_id=response_id)
    return _correction_page(
        request,
        response=response,
        spec=spec,
        values=form_values_for_template(values),
        from_review=_back_to_review(user, fran),
    )


@router.post("/intervju/svar/{response_id}")
async def save_correction(request: Request, response_id: RowId, user: Corrector) -> Response:
    form = await request.form()
    from_review = _back_to_review(user, str(form.get("fran", ""))[:20])
    with session_scope() as session:
        response, spec = _correctable(session, user, response_id)
        outcome = service.validate_entry(
            spec, form, required=answers_required(response.channel), with_identity=False
        )
        if not outcome.ok:
            values = _values_shown_again(outcome)
            return _correction_page(
                request,
                response=response,
                spec=spec,
                values=values,
                from_review=from_review,
                errors=outcome.errors,
                status_code=422,
            )
        edited = review.edit_response(
            session, spec=spec, response_id=response_id, values=outcome.values, user_id=user.id, request=request
        )
    if from_review:
        return RedirectResponse(
            f"/granskning/{response_id}?corrected={1 if edited.changes else 0}", status_code=303
        )
    return RedirectResponse(f"/intervju?corrected={response_id}", status_code=303)


# --- review (analysts) -----------------------------------------------------------------------------


def _display_value(question: QuestionSpec, value: Value, language: str) -> str:
    """An answer as an analyst reads it; free text is redacted."""
    if value is None:
        return _("Don't know") if question.type == QuestionType.scale else "–"
    if question.type in SINGLE_CODE_TYPES and isinstance(value, int):
        choice = question.choice(value)
        return choice.text(language) if choice else str(value)
    if isinstance(value, list):
        labels = []
        for code in value:
            choice = question.choice(code) if isinstance(code, int) else None
            labels.append(choice.text(language) if choice else str(code))
        return ", ".join(labels) if question.type != QuestionType.ranking else " > ".join(labels)
    if isinstance(value, float):
        return typed_number(value)
    return redact(str(value), language)


@router.get("/granskning")
def review_list(
    request: Request,
    _user: Analyst,
    survey: Annotated[str, Query(max_length=80)] = "",
    state: Annotated[str, Query(max_length=12)] = "",
    flagged: Annotated[str, Query(max_length=3)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    with session_scope() as session:
        surveys = list(session.execute(select(Survey.id, Survey.slug, Survey.title).order_by(Survey.slug)).all())
    chosen = next((row for row in surveys if row.slug == survey), None)
    if chosen is not None:
        _refresh_burst_flags(chosen.id)
    with session_scope() as session:
        conditions = []
        if chosen is not None:
            conditions.append(ResponseRow.survey_id == chosen.id)
        if state in STATE_LABELS:
            conditions.append(ResponseRow.review_state == state)
        if flagged == "1":
            from consult.responses.review_models import ResponseFlag

            conditions.append(
                ResponseRow.id.in_(select(ResponseFlag.response_id).where(ResponseFlag.burst))  # type: ignore[union-attr]
            )
        total = session.execute(select(func.count()).select_from(ResponseRow).where(*conditions)).scalar_one()
        rows = session.execute(
            select(
                ResponseRow.id,
                ResponseRow.survey_id,
                ResponseRow.channel,
                ResponseRow.event_name,
                ResponseRow.submitted_at,
                ResponseRow.review_state,
            )
            .where(*conditions)
            .order_by(ResponseRow.submitted_at.desc(), ResponseRow.id.desc())
            .offset((page - 1) * REVIEW_PAGE_SIZE)
            .limit(REVIEW_PAGE_SIZE)
        ).all()
        flags = review.burst_flagged(session, [r.id for r in rows])
    language = _language()
    titles = {row.id: row.title.get(language) or row.title.get("sv", row.slug) for row in surveys}
    query = {"survey": survey, "state": state, "flagged": flagged}
    context = {
        "surveys": [(row.slug, titles[row.id]) for row in surveys],
        "rows": rows,
        "flags": flags,
        "titles": titles,
        "values": query,
        "total": total,
        **paging("/granskning", query, page=page, total=total, page_size=REVIEW_PAGE_SIZE),
        "state_labels": STATE_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "local_time": local_stamp,
    }
    return render(request, "responses/review_list.html", context)


def _refresh_burst_flags(survey_id: int) -> None:
    """Keep the marks current for the survey in view. Two analysts may do this at once; the
    one who loses the race finds the flags already written, which is all that matters."""
    try:
        with session_scope() as session:
            review.flag_bursts(session, survey_id)
    except IntegrityError:
        pass


def _review_page(
    request: Request,
    response_id: RowId,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    language = _language()
    with session_scope() as session:
        response = session.get(ResponseRow, response_id)
        if response is None:
            raise HTTPException(404, _("There is no such response."))
        survey = session.get(Survey, response.survey_id)
        spec = load_spec(session, slug=survey.slug) if survey else None
        if spec is None:
            raise HTTPException(404, _("There is no such response."))
        values = review.current_answers(session, spec=spec, response_id=response_id)
        history = review.response_history(session, response_id=response_id)
        flagged = response_id in review.burst_flagged(session, [response_id])
        users = {u.id: u for u in list_users(session)}
        respondent = identities.identity_of(session, response_id=response_id)

    def show(code: str, value: Value) -> str:
        question = spec.by_code.get(code)
        return _display_value(question, value, language) if question else str(value)

    answers = [(q.label(language), show(q.code, values[q.code])) for q in spec.questions if q.code in values]
    duration = None
    if response.started_at and response.submitted_at:
        seconds = int((response.submitted_at - response.started_at).total_seconds())
        duration = f"{seconds // 60}:{seconds % 60:02d}"
    entered_by = users.get(response.entered_by_id) if response.entered_by_id else None
    context = {
        "response": response,
        "spec": spec,
        "answers": answers,
        "history": history,
        "flagged": flagged,
        "users": users,
        "entered_by": entered_by,
        "respondent": respondent,
        "duration": duration,
        "label_of": lambda code: spec.by_code[code].label(language) if code in spec.by_code else code,
        "show": show,
        "state_labels": STATE_LABELS,
        "chosen_states": review.CHOSEN_STATES,
        "correct_url": f"/intervju/svar/{response_id}?" + urlencode({"fran": FROM_REVIEW}),
        "channel_label": _(CHANNEL_LABELS.get(response.channel, response.channel)),
        "local_time": local_stamp,
        "errors": errors or {},
        "form": {"state": response.review_state, "comment": "", **(form or {})},
        "notice": notice,
        "redactable": [
            (code, spec.by_code[code].label(language)) for code in redaction.redactable_questions(spec, values)
        ],
        "redaction_reasons": redaction.REASONS,
        "removed_placeholder": placeholders(language)[REMOVED],
        "max_phrase_length": redaction.MAX_PHRASE_LENGTH,
    }
    return render(request, "responses/review_detail.html", context, status_code)


@router.get("/granskning/{response_id}")
def review_detail(
    request: Request,
    response_id: RowId,
    _user: Analyst,
    saved: Annotated[str, Query(max_length=3)] = "",
    removed: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    corrected: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    notice = _("The review state was saved.") if saved else None
    if corrected is not None:
        notice = _("Your correction was saved.") if corrected else _("No answers were changed.")
    if removed:
        notice = ngettext(
            "The text was removed from the answer (%(n)s place).",
            "The text was removed from the answer (%(n)s places).",
            removed,
        ) % {"n": removed}
    return _review_page(request, response_id, notice=notice)


@router.post("/granskning/{response_id}/ta-bort-text")
def remove_text(
    request: Request,
    response_id: RowId,
    user: Analyst,
    question: Annotated[str, Form(max_length=80)] = "",
    phrase: Annotated[str, Form()] = "",  # its length is checked with a message beside the field
    reason: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Remove a passage the automatic redaction missed from one free-text answer, for good."""
    form = {"question": question, "phrase": phrase, "reason": reason}
    with session_scope() as session:
        response = session.get(ResponseRow, response_id)
        survey = session.get(Survey, response.survey_id) if response else None
        spec = load_spec(session, slug=survey.slug) if survey else None
        if spec is None:
            raise HTTPException(404, _("There is no such response."))
        try:
            removed = redaction.redact_answer(
                session,
                spec=spec,
                response_id=response_id,
                question_code=question,
                phrase=phrase,
                reason=reason,
                user_id=user.id,
                request=request,
            )
        except redaction.RedactionProblem as problem:
            session.rollback()
            return _review_page(
                request, response_id, errors={problem.field: problem.text(_)}, form=form, status_code=422
            )
    return RedirectResponse(f"/granskning/{response_id}?removed={removed.occurrences}#answers-heading", status_code=303)


@router.post("/granskning/{response_id}/status")
def change_state(
    request: Request,
    response_id: RowId,
    user: Analyst,
    state: Annotated[str, Form(max_length=12)] = "",
    comment: Annotated[str, Form()] = "",  # its length is checked with a message beside the field
) -> Response:
    errors: dict[str, str] = {}
    if state == ReviewState.edited.value:
        errors["state"] = _("A response is marked edited when its answers are corrected; choose another state.")
    elif state not in review.CHOSEN_STATES:
        errors["state"] = _("Choose one of the review states.")
    if len(comment.strip()) > review.MAX_COMMENT_LENGTH:
        errors["comment"] = _("Shorten the comment to at most 2000 characters.")
    if errors:
        return _review_page(
            request, response_id, errors=errors, form={"state": state, "comment": comment}, status_code=422
        )
    with session_scope() as session:
        if session.get(ResponseRow, response_id) is None:
            raise HTTPException(404, _("There is no such response."))
        review.set_review_state(
            session, response_id=response_id, state=state, comment=comment, user_id=user.id, request=request
        )
    return RedirectResponse(f"/granskning/{response_id}?saved=1", status_code=303)
