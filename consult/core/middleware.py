"""Small ASGI middlewares: language of the request, security headers, request size limit."""

from __future__ import annotations

import html
import json
from urllib.parse import quote_from_bytes

from starlette.requests import cookie_parser

from consult.core import i18n

ASGIApp = object

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
# Swagger UI at /docs boots with an inline script of FastAPI's.
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def _header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value
    return None


def _query_language(scope: dict) -> str | None:
    from urllib.parse import parse_qs

    query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
    values = query.get("lang")
    return values[-1] if values else None


def _with_ascii_query(scope: dict) -> dict:
    """The query string as a browser sends it: a client that sends raw bytes outside printable ASCII
    gets them percent-encoded here, since Starlette reads the query as UTF-8 when it builds the
    request's URL (a raw 0xFF byte would make every page, error pages included, fail). A NUL byte
    (%00) is dropped: no search or filter means one, and PostgreSQL refuses it in a text value."""
    query = scope.get("query_string") or b""
    printable = all(0x21 <= byte < 0x7F for byte in query)
    if printable and b"%00" not in query:
        return scope
    if not printable:
        query = quote_from_bytes(query, safe="/?:@!$&'()*+,;=%").encode("ascii")
    return {**scope, "query_string": query.replace(b"%00", b"")}


class LanguageMiddleware:
    """?lang=en switches the interface language and remembers it in a cookie; Swedish otherwise."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = _with_ascii_query(scope)
        from_query = _query_language(scope)
        raw_cookie = _header(scope, b"cookie")
        # Starlette's browser-like parser: never raises, and a malformed cookie beside it does not
        # hide the language (http.cookies.SimpleCookie drops the rest of the header).
        cookies = cookie_parser(raw_cookie.decode("latin-1")) if raw_cookie else {}
        # A language the interface does not have (?lang=de) leaves the one chosen before.
        supported = from_query is not None and from_query.strip().lower()[:2] in i18n.LANGUAGES
        chosen = from_query if supported else cookies.get("lang")
        language = i18n.normalise_language(chosen)
        token = i18n.current_language.set(language)
        scope.setdefault("state", {})["language"] = language
        remember = supported and not scope.get("path", "").startswith("/api/")  # API callers choose per request

        async def send_with_cookie(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start" and remember:
                headers = list(message.get("headers") or [])
                headers.append((b"set-cookie", f"lang={language}; Path=/; Max-Age=31536000; SameSite=Lax".encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            i18n.current_language.reset(token)


class SecurityHeadersMiddleware:
    def __init__(self, app, https: bool = False) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.https = https

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = DOCS_CSP if path in ("/docs", "/redoc") else CSP

        async def send_with_headers(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                extra = [
                    (b"content-security-policy", csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if self.https:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                headers.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuse request bodies over the limit with 413 before anything reads them."""

    def __init__(self, app, max_bytes: int, upload_paths: dict[str, int] | None = None) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.max_bytes = max_bytes
        self.upload_paths = upload_paths or {}

    def _limit(self, path: str) -> int:
        for prefix, limit in self.upload_paths.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        content_type = (_header(scope, b"content-type") or b"").lower()
        if content_type.startswith(b"multipart/form-data") and b"boundary=" not in content_type:
            await _send_json(send, 400, {"detail": "multipart/form-data without a boundary"})
            return
        length = _header(scope, b"content-length")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                too_big = False
            if too_big:
                await _send_413(scope, send, limit)
                return
        received = 0

        async def counting_receive():  # type: ignore[no-untyped-def]
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await _send_413(scope, send, limit)


class BodyTooLarge(Exception):
    pass


async def _send_413(scope: dict, send, limit: int) -> None:  # type: ignore[no-untyped-def]
    language = scope.get("state", {}).get("language", "sv")
    message = i18n.gettext_for(language, "The request is too large (at most %(size)s).") % {
        "size": f"{limit // 1_000_000} MB"
    }
    accept = (_header(scope, b"accept") or b"").decode("latin-1")
    if "text/html" not in accept or scope.get("path", "").startswith("/api/"):
        await _send_json(send, 413, {"detail": message})
        return
    # A browser's form post (a file too large, text pasted many times over): a page a person can
    # read. The body was never read, so nothing was stored; Back shows the form as it was typed.
    back = i18n.gettext_for(
        language, "Go back with the browser's Back button: what you wrote is still in the form. Make the file "
        "smaller or leave it out, and send again."
    )
    await send_plain_page(send, 413, language, i18n.gettext_for(language, "The request is too large"), message, back)


async def send_plain_page(send, status: int, language: str, title: str, *paragraphs: str) -> None:  # type: ignore[no-untyped-def]
    """A minimal page with the site's stylesheet, for answers given before the app (and its
    templates) is reached: the request too large, the CSRF check failed."""
    text = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    page = (
        f'<!doctype html><html lang="{html.escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="/static/app/consult.css"></head>'
        f'<body><main id="main" class="container"><h1>{html.escape(title)}</h1>{text}</main></body></html>'
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": page})


async def _send_json(send, status: int, payload: dict) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
