"""A respondent's own response: see it and delete it with the receipt code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from consult.core.i18n import _, current_language
from consult.core.templating import render
from consult.db import session_scope
from consult.privacy import service

router = APIRouter(prefix="/mitt-svar", include_in_schema=False)


@router.get("")
def lookup(request: Request, kvitto: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    if kvitto:
        return RedirectResponse(f"/mitt-svar/{kvitto.strip().upper()[:32]}", status_code=303)
    return render(request, "privacy/lookup.html")


@router.get("/{receipt}")
def show(request: Request, receipt: str) -> Response:
    with session_scope() as session:
        response = service.find_by_receipt(session, receipt=receipt)
        if response is None:
            return render(
                request,
                "privacy/lookup.html",
                {
                    "error": _("There is no response with this receipt code. Check the code and try again."),
                    "receipt": receipt[:32],
                },
                status_code=404,
            )
        answers = service.own_answers(session, response=response, language=current_language.get())
    return render(request, "privacy/own_response.html", {"receipt": response.receipt, "answers": answers})


@router.post("/{receipt}/radera")
def delete(request: Request, receipt: str, confirm: Annotated[str | None, Form()] = None) -> Response:
    with session_scope() as session:
        response = service.find_by_receipt(session, receipt=receipt)
        if response is None:
            raise HTTPException(404, _("There is no response with this receipt code. Check the code and try again."))
        if confirm != "yes":
            answers = service.own_answers(session, response=response, language=current_language.get())
            context = {
                "receipt": response.receipt,
                "answers": answers,
                "error": _("Tick the box to confirm that you want to delete your response."),
            }
            return render(request, "privacy/own_response.html", context, status_code=422)
        service.delete_responses(session, [response.id])
    return render(request, "privacy/deleted.html")
