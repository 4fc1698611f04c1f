"""Whole numbers typed by people or sent by clients."""

from __future__ import annotations


def as_whole_number(text: str | None, max_digits: int = 9) -> int | None:
    """A whole number of at most `max_digits` ASCII digits, else None. str.isdigit alone is not the
    test: "²" and "٣" are digits to it, and int() refuses the one and reads the other."""
    if text is None:
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= max_digits):
        return None
    return int(text)
