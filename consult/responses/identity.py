"""Who answered, for surveys whose respondents say who they are (identity mode "identified").

Anonymous surveys never ask and never store an identity. Identified ones ask for a name (and
optionally an e-mail address and an organisation) before the first page, keep it with the draft,
and store it beside the response in `response_identity`, apart from the answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from consult.core.fields import is_email, one_line
from consult.core.i18n import N_, gettext_for
from consult.responses.models import Response, ResponseIdentity
from consult.surveys.models import IdentityMode
from consult.surveys.schema import SurveySpec

IDENTITY_FIELDS = ("name", "email", "organisation")
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class IdentityProblem:
    field: str  # one of IDENTITY_FIELDS
    code: str  # required, too_long or invalid (the API's error codes)
    message: str  # an English msgid, translated where it is shown


def asks_identity(spec: SurveySpec) -> bool:
    return spec.identity_mode == IdentityMode.identified


def check_identity(given: Mapping[str, str | None]) -> tuple[dict[str, str | None], list[IdentityProblem]]:
    """The identity as it will be stored (trimmed, empty optional fields as None) and its problems."""
    name, email, organisation = (one_line(given.get(field)) for field in IDENTITY_FIELDS)
    problems = []
    if not name:
        problems.append(IdentityProblem("name", "required", N_("Enter your name.")))
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(IdentityProblem("name", "too_long", N_("The name is too long (at most 200 characters).")))
    if email and not is_email(email):
        problems.append(IdentityProblem("email", "invalid", N_("Enter a valid e-mail address.")))
    if len(organisation) > MAX_NAME_LENGTH:
        problems.append(IdentityProblem("organisation", "too_long",
                                        N_("The organisation's name is too long (at most 200 characters).")))
    return {"name": name, "email": email or None, "organisation": organisation or None}, problems


def respondent_from_api(spec: SurveySpec, given: Mapping[str, str | None] | None, language: str,
                        ) -> tuple[dict[str, str | None] | None, list[dict[str, str]]]:
    """The `respondent` of a JSON submission: required by an identified survey, refused by an
    anonymous one. Returns the identity to store and the errors (field "respondent.<name>")."""
    if not asks_identity(spec):
        if given is None:
            return None, []
        message = gettext_for(language, "This survey is anonymous: it does not take the respondent's name.")
        return None, [{"field": "respondent", "code": "not_allowed", "message": message}]
    identity, problems = check_identity(given or {})
    return (None if problems else identity), api_errors(problems, language, prefix="respondent.")


def api_errors(problems: list[IdentityProblem], language: str, prefix: str) -> list[dict[str, str]]:
    return [{"field": prefix + p.field, "code": p.code, "message": gettext_for(language, p.message)}
            for p in problems]


def identity_of(session: Session, *, response_id: int) -> ResponseIdentity | None:
    return session.execute(
        select(ResponseIdentity).where(ResponseIdentity.response_id == response_id)
    ).scalar_one_or_none()


RESPONDENT_COLUMNS = ("response_id", "submitted_at", "name", "email", "organisation")


def respondents(session: Session, *, survey_id: int) -> list[tuple[int, datetime | None, str, str | None, str | None]]:
    """Who answered the survey, one row per response (RESPONDENT_COLUMNS), in the order they came.
    `response_id` joins them to the answers in every export."""
    rows = session.execute(
        select(ResponseIdentity.response_id, Response.submitted_at, ResponseIdentity.name, ResponseIdentity.email,
               ResponseIdentity.organisation)
        .join(Response, Response.id == ResponseIdentity.response_id)
        .where(Response.survey_id == survey_id)
        .order_by(ResponseIdentity.response_id)
    ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]
