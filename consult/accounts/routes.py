"""Login, logout, the staff landing page and the audit log page. The logic is in service.py."""

from __future__ import annotations

import logging
import os
import smtplib
import time
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from consult.accounts import reset, service, staff
from consult.accounts.deps import (
    SESSION_LOGIN_AT_KEY,
    SESSION_MAX_AGE,
    SESSION_USER_KEY,
    current_user,
    require_role,
    require_staff,
    require_staff_any_password,
)
from consult.accounts.models import AuditAction, Role, User
from consult.core.formatting import LOCAL_TIME, local_stamp
from consult.core.i18n import _, current_language
from consult.core.mail import SmtpSettings
from consult.core.numbers import as_whole_number
from consult.core.routing import RowId
from consult.core.templating import paging, render
from consult.db import session_scope

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

AUDIT_PAGE_SIZE = 50
DEFAULT_LANDING = "/personal"


def safe_next(value: str | None, default: str | None = DEFAULT_LANDING) -> str | None:
    """Only a path on this site may be a redirect target: never another host, scheme or a
    protocol-relative //host, so the login page cannot be used to send people elsewhere."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 32 for ch in value) or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return default
    return value


# --- login and logout ----------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {"next": next_path, "email": email, "errors": errors or {}, "notice": notice}
    return render(request, "accounts/login.html", context, status_code)


@router.get("/login")
def login_form(
    request: Request,
    next: Annotated[str | None, Query(max_length=2000)] = None,  # noqa: A002 - the conventional name
    expired: Annotated[str | None, Query(max_length=5)] = None,
    logged_out: Annotated[str | None, Query(max_length=5)] = None,
    password_reset: Annotated[str | None, Query(alias="nytt_losenord", max_length=5)] = None,
) -> Response:
    target = safe_next(next) or DEFAULT_LANDING
    if current_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    notice = None
    if expired:
        notice = _("Your login has expired. Log in again to continue.")
    elif logged_out:
        notice = _("You have logged out.")
    elif password_reset:
        notice = _("Your new password is saved. Log in with it.")
    return _login_page(request, next_path=target, notice=notice)


def _missing_fields(email: str, password: str) -> dict[str, str]:
    errors = {}
    if not email.strip():
        errors["email"] = _("Enter your email address.")
    if not password:
        errors["password"] = _("Enter your password.")
    return errors


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=service.MAX_PASSWORD_LENGTH)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002
) -> Response:
    target = safe_next(next) or DEFAULT_LANDING
    errors = _missing_fields(email, password)
    if errors:
        return _login_page(request, next_path=target, email=email, errors=errors, status_code=422)
    ip_hash = service.request_ip_hash(request)
    verdict = service.check_login_limit(email=email, ip_hash=ip_hash)
    with session_scope() as session:
        known = service.get_user_by_email(session, email)
        if not verdict.allowed:
            service.record_audit(
                session, user_id=known.id if known else None, action=AuditAction.login_blocked, request=request
            )
            return _rate_limited(request, verdict.retry_after)
        user = service.authenticate(session, email=email, password=password)
        if user is None:
            service.count_failed_login(email=email, ip_hash=ip_hash)
            service.record_audit(
                session,
                user_id=known.id if known else None,
                action=AuditAction.login_failed,
                details={"email_known": known is not None},
                request=request,
            )
            errors = {"password": _("The email address or password is wrong.")}
            return _login_page(request, next_path=target, email=email, errors=errors, status_code=422)
        service.record_login(session, user=user, request=request)
        user_id = user.id
    request.session.clear()
    request.session[SESSION_USER_KEY] = user_id
    request.session[SESSION_LOGIN_AT_KEY] = int(time.time())
    return RedirectResponse(target, status_code=303)


def _rate_limited(request: Request, retry_after: int, *, reset_link: bool = False) -> Response:
    until = datetime.now(LOCAL_TIME) + timedelta(seconds=retry_after)
    context = {"retry_after": retry_after, "until": until.strftime("%H:%M:%S"), "reset_link": reset_link}
    response = render(request, "accounts/rate_limited.html", context, 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    user = current_user(request)
    if user is not None:
        with session_scope() as session:
            service.record_audit(session, user_id=user.id, action=AuditAction.logout, request=request)
    request.session.clear()
    return RedirectResponse("/login?logged_out=1", status_code=303)


# --- staff pages ---------------------------------------------------------------------------


@router.get("/personal")
def personal(request: Request, user: Annotated[User, Depends(require_staff)]) -> Response:
    login_at = datetime.fromtimestamp(request.session.get(SESSION_LOGIN_AT_KEY, time.time()), LOCAL_TIME)
    context = {
        "staff_user": user,
        "links": [link for link in service.staff_links(user) if link.path != request.url.path],
        "login_ends": (login_at + timedelta(seconds=SESSION_MAX_AGE)).strftime("%H:%M"),
    }
    return render(request, "accounts/personal.html", context)


def _parse_date(value: str | None) -> tuple[date | None, bool]:
    """(date, ok): an empty value is no filter; an unreadable one is reported, not guessed."""
    if not value:
        return None, True
    try:
        return date.fromisoformat(value), True
    except ValueError:
        return None, False


def _local_midnight(day: date) -> datetime:
    """The start of a Swedish calendar day, in UTC as the database keeps times."""
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TIME).astimezone(UTC)


@router.get("/admin/audit")
def audit_log(
    request: Request,
    _admin: Annotated[User, Depends(require_role(Role.admin))],
    action: Annotated[str, Query(max_length=40)] = "",
    user: Annotated[str, Query(max_length=12)] = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    errors: dict[str, str] = {}
    since, ok_from = _parse_date(date_from)
    until, ok_to = _parse_date(date_to)
    if not ok_from:
        errors["from"] = _("Write the date as YYYY-MM-DD.")
    if not ok_to:
        errors["to"] = _("Write the date as YYYY-MM-DD.")
    if since and until and until < since:
        errors["to"] = _("The end date must be on or after the start date.")
    user_id = as_whole_number(user, 18)
    filters = {
        "action": action or None,
        "user_id": user_id,
        "since": _local_midnight(since) if since and not errors else None,
        "until": _local_midnight(until + timedelta(days=1)) if until and not errors else None,
    }
    with session_scope() as session:
        total = service.count_audit(session, **filters)
        events = service.list_audit(session, **filters, limit=AUDIT_PAGE_SIZE, offset=(page - 1) * AUDIT_PAGE_SIZE)
        users = service.list_users(session)
        actions = service.audit_actions(session)
        subjects = service.audit_subjects(
            session, (event.target for event in events), language=current_language.get(), translate=_
        )
    query = {"action": action, "user": user, "from": date_from, "to": date_to}
    context = {
        "events": events,
        "users": users,
        "users_by_id": {u.id: u for u in users},
        "subjects": subjects,
        "actions": actions,
        "action_labels": {a: _(service.ACTION_LABELS[a]) if a in service.ACTION_LABELS else a for a in actions},
        "values": query,
        "errors": errors,
        "total": total,
        **paging("/admin/audit", query, page=page, total=total, page_size=AUDIT_PAGE_SIZE),
        "local_time": lambda moment: local_stamp(moment, "%Y-%m-%d %H:%M:%S"),
        "describe_details": lambda details: service.describe_details(details, _),
    }
    return render(request, "accounts/audit.html", context, 422 if errors else 200)


# --- staff accounts ----------------------------------------------------------------------------

Admin = Annotated[User, Depends(require_role(Role.admin))]


def _accounts_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    new_password: staff.NewAccount | None = None,
    status_code: int = 200,
) -> Response:
    with session_scope() as session:
        users = service.list_users(session)
    context = {
        "users": users,
        "roles": [(role.value, _(service.ROLE_LABELS[role.value])) for role in Role],
        "values": values or {"email": "", "name": "", "role": Role.interviewer.value},
        "errors": errors or {},
        "notice": notice,
        "new_password": new_password,
        "me": current_user(request),
        "local_time": lambda moment: local_stamp(moment, empty="–"),
    }
    response = render(request, "accounts/users.html", context, status_code)
    if new_password is not None:  # a temporary password: no cache keeps the page
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/admin/konton")
def accounts_page(request: Request, _admin: Admin, sparat: Annotated[str, Query(max_length=3)] = "") -> Response:
    return _accounts_page(request, notice=_("The account was changed.") if sparat else None)


@router.post("/admin/konton")
def add_account(
    request: Request,
    admin: Admin,
    email: Annotated[str, Form(max_length=1000)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    values = {"email": email, "name": name, "role": role}
    try:
        with session_scope() as session:
            account = staff.add_account(session, email=email, name=name, role=role, actor_id=admin.id, request=request)
            session.expunge(account.user)
    except staff.StaffProblem as problem:
        return _accounts_page(request, values=values, errors={problem.field: problem.text(_)}, status_code=422)
    return _accounts_page(request, new_password=account)


def _change(request: Request, change) -> Response:  # type: ignore[no-untyped-def]
    """Run one account change; its problem is shown on the accounts page beside the account."""
    try:
        with session_scope() as session:
            result = change(session)
            if isinstance(result, staff.NewAccount):
                session.expunge(result.user)
    except staff.StaffProblem as problem:
        return _accounts_page(request, errors={problem.field: problem.text(_)}, status_code=422)
    if isinstance(result, staff.NewAccount):
        return _accounts_page(request, new_password=result)
    return RedirectResponse("/admin/konton?sparat=1", status_code=303)


@router.post("/admin/konton/{user_id}/roll")
def change_role(
    request: Request, user_id: RowId, admin: Admin, role: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    return _change(
        request, lambda s: staff.set_role(s, user_id=user_id, role=role, actor_id=admin.id, request=request)
    )


@router.post("/admin/konton/{user_id}/atkomst")
def change_access(
    request: Request, user_id: RowId, admin: Admin, active: Annotated[str, Form(max_length=1)] = ""
) -> Response:
    return _change(
        request,
        lambda s: staff.set_active(s, user_id=user_id, active=active == "1", actor_id=admin.id, request=request),
    )


@router.post("/admin/konton/{user_id}/losenord")
def reset_password(request: Request, user_id: RowId, admin: Admin) -> Response:
    return _change(request, lambda s: staff.reset_password(s, user_id=user_id, actor_id=admin.id, request=request))


def _password_page(
    request: Request,
    user: User,
    *,
    next_path: str,
    errors: dict[str, str] | None = None,
    changed: bool = False,
    status_code: int = 200,
) -> Response:
    context = {"errors": errors or {}, "changed": changed, "temporary": user.password_temporary, "next": next_path}
    return render(request, "accounts/password.html", context, status_code)


@router.get("/personal/losenord")
def password_form(
    request: Request,
    user: Annotated[User, Depends(require_staff_any_password)],
    next: Annotated[str | None, Query(max_length=2000)] = None,  # noqa: A002 - the conventional name
) -> Response:
    return _password_page(request, user, next_path=safe_next(next) or DEFAULT_LANDING)


@router.post("/personal/losenord")
def change_password(
    request: Request,
    user: Annotated[User, Depends(require_staff_any_password)],
    current: Annotated[str, Form(max_length=service.MAX_PASSWORD_LENGTH * 2)] = "",
    new: Annotated[str, Form(max_length=service.MAX_PASSWORD_LENGTH * 2)] = "",
    repeated: Annotated[str, Form(max_length=service.MAX_PASSWORD_LENGTH * 2)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002
) -> Response:
    assert user.id is not None
    target = safe_next(next) or DEFAULT_LANDING
    with session_scope() as session:
        problems = staff.change_own_password(
            session, user_id=user.id, current=current, new=new, repeated=repeated, request=request
        )
    if problems:
        errors = {problem.field: problem.text(_) for problem in problems}
        return _password_page(request, user, next_path=target, errors=errors, status_code=422)
    user.password_temporary = False  # this request's copy: the page and its menu show the new state
    return _password_page(request, user, next_path=target, changed=True)


# --- a forgotten password ------------------------------------------------------------------

FORGOT_PATH = "/losenord/glomt"
# Every request for a link is answered after at least this long, whether an account has the
# address (a token is stored and a mail queued) or not (nothing is), so the time tells nothing.
RESET_ANSWER_SECONDS = 0.5


def _site_url(request: Request) -> str:
    """The address the link in the mail starts with: CONSULT_BASE_URL (as for the remiss links),
    else the address the request came to."""
    return (os.environ.get("CONSULT_BASE_URL") or str(request.base_url)).rstrip("/")


def _not_stored(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _forgot_page(
    request: Request,
    *,
    email: str = "",
    errors: dict[str, str] | None = None,
    sent: bool = False,
    status_code: int = 200,
) -> Response:
    context = {"email": email, "errors": errors or {}, "sent": sent, "no_mail": SmtpSettings.from_env() is None}
    return render(request, "accounts/forgot.html", context, status_code)


@router.get(FORGOT_PATH)
def forgot_form(request: Request, skickat: Annotated[str, Query(max_length=3)] = "") -> Response:
    return _forgot_page(request, sent=bool(skickat))


def _new_link(email: str, request: Request) -> str | None:
    with session_scope() as session:
        return reset.request_link(session, email=email, request=request)


def _send_reset_mail(settings: SmtpSettings, mail) -> None:  # type: ignore[no-untyped-def]
    """After the answer is sent: whether the mail went cannot show on the page, which must read the
    same for every address. The address is not logged."""
    try:
        reset.send(settings, mail)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("a password reset mail could not be sent: %s", type(error).__name__)


@router.post(FORGOT_PATH)
async def request_reset(
    request: Request, background: BackgroundTasks, email: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    started = time.monotonic()
    settings = SmtpSettings.from_env()
    if settings is None:  # no such form without mail (as the resume link's): the page says to ask an admin
        return _forgot_page(request, email=email, status_code=404)
    try:
        address = reset.check_address(email)
    except reset.ResetProblem as problem:
        return _forgot_page(request, email=email, errors={problem.field: problem.text(_)}, status_code=422)
    verdict = reset.hit_limit(email=address, ip_hash=service.request_ip_hash(request))
    if not verdict.allowed:
        return _rate_limited(request, verdict.retry_after, reset_link=True)
    token = await run_in_threadpool(_new_link, address, request)
    if token is not None:
        link = f"{_site_url(request)}/losenord/nytt/{token}"
        mail = reset.message(settings=settings, address=address, link=link, language=current_language.get())
        background.add_task(_send_reset_mail, settings, mail)
    await anyio.sleep(max(0.0, started + RESET_ANSWER_SECONDS - time.monotonic()))
    return RedirectResponse(f"{FORGOT_PATH}?skickat=1", status_code=303)


def _reset_page(
    request: Request,
    *,
    token: str,
    state: reset.LinkState,
    email: str = "",
    errors: dict[str, str] | None = None,
    status_code: int | None = None,
) -> Response:
    """The new-password form of a valid link, or the page saying why the link does not work."""
    if status_code is None:
        status_code = {reset.LinkState.valid: 200, reset.LinkState.unknown: 404}.get(state, 410)
    context = {"token": token, "state": state.value, "email": email, "errors": errors or {}}
    response = render(request, "accounts/reset_password.html", context, status_code)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the address
    return _not_stored(response)


@router.get("/losenord/nytt/{token}")
def reset_form(request: Request, token: str) -> Response:
    with session_scope() as session:
        state, email = reset.link_account(session, token=token)
    return _reset_page(request, token=token, state=state, email=email)


@router.post("/losenord/nytt/{token}")
def reset_password_by_link(
    request: Request,
    token: str,
    new: Annotated[str, Form(max_length=service.MAX_PASSWORD_LENGTH * 2)] = "",
    repeated: Annotated[str, Form(max_length=service.MAX_PASSWORD_LENGTH * 2)] = "",
) -> Response:
    try:
        with session_scope() as session:
            problems = reset.choose_password(session, token=token, new=new, repeated=repeated, request=request)
            email = "" if not problems else reset.link_account(session, token=token)[1]
    except reset.ResetLinkInvalid as invalid:
        return _reset_page(request, token=token, state=invalid.state)
    if problems:
        errors = {problem.field: problem.text(_) for problem in problems}
        return _reset_page(request, token=token, state=reset.LinkState.valid, email=email, errors=errors,
                           status_code=422)
    request.session.clear()  # a login of this browser from before the reset has ended too
    return RedirectResponse("/login?nytt_losenord=1", status_code=303)
