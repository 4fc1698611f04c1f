"""Figures read the way each language writes them."""

from __future__ import annotations

import pytest

from consult.core.formatting import decimal, number, percent
from consult.core.i18n import current_language


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("sv", ("12,5\xa0%", "40\xa0%", "12\xa0345", "0,82", "–")),
        ("en", ("12.5%", "40%", "12,345", "0.82", "–")),
    ],
)
def test_numbers_in_the_readers_language(language: str, expected: tuple[str, ...]) -> None:
    token = current_language.set(language)
    try:
        shown = (percent(0.125, 1), percent(0.4), number(12345), decimal(0.8213), number(None))
    finally:
        current_language.reset(token)
    assert shown == expected


def test_a_share_that_rounds_to_zero_is_not_shown_as_nobody() -> None:
    token = current_language.set("sv")
    try:
        shown = (percent(1 / 400), percent(0.004, 1), percent(0), percent(0.006))
    finally:
        current_language.reset(token)
    assert shown == ("<1\xa0%", "0,4\xa0%", "0\xa0%", "1\xa0%")
