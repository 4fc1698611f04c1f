"""URL-encoded form bodies, parsed once per request.

The CSRF layer reads a posted form before any handler runs, to find its token; the survey pages
then need every field of the same body. The fields parsed for the one are kept for the other in a
context variable. It belongs to the request's own task (each request runs in a task of its own),
so a handler sees only the body of its own request.

The parser itself is the standard library's `parse_qsl(keep_blank_values=True)` in half its time:
most fields need no unquoting, and percent-escapes decode as UTF-8, as Starlette's do.
"""

from __future__ import annotations

from contextvars import ContextVar
from urllib.parse import unquote

MAX_FORM_FIELDS = 1000  # as Starlette's form parser

Fields = dict[str, list[str]]

_parsed_in_request: ContextVar[Fields | None] = ContextVar("consult_parsed_form", default=None)


def parse_urlencoded(body: bytes) -> Fields | None:
    """Each field's values in order, or None for a body of more than MAX_FORM_FIELDS fields."""
    text = body.decode("latin-1")
    if text.count("&") >= MAX_FORM_FIELDS:
        return None
    fields: Fields = {}
    for pair in text.split("&"):
        if pair:
            name, _sep, value = pair.partition("=")
            fields.setdefault(_unquoted(name), []).append(_unquoted(value))
    return fields


def _unquoted(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return unquote(text) if "%" in text else text


def last_filled(fields: Fields, name: str) -> str:
    """The last non-empty value of a field, "" if none (what `dict(parse_qsl(body))` holds)."""
    return next((value for value in reversed(fields.get(name, ())) if value), "")


def keep_for_request(fields: Fields | None) -> None:
    _parsed_in_request.set(fields)


def parsed_in_request() -> Fields | None:
    """The fields the CSRF layer parsed from this request's body, if it parsed them."""
    return _parsed_in_request.get()
