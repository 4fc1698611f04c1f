"""Jinja2 templates with gettext in the request's language."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
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


_CSRF_PLACEHOLDER = "\x00csrf-token\x00"
_page_cache: OrderedDict[tuple, str] = OrderedDict()
PAGE_CACHE_SIZE = 256


def render_cached(request: Request, name: str, context: dict[str, Any], key: tuple) -> Response:
    """Render a public page once per `key` and language, and only fill in each visitor's CSRF
    token afterwards. For pages whose content depends on nothing but the key (the survey start
    page that campaign links and QR codes lead to); staff visitors see their menu, so their
    pages are rendered afresh."""
    if getattr(request.state, "user", None) is not None:
        return render(request, name, context)
    language = i18n.current_language.get()
    cache_key = (name, language, *key)
    html = _page_cache.get(cache_key)
    if html is None:
        full = {"request": request, "lang": language, "csrf_token": _CSRF_PLACEHOLDER, "user": None, **context}
        html = templates.get_template(name).render(full)
        _page_cache[cache_key] = html
        if len(_page_cache) > PAGE_CACHE_SIZE:
            _page_cache.popitem(last=False)
    return HTMLResponse(html.replace(_CSRF_PLACEHOLDER, csrf_token(request)))
