"""Jinja2 templates with gettext in the request's language."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import escape

from consult.core import i18n
from consult.core.fields import pick
from consult.core.formatting import grouped_code, hidden_label, local_stamp, long_date, number

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
_plural_of = templates.env.globals["ngettext"]


@jinja2.pass_context
def _ngettext_grouped(context: Any, singular: str, plural: str, count: Any, **variables: Any) -> str:
    """ngettext whose count reads as the tables beside it do ("2 006 svarande", not "2006")."""
    variables.setdefault("num", number(count) if isinstance(count, int) and not isinstance(count, bool) else count)
    return _plural_of(context, singular, plural, count, **variables)


templates.env.globals["ngettext"] = _ngettext_grouped
templates.env.globals["pick"] = pick
templates.env.globals["long_date"] = long_date
templates.env.globals["local_stamp"] = local_stamp
templates.env.filters["grouped"] = grouped_code


templates.env.globals["hidden_label"] = hidden_label


def is_htmx_partial(request: Request) -> bool:
    """An htmx request for part of a page (a history restore wants the whole page)."""
    return request.headers.get("hx-request") == "true" and not request.headers.get("hx-history-restore-request")


def paging(path: str, query: dict[str, str], *, page: int, total: int, page_size: int) -> dict[str, Any]:
    """What the pager macro of templates/_macros.html needs: the page shown, how many pages there are
    and each page's address at `path`, keeping the filters of `query` that are set."""
    return {
        "page": page,
        "page_count": max(1, -(-total // page_size)),
        "page_url": lambda n: f"{path}?" + urlencode({**{k: v for k, v in query.items() if v}, "page": n}),
    }


# Never carried into the language link: a receipt code (whoever has it sees and deletes the answers,
# and an address stays in the history), and the one-time notices after an action ("saved").
NOT_KEPT_IN_LANGUAGE_LINK = frozenset(
    {"lang", "kvitto", "sparat", "saved", "corrected", "removed", "klart", "done", "expired", "logged_out", "stangd"}
)


def language_href(request: Request, language: str, keep: dict[str, str] | None = None) -> str:
    """The page's address in another language. It keeps the page's query (a campaign tag, the
    workspace's filters), or only `keep` where the page is cached and shared: one visitor's query
    must not end up in the page of the next."""
    if keep is None:
        pairs = [(name, value) for name, value in request.query_params.multi_items()
                 if name not in NOT_KEPT_IN_LANGUAGE_LINK]
    else:
        pairs = [(name, value) for name, value in keep.items() if value]
    return "?" + urlencode([*pairs, ("lang", language)])


templates.env.globals["language_href"] = language_href


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


# A cached page is kept cut at its placeholders: [text, field, text, field, ..., text]. Filling it
# is then one join, where a str.replace per field went over the whole page each time.
_page_cache: OrderedDict[tuple, list[str]] = OrderedDict()
PAGE_CACHE_SIZE = 512
_PLACEHOLDER = re.compile("\x00(\\w+)\x00")


# What else a cached page depends on besides its key and language (the organisation's name, say):
# each function returns a value that changes when that does, and is part of every cache key.
_page_versions: list[Callable[[], Any]] = []


def register_page_version(version: Callable[[], Any]) -> None:
    _page_versions.append(version)


def _placeholder(name: str) -> str:
    return f"\x00{name}\x00"


def render_cached(
    request: Request,
    name: str,
    context: dict[str, Any] | Callable[[], dict[str, Any]],
    key: tuple,
    personal: dict[str, str] | None = None,
) -> Response:
    """Render a public page once per `key` and language, then fill in what differs per visitor:
    the CSRF token and the `personal` values (such as the respondent's resume token), which the
    template sees as placeholders. For pages whose content depends on nothing but the key and
    those values; staff visitors see their menu, so their pages are rendered afresh. `context`
    may be a function, called only when the page has to be rendered."""
    personal = {"csrf_token": csrf_token(request), **(personal or {})}
    if getattr(request.state, "user", None) is not None:
        return render(request, name, {**_made(context), **personal})
    language = i18n.current_language.get()
    cache_key = (name, language, *(version() for version in _page_versions), *key)
    parts = _page_cache.get(cache_key)
    if parts is None:
        placeholders = {field: _placeholder(field) for field in personal}
        full = {"request": request, "lang": language, "user": None, **_made(context), **placeholders}
        parts = _PLACEHOLDER.split(templates.get_template(name).render(full))
        _page_cache[cache_key] = parts
        if len(_page_cache) > PAGE_CACHE_SIZE:
            _page_cache.popitem(last=False)
    values = {field: str(escape(value)) for field, value in personal.items()}
    return HTMLResponse("".join([part if index % 2 == 0 else values[part] for index, part in enumerate(parts)]))


def _made(context: dict[str, Any] | Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return context() if callable(context) else context
