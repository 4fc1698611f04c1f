"""asgi-csrf 0.11 reads its input as strict UTF-8, outside the app's error handling.

It decodes the Cookie header and a URL-encoded body with `.decode("utf8")`, so a request carrying a
byte sequence that is not UTF-8 (a stray cookie of another site on the same domain, a hand-made
POST) raises UnicodeDecodeError before any handler runs: a bare 500. `install()` gives asgi-csrf
readers that never raise:
- cookies: Starlette's browser-like cookie parser over the header decoded as Latin-1, as Starlette
  itself reads headers (also some ten times faster than http.cookies.SimpleCookie, and it keeps
  the token when another cookie in the header is malformed, where SimpleCookie drops the rest);
- URL-encoded bodies: parsed once (consult.core.formdata), and the parse kept for the page's
  handler, which needs every field anyway; a malformed body fails the token check (403) or reaches
  the app's own form validation. A body of too many fields to parse is searched for the token
  field alone, decoded with replacement characters as `urllib.parse.parse_qsl` decodes;
- a token header that is not ASCII is dropped (`without_unreadable_token_header`, used by
  consult.app before the CSRF layer), as compare_digest raises on non-ASCII text.
Everything read is replayed to the app untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import asgi_csrf
from starlette.requests import cookie_parser

from consult.core.formdata import keep_for_request, last_filled, parse_urlencoded

Receive = Callable[[], Awaitable[dict[str, Any]]]
TOKEN_FIELD = asgi_csrf.DEFAULT_FORM_INPUT  # consult.app keeps asgi-csrf's field name
TOKEN_NAME = TOKEN_FIELD.encode()


def replaying(messages: list[dict[str, Any]], receive: Receive) -> Receive:
    """A receive that hands the app the messages already read, then whatever follows."""

    async def replay_receive() -> dict[str, Any]:
        return messages.pop(0) if messages else await receive()

    return replay_receive


def cookies_from_scope(scope: dict[str, Any]) -> dict[str, str]:
    for name, value in scope.get("headers") or ():
        if name == b"cookie":
            return cookie_parser(value.decode("latin-1"))
    return {}


async def read_form_urlencoded(receive: Receive) -> tuple[dict[str, str], Receive]:
    """The body's fields (the last value of a repeated name, as asgi-csrf reads them) and a
    receive that replays what was read."""
    messages: list[dict[str, Any]] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    fields = parse_urlencoded(body)
    keep_for_request(fields)
    token = token_field(body) if fields is None else last_filled(fields, TOKEN_FIELD)
    # asgi-csrf compares with secrets.compare_digest, which raises on non-ASCII text: such a value
    # can never be a token, so it is read as none.
    return {TOKEN_FIELD: token if token.isascii() else ""}, replaying(messages, receive)


def token_field(body: bytes) -> str:
    """The last non-empty value of the token field in a URL-encoded body, "" if none: what
    `dict(parse_qsl(body))[TOKEN_FIELD]` gives, without decoding the other fields."""
    token = ""
    for field in body.split(b"&"):
        name, has_value, value = field.partition(b"=")
        if not has_value or not value:
            continue
        if name != TOKEN_NAME and not ((b"%" in name or b"+" in name) and _unquoted(name) == TOKEN_FIELD):
            continue
        token = _unquoted(value)
    return token


def _unquoted(part: bytes) -> str:
    return unquote(part.decode("utf-8", errors="replace").replace("+", " "), errors="replace")


def without_unreadable_token_header(scope: dict[str, Any]) -> dict[str, Any]:
    headers = scope.get("headers") or ()
    if all(name != b"x-csrftoken" or value.isascii() for name, value in headers):
        return scope
    return {**scope, "headers": [(n, v) for n, v in headers if n != b"x-csrftoken" or v.isascii()]}


def install() -> None:
    asgi_csrf.cookies_from_scope = cookies_from_scope
    asgi_csrf._parse_form_urlencoded = read_form_urlencoded
