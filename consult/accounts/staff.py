"""Managing staff accounts from the browser: an admin adds people, changes their role, deactivates
and reactivates them and resets passwords; everyone changes their own password. Every change is
in the audit log (never a password). No HTTP here.

A new account and a reset get a temporary password, shown once to the admin to pass on; the
account holder must replace it before anything else (deps.require_role sends them to do so). An
admin cannot deactivate or demote themselves, so the site always keeps an admin who can act.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlmodel import Session

from consult.accounts.models import Role, User
from consult.accounts.service import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    AccountError,
    create_user,
    normalise_email,
    password_hasher,
    record_audit,
    set_password,
)
from consult.core.fields import is_email, one_line
from consult.core.i18n import N_
from consult.core.problems import FieldProblem

MAX_NAME_LENGTH = 200


class StaffProblem(FieldProblem):
    """Input an account change cannot use: `field` names the form field, `message` is an English msgid."""


@dataclass(frozen=True)
class NewAccount:
    user: User
    password: str  # temporary: shown once, never stored in clear


def temporary_password() -> str:
    """16 characters from a URL-safe alphabet: about 96 bits, easy to copy, never stored in clear."""
    return secrets.token_urlsafe(12)


def add_account(
    session: Session, *, email: str, name: str, role: str, actor_id: int | None, request: Any = None
) -> NewAccount:
    name = one_line(name).strip()
    if not is_email(normalise_email(email)):
        raise StaffProblem("email", N_("Enter a valid email address."))
    if len(name) > MAX_NAME_LENGTH:
        raise StaffProblem("name", N_("Shorten the name to at most 200 characters."))
    if role not in set(Role):
        raise StaffProblem("role", N_("Choose a role."))
    password = temporary_password()
    try:
        user = create_user(session, email=email, password=password, role=role, name=name, temporary=True)
    except AccountError as error:
        raise StaffProblem("email", str(error)) from None
    record_audit(session, user_id=actor_id, action="user.create", target=f"user:{user.id}",
                 details={"role": role}, request=request)
    return NewAccount(user, password)


def _other_user(session: Session, *, user_id: int, actor_id: int | None) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise StaffProblem("user", N_("There is no such account."))
    if user.id == actor_id:
        raise StaffProblem("user", N_("You cannot change your own role or access; ask another admin."))
    return user


def _keeps_an_admin(session: Session, user: User) -> None:
    """Refuse to take away the last active admin."""
    if user.role != Role.admin or not user.active:
        return
    admins = session.execute(
        select(func.count()).select_from(User).where(User.role == Role.admin.value, User.active)
    ).scalar_one()
    if admins <= 1:
        raise StaffProblem("user", N_("This is the last active admin; make someone else admin first."))


def set_role(session: Session, *, user_id: int, role: str, actor_id: int | None, request: Any = None) -> User:
    if role not in set(Role):
        raise StaffProblem("role", N_("Choose a role."))
    user = _other_user(session, user_id=user_id, actor_id=actor_id)
    if role != user.role:
        if role != Role.admin:
            _keeps_an_admin(session, user)
        record_audit(session, user_id=actor_id, action="user.role", target=f"user:{user.id}",
                     details={"from": user.role, "to": role}, request=request)
        user.role = role
        session.add(user)
    return user


def set_active(session: Session, *, user_id: int, active: bool, actor_id: int | None, request: Any = None) -> User:
    """Deactivated people cannot log in, and their open sessions end at their next request."""
    user = _other_user(session, user_id=user_id, actor_id=actor_id)
    if active != user.active:
        if not active:
            _keeps_an_admin(session, user)
        record_audit(session, user_id=actor_id, action="user.activate" if active else "user.deactivate",
                     target=f"user:{user.id}", request=request)
        user.active = active
        session.add(user)
    return user


def reset_password(session: Session, *, user_id: int, actor_id: int | None, request: Any = None) -> NewAccount:
    user = _other_user(session, user_id=user_id, actor_id=actor_id)
    password = temporary_password()
    set_password(session, user=user, password=password, temporary=True)
    record_audit(session, user_id=actor_id, action="user.password_reset", target=f"user:{user.id}", request=request)
    return NewAccount(user, password)


def new_password_problem(
    *, new: str, repeated: str, current: str | None = None, temporary: bool = False
) -> StaffProblem | None:
    """What is wrong with a password someone chose for themselves (typed twice), or None: the
    rules of the change-password page and of a reset by e-mail. `current`: the password it
    replaces, when the person typed it."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return StaffProblem("new", N_("The password must be at least 10 characters long."))
    if len(new) > MAX_PASSWORD_LENGTH:
        return StaffProblem("new", N_("The password is too long."))
    if current is not None and new == current:
        return StaffProblem("new", N_("Choose a password of your own, not the temporary one.")
                            if temporary else N_("Choose a password other than the current one."))
    if new != repeated:
        return StaffProblem("repeated", N_("The two new passwords are not the same."))
    return None


def change_own_password(
    session: Session, *, user_id: int, current: str, new: str, repeated: str, request: Any = None
) -> list[StaffProblem]:
    """Check and set a new password; the problems, or none when it was changed."""
    user = session.get(User, user_id)
    if user is None:
        return [StaffProblem("current", N_("There is no such account."))]
    problems = []
    try:
        password_hasher.verify(user.password_hash, current[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        problems.append(StaffProblem("current", N_("The current password is wrong.")))
    problem = new_password_problem(new=new, repeated=repeated, current=current, temporary=user.password_temporary)
    if problem is not None:
        problems.append(problem)
    if problems:
        return problems
    action = "user.password_replaced" if user.password_temporary else "user.password_change"
    set_password(session, user=user, password=new)  # one's own password is never temporary
    record_audit(session, user_id=user.id, action=action, target=f"user:{user.id}", request=request)
    return []
