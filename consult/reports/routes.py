"""The summary report's pages (staff and public) and the organisations' answers view.

Staff (analysts; admins pass): /arbetsyta/rapport/{cycle} with its PDF, the form for "Vad vi gör med
synpunkterna", publishing, and /arbetsyta/remiss/{round}. Public: /rapport/{cycle} and its PDF, only
once published, and always with the publication rules (see service.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from consult.accounts.deps import require_role
from consult.accounts.models import Role, User
from consult.accounts.service import record_audit, register_staff_link
from consult.core import i18n
from consult.core.fields import pick
from consult.core.formatting import number, percent
from consult.core.i18n import N_, _
from consult.core.routing import public_base_url
from consult.core.templating import render, templates
from consult.db import session_scope
from consult.remiss import service as remiss
from consult.remiss.models import RemissRound
from consult.reports import charts, service
from consult.reports.pdf import PdfUnavailable, html_to_pdf
from consult.strategy.models import ReviewCycle
from consult.strategy.service import cycle_by_key
from consult.workspace import charts as workspace_charts
from consult.workspace import service as workspace
from consult.workspace.routes import chart_description, question_svg

router = APIRouter(include_in_schema=False)
analyst = require_role(Role.analyst.value)
register_staff_link("/arbetsyta/rapport", N_("Summary report"), {Role.analyst.value})
register_staff_link("/arbetsyta/remiss", N_("Organisations' answers"), {Role.analyst.value})

public_cache = workspace.FigureCache(size=32, ttl=60.0)  # anonymous visitors share the rendered figures
PDF_HEADERS = {"cache-control": "private, no-store"}


def _language() -> str:
    return i18n.current_language.get()


def _formatters() -> dict[str, Any]:
    return {
        "percent": percent,
        "number": number,
        "channel_label": lambda code: _(workspace.CHANNEL_LABELS.get(code, code)),
        "position_label": lambda code: _(service.POSITION_LABELS.get(code, code)),
        "positions": service.POSITIONS,
        "small_cell": workspace.SMALL_CELL,
        "pick": pick,
    }


def _cycle_or_404(session: Session, key: str) -> ReviewCycle:
    cycle = cycle_by_key(session, key=key[:64])
    if cycle is None:
        raise HTTPException(404, _("There is no review cycle with this address."))
    return cycle


# --- charts -------------------------------------------------------------------------------------------


def _question_chart(result: workspace.QuestionResult, weighted: bool) -> dict[str, str] | None:
    """The chart of a closed question as a data URI with its text alternative, or None when there is
    nothing to draw (nobody answered, or everything is suppressed)."""
    if result.suppressed or result.respondents == 0:
        return None
    if result.kind == "number":
        drawable = any(b.get("count") is not None for b in result.histogram)
    elif result.kind == "ranking":
        drawable = any(r.get("points") is not None for r in result.rows)
    else:
        key = "weighted_share" if weighted else "share"
        drawable = any(r.get(key) is not None for r in result.rows)
    if not drawable:
        return None
    return {"src": charts.data_uri(question_svg(result, weighted=weighted)),
            "alt": chart_description(result, weighted)}


def _share_chart(title: str, rows: list[dict[str, Any]]) -> dict[str, str] | None:
    shown = [r for r in rows if r.get("share") is not None]
    if not shown:
        return None
    labels = tuple(str(r["label"]) for r in shown)
    values = tuple(float(r["share"]) for r in shown)
    svg = workspace_charts.bar_chart(labels, values, axis_label=_("Share of responses"))
    return {"src": charts.data_uri(svg), "alt": workspace_charts.describe_bars(title, labels, values)}


def _positions_chart(title: str, labels: list[str], counts: list[dict[str, int | None]]) -> dict[str, str] | None:
    """Stacked bars of positions (agree … abstain), one bar per label; suppressed cells are left out."""
    series = tuple(
        (_(service.POSITION_LABELS[p]), tuple(int(c.get(p) or 0) for c in counts)) for p in service.POSITIONS
    )
    if not any(any(values) for _name, values in series):
        return None
    svg = charts.stacked_bar_chart(tuple(labels), series, axis_label=_("Organisations"))
    return {"src": charts.data_uri(svg), "alt": charts.describe_stacked(title, labels, series)}


def _channel_rows(report: service.Report) -> list[dict[str, Any]]:
    return [{**row, "label": _(workspace.CHANNEL_LABELS.get(row["code"], row["code"]))}
            for row in report.overview.by_channel]


def _report_charts(report: service.Report) -> dict[str, Any]:
    found: dict[str, Any] = {}
    found["channels"] = _share_chart(_("Respondents by channel"), _channel_rows(report))
    found["municipalities"] = _share_chart(_("Respondents by municipality"), report.municipalities)
    for section in report.surveys:
        for result in section.closed:
            found[f"{section.spec.slug}/{result.code}"] = _question_chart(result, report.weighted)
    for summary in report.rounds:
        found[f"round/{summary.remiss_round.key}"] = _positions_chart(
            _("Positions of the organisations per priority"), [p.label for p in summary.priorities],
            [p.counts for p in summary.priorities])
    return found


# --- the report ----------------------------------------------------------------------------------------


def _variable_names(variables: list[str]) -> str:
    titles = {"municipality": _("municipality"), "gender": _("gender"), "age_band": _("age band")}
    return ", ".join(titles.get(v, v) for v in variables) or _("no variable")


def _report_context(session: Session, cycle: ReviewCycle, *, publish: bool, staff: bool) -> dict[str, Any]:
    language = _language()
    report = service.build_report(session, cycle=cycle, publish=publish, language=language)
    return {
        "report": report,
        "charts": _report_charts(report),
        "cycle_name": pick(cycle.name, language),
        "staff": staff,
        "channels": _channel_rows(report),
        "variable_names": _variable_names,
        **_formatters(),
    }


def _public_context(session: Session, cycle: ReviewCycle) -> dict[str, Any]:
    record = service.report_record(session, cycle_id=cycle.id or 0)
    if record is None or not record.published:
        raise HTTPException(404, _("This summary has not been published."))
    key = ("public-report", cycle.id, _language(), record.updated_at, record.published_at, record.weighted)
    return public_cache.get_or_compute(key, lambda: _report_context(session, cycle, publish=True, staff=False))


def _pdf_response(request: Request, context: dict[str, Any], cycle: ReviewCycle) -> Response:
    html = templates.get_template("reports/report_pdf.html").render(
        {**context, "lang": _language(), "request": request})
    try:
        pdf = html_to_pdf(html)
    except PdfUnavailable:
        message = _("The PDF cannot be made on this server right now. Print the page instead.")
        raise HTTPException(503, message) from None
    name = f"sammanstallning-{cycle.key}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={**PDF_HEADERS, "content-disposition": f'attachment; filename="{name}"'})


@router.get("/arbetsyta/rapport")
def report_index(request: Request, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        cycles = workspace.cycles(session)
        records = {c.id: service.report_record(session, cycle_id=c.id or 0) for c in cycles}
        rounds = service.all_rounds(session)
    context = {"cycles": cycles, "records": records, "rounds": rounds}
    return render(request, "reports/index.html", context)


@router.get("/arbetsyta/rapport/{cycle_key}")
def staff_report(
    cycle_key: str,
    request: Request,
    user: User = Depends(analyst),
    publicera: Annotated[str | None, Query(max_length=1)] = None,
    sparat: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    with session_scope() as session:
        cycle = _cycle_or_404(session, cycle_key)
        context = _report_context(session, cycle, publish=publicera == "1", staff=True)
    context["saved"] = sparat
    context["public_url"] = _public_url(request, cycle)
    return render(request, "reports/report.html", context)


def _public_url(request: Request, cycle: ReviewCycle) -> str:
    """The public report's full address: staff copy it into mails and web pages, where a bare path
    would lead nowhere."""
    return f"{public_base_url(request)}/rapport/{cycle.key}"


@router.get("/arbetsyta/rapport/{cycle_key}/pdf")
def staff_report_pdf(
    cycle_key: str,
    request: Request,
    user: User = Depends(analyst),
    publicera: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    with session_scope() as session:
        cycle = _cycle_or_404(session, cycle_key)
        context = _report_context(session, cycle, publish=publicera == "1", staff=False)
    return _pdf_response(request, context, cycle)


def _actions_context(cycle: ReviewCycle, record: Any, *, values: dict[str, str] | None = None,
                     weighted: bool | None = None, errors: dict[str, str] | None = None) -> dict[str, Any]:
    actions = record.actions if record and record.actions else {}
    return {
        "cycle": cycle,
        "cycle_name": pick(cycle.name, _language()),
        "values": values if values is not None else {"sv": actions.get("sv", ""), "en": actions.get("en", "")},
        "weighted": weighted if weighted is not None else bool(record and record.weighted),
        "errors": errors or {},
        "max_length": service.MAX_ACTIONS_LENGTH,
    }


@router.get("/arbetsyta/rapport/{cycle_key}/atgarder")
def actions_form(cycle_key: str, request: Request, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        cycle = _cycle_or_404(session, cycle_key)
        record = service.report_record(session, cycle_id=cycle.id or 0)
    return render(request, "reports/actions_form.html", _actions_context(cycle, record))


@router.post("/arbetsyta/rapport/{cycle_key}/atgarder")
async def save_actions(cycle_key: str, request: Request, user: User = Depends(analyst)) -> Response:
    form = await request.form()
    # Read a little past the limit, so that a too long text is reported rather than cut silently.
    values = {lang: str(form.get(f"actions-{lang}", ""))[: service.MAX_ACTIONS_LENGTH + 1] for lang in ("sv", "en")}
    weighted = form.get("weighted") == "1"
    errors = {k: _(v) for k, v in service.check_actions(values).items()}
    with session_scope() as session:
        cycle = _cycle_or_404(session, cycle_key)
        if errors:
            record = service.report_record(session, cycle_id=cycle.id or 0)
            context = _actions_context(cycle, record, values=values, weighted=weighted, errors=errors)
            return render(request, "reports/actions_form.html", context, 422)
        record = service.save_actions(session, cycle_id=cycle.id or 0, actions=values, weighted=weighted,
                                      user_id=user.id)
        record_audit(session, user_id=user.id, action="report.actions.save", target=f"cycle:{cycle.key}",
                     details={"characters": {k: len(v) for k, v in record.actions.items()}, "weighted": weighted},
                     request=request)
    return RedirectResponse(f"/arbetsyta/rapport/{cycle.key}?sparat=1#atgarder", status_code=303)


@router.post("/arbetsyta/rapport/{cycle_key}/publicering")
async def publish_report(cycle_key: str, request: Request, user: User = Depends(analyst)) -> Response:
    form = await request.form()
    published = form.get("publish") == "1"
    with session_scope() as session:
        cycle = _cycle_or_404(session, cycle_key)
        service.set_published(session, cycle_id=cycle.id or 0, published=published, user_id=user.id)
        record_audit(session, user_id=user.id, action="report.publish" if published else "report.unpublish",
                     target=f"cycle:{cycle.key}", details={}, request=request)
    public_cache.clear()
    return RedirectResponse(f"/arbetsyta/rapport/{cycle.key}?sparat={'p' if published else 'u'}", status_code=303)


@router.get("/rapport/{cycle_key}")
def public_report(cycle_key: str, request: Request) -> Response:
    with session_scope() as session:
        cycle = _cycle_or_404(session, cycle_key)
        context = _public_context(session, cycle)
    return render(request, "reports/public.html", context)


@router.get("/rapport/{cycle_key}/pdf")
def public_report_pdf(cycle_key: str, request: Request) -> Response:
    with session_scope() as session:
        cycle = _cycle_or_404(session, cycle_key)
        context = _public_context(session, cycle)
    return _pdf_response(request, context, cycle)


# --- the organisations' answers --------------------------------------------------------------------------


def _round_or_404(session: Session, key: str) -> RemissRound:
    found = service.round_by_key(session, key=key[:64])
    if found is None:
        raise HTTPException(404, _("There is no consultation with this address."))
    return found


@router.get("/arbetsyta/remiss")
def rounds_index(request: Request, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        rounds = service.all_rounds(session)
    if len(rounds) == 1:
        return RedirectResponse(f"/arbetsyta/remiss/{rounds[0].key}", status_code=303)
    return render(request, "reports/rounds.html", {"rounds": rounds})


@router.get("/arbetsyta/remiss/{round_key}")
def organisations_answers(round_key: str, request: Request, user: User = Depends(analyst)) -> Response:
    language = _language()
    with session_scope() as session:
        remiss_round = _round_or_404(session, round_key)
        summary = service.round_summary(session, remiss_round=remiss_round, language=language, publish=False)
        comments = service.round_comments(session, remiss_round=remiss_round, language=language)
    priority_charts = {
        p.key: _positions_chart(_("Positions on %(priority)s by actor type") % {"priority": p.label},
                                [remiss.actor_type_name(a["actor_type"], language) for a in p.by_actor],
                                [a["counts"] for a in p.by_actor])
        for p in summary.priorities
    }
    context = {
        "summary": summary,
        "comments": comments,
        "priority_charts": priority_charts,
        "comment_total": sum(len(s.comments) for s in comments),
        **_formatters(),
    }
    return render(request, "reports/organisations.html", context)
