"""The one exception shape for input a service refuses field by field, so routes can show the
message beside the field it belongs to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class FieldProblem(ValueError):
    """Input a service cannot use: `field` names the form field, `message` is an English msgid for _()
    whose %(name)s placeholders `params` fill."""

    def __init__(self, field: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.params = params

    def text(self, translate: Callable[[str], str]) -> str:
        """The message in the request's language (pass the route's `_`)."""
        return translate(self.message) % self.params if self.params else translate(self.message)
