"""Tagged links to a survey, one per outreach (a Facebook post, a poster in Kramfors, ...)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from consult.core.fields import timestamp

TAG_CHARACTERS = re.compile(r"^[a-z0-9_-]{1,64}$")
# At least one letter or digit: "-" or "__" names nothing anyone could tell apart on a printed poster.
TAG_PATTERN = re.compile(r"^(?=[_-]*[a-z0-9])[a-z0-9_-]{1,64}$")


def campaign_tag(raw: str | None) -> str | None:
    """A campaign tag as it is stored, or None when `raw` is not one. Lower case: the form asks for
    letters a–z, and "Affisch" typed into a link must count with "affisch", not beside it. It holds
    at least one letter or digit."""
    tag = (raw or "").strip().lower()
    return tag if TAG_PATTERN.match(tag) else None


class CampaignLink(SQLModel, table=True):
    __tablename__ = "campaign_link"
    __table_args__ = (UniqueConstraint("survey_id", "tag"),)
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    # The value of ?k= in the link; responses keep it in Response.campaign_tag.
    tag: str = Field(max_length=64)
    name: str = Field(max_length=200)
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime | None = timestamp(nullable=False, default_now=True)


class SurveyInvitation(SQLModel, table=True):
    """One invitation code of a survey open to invited people only (a sample drawn from the
    population register, a citizens' panel). Only a keyed hash of the code is kept: the codes are
    handed out once, as a file for the mail merge. Whether a code was used is recorded; which
    response used it is not, so answers stay anonymous."""

    __tablename__ = "survey_invitation"
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    batch: str = Field(max_length=100)  # the mailing it was made for, e.g. "Utskick 1, mars"
    created_at: datetime | None = timestamp(nullable=False, default_now=True)
    used_at: datetime | None = timestamp()
