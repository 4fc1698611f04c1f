"""The interviewer's JSON endpoint, used by static/interviews.js so entries survive a poor
network: resending the same client UUID is harmless. The staff session authorises it; as every
/api/ write with a session, it must be sent as JSON (see consult.accounts.deps)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from consult.accounts.deps import require_role
from consult.accounts.models import Role, User
from consult.core.fields import utcnow
from consult.core.i18n import _, current_language
from consult.core.routing import json_body, json_request_body
from consult.interviews import service
from consult.responses import identity as identities
from consult.responses import service as responses
from consult.responses.messages import error_message
from consult.responses.validation import FieldError, answers_required, parse_json_answers, validate_complete
from consult.surveys.api import ErrorOut, RespondentIn
from consult.surveys.service import Availability, availability
from consult.surveys.views import survey_or_404

router = APIRouter(prefix="/api/intervju", tags=["interviews"])

InterviewChannel = Literal["interview_in_person", "interview_phone", "event", "paper"]


class InterviewResponseIn(BaseModel):
    survey: str = Field(max_length=80, description="The survey's slug.")
    client_uuid: UUID = Field(description="Made by the browser per entry; resending it is harmless.")
    channel: InterviewChannel
    event_name: str | None = Field(default=None, max_length=200, description="The place or event.")
    language: Literal["sv", "en"] = "sv"
    started_at: datetime | None = Field(default=None, description="When the empty form was shown.")
    submitted_at: datetime | None = Field(default=None, description="When the interviewer saved the entry.")
    answers: dict[str, Any] | None = Field(
        default=None, description="CODE: VALUE, as in POST /api/surveys/{slug}/responses."
    )
    form: list[tuple[str, str]] | None = Field(
        default=None, max_length=5000, description="Or the entry form's fields as [name, value] pairs."
    )
    respondent: RespondentIn | None = Field(
        default=None, description="With `answers`, on an identified survey: who answered (in `form`, its "
        "respondent-name, respondent-email and respondent-organisation fields)."
    )


def _errors_out(spec, errors: list[FieldError], language: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return [
        {"field": e.field, "code": e.kind, "message": error_message(e, language, spec.by_code.get(e.field))}
        for e in errors
    ]


class InterviewReceipt(BaseModel):
    receipt: str
    response_id: int


@router.post(
    "/responses",
    status_code=201,
    response_model=InterviewReceipt,
    responses={
        200: {"model": InterviewReceipt, "description": "An identical resend: the same receipt."},
        401: {"model": ErrorOut, "description": "Not logged in, or the login has expired."},
        403: {"model": ErrorOut, "description": "Not an interviewer, not sent as JSON, or the password is temporary "
                                                "and must be replaced first (code: password_change_required)."},
        404: {"model": ErrorOut},
        409: {"model": ErrorOut, "description": "The client UUID was used for other answers, or the survey is closed."},
        413: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
    openapi_extra=json_request_body(InterviewResponseIn),
)
async def submit_interview_response(
    request: Request,
    user: Annotated[User, Depends(require_role(Role.interviewer.value))],  # before the body: 401 comes first
    body: Annotated[InterviewResponseIn, Depends(json_body(InterviewResponseIn))],
) -> JSONResponse:
    from consult.app import writer

    spec = survey_or_404(body.survey)
    if availability(spec) != Availability.open:
        return JSONResponse({"detail": _("The survey is not open."), "errors": []}, status_code=409)
    place = service.clean_place(body.event_name)
    if body.channel == "event" and not place:
        errors = [{"field": "event_name", "code": "required", "message": _("Enter the name of the event.")}]
        return JSONResponse({"detail": _("Some answers are not valid."), "errors": errors}, status_code=422)
    if body.form is not None and body.answers is not None:
        message = _("Send the answers either as answers or as form, not both.")
        errors = [{"field": "form", "code": "one_value", "message": message}]
        return JSONResponse({"detail": _("Some answers are not valid."), "errors": errors}, status_code=422)
    if body.form is not None:
        outcome = service.validate_entry(spec, service.form_pairs_to_multidict(body.form),
                                         required=answers_required(body.channel))
        values, errors, identity = outcome.values, outcome.errors, outcome.identity
        identity_errors = [{**error, "field": service.IDENTITY_FORM_FIELDS[error["field"]]} for error in
                           identities.api_errors(outcome.identity_problems, current_language.get(), prefix="")]
    else:
        parsed = validate_complete(spec, parse_json_answers(spec, body.answers or {}),
                                   required=answers_required(body.channel))
        values, errors = parsed.values, parsed.errors or service.empty_entry_errors(spec, parsed.values)
        respondent = body.respondent.model_dump() if body.respondent else None
        identity, identity_errors = identities.respondent_from_api(spec, respondent, current_language.get())
    if errors or identity_errors:
        shown = identity_errors + _errors_out(spec, errors, current_language.get())
        return JSONResponse({"detail": _("Some answers are not valid."), "errors": shown}, status_code=422)
    started, submitted = service.clamp_times(body.started_at, body.submitted_at, utcnow())
    item = service.new_entry(
        spec,
        values=values,
        client_uuid=str(body.client_uuid),
        channel=body.channel,
        place=place,
        user_id=user.id,
        language=body.language,
        started_at=started,
        submitted_at=submitted,
        identity=identity,
    )
    stored: responses.Stored = await writer.submit("response", item)
    if stored.outcome == responses.Outcome.conflict:
        detail = _("This client UUID was already used for a different response.")
        return JSONResponse({"detail": detail, "errors": []}, status_code=409)
    status = 201 if stored.outcome == responses.Outcome.created else 200
    return JSONResponse({"receipt": stored.receipt, "response_id": stored.response_id}, status_code=status)
