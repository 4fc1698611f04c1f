"""The FastAPI application: middleware, error pages, static files and each domain's routes."""

from __future__ import annotations

import gc
import logging
import secrets
from contextlib import asynccontextmanager
from http import HTTPStatus

import asgi_csrf as asgi_csrf_module
from asgi_csrf import asgi_csrf
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from consult.config import PROJECT_ROOT, get_settings
from consult.core import csrf_input, signing
from consult.core.csrf_input import without_unreadable_token_header
from consult.core.i18n import _
from consult.core.middleware import (
    BodyLimitMiddleware,
    LanguageMiddleware,
    SecurityHeadersMiddleware,
    send_plain_page,
)
from consult.core.routing import validation_message
from consult.core.templating import render
from consult.db import WalCheckpointer, get_engine
from consult.responses.drafts import close_draft_reads, save_draft_updates
from consult.responses.service import store_responses
from consult.responses.writer import BatchWriter

log = logging.getLogger(__name__)

STATIC_DIR = PROJECT_ROOT / "static"
NODE_MODULES = PROJECT_ROOT / "node_modules"
# Front-end packages installed from npm at set-up time, served from node_modules, never committed.
VENDOR_FILES = {
    "htmx.min.js": NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js",
    "axe.min.js": NODE_MODULES / "axe-core" / "axe.min.js",
    "swagger-ui-bundle.js": NODE_MODULES / "swagger-ui-dist" / "swagger-ui-bundle.js",
    "swagger-ui.css": NODE_MODULES / "swagger-ui-dist" / "swagger-ui.css",
}


def _session_factory() -> Session:
    return Session(get_engine(), expire_on_commit=False)


writer = BatchWriter(_session_factory, {"response": store_responses, "draft": save_draft_updates})


@asynccontextmanager
async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
    await writer.start()
    checkpointer = WalCheckpointer(get_engine())
    checkpointer.start()
    # Everything loaded so far (modules, templates, the app) lives as long as the process: keep
    # it out of the garbage collector's full passes, which otherwise walk it all under load.
    gc.freeze()
    try:
        yield
    finally:
        await writer.stop()
        checkpointer.stop()
        await close_draft_reads()


_STATUS_PHRASES = frozenset(status.phrase for status in HTTPStatus)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _error_page(request: Request, status: int, detail: str | None = None) -> Response:
    titles = {
        400: _("The request could not be read"),
        403: _("You do not have access to this page"),
        404: _("The page could not be found"),
        405: _("That is not possible here"),
        409: _("There is a conflict"),
        413: _("The request is too large"),
        422: _("Check the information you entered"),
        429: _("Too many attempts"),
    }
    title = titles.get(status, _("Something went wrong"))
    if _wants_json(request):
        return JSONResponse({"detail": detail or title}, status_code=status)
    return render(request, "errors/error.html", {"title": title, "detail": detail, "status": status}, status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Starlette's own details ("Not Found", "Method Not Allowed") are English status phrases: the
        # page's translated title says the same.
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in _STATUS_PHRASES else None
        response = _error_page(request, exc.status_code, detail)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")),
                "code": err.get("type", "invalid"),
                "message": validation_message(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": _("The request is not valid."), "errors": errors}, status_code=422)
        sources = {err.get("loc", ("body",))[0] for err in exc.errors()}
        if sources == {"path"}:  # /granskning/-1: no such page
            return _error_page(request, 404)
        if "body" not in sources:  # ?page=-1: the address, not a form
            return _error_page(request, 400, _("The address has a value this page cannot use. Check the link."))
        return _error_page(request, 400, _("The form could not be read. Go back and try again."))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return _error_page(request, 500)


def _install_static(app: FastAPI) -> None:
    app.mount("/static/app", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/static/vendor/{name}", include_in_schema=False)
    async def vendor(name: str) -> Response:
        path = VENDOR_FILES.get(name)
        if path is None or not path.exists():
            return Response(status_code=404)
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        # Swagger UI from npm (swagger-ui-dist), served locally: no CDN is reachable or wanted.
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="consult API",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/app/favicon.svg",
        )
        # The API's documentation is in English; screen readers need to be told (WCAG 3.1.1).
        return HTMLResponse(bytes(page.body).replace(b"<html>", b'<html lang="en">', 1))


def create_app() -> FastAPI:
    app = FastAPI(
        title="consult",
        summary="Consultation and survey platform for regional development strategies",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # No OpenTelemetry here; FastAPI would otherwise ask for a tracer provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    _install_error_handlers(app)
    _install_static(app)

    from consult.accounts import install as install_accounts
    from consult.domains import domain_modules

    install_accounts(app)
    # Routes are matched in order, so the answering path (the API and the survey pages, where
    # the load is) comes first; the staff pages' couple of hundred routes follow.
    modules = domain_modules("api") + domain_modules("routes")
    hot = ("consult.surveys.api", "consult.surveys.routes", "consult.home.routes")
    modules.sort(key=lambda m: hot.index(m.__name__) if m.__name__ in hot else len(hot))
    for module in modules:
        if module.__name__ in HOISTED:
            # Their routes sit on the app itself: matching an included router walks FastAPI's
            # include machinery twice per request, a tenth of a survey page's time.
            app.router.routes.extend(module.router.routes)
        else:
            app.include_router(module.router)
    return app


HOISTED = ("consult.surveys.api", "consult.surveys.routes")


class _EveryPath:
    """asgi-csrf skips requests without cookies unless their path is 'always protected':
    we protect every path, so a forged form post cannot slip through by sending no cookie."""

    def __contains__(self, _path: object) -> bool:
        return True


def _skip_csrf(scope: dict) -> bool:
    # The JSON API takes no cookies for authority and is called by other programs.
    return scope.get("path", "").startswith("/api/")


async def _csrf_failed(scope, send, message_id) -> None:  # type: ignore[no-untyped-def]
    from consult.core import i18n

    language = scope.get("state", {}).get("language", "sv")
    text = i18n.gettext_for(
        language, "The form has expired or was sent from elsewhere. Go back, reload the page and try again."
    )
    await send_plain_page(send, 403, language, i18n.gettext_for(language, "The form has expired"), text)


def _bypass_csrf_for_machines(inner, protected):  # type: ignore[no-untyped-def]
    """Send the JSON API, health checks and static files past the CSRF layer: they take no
    cookie-borne authority, and minting a CSRF secret for each of them costs real time."""

    async def dispatch(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(("/api/", "/static/", "/healthz", "/openapi.json")):
            await inner(scope, receive, send)
        else:
            await protected(without_unreadable_token_header(scope), receive, send)

    return dispatch


def _mint_csrf_secrets_quickly() -> None:
    """asgi-csrf makes a new visitor's secret one character at a time, a SystemRandom call each:
    16 system calls on every first visit (every QR-code scan). One call to secrets gives the same
    length and entropy (16 URL-safe characters, 96 bits)."""

    def make_secret(length: int) -> str:
        return secrets.token_urlsafe(length)[:length]

    asgi_csrf_module.make_secret = make_secret


fastapi_app: FastAPI | None = None  # the app inside the middlewares, for tests that list its routes


def build_asgi_app():  # type: ignore[no-untyped-def]
    """The app wrapped in its outer middlewares; this is what servers run."""
    global fastapi_app
    from consult.core import csrf_multipart

    csrf_multipart.install()  # multipart forms (uploads) need it while asgi-csrf#38 is open
    csrf_input.install()  # input that is not UTF-8 must not reach the client as a 500
    _mint_csrf_secrets_quickly()
    signing.install_for_csrf()  # its signer made once, not on every page view
    settings = get_settings()
    inner = fastapi_app = create_app()
    protected = asgi_csrf(
        inner,
        signing_secret=settings.secret_key,
        always_protect=_EveryPath(),
        skip_if_scope=_skip_csrf,
        cookie_secure=settings.https,
        send_csrf_failed=_csrf_failed,
    )
    limited = BodyLimitMiddleware(
        _bypass_csrf_for_machines(inner, protected),
        settings.max_body_bytes,
        upload_paths={"/admin/": 12_000_000, "/r/": 12_000_000},
    )
    return SecurityHeadersMiddleware(LanguageMiddleware(limited), https=settings.https)


app = build_asgi_app()
