"""Who is asking: the staff user of the signed session cookie, and role checks for routes."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request

from consult.accounts.models import User
from consult.accounts.service import role_allows
from consult.core.i18n import _

SESSION_COOKIE = "consult_session"
# A login lasts 8 hours from the moment of login, however active the user is since. The cookie's
# signature is renewed whenever the session changes, so the login time kept inside it is what ends it.
SESSION_MAX_AGE = 8 * 60 * 60
SESSION_USER_KEY = "user_id"
SESSION_LOGIN_AT_KEY = "login_at"
PASSWORD_CHANGE_PATH = "/personal/losenord"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class LoginRequired(Exception):  # noqa: N818 - the name says what the handler does about it
    """Not logged in (or the login has expired): the handler sends the user to /login and back."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


class PasswordChangeRequired(Exception):  # noqa: N818 - the name says what the handler does about it
    """Logged in with a temporary password: the handler sends pages to the change-password page and
    answers the JSON API with 403, until the user has chosen a password of their own."""

    def __init__(self) -> None:
        super().__init__("password change required")


def session_secret(secret_key: str) -> str:
    """A key of its own for session cookies, derived from the app secret, so no other signed
    value of the app (the CSRF cookie) can ever pass as a session."""
    return hmac.new(secret_key.encode(), b"consult-session-cookie", hashlib.sha256).hexdigest()


def login_expired(login_at: Any, now: float | None = None) -> bool:
    if not isinstance(login_at, int | float):
        return True
    return (now or time.time()) - login_at > SESSION_MAX_AGE


def current_user(request: Request) -> User | None:
    """The logged-in staff user, set on request.state by the accounts middleware."""
    return getattr(request.state, "user", None)


def _session_expired(request: Request) -> bool:
    return bool(getattr(request.state, "session_expired", False))


def _check_api_write(request: Request) -> None:
    """The JSON API is exempt from the CSRF token. A session may still authorise API writes,
    but only from requests a cross-site form cannot send: JSON bodies or a custom header both
    need a CORS preflight, which we never grant."""
    if not request.url.path.startswith("/api/") or request.method not in UNSAFE_METHODS:
        return
    content_type = request.headers.get("content-type", "").lower()
    if not (content_type.startswith("application/json") or request.headers.get("x-requested-with")):
        raise HTTPException(403, _("This request must be sent as JSON."))


def require_role(*roles: str, temporary_password_ok: bool = False) -> Callable[[Request], User]:
    """A dependency returning the logged-in user whose role is one of `roles` (admin always
    passes; no roles means any staff user). Not logged in → login page; wrong role → 403.
    A user whose password is temporary reaches nothing but the routes marked
    `temporary_password_ok` (changing the password) until they have replaced it."""
    allowed = frozenset(roles)

    def dependency(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise LoginRequired(expired=_session_expired(request))
        if user.password_temporary and not temporary_password_ok:
            raise PasswordChangeRequired()
        if not role_allows(user.role, allowed):
            raise HTTPException(403, _("Your role does not give access to this page."))
        _check_api_write(request)
        return user

    dependency.consult_roles = allowed  # type: ignore[attr-defined]  # read by the authorization matrix test
    return dependency


require_staff = require_role()
# Only for changing one's own password: the one staff page a temporary password may reach.
require_staff_any_password = require_role(temporary_password_ok=True)
