"""Kiosk mode: a tablet at an event that serves one person after another.

A device is in kiosk mode only when staff put it there (the interviewers' page, logged in): that
sets a cookie signed with the site's secret, naming the survey, the event and the language the
kiosk was opened in (the one every next person starts in, whatever the one before chose). A kiosk is exempt
from "one response per browser" and from the repeat-answer flag, so an address alone (``?kiosk=``)
must never make one: anyone could then answer again and again unflagged, under an event they made
up. The cookie lasts until the browser is closed.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from itsdangerous import BadSignature
from starlette.requests import Request
from starlette.responses import Response

from consult.config import get_settings
from consult.core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from consult.core.signing import serializer

COOKIE = "consult_kiosk"
_SALT = "consult-kiosk"
_NAME_BAD = re.compile(r"[\x00-\x1f\x7f]")


def event_name_of(value: str | None) -> str | None:
    """An event's name as a kiosk shows and stores it: one line, at most 200 characters."""
    name = _NAME_BAD.sub(" ", value or "").strip()[:200]
    return name or None


def event_key(name: str) -> str:
    """What makes two spellings of a place or event the same one: "Framtidsdag  i Härnösand " and
    "framtidsdag i härnösand" differ only in case and spaces, typed by two interviewers."""
    return " ".join(name.split()).casefold()


class Kiosk(NamedTuple):
    slug: str
    event_name: str
    language: str  # the language the kiosk was opened in: each next person starts in it


def cookie_value(slug: str, event_name: str, language: str = DEFAULT_LANGUAGE) -> str:
    return serializer(get_settings().secret_key, salt=_SALT).dumps([slug, event_name, language])


def device_kiosk(request: Request) -> Kiosk | None:
    """The survey, event and language this device was put in kiosk mode for, or None (no cookie,
    or one that staff did not make). A cookie made before kiosks kept their language (two
    elements) is a Swedish kiosk."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        value = serializer(get_settings().secret_key, salt=_SALT).loads(raw)
    except (BadSignature, TypeError, ValueError):
        return None
    if not isinstance(value, list) or len(value) not in (2, 3):
        return None
    slug, event = value[0], value[1]
    language = value[2] if len(value) == 3 and value[2] in LANGUAGES else DEFAULT_LANGUAGE
    event_name = event_name_of(event) if isinstance(event, str) else None
    return Kiosk(slug, event_name, language) if isinstance(slug, str) and slug and event_name else None


def put_in_kiosk_mode(request: Request, response: Response, *, slug: str, event_name: str, language: str) -> None:
    """Make this device a kiosk for the survey and event, starting each respondent in `language`
    (staff only: see the interviewers' page)."""
    response.set_cookie(
        COOKIE,
        cookie_value(slug, event_name, language),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.scope.get("scheme") == "https",
    )


def forget_unsigned(request: Request, response: Response) -> None:
    """Remove a kiosk cookie that no staff member made (an old unsigned one, or a forged one)."""
    if COOKIE in request.cookies and device_kiosk(request) is None:
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="lax", secure=request.scope.get("scheme") == "https"
        )
