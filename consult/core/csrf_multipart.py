"""A stop-gap for asgi-csrf 0.11 with python-multipart >= 0.0.26 (simonw/asgi-csrf#38).

asgi-csrf finds the csrftoken of a multipart upload with python-multipart's FormParser and a
`FileClass=` argument that python-multipart 0.0.26 removed, so every multipart POST fails with a
TypeError (a 500). Going back to python-multipart < 0.0.26 is no option: 0.0.26 fixes
CVE-2026-40347. This module gives asgi-csrf a token finder built on python-multipart's low-level
MultipartParser, with the same contract: the csrftoken field must come before any file, a file
part seen first is refused, and everything read is replayed to the app untouched.

`install()` swaps it in only while asgi-csrf still passes FileClass and FormParser no longer takes
it; once asgi-csrf is fixed upstream the check fails and nothing is patched.
consult.app installs it before wrapping the app in the CSRF middleware.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import asgi_csrf
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import FormParser, MultipartParser, parse_options_header

from consult.core.csrf_input import Receive, replaying

TOKEN_FIELD = b"csrftoken"
MAX_TOKEN_BYTES = 4096


class _PartReader:
    """Callbacks for MultipartParser that stop at the token, or at a file before it."""

    def __init__(self) -> None:
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.name: bytes | None = None
        self.token = bytearray()

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field_data,
            "on_header_value": self.header_value_data,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.headers, self.name = {}, None

    def header_field_data(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def header_value_data(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field, self.header_value = bytearray(), bytearray()

    def headers_finished(self) -> None:
        _kind, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = options.get(b"name")
        if b"filename" in options and self.name != TOKEN_FIELD:
            raise asgi_csrf.FileBeforeToken

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.name == TOKEN_FIELD:
            self.token += data[start:end]
            if len(self.token) > MAX_TOKEN_BYTES:
                raise asgi_csrf.TokenFound("")  # no real token is this long: it will not match

    def part_end(self) -> None:
        if self.name == TOKEN_FIELD:
            raise asgi_csrf.TokenFound(self.token.decode("utf-8", errors="replace"))


async def find_multipart_token(boundary: bytes, receive: Receive) -> tuple[str | None, Receive]:
    """Read the body up to the csrftoken field: (token or None, a receive that replays the body)."""
    messages: list[dict[str, Any]] = []
    replay_receive = replaying(messages, receive)
    more_body = True
    try:
        parser = MultipartParser(boundary, _PartReader().callbacks())  # refuses an overlong boundary
        while more_body:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away; the app will see the disconnect
            parser.write(message.get("body", b""))
            more_body = message.get("more_body", False)
    except asgi_csrf.TokenFound as found:
        return found.args[0], replay_receive
    except FormParserError:
        pass  # a malformed body (or boundary) has no token: refused like a missing one
    return None, replay_receive


def needs_patch() -> bool:
    try:
        uses_file_class = "FileClass" in inspect.getsource(asgi_csrf._parse_multipart_form_data)
    except (OSError, TypeError, AttributeError):
        return False
    return uses_file_class and "FileClass" not in inspect.signature(FormParser.__init__).parameters


def install() -> bool:
    """Swap the token finder into asgi-csrf if it is broken; True if it was swapped."""
    if not needs_patch():
        return False
    asgi_csrf._parse_multipart_form_data = find_multipart_token
    return True
