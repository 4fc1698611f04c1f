"""Campaign link pages: create tagged links, show and download their QR codes, count responses per tag."""

from __future__ import annotations

import smtplib
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select

from consult.accounts.deps import require_role
from consult.accounts.models import Role, User
from consult.accounts.service import register_staff_link
from consult.campaigns import invitations, service
from consult.campaigns.models import CampaignLink, campaign_tag
from consult.core.fields import pick
from consult.core.formatting import percent
from consult.core.i18n import N_, _, current_language
from consult.core.mail import SmtpSettings
from consult.core.routing import public_base_url
from consult.core.templating import render
from consult.db import session_scope
from consult.responses.models import CHANNEL_LABELS
from consult.surveys.models import Survey
from consult.surveys.schema import SurveySpec
from consult.surveys.service import availability
from consult.surveys.views import survey_or_404

router = APIRouter(include_in_schema=False)
register_staff_link("/admin/campaigns", N_("Campaign links"), {Role.analyst.value})

Staff = Annotated[User, Depends(require_role(Role.analyst.value))]



def _spec(slug: str) -> SurveySpec:
    return survey_or_404(slug, include_drafts=True)  # links are often printed before a survey opens


@router.get("/admin/campaigns")
def survey_list(request: Request, _user: Staff) -> Response:
    with session_scope() as session:
        surveys = list(session.exec(select(Survey).order_by(Survey.id)))
    return render(request, "campaigns/index.html", {"surveys": surveys})


def _page(
    request: Request,
    spec: SurveySpec,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: str | None = None,
    renamed: str | None = None,
    removed: str | None = None,
    status_code: int = 200,
) -> Response:
    assert spec.id is not None
    with session_scope() as session:
        links = service.list_links(session, survey_id=spec.id)
        counts = service.responses_per_tag(session, survey_id=spec.id)
        events = service.responses_per_event(session, survey_id=spec.id)
    base = public_base_url(request)
    context = {
        "spec": spec,
        "survey_title": pick(spec.title, current_language.get()),
        "availability": availability(spec).value,  # what a resident following a link meets today
        "links": [{"link": link, "url": service.link_url(base, spec.slug, link.tag)} for link in links],
        "tag_rows": service.tag_table(links, counts),
        "total": sum(counts.values()),
        "events": events,
        "channel_labels": CHANNEL_LABELS,
        "values": values or {"name": "", "tag": ""},
        "errors": errors or {},
        "created": created if created and any(link.tag == created for link in links) else None,
        "renamed": renamed if renamed and any(link.tag == renamed for link in links) else None,
        "removed": removed if campaign_tag(removed) and not any(link.tag == removed for link in links) else None,
    }
    return render(request, "campaigns/survey.html", context, status_code)


@router.get("/admin/surveys/{slug}/campaigns")
def campaigns_page(
    request: Request,
    slug: str,
    _user: Staff,
    created: Annotated[str | None, Query(max_length=64)] = None,
    renamed: Annotated[str | None, Query(max_length=64)] = None,
    removed: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    return _page(request, _spec(slug), created=created, renamed=renamed, removed=removed)


@router.post("/admin/surveys/{slug}/campaigns")
def create(
    request: Request,
    slug: str,
    user: Staff,
    name: Annotated[str, Form(max_length=1000)] = "",
    tag: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    spec = _spec(slug)
    assert spec.id is not None
    values = {"name": name, "tag": tag}
    errors = {e.field: _(e.message) for e in service.check_link(name=name, tag=tag.strip())}
    if not errors:
        try:
            with session_scope() as session:
                service.create_link(session, survey_id=spec.id, name=name, tag=tag, user_id=user.id, request=request)
        except service.CampaignError as error:
            errors = {error.field: _(error.message)}
    if errors:
        return _page(request, spec, values=values, errors=errors, status_code=422)
    # The tag as stored (lower case), so the page confirms the link that was made.
    return RedirectResponse(f"/admin/surveys/{slug}/campaigns?created={tag.strip().lower()}", status_code=303)


def _link_or_404(spec: SurveySpec, tag: str) -> CampaignLink:
    with session_scope() as session:
        link = service.get_link(session, survey_id=spec.id or 0, tag=tag) if len(tag) <= 64 else None
        if link is None:
            raise HTTPException(404, _("There is no campaign link with this tag."))
        session.expunge(link)
    return link


def _rename_page(request: Request, spec: SurveySpec, link: CampaignLink, *, name: str,
                 errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    context = {"spec": spec, "survey_title": pick(spec.title, current_language.get()), "link": link,
               "name": name, "errors": errors or {}}
    return render(request, "campaigns/rename.html", context, status_code)


@router.get("/admin/surveys/{slug}/campaigns/{tag}/namn")
def rename_page(request: Request, slug: str, tag: str, _user: Staff) -> Response:
    spec = _spec(slug)
    link = _link_or_404(spec, tag)
    return _rename_page(request, spec, link, name=link.name)


@router.post("/admin/surveys/{slug}/campaigns/{tag}/namn")
def rename(request: Request, slug: str, tag: str, user: Staff,
           name: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """A link's name is what the staff pages call it; its tag, printed in the link, stays."""
    spec = _spec(slug)
    link = _link_or_404(spec, tag)
    try:
        with session_scope() as session:
            renamed = service.rename_link(session, survey_id=spec.id or 0, tag=link.tag, name=name,
                                          user_id=user.id, request=request)
    except service.CampaignError as error:
        return _rename_page(request, spec, link, name=name, errors={error.field: _(error.message)}, status_code=422)
    if renamed is None:  # removed in the meantime
        raise HTTPException(404, _("There is no campaign link with this tag."))
    return RedirectResponse(f"/admin/surveys/{slug}/campaigns?renamed={link.tag}", status_code=303)


def _remove_page(request: Request, spec: SurveySpec, link: CampaignLink, carried: int,
                 status_code: int = 200) -> Response:
    context = {"spec": spec, "survey_title": pick(spec.title, current_language.get()), "link": link,
               "carried": carried}
    return render(request, "campaigns/remove.html", context, status_code)


@router.get("/admin/surveys/{slug}/campaigns/{tag}/ta-bort")
def remove_page(request: Request, slug: str, tag: str, _user: Staff) -> Response:
    """Confirm the removal of a link made by mistake, or say why a link responses carry stays."""
    spec = _spec(slug)
    link = _link_or_404(spec, tag)
    with session_scope() as session:
        carried = service.responses_with_tag(session, survey_id=spec.id or 0, tag=link.tag)
    return _remove_page(request, spec, link, carried)


@router.post("/admin/surveys/{slug}/campaigns/{tag}/ta-bort")
def remove(request: Request, slug: str, tag: str, user: Staff) -> Response:
    spec = _spec(slug)
    link = _link_or_404(spec, tag)
    try:
        with session_scope() as session:
            service.remove_link(session, survey_id=spec.id or 0, tag=link.tag, user_id=user.id, request=request)
    except service.LinkInUse as in_use:
        return _remove_page(request, spec, link, in_use.count, status_code=409)
    return RedirectResponse(f"/admin/surveys/{slug}/campaigns?removed={link.tag}", status_code=303)


def _link_url_or_404(request: Request, slug: str, tag: str) -> tuple[SurveySpec, str]:
    spec = _spec(slug)
    with session_scope() as session:
        link = service.get_link(session, survey_id=spec.id or 0, tag=tag) if len(tag) <= 64 else None
    if link is None:
        raise HTTPException(404, _("There is no campaign link with this tag."))
    return spec, service.link_url(public_base_url(request), slug, tag)


def _image(content: bytes, media_type: str, filename: str, download: bool) -> Response:
    headers = {"Cache-Control": "private, max-age=3600"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(content, media_type=media_type, headers=headers)


@router.get("/admin/surveys/{slug}/campaigns/{tag}/qr.png")
def qr_png(
    request: Request, slug: str, tag: str, _user: Staff, download: Annotated[str | None, Query(max_length=5)] = None
) -> Response:
    _spec_, url = _link_url_or_404(request, slug, tag)
    return _image(service.qr_png(url), "image/png", f"qr-{slug}-{tag}.png", bool(download))


@router.get("/admin/surveys/{slug}/campaigns/{tag}/qr.svg")
def qr_svg(
    request: Request, slug: str, tag: str, _user: Staff, download: Annotated[str | None, Query(max_length=5)] = None
) -> Response:
    _spec_, url = _link_url_or_404(request, slug, tag)
    return _image(service.qr_svg(url, title=url), "image/svg+xml", f"qr-{slug}-{tag}.svg", bool(download))


# --- invitation codes ------------------------------------------------------------------------------


def _invitations_page(
    request: Request,
    spec: SurveySpec,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    mailed: invitations.MailOutcome | None = None,
    status_code: int = 200,
) -> Response:
    assert spec.id is not None
    with session_scope() as session:
        batches = invitations.batch_counts(session, survey_id=spec.id)
    context = {
        "spec": spec,
        "survey_title": pick(spec.title, current_language.get()),
        "batches": batches,
        "created": sum(b.created for b in batches),
        "used": sum(b.used for b in batches),
        "values": {"batch": "", "count": "", "mail_batch": "", "addresses": "", **(values or {})},
        "errors": errors or {},
        "mailed": mailed,
        "smtp": SmtpSettings.from_env() is not None,
        "max_per_batch": invitations.MAX_PER_BATCH,
        "percent": percent,
    }
    return render(request, "campaigns/invitations.html", context, status_code)


@router.get("/admin/surveys/{slug}/inbjudningar")
def invitations_page(request: Request, slug: str, _user: Staff) -> Response:
    return _invitations_page(request, _spec(slug))


@router.post("/admin/surveys/{slug}/inbjudningar")
def create_invitations(
    request: Request,
    slug: str,
    user: Staff,
    batch: Annotated[str, Form(max_length=1000)] = "",
    count: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Make a mailing's codes and hand them over as a CSV file: the only copy there will be."""
    spec = _spec(slug)
    assert spec.id is not None
    try:
        number, name = invitations.check_batch(count=count, batch=batch)
    except invitations.InvitationProblem as problem:
        errors = {problem.field: problem.text(_)}
        return _invitations_page(request, spec, values={"batch": batch, "count": count}, errors=errors, status_code=422)
    with session_scope() as session:
        codes = invitations.create_codes(
            session, survey_id=spec.id, count=number, batch=name, user_id=user.id, request=request
        )
    content = invitations.codes_csv(base_url=public_base_url(request), slug=slug, batch=name, codes=codes)
    filename = f"inbjudningskoder-{slug}-{len(codes)}.csv"
    return Response(
        content.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.post("/admin/surveys/{slug}/inbjudningar/epost")
def mail_invitations(
    request: Request,
    slug: str,
    user: Staff,
    mail_batch: Annotated[str, Form(max_length=1000)] = "",
    addresses: Annotated[str, Form(max_length=400_000)] = "",
) -> Response:
    """Send each pasted address its own code as a personal link; the addresses are not kept."""
    spec = _spec(slug)
    assert spec.id is not None
    values = {"mail_batch": mail_batch, "addresses": addresses}
    settings = SmtpSettings.from_env()
    try:
        if settings is None:
            raise invitations.InvitationProblem(
                "addresses", N_("E-mail is not set up on this server (CONSULT_SMTP_HOST).")
            )
        _count, name = invitations.check_batch(count="1", batch=mail_batch)
        listed = invitations.parse_addresses(addresses)
    except invitations.InvitationProblem as problem:
        field = "mail_batch" if problem.field == "batch" else problem.field
        return _invitations_page(request, spec, values=values, errors={field: problem.text(_)}, status_code=422)
    try:
        with session_scope() as session:
            mailed = invitations.send_codes(
                session, survey_id=spec.id, slug=slug, title=pick(spec.title, "sv"), base_url=public_base_url(request),
                addresses=listed, batch=name, settings=settings, user_id=user.id, request=request,
            )
    except (OSError, smtplib.SMTPException) as error:
        message = _("The mail server could not be reached, so nothing was sent: %(error)s") % {
            "error": str(error)[:200]
        }
        return _invitations_page(request, spec, values=values, errors={"addresses": message}, status_code=502)
    return _invitations_page(request, spec, mailed=mailed)
