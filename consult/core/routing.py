"""Routing helpers: the id type of addresses, a route class for the few JSON endpoints under load,
and strict parsing of JSON request bodies."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from consult.core.i18n import N_, _

Model = TypeVar("Model", bound=BaseModel)

# A row's id in an address. Beyond what an id column holds it is no id at all (SQLite cannot even
# bind 2**63), so such an address gets the usual answer for a bad request instead of reaching the
# database.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class DirectRoute(APIRoute):
    """Calls its endpoint with the request and the path parameters, skipping FastAPI's
    per-request dependency resolution (which costs as much as validating a whole response).
    The endpoint reads and validates its own body; OpenAPI still documents the route from its
    signature, `responses` and `openapi_extra`. Use only for endpoints without dependencies."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            return await endpoint(request, **request.path_params)

        return handler


def json_body(model: type[Model]) -> Callable[[Request], Awaitable[Model]]:
    """A dependency that reads the request body as `model`, parsed by pydantic straight from the
    bytes. Unlike the standard library's parser, pydantic refuses a lone surrogate ("\\ud800"),
    which no database can store, so such a body gets a 422 instead of failing later as a 500.
    Errors keep the shape FastAPI gives them (422, one per field)."""

    async def parse(request: Request) -> Model:
        try:
            return model.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None

    return parse


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its nested models written in place, for a request body declared
    by hand in `openapi_extra`, where pydantic's "#/$defs/..." references would point nowhere."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


def json_request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its body with json_body."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline_schema(model)}}}}


# pydantic's messages are English; a Swedish client gets its field errors in Swedish like the rest
# of the response. The error's `code` (pydantic's type) stays as it is for programs.
_VALIDATION_MESSAGES = {
    "missing": N_("This field is required."),
    "extra_forbidden": N_("This field is not part of the request."),
    "json_invalid": N_("The body is not valid JSON."),
    "json_type": N_("The body is not valid JSON."),
    "model_attributes_type": N_("This should be an object."),
    "dict_type": N_("This should be an object."),
    "list_type": N_("This should be a list."),
    "string_type": N_("This should be text."),
    "string_too_long": N_("This text is too long."),
    "string_too_short": N_("This text is too short."),
    "string_pattern_mismatch": N_("This text has characters that are not allowed here."),
    "literal_error": N_("This is not one of the allowed values."),
    "enum": N_("This is not one of the allowed values."),
    "uuid_parsing": N_("This should be a UUID."),
    "uuid_type": N_("This should be a UUID."),
    "int_parsing": N_("This should be a whole number."),
    "int_type": N_("This should be a whole number."),
    "int_from_float": N_("This should be a whole number."),
    "float_parsing": N_("This should be a number."),
    "float_type": N_("This should be a number."),
    "bool_parsing": N_("This should be true or false."),
    "bool_type": N_("This should be true or false."),
    "greater_than": N_("This number is too small."),
    "greater_than_equal": N_("This number is too small."),
    "less_than": N_("This number is too large."),
    "less_than_equal": N_("This number is too large."),
    "value_error": N_("This value is not valid."),
}


def validation_message(error_type: str) -> str:
    """A field error of request validation, in the request's language."""
    return _(_VALIDATION_MESSAGES.get(error_type, N_("This value is not valid.")))


def public_base_url(request: Request) -> str:
    """The site's address as residents and organisations reach it, without a trailing slash:
    CONSULT_BASE_URL when set, else the address this request came to. Links that leave the site
    (posters, QR codes, letters, invitation mails, the report's address) use it, so that one made
    from a staff member's internal address still leads residents to the public site."""
    return (os.environ.get("CONSULT_BASE_URL") or str(request.base_url)).rstrip("/")
