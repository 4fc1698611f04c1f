"""The front page: the open surveys, and the way in for staff."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from sqlmodel import Session

from consult.config import get_settings
from consult.core.formatting import LOCAL_TIME, last_day, long_date
from consult.core.templating import render
from consult.db import get_session
from consult.remiss import service as remiss
from consult.reports.service import published_reports
from consult.strategy import service as strategy
from consult.surveys.service import list_open_surveys

router = APIRouter(include_in_schema=False)
# The accessibility statement's review date: change it whenever the statement is checked again.
STATEMENT_REVIEWED = date(2026, 11, 28)


@router.get("/")
def home(request: Request, session: Annotated[Session, Depends(get_session)]) -> Response:
    today = datetime.now(LOCAL_TIME).date()
    timeline = strategy.timeline(session, today=today)
    context = {
        "surveys": list_open_surveys(session),
        "timeline": timeline,
        # The region whose future is asked about: that of the strategy under review.
        "region": strategy.reviewed_region(session, cycle=timeline[0] if timeline else None),
        "reports": published_reports(session),
        # Organisations answer through personal links; anyone may see who has answered, and read
        # the answers that are published.
        "remiss_rounds": remiss.opened_rounds(session),
        "long_date": long_date,
        "last_day": last_day,
    }
    return render(request, "home/index.html", context)


@router.get("/om-tjansten")
def about(request: Request) -> Response:
    settings = get_settings()
    context = {"contact_email": settings.contact_email, "contact_phone": settings.contact_phone,
               "phone_uri": phone_uri(settings.contact_phone), "statement_reviewed": STATEMENT_REVIEWED,
               "long_date": long_date}
    return render(request, "home/about.html", context)


def phone_uri(number: str) -> str:
    """A tel: link a phone can dial: "+46 (0)611-800 00" becomes tel:+4661180000."""
    dialled = re.sub(r"[^\d+]", "", number.replace("(0)", ""))
    return f"tel:{dialled}" if dialled else ""


@router.get("/healthz")
async def health() -> Response:
    return PlainTextResponse("ok")
