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


def test_names_sort_in_swedish_order_whatever_the_database() -> None:
    from consult.core.formatting import swedish_sort_key

    names = ["Östersunds kommun", "Åre kommun", "arbetsgivarverket", "Zeta AB", "Älvdalens kommun", "Ånge kommun"]
    assert sorted(names, key=swedish_sort_key) == [
        "arbetsgivarverket", "Zeta AB", "Ånge kommun", "Åre kommun", "Älvdalens kommun", "Östersunds kommun"]
