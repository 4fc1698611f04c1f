"""Staff accounts: sessions, login, roles and the audit log. `install(app)` wires them into the app."""

from __future__ import annotations

from urllib.parse import urlencode

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

from consult.accounts.deps import (
    PASSWORD_CHANGE_PATH,
    SESSION_COOKIE,
    SESSION_LOGIN_AT_KEY,
    SESSION_MAX_AGE,
    SESSION_USER_KEY,
    LoginRequired,
    PasswordChangeRequired,
    login_expired,
    session_secret,
)
from consult.accounts.models import User
from consult.config import get_settings
from consult.core.i18n import _

# Requests that never show who is logged in: no database look-up for them.
_NO_USER_PREFIXES = ("/static/", "/healthz")


def _load_active_user(user_id: int, login_at: float) -> User | None:
    """The session's user, unless deactivated or their logins were ended since (a password reset)."""
    from consult.accounts.service import session_ended
    from consult.db import session_scope

    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or session_ended(user, login_at):
            return None
        return user


class StaffUserMiddleware:
    """Puts the session's staff user on request.state.user (None when there is none), so every
    page, error pages included, can show the staff menu. Ends logins older than SESSION_MAX_AGE,
    sessions of users who were deactivated and those begun before the password was reset."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http" or scope.get("path", "").startswith(_NO_USER_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["user"] = None
        session = scope.get("session")
        user_id = session.get(SESSION_USER_KEY) if session is not None else None
        if isinstance(user_id, int):
            if login_expired(session.get(SESSION_LOGIN_AT_KEY)):
                session.clear()
                state["session_expired"] = True
            else:
                login_at = session.get(SESSION_LOGIN_AT_KEY)
                state["user"] = await anyio.to_thread.run_sync(_load_active_user, user_id, login_at)
                if state["user"] is None:
                    session.clear()
        await self.app(scope, receive, send)


def _local_path(value: str | None) -> str | None:
    from consult.accounts.routes import safe_next

    return safe_next(value, default=None)


async def _login_required(request: Request, exc: Exception) -> Response:
    expired = isinstance(exc, LoginRequired) and exc.expired
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": _("Log in to continue.")}, status_code=401)
    if request.method == "GET":
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        # A form post cannot be repeated by a redirect: come back to the page the form was on.
        referer = request.headers.get("referer", "")
        back = _local_path(_path_of(referer, request)) or ""
    params = {"next": back} if back else {}
    if expired:
        params["expired"] = "1"
    url = "/login" + (f"?{urlencode(params)}" if params else "")
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


async def _password_change_required(request: Request, exc: Exception) -> Response:
    """A temporary password reaches nothing but the change-password page (and logout)."""
    if request.url.path.startswith("/api/"):
        message = _("Your password is temporary. Choose a password of your own before you continue.")
        return JSONResponse({"detail": message, "errors": [], "code": "password_change_required"}, status_code=403)
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    back = _local_path(back) if request.method == "GET" else None
    url = PASSWORD_CHANGE_PATH + (f"?{urlencode({'next': back})}" if back else "")
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _path_of(url: str, request: Request) -> str | None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.url.netloc:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _install_template_helpers() -> None:
    from consult.accounts import service
    from consult.core.i18n import _ as translate
    from consult.core.templating import templates

    templates.env.globals["staff_links"] = service.staff_links
    templates.env.globals["role_label"] = lambda role: translate(service.ROLE_LABELS.get(role, role))


def install(app: FastAPI) -> None:
    """Sessions, the staff user on every request, and the login redirect. Call before other middleware
    that needs request.state.user; the session middleware must wrap the user middleware."""
    settings = get_settings()
    app.add_middleware(StaffUserMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings.secret_key),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.https,
    )
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PasswordChangeRequired, _password_change_required)
    _install_template_helpers()
