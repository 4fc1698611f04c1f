"""Login, logout, the staff landing page and the audit log page. The logic is in service.py."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from consult.accounts import service, staff
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
from consult.core.numbers import as_whole_number
from consult.core.routing import RowId
from consult.core.templating import paging, render
from consult.db import session_scope

router = APIRouter(include_in_schema=False)

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
) -> Response:
    target = safe_next(next) or DEFAULT_LANDING
    if current_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    notice = None
    if expired:
        notice = _("Your login has expired. Log in again to continue.")
    elif logged_out:
        notice = _("You have logged out.")
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


def _rate_limited(request: Request, retry_after: int) -> Response:
    until = datetime.now(LOCAL_TIME) + timedelta(seconds=retry_after)
    context = {"retry_after": retry_after, "until": until.strftime("%H:%M:%S")}
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
