"""The organisation's settings, for admins: its name in the page header, and its municipalities
(the choices of the municipality question and the default weighting targets)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from consult.accounts.deps import require_role
from consult.accounts.models import Role, User
from consult.accounts.service import record_audit, register_staff_link
from consult.core.i18n import N_, _, current_language
from consult.core.templating import register_page_version, render, templates
from consult.db import session_scope
from consult.organisation import service
from consult.strategy import service as strategy

router = APIRouter(include_in_schema=False)
admin = require_role(Role.admin.value)
register_staff_link("/admin/organisation", N_("Organisation"), {Role.admin.value})
templates.env.globals["organisation_name"] = lambda: service.organisation_name(current_language.get())
# A resident page cached under the old name renders anew once the name changes.
register_page_version(service.revision)

MAX_UPLOAD = 1_000_000
SAVED = {"namn": N_("The organisation's name was saved."), "kommuner": N_("The list of municipalities was saved.")}


@router.get("/admin/organisation")
def settings_page(
    request: Request, user: User = Depends(admin), sparat: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    with session_scope() as session:
        row = service.settings(session)
        names = dict(row.name) if row else {}
        municipalities_text = strategy.municipalities_as_text(session)
    values = {"name_sv": names.get("sv", ""), "name_en": names.get("en", ""), "municipalities": municipalities_text}
    return _page(request, values=values, notice=SAVED.get(sparat))


@router.post("/admin/organisation/namn")
async def save_name(request: Request, user: User = Depends(admin)) -> Response:
    form = await request.form()
    sv, en = str(form.get("name_sv", ""))[:1000], str(form.get("name_en", ""))[:1000]
    errors = service.check_name(sv=sv, en=en)
    if errors:
        with session_scope() as session:
            text = strategy.municipalities_as_text(session)
        values = {"name_sv": sv, "name_en": en, "municipalities": text}
        return _page(request, values=values, errors={field: _(message) for field, message in errors.items()})
    with session_scope() as session:
        service.set_name(session, sv=sv, en=en)
        record_audit(session, user_id=user.id, action="organisation.name", target="organisation",
                     details={"sv": sv.strip(), "en": en.strip()}, request=request)
    service.name_cache.forget()  # after the commit: the next page of this worker reads the new name
    return RedirectResponse("/admin/organisation?sparat=namn", status_code=303)


@router.post("/admin/organisation/kommuner")
async def save_municipalities(request: Request, user: User = Depends(admin)) -> Response:
    form = await request.form()
    upload = form.get("file")
    text = str(form.get("municipalities", ""))[:MAX_UPLOAD]
    field = "municipalities"
    if isinstance(upload, UploadFile) and upload.filename:
        field = "file"
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            return await _municipality_errors(request, text, field, [_("The file is larger than 1 MB.")])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            message = _("The file is not UTF-8 text. In Excel, choose Save as and the type “CSV UTF-8”.")
            return await _municipality_errors(request, text, field, [message])
    rows, problems = strategy.parse_municipalities(text)
    if problems:
        return await _municipality_errors(request, text, field, [_(p.message) % p.values for p in problems])
    with session_scope() as session:
        current = strategy.municipalities(session)
        region = current[0].region if current else (service.organisation_name("sv") or "–")
        problems = strategy.replace_municipalities(session, rows=rows, region=region[:100])
        if problems:
            session.rollback()
        else:
            record_audit(session, user_id=user.id, action="organisation.municipalities", target="organisation",
                         details={"count": len(rows)}, request=request)
    if problems:
        return await _municipality_errors(request, text, field, [_(p.message) % p.values for p in problems])
    return RedirectResponse("/admin/organisation?sparat=kommuner", status_code=303)


async def _municipality_errors(request: Request, text: str, field: str, messages: list[str]) -> Response:
    with session_scope() as session:
        row = service.settings(session)
        names = dict(row.name) if row else {}
    values = {"name_sv": names.get("sv", ""), "name_en": names.get("en", ""), "municipalities": text}
    return _page(request, values=values, errors={field: messages[0]}, row_errors=messages, error_field=field)


def _page(
    request: Request,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    row_errors: list[str] | None = None,
    error_field: str = "",
    notice: str | None = None,
) -> Response:
    context = {"values": values, "errors": errors or {}, "row_errors": row_errors or [], "error_field": error_field,
               "notice": _(notice) if notice else None}
    return render(request, "organisation/settings.html", context, 422 if errors else 200)
