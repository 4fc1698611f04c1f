"""The remiss without HTTP: the draft as sections, organisations and their personal links,
invitations by e-mail, answers (draft, version check, submit, late marking), PDF attachments,
publication, and the review team's counts, comment lists and exports.

Personal links. A link is /r/{token}, the token being HMAC-SHA256(secret key, "remiss-link:" +
nonce) cut to 192 bits. The database keeps the random nonce and the token's SHA-256, never the
token: a copy of the database alone opens no answer form, while the server (which has the secret
key) can rebuild every link whenever the admin downloads the list or a reminder is mailed. A new
nonce makes a new link and kills the old one. Changing the secret key kills every link.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
import smtplib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import yaml
from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from consult.config import get_settings
from consult.core.fields import is_email, pick, safe_cell, utcnow
from consult.core.formatting import LOCAL_TIME, local, local_stamp, swedish_sort_key
from consult.core.i18n import DEFAULT_LANGUAGE, N_, gettext_for
from consult.core.mail import SmtpSettings, connect_smtp
from consult.organisation.service import organisation_name
from consult.remiss.models import (
    AnswerStatus,
    CommentTarget,
    Organisation,
    Position,
    RemissAnswer,
    RemissComment,
    RemissInvitation,
    RemissPosition,
    RemissRound,
)
from consult.strategy.models import ItemKind, StrategyItem, StrategyVersion

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "remiss_draft.yaml"
TOKEN_BYTES = 24  # 192 bits
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_COMMENT_LENGTH = 10_000
MAX_QUOTE_LENGTH = 2_000
MAX_CSV_ROWS = 5_000

POSITION_LABELS = {
    Position.agree.value: N_("Agree"),
    Position.partly.value: N_("Partly agree"),
    Position.disagree.value: N_("Do not agree"),
    Position.abstain.value: N_("Abstain"),
}


class RemissError(ValueError):
    """A refused action; the message is an English msgid for _(), params fill its placeholders."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def in_local_time(value: datetime | None) -> datetime | None:
    """A remiss time as given: one without a zone (typed by staff, written in the fixture) is Swedish
    time. The timestamp columns store it in UTC (consult.core.fields.UtcDateTime)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=LOCAL_TIME)


# --- the draft as sections -------------------------------------------------------------------


@dataclass(frozen=True)
class DraftSection:
    key: str
    kind: str
    title: dict[str, str]
    text: dict[str, str]  # prose; empty for goal areas and priorities
    depth: int  # 0 for top-level parts, 1 for what is inside a goal area
    context: dict[str, str] = field(default_factory=dict)  # the goal area's short name, for prose inside one

    def label(self, language: str) -> str:
        """The title, with its goal area in front where several parts share a title."""
        title = pick(self.title, language)
        return f"{pick(self.context, language)}: {title}" if self.context else title

    def anchor_text(self, language: str) -> str:
        """The text a passage can be selected in: the prose, or the title where there is none."""
        return pick(self.text, language) or pick(self.title, language)

    def anchor_language(self, language: str) -> str:
        """The language the anchor text is actually in (prose may exist in Swedish only)."""
        source = self.text or self.title
        return language if source.get(language) else "sv"


@dataclass(frozen=True)
class Draft:
    version_id: int
    sections: tuple[DraftSection, ...]

    @property
    def by_key(self) -> dict[str, DraftSection]:
        return {s.key: s for s in self.sections}

    @property
    def priorities(self) -> list[DraftSection]:
        return [s for s in self.sections if s.kind == ItemKind.priority]

    @property
    def principles(self) -> list[DraftSection]:
        return [s for s in self.sections if s.kind == ItemKind.principle]


def load_draft(session: Session, *, version_id: int) -> Draft:
    """The version's items in document order: each top-level part followed by its children."""
    rows = list(session.exec(select(StrategyItem).where(StrategyItem.version_id == version_id)))
    children: dict[int | None, list[StrategyItem]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    ordered: list[DraftSection] = []

    def add(parent: StrategyItem | None, depth: int) -> None:
        for item in sorted(children.get(parent.id if parent else None, []), key=lambda i: (i.position, i.id or 0)):
            text = item.description if item.kind in (ItemKind.section, ItemKind.principle) else None
            context = (parent.description or parent.title) if parent and item.kind == ItemKind.section else {}
            ordered.append(DraftSection(item.key, item.kind, item.title or {}, text or {}, depth, context or {}))
            add(item, depth + 1)

    add(None, 0)
    return Draft(version_id=version_id, sections=tuple(ordered))


def read_draft_fixture(path: Path = FIXTURE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def ensure_draft_sections(session: Session, *, version: StrategyVersion, fixture: dict[str, Any]) -> int:
    """Add the fixture's prose sections to the version and prose to its principles; returns how
    many sections were added. Sections already there are left as they are."""
    assert version.id is not None
    existing = {i.key: i for i in session.exec(select(StrategyItem).where(StrategyItem.version_id == version.id))}
    added = 0
    for spec in fixture["sections"]:
        if spec["key"] in existing:
            continue
        parent = existing.get(spec["parent"]) if spec.get("parent") else None
        item = StrategyItem(
            version_id=version.id,
            parent_id=parent.id if parent else None,
            kind=ItemKind.section,
            key=spec["key"],
            position=int(spec["position"]),
            title=spec["title"],
            description=spec["text"],
        )
        session.add(item)
        existing[item.key] = item
        added += 1
    for key, text in (fixture.get("principles") or {}).items():
        principle = existing.get(key)
        if principle is not None and not principle.description:
            principle.description = text
            session.add(principle)
    session.flush()
    return added


# --- rounds ----------------------------------------------------------------------------------


def round_by_key(session: Session, *, key: str) -> RemissRound | None:
    if len(key) > 64:
        return None
    return session.exec(select(RemissRound).where(RemissRound.key == key)).first()


def list_rounds(session: Session) -> list[RemissRound]:
    return list(session.exec(select(RemissRound).order_by(col(RemissRound.deadline).desc())))


def opened_rounds(session: Session, *, now: datetime | None = None) -> list[RemissRound]:
    """The rounds that have opened, newest deadline first: the front page links to their public pages."""
    now = now or utcnow()
    return [r for r in list_rounds(session) if r.opens_at is None or (as_utc(r.opens_at) or now) <= now]


def create_round(
    session: Session,
    *,
    key: str,
    version_id: int,
    title: dict[str, str],
    deadline: datetime,
    intro: dict[str, str] | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    cycle_id: int | None = None,
) -> RemissRound:
    remiss_round = RemissRound(
        key=key,
        version_id=version_id,
        cycle_id=cycle_id,
        title=title,
        intro=intro,
        opens_at=in_local_time(opens_at),
        deadline=in_local_time(deadline),
        closes_at=in_local_time(closes_at),
    )
    session.add(remiss_round)
    session.flush()
    return remiss_round


def is_closed(remiss_round: RemissRound, now: datetime | None = None) -> bool:
    closes = as_utc(remiss_round.closes_at)
    return closes is not None and (now or utcnow()) > closes


# --- personal links --------------------------------------------------------------------------


def link_token(nonce: str) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"remiss-link:{nonce}".encode(), hashlib.sha256).digest()
    return _b64(digest[:TOKEN_BYTES])


def _b64(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link(invitation: RemissInvitation) -> str:
    """Give the invitation a fresh link (the previous one stops working); returns the token."""
    invitation.token_nonce = secrets.token_hex(16)
    token = link_token(invitation.token_nonce)
    invitation.token_hash = token_hash(token)
    return token


@dataclass(frozen=True)
class LinkContext:
    invitation: RemissInvitation
    organisation: Organisation
    remiss_round: RemissRound
    answer: RemissAnswer


TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def context_for_token(session: Session, *, token: str) -> LinkContext | None:
    """The invitation behind a personal link, or None for a link that does not exist."""
    if not TOKEN_SHAPE.match(token):
        return None
    invitation = session.exec(select(RemissInvitation).where(RemissInvitation.token_hash == token_hash(token))).first()
    if invitation is None:
        return None
    organisation = session.get(Organisation, invitation.organisation_id)
    remiss_round = session.get(RemissRound, invitation.round_id)
    answer = session.exec(select(RemissAnswer).where(RemissAnswer.invitation_id == invitation.id)).first()
    assert organisation is not None and remiss_round is not None and answer is not None
    return LinkContext(invitation, organisation, remiss_round, answer)


# --- organisations ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def actor_types() -> tuple[str, ...]:
    """The actor types of the strategy (from the demo fixture, which copies the seed)."""
    from consult.demo.service import read_fixture

    return tuple(read_fixture()["actor_types"])


# The actor types are stored as the strategy names them, in Swedish; the English interface shows
# these names instead (the Swedish catalogue gives the stored names back).
ACTOR_TYPE_NAMES = {
    "Region": N_("Region"),
    "Kommun": N_("Municipality"),
    "Länsstyrelse": N_("County administrative board"),
    "Statlig myndighet": N_("Government agency"),
    "Universitet eller högskola": N_("University or college"),
    "Forskningsinstitut": N_("Research institute"),
    "Innovationsfrämjande aktör": N_("Innovation support organisation"),
    "Näringsliv": N_("Business"),
    "Civilsamhälle": N_("Civil society"),
    "Leader-område": N_("Leader area"),
    "Finansiär": N_("Funder"),
    "Annan organisation": N_("Other organisation"),
}


def actor_type_name(value: str | None, language: str) -> str:
    """An actor type in the reader's language; a type the strategy does not list is shown as stored."""
    if not value:
        return ""
    msgid = ACTOR_TYPE_NAMES.get(value)
    return gettext_for(language, msgid) if msgid else value


def _canonical_actor_type(value: str) -> str | None:
    wanted = value.strip().casefold()
    return next((t for t in actor_types() if t.casefold() == wanted), None)


def check_organisation(*, name: str, actor_type: str, area: str, email: str) -> list[tuple[str, str]]:
    """(field, msgid) for each problem with an organisation's details."""
    problems = []
    if not name.strip():
        problems.append(("name", N_("Enter the organisation's name.")))
    elif len(name.strip()) > 200:
        problems.append(("name", N_("The name is too long (at most 200 characters).")))
    if _canonical_actor_type(actor_type) is None:
        problems.append(("actor_type", N_("Choose one of the actor types.")))
    if len(area.strip()) > 200:
        problems.append(("area", N_("The area is too long (at most 200 characters).")))
    if not is_email(email.strip()):
        problems.append(("email", N_("Enter a valid e-mail address.")))
    return problems


def register_organisation(
    session: Session, *, remiss_round: RemissRound, name: str, actor_type: str, area: str, email: str
) -> tuple[RemissInvitation, str]:
    """Register the organisation (or find it by name) and invite it to the round; returns the
    invitation and its link token. Raises RemissError when it is already invited."""
    problems = check_organisation(name=name, actor_type=actor_type, area=area, email=email)
    if problems:
        raise RemissError(problems[0][1])
    organisation = session.exec(select(Organisation).where(Organisation.name == name.strip())).first()
    if organisation is None:
        organisation = Organisation(
            name=name.strip(),
            actor_type=_canonical_actor_type(actor_type) or actor_type,
            area=area.strip(),
            email=email.strip().lower(),
        )
        session.add(organisation)
        session.flush()
    elif invitation_for(session, round_id=remiss_round.id, organisation_id=organisation.id) is not None:
        raise RemissError(N_("%(name)s is already registered for this consultation."), name=organisation.name)
    assert remiss_round.id is not None and organisation.id is not None
    invitation = RemissInvitation(
        round_id=remiss_round.id, organisation_id=organisation.id, token_nonce="", token_hash=""
    )
    token = new_link(invitation)
    session.add(invitation)
    session.flush()
    assert invitation.id is not None
    session.add(RemissAnswer(round_id=remiss_round.id, invitation_id=invitation.id, content={}))
    session.flush()
    return invitation, token


def invitation_for(session: Session, *, round_id: int | None, organisation_id: int | None) -> RemissInvitation | None:
    return session.exec(
        select(RemissInvitation).where(
            RemissInvitation.round_id == round_id, RemissInvitation.organisation_id == organisation_id
        )
    ).first()


@dataclass
class RowProblem:
    line: int
    message: str  # msgid
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


HEADER_ALIASES = {
    "name": {"name", "namn", "organisation", "organization", "organisationens namn"},
    "actor_type": {"actor_type", "actor type", "aktörstyp", "aktorstyp", "typ av aktör", "typ"},
    "area": {"area", "område", "omrade", "kommun", "municipality", "kommun/område"},
    "email": {"email", "e-mail", "e-post", "epost", "mejl", "kontakt"},
}


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _header_map(header: list[str]) -> dict[str, int]:
    found = {}
    for index, name in enumerate(header):
        cleaned = name.strip().casefold()
        for field_name, aliases in HEADER_ALIASES.items():
            if cleaned in aliases and field_name not in found:
                found[field_name] = index
    return found


def import_organisations_csv(session: Session, *, remiss_round: RemissRound, data: bytes) -> ImportResult:
    """Register every good row of a CSV file (columns name, actor type, area, e-mail, with a
    header row in Swedish or English, separated by commas or semicolons); report the bad rows."""
    result = ImportResult()
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        result.problems.append(RowProblem(0, N_("The file is empty.")))
        return result
    columns = _header_map(rows[0])
    missing = [name for name in ("name", "actor_type", "email") if name not in columns]
    if missing:
        result.problems.append(
            RowProblem(1, N_("The first row must name the columns: name, actor type, area and e-mail."))
        )
        return result
    if len(rows) - 1 > MAX_CSV_ROWS:
        result.problems.append(RowProblem(0, N_("The file has too many rows (at most %(n)s)."), {"n": MAX_CSV_ROWS}))
        return result
    seen: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {name: (row[i].strip() if i < len(row) else "") for name, i in columns.items()}
        values.setdefault("area", "")
        problems = check_organisation(**values)
        if problems:
            result.problems.append(RowProblem(line, problems[0][1], {"value": values.get(problems[0][0], "")}))
            continue
        if values["name"].casefold() in seen:
            result.problems.append(RowProblem(line, N_("The organisation appears twice in the file.")))
            continue
        seen.add(values["name"].casefold())
        try:
            with session.begin_nested():
                register_organisation(session, remiss_round=remiss_round, **values)
        except RemissError as exc:
            result.problems.append(RowProblem(line, exc.message, exc.params))
            continue
        result.created.append(values["name"])
    return result


@dataclass(frozen=True)
class InvitationRow:
    invitation: RemissInvitation
    organisation: Organisation
    answer: RemissAnswer


def invitation_rows(session: Session, *, round_id: int) -> list[InvitationRow]:
    query = (
        select(RemissInvitation, Organisation, RemissAnswer)
        .join(Organisation, col(Organisation.id) == RemissInvitation.organisation_id)
        .join(RemissAnswer, col(RemissAnswer.invitation_id) == RemissInvitation.id)
        .where(RemissInvitation.round_id == round_id)
    )
    rows = [InvitationRow(i, o, a) for i, o, a in session.exec(query)]
    return sorted(rows, key=lambda row: swedish_sort_key(row.organisation.name))


def link_url(base_url: str, invitation: RemissInvitation) -> str:
    return f"{base_url.rstrip('/')}/r/{link_token(invitation.token_nonce)}"


ANSWER_STATE_NAMES = {"submitted": N_("Submitted"), "draft": N_("Draft"), "not_started": N_("Not started")}


def answer_state(answer: RemissAnswer) -> str:
    """submitted, draft or not_started: an answer nobody has saved yet is stored as a draft of version 0."""
    if answer.status == AnswerStatus.submitted:
        return "submitted"
    return "draft" if answer.version else "not_started"


# The links file's columns, in the admin's language. The first four are names the organisation
# import understands (HEADER_ALIASES), so a downloaded file can be imported into another round.
LINKS_COLUMNS = (N_("Organisation"), N_("Actor type"), N_("Area"), N_("E-mail"), N_("Link"), N_("Status"))


def links_csv(session: Session, *, round_id: int, base_url: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The personal links of every organisation in the round, for the admin to send themselves."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([gettext_for(language, column) for column in LINKS_COLUMNS])
    for row in invitation_rows(session, round_id=round_id):
        o = row.organisation
        writer.writerow(
            [
                safe_cell(o.name),
                safe_cell(o.actor_type),  # as stored: the organisation import reads the file back
                safe_cell(o.area),
                safe_cell(o.email),
                link_url(base_url, row.invitation),
                gettext_for(language, ANSWER_STATE_NAMES[answer_state(row.answer)]),
            ]
        )
    return "\ufeff" + out.getvalue()


# --- e-mail ----------------------------------------------------------------------------------


def format_date(value: datetime | None, language: str) -> str:
    from babel.dates import format_datetime

    return format_datetime(local(value), "d MMMM y HH:mm", locale=language) if value else ""


def invitation_message(
    *, settings: SmtpSettings, remiss_round: RemissRound, organisation: Organisation, link: str, reminder: bool
) -> EmailMessage:
    language = "sv"
    title = pick(remiss_round.title, language)
    params = {
        "organisation": organisation.name,
        "title": title,
        "link": link,
        "deadline": format_date(remiss_round.deadline, language),
    }
    if reminder:
        subject = gettext_for(language, "Reminder: %(title)s") % params
        intro = (
            gettext_for(
                language, 'This is a reminder: %(organisation)s has not yet submitted its answer to "%(title)s".'
            )
            % params
        )
    else:
        subject = gettext_for(language, "Consultation: %(title)s") % params
        intro = gettext_for(language, '%(organisation)s is invited to answer the consultation "%(title)s".') % params
    body = "\n\n".join(
        [
            intro,
            gettext_for(language, "Answer through your organisation's personal link:") + "\n" + link,
            gettext_for(
                language,
                "The deadline is %(deadline)s. Everyone in your organisation who has the link can work on the "
                "answer: save it as a draft and come back through the same link. Do not share the link outside "
                "your organisation.",
            )
            % params,
            *([sender] if (sender := organisation_name(language)) else []),
        ]
    )
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = organisation.email
    message["Subject"] = subject
    message.set_content(body)
    return message


def sending_problem(remiss_round: RemissRound, *, now: datetime) -> str | None:
    """Why invitations or reminders cannot go out now (a msgid with %(deadline)s), or None: a mail
    asking for an answer by a day that has passed would only confuse."""
    deadline = as_utc(remiss_round.deadline)
    if deadline is not None and deadline <= now:
        return N_("The deadline (%(deadline)s) has passed, so no invitations or reminders are sent. If "
                  "organisations may still answer, download the links and write to them yourself.")
    return None


@dataclass
class MailReport:
    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def send_invitations(
    session: Session,
    *,
    remiss_round: RemissRound,
    base_url: str,
    settings: SmtpSettings,
    reminder: bool = False,
    connect: Callable[[SmtpSettings], smtplib.SMTP] | None = None,
) -> MailReport:
    """Invitations go to organisations not yet invited; reminders to those invited. Neither goes to
    an organisation that has submitted its answer (through a link sent some other way). One SMTP
    connection for all; a failure for one address is recorded and the rest go on."""
    assert remiss_round.id is not None
    rows = [
        r
        for r in invitation_rows(session, round_id=remiss_round.id)
        if r.organisation.email
        and r.answer.status != AnswerStatus.submitted
        and (r.invitation.invited_at is not None) == reminder
    ]
    report = MailReport()
    if not rows:
        return report
    with (connect or connect_smtp)(settings) as smtp:
        for row in rows:
            message = invitation_message(
                settings=settings,
                remiss_round=remiss_round,
                organisation=row.organisation,
                link=link_url(base_url, row.invitation),
                reminder=reminder,
            )
            try:
                smtp.send_message(message)
            except smtplib.SMTPException as exc:
                row.invitation.mail_error = str(exc)[:300]
                report.failed.append((row.organisation.name, str(exc)[:200]))
            else:
                row.invitation.mail_error = ""
                if reminder:
                    row.invitation.reminded_at = utcnow()
                else:
                    row.invitation.invited_at = utcnow()
                report.sent.append(row.organisation.name)
            session.add(row.invitation)
    session.flush()
    return report


# --- the answer: form content, draft, submit ---------------------------------------------------


def empty_content() -> dict[str, Any]:
    return {"positions": {}, "comments": {}, "principles": {}, "overall": "", "anchored": []}


def normalised_content(content: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = empty_content()
    merged.update({k: v for k, v in (content or {}).items() if k in merged})
    return merged


@dataclass
class FormProblem:
    field: str  # the id of the field in the form, without "field-"
    message: str  # msgid
    params: dict[str, Any] = field(default_factory=dict)
    blocks_save: bool = False  # nothing of the post may be stored (the text would be cut otherwise)


TOO_LONG = N_("Shorten the text to at most %(max)s characters (now %(length)s).")


@dataclass
class ParsedForm:
    content: dict[str, Any]
    consent: bool | None
    version: int
    new_comment: dict[str, Any]  # what was typed in the "new comment" fields, kept for re-showing
    remove_attachment: bool
    problems: list[FormProblem] = field(default_factory=list)

    @property
    def blocks_save(self) -> bool:
        """Whether the post must not be stored at all (some text is over its limit)."""
        return any(problem.blocks_save for problem in self.problems)


def normalise_line_breaks(value: str) -> str:
    """Line breaks as LF only: browsers send CRLF in a form post but count a line break as one
    character against maxlength, so text is measured and stored the way the browser counted it."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _value(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return normalise_line_breaks(value).strip() if isinstance(value, str) else ""


def _text(
    form: Mapping[str, Any], name: str, problems: list[FormProblem], *, limit: int = MAX_COMMENT_LENGTH,
    field_id: str | None = None,
) -> str:
    """The text typed in a field, whole. Text over the limit is never cut: it is reported against
    the field (`field_id`, the field's name by default) and the post is not stored."""
    text = _value(form, name)
    if len(text) > limit:
        problems.append(FormProblem(field_id or name, TOO_LONG, {"max": limit, "length": len(text)}, blocks_save=True))
    return text


MAX_INT = 2**31 - 1  # every integer from a form stays inside a database integer


def _int_or_none(value: Any) -> int | None:
    try:
        number = int(value) if isinstance(value, str) and value.strip() and len(value) < 20 else None
    except ValueError:
        return None
    return None if number is None or not 0 <= number <= MAX_INT else number


def find_passage(section: DraftSection, quote: str, start: int | None, end: int | None, language: str) -> dict | None:
    """Where the quote is in the section: the offsets given if they match, else its first
    occurrence (in the language shown, then the other), with whitespace differences forgiven."""
    languages = [language] + [lang for lang in ("sv", "en") if lang != language]
    for lang in languages:
        text = section.anchor_text(lang)
        if start is not None and end is not None and 0 <= start < end <= len(text) and text[start:end] == quote:
            return {"start": start, "end": end, "lang": section.anchor_language(lang)}
        pattern = r"\s+".join(re.escape(word) for word in quote.split())
        match = re.search(pattern, text) if pattern else None
        if match:
            return {"start": match.start(), "end": match.end(), "lang": section.anchor_language(lang)}
    return None


def check_anchored(
    draft: Draft, *, section_key: str, quote: str, start: int | None, end: int | None, text: str, language: str
) -> tuple[dict | None, list[tuple[str, str]]]:
    """A valid anchored comment, or the problems with it as (field suffix, msgid)."""
    problems: list[tuple[str, str]] = []
    section = draft.by_key.get(section_key)
    if not section_key:
        problems.append(("section", N_("Choose the part of the draft your comment is about.")))
    elif section is None:
        problems.append(("section", N_("That part of the draft does not exist. Choose one from the list.")))
    if not text:
        problems.append(("text", N_("Write your comment.")))
    passage = None
    if section is not None and quote:
        passage = find_passage(section, quote, start, end, language)
        if passage is None:
            problems.append(("quote", N_("The quoted passage is not in that part of the draft. Check the quote.")))
    if problems:
        return None, problems
    comment = {"section": section_key, "quote": quote or None, "start": None, "end": None, "text": text}
    if passage:
        comment.update(start=passage["start"], end=passage["end"], lang=passage["lang"])
    return comment, []


def parse_answer_form(form: Mapping[str, Any], draft: Draft, language: str, *, adding: bool) -> ParsedForm:
    """The answer as typed. A new anchored comment is validated and added when `adding` (the
    'add comment' button) or when anything was typed in it; a bad one is reported, not dropped.
    Text over its limit is kept whole and reported with blocks_save: such a post is not stored."""
    content = empty_content()
    problems: list[FormProblem] = []
    valid_positions = {p.value for p in Position}
    for priority in draft.priorities:
        position = form.get(f"position__{priority.key}")
        if isinstance(position, str) and position in valid_positions:
            content["positions"][priority.key] = position
        elif position not in (None, ""):  # only a hand-made post sends another value
            problems.append(FormProblem(f"position__{priority.key}", N_("Choose one of the positions.")))
        comment = _text(form, f"comment__{priority.key}", problems)
        if comment:
            content["comments"][priority.key] = comment
    for principle in draft.principles:
        comment = _text(form, f"principle__{principle.key}", problems)
        if comment:
            content["principles"][principle.key] = comment
    content["overall"] = _text(form, "overall", problems)
    for index in range(min(_int_or_none(form.get("anchored_count")) or 0, 500)):
        prefix = f"anchored_{index}_"
        if form.get(prefix + "remove"):
            continue
        shown_as = f"anchored_{len(content['anchored'])}_"  # where the form shows it again
        too_long: list[FormProblem] = []
        comment, found = check_anchored(
            draft,
            section_key=_value(form, prefix + "section"),
            quote=_text(form, prefix + "quote", too_long, limit=MAX_QUOTE_LENGTH, field_id=shown_as + "text"),
            start=_int_or_none(form.get(prefix + "start")),
            end=_int_or_none(form.get(prefix + "end")),
            text=_text(form, prefix + "text", too_long, field_id=shown_as + "text"),
            language=language,
        )
        problems.extend(too_long)
        if comment:
            content["anchored"].append(comment)
        else:
            problems.extend(FormProblem(f"{prefix}{suffix}", message) for suffix, message in found)
    new_problems: list[FormProblem] = []
    new_comment = {
        "section": _value(form, "new_section"),
        "quote": _text(form, "new_quote", new_problems, limit=MAX_QUOTE_LENGTH),
        "start": _int_or_none(form.get("new_start")),
        "end": _int_or_none(form.get("new_end")),
        "text": _text(form, "new_text", new_problems),
    }
    problems.extend(new_problems)
    typed_something = bool(new_comment["text"] or new_comment["quote"])
    if (adding or typed_something) and not new_problems:
        comment, found = check_anchored(
            draft,
            section_key=new_comment["section"],
            quote=new_comment["quote"],
            start=new_comment["start"],
            end=new_comment["end"],
            text=new_comment["text"],
            language=language,
        )
        if comment:
            content["anchored"].append(comment)
            new_comment = {}
        else:
            problems.extend(FormProblem(f"new_{suffix}", message) for suffix, message in found)
    consent_value = form.get("consent")
    consent = {"yes": True, "no": False}.get(consent_value) if isinstance(consent_value, str) else None
    return ParsedForm(
        content=content,
        consent=consent,
        version=_int_or_none(form.get("version")) or 0,
        new_comment=new_comment,
        remove_attachment=bool(form.get("remove_attachment")),
        problems=problems,
    )


def typed_text(parsed: ParsedForm, draft: Draft, language: str) -> str:
    """What was typed in a form that can no longer be saved, as plain text to copy: each position
    and comment under the title of its part of the draft, in the draft's order. Empty when
    nothing was typed."""
    content = parsed.content
    blocks: list[str] = []
    for priority in draft.priorities:
        position = content["positions"].get(priority.key)
        comment = content["comments"].get(priority.key)
        if position or comment:
            lines = [f"{gettext_for(language, 'Priority')}: {priority.label(language)}"]
            if position:
                label = gettext_for(language, POSITION_LABELS[position])
                lines.append(f"{gettext_for(language, 'Your position')}: {label}")
            if comment:
                lines.append(comment)
            blocks.append("\n".join(lines))
    for principle in draft.principles:
        if content["principles"].get(principle.key):
            title = f"{gettext_for(language, 'Principle')}: {principle.label(language)}"
            blocks.append(f"{title}\n{content['principles'][principle.key]}")
    comments = list(content["anchored"])
    if parsed.new_comment.get("text") or parsed.new_comment.get("quote"):
        comments.append(parsed.new_comment)
    for comment in comments:
        section = draft.by_key.get(comment.get("section") or "")
        title = section.label(language) if section else gettext_for(language, "Comment on a part of the draft")
        lines = [gettext_for(language, "Comment on: %(title)s") % {"title": title}]
        if comment.get("quote"):
            lines.append(f"“{comment['quote']}”")
        if comment.get("text"):
            lines.append(comment["text"])
        blocks.append("\n".join(lines))
    if content["overall"]:
        blocks.append(f"{gettext_for(language, 'The draft as a whole')}\n{content['overall']}")
    return "\n\n".join(blocks)


def check_complete(parsed: ParsedForm, answer: RemissAnswer) -> list[FormProblem]:
    """What must be there before submitting: the consent choice and something to say."""
    problems = []
    if parsed.consent is None:
        problems.append(FormProblem("consent", N_("Say whether your answer may be published.")))
    content = parsed.content
    has_something = any(
        [content["positions"], content["comments"], content["principles"], content["overall"], content["anchored"]]
    ) or (answer.attachment_sha256 and not parsed.remove_attachment)
    if not has_something:
        problems.append(FormProblem("overall", N_("The answer is empty. Give a position, a comment or an attachment.")))
    return problems


def priorities_without_position(content: Mapping[str, Any], draft: Draft) -> list[DraftSection]:
    """The priorities the answer takes no position on, asked about once before submitting: an
    organisation may mean to leave some out, or may have missed them."""
    return [priority for priority in draft.priorities if priority.key not in content["positions"]]


@dataclass(frozen=True)
class SaveResult:
    saved: bool
    version: int  # the new version when saved; the stored one when someone else saved first


def unchanged(parsed: ParsedForm, answer: RemissAnswer) -> bool:
    """Whether the form holds exactly the stored draft it was opened on (for an answer nobody has
    saved: an empty form), so saving it would only make a new version with nothing new in it."""
    return (
        parsed.version == answer.version
        and answer.status == AnswerStatus.draft
        and not parsed.remove_attachment
        and parsed.consent == answer.consent_publish
        and parsed.content == normalised_content(answer.content)
    )


def save_draft(
    session: Session,
    *,
    answer_id: int,
    expected_version: int,
    content: dict[str, Any],
    consent: bool | None,
    remove_attachment: bool = False,
) -> SaveResult:
    """Store the draft if nobody has saved since `expected_version` was read (one UPDATE ... WHERE
    version = expected, so two people saving at once cannot both win)."""
    values: dict[str, Any] = {
        "content": content,
        "consent_publish": consent,
        "version": expected_version + 1,
        "updated_at": utcnow(),
    }
    if remove_attachment:
        values.update(attachment_sha256=None, attachment_name=None, attachment_size=None)
    result = session.execute(
        update(RemissAnswer)
        .where(
            col(RemissAnswer.id) == answer_id,
            col(RemissAnswer.version) == expected_version,
            col(RemissAnswer.status) == AnswerStatus.draft.value,
        )
        .values(**values)
    )
    session.flush()
    if result.rowcount == 1:  # type: ignore[attr-defined]
        session.expire_all()
        return SaveResult(True, expected_version + 1)
    stored = session.exec(select(RemissAnswer.version).where(RemissAnswer.id == answer_id)).one()
    return SaveResult(False, stored)


def new_receipt() -> str:
    raw = secrets.token_hex(6).upper()
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def is_late(remiss_round: RemissRound, *, at: datetime) -> bool:
    """Whether an answer sent at `at` comes after the round's deadline (answers are still taken then,
    and marked late)."""
    deadline = as_utc(remiss_round.deadline)
    return bool(deadline and at > deadline)


def submit_answer(
    session: Session, *, answer_id: int, expected_version: int, now: datetime | None = None
) -> RemissAnswer:
    """Submit the stored draft of `expected_version`: marks it late after the deadline, gives it a
    receipt and writes its positions and comments to the tables the review team counts from."""
    answer = session.get(RemissAnswer, answer_id)
    assert answer is not None
    if answer.status == AnswerStatus.submitted:
        raise RemissError(N_("Your organisation has already submitted its answer."))
    remiss_round = session.get(RemissRound, answer.round_id)
    assert remiss_round is not None
    submitted_at = now or utcnow()
    result = session.execute(
        update(RemissAnswer)
        .where(
            col(RemissAnswer.id) == answer_id,
            col(RemissAnswer.version) == expected_version,
            col(RemissAnswer.status) == AnswerStatus.draft.value,
        )
        .values(
            status=AnswerStatus.submitted.value,
            submitted_at=submitted_at,
            late=is_late(remiss_round, at=submitted_at),
            receipt=new_receipt(),
            version=expected_version + 1,
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise RemissError(N_("Someone else changed the answer just now. Check it and submit again."))
    session.expire_all()
    answer = session.get(RemissAnswer, answer_id)
    assert answer is not None
    write_answer_rows(session, answer=answer)
    return answer


def write_answer_rows(session: Session, *, answer: RemissAnswer) -> None:
    """Positions and comments of a submitted answer, one row each."""
    assert answer.id is not None
    session.execute(delete(RemissPosition).where(col(RemissPosition.answer_id) == answer.id))
    session.execute(delete(RemissComment).where(col(RemissComment.answer_id) == answer.id))
    content = normalised_content(answer.content)
    for key, position in content["positions"].items():
        session.add(RemissPosition(answer_id=answer.id, item_key=key, position=position))
    ordinal = 0

    def add(target: str, key: str | None, text: str, quote: str | None = None, start=None, end=None) -> None:  # type: ignore[no-untyped-def]
        nonlocal ordinal
        ordinal += 1
        session.add(
            RemissComment(
                answer_id=answer.id,
                target=target,
                section_key=key,
                quote=quote,
                start_offset=start,
                end_offset=end,
                text=text,
                ordinal=ordinal,
            )
        )

    for key, text in content["comments"].items():
        add(CommentTarget.priority, key, text)
    for key, text in content["principles"].items():
        add(CommentTarget.principle, key, text)
    if content["overall"]:
        add(CommentTarget.overall, None, content["overall"])
    for anchored in content["anchored"]:
        add(
            CommentTarget.section,
            anchored["section"],
            anchored["text"],
            anchored.get("quote"),
            anchored.get("start"),
            anchored.get("end"),
        )
    session.flush()


# --- attachments -----------------------------------------------------------------------------


def attachment_dir() -> Path:
    path = get_settings().var_dir / "remiss" / "attachments"
    path.mkdir(parents=True, exist_ok=True)
    return path


def attachment_path(sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256")
    return attachment_dir() / f"{sha256}.pdf"


def _looks_like_pdf(head: bytes, tail: bytes) -> bool:
    """%PDF-1.x or %PDF-2.0 at the start, and a cross-reference pointer and end-of-file marker
    at the end, as every complete PDF file has."""
    return bool(re.match(rb"%PDF-[12]\.\d", head)) and b"%%EOF" in tail and b"startxref" in tail


def store_attachment(upload: IO[bytes], filename: str) -> dict[str, Any]:
    """Check an uploaded file is a PDF of at most 10 MB by its content and store it under the
    var dir by its SHA-256; returns the columns to set. Raises RemissError otherwise."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    tail = b""
    temporary = attachment_dir() / f".upload-{secrets.token_hex(8)}"
    try:
        with temporary.open("wb") as out:
            while chunk := upload.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_ATTACHMENT_BYTES:
                    raise RemissError(N_("The file is too large. An attachment may be at most 10 MB."))
                if len(head) < 16:
                    head = (head + chunk)[:16]
                tail = (tail + chunk)[-2048:]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise RemissError(N_("The file is empty."))
        if not _looks_like_pdf(head, tail):
            raise RemissError(N_("The file is not a PDF. Attach your answer as a PDF file."))
        sha = digest.hexdigest()
        temporary.replace(attachment_path(sha))
    finally:
        temporary.unlink(missing_ok=True)
    clean_name = re.sub(r"[^\w.\- ]+", "_", Path(filename).name)[:200] or "bilaga.pdf"
    return {"attachment_sha256": sha, "attachment_name": clean_name, "attachment_size": size}


def attach(session: Session, *, answer_id: int, columns: dict[str, Any]) -> None:
    """Attachments are kept apart from the version check: a file chosen is never lost to a conflict."""
    session.execute(
        update(RemissAnswer)
        .where(col(RemissAnswer.id) == answer_id, col(RemissAnswer.status) == AnswerStatus.draft.value)
        .values(**columns)
    )
    session.flush()
    session.expire_all()


# --- publication -----------------------------------------------------------------------------


def set_published(session: Session, *, answer: RemissAnswer, published: bool) -> None:
    if published and (answer.status != AnswerStatus.submitted or not answer.consent_publish):
        raise RemissError(N_("Only submitted answers whose organisation consented can be published."))
    answer.published = published
    answer.published_at = utcnow() if published else None
    session.add(answer)
    session.flush()


@dataclass(frozen=True)
class SubmittedRow:
    answer: RemissAnswer
    organisation: Organisation


def submitted_answers(session: Session, *, round_id: int, published_only: bool = False) -> list[SubmittedRow]:
    query = (
        select(RemissAnswer, Organisation)
        .join(RemissInvitation, col(RemissInvitation.id) == RemissAnswer.invitation_id)
        .join(Organisation, col(Organisation.id) == RemissInvitation.organisation_id)
        .where(RemissAnswer.round_id == round_id, RemissAnswer.status == AnswerStatus.submitted.value)
    )
    if published_only:
        query = query.where(col(RemissAnswer.published).is_(True))
    rows = [SubmittedRow(a, o) for a, o in session.exec(query)]
    return sorted(rows, key=lambda row: swedish_sort_key(row.organisation.name))


def answer_with_organisation(session: Session, *, round_id: int, answer_id: int) -> SubmittedRow | None:
    row = session.exec(
        select(RemissAnswer, Organisation)
        .join(RemissInvitation, col(RemissInvitation.id) == RemissAnswer.invitation_id)
        .join(Organisation, col(Organisation.id) == RemissInvitation.organisation_id)
        .where(RemissAnswer.id == answer_id, RemissAnswer.round_id == round_id)
    ).first()
    return SubmittedRow(row[0], row[1]) if row else None


# --- for the review team ---------------------------------------------------------------------


def position_counts(session: Session, *, round_id: int) -> dict[str, dict[str, dict[str, int]]]:
    """priority key -> actor type -> position -> number of submitted answers, counted in SQL. The
    actor types come in the strategy's order (the same in every language), then any others."""
    query = (
        select(RemissPosition.item_key, Organisation.actor_type, RemissPosition.position, func.count())
        .join(RemissAnswer, col(RemissAnswer.id) == RemissPosition.answer_id)
        .join(RemissInvitation, col(RemissInvitation.id) == RemissAnswer.invitation_id)
        .join(Organisation, col(Organisation.id) == RemissInvitation.organisation_id)
        .where(RemissAnswer.round_id == round_id, RemissAnswer.status == AnswerStatus.submitted.value)
        .group_by(RemissPosition.item_key, Organisation.actor_type, RemissPosition.position)
    )
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for key, actor_type, position, number in session.exec(query):
        counts.setdefault(key, {}).setdefault(actor_type, {})[position] = number
    return {key: {name: by_actor[name] for name in sorted(by_actor, key=actor_type_order)}
            for key, by_actor in counts.items()}


def actor_type_order(name: str) -> tuple[int, str]:
    """Sort key: the strategy's actor types in its order, then any others alphabetically."""
    order = actor_types()
    return (order.index(name), "") if name in order else (len(order), name)


def invitation_summary(session: Session, *, cycle_id: int) -> dict[str, int]:
    """Organisations invited to the review cycle's remiss rounds, and how many of them have
    submitted an answer (read by the workspace overview and the summary report)."""
    rounds = select(RemissRound.id).where(RemissRound.cycle_id == cycle_id)
    invited = session.exec(
        select(func.count()).select_from(RemissInvitation).where(col(RemissInvitation.round_id).in_(rounds))
    ).one()
    answered = session.exec(
        select(func.count())
        .select_from(RemissAnswer)
        .where(col(RemissAnswer.round_id).in_(rounds), RemissAnswer.status == AnswerStatus.submitted.value)
    ).one()
    return {"answered": int(answered), "invited": int(invited)}


def comment_counts(session: Session, *, round_id: int) -> dict[str | None, int]:
    """section key (None: the draft as a whole) -> number of comments in submitted answers."""
    query = (
        select(RemissComment.section_key, func.count())
        .join(RemissAnswer, col(RemissAnswer.id) == RemissComment.answer_id)
        .where(RemissAnswer.round_id == round_id, RemissAnswer.status == AnswerStatus.submitted.value)
        .group_by(RemissComment.section_key)
    )
    return dict(session.exec(query).all())


@dataclass(frozen=True)
class CommentRow:
    comment: RemissComment
    organisation: Organisation
    answer: RemissAnswer
    position: str | None


def comments_for_section(session: Session, *, round_id: int, section_key: str | None) -> list[CommentRow]:
    """Every comment of submitted answers on one section (None: on the draft as a whole), with
    the organisation's position when the section is a priority."""
    key_filter = (
        col(RemissComment.section_key).is_(None)
        if section_key is None
        else col(RemissComment.section_key) == section_key
    )
    query = (
        select(RemissComment, Organisation, RemissAnswer, RemissPosition.position)
        .join(RemissAnswer, col(RemissAnswer.id) == RemissComment.answer_id)
        .join(RemissInvitation, col(RemissInvitation.id) == RemissAnswer.invitation_id)
        .join(Organisation, col(Organisation.id) == RemissInvitation.organisation_id)
        .join(
            RemissPosition,
            (col(RemissPosition.answer_id) == RemissAnswer.id)
            & (col(RemissPosition.item_key) == RemissComment.section_key),
            isouter=True,
        )
        .where(RemissAnswer.round_id == round_id, RemissAnswer.status == AnswerStatus.submitted.value, key_filter)
        .order_by(RemissComment.ordinal)
    )
    rows = [CommentRow(c, o, a, p) for c, o, a, p in session.exec(query)]
    return sorted(rows, key=lambda row: swedish_sort_key(row.organisation.name))  # stable: comments keep their order


EXPORT_COLUMNS = [
    "organisation",
    "actor_type",
    "area",
    "submitted_at",
    "late",
    "published",
    "receipt",
    "kind",
    "section_key",
    "section_title",
    "position",
    "quote",
    "comment",
]


def export_rows(session: Session, *, remiss_round: RemissRound, language: str = "sv") -> list[dict[str, Any]]:
    """One row per position or comment of every submitted answer, in `language` (actor types, yes and
    no, section titles, placeholders); free text redacted, its line breaks LF only."""
    from consult.core.redacting import redact as redact_text

    assert remiss_round.id is not None
    draft = load_draft(session, version_id=remiss_round.version_id)
    titles = {s.key: s.label(language) for s in draft.sections}
    yes, no = gettext_for(language, N_("yes")), gettext_for(language, N_("no"))

    def redact(text: str, language: str) -> str:  # the same LF-only line breaks in CSV and XLSX
        return redact_text(normalise_line_breaks(text), language)

    rows: list[dict[str, Any]] = []
    for item in submitted_answers(session, round_id=remiss_round.id):
        answer, organisation = item.answer, item.organisation
        base = {
            "organisation": organisation.name,
            "actor_type": actor_type_name(organisation.actor_type, language),
            "area": organisation.area,
            "submitted_at": local_stamp(answer.submitted_at),
            "late": yes if answer.late else no,
            "published": yes if answer.published else no,
            "receipt": answer.receipt or "",
        }
        content = normalised_content(answer.content)
        for priority in draft.priorities:
            position = content["positions"].get(priority.key)
            comment = content["comments"].get(priority.key, "")
            if position or comment:
                rows.append(
                    {
                        **base,
                        "kind": "priority",
                        "section_key": priority.key,
                        "section_title": titles[priority.key],
                        "position": position or "",
                        "quote": "",
                        "comment": redact(comment, language),
                    }
                )
        for key, comment in content["principles"].items():
            rows.append(
                {
                    **base,
                    "kind": "principle",
                    "section_key": key,
                    "section_title": titles.get(key, key),
                    "position": "",
                    "quote": "",
                    "comment": redact(comment, language),
                }
            )
        for anchored in content["anchored"]:
            rows.append(
                {
                    **base,
                    "kind": "section",
                    "section_key": anchored["section"],
                    "section_title": titles.get(anchored["section"], anchored["section"]),
                    "position": "",
                    "quote": normalise_line_breaks(anchored.get("quote") or ""),
                    "comment": redact(anchored["text"], language),
                }
            )
        if content["overall"]:
            rows.append(
                {
                    **base,
                    "kind": "overall",
                    "section_key": "",
                    "section_title": "",
                    "position": "",
                    "quote": "",
                    "comment": redact(content["overall"], language),
                }
            )
    return rows


def export_csv(rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, delimiter=";")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
    return "\ufeff" + out.getvalue()


def export_xlsx(
    rows: list[dict[str, Any]],
    counts: dict[str, dict[str, dict[str, int]]],
    titles: dict[str, str],
    *,
    language: str = DEFAULT_LANGUAGE,
) -> bytes:
    """Two sheets: every position and comment, and the counts per priority and actor type. The
    counts follow the draft: priorities in the order of `titles` (the draft's), actor types in the
    strategy's order, named in `language`."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    answers_sheet = workbook.create_sheet("Svar")
    answers_sheet.append(EXPORT_COLUMNS)
    for row in rows:
        answers_sheet.append([safe_cell(row[c]) for c in EXPORT_COLUMNS])
    counts_sheet = workbook.create_sheet("Ställningstaganden")
    counts_sheet.append(["priority_key", "priority", "actor_type", *[p.value for p in Position], "total"])
    keys = [key for key in titles if key in counts] + [key for key in counts if key not in titles]
    for key in keys:
        by_actor = counts[key]
        for actor_type in sorted(by_actor, key=actor_type_order):
            numbers = [by_actor[actor_type].get(p.value, 0) for p in Position]
            name = actor_type_name(actor_type, language)
            counts_sheet.append([key, safe_cell(titles.get(key, key)), safe_cell(name), *numbers, sum(numbers)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the demo --------------------------------------------------------------------------------


# The fixed dates the demo round had before its dates were counted from the day of loading; an older
# demo database may still hold them, or hold them misread (see _repair_misread_times).
EARLIER_DEMO_TIMES = {"opens": "2025-05-15T08:00:00+02:00", "deadline": "2025-08-31T23:59:00+02:00"}


def _swedish_time(day: date, clock: str) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIME)


def demo_round_times(spec: Mapping[str, Any], *, now: datetime) -> dict[str, datetime]:
    """The demo round's opening and deadline, counted from the Swedish date of `now`."""
    today = local(now).date()
    return {
        "opens": _swedish_time(today - timedelta(days=int(spec["opens_days_before"])), "08:00"),
        "deadline": _swedish_time(today + timedelta(days=int(spec["deadline_days_after"])), "23:59"),
    }


def _demo_submitted_at(spec: Mapping[str, Any], remiss_round: RemissRound) -> datetime:
    """When a demo answer was submitted: its days after the round opened, at its Swedish clock time."""
    opened = local(as_utc(remiss_round.opens_at))
    assert opened is not None
    return _swedish_time(opened.date() + timedelta(days=int(spec["days_after_opening"])), str(spec["time"]))


def _repair_misread_times(remiss_round: RemissRound, **fixture_times: Any) -> None:
    """A demo round stored before timestamps were kept in UTC holds the fixture's Swedish clock
    times as if they were UTC (a deadline of 23:59 read back as 01:59 the next day); give it the
    fixture's times. A time set otherwise (by an admin) is left alone."""
    for name, value in fixture_times.items():
        field = "opens_at" if name == "opens" else name
        written = in_local_time(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))
        assert written is not None
        misread = written.replace(tzinfo=UTC)  # its clock time taken for UTC
        if misread != written and as_utc(getattr(remiss_round, field)) == misread:
            setattr(remiss_round, field, written)


def load_demo_remiss(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """The draft sections of the proposed version rus-2025, its remiss round and demo organisations
    with some submitted and some draft answers. The round is open at `now` (the time of loading):
    its dates are counted from that day. Safe to run again: nothing is created twice, and a round
    already there keeps its dates."""
    from consult.demo.service import ensure_structure, read_fixture
    from consult.strategy import service as strategy

    fixture = read_draft_fixture()
    version = strategy.version_by_key(session, key=fixture["version"])
    if version is None:
        ensure_structure(session, read_fixture())
        version = strategy.version_by_key(session, key=fixture["version"])
    assert version is not None and version.id is not None
    sections_added = ensure_draft_sections(session, version=version, fixture=fixture)
    spec = fixture["round"]
    remiss_round = round_by_key(session, key=spec["key"])
    if remiss_round is None:
        cycle = _cycle_for_version(session, version.id)
        times = demo_round_times(spec, now=now or utcnow())
        remiss_round = create_round(
            session,
            key=spec["key"],
            version_id=version.id,
            cycle_id=cycle,
            title=spec["title"],
            intro=spec.get("intro"),
            opens_at=times["opens"],
            deadline=times["deadline"],
        )
    else:
        _repair_misread_times(remiss_round, **EARLIER_DEMO_TIMES)
    organisations_added = 0
    by_name = {}
    for org in fixture["organisations"]:
        existing = session.exec(select(Organisation).where(Organisation.name == org["name"])).first()
        if existing is None or invitation_for(session, round_id=remiss_round.id, organisation_id=existing.id) is None:
            register_organisation(session, remiss_round=remiss_round, **org)
            organisations_added += 1
        by_name[org["name"]] = session.exec(select(Organisation).where(Organisation.name == org["name"])).one()
    answers_added = 0
    for spec_answer in fixture["answers"]:
        organisation = by_name[spec_answer["organisation"]]
        invitation = invitation_for(session, round_id=remiss_round.id, organisation_id=organisation.id)
        assert invitation is not None
        answer = session.exec(select(RemissAnswer).where(RemissAnswer.invitation_id == invitation.id)).one()
        if answer.version > 0:
            continue
        answers_added += 1
        _fill_demo_answer(session, answer=answer, spec=spec_answer, remiss_round=remiss_round)
    session.flush()
    return {"sections": sections_added, "organisations": organisations_added, "answers": answers_added}


def _cycle_for_version(session: Session, version_id: int) -> int | None:
    from consult.strategy.models import ReviewCycle

    cycle = session.exec(select(ReviewCycle).where(ReviewCycle.proposed_version_id == version_id)).first()
    return cycle.id if cycle else None


def _fill_demo_answer(
    session: Session, *, answer: RemissAnswer, spec: dict[str, Any], remiss_round: RemissRound
) -> None:
    draft = load_draft(session, version_id=remiss_round.version_id)
    anchored = []
    for item in spec.get("anchored") or []:
        comment, problems = check_anchored(
            draft,
            section_key=item["section"],
            quote=item.get("quote") or "",
            start=None,
            end=None,
            text=item["text"],
            language="sv",
        )
        assert comment is not None, problems
        anchored.append(comment)
    answer.content = {
        "positions": dict(spec.get("positions") or {}),
        "comments": dict(spec.get("comments") or {}),
        "principles": dict(spec.get("principles") or {}),
        "overall": spec.get("overall") or "",
        "anchored": anchored,
    }
    answer.consent_publish = spec.get("consent")
    answer.version = 1
    answer.updated_at = utcnow()
    if spec["status"] == AnswerStatus.submitted:
        submitted = _demo_submitted_at(spec["submitted"], remiss_round)
        answer.status = AnswerStatus.submitted.value
        answer.submitted_at = submitted
        answer.updated_at = submitted
        answer.late = is_late(remiss_round, at=submitted)
        answer.receipt = new_receipt()
        answer.published = bool(spec.get("published")) and bool(answer.consent_publish)
        answer.published_at = submitted if answer.published else None
        answer.version = 2
    session.add(answer)
    session.flush()
    if answer.status == AnswerStatus.submitted:
        write_answer_rows(session, answer=answer)
