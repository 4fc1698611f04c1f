"""The review team's workspace pages (analysts; admins pass). The figures come from service.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlmodel import Session

from consult.accounts.deps import require_role
from consult.accounts.models import Role, User
from consult.accounts.service import record_audit, register_staff_link
from consult.core import i18n
from consult.core.fields import pick
from consult.core.formatting import number, percent
from consult.core.i18n import N_, _
from consult.core.routing import RowId
from consult.core.templating import is_htmx_partial, render
from consult.db import session_scope
from consult.responses import identity as identities
from consult.responses.models import Channel
from consult.strategy.models import ReviewCycle
from consult.strategy.service import cycles as review_cycles
from consult.surveys.schema import SurveySpec
from consult.workspace import charts, exports, service
from consult.workspace.models import ExportFormat, ExportJob, JobStatus, WeightRun, WeightVariable

router = APIRouter(include_in_schema=False)
analyst = require_role(Role.analyst.value)
register_staff_link("/arbetsyta", N_("Workspace"), {Role.analyst.value})

NO_CYCLE = "ingen"
DEMOGRAPHIC_TITLES = {
    "municipality": N_("Municipality"),
    "gender": N_("Gender"),
    "age_band": N_("Age band"),
}
SVG_HEADERS = {
    # The chart is an image: no script can run in it; matplotlib styles its shapes inline.
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "cache-control": "private, max-age=60",
}
SECTION_TITLES = {
    "municipality": N_("By municipality"),
    "gender": N_("By gender"),
    "age_band": N_("By age band"),
}
FILTER_KEYS = ("kommun", "kon", "alder", "kanal", "kampanj", "fran", "till", "viktat", "publicera")


# --- helpers --------------------------------------------------------------------------------------


def _language() -> str:
    return i18n.current_language.get()


def _formatters() -> dict[str, Any]:
    return {"percent": percent, "number": number, "channel_label": lambda c: _(service.CHANNEL_LABELS.get(c, c))}


def _spec_or_404(session: Session, slug: str) -> SurveySpec:
    spec = service.survey_by_slug(session, slug=slug)
    if spec is None:
        raise HTTPException(404)
    return spec


def _filters(request: Request) -> tuple[service.Filters, dict[str, str]]:
    filters, errors = service.parse_filters(request.query_params)
    return filters, {k: _(v) for k, v in errors.items()}


def _svg(content: bytes) -> Response:
    return Response(content, media_type="image/svg+xml", headers=SVG_HEADERS)


# --- overview ---------------------------------------------------------------------------------------


def _cycle_choice(session: Session, key: str | None) -> tuple[ReviewCycle | None, bool]:
    """The review cycle asked for (by key), or the newest with a survey; (None, True) = surveys outside cycles."""
    if key == NO_CYCLE:
        return None, True
    if key:
        found = session.execute(select(ReviewCycle).where(ReviewCycle.key == key)).scalars().first()
        if found is None:
            raise HTTPException(404)
        return found, False
    chosen = service.default_cycle(session)
    return chosen, chosen is None


def _overview_data(session: Session, cycle: ReviewCycle | None, language: str, publish: bool) -> service.Overview:
    """The overview's figures for the surveys of one review cycle (None: the surveys outside cycles)."""
    surveys = service.surveys_of_cycle(session, cycle_id=cycle.id if cycle else None)
    return service.overview(session, cycle=cycle, surveys=surveys, language=language, publish=publish)


@router.get("/arbetsyta")
def overview_page(
    request: Request,
    user: User = Depends(analyst),
    cykel: Annotated[str | None, Query(max_length=64)] = None,
    publicera: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    language = _language()
    with session_scope() as session:
        cycle, outside = _cycle_choice(session, cykel)
        data = _overview_data(session, cycle, language, publish=publicera == "1")
        all_cycles = review_cycles(session)
    key = cycle.key if cycle else NO_CYCLE
    channels = [{**row, "label": _(row["label"])} for row in data.by_channel]
    sections = [("kanal", _("By channel"), channels), ("kampanj", _("By campaign tag"), data.by_campaign)]
    sections += [(kind, _(SECTION_TITLES[kind]), rows) for kind, rows in data.by_demographic.items()]
    context = {
        "data": data,
        "sections": sections,
        "cycles": all_cycles,
        "cycle_key": key,
        "cycle_name": pick(cycle.name, language) if cycle else _("Surveys outside any review cycle"),
        "publish": publicera == "1",
        "chart_url": lambda kind: f"/arbetsyta/diagram/{key}/{kind}.svg" + ("?publicera=1" if publicera == "1" else ""),
        "demographic_titles": {k: _(v) for k, v in DEMOGRAPHIC_TITLES.items()},
        "no_cycle": NO_CYCLE,
        **_formatters(),
    }
    return render(request, "workspace/overview.html", context)


@router.get("/arbetsyta/diagram/{cycle_key}/{kind}.svg")
def overview_chart(
    cycle_key: str,
    kind: str,
    user: User = Depends(analyst),
    publicera: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    language = _language()
    with session_scope() as session:
        cycle, _outside = _cycle_choice(session, cycle_key)
        data = _overview_data(session, cycle, language, publish=publicera == "1")
    if kind == "tid":
        return _svg(charts.line_chart(tuple(r["period"] for r in data.over_time),
                                      tuple(float(r["count"]) for r in data.over_time), axis_label=_("Responses")))
    rows = {"kanal": data.by_channel, "kampanj": data.by_campaign, **data.by_demographic}.get(kind)
    if rows is None:
        raise HTTPException(404)
    shown = [r for r in rows if r.get("share") is not None]
    labels = tuple(_(r["label"]) if kind == "kanal" else r["label"] for r in shown)
    return _svg(charts.bar_chart(labels, tuple(r["share"] for r in shown), axis_label=_("Share of responses")))


# --- results per question ------------------------------------------------------------------------------


def _filter_options(session: Session, spec: SurveySpec, language: str) -> dict[str, Any]:
    demographics = service.demographic_questions(spec)
    return {
        "demographics": {
            kind: [(c.code, c.text(language)) for c in question.choices] for kind, question in demographics.items()
        },
        "channels": [(c.value, _(service.CHANNEL_LABELS[c])) for c in Channel],
        "tags": service.campaign_tags(session, survey_id=spec.id or 0),
    }


def _results_context(session: Session, spec: SurveySpec, filters: service.Filters, errors: dict[str, str],
                     language: str) -> dict[str, Any]:
    outcome = service.results(session, spec=spec, filters=filters, language=language)
    base = f"/arbetsyta/enkater/{spec.slug}"
    return {
        "spec": spec,
        "title": spec.text("title", language),
        "outcome": outcome,
        "weighted_by": ", ".join(_(DEMOGRAPHIC_TITLES[v]).lower() for v in outcome.weighting.variables)
        if outcome.weighting else "",
        "filters": filters,
        "values": filters.params(),
        "errors": errors,
        "base": base,
        "chart_url": lambda code: f"{base}/diagram/{code}.svg" + (f"?{filters.query()}" if filters.params() else ""),
        "filtered_url": lambda path, **extra: f"{base}{path}?{filters.query(**extra)}",
        "options": _filter_options(session, spec, language),
        "crosstab_questions": service.crosstab_questions(spec),
        "small_cell": service.SMALL_CELL,
        "describe": lambda result: chart_description(result, filters.weighted),
        **_formatters(),
    }


@router.get("/arbetsyta/enkater/{slug}")
def results_page(slug: str, request: Request, user: User = Depends(analyst)) -> Response:
    language = _language()
    filters, errors = _filters(request)
    with session_scope() as session:
        spec = _spec_or_404(session, slug)
        context = _results_context(session, spec, filters, errors, language)
    context["partial"] = is_htmx_partial(request)
    template = "workspace/_results.html" if is_htmx_partial(request) else "workspace/results.html"
    response = render(request, template, context)
    response.headers["vary"] = "HX-Request"
    return response


@router.get("/arbetsyta/enkater/{slug}/diagram/{code}.svg")
def question_chart(slug: str, code: str, request: Request, user: User = Depends(analyst)) -> Response:
    language = _language()
    filters, _errors = _filters(request)
    with session_scope() as session:
        spec = _spec_or_404(session, slug)
        if spec.question(code) is None:
            raise HTTPException(404)
        result = service.results(session, spec=spec, filters=filters, language=language, codes=[code]).questions[0]
    return _svg(question_svg(result, weighted=filters.weighted))


def question_svg(result: service.QuestionResult, *, weighted: bool) -> bytes:
    share_key = "weighted_share" if weighted else "share"
    if result.kind == "number":
        # A hidden bin keeps its place on the axis, marked: left out, the axis would skip an interval
        # unseen and its neighbours would read as adjacent.
        bins = result.histogram
        labels = tuple(number(r["low"], r["digits"]) if r["low"] == r["high"]
                       else f"{number(r['low'], r['digits'])}–{number(r['high'], r['digits'])}" for r in bins)
        values = tuple(float(r["count"]) if r.get("count") is not None else 0.0 for r in bins)
        marks = tuple(_("hidden") if r.get("count") is None else "" for r in bins)
        axis = _("Weighted respondents") if weighted else _("Respondents")
        return charts.column_chart(labels, values, axis_label=axis, marks=marks if any(marks) else None)
    if result.kind == "ranking":
        rows = [r for r in result.rows if r.get("points") is not None]
        return charts.bar_chart(tuple(r["label"] for r in rows), tuple(float(r["points"]) for r in rows),
                                percent=False, axis_label=_("Points"))
    rows = [r for r in result.rows if r.get(share_key) is not None]
    return charts.bar_chart(tuple(_bar_label(result, r) for r in rows), tuple(r[share_key] for r in rows),
                            axis_label=share_axis_label(result, weighted))


def share_axis_label(result: service.QuestionResult, weighted: bool) -> str:
    """What a question's bars are shares of, as its table says: a scale's of those with a view
    ("vet ej" left out), and weighted when the figures are."""
    if result.kind == "scale":
        return _("Weighted share of those with a view") if weighted else _("Share of those with a view")
    return _("Weighted share of respondents") if weighted else _("Share of respondents")


def _bar_label(result: service.QuestionResult, row: dict) -> str:
    """A bar's label; a scale's two ends also say what they mean ("1 Inte alls viktigt")."""
    question = result.question
    if result.kind != "scale":
        return row["label"]
    meaning = question.scale_ends(_language()).get(row["code"], "")
    return f"{row['label']} {meaning}" if meaning else row["label"]


def chart_description(result: service.QuestionResult, weighted: bool) -> str:
    title = result.question.label(_language())
    if result.kind == "number":
        return _("Histogram of the answers to: %(question)s") % {"question": title}
    if result.kind == "ranking":
        return charts.describe_bars(_("Points per option for: %(question)s") % {"question": title},
                                    [r["label"] for r in result.rows], [r.get("points") for r in result.rows],
                                    percent=False)
    key = "weighted_share" if weighted else "share"
    return charts.describe_bars(_("%(share)s per option for: %(question)s")
                                % {"share": share_axis_label(result, weighted), "question": title},
                                [r["label"] for r in result.rows], [r.get(key) for r in result.rows])


# --- crosstab -------------------------------------------------------------------------------------


@router.get("/arbetsyta/enkater/{slug}/korstabell")
def crosstab_page(
    slug: str,
    request: Request,
    user: User = Depends(analyst),
    rad: Annotated[str | None, Query(max_length=64)] = None,
    kolumn: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    language = _language()
    filters, errors = _filters(request)
    with session_scope() as session:
        spec = _spec_or_404(session, slug)
        questions = service.crosstab_questions(spec)
        table = None
        if rad and kolumn:
            problem = service.crosstab_pair_problem(spec, row_code=rad, column_code=kolumn)
            if problem:
                errors["rad" if rad != kolumn else "kolumn"] = _(problem)
            else:
                table = service.crosstab(session, spec=spec, row_code=rad, column_code=kolumn, filters=filters,
                                         language=language)
                if table is None:
                    errors["rad"] = _("Choose a question from the list.")
    context = {
        "spec": spec,
        "title": spec.text("title", language),
        "questions": questions,
        "table": table,
        "row_code": rad or "",
        "column_code": kolumn or "",
        "filters": filters,
        "errors": errors,
        "base": f"/arbetsyta/enkater/{spec.slug}",
        "hidden_filters": filters.params(),
        "filter_description": filters.described(spec, language, _),
        "everyone_url": f"/arbetsyta/enkater/{spec.slug}/korstabell?"
        + urlencode({"rad": rad or "", "kolumn": kolumn or "", **filters.everyone().params()}),
        "small_cell": service.SMALL_CELL,
        **_formatters(),
    }
    return render(request, "workspace/crosstab.html", context, 422 if errors else 200)


# --- weighting -------------------------------------------------------------------------------------


def _weighting_context(session: Session, spec: SurveySpec, language: str, *, values: dict[str, dict[int, str]] | None,
                       errors: dict[str, str], saved: bool = False) -> dict[str, Any]:
    targets, own = service.weight_targets(session, spec=spec)
    demographics = service.demographic_questions(spec)
    run = session.execute(select(WeightRun).where(WeightRun.survey_id == spec.id)).scalar_one_or_none()
    margins = service.weighted_margins(session, spec=spec) if run else {}
    variables = []
    for variable in service.WEIGHT_VARIABLES:
        question = demographics.get(variable.value)
        if question is None:
            continue
        shares = targets.get(variable.value, {})
        rows = []
        for choice in question.choices:
            shown = (values or {}).get(variable.value, {}).get(choice.code)
            if shown is None:
                shown = number(shares[choice.code] * 100, 1) if choice.code in shares else ""
            rows.append({"code": choice.code, "label": choice.text(language), "value": shown})
        margin = {m["code"]: m for m in margins.get(variable.value, [])}
        variables.append({
            "name": variable.value,
            "title": _(DEMOGRAPHIC_TITLES[variable.value]),
            "used": bool(shares) if values is None else variable.value in values,
            "rows": rows,
            "margins": margin,
            "labels": {c.code: c.text(language) for c in question.choices},
        })
    return {
        "spec": spec,
        "title": spec.text("title", language),
        "variables": variables,
        "own_targets": own,
        "run": run,
        "errors": errors,
        "saved": saved,
        "base": f"/arbetsyta/enkater/{spec.slug}",
        **_formatters(),
    }


@router.get("/arbetsyta/enkater/{slug}/viktning")
def weighting_page(slug: str, request: Request, user: User = Depends(analyst),
                   sparat: Annotated[str | None, Query(max_length=1)] = None) -> Response:
    language = _language()
    with session_scope() as session:
        spec = _spec_or_404(session, slug)
        service.ensure_weights(session, spec=spec)
        context = _weighting_context(session, spec, language, values=None, errors={}, saved=sparat == "1")
    return render(request, "workspace/weighting.html", context)


MAX_TARGET = 1_000_000_000  # a population figure, or a share


def _parse_share(raw: str) -> float | None:
    text = raw.strip().replace(",", ".").replace("%", "")
    for space in (" ", "\u00a0", "\u202f"):  # "1 000" as typed, or copied from a table
        text = text.replace(space, "")
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 <= value <= MAX_TARGET else None  # also rejects NaN


@router.post("/arbetsyta/enkater/{slug}/viktning")
async def save_weighting(slug: str, request: Request, user: User = Depends(analyst)) -> Response:
    language = _language()
    form = await request.form()
    values: dict[str, dict[int, str]] = {}
    targets: dict[str, dict[int, float]] = {}
    errors: dict[str, str] = {}
    with session_scope() as session:
        spec = _spec_or_404(session, slug)
        demographics = service.demographic_questions(spec)
        for variable in service.WEIGHT_VARIABLES:
            question = demographics.get(variable.value)
            optional = variable != WeightVariable.municipality
            if question is None or (optional and form.get(f"use-{variable.value}") != "1"):
                continue
            values[variable.value] = {}
            targets[variable.value] = {}
            for choice in question.choices:
                raw = str(form.get(f"{variable.value}-{choice.code}", ""))[:20]
                values[variable.value][choice.code] = raw
                share = _parse_share(raw)
                if share is None:
                    errors.setdefault(f"{variable.value}-{choice.code}",
                                      _("Enter a share or a population figure from 0 to %(max)s for %(label)s.")
                                      % {"label": choice.text(language), "max": number(MAX_TARGET)})
                else:
                    targets[variable.value][choice.code] = share
            given = sum(1 for share in targets[variable.value].values() if share > 0)
            # One category alone would get the whole weight and change no figure: weighting needs two.
            if not errors and given < min(2, len(question.choices)):
                first = question.choices[0].code if question.choices else 0
                errors[f"{variable.value}-{first}"] = _(
                    "Give at least two categories of %(variable)s a share above 0, or untick it: with one, "
                    "weighting cannot change any figure."
                ) % {"variable": question.label(language)}
        if errors:
            context = _weighting_context(session, spec, language, values=values, errors=errors)
            return render(request, "workspace/weighting.html", context, 422)
        service.save_targets(session, spec=spec, targets=targets)
        run = service.ensure_weights(session, spec=spec, force=True)
        record_audit(session, user_id=user.id, action="weighting.save", target=f"survey:{spec.id}",
                     details={"variables": sorted(targets), "design_effect": round(run.design_effect, 3)},
                     request=request)
    return RedirectResponse(f"/arbetsyta/enkater/{slug}/viktning?sparat=1", status_code=303)


# --- exports --------------------------------------------------------------------------------------


def _may_have_raw(user: User, raw: bool) -> None:
    if raw and user.role != Role.admin.value:
        raise HTTPException(403, _("Only an administrator may export free text without redaction."))


@router.get("/arbetsyta/enkater/{slug}/export")
def export_page(slug: str, request: Request, user: User = Depends(analyst)) -> Response:
    language = _language()
    filters, errors = _filters(request)
    with session_scope() as session:
        spec = _spec_or_404(session, slug)
        jobs = session.execute(
            select(ExportJob).where(ExportJob.owner_id == user.id, ExportJob.survey_id == spec.id)
            .order_by(ExportJob.id.desc()).limit(10)
        ).scalars().all()
        targets, _own = service.weight_targets(session, spec=spec)
        weighted_by = service.weighting_variables(spec, targets)
        converged = service.weights_converged(session, spec=spec)
    everyone = filters.everyone().query()
    context = {
        "spec": spec,
        "title": spec.text("title", language),
        "filters": filters,
        "hidden_filters": filters.params(),
        "filter_description": filters.described(spec, language, _),
        "csv_url": f"/arbetsyta/enkater/{slug}/export.csv" + (f"?{filters.query()}" if filters.params() else ""),
        "everyone_url": f"/arbetsyta/enkater/{slug}/export" + (f"?{everyone}" if everyone else ""),
        "weight_column": exports.WEIGHT_COLUMN if weighted_by else None,
        "converged": converged,
        "weighted_by": ", ".join(_(DEMOGRAPHIC_TITLES[v]).lower() for v in weighted_by),
        "is_admin": user.role == Role.admin.value,
        "jobs": jobs,
        "errors": errors,
        "small_cell": service.SMALL_CELL,
        "base": f"/arbetsyta/enkater/{slug}",
        **_formatters(),
    }
    return render(request, "workspace/export.html", context)


@router.get("/arbetsyta/enkater/{slug}/export.csv")
def export_csv(
    slug: str,
    request: Request,
    user: User = Depends(analyst),
    ratext: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    raw = ratext == "1"
    _may_have_raw(user, raw)
    filters, _errors = _filters(request)
    language = _language()
    with session_scope() as session:
        spec = _spec_or_404(session, slug)
        with_weight = exports.prepare_weights(session, spec=spec)
        record_audit(session, user_id=user.id, action="export", target=f"survey:{spec.id}",
                     details={"format": "csv", "raw": raw, "filters": filters.params()}, request=request)
    name = exports.file_name(spec, "csv", filters, raw=raw)
    return StreamingResponse(
        exports.csv_lines(spec, filters, raw=raw, language=language, with_weight=with_weight),
        media_type=exports.MEDIA_TYPES[ExportFormat.csv],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get("/arbetsyta/enkater/{slug}/svarande.csv")
def export_respondents(slug: str, request: Request, user: User = Depends(analyst)) -> Response:
    """Who answered an identified survey (name, e-mail, organisation by response id): personal data,
    so every download is logged, and anonymous surveys have none to give."""
    with session_scope() as session:
        spec = _spec_or_404(session, slug)
        if not identities.asks_identity(spec):
            raise HTTPException(404, _("This survey is anonymous: it does not take the respondent's name."))
        rows = identities.respondents(session, survey_id=spec.id or 0)
        record_audit(session, user_id=user.id, action="export", target=f"survey:{spec.id}",
                     details={"format": "respondents", "rows": len(rows)}, request=request)
    name = exports.file_name(spec, "csv").replace(".csv", "-svarande.csv")
    return Response(exports.csv_text(identities.RESPONDENT_COLUMNS, rows),
                    media_type=exports.MEDIA_TYPES[ExportFormat.csv],
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.post("/arbetsyta/enkater/{slug}/export")
async def start_export(
    slug: str,
    request: Request,
    user: User = Depends(analyst),
    format: Annotated[str, Form(max_length=8)] = "",  # noqa: A002 - the form's field name
    ratext: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    raw = ratext == "1"
    if format not in (ExportFormat.xlsx, ExportFormat.sav, ExportFormat.json):
        raise HTTPException(400, _("Choose a file format."))
    _may_have_raw(user, raw)
    form = await request.form()
    filters, _errors = service.parse_filters({k: str(form.get(k, "")) for k in FILTER_KEYS})
    with session_scope() as session:
        spec = _spec_or_404(session, slug)
        job = exports.create_job(session, owner_id=user.id or 0, spec=spec, export_format=format, filters=filters,
                                 raw=raw)
        record_audit(session, user_id=user.id, action="export", target=f"survey:{spec.id}",
                     details={"format": format, "raw": raw, "filters": filters.params(), "job": job.id},
                     request=request)
        job_id = job.id
    assert job_id is not None
    exports.start_job(job_id, language=_language())
    return RedirectResponse(f"/arbetsyta/exporter/{job_id}", status_code=303)


def _own_job(session: Session, job_id: int, user: User) -> ExportJob:
    job = session.get(ExportJob, job_id)
    if job is None or (job.owner_id != user.id and user.role != Role.admin.value):
        raise HTTPException(404)
    return job


@router.get("/arbetsyta/exporter/{job_id}")
def job_page(job_id: RowId, request: Request, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        job = _own_job(session, job_id, user)
        spec = service.survey_by_id(session, survey_id=job.survey_id)
    context = {
        "job": job,
        "spec": spec,
        "stale": exports.job_is_stale(job),
        "finished": job.status in (JobStatus.done, JobStatus.failed) or exports.job_is_stale(job),
        "progress_class": f"progress-{min(100, max(0, job.progress // 5 * 5))}",
    }
    template = "workspace/_job.html" if is_htmx_partial(request) else "workspace/job.html"
    return render(request, template, context)


@router.get("/arbetsyta/exporter/{job_id}/fil")
def job_file(job_id: RowId, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        job = _own_job(session, job_id, user)
    if job.status != JobStatus.done or not job.file_path or not Path(job.file_path).exists():
        raise HTTPException(404)
    return FileResponse(job.file_path, media_type=exports.MEDIA_TYPES[ExportFormat(job.format)],
                        filename=job.file_name or Path(job.file_path).name)


# --- comparing review cycles ----------------------------------------------------------------------


@router.get("/arbetsyta/jamfor")
def compare_page(
    request: Request,
    user: User = Depends(analyst),
    fraga: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    language = _language()
    filters, _errors = _filters(request)
    with session_scope() as session:
        codes = service.comparable_codes(session)
        comparison = service.compare(session, code=fraga, filters=filters, language=language) if fraga else None
    chart_query = urlencode({"fraga": fraga or "", **filters.params()})
    context = {
        "codes": codes,
        "code": fraga or "",
        "comparison": comparison,
        "filters": filters,
        "chart_url": f"/arbetsyta/jamfor.svg?{chart_query}",
        "weighted": filters.weighted,
        **_formatters(),
    }
    status = 404 if fraga and comparison is not None and not comparison.columns else 200
    return render(request, "workspace/compare.html", context, status)


@router.get("/arbetsyta/jamfor.svg")
def compare_chart(request: Request, user: User = Depends(analyst),
                  fraga: Annotated[str, Query(max_length=64)] = "") -> Response:
    filters, _errors = _filters(request)
    with session_scope() as session:
        comparison = service.compare(session, code=fraga, filters=filters, language=_language())
    if not comparison.columns:
        raise HTTPException(404)
    key = "weighted_share" if filters.weighted else "share"
    series = tuple(
        (f"{column['cycle_name'] or column['spec'].slug}",
         tuple(float(row["cells"][i].get(key) or 0.0) for row in comparison.rows))
        for i, column in enumerate(comparison.columns)
    )
    return _svg(charts.grouped_bar_chart(tuple(r["label"] for r in comparison.rows), series,
                                         axis_label=_("Share of respondents")))
