"""Interview entries as plain functions: the channels an interviewer may choose, one-page
validation with the shared rules, plausible times, and today's own entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from consult.core.fields import CONTROL_CHARS
from consult.core.formatting import LOCAL_TIME, local
from consult.core.i18n import N_
from consult.responses.identity import IDENTITY_FIELDS, IdentityProblem, asks_identity, check_identity
from consult.responses.models import Channel, Response
from consult.responses.service import NewResponse, consent_from
from consult.responses.validation import (
    FieldError,
    Value,
    parse_form_answers,
    typed_form_values,
    validate_complete,
)
from consult.surveys.kiosk import event_key
from consult.surveys.models import Survey
from consult.surveys.schema import SurveySpec
from consult.surveys.service import kiosk_start_path

MAX_PLACE_LENGTH = 200
# An interview rarely takes more than an hour; a start time further back than this is a form
# left open, so it is dropped rather than recorded as a twelve-hour interview.
MAX_INTERVIEW_DURATION = timedelta(hours=12)
# Entries kept in the browser while offline are sent later; their own submission time counts.
MAX_QUEUE_AGE = timedelta(days=14)
CLOCK_SKEW = timedelta(minutes=5)

INTERVIEW_CHANNELS: dict[str, str] = {
    Channel.interview_in_person.value: N_("Face to face"),
    Channel.interview_phone.value: N_("Phone"),
    Channel.event.value: N_("Event"),
    Channel.paper.value: N_("Transcription from paper"),
}


def clean_place(value: str | None) -> str:
    """A place or event name as typed, without control characters or surrounding space."""
    return CONTROL_CHARS.sub(" ", value or "").strip()


@dataclass(frozen=True)
class Setup:
    survey: str
    channel: str
    place: str


def setup_errors(setup: Setup, open_slugs: set[str]) -> dict[str, str]:
    """Field -> English msgid of what is wrong with the interviewer's choices."""
    errors: dict[str, str] = {}
    if setup.survey not in open_slugs:
        errors["survey"] = N_("Choose a survey.")
    if setup.channel not in INTERVIEW_CHANNELS:
        errors["channel"] = N_("Choose how the answers are given.")
    if len(setup.place) > MAX_PLACE_LENGTH:
        errors["place"] = N_("Shorten the place to at most 200 characters.")
    elif setup.channel == Channel.event.value and not setup.place:
        errors["place"] = N_("Enter the name of the event.")
    return errors


# Places and events already named for a survey, offered as the interviewer types one: the same
# event typed two ways would count as two in the campaign page and the review.
MAX_PLACE_SUGGESTIONS = 50


def used_places(session: Session, *, survey_ids: list[int]) -> dict[int, list[str]]:
    """Per survey, the place and event names its stored responses carry, most used first, at most
    MAX_PLACE_SUGGESTIONS; names that differ only in case or spaces are offered once, as most used."""
    if not survey_ids:
        return {}
    query = (
        select(Response.survey_id, Response.event_name, func.count())
        .where(Response.survey_id.in_(survey_ids), Response.event_name.is_not(None))  # type: ignore[attr-defined,union-attr]
        .group_by(Response.survey_id, Response.event_name)
    )
    uses: dict[int, dict[str, dict[str, int]]] = {}  # survey -> event key -> spelling -> responses
    for survey_id, name, count in session.execute(query):
        if name and name.strip():
            spellings = uses.setdefault(survey_id, {}).setdefault(event_key(name), {})
            spellings[name] = spellings.get(name, 0) + count
    places: dict[int, list[str]] = {}
    for survey_id, events in uses.items():
        ranked = sorted(
            ((sum(spellings.values()), min(spellings, key=lambda name: (-spellings[name], name)))
             for spellings in events.values()),
            key=lambda item: (-item[0], item[1].casefold()),
        )
        places[survey_id] = [name for _count, name in ranked[:MAX_PLACE_SUGGESTIONS]]
    return places


# --- kiosk mode ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KioskSetup:
    survey: str
    event_name: str


def kiosk_errors(kiosk: KioskSetup, open_slugs: set[str]) -> dict[str, str]:
    """Field -> English msgid of what keeps the survey from opening in kiosk mode. The event's
    name follows the survey's own rule for it (no control characters, not blank); a name longer
    than the survey keeps is refused here rather than cut short without a word."""
    errors: dict[str, str] = {}
    if kiosk.survey not in open_slugs:
        errors["kiosk-survey"] = N_("Choose a survey.")
    if len(kiosk.event_name) > MAX_PLACE_LENGTH:
        errors["kiosk-place"] = N_("Shorten the name of the event to at most 200 characters.")
    elif not kiosk.event_name:
        errors["kiosk-place"] = N_("Enter the name of the event.")
    return errors


def kiosk_start_url(kiosk: KioskSetup, language: str) -> str:
    """The kiosk's start page, in the language it is opened in (each next person starts in it)."""
    return kiosk_start_path(kiosk.survey, kiosk.event_name, language)


# --- validation of a whole response on one page ---------------------------------------------


@dataclass
class EntryOutcome:
    values: dict[str, Value]
    errors: list[FieldError] = field(default_factory=list)
    typed: dict[str, Any] = field(default_factory=dict)  # the form as submitted, shown again on error
    identity: dict[str, str | None] | None = None  # who answered, on an identified survey
    identity_problems: list[IdentityProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.identity_problems


# The entry form's fields for who answers an identified survey. A hyphen keeps them apart from the
# questions, whose codes cannot contain one.
IDENTITY_FORM_FIELDS = {field_name: f"respondent-{field_name}" for field_name in IDENTITY_FIELDS}


def identity_from_form(spec: SurveySpec, form: Any) -> tuple[dict[str, str | None] | None, list[IdentityProblem]]:
    """Who answered, as the interviewer typed it, for a survey that asks (else nothing)."""
    if not asks_identity(spec):
        return None, []
    given = {name: form.get(form_name) for name, form_name in IDENTITY_FORM_FIELDS.items()}
    return check_identity({name: value if isinstance(value, str) else None for name, value in given.items()})


def validate_entry(spec: SurveySpec, form: Any, *, required: bool = True, with_identity: bool = True) -> EntryOutcome:
    """Every question at once with the shared rules (consult.responses.validation.validate_complete):
    answers to questions whose condition is not met are dropped, and so are their errors: the
    interviewer skipped them. A correction passes with_identity=False: it changes the answers,
    never who gave them, so its form has no name fields to check."""
    final = validate_complete(spec, parse_form_answers(spec.questions, form), required=required)
    errors = final.errors or empty_entry_errors(spec, final.values)
    identity, identity_problems = identity_from_form(spec, form) if with_identity else (None, [])
    typed: dict[str, Any] = {}
    if errors or identity_problems:
        typed = typed_form_values(spec.questions, form)
        typed.update({IDENTITY_FORM_FIELDS[name]: value or "" for name, value in (identity or {}).items()})
    return EntryOutcome(values=final.values, errors=errors, typed=typed,
                        identity=None if identity_problems else identity, identity_problems=identity_problems)


# --- times ----------------------------------------------------------------------------------


def parse_time(value: str | None) -> datetime | None:
    if not value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def empty_entry_errors(spec: SurveySpec, values: dict[str, Value]) -> list[FieldError]:
    """A blank entry saved by mistake (or sent twice) would count as a respondent who said nothing."""
    return [FieldError(spec.questions[0].code, "empty_entry")] if not values and spec.questions else []


def clamp_times(
    started_at: datetime | None, submitted_at: datetime | None, now: datetime
) -> tuple[datetime | None, datetime]:
    """Times sent by a browser are trusted only within reason: never in the future, a
    submission at most two weeks old (a queue kept offline), a start before the submission
    and within an interview's length of it. A time without a zone is Swedish time, as in imports."""
    started_at, submitted_at = (
        moment.replace(tzinfo=LOCAL_TIME) if moment is not None and moment.tzinfo is None else moment
        for moment in (started_at, submitted_at)
    )
    submitted = submitted_at or now
    if submitted > now + CLOCK_SKEW or submitted < now - MAX_QUEUE_AGE:
        submitted = now
    submitted = min(submitted, now)
    started = started_at
    if started is not None:
        if started > submitted:
            started = submitted
        elif submitted - started > MAX_INTERVIEW_DURATION:
            started = None
    return started, submitted


# --- storing --------------------------------------------------------------------------------


def new_entry(
    spec: SurveySpec,
    *,
    values: dict[str, Value],
    client_uuid: str,
    channel: str,
    place: str,
    user_id: int | None,
    language: str,
    started_at: datetime | None,
    submitted_at: datetime,
    identity: dict[str, str | None] | None = None,
) -> NewResponse:
    return NewResponse(
        spec=spec,
        client_uuid=client_uuid,
        values=values,
        language=language,
        channel=Channel(channel),
        event_name=place or None,
        started_at=started_at,
        submitted_at=submitted_at,
        consent_quote=consent_from(spec, values),
        entered_by_id=user_id,
        identity=identity,
    )


# --- today's entries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    id: int
    survey_slug: str
    survey_title: dict
    channel: str
    place: str | None
    submitted_at: datetime
    review_state: str


def local_midnight(now: datetime) -> datetime:
    local = now.astimezone(LOCAL_TIME)
    return datetime(local.year, local.month, local.day, tzinfo=LOCAL_TIME).astimezone(UTC)


def todays_entries(session: Session, *, user_id: int, now: datetime) -> list[Entry]:
    rows = session.execute(
        select(
            Response.id,
            Survey.slug,
            Survey.title,
            Response.channel,
            Response.event_name,
            Response.submitted_at,
            Response.review_state,
        )
        .join(Survey, Survey.id == Response.survey_id)
        .where(Response.entered_by_id == user_id, Response.submitted_at >= local_midnight(now))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(500)
    )
    return [Entry(*row) for row in rows]


def may_correct(response: Response, *, user_id: int, reviewer: bool, now: datetime) -> bool:
    """Reviewers (analysts and admins) correct any response, as part of reviewing it;
    interviewers correct their own entries of the same day, and later ones go through a reviewer."""
    if reviewer:
        return True
    if response.entered_by_id != user_id or response.submitted_at is None:
        return False
    return local(response.submitted_at) >= local_midnight(now).astimezone(LOCAL_TIME)


def form_pairs_to_multidict(pairs: list[tuple[str, str]]) -> Mapping[str, Any]:
    from starlette.datastructures import MultiDict

    return MultiDict(pairs)
