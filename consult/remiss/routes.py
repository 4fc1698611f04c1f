"""The remiss over HTTP. Organisations answer at /r/{token} (under /r/ the body limit allows a
10 MB attachment); the public list of answers is at /remiss/{round}; staff pages are under
/admin/remiss. The logic is in service.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from consult.accounts.deps import require_role
from consult.accounts.models import User
from consult.accounts.service import record_audit, register_staff_link
from consult.core.fields import utcnow
from consult.core.i18n import N_, _, current_language
from consult.core.routing import RowId, public_base_url
from consult.core.templating import render, templates
from consult.db import get_session, session_scope
from consult.organisation.service import organisation_name
from consult.remiss import service
from consult.remiss.models import AnswerStatus, Position, RemissAnswer, RemissRound

router = APIRouter(include_in_schema=False)
# Actor types are shown by the remiss pages and the summary report, in the reader's language.
templates.env.filters["actor_type"] = lambda value: service.actor_type_name(value, current_language.get())

register_staff_link("/admin/remiss", N_("Consultation (remiss)"), {"analyst"})

Admin = Annotated[User, Depends(require_role("admin"))]
Analyst = Annotated[User, Depends(require_role("analyst"))]
SessionDep = Annotated[Session, Depends(get_session)]
AnswerId = RowId


def _identity(text: str) -> str:
    return text


def _redact(text: str) -> str:
    from consult.core.redacting import redact

    return redact(text)


def _answer_page(session, remiss_round, row) -> dict:  # type: ignore[no-untyped-def]
    """What the public and the staff view of one submitted answer both show."""
    draft = service.load_draft(session, version_id=remiss_round.version_id)
    return {
        **_common(draft),
        "remiss_round": remiss_round,
        "organisation": row.organisation,
        "answer": row.answer,
        "content": service.normalised_content(row.answer.content),
        "clean": _redact,
    }


def _common(draft: service.Draft) -> dict[str, Any]:
    return {
        "draft": draft,
        "positions": [(p.value, service.POSITION_LABELS[p.value]) for p in Position],
        "position_labels": service.POSITION_LABELS,
        "format_time": lambda value: service.format_date(value, current_language.get()),
    }



# --- the organisation's answer form ------------------------------------------------------------


def _context_or_404(session: Session, token: str, *, allow_closed: bool = False) -> service.LinkContext:
    context = service.context_for_token(session, token=token)
    if context is None:
        organisation = organisation_name(current_language.get())
        raise HTTPException(
            404,
            _(
                "This link does not work. Check that you copied the whole link from the invitation, "
                "or ask %(name)s for a new one."
            )
            % {"name": organisation}
            if organisation
            else _(
                "This link does not work. Check that you copied the whole link from the invitation, "
                "or ask whoever sent it for a new one."
            ),
        )
    if not allow_closed and service.is_closed(context.remiss_round):
        raise HTTPException(
            404,
            _("The consultation closed on %(date)s, so the link no longer works.")
            % {"date": service.format_date(context.remiss_round.closes_at, current_language.get())},
        )
    return context


def _translated(problems: list[service.FormProblem]) -> list[dict[str, str]]:
    return [{"field": p.field, "message": _(p.message) % p.params if p.params else _(p.message)} for p in problems]


def _form_page(
    request: Request,
    context: service.LinkContext,
    draft: service.Draft,
    *,
    token: str,
    content: dict[str, Any],
    consent: bool | None,
    version: int,
    new_comment: dict[str, Any] | None = None,
    problems: list[service.FormProblem] | None = None,
    conflict: RemissAnswer | None = None,
    notice: str | None = None,
    unanswered: list[service.DraftSection] | None = None,
    nothing_saved: bool = False,
    status_code: int = 200,
) -> Response:
    errors = _translated(problems or [])
    page = {
        **_common(draft),
        "token": token,
        "organisation": context.organisation,
        "remiss_round": context.remiss_round,
        "answer": context.answer,
        "content": service.normalised_content(content),
        "consent": consent,
        "version": version,
        "new_comment": new_comment or {},
        "errors": errors,
        "error_by_field": {e["field"]: e["message"] for e in errors},
        "conflict": conflict,
        "conflict_content": service.normalised_content(conflict.content) if conflict else None,
        "notice": notice,
        "deadline_passed": service.is_late(context.remiss_round, at=utcnow()),
        "unanswered": unanswered or [],
        "nothing_saved": nothing_saved,
        "clean": _identity,
        "max_mb": service.MAX_ATTACHMENT_BYTES // (1024 * 1024),
    }
    return render(request, "remiss/answer.html", page, status_code)


def _already_submitted(
    request: Request, context: service.LinkContext, draft: service.Draft, *, token: str, parsed: service.ParsedForm
) -> Response:
    """A form sent from a window opened before someone with the same link submitted the answer:
    nothing can be saved any more. The page says so, links to the receipt and gives back what was
    typed in that window, to copy."""
    page = {
        "organisation": context.organisation,
        "remiss_round": context.remiss_round,
        "answer": context.answer,
        "token": token,
        "typed": service.typed_text(parsed, draft, current_language.get()),
        "format_time": _format_time,
    }
    return render(request, "remiss/already_submitted.html", page, 409)


@router.get("/r/{token}")
def answer_form(
    request: Request,
    token: str,
    session: SessionDep,
    saved: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    empty: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    context = _context_or_404(session, token)
    if context.answer.status == AnswerStatus.submitted:
        return RedirectResponse(f"/r/{token}/kvitto", status_code=303)
    draft = service.load_draft(session, version_id=context.remiss_round.version_id)
    notice = _("Your draft is saved (version %(n)s).") % {"n": saved} if saved else None
    if empty and not context.answer.version:
        notice = _("Nothing was saved: the form is still empty.")
    return _form_page(
        request,
        context,
        draft,
        token=token,
        content=context.answer.content,
        consent=context.answer.consent_publish,
        version=context.answer.version,
        notice=notice,
    )


@router.post("/r/{token}")
async def post_answer(request: Request, token: str) -> Response:
    form = await request.form(max_files=2, max_fields=3000)
    action = form.get("action") if isinstance(form.get("action"), str) else "save"
    switching = action == "switch"  # the language switch: saves as "Save draft" does
    if switching:
        action = "save"
    language = current_language.get()
    with session_scope() as session:
        context = _context_or_404(session, token)
        draft = service.load_draft(session, version_id=context.remiss_round.version_id)
        parsed = service.parse_answer_form(form, draft, language, adding=action == "add_comment")
        shown = {
            "token": token,
            "content": parsed.content,
            "consent": parsed.consent,
            "new_comment": parsed.new_comment,
        }
        if context.answer.status == AnswerStatus.submitted:
            return _already_submitted(request, context, draft, token=token, parsed=parsed)
        if action == "show":
            # The language switch after a conflict: the same form again in the other language,
            # nothing saved (saving now would replace the other person's version).
            stored = context.answer
            conflict = stored if parsed.version == stored.version and stored.version > 0 else None
            return _form_page(request, context, draft, **shown, version=parsed.version, conflict=conflict)
        if parsed.blocks_save:
            # Some text is over its limit: nothing of this post is stored (not even a file chosen),
            # and the form comes back with the text whole, to be shortened.
            return _form_page(
                request, context, draft, **shown, version=parsed.version, problems=parsed.problems,
                nothing_saved=True, status_code=422,
            )
        problems = list(parsed.problems)
        upload = form.get("attachment")
        problems += _take_attachment(session, context.answer, upload)
        if action == "submit":
            session.refresh(context.answer)
            problems += service.check_complete(parsed, context.answer)
        assert context.answer.id is not None
        session.refresh(context.answer)
        if service.unchanged(parsed, context.answer) and not getattr(upload, "filename", None):
            # Nothing new to keep (an empty form nobody saved stays "not started"; the same draft
            # sent again, by a failed submit say, stays the version it was): no new version.
            result = service.SaveResult(True, context.answer.version)
        else:
            result = service.save_draft(
                session,
                answer_id=context.answer.id,
                expected_version=parsed.version,
                content=parsed.content,
                consent=parsed.consent,
                remove_attachment=parsed.remove_attachment,
            )
            session.refresh(context.answer)
        if not result.saved:
            if context.answer.status == AnswerStatus.submitted:
                return _already_submitted(request, context, draft, token=token, parsed=parsed)
            return _form_page(
                request,
                context,
                draft,
                **shown,
                version=result.version,
                problems=problems,
                conflict=context.answer,
                status_code=409,
            )
        if problems:
            return _form_page(
                request, context, draft, **shown, version=result.version, problems=problems, status_code=422
            )
        missing = service.priorities_without_position(parsed.content, draft) if action == "submit" else []
        if missing and form.get("confirm_incomplete") != "1":
            # Saved as a draft; the organisation confirms that the gaps are meant before it is sent.
            return _form_page(request, context, draft, **shown, version=result.version, unanswered=missing)
        if action == "submit":
            try:
                service.submit_answer(session, answer_id=context.answer.id, expected_version=result.version)
            except service.RemissError as exc:
                problem = service.FormProblem("form", exc.message)
                return _form_page(
                    request, context, draft, **shown, version=result.version, problems=[problem], status_code=409
                )
            return RedirectResponse(f"/r/{token}/kvitto", status_code=303)
    anchor = "#new-comment" if action == "add_comment" else ""
    if result.version == 0:  # nothing typed yet: a language switch just shows the form
        return RedirectResponse(f"/r/{token}" if switching else f"/r/{token}?empty=1{anchor}", status_code=303)
    return RedirectResponse(f"/r/{token}?saved={result.version}{anchor}", status_code=303)


def _take_attachment(session: Session, answer: RemissAnswer, upload: Any) -> list[service.FormProblem]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return []
    try:
        columns = service.store_attachment(upload.file, upload.filename)
    except service.RemissError as exc:
        return [service.FormProblem("attachment", exc.message, exc.params)]
    assert answer.id is not None
    service.attach(session, answer_id=answer.id, columns=columns)
    return []


@router.get("/r/{token}/kvitto")
def receipt(request: Request, token: str, session: SessionDep) -> Response:
    context = _context_or_404(session, token, allow_closed=True)
    if context.answer.status != AnswerStatus.submitted:
        return RedirectResponse(f"/r/{token}", status_code=303)
    draft = service.load_draft(session, version_id=context.remiss_round.version_id)
    page = {
        **_common(draft),
        "organisation": context.organisation,
        "remiss_round": context.remiss_round,
        "answer": context.answer,
        "content": service.normalised_content(context.answer.content),
        "clean": _identity,
    }
    return render(request, "remiss/receipt.html", page)


# --- public ----------------------------------------------------------------------------------


def _round_or_404(session: Session, key: str) -> RemissRound:
    remiss_round = service.round_by_key(session, key=key)
    if remiss_round is None:
        raise HTTPException(404, _("There is no consultation with this address."))
    return remiss_round


@router.get("/remiss/{key}")
def public_round(request: Request, key: str, session: SessionDep) -> Response:
    remiss_round = _round_or_404(session, key)
    assert remiss_round.id is not None
    rows = service.submitted_answers(session, round_id=remiss_round.id)
    return render(
        request,
        "remiss/public.html",
        {"remiss_round": remiss_round, "rows": rows, "format_time": _format_time},
    )


def _format_time(value: Any) -> str:
    return service.format_date(value, current_language.get())


@router.get("/remiss/{key}/svar/{answer_id}")
def public_answer(request: Request, key: str, answer_id: AnswerId, session: SessionDep) -> Response:
    remiss_round = _round_or_404(session, key)
    assert remiss_round.id is not None
    row = service.answer_with_organisation(session, round_id=remiss_round.id, answer_id=answer_id)
    if row is None or not row.answer.published:
        raise HTTPException(404, _("This answer is not published."))
    page = _answer_page(session, remiss_round, row)
    return render(request, "remiss/public_answer.html", page)


# --- staff: rounds, organisations, links and mail --------------------------------------------


@router.get("/admin/remiss")
def staff_rounds(request: Request, session: SessionDep, user: Analyst) -> Response:
    return render(request, "remiss/staff_rounds.html", {"rounds": service.list_rounds(session)})


def _organisations_page(
    request: Request,
    session: Session,
    remiss_round: RemissRound,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    imported: service.ImportResult | None = None,
    mail_report: service.MailReport | None = None,
    mail_error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    assert remiss_round.id is not None
    page = {
        "remiss_round": remiss_round,
        "rows": service.invitation_rows(session, round_id=remiss_round.id),
        "actor_types": service.actor_types(),
        "typed": typed or {},
        "errors": errors or {},
        "imported": imported,
        "mail_report": mail_report,
        "mail_error": mail_error,
        "smtp": service.SmtpSettings.from_env(),
        "notice": notice,
        "format_time": _format_time,
    }
    return render(request, "remiss/organisations.html", page, status_code)


@router.get("/admin/remiss/{key}/organisationer")
def organisations(
    request: Request,
    key: str,
    session: SessionDep,
    user: Admin,
    added: str | None = None,
) -> Response:
    remiss_round = _round_or_404(session, key)
    notice = _("%(name)s was added.") % {"name": added[:200]} if added else None
    return _organisations_page(request, session, remiss_round, notice=notice)


@router.post("/admin/remiss/{key}/organisationer")
async def add_organisation(request: Request, key: str, user: Admin) -> Response:
    form = await request.form()
    typed = {name: str(form.get(name) or "").strip() for name in ("name", "actor_type", "area", "email")}
    with session_scope() as session:
        remiss_round = _round_or_404(session, key)
        problems = service.check_organisation(**typed)
        if not problems:
            try:
                with session.begin_nested():
                    service.register_organisation(session, remiss_round=remiss_round, **typed)
            except service.RemissError as exc:
                problems = [("name", _(exc.message) % exc.params if exc.params else exc.message)]
        if problems:
            errors = {name: _(message) for name, message in problems}
            return _organisations_page(request, session, remiss_round, typed=typed, errors=errors, status_code=422)
        record_audit(
            session,
            user_id=user.id,
            action="remiss.organisation",
            target=f"remiss:{key}",
            details={"name": typed["name"]},
            request=request,
        )
    from urllib.parse import quote

    return RedirectResponse(f"/admin/remiss/{key}/organisationer?added={quote(typed['name'])}", status_code=303)


@router.post("/admin/remiss/{key}/organisationer/import")
async def import_organisations(request: Request, key: str, user: Admin) -> Response:
    form = await request.form(max_files=1)
    upload = form.get("file")
    with session_scope() as session:
        remiss_round = _round_or_404(session, key)
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors = {"file": _("Choose a CSV file.")}
            return _organisations_page(request, session, remiss_round, errors=errors, status_code=422)
        data = await upload.read()
        result = service.import_organisations_csv(session, remiss_round=remiss_round, data=data)
        record_audit(
            session,
            user_id=user.id,
            action="import",
            target=f"remiss:{key}",
            details={"created": len(result.created), "problems": len(result.problems)},
            request=request,
        )
        status = 422 if result.problems and not result.created else 200
        return _organisations_page(request, session, remiss_round, imported=result, status_code=status)


@router.get("/admin/remiss/{key}/lankar.csv")
def download_links(request: Request, key: str, session: SessionDep, user: Admin) -> Response:
    remiss_round = _round_or_404(session, key)
    assert remiss_round.id is not None
    body = service.links_csv(
        session, round_id=remiss_round.id, base_url=public_base_url(request), language=current_language.get()
    )
    record_audit(session, user_id=user.id, action="remiss.links", target=f"remiss:{key}", request=request)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="remiss-{key}-lankar.csv"', "Cache-Control": "no-store"},
    )


@router.post("/admin/remiss/{key}/utskick")
async def send_mail(request: Request, key: str, user: Admin) -> Response:
    form = await request.form()
    reminder = form.get("action") == "remind"
    with session_scope() as session:
        remiss_round = _round_or_404(session, key)
        settings = service.SmtpSettings.from_env()
        if settings is None:
            message = _("E-mail is not configured. Download the links and send them yourself.")
            return _organisations_page(request, session, remiss_round, mail_error=message, status_code=409)
        problem = service.sending_problem(remiss_round, now=utcnow())
        if problem:
            deadline = service.format_date(remiss_round.deadline, current_language.get())
            message = _(problem) % {"deadline": deadline}
            return _organisations_page(request, session, remiss_round, mail_error=message, status_code=409)
        try:
            report = service.send_invitations(
                session,
                remiss_round=remiss_round,
                base_url=public_base_url(request),
                settings=settings,
                reminder=reminder,
            )
        except (OSError, service.smtplib.SMTPException) as exc:
            message = _("The mail server could not be reached: %(error)s") % {"error": str(exc)[:200]}
            return _organisations_page(request, session, remiss_round, mail_error=message, status_code=502)
        record_audit(
            session,
            user_id=user.id,
            action="remiss.mail",
            target=f"remiss:{key}",
            details={"reminder": reminder, "sent": len(report.sent), "failed": len(report.failed)},
            request=request,
        )
        return _organisations_page(request, session, remiss_round, mail_report=report)


# --- staff: answers, publication, counts, comments, exports -----------------------------------


@router.get("/admin/remiss/{key}/svar")
def staff_answers(request: Request, key: str, session: SessionDep, user: Analyst) -> Response:
    remiss_round = _round_or_404(session, key)
    assert remiss_round.id is not None
    draft = service.load_draft(session, version_id=remiss_round.version_id)
    counts = service.position_counts(session, round_id=remiss_round.id)
    page = {
        **_common(draft),
        "remiss_round": remiss_round,
        "rows": service.invitation_rows(session, round_id=remiss_round.id),
        "counts": counts,
        "comment_counts": service.comment_counts(session, round_id=remiss_round.id),
        "format_time": _format_time,
    }
    return render(request, "remiss/staff_answers.html", page)


def _staff_answer_or_404(session: Session, key: str, answer_id: int) -> tuple[RemissRound, service.SubmittedRow]:
    """The round in the address and its submitted answer, published or not."""
    remiss_round = _round_or_404(session, key)
    assert remiss_round.id is not None
    row = service.answer_with_organisation(session, round_id=remiss_round.id, answer_id=answer_id)
    if row is None or row.answer.status != AnswerStatus.submitted:
        raise HTTPException(404, _("There is no submitted answer with this number."))
    return remiss_round, row


@router.get("/admin/remiss/{key}/svar/{answer_id}")
def staff_answer(
    request: Request,
    key: str,
    answer_id: AnswerId,
    session: SessionDep,
    user: Analyst,
) -> Response:
    remiss_round, row = _staff_answer_or_404(session, key, answer_id)
    page = _answer_page(session, remiss_round, row)
    return render(request, "remiss/staff_answer.html", page)


@router.post("/admin/remiss/{key}/svar/{answer_id}/publicering")
async def publish(request: Request, key: str, answer_id: AnswerId, user: Analyst) -> Response:
    form = await request.form()
    published = form.get("published") == "1"
    with session_scope() as session:
        _round, row = _staff_answer_or_404(session, key, answer_id)
        try:
            service.set_published(session, answer=row.answer, published=published)
        except service.RemissError as exc:
            raise HTTPException(409, _(exc.message)) from exc
        record_audit(
            session,
            user_id=user.id,
            action="remiss.publish",
            target=f"remiss_answer:{answer_id}",
            details={"published": published},
            request=request,
        )
    return RedirectResponse(f"/admin/remiss/{key}/svar#answers", status_code=303)


@router.get("/admin/remiss/{key}/bilaga/{answer_id}")
def attachment(
    request: Request,
    key: str,
    answer_id: AnswerId,
    session: SessionDep,
    user: Analyst,
) -> Response:
    _round, row = _staff_answer_or_404(session, key, answer_id)
    sha = row.answer.attachment_sha256
    if not sha or not service.attachment_path(sha).exists():
        raise HTTPException(404, _("This answer has no attachment."))
    record_audit(
        session, user_id=user.id, action="remiss.attachment", target=f"remiss_answer:{answer_id}", request=request
    )
    return FileResponse(
        service.attachment_path(sha),
        media_type="application/pdf",
        filename=row.answer.attachment_name or "bilaga.pdf",
        content_disposition_type="attachment",
        headers={"Cache-Control": "private, no-store"},
    )


OVERALL_KEY = "helhet"


@router.get("/admin/remiss/{key}/kommentarer/{section_key}")
def section_comments(
    request: Request,
    key: str,
    section_key: str,
    session: SessionDep,
    user: Analyst,
) -> Response:
    remiss_round = _round_or_404(session, key)
    assert remiss_round.id is not None
    draft = service.load_draft(session, version_id=remiss_round.version_id)
    section = draft.by_key.get(section_key)
    if section is None and section_key != OVERALL_KEY:
        raise HTTPException(404, _("That part of the draft does not exist."))
    rows = service.comments_for_section(
        session, round_id=remiss_round.id, section_key=None if section is None else section_key
    )
    counts = service.position_counts(session, round_id=remiss_round.id).get(section_key, {})
    page = {
        **_common(draft),
        "remiss_round": remiss_round,
        "section": section,
        "rows": rows,
        "counts": counts,
        "clean": _redact,
    }
    return render(request, "remiss/section_comments.html", page)


def _export(request: Request, session: Session, key: str, user: User, kind: str) -> tuple[RemissRound, list[dict]]:
    remiss_round = _round_or_404(session, key)
    rows = service.export_rows(session, remiss_round=remiss_round, language=current_language.get())
    record_audit(
        session,
        user_id=user.id,
        action="export",
        target=f"remiss:{key}",
        details={"format": kind, "rows": len(rows)},
        request=request,
    )
    return remiss_round, rows


@router.get("/admin/remiss/{key}/export.csv")
def export_csv(request: Request, key: str, session: SessionDep, user: Analyst) -> Response:
    _round, rows = _export(request, session, key, user, "csv")
    return Response(
        service.export_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="remiss-{key}.csv"'},
    )


@router.get("/admin/remiss/{key}/export.xlsx")
def export_xlsx(request: Request, key: str, session: SessionDep, user: Analyst) -> Response:
    remiss_round, rows = _export(request, session, key, user, "xlsx")
    assert remiss_round.id is not None
    draft = service.load_draft(session, version_id=remiss_round.version_id)
    language = current_language.get()
    titles = {s.key: s.label(language) for s in draft.sections}
    counts = service.position_counts(session, round_id=remiss_round.id)
    body = service.export_xlsx(rows, counts, titles, language=language)
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="remiss-{key}.xlsx"'},
    )
