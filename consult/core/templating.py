"""Jinja2 templates with gettext in the request's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates

from consult.core import i18n
from consult.core.fields import pick

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=jinja2.select_autoescape(default=True),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_environment)
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=i18n._, ngettext=i18n.ngettext, newstyle=True
)
templates.env.globals["pick"] = pick


def csrf_token(request: Request) -> str:
    getter = request.scope.get("csrftoken")
    return getter() if callable(getter) else ""


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200):  # type: ignore[no-untyped-def]
    language = i18n.current_language.get()
    base = {
        "request": request,
        "lang": language,
        "csrf_token": csrf_token(request),
        "user": getattr(request.state, "user", None),
    }
    return templates.TemplateResponse(request, name, {**base, **(context or {})}, status_code=status_code)
