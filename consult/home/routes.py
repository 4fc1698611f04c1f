"""The front page: the open surveys, and the way in for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from sqlmodel import Session

from consult.config import get_settings
from consult.core.templating import render
from consult.db import get_session
from consult.surveys.service import list_open_surveys

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, session: Annotated[Session, Depends(get_session)]) -> Response:
    return render(request, "home/index.html", {"surveys": list_open_surveys(session)})


@router.get("/om-tjansten")
def about(request: Request) -> Response:
    settings = get_settings()
    return render(request, "home/about.html", {"contact_email": settings.contact_email,
                                               "contact_phone": settings.contact_phone})


@router.get("/healthz")
async def health() -> Response:
    return PlainTextResponse("ok")
