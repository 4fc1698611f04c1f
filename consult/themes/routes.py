"""The theme explorer and the coverage matrix (analysts; admins pass). Thin: the work is in
service.py (data) and jobs.py (background runs). Every form works without JavaScript (post, then
redirect); with htmx, renaming, moving answers and the progress bar update in place."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from consult.accounts.deps import require_role
from consult.accounts.models import Role, User
from consult.accounts.service import record_audit, register_staff_link
from consult.core import i18n
from consult.core.formatting import decimal, local_stamp, percent
from consult.core.i18n import N_, _
from consult.core.numbers import as_whole_number
from consult.core.templating import is_htmx_partial, render, templates
from consult.db import session_scope
from consult.responses.models import CHANNEL_LABELS
from consult.surveys.models import Survey
from consult.surveys.schema import QuestionSpec, SurveySpec
from consult.surveys.service import load_spec
from consult.themes import jobs, service
from consult.themes.models import AssignmentSource, ChangeAction, RunKind, RunStatus, ThemeRun


def _wake_worker() -> None:
    """Any request to a theme page makes sure this process can pick up queued runs."""
    jobs.ensure_worker()


router = APIRouter(include_in_schema=False, dependencies=[Depends(_wake_worker)])
templates.env.globals["theme_label"] = service.shown_label
analyst = require_role(Role.analyst.value)
register_staff_link("/arbetsyta/teman", N_("Themes"), {Role.analyst.value})

BREAKDOWN_TITLES = {
    "municipality": N_("By municipality"),
    "gender": N_("By gender"),
    "age_band": N_("By age band"),
    "channel": N_("By channel"),
}
SOURCE_LABELS = {
    AssignmentSource.machine.value: N_("theme analysis"),
    AssignmentSource.coder.value: N_("assisted coding"),
    AssignmentSource.analyst.value: N_("analyst"),
}
STATUS_LABELS = {
    RunStatus.queued.value: N_("Waiting to start"),
    RunStatus.running.value: N_("Running"),
    RunStatus.done.value: N_("Done"),
    RunStatus.failed.value: N_("Failed"),
    RunStatus.cancelled.value: N_("Cancelled"),
}
KIND_LABELS = {RunKind.discover.value: N_("Theme analysis"), RunKind.code.value: N_("Assisted coding")}
REVIEW_STATE_LABELS = {
    "received": N_("received"),
    "has_issues": N_("has issues"),
    "edited": N_("edited"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
}
ACTION_LABELS = {
    "start": N_("started an analysis"),
    "cancel": N_("cancelled an analysis"),
    "accept": N_("accepted the candidate themes"),
    "rename": N_("renamed a theme"),
    "merge": N_("merged themes"),
    "split": N_("split a theme"),
    "move": N_("moved answers"),
    "confirm": N_("confirmed answers"),
    "code": N_("coded answers with the assisted coder"),
    "assign_new": N_("assigned new answers"),
}
STEP_LABELS = {
    "starting": N_("starting"),
    "loading answers": N_("reading the answers"),
    "vectorising": N_("reading the words"),
    "reducing": N_("reducing"),
    "choosing the number of themes": N_("choosing the number of themes"),
    "clustering": N_("grouping the answers"),
    "describing themes": N_("describing the themes"),
    "storing themes": N_("saving the themes"),
    "training the coder": N_("training the coder"),
    "coding the answers": N_("coding the answers"),
    "storing": N_("saving"),
    "done": N_("done"),
}
REVIEW_FILTER_LABELS = {
    "all": N_("All answers"),
    "unreviewed": N_("Not reviewed"),
    "needs_review": N_("Left for review by the coder"),
    "reviewed": N_("Reviewed"),
}


# --- helpers ------------------------------------------------------------------------------------------


def _language() -> str:
    return i18n.current_language.get()


def when(moment: Any) -> str:
    return local_stamp(moment)


def _formatters() -> dict[str, Any]:
    return {
        "percent": percent, "decimal": decimal, "when": when,
        "channel_label": lambda c: _(CHANNEL_LABELS[c]) if c in CHANNEL_LABELS else c,
        "source_label": lambda s: _(SOURCE_LABELS[s]) if s in SOURCE_LABELS else s,
        "status_label": lambda s: _(STATUS_LABELS[s]) if s in STATUS_LABELS else s,
        "kind_label": lambda k: _(KIND_LABELS[k]) if k in KIND_LABELS else k,
        "review_state_label": lambda s: _(REVIEW_STATE_LABELS[s]) if s in REVIEW_STATE_LABELS else s,
        "step_label": lambda s: _(STEP_LABELS[s]) if s in STEP_LABELS else s,
        "action_label": lambda a: _(ACTION_LABELS[a]) if a in ACTION_LABELS else a,
        "review_filters": {k: _(v) for k, v in REVIEW_FILTER_LABELS.items()},
    }


def _spec_or_404(session: Session, slug: str) -> SurveySpec:
    spec = load_spec(session, slug=slug[:80])
    if spec is None:
        raise HTTPException(404)
    return spec


def _question_or_404(session: Session, slug: str, code: str) -> tuple[SurveySpec, QuestionSpec]:
    """The survey and its free-text question in the address."""
    spec = _spec_or_404(session, slug)
    question = spec.question(code[:64])
    if question is None or question.id is None or question not in service.text_questions(spec):
        raise HTTPException(404)
    return spec, question


# Ids in the path beyond what an id column holds are no id at all (SQLite cannot even bind them).
MAX_ID = 2**31 - 1


def _theme_or_404(session: Session, question: QuestionSpec, theme_id: int) -> Any:
    assert question.id is not None
    if not 0 < theme_id <= MAX_ID:
        raise HTTPException(404)
    try:
        return service.get_theme(session, theme_id=theme_id, question_id=question.id)
    except service.ThemeError as error:
        raise HTTPException(404) from error


def _run_or_404(session: Session, question: QuestionSpec, run_id: int) -> ThemeRun:
    if not 0 < run_id <= MAX_ID:
        raise HTTPException(404)
    run = session.get(ThemeRun, run_id)
    if run is None or run.question_id != question.id:
        raise HTTPException(404)
    return run


def _base(spec: SurveySpec, question: QuestionSpec) -> str:
    return f"/arbetsyta/enkater/{spec.slug}/teman/{question.code}"


def _ids(values: list[str]) -> list[int]:
    return [n for n in map(lambda v: as_whole_number(v, 11), values[:5000]) if n is not None]


def _page_number(raw: str | None) -> int:
    return as_whole_number(raw, 6) or 1


def _audit(session: Session, request: Request, user: User, action: str, question: QuestionSpec,
           details: dict | None = None) -> None:
    record_audit(session, user_id=user.id, action=f"themes.{action}", target=f"question:{question.id}",
                 details=details or {}, request=request)


# --- the list of questions ----------------------------------------------------------------------------


@router.get("/arbetsyta/teman")
def index_page(request: Request, user: User = Depends(analyst)) -> Response:
    language = _language()
    with session_scope() as session:
        surveys = []
        for survey in session.execute(select(Survey).order_by(Survey.id.desc())).scalars():
            spec = load_spec(session, slug=survey.slug)
            questions = service.text_questions(spec) if spec else []
            if spec and questions:
                surveys.append({"spec": spec, "title": spec.text("title", language), "questions": [
                    {"question": q, "answers": service.count_answers(session, question_id=q.id or 0)}
                    for q in questions]})
    return render(request, "themes/index.html", {"surveys": surveys})


@router.get("/arbetsyta/enkater/{slug}/teman")
def survey_questions(slug: str, request: Request, user: User = Depends(analyst),
                     fraga: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    with session_scope() as session:
        if fraga:
            spec, question = _question_or_404(session, slug, fraga)
            return RedirectResponse(_base(spec, question), status_code=303)
        spec = _spec_or_404(session, slug)
    questions = service.text_questions(spec)
    if not questions:
        raise HTTPException(404)
    return RedirectResponse(_base(spec, questions[0]), status_code=303)


# --- the explorer ----------------------------------------------------------------------------------------


def _explorer_context(session: Session, spec: SurveySpec, question: QuestionSpec, *, user: User,
                      search: str = "", review: str = "all", page: int = 1,
                      errors: dict[str, str] | None = None, values: dict | None = None,
                      auto_assign: bool = True) -> dict[str, Any]:
    assert question.id is not None
    language = _language()
    assigned = 0
    unassigned = service.count_unassigned(session, question_id=question.id)
    if auto_assign and 0 < unassigned <= service.AUTO_ASSIGN_LIMIT:
        try:
            assigned = service.assign_new_answers(session, question_id=question.id, user_id=user.id, automatic=True)
            unassigned -= assigned
        except service.ThemeError:
            pass
    rows = service.theme_rows(session, question_id=question.id)
    versions = service.versions_for(session, survey_id=spec.id or 0)
    coverage = (service.coverage(session, question_id=question.id, version=versions[0])
                if rows and versions else None)
    by_theme = {r.theme.id: r for r in coverage.rows} if coverage else {}
    latest = service.latest_discovery(session, question_id=question.id)
    accepted = service.accepted_run_id(session, question_id=question.id)
    pending = latest if latest is not None and latest.id != accepted else None
    answers, total = ([], 0)
    if rows:
        answers, total = service.theme_answers(session, question_id=question.id, search=search, review=review,
                                               page=page) if search or review != "all" else ([], 0)
    reviewed = service.reviewed_counts(session, question_id=question.id)
    return {
        "spec": spec, "question": question, "title": question.label(language),
        "survey_title": spec.text("title", language), "base": _base(spec, question),
        "questions": service.text_questions(spec),
        "answer_count": service.count_answers(session, question_id=question.id),
        "rows": rows, "coverage_by_theme": by_theme, "coverage_version": versions[0] if versions else None,
        "active": service.active_run(session, question_id=question.id),
        "runs": service.runs_for(session, question_id=question.id, limit=10),
        "pending": pending,
        "pending_candidates": service.candidates(session, run_id=pending.id) if pending and pending.id else [],
        "has_themes": bool(rows), "unassigned": unassigned, "just_assigned": assigned,
        "search": search, "review": review, "page": page, "answers": answers, "total": total,
        "page_size": service.PAGE_SIZE, "reviewed_total": sum(reviewed.values()),
        "reviewed_themes": sum(1 for n in reviewed.values() if n), "agreement": (
            service.agreement_figures(session, question_id=question.id) if rows else None),
        "history": service.history(session, question_id=question.id, limit=15),
        "errors": errors or {}, "values": values or {}, "threshold": service.DEFAULT_THRESHOLD,
        "max_parts": service.MAX_SPLIT_PARTS,
        **_formatters(),
    }


@router.get("/arbetsyta/enkater/{slug}/teman/{code}")
def explorer_page(slug: str, code: str, request: Request, user: User = Depends(analyst),
                  q: Annotated[str, Query(max_length=200)] = "",
                  granskning: Annotated[str, Query(max_length=20)] = "all",
                  sida: Annotated[str | None, Query(max_length=7)] = None) -> Response:
    review = granskning if granskning in service.REVIEW_FILTERS else "all"
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        context = _explorer_context(session, spec, question, user=user, search=q, review=review,
                                    page=_page_number(sida))
    if is_htmx_partial(request) and request.headers.get("hx-target") == "search-results":
        return render(request, "themes/_search.html", context)
    return render(request, "themes/explorer.html", context)


def _explorer_error(request: Request, slug: str, code: str, user: User, field: str, message: str,
                    values: dict | None = None) -> Response:
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        context = _explorer_context(session, spec, question, user=user, errors={field: _(message)}, values=values,
                                    auto_assign=False)
    return render(request, "themes/explorer.html", context, 422)


@router.post("/arbetsyta/enkater/{slug}/teman/{code}/korning")
def start_run(slug: str, code: str, request: Request, user: User = Depends(analyst),
              k: Annotated[str, Form()] = "auto", seed: Annotated[str, Form()] = "0") -> Response:
    k_value: int | str = "auto"
    raw_k = k.strip().lower()[:5]
    if raw_k not in ("", "auto"):
        if as_whole_number(raw_k) is None or not 2 <= int(raw_k) <= 30:
            return _explorer_error(request, slug, code, user, "k", N_("Enter auto or a number of themes from 2 to 30."),
                                   {"k": k[:5], "seed": seed[:9]})
        k_value = int(raw_k)
    raw_seed = seed.strip()[:9]
    if raw_seed and as_whole_number(raw_seed) is None:
        return _explorer_error(request, slug, code, user, "seed", N_("Enter a whole number of 0 or more."),
                               {"k": k[:5], "seed": seed[:9]})
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        try:
            run = service.start_run(session, survey_id=spec.id or 0, question_id=question.id or 0, user_id=user.id,
                                    k=k_value, random_state=int(raw_seed or 0))
        except service.ThemeError as error:
            session.rollback()
            return _explorer_error(request, slug, code, user, "k", str(error), {"k": k[:5], "seed": seed[:9]})
        _audit(session, request, user, "run.start", question, {"run": run.id, "k": k_value})
        base = _base(spec, question)
    jobs.ensure_worker()
    return RedirectResponse(f"{base}#korning", status_code=303)


# --- a run: progress, cancel, candidates, accept -----------------------------------------------------------


def _run_context(session: Session, spec: SurveySpec, question: QuestionSpec, run: ThemeRun) -> dict[str, Any]:
    language = _language()
    cands = service.candidates(session, run_id=run.id or 0) if run.status == RunStatus.done.value else []
    assert question.id is not None
    return {
        "spec": spec, "question": question, "title": question.label(language), "run": run,
        "base": _base(spec, question), "candidates": cands,
        "quotes": {c.id: service.candidate_quotes(session, question_id=question.id, candidate=c) for c in cands},
        "accepted": service.accepted_run_id(session, question_id=question.id) == run.id,
        # Accepting replaces the themes worked on now: the page says so, with what would be lost.
        "has_themes": bool(service.active_themes(session, question_id=question.id)),
        "reviewed_total": sum(service.reviewed_counts(session, question_id=question.id).values()),
        "started_by": _user_name(session, run.started_by_id),
        **_formatters(),
    }


def _user_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user else ""


@router.get("/arbetsyta/enkater/{slug}/teman/{code}/korning/{run_id}")
def run_page(slug: str, code: str, run_id: int, request: Request, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        run = _run_or_404(session, question, run_id)
        context = _run_context(session, spec, question, run)
    if is_htmx_partial(request):
        response = render(request, "themes/_run.html", context)
        if run.status not in (RunStatus.queued.value, RunStatus.running.value):
            # The run ended while the page was open: reload it to show the results.
            response.headers["HX-Refresh"] = "true"
        return response
    return render(request, "themes/run.html", context)


@router.post("/arbetsyta/enkater/{slug}/teman/{code}/korning/{run_id}/avbryt")
def cancel_run(slug: str, code: str, run_id: int, request: Request, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        run = _run_or_404(session, question, run_id)
        run = service.cancel_run(session, run_id=run.id or 0, user_id=user.id)
        _audit(session, request, user, "run.cancel", question, {"run": run_id})
        context = _run_context(session, spec, question, run)
    if is_htmx_partial(request):
        return render(request, "themes/_run.html", context)
    return RedirectResponse(f"{_base(spec, question)}#korning", status_code=303)


@router.post("/arbetsyta/enkater/{slug}/teman/{code}/korning/{run_id}/acceptera")
def accept_run(slug: str, code: str, run_id: int, request: Request, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        run = _run_or_404(session, question, run_id)
        try:
            themes = service.accept_run(session, run_id=run.id or 0, user_id=user.id)
            if themes is not None:
                service.assign_new_answers(session, question_id=question.id or 0, user_id=user.id, automatic=True)
        except service.ThemeError as error:
            session.rollback()
            return _explorer_error(request, slug, code, user, "accept", str(error))
        if themes is not None:
            _audit(session, request, user, "accept", question, {"run": run_id, "themes": len(themes)})
    return RedirectResponse(f"{_base(spec, question)}#teman", status_code=303)


# --- changes on the question's themes ----------------------------------------------------------------------


@router.post("/arbetsyta/enkater/{slug}/teman/{code}/sla-ihop")
def merge_themes(slug: str, code: str, request: Request, user: User = Depends(analyst),
                 tema: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads the default
                 namn: Annotated[str, Form()] = "") -> Response:
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        try:
            new = service.merge_themes(session, question_id=question.id or 0, theme_ids=_ids(tema),
                                       label=namn[:400], user_id=user.id)
        except service.ThemeError as error:
            session.rollback()
            done = service.finished_change(session, question_id=question.id or 0, action=ChangeAction.merge,
                                           theme_ids=_ids(tema))
            if done:  # the same merge sent twice: show what the first one made
                return RedirectResponse(f"{_base(spec, question)}/tema/{done[0]}", status_code=303)
            return _explorer_error(request, slug, code, user, "merge", str(error), {"namn": namn[:300]})
        _audit(session, request, user, "merge", question, {"into": new.id})
        target = f"{_base(spec, question)}/tema/{new.id}"
    return RedirectResponse(target, status_code=303)


@router.post("/arbetsyta/enkater/{slug}/teman/{code}/tilldela")
def assign_new(slug: str, code: str, request: Request, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        try:
            count = service.assign_new_answers(session, question_id=question.id or 0, user_id=user.id)
        except service.ThemeError as error:
            session.rollback()
            return _explorer_error(request, slug, code, user, "assign", str(error))
        _audit(session, request, user, "assign_new", question, {"answers": count})
    return RedirectResponse(f"{_base(spec, question)}?tilldelade={count}#teman", status_code=303)


@router.post("/arbetsyta/enkater/{slug}/teman/{code}/koda")
def start_coding(slug: str, code: str, request: Request, user: User = Depends(analyst),
                 threshold: Annotated[str, Form()] = "") -> Response:
    raw = threshold.strip().replace(",", ".")[:6] or str(service.DEFAULT_THRESHOLD)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        return _explorer_error(request, slug, code, user, "threshold",
                               N_("Enter a confidence threshold between 0 and 1, for example 0.5."),
                               {"threshold": threshold[:6]})
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        try:
            run = service.start_run(session, survey_id=spec.id or 0, question_id=question.id or 0, user_id=user.id,
                                    kind=RunKind.code.value, threshold=value)
        except service.ThemeError as error:
            session.rollback()
            return _explorer_error(request, slug, code, user, "threshold", str(error), {"threshold": threshold[:6]})
        _audit(session, request, user, "code.start", question, {"run": run.id, "threshold": value})
        base = _base(spec, question)
    jobs.ensure_worker()
    return RedirectResponse(f"{base}#korning", status_code=303)


# --- one theme -------------------------------------------------------------------------------------------


def _theme_context(session: Session, spec: SurveySpec, question: QuestionSpec, theme: Any, *, search: str = "",
                   review: str = "all", page: int = 1, errors: dict[str, str] | None = None,
                   values: dict | None = None, name_message: str = "", answers_message: str = "") -> dict[str, Any]:
    assert question.id is not None
    language = _language()
    rows = service.theme_rows(session, question_id=question.id)
    row = next((r for r in rows if r.theme.id == theme.id), None)
    answers, total = service.theme_answers(session, question_id=question.id, theme_id=theme.id, search=search,
                                           review=review, page=page)
    return {
        "spec": spec, "question": question, "title": question.label(language), "base": _base(spec, question),
        "theme": theme, "row": row, "others": [r for r in rows if r.theme.id != theme.id],
        "quotes": service.quotes(session, question_id=question.id, theme_id=theme.id) if theme.active else [],
        "breakdowns": service.breakdowns(session, spec=spec, question_id=question.id, theme_id=theme.id,
                                         language=language) if theme.active else {},
        "breakdown_titles": {k: _(v) for k, v in BREAKDOWN_TITLES.items()},
        "answers": answers, "total": total, "search": search, "review": review, "page": page,
        "page_size": service.PAGE_SIZE, "history": service.history(session, question_id=question.id,
                                                                   theme_id=theme.id, limit=20),
        "errors": errors or {}, "values": values or {}, "name_message": name_message,
        "answers_message": answers_message, "max_parts": service.MAX_SPLIT_PARTS,
        **_formatters(),
    }


@router.get("/arbetsyta/enkater/{slug}/teman/{code}/tema/{theme_id}")
def theme_page(slug: str, code: str, theme_id: int, request: Request, user: User = Depends(analyst),
               q: Annotated[str, Query(max_length=200)] = "",
               granskning: Annotated[str, Query(max_length=20)] = "all",
               sida: Annotated[str | None, Query(max_length=7)] = None,
               klart: Annotated[str, Query(max_length=20)] = "") -> Response:
    review = granskning if granskning in service.REVIEW_FILTERS else "all"
    answer_messages = {"flyttat": _("The answers have been moved."),
                       "bekraftat": _("The answers have been confirmed.")}
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        theme = _theme_or_404(session, question, theme_id)
        context = _theme_context(session, spec, question, theme, search=q, review=review, page=_page_number(sida),
                                 name_message=_("The theme has been renamed.") if klart == "namn" else "",
                                 answers_message=answer_messages.get(klart, ""))
    if is_htmx_partial(request) and request.headers.get("hx-target") == "answers":
        return render(request, "themes/_answers.html", context)
    return render(request, "themes/theme.html", context)


def _theme_error(request: Request, slug: str, code: str, theme_id: int, field: str, message: str,
                 values: dict | None = None, partial: str = "") -> Response:
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        theme = _theme_or_404(session, question, theme_id)
        context = _theme_context(session, spec, question, theme, errors={field: _(message)}, values=values)
    if partial and is_htmx_partial(request):
        return render(request, partial, context, 422)
    return render(request, "themes/theme.html", context, 422)


@router.post("/arbetsyta/enkater/{slug}/teman/{code}/tema/{theme_id}/namn")
def rename_theme(slug: str, code: str, theme_id: int, request: Request, user: User = Depends(analyst),
                 namn: Annotated[str, Form()] = "") -> Response:
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        theme = _theme_or_404(session, question, theme_id)
        try:
            service.rename_theme(session, question_id=question.id or 0, theme_id=theme.id, label=namn[:400],
                                 user_id=user.id)
        except service.ThemeError as error:
            session.rollback()
            return _theme_error(request, slug, code, theme_id, "namn", str(error), {"namn": namn[:300]},
                                partial="themes/_name.html")
        _audit(session, request, user, "rename", question, {"theme": theme_id, "to": theme.label})
        if is_htmx_partial(request):
            context = _theme_context(session, spec, question, theme, name_message=_("The theme has been renamed."))
            return render(request, "themes/_name.html", {**context, "oob_history": True})
    return RedirectResponse(f"{_base(spec, question)}/tema/{theme_id}?klart=namn", status_code=303)


@router.post("/arbetsyta/enkater/{slug}/teman/{code}/tema/{theme_id}/dela")
def split_theme(slug: str, code: str, theme_id: int, request: Request, user: User = Depends(analyst),
                delar: Annotated[str, Form()] = "") -> Response:
    raw = delar.strip()[:2]
    parts = as_whole_number(raw) or 0
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        _theme_or_404(session, question, theme_id)
        try:
            new = service.split_theme(session, question_id=question.id or 0, theme_id=theme_id, parts=parts,
                                      user_id=user.id)
        except service.ThemeError as error:
            session.rollback()
            if service.finished_change(session, question_id=question.id or 0, action=ChangeAction.split,
                                       theme_ids=[theme_id]):
                return RedirectResponse(f"{_base(spec, question)}#teman", status_code=303)  # sent twice
            return _theme_error(request, slug, code, theme_id, "delar", str(error), {"delar": raw})
        _audit(session, request, user, "split", question, {"theme": theme_id, "into": [t.id for t in new]})
    return RedirectResponse(f"{_base(spec, question)}#teman", status_code=303)


@router.post("/arbetsyta/enkater/{slug}/teman/{code}/tema/{theme_id}/svar")
def change_answers(slug: str, code: str, theme_id: int, request: Request, user: User = Depends(analyst),
                   svar: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads the default
                   atgard: Annotated[str, Form()] = "",
                   till: Annotated[str, Form()] = "",
                   q: Annotated[str, Form()] = "",
                   granskning: Annotated[str, Form()] = "all") -> Response:
    answer_ids = _ids(svar)
    done = ""
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        theme = _theme_or_404(session, question, theme_id)
        if atgard == "flytta" and as_whole_number(till) is None:
            session.rollback()
            return _theme_error(request, slug, code, theme_id, "till", N_("Choose the theme to move the answers to."),
                                partial="themes/_answers.html")
        try:
            if atgard == "flytta":
                count = service.move_answers(session, question_id=question.id or 0, response_ids=answer_ids,
                                             to_theme_id=int(till.strip()[:12]), user_id=user.id,
                                             from_theme_id=theme.id)
                done = "flyttat"
            else:
                count = service.confirm_answers(session, question_id=question.id or 0, response_ids=answer_ids,
                                                user_id=user.id, from_theme_id=theme.id)
                done = "bekraftat"
        except service.ThemeError as error:
            session.rollback()
            return _theme_error(request, slug, code, theme_id, "svar", str(error), partial="themes/_answers.html")
        _audit(session, request, user, "move" if done == "flyttat" else "confirm", question,
               {"theme": theme_id, "answers": count})
        if is_htmx_partial(request):
            review = granskning if granskning in service.REVIEW_FILTERS else "all"
            message = _("The answers have been moved.") if done == "flyttat" else _("The answers have been confirmed.")
            context = _theme_context(session, spec, question, theme, search=q[:200], review=review,
                                     answers_message=message)
            return render(request, "themes/_answers.html", context)
    return RedirectResponse(f"{_base(spec, question)}/tema/{theme_id}?klart={done}#svar", status_code=303)


# --- coverage ----------------------------------------------------------------------------------------------


@router.get("/arbetsyta/enkater/{slug}/teman/{code}/tackning")
def coverage_page(slug: str, code: str, request: Request, user: User = Depends(analyst),
                  version: Annotated[str, Query(max_length=64)] = "") -> Response:
    language = _language()
    with session_scope() as session:
        spec, question = _question_or_404(session, slug, code)
        versions = service.versions_for(session, survey_id=spec.id or 0)
        chosen = next((v for v in versions if v.key == version), versions[0] if versions else None)
        if version and chosen is not None and chosen.key != version:
            raise HTTPException(404)
        result = (service.coverage(session, question_id=question.id or 0, version=chosen, with_quotes=True)
                  if chosen else None)
        context = {
            "spec": spec, "question": question, "title": question.label(language), "base": _base(spec, question),
            "versions": versions, "chosen": chosen, "coverage": result, **_formatters(),
        }
    return render(request, "themes/coverage.html", context)
