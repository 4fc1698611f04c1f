"""Staff accounts: users, passwords (argon2), login rate limits and the audit log. No HTTP here."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from limits import RateLimitItem
from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from consult.accounts.models import AuditAction, AuditEvent, PasswordResetToken, Role, User
from consult.config import get_settings
from consult.core import ratelimit
from consult.core.fields import is_email, pick, utcnow
from consult.core.i18n import N_
from consult.core.numbers import as_whole_number
from consult.core.ratelimit import RateVerdict

# argon2id with the library's current recommended parameters. A stored hash made with other
# parameters is replaced at the next successful login (see authenticate).
password_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


class AccountError(ValueError):
    """A user could not be created or changed; the message is an English msgid for _()."""


# --- users and passwords -------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _check_new_user(*, email: str, password: str, role: str) -> None:
    if not is_email(email):
        raise AccountError(N_("Enter a valid email address."))
    if role not in {r.value for r in Role}:
        raise AccountError(N_("The role must be admin, analyst or interviewer."))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(N_("The password must be at least 10 characters long."))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(N_("The password is too long."))


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.email))))


def create_user(
    session: Session, *, email: str, password: str, role: str, name: str = "", temporary: bool = False
) -> User:
    """A new staff user. `temporary`: the password was made for them (an admin's new account), and
    they must replace it before anything else; the CLI and the demo users choose their own."""
    email = normalise_email(email)
    _check_new_user(email=email, password=password, role=role)
    if get_user_by_email(session, email) is not None:
        raise AccountError(N_("There is already a user with that email address."))
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=password_hasher.hash(password),
        password_temporary=temporary,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, *, user: User, password: str, temporary: bool = False) -> None:
    """Store a new password (argon2id). `temporary`: made by an admin, to be replaced by its holder.
    Every reset link still open for the account stops working: a link asked for before the
    change must not undo it."""
    user.password_hash = password_hasher.hash(password)
    user.password_temporary = temporary
    session.add(user)
    session.execute(
        delete(PasswordResetToken).where(
            col(PasswordResetToken.user_id) == user.id, col(PasswordResetToken.used_at).is_(None)
        )
    )


def end_sessions(session: Session, *, user: User) -> None:
    """End every login of the account: sessions that began before now are refused from their next
    request on (the session cookie keeps its login time in whole seconds)."""
    user.sessions_since = utcnow().replace(microsecond=0)
    session.add(user)


def session_ended(user: User, login_at: float) -> bool:
    """Whether a login made at `login_at` (seconds since the epoch) was ended by end_sessions."""
    since = user.sessions_since
    return since is not None and login_at < since.timestamp()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return password_hasher.hash("no user has this password")


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Costs one argon2 verification
    whether or not the user exists, so timing does not reveal which addresses have accounts."""
    if not email or not password or len(password) > MAX_PASSWORD_LENGTH:
        return None
    user = get_user_by_email(session, email)
    try:
        password_hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher.hash(password)
        session.add(user)
    return user


def record_login(session: Session, *, user: User, request: Any = None) -> None:
    user.last_login_at = utcnow()
    session.add(user)
    record_audit(session, user_id=user.id, action=AuditAction.login, request=request)


# --- demo users ----------------------------------------------------------------------------

# Documented in README: for the demo consultation only; `consult accounts-info` prints them.
DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("admin@example.se", "demo-admin-2025", Role.admin.value, "Demo Administratör"),
    ("analytiker@example.se", "demo-analytiker-2025", Role.analyst.value, "Demo Analytiker"),
    ("intervjuare@example.se", "demo-intervjuare-2025", Role.interviewer.value, "Demo Intervjuare"),
)


def ensure_demo_users(session: Session) -> list[User]:
    """Create the demo users that are missing; returns those created. Safe to run again."""
    created = []
    for email, password, role, name in DEMO_USERS:
        if get_user_by_email(session, email) is None:
            created.append(create_user(session, email=email, password=password, role=role, name=name))
    return created


def demo_logins(session: Session) -> list[tuple[str, str, str]]:
    """(email, password, role) of the demo users that exist and still have their demo password."""
    logins = []
    for email, password, _role, _name in DEMO_USERS:
        user = get_user_by_email(session, email)
        if user is None or not user.active:
            continue
        try:
            password_hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            continue
        logins.append((email, password, user.role))
    return logins


# --- login rate limit ----------------------------------------------------------------------

# A shared office address has many staff: the per-address limit is this many times the per-account one.
IP_LIMIT_FACTOR = 5
DEFAULT_LOGIN_RATE = "5/minute"


@lru_cache(maxsize=8)
def _limits_for(rate: str) -> tuple[RateLimitItem, RateLimitItem]:
    per_account = ratelimit.rate_item(rate)
    per_address = type(per_account)(per_account.amount * IP_LIMIT_FACTOR, per_account.multiples)
    return per_account, per_address


def login_rate() -> str:
    return ratelimit.configured_rate("CONSULT_LOGIN_RATE", DEFAULT_LOGIN_RATE)


def check_login_limit(*, email: str, ip_hash: str) -> RateVerdict:
    """Refuse a login attempt when the account+address or the address has failed too often."""
    for item, keys in _login_limit_keys(email=email, ip_hash=ip_hash):
        verdict = ratelimit.check(item, *keys)
        if not verdict.allowed:
            return verdict
    return RateVerdict(True)


def count_failed_login(*, email: str, ip_hash: str) -> None:
    """Only failures count: staff behind one office address who log in correctly all day are
    never held up, while guessing passwords is."""
    for item, keys in _login_limit_keys(email=email, ip_hash=ip_hash):
        ratelimit.hit(item, *keys)


def _login_limit_keys(*, email: str, ip_hash: str) -> tuple[tuple[RateLimitItem, tuple[str, ...]], ...]:
    per_account, per_address = _limits_for(login_rate())
    return (per_account, ("login", normalise_email(email), ip_hash)), (per_address, ("login-ip", ip_hash))


def reset_login_limits() -> None:
    """Forget every counted attempt (tests)."""
    ratelimit.reset()


# --- audit log -----------------------------------------------------------------------------


def hash_ip(address: str | None) -> str:
    if not address:
        return ""
    key = get_settings().secret_key.encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def request_ip_hash(request: Any) -> str:
    client = getattr(request, "client", None)
    return hash_ip(client.host if client else None)


def record_audit(
    session: Session,
    *,
    user_id: int | None,
    action: str,
    target: str = "",
    details: dict[str, Any] | None = None,
    request: Any = None,
) -> AuditEvent:
    """Add one event to the audit log, in the caller's transaction (so it is kept only if the action is)."""
    event = AuditEvent(
        user_id=user_id,
        action=str(action),
        target=target[:200],
        details=details or {},
        ip_hash=request_ip_hash(request) if request is not None else "",
    )
    session.add(event)
    session.flush()
    return event


def _audit_filters(
    *, action: str | None, user_id: int | None, since: datetime | None, until: datetime | None
) -> list[Any]:
    conditions: list[Any] = []
    if action:
        conditions.append(AuditEvent.action == action)
    if user_id is not None:
        conditions.append(AuditEvent.user_id == user_id)
    if since is not None:
        conditions.append(col(AuditEvent.at) >= since)
    if until is not None:
        conditions.append(col(AuditEvent.at) < until)
    return conditions


def list_audit(
    session: Session,
    *,
    action: str | None = None,
    user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[AuditEvent]:
    """Audit events, newest first. `until` is exclusive."""
    query = (
        select(AuditEvent)
        .where(*_audit_filters(action=action, user_id=user_id, since=since, until=until))
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(query))


def count_audit(
    session: Session,
    *,
    action: str | None = None,
    user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    query = (
        select(func.count())
        .select_from(AuditEvent)
        .where(*_audit_filters(action=action, user_id=user_id, since=since, until=until))
    )
    return session.exec(query).one()


def audit_actions(session: Session) -> list[str]:
    """Every action string in the log (other domains add their own), for the filter."""
    found = set(session.exec(select(AuditEvent.action).distinct()))
    return sorted(found | {a.value for a in AuditAction})


# --- staff navigation ----------------------------------------------------------------------


@dataclass(frozen=True)
class StaffLink:
    path: str
    label: str  # English msgid, translated where it is shown
    roles: frozenset[str]


_STAFF_LINKS: list[StaffLink] = [
    StaffLink("/personal", N_("My page"), frozenset(Role)),
    StaffLink("/intervju", N_("Interviews"), frozenset({Role.interviewer})),
    StaffLink("/admin/audit", N_("Audit log"), frozenset({Role.admin})),
    StaffLink("/admin/konton", N_("Staff accounts"), frozenset({Role.admin})),
]


def register_staff_link(path: str, label: str, roles: set[str] | frozenset[str]) -> None:
    """Let another domain add its page to the staff menu (label marked with N_())."""
    if all(link.path != path for link in _STAFF_LINKS):
        _STAFF_LINKS.append(StaffLink(path, label, frozenset(roles)))


def role_allows(user_role: str, allowed: set[str] | frozenset[str] | tuple[str, ...]) -> bool:
    """Admin may do everything; otherwise the role must be listed (an empty list means any staff)."""
    return not allowed or user_role == Role.admin or user_role in allowed


def staff_links(user: User | None) -> list[StaffLink]:
    """The pages the user's role reaches; none while the password is temporary (each would only
    lead to the change-password page)."""
    if user is None or user.password_temporary:
        return []
    return [link for link in _STAFF_LINKS if role_allows(user.role, link.roles)]


ROLE_LABELS = {
    Role.admin.value: N_("Administrator"),
    Role.analyst.value: N_("Analyst"),
    Role.interviewer.value: N_("Interviewer"),
}
ACTION_LABELS = {
    AuditAction.login.value: N_("Logged in"),
    AuditAction.login_failed.value: N_("Failed login"),
    AuditAction.login_blocked.value: N_("Login blocked (too many attempts)"),
    AuditAction.logout.value: N_("Logged out"),
    AuditAction.password_reset_requested.value: N_("Password reset link asked for by e-mail"),
    AuditAction.password_reset_done.value: N_("Password reset with a link from e-mail"),
    "response.edit": N_("Response edited"),
    "response.redact": N_("Text removed from a response"),
    "user.create": N_("Staff account added"),
    "user.role": N_("Staff account: role changed"),
    "user.activate": N_("Staff account reactivated"),
    "user.deactivate": N_("Staff account deactivated"),
    "user.password_reset": N_("Staff account: temporary password made"),
    "user.password_change": N_("Own password changed"),
    "user.password_replaced": N_("Temporary password replaced by the account holder"),
    "response.state": N_("Review state changed"),
    "export": N_("Export"),
    "import": N_("Import"),
    "survey.edit": N_("Survey edited"),
    "survey.create": N_("Survey created"),
    "survey.status": N_("Survey status changed"),
    "survey.copy": N_("Survey copied"),
    "survey.delete": N_("Survey deleted"),
    "campaign.create": N_("Campaign link created"),
    "campaign.rename": N_("Campaign link renamed"),
    "campaign.delete": N_("Campaign link removed"),
    "invitations.create": N_("Invitation codes made"),
    "invitations.mail": N_("Invitation codes sent by e-mail"),
    "weighting.save": N_("Weighting targets saved"),
    "strategy.keywords": N_("Strategy: keywords edited"),
    "cycle.phases": N_("Review phases: dates changed"),
    "cycle.create": N_("Review created"),
    "cycle.update": N_("Review: name, period or versions changed"),
    "cycle.delete": N_("Review deleted"),
    "strategy.delete": N_("Strategy: version deleted"),
    "strategy.import": N_("Strategy: version imported"),
    "organisation.name": N_("Organisation: name changed"),
    "organisation.municipalities": N_("Organisation: municipalities changed"),
    "strategy.keywords_reset": N_("Strategy: keywords back to the default list"),
    "report.actions.save": N_('Report: "what we do" edited'),
    "report.publish": N_("Report published"),
    "report.unpublish": N_("Report unpublished"),
    "remiss.organisation": N_("Consultation: organisation added"),
    "remiss.links": N_("Consultation: links downloaded"),
    "remiss.mail": N_("Consultation: invitations sent"),
    "remiss.publish": N_("Consultation: publication of an answer changed"),
    "remiss.attachment": N_("Consultation: attachment opened"),
    "themes.run.start": N_("Themes: analysis started"),
    "themes.run.cancel": N_("Themes: analysis cancelled"),
    "themes.accept": N_("Themes: candidate themes accepted"),
    "themes.rename": N_("Themes: theme renamed"),
    "themes.merge": N_("Themes: themes merged"),
    "themes.split": N_("Themes: theme split"),
    "themes.move": N_("Themes: answers moved"),
    "themes.confirm": N_("Themes: answers confirmed"),
    "themes.assign_new": N_("Themes: new answers assigned"),
    "themes.code.start": N_("Themes: assisted coding started"),
}
# The detail keys the domains write most often; others are shown as they are.
DETAIL_LABELS = {
    "format": N_("Format"),
    "raw": N_("Raw data"),
    "filters": N_("Filters"),
    "rows": N_("Rows"),
    "from": N_("From"),
    "to": N_("To"),
    "comment": N_("Comment"),
    "changed": N_("Changed"),
    "version": N_("Version"),
    "name": N_("Name"),
    "tag": N_("Tag"),
    "created": N_("Created"),
    "problems": N_("Problems"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "reminder": N_("Reminder"),
    "published": N_("Published"),
    "weighted": N_("Weighted"),
    "email_known": N_("Known address"),
    "batch": N_("Mailing"),
    "count": N_("Number"),
    "characters": N_("Characters"),
    "occurrences": N_("Places"),
    "question": N_("Question"),
    "questions": N_("Questions"),
    "pages": N_("Pages"),
    "reason": N_("Reason"),
    "file": N_("File"),
    "duplicate": N_("Already there"),
    "conflicting": N_("Conflicting"),
    "rejected": N_("Refused"),
    "design_effect": N_("Design effect"),
    "variables": N_("Variables"),
    "job": N_("Background job"),
    "from_state": N_("Earlier state"),
    "what": N_("Change"),
    "key": N_("Key"),
    "mandate_period": N_("Mandate period"),
    "via": N_("Via"),
    "sv": N_("Name in Swedish"),
    "en": N_("Name in English"),
    "kind": N_("Kind"),
    "themes": N_("Themes"),
    "label": N_("Label"),
    "labels": N_("Labels"),
    "answers": N_("Answers"),
    "automatic": N_("Automatic"),
    "into": N_("Into"),
    "random_state": N_("Random seed"),
    "replaced_reviewed": N_("Reviewed answers replaced"),
    "k": N_("Number of themes"),
    "run": N_("Run"),
    "role": N_("Role"),
    "item": N_("Part of the strategy"),
    "locked": N_("The survey had answers"),
    "changes": N_("Changes"),
    "status": N_("Status"),
    "revision": N_("Revision"),
}
# Codes the domains write as values (statuses, review states); others are shown as they are.
DETAIL_VALUE_LABELS = {
    "draft": N_("Draft"),
    "open": N_("Open"),
    "closed": N_("Closed"),
    "received": N_("received"),
    "has_issues": N_("has issues"),
    "edited": N_("edited"),
    "approved": N_("approved"),
    "admin": N_("Administrator"),
    "analyst": N_("Analyst"),
    "interviewer": N_("Interviewer"),
    # What a survey edit changed (the "what" of survey.edit)
    "settings": N_("settings"),
    "question": N_("question"),
    "page title": N_("page title"),
    "add page": N_("page added"),
    "delete page": N_("page removed"),
    "delete question": N_("question removed"),
    "move page": N_("page moved"),
    "move question": N_("question moved"),
}


def describe_details(details: Mapping[str, Any] | None, translate: Callable[[str], str]) -> str:
    """An audit event's details as staff read them: labelled, without Python's notation
    (True, {}, [...]); empty values are left out."""
    parts = []
    for key, value in sorted((details or {}).items()):
        text = _detail_value(value, translate)
        if text:
            label = translate(DETAIL_LABELS[key]) if key in DETAIL_LABELS else key
            parts.append(f"{label}: {text}")
    return "; ".join(parts)


def _detail_value(value: Any, translate: Callable[[str], str]) -> str:
    if isinstance(value, bool):
        return translate("yes") if value else translate("no")
    if value is None:
        return ""
    if isinstance(value, Mapping) and set(value) == {"where", "old", "new"}:  # one change: from what to what
        before, after = _detail_value(value["old"], translate) or "–", _detail_value(value["new"], translate) or "–"
        return f"{value['where']}: {before} → {after}"
    if isinstance(value, Mapping):
        pairs = ((key, _detail_value(item, translate)) for key, item in value.items())
        return ", ".join(f"{key}={text}" for key, text in pairs if text)
    if isinstance(value, list | tuple | set):
        return ", ".join(text for text in (_detail_value(item, translate) for item in value) if text)
    if isinstance(value, str) and value in DETAIL_VALUE_LABELS:
        return translate(DETAIL_VALUE_LABELS[value])
    return str(value)


# --- audit subjects ------------------------------------------------------------------------
# An event's target is a reference such as "survey:3", "remiss:rus-2025" or (from the authoring
# pages) a bare survey slug. The log shows what it refers to; the domains' tables are read here
# because the accounts package has no registry the domains fill (they only call record_audit).

SUBJECT_LABELS = {
    "survey": N_("Survey: %(name)s"),
    "question": N_("Question: %(question)s (%(survey)s)"),
    "response": N_("Response #%(id)s (%(survey)s)"),
    "remiss": N_("Consultation: %(name)s"),
    "remiss_answer": N_("Consultation answer from %(organisation)s (%(round)s)"),
    "cycle": N_("Review cycle: %(name)s"),
}
SUBJECT_TEXT_LIMIT = 80  # a question's text can be a paragraph; the log shows its start
SubjectNamer = Callable[[Session, set[str], str, Callable[[str], str]], dict[str, str]]


def _split_target(target: str) -> tuple[str, str]:
    """("survey", "3") for "survey:3"; a bare reference is a survey slug (the authoring pages write those)."""
    kind, separator, key = target.partition(":")
    return (kind, key) if separator else ("survey", target)


def _ids(keys: set[str]) -> set[int]:
    return {n for n in (as_whole_number(key, 18) for key in keys) if n is not None}


def _short(text: str) -> str:
    return text if len(text) <= SUBJECT_TEXT_LIMIT else text[: SUBJECT_TEXT_LIMIT - 1].rstrip() + "…"


def _survey_names(session: Session, keys: set[str], language: str, translate: Callable[[str], str]) -> dict[str, str]:
    from consult.surveys.models import Survey

    query = select(Survey.id, Survey.slug, Survey.title).where(
        or_(col(Survey.id).in_(_ids(keys)), col(Survey.slug).in_(keys))
    )
    names: dict[str, str] = {}
    for survey_id, slug, title in session.exec(query):
        text = translate(SUBJECT_LABELS["survey"]) % {"name": pick(title, language) or slug}
        names[str(survey_id)] = names[slug] = text  # events name a survey by its id or by its slug
    return names


def _question_names(session: Session, keys: set[str], language: str, translate: Callable[[str], str]) -> dict[str, str]:
    from consult.surveys.models import Question, Survey

    query = (
        select(Question.id, Question.text, Survey.title)
        .join(Survey, col(Survey.id) == col(Question.survey_id))
        .where(col(Question.id).in_(_ids(keys)))
    )
    label = translate(SUBJECT_LABELS["question"])
    return {
        str(question_id): label % {"question": _short(pick(text, language)), "survey": pick(title, language)}
        for question_id, text, title in session.exec(query)
    }


def _response_names(session: Session, keys: set[str], language: str, translate: Callable[[str], str]) -> dict[str, str]:
    from consult.responses.models import Response
    from consult.surveys.models import Survey

    query = (
        select(Response.id, Survey.title)
        .join(Survey, col(Survey.id) == col(Response.survey_id))
        .where(col(Response.id).in_(_ids(keys)))
    )
    label = translate(SUBJECT_LABELS["response"])
    return {str(response_id): label % {"id": response_id, "survey": pick(title, language)}
            for response_id, title in session.exec(query)}


def _remiss_names(session: Session, keys: set[str], language: str, translate: Callable[[str], str]) -> dict[str, str]:
    from consult.remiss.models import RemissRound

    query = select(RemissRound.key, RemissRound.title).where(col(RemissRound.key).in_(keys))
    label = translate(SUBJECT_LABELS["remiss"])
    return {key: label % {"name": pick(title, language) or key} for key, title in session.exec(query)}


def _remiss_answer_names(
    session: Session, keys: set[str], language: str, translate: Callable[[str], str]
) -> dict[str, str]:
    from consult.remiss.models import Organisation, RemissAnswer, RemissInvitation, RemissRound

    query = (
        select(RemissAnswer.id, Organisation.name, RemissRound.title)
        .join(RemissInvitation, col(RemissInvitation.id) == col(RemissAnswer.invitation_id))
        .join(Organisation, col(Organisation.id) == col(RemissInvitation.organisation_id))
        .join(RemissRound, col(RemissRound.id) == col(RemissAnswer.round_id))
        .where(col(RemissAnswer.id).in_(_ids(keys)))
    )
    label = translate(SUBJECT_LABELS["remiss_answer"])
    return {str(answer_id): label % {"organisation": name, "round": pick(title, language)}
            for answer_id, name, title in session.exec(query)}


def _cycle_names(session: Session, keys: set[str], language: str, translate: Callable[[str], str]) -> dict[str, str]:
    from consult.strategy.models import ReviewCycle

    query = select(ReviewCycle.key, ReviewCycle.name).where(col(ReviewCycle.key).in_(keys))
    label = translate(SUBJECT_LABELS["cycle"])
    return {key: label % {"name": pick(name, language) or key} for key, name in session.exec(query)}


def _user_names(session: Session, keys: set[str], language: str, translate: Callable[[str], str]) -> dict[str, str]:
    query = select(User.id, User.email).where(col(User.id).in_(_ids(keys)))
    return {str(user_id): email for user_id, email in session.exec(query)}


SUBJECT_NAMERS: dict[str, SubjectNamer] = {
    "survey": _survey_names,
    "question": _question_names,
    "response": _response_names,
    "remiss": _remiss_names,
    "remiss_answer": _remiss_answer_names,
    "cycle": _cycle_names,
    "user": _user_names,
}


def audit_subjects(
    session: Session, targets: Iterable[str], *, language: str, translate: Callable[[str], str]
) -> dict[str, str]:
    """What the events' targets refer to, as staff read it ("Enkät: Västernorrland 2030"), by target.
    One query per kind of reference on the page. A target of an unknown kind, or whose thing no
    longer exists, is left out: the page shows it as it was recorded."""
    parsed = {target: _split_target(target) for target in set(targets)}
    keys_by_kind: dict[str, set[str]] = {}
    for kind, key in parsed.values():
        if key and kind in SUBJECT_NAMERS:
            keys_by_kind.setdefault(kind, set()).add(key)
    names = {kind: SUBJECT_NAMERS[kind](session, keys, language, translate) for kind, keys in keys_by_kind.items()}
    return {target: names[kind][key] for target, (kind, key) in parsed.items() if key in names.get(kind, {})}
