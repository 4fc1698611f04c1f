"""The JSON API other tools rely on: kiosks, importers and integrations."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from consult.campaigns import invitations
from consult.campaigns.models import campaign_tag
from consult.core.i18n import _, current_language
from consult.core.routing import DirectRoute, json_body, json_request_body
from consult.db import get_session, session_scope
from consult.responses import identity as identities
from consult.responses import service as responses
from consult.responses.messages import error_message
from consult.responses.models import Channel
from consult.responses.validation import parse_json_answers, validate_complete
from consult.surveys.models import Access
from consult.surveys.service import Availability, availability, list_open_surveys
from consult.surveys.views import question_view, survey_or_404

router = APIRouter(prefix="/api", tags=["surveys"])


class SurveySummary(BaseModel):
    slug: str
    title: str


class ChoiceOut(BaseModel):
    code: int
    label: str


class ConditionOut(BaseModel):
    """One test: shown when the answer to `question` equals / includes / does not include `value`."""

    question: str
    op: Literal["equals", "includes", "not"]
    value: int


class AllOfOut(BaseModel):
    """Shown when every part holds (XLSForm `and`)."""

    model_config = ConfigDict(extra="forbid")
    all: list[ConditionTree]


class AnyOfOut(BaseModel):
    """Shown when at least one part holds (XLSForm `or`)."""

    model_config = ConfigDict(extra="forbid")
    any: list[ConditionTree]


class NotOut(BaseModel):
    """Shown when the part does not hold (XLSForm `not(...)` around a combination)."""

    model_config = ConfigDict(extra="forbid", validate_by_alias=True, serialize_by_alias=True)
    negated: ConditionTree = Field(alias="not")


# A simple condition keeps the single-test shape; combined ones nest these objects.
ConditionTree = ConditionOut | AllOfOut | AnyOfOut | NotOut
AllOfOut.model_rebuild()
AnyOfOut.model_rebuild()
NotOut.model_rebuild()


class QuestionOut(BaseModel):
    code: str
    type: str
    required: bool
    text: str
    help: str | None = None
    choices: list[ChoiceOut] | None = None
    max_choices: int | None = None
    min: float | None = None
    max: float | None = None
    low_label: str | None = None
    high_label: str | None = None
    allow_dont_know: bool | None = None
    whole_numbers: bool | None = Field(
        default=None, description="Number questions: true when only whole numbers are accepted (12, not 12.5)."
    )
    condition: ConditionTree | None = None


class PageOut(BaseModel):
    number: int
    title: str | None = None
    questions: list[QuestionOut]


class SurveyOut(BaseModel):
    slug: str
    title: str
    intro: str | None = None
    languages: list[str]
    status: str
    identity_mode: Literal["anonymous", "identified"]
    access: Literal["open", "invitation"] = Field(
        description="\"invitation\": only people with an invitation code answer; send it as invitation_code."
    )
    pages: list[PageOut]


class RespondentIn(BaseModel):
    """Who answered: only for surveys whose identity_mode is "identified" (anonymous ones refuse it)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=1000)
    email: str | None = Field(default=None, max_length=1000)
    organisation: str | None = Field(default=None, max_length=1000)


class ResponseIn(BaseModel):
    client_uuid: UUID = Field(description="Made by the client; resending the same response is harmless.")
    language: Literal["sv", "en"] = "sv"
    answers: dict[str, Any] = Field(
        description="CODE: VALUE. A choice code, a list of codes (multiple choice, ranking in order), "
        "a number (scale 1-5 or null for 'vet ej', number) or a string (text)."
    )
    campaign_tag: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    respondent: RespondentIn | None = Field(
        default=None, description="Name, and optionally e-mail and organisation: required when the survey's "
        "identity_mode is \"identified\", refused when it is \"anonymous\"."
    )
    invitation_code: str | None = Field(
        default=None, max_length=100, description="The respondent's code: required when the survey's access is "
        "\"invitation\" (each code gives one response), refused when it is \"open\"."
    )


class Receipt(BaseModel):
    receipt: str


class FieldErrorOut(BaseModel):
    field: str
    code: str
    message: str


class ErrorOut(BaseModel):
    detail: str
    errors: list[FieldErrorOut] = []


@router.get("/surveys", response_model=list[SurveySummary])
def list_surveys(
    session: Annotated[Session, Depends(get_session)], lang: Annotated[Literal["sv", "en"], Query()] = "sv"
) -> list[SurveySummary]:
    """The surveys open for answers now."""
    return [
        SurveySummary(slug=s.slug, title=s.title.get(lang) or s.title.get("sv", "")) for s in list_open_surveys(session)
    ]


@router.get("/surveys/{slug}", response_model=SurveyOut, responses={404: {"model": ErrorOut}})
async def get_survey(slug: str, lang: Annotated[Literal["sv", "en"], Query()] = "sv") -> SurveyOut:
    spec = survey_or_404(slug)
    return SurveyOut(
        slug=spec.slug,
        title=spec.text("title", lang),
        intro=spec.text("intro", lang) or None,
        languages=spec.languages(),
        status=availability(spec).value,
        identity_mode=spec.identity_mode.value,
        access=spec.access.value,
        pages=[
            PageOut(
                number=number,
                title=(page.title or {}).get(lang) or (page.title or {}).get("sv"),
                questions=[QuestionOut(**question_view(q, lang)) for q in page.questions],
            )
            for number, page in enumerate(spec.pages, start=1)
        ],
    )


# Submissions are the API's hot path, and FastAPI's generic body handling costs about as much as
# storing the response: the body is parsed straight from its bytes.
_response_body = json_body(ResponseIn)


async def submit_response(request: Request, slug: str) -> JSONResponse:
    from consult.app import writer

    body = await _response_body(request)
    # Every message of the reply in the respondent's language, the one the answers are given in.
    current_language.set(body.language)
    spec = survey_or_404(slug)
    state = availability(spec)
    if state != Availability.open:
        message = _("The survey is closed.") if state == Availability.closed else _("The survey is not open.")
        return JSONResponse({"detail": message, "errors": []}, status_code=409)
    source = responses.request_source_hash(request)
    verdict = responses.hit_submission_limit(source=source)
    if not verdict.allowed:
        return JSONResponse(
            {"detail": _("Too many responses from here. Try again in a while."), "errors": []},
            status_code=429,
            headers={"Retry-After": str(verdict.retry_after)},
        )
    parsed = validate_complete(spec, parse_json_answers(spec, body.answers))
    respondent = body.respondent.model_dump() if body.respondent else None
    identity, identity_errors = identities.respondent_from_api(spec, respondent, body.language)
    invitation_id = None
    if spec.access == Access.invitation and body.invitation_code:
        with session_scope() as session:
            invitation_id = invitations.find(session, survey_id=spec.id or 0, code=body.invitation_code, unused=False)
    identity_errors += invitations.api_error(spec.access, body.invitation_code, invitation_id, body.language)
    if not parsed.ok or identity_errors:
        errors = [
            {"field": e.field, "code": e.kind, "message": error_message(e, body.language, spec.by_code.get(e.field))}
            for e in parsed.errors
        ]
        return JSONResponse({"detail": _("Some answers are not valid."), "errors": errors + identity_errors},
                            status_code=422)
    item = responses.NewResponse(
        spec=spec,
        client_uuid=str(body.client_uuid),
        values=parsed.values,
        language=body.language,
        channel=Channel.campaign if body.campaign_tag else Channel.web,
        campaign_tag=campaign_tag(body.campaign_tag),
        consent_quote=responses.consent_from(spec, parsed.values),
        source_hash=source,
        identity=identity,
        invitation_id=invitation_id,
    )
    stored: responses.Stored = await writer.submit("response", item)
    if stored.outcome == responses.Outcome.conflict:
        detail = _("This client UUID was already used for a different response.")
        return JSONResponse({"detail": detail, "errors": []}, status_code=409)
    if stored.outcome == responses.Outcome.invitation_used:
        detail = _("This invitation code was already used for another response.")
        return JSONResponse({"detail": detail, "errors": []}, status_code=409)
    status = 201 if stored.outcome == responses.Outcome.created else 200
    return JSONResponse({"receipt": stored.receipt}, status_code=status)


# Registered as a DirectRoute: the API's hot path reads its own body (see _response_body).
router.add_api_route(
    "/surveys/{slug}/responses",
    submit_response,
    methods=["POST"],
    route_class_override=DirectRoute,
    status_code=201,
    response_model=Receipt,
    responses={
        200: {"model": Receipt, "description": "An identical resend: the same receipt."},
        404: {"model": ErrorOut},
        409: {
            "model": ErrorOut,
            "description": "The client UUID was used for other answers, the invitation code for another "
            "response, or the survey is closed.",
        },
        413: {"model": ErrorOut},
        422: {"model": ErrorOut},
        429: {"model": ErrorOut, "description": "Too many submissions from one source; see Retry-After."},
    },
    openapi_extra=json_request_body(ResponseIn),
)
