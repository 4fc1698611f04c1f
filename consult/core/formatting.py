"""Numbers as the interface shows them, in the request's language, from Babel's locale data
(Swedish: 1 234,5 and 12 %; English: 1,234.5 and 12%)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent, get_decimal_symbol

from consult.core.i18n import N_, _, current_language

MISSING = "–"
LOCAL_TIME = ZoneInfo("Europe/Stockholm")  # the region's clock: every date and time people read


def local(moment: datetime) -> datetime:
    """A stored moment on the region's clock. SQLite hands timestamps back without their zone;
    they were stored in UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(LOCAL_TIME)


def local_stamp(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M", empty: str = "") -> str:
    """A moment as the staff pages list it ("2026-03-31 14:05"), on the region's clock."""
    return local(moment).strftime(pattern) if moment else empty


def last_day(closes_at: datetime) -> date:
    """The last day something that closes at `closes_at` can be done: a survey closing at midnight
    has the day before as its last day, on the region's clock."""
    moment = local(closes_at)
    return moment.date() - timedelta(days=1) if moment.time() == time(0, 0) else moment.date()


def long_date(value: date | datetime | None) -> str:
    """A day as people write it ("31 mars 2026"); a moment is read on the region's clock first."""
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        value = local(value).date()
    return format_date(value, "d MMMM y", locale=current_language.get())


def _decimals(digits: int) -> str:
    return "." + "0" * digits if digits > 0 else ""


def percent(value: float | None, digits: int = 0) -> str:
    """A share (0.25) as a percentage with `digits` decimals, in the language's own pattern."""
    if value is None:
        return MISSING
    locale = Locale.parse(current_language.get())
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0" + _decimals(digits), 1)
    shown = format_percent(value, format=pattern, locale=locale)
    if value > 0 and shown == format_percent(0, format=pattern, locale=locale):
        # Someone chose it: "0 %" would say nobody did.
        return "<" + format_percent(10 ** -(digits + 2), format=pattern, locale=locale)
    return shown


def number(value: float | None, digits: int = 1) -> str:
    """A count or measure with thousands grouped: whole numbers without decimals when at most one
    decimal is asked for, otherwise `digits` decimals."""
    if value is None:
        return MISSING
    shown = 0 if float(value).is_integer() and digits <= 1 else digits
    return format_decimal(value, format="#,##0" + _decimals(shown), locale=current_language.get())


def decimal(value: float | None, digits: int = 2) -> str:
    """A measure such as an F1 score, always with `digits` decimals."""
    if value is None:
        return MISSING
    return format_decimal(value, format="#,##0" + _decimals(digits), locale=current_language.get())


def typed_number(value: float, language: str | None = None) -> str:
    """A number as a person types it back: every digit kept (the shortest form that reads back as the
    same float), no thousands separator, the language's decimal sign (2,5 in Swedish)."""
    if value.is_integer():
        return str(int(value))
    return repr(value).replace(".", get_decimal_symbol(language or current_language.get()))


def hidden_label(item: Any, translate: Callable[[str], str] = _) -> str:
    """What a published table shows for a hidden figure: small, or hidden so that a small one
    cannot be worked out from a total (see consult.workspace.weighting.protect_complements)."""
    complement = item.get("complement") if isinstance(item, dict) else getattr(item, "complement", False)
    return translate(N_("hidden")) if complement else translate(N_("fewer than 5"))


# Swedish alphabetical order puts å, ä and ö after z, in that order; é sorts as e and ü as y.
_SWEDISH_ORDER = str.maketrans({"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}", "é": "e", "è": "e", "ü": "y"})


def swedish_sort_key(text: str) -> str:
    """A name's place in a Swedish list, whatever the database's collation: PostgreSQL sorts by its
    cluster's locale (C puts "arbetsgivarverket" after "Zeta AB", en_US "Ånge" among the a's) and
    SQLite by code point (Ä before Å)."""
    return unicodedata.normalize("NFC", text).casefold().translate(_SWEDISH_ORDER)


def grouped_code(code: str, size: int = 4) -> str:
    """A long code in groups joined by dashes ("ABCD-EFGH-IJ"), easier to read out and to copy
    down by hand; where the code is typed back, spaces and dashes are ignored."""
    return "-".join(code[start : start + size] for start in range(0, len(code), size))
