"""The one exception shape for input a service refuses field by field, so routes can show the
message beside the field it belongs to."""

from __future__ import annotations


class FieldProblem(ValueError):
    """Input a service cannot use: `field` names the form field, `message` is an English msgid for _()."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
