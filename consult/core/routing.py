"""Routing helpers: the id type of addresses, and a route class for the few JSON endpoints under load."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Path, Request, Response
from fastapi.routing import APIRoute

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
