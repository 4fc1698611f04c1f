"""Campaign links: create and list tagged links, draw their QR codes, count responses per tag. No HTTP here."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import segno
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from consult.accounts.service import record_audit
from consult.campaigns.models import TAG_CHARACTERS, CampaignLink, campaign_tag
from consult.core.fields import one_line
from consult.core.i18n import N_
from consult.core.problems import FieldProblem
from consult.responses.models import Response, ResponseStatus, ReviewState
from consult.surveys.kiosk import event_key

# The same rule as the survey start page applies to ?k=, so every link made here is recorded.
MAX_NAME_LENGTH = 200


class CampaignError(FieldProblem):
    """A link could not be created; `field` is the form field, the message an English msgid."""


def check_name(name: str) -> list[CampaignError]:
    if not name.strip():
        return [CampaignError("name", N_("Enter a name for the link, for example Poster in Kramfors."))]
    if len(name.strip()) > MAX_NAME_LENGTH:
        return [CampaignError("name", N_("The name can be at most 200 characters long."))]
    return []


def check_link(*, name: str, tag: str) -> list[CampaignError]:
    errors = check_name(name)
    if not tag:
        errors.append(CampaignError("tag", N_("Enter a tag, for example affisch-kramfors.")))
    elif not TAG_CHARACTERS.match(tag.lower()):
        errors.append(
            CampaignError("tag", N_("The tag may only hold letters a–z, digits, - and _, at most 64 characters."))
        )
    elif campaign_tag(tag) is None:
        errors.append(CampaignError("tag", N_("The tag must hold at least one letter a–z or digit.")))
    return errors


def list_links(session: Session, *, survey_id: int) -> list[CampaignLink]:
    query = select(CampaignLink).where(CampaignLink.survey_id == survey_id).order_by(CampaignLink.id)
    return list(session.execute(query).scalars())


def get_link(session: Session, *, survey_id: int, tag: str) -> CampaignLink | None:
    query = select(CampaignLink).where(CampaignLink.survey_id == survey_id, CampaignLink.tag == tag)
    return session.execute(query).scalars().first()


def create_link(
    session: Session, *, survey_id: int, name: str, tag: str, user_id: int | None, request: object = None
) -> CampaignLink:
    """Raises CampaignError (the first problem) when the name or tag is not valid or the tag is taken."""
    tag, name = tag.strip().lower(), one_line(name)
    errors = check_link(name=name, tag=tag)
    if errors:
        raise errors[0]
    if get_link(session, survey_id=survey_id, tag=tag) is not None:
        raise CampaignError("tag", N_("This survey already has a link with that tag."))
    link = CampaignLink(survey_id=survey_id, tag=tag, name=name.strip(), created_by_id=user_id)
    try:
        with session.begin_nested():  # a concurrent twin loses on the unique constraint, not with a 500
            session.add(link)
            session.flush()
    except IntegrityError:
        raise CampaignError("tag", N_("This survey already has a link with that tag.")) from None
    record_audit(
        session,
        user_id=user_id,
        action="campaign.create",
        target=f"survey:{survey_id}",
        details={"tag": tag},
        request=request,
    )
    return link


def rename_link(
    session: Session, *, survey_id: int, tag: str, name: str, user_id: int | None, request: object = None
) -> CampaignLink | None:
    """Give a link another name (the tag stays: it is printed in the link and its QR code). None
    when the survey has no such link; CampaignError when the name is not valid."""
    name = one_line(name)  # a name is one line: no control characters (PostgreSQL refuses NUL in text)
    errors = check_name(name)
    if errors:
        raise errors[0]
    link = get_link(session, survey_id=survey_id, tag=tag)
    if link is None:
        return None
    before, link.name = link.name, name.strip()
    session.add(link)
    record_audit(session, user_id=user_id, action="campaign.rename", target=f"survey:{survey_id}",
                 details={"tag": tag, "from": before, "to": link.name}, request=request)
    return link


def responses_with_tag(session: Session, *, survey_id: int, tag: str) -> int:
    """Stored responses carrying the tag, whatever their state (a rejected one still names it)."""
    query = select(func.count()).select_from(Response).where(
        Response.survey_id == survey_id, Response.campaign_tag == tag
    )
    return int(session.execute(query).scalar_one())


class LinkInUse(Exception):
    """A link that responses carry cannot be removed: its name is what the counts show them under."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def remove_link(session: Session, *, survey_id: int, tag: str, user_id: int | None, request: object = None) -> bool:
    """Remove a link made by mistake, which no stored response carries (else LinkInUse). False when
    the survey has no such link. A printed copy of it still reaches the survey, untagged."""
    link = get_link(session, survey_id=survey_id, tag=tag)
    if link is None:
        return False
    carried = responses_with_tag(session, survey_id=survey_id, tag=tag)
    if carried:
        raise LinkInUse(carried)
    session.delete(link)
    record_audit(session, user_id=user_id, action="campaign.delete", target=f"survey:{survey_id}",
                 details={"tag": tag, "name": link.name}, request=request)
    return True


def _counted(survey_id: int) -> tuple[Any, ...]:
    """The responses these pages count: submitted and not rejected in review, as in the workspace."""
    return (
        Response.survey_id == survey_id,
        Response.status == ResponseStatus.submitted.value,
        Response.review_state != ReviewState.rejected.value,
    )


def responses_per_tag(session: Session, *, survey_id: int) -> dict[str | None, int]:
    """Submitted responses per campaign tag (None: no tag), counted by the database. Responses the
    review team rejected are left out, as in the workspace, so the two pages give the same numbers."""
    query = select(Response.campaign_tag, func.count()).where(*_counted(survey_id)).group_by(Response.campaign_tag)
    return {tag: count for tag, count in session.execute(query)}


@dataclass(frozen=True)
class EventCount:
    event: str  # the kiosk's event, or the place or event an interviewer or an import named
    channel: str
    count: int


def responses_per_event(session: Session, *, survey_id: int) -> list[EventCount]:
    """Counted responses per named place or event and channel (a kiosk at a "framtidsdag", the
    interviews entered there). These carry no campaign tag. Names that differ only in case or
    spaces are one event, shown in its most used spelling."""
    query = (
        select(Response.event_name, Response.channel, func.count())
        .where(*_counted(survey_id), Response.event_name.is_not(None))  # type: ignore[union-attr]
        .group_by(Response.event_name, Response.channel)
    )
    counted = list(session.execute(query))
    uses: dict[str, dict[str, int]] = {}  # event key -> spelling -> responses
    for event, _channel, count in counted:
        spellings = uses.setdefault(event_key(event), {})
        spellings[event] = spellings.get(event, 0) + count
    shown = {key: min(spellings, key=lambda name: (-spellings[name], name)) for key, spellings in uses.items()}
    merged: dict[tuple[str, str], int] = {}
    for event, channel, count in counted:
        row_key = (shown[event_key(event)], channel)
        merged[row_key] = merged.get(row_key, 0) + count
    rows = [EventCount(event, channel, count) for (event, channel), count in merged.items()]
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.event] = totals.get(row.event, 0) + row.count
    # An event's channels stay together, the event that brought in most first.
    return sorted(rows, key=lambda row: (-totals[row.event], row.event, -row.count, row.channel))


@dataclass(frozen=True)
class TagCount:
    tag: str | None
    name: str | None  # the link's name; None for a tag typed by hand or a link since removed
    count: int


def tag_table(links: list[CampaignLink], counts: dict[str | None, int]) -> list[TagCount]:
    """Every link with its count (0 when none yet), then tags without a link, then untagged."""
    rows = [TagCount(link.tag, link.name, counts.get(link.tag, 0)) for link in links]
    known = {link.tag for link in links}
    rows += [
        TagCount(tag, None, n)
        for tag, n in sorted(counts.items(), key=lambda kv: str(kv[0]))
        if tag and tag not in known
    ]
    if counts.get(None):
        rows.append(TagCount(None, None, counts[None]))
    return rows


def link_url(base_url: str, slug: str, tag: str) -> str:
    return f"{base_url.rstrip('/')}/s/{slug}?k={tag}"


def qr_png(url: str, scale: int = 10) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(url: str, title: str = "") -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=10, border=4, title=title or None, svgclass=None, lineclass=None,
        unit="px",  # with a unit segno adds a viewBox, so the code scales to whatever size it is printed at
    )
    return buffer.getvalue()
