"""A route class for the few JSON endpoints under load."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


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
