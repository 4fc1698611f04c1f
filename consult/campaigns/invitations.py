"""Invitation codes: a survey answered only by the people invited (a random sample from the
population register, a citizens' panel), each code good for one response, as in LimeSurvey's
tokens or the codes in a statistics office's letters. Plain functions, no HTTP.

A code is eight characters from an alphabet without look-alikes (no 0/O, 1/I/L), printed as
ABCD-EFGH: about 10^12 codes, so guessing one at the start page's rate limit is hopeless. Only a
keyed hash of each code is stored, so a copy of the database does not hand out codes, and the
codes can be downloaded once only, when they are made. A used code is marked used, never linked
to the response, so an anonymous survey stays anonymous; the response rate per mailing is what
the review team gets from it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote_plus, urlencode

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from consult.accounts.service import record_audit
from consult.campaigns.models import SurveyInvitation
from consult.config import get_settings
from consult.core.fields import is_email, one_line, safe_cell, utcnow
from consult.core.i18n import N_, gettext_for
from consult.core.mail import SmtpSettings, connect_smtp
from consult.core.problems import FieldProblem

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
MAX_PER_BATCH = 20_000
MAX_BATCH_NAME = 100
CODE_PARAMETER = "kod"  # /s/{slug}?kod=ABCD-EFGH, the personal link in a letter or e-mail
# What the start page's code field takes: room for the whole personal link, pasted in.
MAX_CODE_FIELD = 500
_CODE_IN_TEXT = re.compile(rf"\b{CODE_PARAMETER}=([^&#\s]*)", re.IGNORECASE)


class InvitationProblem(FieldProblem):
    """Input that cannot make codes: `field` names the form field, `message` is an English msgid."""


@dataclass(frozen=True)
class BatchCount:
    batch: str
    created: int
    used: int

    @property
    def rate(self) -> float:
        return self.used / self.created if self.created else 0.0


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(typed: str) -> str:
    """A code as typed or read aloud over the phone: case, spaces and dashes do not matter."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def code_from(typed: str) -> str:
    """The code in what a respondent typed or pasted into the code field: the code itself, or the
    personal link of their letter (any text holding kod=CODE), whose code is taken from it."""
    found = _CODE_IN_TEXT.search(typed)
    return unquote_plus(found.group(1)) if found else typed


def code_hash(*, survey_id: int, code: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"invitation:{survey_id}:{normalise_code(code)}".encode(), hashlib.sha256).hexdigest()


def check_batch(*, count: str, batch: str) -> tuple[int, str]:
    """The number of codes and the mailing's name from the form, or InvitationProblem."""
    name = one_line(batch).strip()
    if not name:
        raise InvitationProblem("batch", N_("Name the mailing, for example “Letter 1, March”."))
    if len(name) > MAX_BATCH_NAME:
        raise InvitationProblem("batch", N_("Shorten the name to at most 100 characters."))
    text = count.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PER_BATCH:
        raise InvitationProblem("count", N_("Write a whole number of codes from 1 to 20000."))
    return int(text), name


def create_codes(
    session: Session, *, survey_id: int, count: int, batch: str, user_id: int | None, request: object = None
) -> list[str]:
    """Make `count` new codes for the survey; the only time the codes themselves exist."""
    codes: list[str] = []
    hashes: set[str] = set()
    while len(codes) < count:
        code = new_code()
        digest = code_hash(survey_id=survey_id, code=code)
        if digest not in hashes:  # a repeat within the batch; across batches the unique index guards
            hashes.add(digest)
            codes.append(code)
    rows = [{"survey_id": survey_id, "code_hash": h, "batch": batch, "created_at": utcnow()} for h in hashes]
    session.execute(insert(SurveyInvitation), rows)
    record_audit(
        session,
        user_id=user_id,
        action="invitations.create",
        target=f"survey:{survey_id}",
        details={"batch": batch, "count": count},
        request=request,
    )
    return codes


def find(session: Session, *, survey_id: int, code: str, unused: bool = True) -> int | None:
    """The id of the survey's invitation with this code; with `unused`, only if it has not been
    used. (The API looks up used codes too: an identical resend of its response is answered as
    a duplicate, not refused.)"""
    if len(normalise_code(code)) != CODE_LENGTH:
        return None
    query = select(SurveyInvitation.id).where(
        SurveyInvitation.code_hash == code_hash(survey_id=survey_id, code=code),
        SurveyInvitation.survey_id == survey_id,
    )
    if unused:
        query = query.where(SurveyInvitation.used_at.is_(None))  # type: ignore[union-attr]
    return session.execute(query).scalar_one_or_none()


def api_error(spec_access: str, code: str | None, invitation_id: int | None, language: str) -> list[dict[str, str]]:
    """The JSON API's error for `invitation_code`, if any: required and known for surveys for
    invited people, refused by open ones."""
    if spec_access != "invitation":
        if code is None:
            return []
        message = gettext_for(language, "This survey is open to everyone: it takes no invitation code.")
        return [{"field": "invitation_code", "code": "not_allowed", "message": message}]
    if not (code or "").strip():
        return [
            {
                "field": "invitation_code",
                "code": "required",
                "message": gettext_for(language, "Enter the code from your invitation."),
            }
        ]
    if invitation_id is None:
        return [
            {
                "field": "invitation_code",
                "code": "invalid",
                "message": gettext_for(language, "This invitation code does not open this survey."),
            }
        ]
    return []


def claim(session: Session, *, invitation_id: int) -> bool:
    """Mark the invitation used, in the caller's transaction; False if it already was (another
    browser finished first with the same code)."""
    result = session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation_id, SurveyInvitation.used_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=utcnow())
    )
    return result.rowcount == 1


def batch_counts(session: Session, *, survey_id: int) -> list[BatchCount]:
    """Codes made and used per mailing, oldest mailing first."""
    rows = session.execute(
        select(
            SurveyInvitation.batch,
            func.count(),
            func.count(SurveyInvitation.used_at),
            func.min(SurveyInvitation.id),
        )
        .where(SurveyInvitation.survey_id == survey_id)
        .group_by(SurveyInvitation.batch)
        .order_by(func.min(SurveyInvitation.id))
    )
    return [BatchCount(batch, created, used) for batch, created, used, _first in rows]


def personal_link(base_url: str, slug: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/s/{slug}?{urlencode({CODE_PARAMETER: code})}"


def codes_csv(*, base_url: str, slug: str, batch: str, codes: list[str]) -> str:
    """The codes as a file for the mail merge: one row per letter, with the personal link."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["code", "link", "batch"])
    for code in codes:
        writer.writerow([code, personal_link(base_url, slug, code), safe_cell(batch)])
    return "\ufeff" + out.getvalue()  # a BOM, so Excel reads the file as UTF-8


# --- sending the codes by e-mail --------------------------------------------------------------------

MAX_ADDRESSES = 5000
_ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass
class MailOutcome:
    sent: int = 0
    failed: list[str] = field(default_factory=list)  # the addresses, shown once and never stored


def parse_addresses(text: str) -> list[str]:
    """The addresses of a pasted list (one per line, or separated by commas or semicolons), each
    once, or InvitationProblem naming the first few that are not addresses."""
    addresses = list(dict.fromkeys(a.strip().lower() for a in _ADDRESS_SEPARATORS.split(text) if a.strip()))
    if not addresses:
        raise InvitationProblem("addresses", N_("Paste at least one e-mail address."))
    if len(addresses) > MAX_ADDRESSES:
        raise InvitationProblem("addresses", N_("Send to at most 5000 addresses at a time."))
    wrong = [a for a in addresses if not is_email(a)]
    if wrong:
        listed = ", ".join(wrong[:5]) + (" …" if len(wrong) > 5 else "")
        raise InvitationProblem("addresses", N_("These are not e-mail addresses: %(addresses)s"), addresses=listed)
    return addresses


def invitation_mail(*, settings: SmtpSettings, to: str, title: str, link: str) -> EmailMessage:
    """The invitation in Swedish with an English version below: the respondent chooses the language
    on the survey's start page anyway."""
    parts = []
    for language in ("sv", "en"):
        parts.append("\n\n".join([
            gettext_for(language, "You are invited to answer the survey \u201c%(title)s\u201d.") % {"title": title},
            gettext_for(language, "Your personal link:") + "\n" + link,
            gettext_for(language, "The link gives one response. Your answers are anonymous: the link is not "
                                  "linked to them, and this address is not kept."),
        ]))
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = gettext_for("sv", "Invitation: %(title)s") % {"title": title}
    message.set_content("\n\n---\n\n".join(parts))
    return message


def send_codes(
    session: Session,
    *,
    survey_id: int,
    slug: str,
    title: str,
    base_url: str,
    addresses: list[str],
    batch: str,
    settings: SmtpSettings,
    user_id: int | None,
    request: object = None,
    connect: Callable[[SmtpSettings], smtplib.SMTP] | None = None,
) -> MailOutcome:
    """One new code per address, mailed as a personal link. The addresses are used for sending and
    then forgotten: the database keeps the codes' fingerprints and the counts, nothing that says who
    was invited. A code whose mail failed stays unused. When the mail server cannot be reached at
    all, the connection error is raised before any code is made."""
    outcome = MailOutcome()
    with (connect or connect_smtp)(settings) as smtp:
        codes = create_codes(session, survey_id=survey_id, count=len(addresses), batch=batch, user_id=user_id,
                             request=request)
        for address, code in zip(addresses, codes, strict=True):
            message = invitation_mail(settings=settings, to=address, title=title,
                                      link=personal_link(base_url, slug, code))
            try:
                smtp.send_message(message)
            except (smtplib.SMTPException, OSError):  # this address, or a dropped connection: go on
                outcome.failed.append(address)
            else:
                outcome.sent += 1
    record_audit(session, user_id=user_id, action="invitations.mail", target=f"survey:{survey_id}",
                 details={"batch": batch, "sent": outcome.sent, "failed": len(outcome.failed)}, request=request)
    return outcome
