"""Staff who forgot their password choose a new one through a link sent to their e-mail address.
No HTTP here.

Asking for a link answers the same whether or not the address has an account (the routes send
the mail after the answer and make every answer take as long), so the form cannot be used to find
out who works here. A link works once, for an hour, and only the newest one of an account works;
the token is only in the mail, the table keeps its SHA-256. Choosing the new password follows the
change-password page's rules, ends the account's logins everywhere and is in the audit log (never
the token or the password).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from functools import lru_cache
from typing import Any

from limits import RateLimitItem
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from consult.accounts.models import AuditAction, PasswordResetToken, User
from consult.accounts.service import (
    end_sessions,
    get_user_by_email,
    normalise_email,
    record_audit,
    set_password,
)
from consult.accounts.staff import StaffProblem, new_password_problem
from consult.core import ratelimit
from consult.core.fields import MAX_EMAIL_LENGTH, is_email, utcnow
from consult.core.i18n import N_, gettext_for
from consult.core.mail import SmtpSettings, connect_smtp
from consult.core.ratelimit import RateVerdict

LINK_LIFETIME = timedelta(hours=1)
# Used and expired links are kept this long, so that a link opened again says it was used or has
# expired rather than that it is unknown; then they are deleted.
KEEP_OLD_LINKS = timedelta(days=7)
TOKEN_BYTES = 32  # 256 bits, 43 URL-safe characters
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{40,64}$")

# Per address: a person asks once or twice an hour; more is someone filling a colleague's inbox.
# Per client (a shared office address has many staff) this many times as many.
DEFAULT_RESET_RATE = "3/hour"
CLIENT_LIMIT_FACTOR = 5


class LinkState(StrEnum):
    valid = "valid"
    expired = "expired"
    used = "used"
    unknown = "unknown"


class ResetLinkInvalid(Exception):  # noqa: N818 - it says what the link is
    """The link cannot be used (expired, used or unknown): the page says which and offers a new one."""

    def __init__(self, state: LinkState) -> None:
        super().__init__(state.value)
        self.state = state


class ResetProblem(StaffProblem):
    """Input the request form cannot use: `field` names the form field, `message` is an English msgid."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_address(raw: str) -> str:
    """The address typed in the request form, or a problem to show beside the field."""
    address = normalise_email(raw)
    if not address:
        raise ResetProblem("email", N_("Enter your email address."))
    if len(address) > MAX_EMAIL_LENGTH or not is_email(address):
        raise ResetProblem("email", N_("Enter an e-mail address like namn@exempel.se."))
    return address


# --- rate limit ----------------------------------------------------------------------------


def reset_rate() -> str:
    return ratelimit.configured_rate("CONSULT_PASSWORD_RESET_RATE", DEFAULT_RESET_RATE)


@lru_cache(maxsize=8)
def _limits_for(rate: str) -> tuple[RateLimitItem, RateLimitItem]:
    per_address = ratelimit.rate_item(rate)
    per_client = type(per_address)(per_address.amount * CLIENT_LIMIT_FACTOR, per_address.multiples)
    return per_address, per_client


def hit_limit(*, email: str, ip_hash: str) -> RateVerdict:
    """Count one request for a link, for the address and for the client; refuse it when either has
    asked too often. Addresses without an account count the same, so the limit tells nothing."""
    per_address, per_client = _limits_for(reset_rate())
    limits = ((per_address, ("password-reset", normalise_email(email))), (per_client, ("password-reset-ip", ip_hash)))
    for item, keys in limits:
        verdict = ratelimit.check(item, *keys)
        if not verdict.allowed:
            return verdict
    for item, keys in limits:
        ratelimit.hit(item, *keys)
    return RateVerdict(True)


# --- asking for a link ---------------------------------------------------------------------


def request_link(session: Session, *, email: str, request: Any = None, now: datetime | None = None) -> str | None:
    """A new link's token for the active account with this address, or None (no such account, or
    it is deactivated: no mail). The account's earlier unused links stop working."""
    now = now or utcnow()
    session.execute(delete(PasswordResetToken).where(col(PasswordResetToken.expires_at) < now - KEEP_OLD_LINKS))
    user = get_user_by_email(session, email)
    if user is None:
        return None
    assert user.id is not None
    record_audit(session, user_id=user.id, action=AuditAction.password_reset_requested, target=f"user:{user.id}",
                 details={"sent": user.active}, request=request)
    if not user.active:
        return None
    session.execute(
        delete(PasswordResetToken).where(
            col(PasswordResetToken.user_id) == user.id, col(PasswordResetToken.used_at).is_(None)
        )
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(PasswordResetToken(user_id=user.id, token_hash=token_hash(token), expires_at=now + LINK_LIFETIME))
    session.flush()
    return token


def link_account(session: Session, *, token: str, now: datetime | None = None) -> tuple[LinkState, str]:
    """Whether the link can be used, and (when it can) the address of its account."""
    state, row = _find(session, token=token, now=now)
    if state is not LinkState.valid or row is None:
        return state, ""
    user = session.get(User, row.user_id)
    return state, user.email if user is not None else ""


def _find(session: Session, *, token: str, now: datetime | None = None) -> tuple[LinkState, PasswordResetToken | None]:
    if not TOKEN_SHAPE.match(token):
        return LinkState.unknown, None
    row = session.exec(select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))).first()
    if row is None:
        return LinkState.unknown, None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return LinkState.unknown, None
    if row.used_at is not None:
        return LinkState.used, row
    assert row.expires_at is not None
    if row.expires_at <= (now or utcnow()):
        return LinkState.expired, row
    return LinkState.valid, row


# --- choosing the new password -------------------------------------------------------------


def choose_password(
    session: Session, *, token: str, new: str, repeated: str, request: Any = None, now: datetime | None = None
) -> list[StaffProblem]:
    """Set the account's new password from a valid link: the problems to show beside the fields,
    or none when it is set. Raises ResetLinkInvalid for a link that cannot be used. The link is
    used up, every other link of the account stops working, the password is no longer temporary
    and every login of the account ends."""
    now = now or utcnow()
    state, row = _find(session, token=token, now=now)
    if state is not LinkState.valid or row is None:
        raise ResetLinkInvalid(state)
    problem = new_password_problem(new=new, repeated=repeated)
    if problem is not None:
        return [problem]
    # Used up in one statement: of two posts of the same link, only one gets through.
    taken = session.execute(
        update(PasswordResetToken)
        .where(col(PasswordResetToken.id) == row.id, col(PasswordResetToken.used_at).is_(None))
        .values(used_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ResetLinkInvalid(LinkState.used)
    user = session.get(User, row.user_id)
    assert user is not None and user.id is not None
    set_password(session, user=user, password=new)
    end_sessions(session, user=user)
    record_audit(session, user_id=user.id, action=AuditAction.password_reset_done, target=f"user:{user.id}",
                 request=request)
    return []


# --- the mail ------------------------------------------------------------------------------

INTRO_TEXT = N_("Someone, most likely you, asked to choose a new password for the staff account %(email)s.")
LINK_TEXT = N_("Open this link within an hour to choose a new password. The link works once:")
IGNORE_TEXT = N_("If you did not ask for this, you can ignore this message: your password stays as it is.")


def message(*, settings: SmtpSettings, address: str, link: str, language: str) -> EmailMessage:
    def t(text: str) -> str:
        return gettext_for(language, text)

    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = address
    mail["Subject"] = t(N_("Choose a new password"))
    mail.set_content("\n\n".join([t(INTRO_TEXT) % {"email": address}, t(LINK_TEXT), link, t(IGNORE_TEXT)]))
    return mail


def send(settings: SmtpSettings, mail: EmailMessage) -> None:
    """Raises OSError or smtplib.SMTPException when the mail server cannot take it."""
    with connect_smtp(settings) as smtp:
        smtp.send_message(mail)
