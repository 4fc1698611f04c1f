"""The resident's survey: start page, one page at a time, receipt. Works without JavaScript
(plain POST and redirect); with it, htmx swaps the survey in place."""

from __future__ import annotations

import smtplib
from functools import partial
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from consult.campaigns import invitations
from consult.campaigns.models import campaign_tag as campaign_tag_of
from consult.config import get_settings
from consult.core import formdata
from consult.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, _
from consult.core.mail import SmtpSettings, mail_configured
from consult.core.templating import is_htmx_partial, render, render_cached
from consult.db import session_scope
from consult.privacy import service as privacy
from consult.responses import drafts, resume_mail, review
from consult.responses import identity as identities
from consult.responses import service as responses
from consult.responses.flow import UNCHECKED, form_values_for_template, questions_on_page, submit_page
from consult.responses.messages import error_message
from consult.responses.models import Channel
from consult.responses.validation import form_values
from consult.surveys import kiosk
from consult.surveys.models import Access, IdentityMode
from consult.surveys.schema import SurveySpec
from consult.surveys.service import Availability, availability, kiosk_start_path, kiosk_start_query
from consult.surveys.views import survey_or_404
from consult.surveys.wording import same_page_condition_notes

router = APIRouter(prefix="/s", include_in_schema=False)

# Kiosk mode (a tablet at an event): the event's name tags every response made there.
KIOSK_IDLE_SECONDS = 180
KIOSK_RETURN_SECONDS = 8


def _kiosk_context(request: Request, event_name: str | None) -> dict:
    if event_name is None:
        return {}
    return {
        "kiosk": event_name,
        # Where the kiosk starts over for the next person: in the language it was opened in.
        "kiosk_query": kiosk_start_query(event_name, _kiosk_language(request)),
        "language_keep": {"kiosk": event_name},  # the language switch must not leave kiosk mode
        "kiosk_idle_seconds": KIOSK_IDLE_SECONDS,
    }


def _already_answered(request: Request, spec: SurveySpec) -> Response | None:
    """One response per browser session on anonymous surveys: a friendly page instead of a second start."""
    if spec.identity_mode != IdentityMode.anonymous or spec.access == Access.invitation:
        return None  # identified people, and invitation codes, already make an answer one's own
    receipt = review.answered_surveys(request.cookies.get(review.ANSWERED_COOKIE)).get(str(spec.id))
    if receipt is None:
        return None
    return render(request, "responses/already_answered.html", {"spec": spec, "receipt": receipt})


def _unavailable(request: Request, spec: SurveySpec) -> Response | None:
    state = availability(spec)
    if state == Availability.open:
        return None
    status = 410 if state == Availability.closed else 403
    return render(request, "surveys/unavailable.html", {"spec": spec, "state": state.value}, status)


def _may_not_start(request: Request, spec: SurveySpec, event_name: str | None) -> Response | None:
    """The page to show instead of a start: the survey is not open, or this browser already
    answered it (kiosks serve many people, so they are exempt)."""
    blocked = _unavailable(request, spec)
    if not blocked and event_name is None:
        blocked = _already_answered(request, spec)
    return blocked


# The three pages every respondent loads (start, show a page, send a page) are plain Starlette
# routes that read their parameters from the request: FastAPI's per-request parameter
# resolution cost more than the rest of these pages together. They are not in the OpenAPI
# document anyway. See docs/performance.md.


async def start_page(request: Request) -> Response:
    """The landing page of every campaign link and QR code. An unusable campaign tag is ignored
    rather than refused, so a mangled link still reaches the survey."""
    spec = survey_or_404(request.path_params["slug"])
    if elsewhere := _kiosk_elsewhere(request, spec.slug):
        return elsewhere
    event_name = _kiosk_of_device(request, spec.slug)
    blocked = _may_not_start(request, spec, event_name)
    if blocked:
        return blocked
    k = request.query_params.get("k")
    tag = campaign_tag_of(k)
    context = {"spec": spec, "campaign_tag": tag, **_kiosk_context(request, event_name),
               "language_keep": {"k": tag or "", "kiosk": event_name or ""}}  # the page is cached per both
    going = None if event_name else await _draft_in_progress(request, spec)
    if going is not None:
        # This browser has begun answering (the campaign link or QR code opened again): it may go
        # on where it left off, or start over. A page of its own, never cached.
        context = {**context, "draft_token": going}
    if spec.access == Access.invitation:
        # The personal link of a letter fills in its code: a page of its own, never cached.
        code = request.query_params.get(invitations.CODE_PARAMETER, "")[:20]
        return render(request, "surveys/start.html", {**context, "invitation_code": code})
    if going is not None:
        return render(request, "surveys/start.html", context)
    # Rendered once per survey revision, tag and event; only the visitor's CSRF token differs.
    key = (spec.slug, spec.revision, spec.status, str(spec.opens_at), str(spec.closes_at), tag, event_name)
    return render_cached(request, "surveys/start.html", context, key)


# The response this browser has begun, per survey (the cookie's path is the survey's address), so
# that opening the campaign link again offers to go on with it. Never on a kiosk's shared device.
DRAFT_COOKIE = "consult_draft"


async def _draft_in_progress(request: Request, spec: SurveySpec) -> str | None:
    """The token of the draft this browser began for this survey, when it has answers to go on with."""
    token = request.cookies.get(DRAFT_COOKIE, "")
    if not token or len(token) > 64:
        return None
    draft = await drafts.read_draft(token=token, survey_id=spec.id or 0)
    if draft is None or not draft.answers or draft.channel == Channel.kiosk.value:
        return None
    return token


def _remember_draft(request: Request, response: Response, slug: str, token: str | None) -> None:
    """Keep the draft's token for the survey's start page (None: the response is sent, forget it)."""
    secure = request.scope.get("scheme") == "https"
    path = f"/s/{slug}"
    if token is None:
        if DRAFT_COOKIE in request.cookies:
            response.delete_cookie(DRAFT_COOKIE, path=path, httponly=True, samesite="lax", secure=secure)
        return
    response.set_cookie(DRAFT_COOKIE, token, path=path, max_age=get_settings().resume_days * 86400,
                        httponly=True, samesite="lax", secure=secure)


async def show_page(request: Request) -> Response:
    # async: the draft is read on the loop, no thread hop (on SQLite a short local call; on
    # PostgreSQL batched with the other page views' reads).
    opened = await _open_page(request)
    if isinstance(opened, Response):
        return opened
    spec, token, page, draft = opened
    kiosk_view = _draft_kiosk(request, draft)
    mail = mail_configured()
    # The raw query string: parsing it for every page view would cost more than the whole check.
    if b"lank=skickad" in request.scope["query_string"] and not kiosk_view:
        context = _page_context(spec, token, page, draft.answers, [])
        return render(request, "surveys/page.html",
                      {**context, "origin": _origin(request), "mail_resume": mail, "resume_sent": True})
    if not draft.answers and not kiosk_view:
        # Nothing answered yet (every respondent's first page): the same page for everyone.
        key = (spec.slug, spec.revision, page, mail)
        context = partial(_page_context, spec, token, page, {}, [], mail_resume=mail)
        return render_cached(request, "surveys/page.html", context, key, personal=_personal(request, token))
    context = _page_context(spec, token, page, draft.answers, [], mail_resume=mail)
    kept = draft.answers.get(UNCHECKED, {})  # answers kept as typed (Back never loses them)
    if kiosk_view or any(q.code in draft.answers or q.code in kept for q in context["questions"]):
        return render(request, "surveys/page.html", {**context, **kiosk_view, "origin": _origin(request)})
    # A page not yet answered looks the same for every respondent who sees the same questions:
    # render it once, and fill in the respondent's token. A question shown as the survey defines
    # it is named by its code; one carrying what is left of its condition by that remainder too.
    shown = tuple(q.code if q is spec.by_code[q.code] else (q.code, repr(q.condition)) for q in context["questions"])
    key = (spec.slug, spec.revision, page, shown, mail)
    return render_cached(request, "surveys/page.html", context, key, personal=_personal(request, token))


def _origin(request: Request) -> str:
    """This site's address as the respondent reached it: the resume link is shown whole, so that a
    copy of its text works without JavaScript too."""
    return str(request.base_url).rstrip("/")


def _personal(request: Request, token: str) -> dict[str, str]:
    """What a cached survey page fills in per respondent: the resume token and the site's address."""
    return {"token": token, "origin": _origin(request)}


def _not_stored(response: Response) -> Response:
    """A receipt page: no browser or proxy keeps a copy, so Back on a shared device cannot show the
    code to the next person. (The kiosk's question pages leave the cache to the kiosk script, which
    sends a page reached with Back to the kiosk's start: refetched, the finished draft would only
    give the next person a dead end.)"""
    response.headers["cache-control"] = "no-store"
    return response


async def post_page(request: Request) -> Response:
    from consult.app import writer

    opened = await _open_page(request)
    if isinstance(opened, Response):
        return opened
    spec, token, page, draft = opened
    slug = spec.slug
    form = await _posted_form(request)
    action = (form_values(form, "action")[-1:] or ["next"])[0]
    switch_to = action.removeprefix("lang-") if action.startswith("lang-") else None
    if switch_to is not None and switch_to not in LANGUAGES:
        switch_to = None
    keep_to = page - 1 if action == "back" else page if switch_to else None
    outcome = submit_page(spec, page=page, stored=draft.answers, form=form, keep_to=keep_to)
    if outcome.errors:
        shown_page = outcome.error_page or page
        typed = outcome.typed if shown_page == page else None
        context = _page_context(spec, token, shown_page, outcome.answers, outcome.errors, typed)
        context = {**context, **_draft_kiosk(request, draft), "origin": _origin(request)}
        return render(request, "surveys/page.html", context, status_code=422)
    if outcome.next_page is not None:
        furthest = max(draft.page, outcome.next_page)
        # The language the respondent goes on in (the switch, or the site's language chosen
        # elsewhere) becomes the draft's: a resume link goes on in it.
        going_on_in = switch_to or request.state.language
        language = going_on_in if going_on_in != draft.language else None
        update = drafts.DraftUpdate(token=token, answers=outcome.answers, page=furthest, language=language)
        await writer.submit("draft", update)
        target = f"/s/{slug}/r/{token}/{outcome.next_page}"
        if switch_to:
            return _whole_page(request, f"{target}?lang={switch_to}")
        return RedirectResponse(target, status_code=303)
    item = responses.NewResponse(
        spec=spec,
        client_uuid=draft.client_uuid,
        values=outcome.answers,
        language=request.state.language,  # the language of the last page, the one answered in
        channel=Channel(draft.channel),
        campaign_tag=draft.campaign_tag,
        event_name=draft.event_name,
        started_at=draft.started_at,
        consent_quote=responses.consent_from(spec, outcome.answers),
        source_hash=draft.source_hash,
        draft_token=token,
        identity=draft.identity,
        invitation_id=draft.invitation_id,
    )
    stored: responses.Stored = await writer.submit("response", item)
    if stored.outcome == responses.Outcome.invitation_used:
        # The draft keeps every answer, this page's too, for the organiser to sort out.
        await writer.submit("draft", drafts.DraftUpdate(token=token, answers=outcome.answers, page=draft.page))
        return render(request, "surveys/invitation_used.html", {"spec": spec}, status_code=409)
    if stored.receipt is None:
        raise HTTPException(409, _("This response was already submitted."))
    if draft.channel == Channel.kiosk.value:
        query = urlencode({"kiosk": draft.event_name or ""})
        # Not the receipt's address: it would stay in the shared tablet's history, and the code in it
        # lets anyone see or withdraw the answer.
        return RedirectResponse(f"/s/{slug}/tack?{query}", status_code=303)
    # The receipt page finds the code in the answered-surveys cookie: an address with the code would
    # stay in the browser's history, and the code lets whoever has it see and delete the answers.
    redirect = RedirectResponse(f"/s/{slug}/kvitto", status_code=303)
    _remember_answered(request, redirect, spec, stored.receipt)
    _remember_draft(request, redirect, slug, None)
    return redirect


def _whole_page(request: Request, url: str) -> Response:
    """Go to `url` as a new page, also from htmx (which would otherwise swap in only the survey's
    part of it: a new language changes the header and the page's lang too)."""
    if is_htmx_partial(request):
        return Response(headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


async def _posted_form(request: Request) -> dict[str, list[str]] | FormData:
    """The posted page: each field's values in order. Survey pages post URL-encoded forms (they
    have no uploads), which the CSRF layer has already parsed (consult.core.formdata); grouped
    once, each question's values are one lookup away."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return await request.form()
    fields = formdata.parsed_in_request()
    if fields is None:
        fields = formdata.parse_urlencoded(await request.body())
    if fields is None:
        raise HTTPException(400, _("The form could not be read. Go back and try again."))
    return fields


async def _open_page(request: Request) -> tuple[SurveySpec, str, int, drafts.DraftView] | Response:
    """The survey, resume token, page number and draft a page address names, or the response to
    give instead: the survey is not open, or the page lies beyond the furthest one reached."""
    params = request.path_params
    slug, token, page = params["slug"], params["token"], params["page"]
    spec = survey_or_404(slug)
    blocked = _unavailable(request, spec)
    if blocked:
        return blocked
    draft = await drafts.read_draft(token=token, survey_id=spec.id or 0) if len(token) <= 64 else None
    if draft is None:
        return _lost(request, spec)
    if not 1 <= page <= min(draft.page, len(spec.pages)):
        return RedirectResponse(f"/s/{slug}/r/{token}/{draft.page}", status_code=303)
    return spec, token, page, draft


# Registered before the other survey routes, so they are matched first; add_route
# (Starlette's) does not apply the router's prefix itself.
router.add_route(router.prefix + "/{slug}", start_page, methods=["GET"], include_in_schema=False)
router.add_route(router.prefix + "/{slug}/r/{token}/{page:int}", show_page, methods=["GET"], include_in_schema=False)
router.add_route(router.prefix + "/{slug}/r/{token}/{page:int}", post_page, methods=["POST"], include_in_schema=False)


@router.post("/{slug}/start")
def start(
    request: Request,
    slug: str,
    campaign_tag: Annotated[str | None, Form(max_length=64)] = None,
    name: Annotated[str | None, Form()] = None,
    email: Annotated[str | None, Form()] = None,
    organisation: Annotated[str | None, Form()] = None,
    code: Annotated[str, Form()] = "",  # its length is checked below: said beside the field
) -> Response:
    spec = survey_or_404(slug)
    if elsewhere := _kiosk_elsewhere(request, spec.slug):
        return elsewhere
    event_name = _kiosk_of_device(request, spec.slug)
    blocked = _may_not_start(request, spec, event_name)
    if blocked:
        return blocked
    identity = None
    again = partial(_start_again, request, spec, campaign_tag, event_name, code=code)
    if identities.asks_identity(spec):
        identity, problems = identities.check_identity({"name": name, "email": email, "organisation": organisation})
        if problems:
            return again(identity, problems)
    source = responses.request_source_hash(request)
    verdict = responses.hit_submission_limit(source=source)  # every code tried counts
    if not verdict.allowed:
        response = render(request, "surveys/too_many.html", {"spec": spec}, status_code=429)
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response
    tag = campaign_tag_of(campaign_tag)
    channel = Channel.kiosk if event_name else (Channel.campaign if tag else Channel.web)
    assert spec.id is not None
    invitation_id = None
    if spec.access == Access.invitation:
        with session_scope() as session:
            invitation_id = invitations.find(session, survey_id=spec.id, code=invitations.code_from(code))
        if invitation_id is None:
            return again(identity or {}, [_code_problem(code)])
    with session_scope() as session:
        draft = drafts.start_draft(
            session,
            survey_id=spec.id,
            language=request.state.language,
            channel=channel.value,
            campaign_tag=tag,
            event_name=event_name,
            # A kiosk is one device serving many people by design: its answers are no burst.
            source_hash=None if event_name else source,
            days=get_settings().resume_days,
            identity=identity,
            invitation_id=invitation_id,
        )
        token = draft.token
    redirect = RedirectResponse(f"/s/{slug}/r/{token}/1", status_code=303)
    kiosk.forget_unsigned(request, redirect)
    if not event_name:
        _remember_draft(request, redirect, slug, token)
    return redirect


def _code_problem(code: str) -> identities.IdentityProblem:
    if not code.strip():
        return identities.IdentityProblem("code", "required", N_("Enter the code from your invitation."))
    if len(code) > invitations.MAX_CODE_FIELD:
        return identities.IdentityProblem("code", "too_long", N_(
            "This is too long to be a code. Enter the code from your invitation, for example ABCD-EFGH."))
    return identities.IdentityProblem(
        "code",
        "invalid",
        N_(
            "This code does not open this survey, or it has already been used. Check the code in your "
            "invitation; letters that look alike, such as 0 and O, are never both used."
        ),
    )


def _start_again(request: Request, spec: SurveySpec, campaign_tag: str | None, event_name: str | None,
                 identity: dict, problems: list[identities.IdentityProblem], *, code: str = "") -> Response:
    """The start page with what the respondent typed and what is wrong with it."""
    errors = {problem.field: _(problem.message) for problem in problems}
    context = {
        "spec": spec,
        "campaign_tag": campaign_tag_of(campaign_tag),
        "invitation_code": code[:invitations.MAX_CODE_FIELD],
        "identity": identity,
        "identity_errors": errors,
        "identity_summary": [{"field": field, "text": text} for field, text in errors.items()],
        **_kiosk_context(request, event_name),
    }
    return render(request, "surveys/start.html", context, status_code=422)


def _kiosk_of_device(request: Request, slug: str) -> str | None:
    """The event of a device that staff put in kiosk mode for this survey (see consult.surveys.kiosk).
    A start page reached some other way (the language link, the front page) stays in kiosk mode:
    the shared device must not turn into a personal one, which keeps a receipt for the next person."""
    device = kiosk.device_kiosk(request)
    return device.event_name if device and device.slug == slug else None


def _kiosk_language(request: Request) -> str:
    """The language this device was put in kiosk mode in (Swedish for a cookie made before kiosks
    kept it): each next person starts in it."""
    device = kiosk.device_kiosk(request)
    return device.language if device else DEFAULT_LANGUAGE


def _kiosk_elsewhere(request: Request, slug: str) -> Response | None:
    """On a device in kiosk mode for another survey, that survey's kiosk start: the mode covers the
    whole device, so the next person cannot reach a survey that would show a receipt (through the
    header's link to the front page, say) and leave it behind."""
    device = kiosk.device_kiosk(request)
    return _to_kiosk_start(*device) if device and device[0] != slug else None


def _to_kiosk_start(slug: str, event_name: str, language: str) -> RedirectResponse:
    return RedirectResponse(kiosk_start_path(slug, event_name, language), status_code=303)


def _draft_or_lost(request: Request, spec: SurveySpec, token: str):  # type: ignore[no-untyped-def]
    """The draft, or the response for an address without one (see _lost)."""
    draft = drafts.get_draft(token=token, survey_id=spec.id or 0) if len(token) <= 64 else None
    return draft if draft is not None else _lost(request, spec)


def _lost(request: Request, spec: SurveySpec) -> Response:
    """An address whose response is gone: on a kiosk, its start page; in the browser that sent
    the answers (the resume link or Back after the last page), that they were sent, with the
    receipt; elsewhere a 404."""
    if elsewhere := _kiosk_elsewhere(request, spec.slug):
        return elsewhere
    event_name = _kiosk_of_device(request, spec.slug)
    if event_name is not None:
        return _to_kiosk_start(spec.slug, event_name, _kiosk_language(request))
    receipt = review.answered_surveys(request.cookies.get(review.ANSWERED_COOKIE)).get(str(spec.id))
    if receipt is not None:
        return render(request, "responses/already_answered.html", {"spec": spec, "receipt": receipt, "sent": True})
    raise HTTPException(404, _("This link has expired or does not exist. Start the survey again."))


def _page_context(
    spec: SurveySpec, token: str, page: int, answers: dict, errors: list, typed: dict | None = None,
    *, mail_resume: bool = False,
) -> dict:
    language = _current_language()
    language_errors = [
        {
            "field": e.field,
            "label": spec.by_code[e.field].label(language) if e.field in spec.by_code else e.field,
            "message": error_message(e, language, spec.by_code.get(e.field)),
        }
        for e in errors
    ]
    questions = questions_on_page(spec, page, answers)
    return {
        "spec": spec,
        "token": token,
        "page": page,
        "page_count": len(spec.pages),
        "page_spec": spec.pages[page - 1],
        "questions": questions,
        "condition_notes": same_page_condition_notes(spec, questions),
        "values": {**form_values_for_template(answers), **(typed or {})},
        "errors": language_errors,
        "error_by_field": {e["field"]: e["message"] for e in language_errors},
        "resume_days": get_settings().resume_days,
        "mail_resume": mail_resume,  # the resume link can be sent by e-mail (a mail server is set up)
    }


def _current_language() -> str:
    from consult.core.i18n import current_language

    return current_language.get()


@router.get("/{slug}/r/{token}")
def resume(request: Request, slug: str, token: str) -> Response:
    spec = survey_or_404(slug)
    draft = _draft_or_lost(request, spec, token)
    if isinstance(draft, Response):
        return draft
    target = f"/s/{slug}/r/{token}/{draft.page}"
    chosen = "lang" in request.cookies or "lang" in request.query_params
    if not chosen and draft.language != _current_language():
        # A resume link opened in another browser goes on in the language the survey was begun in.
        target += f"?lang={quote(draft.language)}"
    return RedirectResponse(target, status_code=303)


# Pages shown in answer to a form (its errors) keep the form's address, which the language switch
# and a reload after a while open with GET: they lead back to where the form is.
@router.get("/{slug}/start")
def start_again(slug: str) -> Response:
    return RedirectResponse(f"/s/{quote(slug)}", status_code=303)


@router.get("/{slug}/r/{token}/lank")
def resume_link_again(slug: str, token: str) -> Response:
    return RedirectResponse(f"/s/{quote(slug)}/r/{quote(token)}", status_code=303)


@router.post("/{slug}/r/{token}/lank")
async def mail_resume_link(request: Request, slug: str, token: str) -> Response:
    """Send the resume link to the address the respondent gives; the address is not kept."""
    spec = survey_or_404(slug)
    draft = _draft_or_lost(request, spec, token)
    if isinstance(draft, Response):
        return draft
    settings = SmtpSettings.from_env()
    if settings is None or _draft_kiosk(request, draft):
        raise HTTPException(404)
    raw = form_values(await _posted_form(request), "resume-email")
    typed = str(raw[-1])[:300] if raw else ""
    status = 422
    try:
        address = resume_mail.check_address(typed)
        if not resume_mail.hit_limit(source=responses.request_source_hash(request)).allowed:
            status = 429
            raise resume_mail.ResumeMailProblem("resume-email", N_(
                "You have asked for several links in a short time. Copy the link above instead, or try again later."))
        mail = resume_mail.message(settings=settings, address=address, title=spec.text("title", _current_language()),
                                   link=f"{_origin(request)}/s/{slug}/r/{token}", expires=draft.expires_at,
                                   language=_current_language())
        await run_in_threadpool(resume_mail.send, settings, mail)
    except resume_mail.ResumeMailProblem as problem:
        return _resume_mail_page(request, spec, token, draft, problem.text(_), typed, status)
    except (OSError, smtplib.SMTPException):
        message = _("The e-mail could not be sent just now. Copy the link above instead.")
        return _resume_mail_page(request, spec, token, draft, message, typed, 503)
    return RedirectResponse(f"/s/{slug}/r/{token}/{draft.page}?lank=skickad#resume", status_code=303)


def _resume_mail_page(request: Request, spec: SurveySpec, token: str, draft: drafts.DraftView, error: str,
                      typed: str, status_code: int) -> Response:
    context = _page_context(spec, token, draft.page, draft.answers, [], mail_resume=True)
    extra = {"origin": _origin(request), "resume_error": error, "resume_email": typed}
    return render(request, "surveys/page.html", {**context, **extra}, status_code)


def _draft_kiosk(request: Request, draft) -> dict:  # type: ignore[no-untyped-def]
    return _kiosk_context(request, draft.event_name or "") if draft.channel == Channel.kiosk.value else {}


@router.post("/{slug}/r/{token}/kiosk-reset")
def kiosk_reset(request: Request, slug: str, token: str) -> Response:
    """Start over on a kiosk: the abandoned answers are deleted, so the next person never sees them."""
    spec = survey_or_404(slug)
    draft = _draft_or_lost(request, spec, token)
    if isinstance(draft, Response):
        return draft
    if draft.channel != Channel.kiosk.value:
        raise HTTPException(404)
    with session_scope() as session:
        drafts.delete_draft(session, token=token)
    return _to_kiosk_start(slug, draft.event_name or "", _kiosk_language(request))


def _remember_answered(request: Request, response: Response, spec: SurveySpec, receipt: str) -> None:
    """A session cookie (no expiry) marks the survey as answered in this browser."""
    assert spec.id is not None
    cookie = review.mark_answered(request.cookies.get(review.ANSWERED_COOKIE), survey_id=spec.id, receipt=receipt)
    _set_answered_cookie(request, response, cookie)


def _set_answered_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(review.ANSWERED_COOKIE, value, path=review.ANSWERED_COOKIE_PATH, httponly=True,
                        samesite="lax", secure=request.scope.get("scheme") == "https")


@router.get("/{slug}/tack")
def kiosk_thanks(request: Request, slug: str) -> Response:
    """A kiosk's thank-you page between two respondents: no receipt code, back to the start."""
    spec = survey_or_404(slug, include_drafts=True)
    event_name = _kiosk_of_device(request, slug)
    if event_name is None:
        return RedirectResponse(f"/s/{slug}", status_code=303)
    context = {"spec": spec, "return_seconds": KIOSK_RETURN_SECONDS, **_kiosk_context(request, event_name)}
    return _not_stored(render(request, "interviews/kiosk_receipt.html", context))


@router.get("/{slug}/raderat")
def deleted_page(request: Request, slug: str) -> Response:
    """After a respondent deleted their response (/mitt-svar): said on the survey's own address,
    where this browser's answered-surveys cookie is sent, so that the survey is forgotten there
    once its response is gone and the respondent may answer again."""
    spec = survey_or_404(slug, include_drafts=True)
    page = _not_stored(render(request, "privacy/deleted.html", {"spec": spec}))
    receipt = review.answered_surveys(request.cookies.get(review.ANSWERED_COOKIE)).get(str(spec.id))
    if receipt is not None:
        with session_scope() as session:
            gone = privacy.find_by_receipt(session, receipt=receipt) is None
        cookie = request.cookies.get(review.ANSWERED_COOKIE)
        remaining = review.forget_answered(cookie, receipt=receipt) if gone else None
        if remaining is not None:
            _set_answered_cookie(request, page, remaining)
    return page


@router.get("/{slug}/kvitto")
def receipt_page(request: Request, slug: str) -> Response:
    spec = survey_or_404(slug, include_drafts=True)
    receipt = review.answered_surveys(request.cookies.get(review.ANSWERED_COOKIE)).get(str(spec.id))
    if receipt is None:
        # Whoever kept the code can still see the response: the page leads to where it is entered.
        return render(request, "surveys/no_receipt.html", {"spec": spec}, status_code=404)
    return _not_stored(render(request, "surveys/receipt.html", {"spec": spec, "receipt": receipt}))
