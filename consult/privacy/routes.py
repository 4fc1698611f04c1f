"""A respondent's own response: see it and delete it with the receipt code."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Cookie, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from consult.core.i18n import _, current_language
from consult.core.templating import render
from consult.db import session_scope
from consult.privacy import service
from consult.responses import identity as identities
from consult.responses.models import Response as ResponseRow
from consult.surveys.models import Survey

router = APIRouter(prefix="/mitt-svar", include_in_schema=False)


# Receipts are base32 (survey answers) or hex with dashes (remiss answers); anything else is not one, and
# must not reach the redirect below, where "/" or ".." would lead the browser to another page.
RECEIPT = re.compile(r"[A-Z0-9-]{1,32}")


def _not_found(request: Request, receipt: str) -> Response:
    context = {
        "error": _("There is no response with this receipt code. Check the code and try again."),
        "receipt": receipt[:32],
    }
    return render(request, "privacy/lookup.html", context, status_code=404)


@router.get("")
def lookup_form(request: Request, stangd: Annotated[str, Query(max_length=2)] = "") -> Response:
    return render(request, "privacy/lookup.html", {"closed": bool(stangd)})


# The code is posted, never put in an address: an address stays in the browser's history (a library
# computer, a shared tablet), and the code lets whoever has it see and delete the answers.
@router.post("")
def lookup(request: Request, kvitto: Annotated[str | None, Form()] = None) -> Response:
    typed = (kvitto or "").strip()
    # As copied or read out: spaces and dashes between groups, any case.
    code = "".join(typed.split()).replace("-", "").replace("\u2013", "").upper()
    if not code:
        return render(request, "privacy/lookup.html", {"error": _("Enter your receipt code.")}, status_code=422)
    with session_scope() as session:
        response = service.find_by_receipt(session, receipt=code) if RECEIPT.fullmatch(code) else None
        if response is None:
            return _not_found(request, typed)
    shown = RedirectResponse(SHOWN_PATH, status_code=303)
    shown.set_cookie(SHOWN_COOKIE, service.shown_response_cookie(response=response),
                     max_age=service.SHOWN_RESPONSE_SECONDS, **_cookie_scope(request))
    return shown


SHOWN_COOKIE = "consult_shown_response"
SHOWN_PATH = "/mitt-svar/visa"


def _cookie_scope(request: Request) -> dict:
    return {"path": "/mitt-svar", "httponly": True, "samesite": "strict",
            "secure": request.scope.get("scheme") == "https"}


def _forget(request: Request, response: Response) -> Response:
    response.delete_cookie(SHOWN_COOKIE, **_cookie_scope(request))
    return response


@router.get("/visa")
def show(request: Request, shown: Annotated[str | None, Cookie(alias=SHOWN_COOKIE)] = None) -> Response:
    with session_scope() as session:
        response = service.shown_response(session, cookie=shown)
        if response is None:  # the ten minutes are over, the page was closed, or the response deleted
            return _forget(request, RedirectResponse("/mitt-svar?stangd=1", status_code=303))
        return _own_response(request, session, response)


# The delete form's error page keeps the form's address; the language switch opens it with GET.
@router.get("/radera")
@router.get("/stang")
def form_address_again() -> Response:
    return RedirectResponse(SHOWN_PATH, status_code=303)


@router.post("/stang")
def close(request: Request) -> Response:
    """Forget, on this device, which response was shown (a shared computer)."""
    return _forget(request, RedirectResponse("/mitt-svar?stangd=1", status_code=303))


def _own_response(request: Request, session: Session, response: ResponseRow, error: str | None = None) -> Response:
    """The respondent's stored answers, and who they said they are on an identified survey: all
    that is kept about them (their right of access)."""
    context = {
        "receipt": response.receipt,
        "answers": service.own_answers(session, response=response, language=current_language.get()),
        "respondent": identities.identity_of(session, response_id=response.id or 0),
        "error": error,
        "open_minutes": service.SHOWN_RESPONSE_SECONDS // 60,
    }
    page = render(request, "privacy/own_response.html", context, status_code=422 if error else 200)
    page.headers["cache-control"] = "no-store"  # the code and the answers: not for Back on a shared computer
    return page


@router.post("/radera")
def delete(
    request: Request,
    kvitto: Annotated[str, Form()] = "",
    confirm: Annotated[str | None, Form()] = None,
) -> Response:
    with session_scope() as session:
        response = service.find_by_receipt(session, receipt=kvitto)
        if response is None:
            return _not_found(request, kvitto)
        if confirm != "yes":
            return _own_response(request, session, response,
                                 error=_("Tick the box to confirm that you want to delete your response."))
        survey = session.get(Survey, response.survey_id)
        service.delete_responses(session, [response.id])
    # The survey's own address says it is deleted: the answered-surveys cookie is sent to the
    # survey's pages only, and there this browser may answer again.
    return _forget(request, RedirectResponse(f"/s/{survey.slug}/raderat" if survey else "/mitt-svar", status_code=303))
