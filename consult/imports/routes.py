"""Import pages: templates to download, upload, preview, confirm or cancel. Logic in service.py.

The upload lives under /admin/ because the body limit there is 12 MB (1 MB elsewhere)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from consult.accounts.deps import require_role
from consult.accounts.models import Role, User
from consult.accounts.service import register_staff_link
from consult.core.fields import pick
from consult.core.i18n import N_, _, current_language
from consult.core.templating import render
from consult.db import session_scope
from consult.imports import files, service
from consult.imports.models import BatchStatus, ImportBatch
from consult.responses.validation import Value
from consult.surveys.models import Survey
from consult.surveys.schema import SurveySpec
from consult.surveys.views import survey_or_404

router = APIRouter(include_in_schema=False)
register_staff_link("/admin/import", N_("Import responses"), {Role.analyst.value})

Staff = Annotated[User, Depends(require_role(Role.analyst.value))]
PROBLEMS_SHOWN = 200
SAMPLE_ROWS = 20
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _spec(slug: str) -> SurveySpec:
    return survey_or_404(slug, include_drafts=True)  # paper answers may arrive for any survey


def _download(content: bytes, media_type: str, filename: str) -> Response:
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/admin/import")
def survey_list(request: Request, _user: Staff) -> Response:
    with session_scope() as session:
        surveys = list(session.exec(select(Survey).order_by(Survey.id)))
    return render(request, "imports/index.html", {"surveys": surveys})


@router.get("/admin/surveys/{slug}/import")
def upload_page(
    request: Request, slug: str, _user: Staff, cancelled: Annotated[str | None, Query(max_length=5)] = None
) -> Response:
    spec = _spec(slug)
    notice = _("The import was cancelled. Nothing was imported.") if cancelled else None
    return render(request, "imports/upload.html", {"spec": spec, "errors": [], "notice": notice})


@router.get("/admin/surveys/{slug}/import/template.xlsx")
def template_xlsx(slug: str, _user: Staff) -> Response:
    spec = _spec(slug)
    return _download(files.template_xlsx(spec, current_language.get()), XLSX_TYPE, f"{slug}-mall.xlsx")


@router.get("/admin/surveys/{slug}/import/template.csv")
def template_csv(slug: str, _user: Staff) -> Response:
    spec = _spec(slug)
    return _download(files.template_csv(spec), "text/csv; charset=utf-8", f"{slug}-mall.csv")


@router.get("/admin/surveys/{slug}/import/codebook.csv")
def codebook_csv(slug: str, _user: Staff) -> Response:
    spec = _spec(slug)
    return _download(files.codebook_csv(spec, current_language.get()), "text/csv; charset=utf-8", f"{slug}-koder.csv")


def _upload_error(request: Request, spec: SurveySpec, message: str) -> Response:
    errors = [{"field": "file", "message": message}]
    return render(request, "imports/upload.html", {"spec": spec, "errors": errors, "notice": None}, 422)


@router.post("/admin/surveys/{slug}/import")
def upload(request: Request, slug: str, user: Staff, file: Annotated[UploadFile | None, File()] = None) -> Response:
    spec = _spec(slug)
    if file is None or not file.filename:
        return _upload_error(request, spec, _("Choose a file to import."))
    data = file.file.read()
    try:
        parsed = service.parse_upload(spec, data)
    except files.ImportFileError as error:
        return _upload_error(request, spec, error.message(current_language.get()))
    assert user.id is not None
    with session_scope() as session:
        batch = service.create_batch(session, spec=spec, owner_id=user.id, filename=file.filename, parsed=parsed)
        token = batch.token
    return RedirectResponse(f"/admin/surveys/{slug}/import/{token}", status_code=303)


def _batch_or_404(slug: str, token: str, user: User) -> tuple[SurveySpec, ImportBatch]:
    spec = _spec(slug)
    with session_scope() as session:
        batch = service.get_batch(session, token=token, owner_id=user.id or 0, survey_id=spec.id or 0)
    if batch is None:
        raise HTTPException(404, _("There is no import here. It may have expired: upload the file again."))
    return spec, batch


def _shown(question_type: str, value: Value) -> str:
    from consult.core.redacting import redact

    if value is None:
        return files.DONT_KNOW_TOKENS[0]
    if isinstance(value, list):
        return files.LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, float):
        return files.cell_text(value).replace(".", ",")
    if isinstance(value, str):
        text = redact(value)  # free text may name people
        return text if len(text) <= 60 else text[:57] + "…"
    return str(value)


def _sample(spec: SurveySpec, rows: list[service.ImportRow]) -> list[dict[str, Any]]:
    return [
        {
            "row": row.row,
            "row_id": row.row_id,
            "channel": _(files.CHANNEL_LABELS.get(row.channel, row.channel)),
            "answers": [(code, _shown(spec.by_code[code].type, value)) for code, value in row.values.items()],
        }
        for row in rows[:SAMPLE_ROWS]
    ]


def _problem_views(spec: SurveySpec, problems: list[service.ImportProblem], language: str) -> list[dict[str, Any]]:
    return [
        {
            "row": p.row,
            "column": p.column,
            "cell": p.cell,
            "value": p.value,
            "reason": p.message(language, spec),
        }
        for p in problems
    ]


@router.get("/admin/surveys/{slug}/import/{token}")
def preview(request: Request, slug: str, token: str, user: Staff) -> Response:
    spec, batch = _batch_or_404(slug, token, user)
    language = current_language.get()
    problems, warnings = service.batch_problems(batch)
    imported = batch.status == BatchStatus.imported
    summary, new_rows = dict(batch.summary), []
    if not imported:
        with session_scope() as session:
            summary, new_rows = service.pending_preview(session, spec=spec, batch=batch)
    context = {
        "spec": spec,
        "batch": batch,
        "summary": summary,
        "imported": imported,
        "problems": _problem_views(spec, problems[:PROBLEMS_SHOWN], language),
        "problem_count": len(problems),
        "warnings": _problem_views(spec, warnings[:PROBLEMS_SHOWN], language),
        "warning_count": len(warnings),
        "sample": _sample(spec, new_rows),
        "survey_title": pick(spec.title, language),
        "error": None,
    }
    return render(request, "imports/preview.html", context)


@router.post("/admin/surveys/{slug}/import/{token}/confirm")
def confirm(request: Request, slug: str, token: str, user: Staff) -> Response:
    spec, batch = _batch_or_404(slug, token, user)
    assert user.id is not None
    if batch.status == BatchStatus.imported:  # a second click: show the result of the first
        return RedirectResponse(f"/admin/surveys/{slug}/import/{token}", status_code=303)
    for attempt in range(2):
        try:
            with session_scope() as session:
                service.confirm_batch(session, batch=batch, spec=spec, user_id=user.id, request=request)
            break
        except service.ImportStateError as error:
            raise HTTPException(409, _(str(error))) from None
        except IntegrityError:
            # Another process stored one of the rows meanwhile; the retry sees it as already present.
            if attempt:
                raise
    return RedirectResponse(f"/admin/surveys/{slug}/import/{token}", status_code=303)


@router.post("/admin/surveys/{slug}/import/{token}/cancel")
def cancel(slug: str, token: str, user: Staff) -> Response:
    _spec_, batch = _batch_or_404(slug, token, user)
    with session_scope() as session:
        service.cancel_batch(session, batch=batch)
    return RedirectResponse(f"/admin/surveys/{slug}/import?cancelled=1", status_code=303)
