"""XLSForm import and export: surveys designed in a spreadsheet (ODK, KoboToolbox) and back.

Pure conversion, no database and no HTTP: `read_xlsform(data)` gives an `XLSFormResult` (a
SurveySpec when one could be built, and every problem found, cell by cell, in the order the
workbook reads: sheet by sheet as its tabs are ordered, row by row) and
`write_xlsform(spec)` gives the bytes of an .xlsx workbook that reads back to the same spec.

The subset we read, and how it maps to our model
------------------------------------------------
Sheets `survey`, `choices` and `settings` (names in any case, stray spaces ignored).

survey sheet, column `type`:
  begin_group / end_group   a page; its label is the page title. Questions outside any group
                            form a page of their own (one page per run of ungrouped rows).
                            Groups inside groups are not supported.
  select_one LIST           single_choice; municipality, age_band or gender when the `consult_type`
                            column says so, or when LIST is named exactly `municipality`,
                            `age_band` or `gender` (consult_type wins).
  select_multiple LIST      multiple_choice; `count-selected(.) <= N` in `constraint` -> max_choices.
  rank LIST                 ranking (same max_choices rule).
  range                     scale; `parameters` start=A end=B (step must be 1). Without
                            parameters XLSForm means 1 to 10. Our default scale 1-5 is stored
                            as no bounds, so start=1 end=5 reads as our default.
  integer, decimal          number; `. >= A and . <= B` in `constraint` -> min and max. An
                            integer question takes whole numbers only (whole_numbers) and exports
                            as integer again. For integer, `. > A` reads as `. >= A+1`.
  text                      short_text; long_text with `appearance` multiline (or consult_type);
                            `string-length(.) <= N` -> max_length.
  note, date and everything else are reported as not supported, row by row.

Columns: name (the question code), label, hint (our help text), required (yes/no, TRUE/FALSE,
true()/false(), 1/0), required_message, relevant, constraint, constraint_message, appearance,
parameters. Our own extensions, which other tools ignore: consult_type (one of our question
types), consult_priority (the strategy item a question or choice belongs to),
consult_dont_know (yes: a scale offers "vet ej"), consult_low_label and consult_high_label
(scale end labels).

`relevant`: tests `${q} = 'x'` (equals; also `'x' = ${q}`), `selected(${q}, 'x')` (includes),
`${q} != 'x'` and `not(...)` of one test (our `not` op), where q is an earlier choice question
and x one of its choice names (quoted with ' or ", or a bare number). Tests combine with `and`,
`or` (any case), `not(...)` around a combination, and brackets; not(...) binds tightest, then
`and`, then `or`, as in XPath. `${a} = '1' or ${b} = '2' and not(${c} = '3')` reads as
`${a} = '1' or (${b} = '2' and not(${c} = '3'))`. This becomes a condition tree (all-of, any-of,
not; see consult.surveys.schema) at most 8 levels deep. A test on a question that was not
shown has no truth value: it never makes a condition true, and neither does not(...) of it.
Other functions and operators (count-selected, <, arithmetic, ...) are reported with the spot
where reading stopped; each test that names an unknown question or choice is reported on its
own. Export writes the same syntax, brackets around every combination inside another.

choices sheet: list_name (or `list name`), name, label, consult_priority. Choice codes must be
numbers in our model: a name that is an integer is the code; other names get the lowest
positive codes not taken, in sheet order, and keep their name in ChoiceSpec.name so they
export (and match `relevant` expressions) by the same name.

settings sheet: form_title -> title, form_id -> slug (lower case, å/ä/ö folded, other
characters as '-'), version (kept in XLSFormResult.version only: our revision counts edits
in consult), default_language (which language the plain `label`, `hint`, ... columns are in;
Swedish if not given), style (ignored: every group is a page anyway). Our extensions:
consult_title (the title in the other language: pyxform cannot read a translated form_title,
though we read one), consult_intro, consult_privacy_notice (texts), consult_audience, consult_identity_mode,
consult_access (open, or invitation: only people with an invitation code), consult_status,
consult_opens_at, consult_closes_at (ISO dates), consult_minutes_needed,
consult_retention_days.

Languages: `label::Svenska (sv)`, `label::English (en)`, `label:English` (one colon),
`label::sv`; the code in brackets wins over the name. Texts in other languages are reported.

required_message and constraint_message go to QuestionSpec.required_message and
.constraint_message. Anything else with a value (another column, sheet, type, appearance,
expression, choice_filter) is reported with its sheet, row, column and reason, never dropped
without a word. The spec is still built from the rest when it can be, so a caller can show
both; XLSFormResult.ok says whether there was nothing to report.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from consult.core.i18n import N_, gettext_for
from consult.core.numbers import as_whole_number
from consult.surveys.models import (
    CHOICE_TYPES,
    LIST_TYPES,
    SINGLE_CODE_TYPES,
    Access,
    Audience,
    ConditionOp,
    IdentityMode,
    QuestionType,
    SurveyStatus,
)
from consult.surveys.schema import (
    MAX_CONDITION_DEPTH,
    AllOf,
    AnyOf,
    ChoiceSpec,
    Condition,
    ConditionSpec,
    Localized,
    NotCondition,
    PageSpec,
    QuestionSpec,
    SurveySpec,
    condition_depth,
    condition_parts,
    normalize_condition,
)

LANGUAGES = ("sv", "en")
LANGUAGE_HEADERS = {"sv": "Svenska (sv)", "en": "English (en)"}
_LANGUAGE_NAMES = {
    "sv": "sv",
    "swe": "sv",
    "svenska": "sv",
    "swedish": "sv",
    "en": "en",
    "eng": "en",
    "english": "en",
    "engelska": "en",
}
SURVEY, CHOICES, SETTINGS = "survey", "choices", "settings"
SCALE_DEFAULT = (1, 5)
RANGE_DEFAULT = (1, 10)  # what XLSForm means by a range without parameters

Source = bytes | bytearray | str | Path | IO[bytes]

log = logging.getLogger(__name__)


# --- Problems -----------------------------------------------------------------------------


@dataclass(frozen=True)
class XLSFormProblem:
    """Something in the workbook we could not take over. `row` is the spreadsheet's row number
    (the header is row 1); `column` is the header as written. Both are empty for problems with
    a whole file or sheet."""

    sheet: str
    row: int | None
    column: str
    template: str  # English, with %(name)s parameters; translated by message()
    params: dict[str, Any] = field(default_factory=dict)
    column_letter: str = ""

    @property
    def reason(self) -> str:
        return self.template % self.params if self.params else self.template

    def message(self, language: str) -> str:
        text = gettext_for(language, self.template)
        return text % self.params if self.params else text

    @property
    def cell(self) -> str:
        return f"{self.column_letter}{self.row}" if self.column_letter and self.row else ""

    def where(self) -> str:
        place = self.sheet or "file"
        if self.cell:
            return f"{place}!{self.cell} ({self.column})" if self.column else f"{place}!{self.cell}"
        if self.row:
            return f"{place} row {self.row}"
        return place

    def __str__(self) -> str:
        return f"{self.where()}: {self.reason}"


@dataclass
class XLSFormResult:
    spec: SurveySpec | None
    problems: list[XLSFormProblem]
    version: str | None = None

    @property
    def ok(self) -> bool:
        return self.spec is not None and not self.problems


# --- Reading the workbook -----------------------------------------------------------------

_HEADER_ALIASES = {
    "jr:constraintmsg": "constraint_message",
    "jr:requiredmsg": "required_message",
    "list": "list_name",
    "listname": "list_name",
}


@dataclass(frozen=True)
class _Column:
    index: int
    header: str
    base: str
    language: str | None  # sv/en; None when the header names no language
    language_label: str | None  # the text after the separator, when it names a language

    @property
    def letter(self) -> str:
        return get_column_letter(self.index + 1)


def _parse_header(raw: Any, index: int) -> _Column | None:
    header = _cell_text(raw)
    if not header:
        return None
    lowered = header.lower()
    rest: str | None = None
    for alias, base in _HEADER_ALIASES.items():
        if lowered == alias or lowered.startswith(alias + ":"):
            rest = header[len(alias) :].lstrip(":").strip() or None
            return _Column(index, header, base, _language_code(rest), rest)
    if "::" in header:
        base_text, rest = header.split("::", 1)
    elif ":" in header:
        base_text, rest = header.split(":", 1)
    else:
        base_text = header
    base = re.sub(r"\s+", "_", base_text.strip().lower())
    base = _HEADER_ALIASES.get(base, base)
    rest = rest.strip() if rest else None
    return _Column(index, header, base, _language_code(rest), rest or None)


def _language_code(label: str | None) -> str | None:
    if not label:
        return None
    bracket = re.search(r"\(\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?\s*\)\s*$", label)
    if bracket:
        return _LANGUAGE_NAMES.get(bracket.group(1).lower())
    return _LANGUAGE_NAMES.get(label.strip().lower())


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).replace("\u00a0", " ").strip()


@dataclass
class _Sheet:
    kind: str
    title: str  # as written in the workbook
    columns: list[_Column]
    rows: list[tuple[int, tuple[Any, ...]]]  # (row number, cells); empty rows left out


class _Problems:
    def __init__(self) -> None:
        self.items: list[XLSFormProblem] = []
        self.sheet_order: list[str] = []  # the workbook's sheet titles, in the order of its tabs

    def in_reading_order(self) -> list[XLSFormProblem]:
        """The problems in the order someone reading the workbook meets them, whatever order they
        were found in: the whole file's first, then sheet by sheet in the order of the workbook's
        tabs, and within a sheet row by row and left to right; a problem with a whole sheet or row
        comes before those with its cells."""
        tabs = {title: position for position, title in enumerate(self.sheet_order)}

        def place(problem: XLSFormProblem) -> tuple[bool, int, int, int]:
            return (bool(problem.sheet), tabs.get(problem.sheet, len(tabs)), problem.row or 0,
                    _column_number(problem.column_letter))

        return sorted(self.items, key=place)

    def add(self, sheet: str, row: int | None, column: _Column | None, template: str, /, **params: Any) -> None:
        self.items.append(
            XLSFormProblem(
                sheet=sheet,
                row=row,
                column=column.header if column else "",
                template=template,
                params=params,
                column_letter=column.letter if column else "",
            )
        )


def _column_number(letters: str) -> int:
    """A column's position from its letters (A = 1, Z = 26, AA = 27); 0 without a column."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


class _RowView:
    """One row of a sheet, read by column base name. Remembers which columns were read so the
    values nobody read can be reported afterwards."""

    def __init__(self, sheet: _Sheet, number: int, cells: tuple[Any, ...], default_language: str, problems: _Problems):
        self.sheet = sheet
        self.number = number
        self.cells = cells
        self.default_language = default_language
        self.problems = problems
        self.consumed: set[str] = set()

    def _value(self, column: _Column) -> str:
        return _cell_text(self.cells[column.index]) if column.index < len(self.cells) else ""

    def column(self, base: str) -> _Column | None:
        return next((c for c in self.sheet.columns if c.base == base), None)

    def problem(self, base: str | None, template: str, /, **params: Any) -> None:
        column = self.column(base) if base else None
        self.problems.add(self.sheet.title, self.number, column, template, **params)

    def get(self, base: str) -> str:
        self.consumed.add(base)
        found = ""
        found_in: _Column | None = None
        for column in self.sheet.columns:
            if column.base != base:
                continue
            value = self._value(column)
            if not value:
                continue
            if not found:
                found, found_in = value, column
            elif value != found and found_in is not None:
                self.problems.add(
                    self.sheet.title,
                    self.number,
                    column,
                    N_("This differs from column %(other)s, which is used."),
                    other=found_in.header,
                )
        return found

    def localized(self, base: str) -> Localized | None:
        self.consumed.add(base)
        texts: dict[str, tuple[str, _Column]] = {}
        for column in self.sheet.columns:
            if column.base != base:
                continue
            value = self._value(column)
            if not value:
                continue
            language = column.language or (None if column.language_label else self.default_language)
            if language is None:
                self.problems.add(
                    self.sheet.title,
                    self.number,
                    column,
                    N_("Texts in %(language)s are not imported: surveys have Swedish and English."),
                    language=column.language_label,
                )
                continue
            if language in texts and texts[language][0] != value:
                self.problems.add(
                    self.sheet.title,
                    self.number,
                    column,
                    N_("This differs from column %(other)s, which is used."),
                    other=texts[language][1].header,
                )
                continue
            texts.setdefault(language, (value, column))
        return {language: text for language, (text, _) in texts.items()} or None

    def consume_all(self) -> None:
        """The whole row is reported already; its other cells need no word of their own."""
        self.consumed.update(column.base for column in self.sheet.columns)

    def report_unread(self) -> None:
        known = _KNOWN_COLUMNS[self.sheet.kind]
        for column in self.sheet.columns:
            if column.base in self.consumed or not self._value(column):
                continue
            if column.base in known:
                template = N_("Column %(header)s is not used on this kind of row; this value is not imported.")
            else:
                template = N_("Column %(header)s is not supported; this value is not imported.")
            self.problems.add(self.sheet.title, self.number, column, template, header=column.header)

    def is_empty(self) -> bool:
        return all(not _cell_text(value) for value in self.cells)


_KNOWN_COLUMNS = {
    SURVEY: {
        "type", "name", "label", "hint", "required", "required_message", "relevant", "constraint",
        "constraint_message", "appearance", "parameters", "consult_type", "consult_priority",
        "consult_dont_know", "consult_low_label", "consult_high_label",
    },
    CHOICES: {"list_name", "name", "label", "consult_priority"},
    SETTINGS: {
        "form_title", "consult_title", "form_id", "version", "default_language", "style", "consult_intro",
        "consult_privacy_notice", "consult_audience", "consult_identity_mode", "consult_access", "consult_status",
        "consult_opens_at", "consult_closes_at", "consult_minutes_needed", "consult_retention_days",
    },
}  # fmt: skip


def _load_bytes(source: Source) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    return source.read()


def _open_sheets(data: bytes, problems: _Problems) -> dict[str, _Sheet] | None:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, KeyError, openpyxl's own types: anything means "not a workbook"
        # The library's own reason ("File is not a zip file") is English and says nothing to staff.
        log.info("not an Excel workbook: %s", _short(exc))
        problems.add("", None, None, N_("This is not an Excel workbook (.xlsx). Save the form as an Excel "
                                        "workbook and upload it again."))
        return None
    sheets: dict[str, _Sheet] = {}
    problems.sheet_order = list(workbook.sheetnames)
    try:
        for worksheet in workbook.worksheets:
            kind = worksheet.title.strip().lower()
            rows = [
                (number, tuple(cells))
                for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1)
                if any(_cell_text(value) for value in cells)
            ]
            if kind not in (SURVEY, CHOICES, SETTINGS):
                if rows:
                    problems.add(
                        worksheet.title,
                        None,
                        None,
                        N_("Sheet %(name)s is not read: only survey, choices and settings are."),
                        name=worksheet.title,
                    )
                continue
            if kind in sheets:
                problems.add(
                    worksheet.title, None, None, N_("A second %(name)s sheet; only the first is read."), name=kind
                )
                continue
            sheets[kind] = _make_sheet(kind, worksheet.title, rows)
    finally:
        workbook.close()
    return sheets


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _make_sheet(kind: str, title: str, rows: list[tuple[int, tuple[Any, ...]]]) -> _Sheet:
    if not rows:
        return _Sheet(kind, title, [], rows)
    # The header is the first row that has anything in it.
    header_cells = rows[0][1]
    columns = [c for index, raw in enumerate(header_cells) if (c := _parse_header(raw, index)) is not None]
    return _Sheet(kind, title, columns, rows[1:])


# --- Settings -----------------------------------------------------------------------------


@dataclass
class _Settings:
    default_language: str = "sv"
    title: Localized | None = None
    slug: str = ""
    form_id: str = ""
    version: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    row: int | None = None
    sheet_title: str = SETTINGS


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:80].strip("-")


def _read_settings(sheet: _Sheet | None, problems: _Problems) -> _Settings:
    settings = _Settings()
    if sheet is None or not sheet.rows:
        return settings
    settings.sheet_title = sheet.title
    number, cells = sheet.rows[0]
    settings.row = number
    for extra_number, _ in sheet.rows[1:]:
        problems.add(sheet.title, extra_number, None, N_("Settings are read from the first row under the header only."))
    language_view = _RowView(sheet, number, cells, "sv", problems)
    language_text = language_view.get("default_language")
    if language_text:
        code = _language_code(language_text)
        if code is None:
            language_view.problem(
                "default_language", N_("Unknown language %(language)s: use Swedish or English."), language=language_text
            )
        else:
            settings.default_language = code
    view = _RowView(sheet, number, cells, settings.default_language, problems)
    view.consumed.add("default_language")
    # form_title in any language, with consult_title (how we export titles pyxform cannot translate) filling in.
    settings.title = {**(view.localized("consult_title") or {}), **(view.localized("form_title") or {})} or None
    form_id = view.get("form_id")
    settings.form_id = form_id
    settings.slug = slugify(form_id) if form_id else ""
    if form_id and not settings.slug:
        view.problem("form_id", N_("No usable survey address (slug) can be made from %(value)s."), value=form_id)
    settings.version = view.get("version") or None
    view.get("style")  # every group is a page in consult, so the page style needs no setting
    settings.fields = _consult_settings(view)
    view.report_unread()
    return settings


_SETTING_ENUMS: dict[str, type] = {
    "consult_audience": Audience,
    "consult_identity_mode": IdentityMode,
    "consult_access": Access,
    "consult_status": SurveyStatus,
}


def _consult_settings(view: _RowView) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for base, target in (("consult_intro", "intro"), ("consult_privacy_notice", "privacy_notice")):
        text = view.localized(base)
        if text:
            fields[target] = text
    for base, enum in _SETTING_ENUMS.items():
        value = view.get(base)
        if not value:
            continue
        allowed = [member.value for member in enum]  # type: ignore[attr-defined]
        if value.lower() in allowed:
            fields[base.removeprefix("consult_")] = value.lower()
        else:
            view.problem(
                base,
                N_("Unknown value %(value)s; expected one of %(allowed)s."),
                value=value,
                allowed=", ".join(allowed),
            )
    for base in ("consult_opens_at", "consult_closes_at"):
        value = view.get(base)
        if value:
            try:
                fields[base.removeprefix("consult_")] = datetime.fromisoformat(value)
            except ValueError:
                view.problem(base, N_("%(value)s is not a date and time (2025-03-01T08:00:00+00:00)."), value=value)
    for base in ("consult_minutes_needed", "consult_retention_days"):
        value = view.get(base)
        if value:
            if as_whole_number(value) is not None:
                fields[base.removeprefix("consult_")] = int(value)
            else:
                view.problem(base, N_("%(value)s is not a whole number."), value=value)
    return fields


# --- Choices ------------------------------------------------------------------------------


@dataclass
class _ChoiceList:
    name: str
    choices: list[ChoiceSpec]


def _is_integer_name(name: str) -> bool:
    return bool(re.fullmatch(r"-?(0|[1-9][0-9]*)", name))


def _read_choices(sheet: _Sheet | None, default_language: str, problems: _Problems) -> dict[str, _ChoiceList]:
    if sheet is None:
        return {}
    raw: dict[str, list[tuple[str, Localized, str | None]]] = {}
    for number, cells in sheet.rows:
        view = _RowView(sheet, number, cells, default_language, problems)
        list_name, name = view.get("list_name"), view.get("name")
        label = view.localized("label")
        priority = view.get("consult_priority") or None
        view.report_unread()
        if not list_name:
            view.problem("list_name", N_("A choice without a list name."))
            continue
        if not name:
            view.problem("name", N_("A choice without a name."))
            continue
        if not label:
            view.problem("label", N_("Choice %(name)s has no label."), name=name)
            continue
        entries = raw.setdefault(list_name, [])
        if any(existing == name for existing, _, _ in entries):
            view.problem("name", N_("Choice name %(name)s appears twice in list %(list)s."), name=name, list=list_name)
            continue
        entries.append((name, label, priority))
    return {name: _ChoiceList(name, _number_choices(entries)) for name, entries in raw.items()}


def _number_choices(entries: list[tuple[str, Localized, str | None]]) -> list[ChoiceSpec]:
    """Integer names are the codes; other names take the lowest free codes, in order."""
    taken = {int(name) for name, _, _ in entries if _is_integer_name(name)}
    next_code = 1
    choices = []
    for name, label, priority in entries:
        if _is_integer_name(name):
            choices.append(ChoiceSpec(code=int(name), label=label, priority_key=priority))
            continue
        while next_code in taken:
            next_code += 1
        taken.add(next_code)
        choices.append(ChoiceSpec(code=next_code, label=label, priority_key=priority, name=name))
    return choices


def choice_name(choice: ChoiceSpec) -> str:
    return choice.name or str(choice.code)


# --- Survey rows --------------------------------------------------------------------------

_CHOICE_KINDS = {"select_one", "select_multiple", "rank"}
_TYPE_ALIASES = {
    "string": "text",
    "int": "integer",
    "begin group": "begin_group",
    "end group": "end_group",
    "select one": "select_one",
    "select multiple": "select_multiple",
    "select all that apply": "select_multiple",
    "begin repeat": "begin_repeat",
    "end repeat": "end_repeat",
}
_METADATA_TYPES = {
    "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username",
    "email", "audit", "start-geopoint", "background-audio", "uuid", "instanceid",
}  # fmt: skip
_NOT_YET = {
    "note": N_("Notes (text without an answer) are not supported yet."),
    "date": N_("Date questions are not supported yet."),
    "time": N_("Time questions are not supported."),
    "datetime": N_("Date and time questions are not supported."),
    "begin_repeat": N_("Repeated groups are not supported."),
    "end_repeat": N_("Repeated groups are not supported."),
    "calculate": N_("Calculations are not supported."),
}
_ALLOWED_TYPES = {  # the question types each XLSForm type can become
    "select_one": {
        QuestionType.single_choice,
        QuestionType.municipality,
        QuestionType.age_band,
        QuestionType.gender,
    },
    "select_multiple": {QuestionType.multiple_choice},
    "rank": {QuestionType.ranking},
    "range": {QuestionType.scale},
    "integer": {QuestionType.number},
    "decimal": {QuestionType.number},
    "text": {QuestionType.short_text, QuestionType.long_text},
}
_STANDARD_LISTS = {"municipality", "age_band", "gender"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_TRUE = {"yes", "true", "true()", "1", "y"}
_FALSE = {"no", "false", "false()", "0", "n"}


def _parse_type(text: str) -> tuple[str, str | None, list[str]]:
    """'Select_one  yes_no' -> ('select_one', 'yes_no', []): the keyword in lower case, the list
    name as written (list names are case-sensitive), and any further words."""
    words = text.split()
    lowered = [word.lower() for word in words]
    kind, rest = lowered[0], words[1:]
    for alias, alias_kind in sorted(_TYPE_ALIASES.items(), key=lambda item: -len(item[0])):
        alias_words = alias.split()
        if lowered[: len(alias_words)] == alias_words:
            kind, rest = alias_kind, words[len(alias_words) :]
            break
    if kind in _CHOICE_KINDS:
        return kind, (rest[0] if rest else None), rest[1:]
    return kind, None, rest


def _boolean(view: _RowView, base: str) -> bool:
    value = view.get(base)
    if not value or value.lower() in _FALSE:
        return False
    if value.lower() in _TRUE:
        return True
    view.problem(base, N_("%(value)s is not yes or no; expressions are not supported here."), value=value)
    return False


@dataclass
class _Page:
    title: Localized | None
    questions: list[QuestionSpec]
    row: int | None
    grouped: bool


class _SurveyReader:
    def __init__(
        self, sheet: _Sheet, lists: dict[str, _ChoiceList], default_language: str, problems: _Problems
    ) -> None:
        self.sheet = sheet
        self.lists = lists
        self.default_language = default_language
        self.problems = problems
        self.pages: list[_Page] = []
        self.current: _Page | None = None
        self.questions: dict[str, QuestionSpec] = {}
        self.all_names = self._all_names()
        self.failed_names: set[str] = set()  # questions reported already, so a later duplicate is still caught
        self.nested_groups = 0  # groups inside a page's group: reported, and their end_group skipped

    def _all_names(self) -> set[str]:
        names = set()
        name_column = next((c for c in self.sheet.columns if c.base == "name"), None)
        if name_column:
            for _, cells in self.sheet.rows:
                if name_column.index < len(cells):
                    names.add(_cell_text(cells[name_column.index]))
        return names

    def read(self) -> list[PageSpec]:
        if not any(c.base == "type" for c in self.sheet.columns):
            self.problems.add(self.sheet.title, 1, None, N_("The survey sheet has no type column."))
            return []
        for number, cells in self.sheet.rows:
            view = _RowView(self.sheet, number, cells, self.default_language, self.problems)
            self._row(view)
        if self.current and self.current.grouped:
            self.problems.add(
                self.sheet.title,
                self.current.row,
                self._column("type"),
                N_("This group is never closed with end_group."),
            )
        return self._page_specs()

    def _column(self, base: str) -> _Column | None:
        return next((c for c in self.sheet.columns if c.base == base), None)

    def _row(self, view: _RowView) -> None:
        type_text = view.get("type")
        if not type_text:
            view.problem("type", N_("This row has no type, so nothing in it is imported."))
            view.consume_all()
            return
        kind, list_name, extra = _parse_type(type_text)
        if kind == "begin_group":
            self._begin_group(view)
        elif kind == "end_group":
            self._end_group(view)
        elif kind in _ALLOWED_TYPES:
            if extra:
                view.problem(
                    "type", N_("%(value)s is not supported (only the list name may follow the type)."), value=type_text
                )
                return
            question = self._question(view, kind, list_name)
            if question is not None:
                self._page_for_question(view).questions.append(question)
                self.questions[question.code] = question
            view.report_unread()
        elif kind in _NOT_YET:
            view.problem("type", _NOT_YET[kind])
        elif kind in _METADATA_TYPES:
            view.problem("type", N_("Metadata (%(value)s) is not collected."), value=type_text)
        else:
            view.problem("type", N_("Unknown question type %(value)s."), value=type_text)

    def _begin_group(self, view: _RowView) -> None:
        view.get("name")
        title = view.localized("label")
        appearance = view.get("appearance")
        if appearance and appearance.lower() != "field-list":
            view.problem("appearance", N_("Appearance %(value)s is not supported."), value=appearance)
        if self.current and self.current.grouped:
            view.problem(
                "type", N_("Groups inside groups are not supported; this group's questions join the outer page.")
            )
            self.nested_groups += 1
            view.report_unread()
            return
        self.current = _Page(title, [], view.number, grouped=True)
        self.pages.append(self.current)
        view.report_unread()

    def _end_group(self, view: _RowView) -> None:
        view.get("name")
        view.get("label")
        if self.nested_groups:
            self.nested_groups -= 1
        elif self.current is None or not self.current.grouped:
            view.problem("type", N_("end_group without a begin_group."))
        else:
            if not self.current.questions:
                self.problems.add(
                    self.sheet.title,
                    self.current.row,
                    self._column("type"),
                    N_("This group has no questions we could import."),
                )
            self.current = None
        view.report_unread()

    def _page_for_question(self, view: _RowView) -> _Page:
        if self.current is None:
            self.current = _Page(None, [], view.number, grouped=False)
            self.pages.append(self.current)
        return self.current

    def _page_specs(self) -> list[PageSpec]:
        return [PageSpec(title=page.title, questions=tuple(page.questions)) for page in self.pages if page.questions]

    # -- one question --

    def _question(self, view: _RowView, kind: str, list_name: str | None) -> QuestionSpec | None:
        code = view.get("name")
        if not code:
            view.problem("name", N_("A question without a name."))
        elif not _NAME.match(code):
            view.problem(
                "name",
                N_("Name %(value)s: use letters a-z, digits and _, starting with a letter (at most 64)."),
                value=code,
            )
        elif code in self.questions or code in self.failed_names:
            view.problem("name", N_("Name %(value)s is used by an earlier question."), value=code)
        else:
            question = self._read_question(view, kind, list_name, code)
            if question is None:
                self.failed_names.add(code)
            return question
        view.consume_all()
        return None

    def _read_question(self, view: _RowView, kind: str, list_name: str | None, code: str) -> QuestionSpec | None:
        text = view.localized("label")
        if not text:
            view.problem("label", N_("Question %(value)s has no label."), value=code)
        qtype = self._question_type(view, kind, list_name)
        fields: dict[str, Any] = {
            "code": code,
            "type": qtype,
            "text": text or {},
            "help": view.localized("hint"),
            "required": _boolean(view, "required"),
            "required_message": view.localized("required_message"),
            "constraint_message": view.localized("constraint_message"),
            "priority_key": view.get("consult_priority") or None,
        }
        ok = qtype is not None and bool(text)
        if kind in _CHOICE_KINDS:
            choices = self._choices(view, list_name)
            ok = ok and choices is not None
            fields["choices"] = tuple(choices or ())
        ok = self._type_fields(view, kind, fields) and ok
        condition, condition_ok = self._condition(view)
        fields["condition"] = condition
        if not (ok and condition_ok):
            return None
        try:
            return QuestionSpec(**fields)
        except ValidationError as exc:
            view.problem(
                "name",
                N_("Question %(value)s is not valid: %(error)s"),
                value=code,
                error="; ".join(e["msg"] for e in exc.errors()),
            )
            return None

    def _question_type(self, view: _RowView, kind: str, list_name: str | None) -> QuestionType | None:
        allowed = _ALLOWED_TYPES[kind]
        declared = view.get("consult_type")
        appearance = view.get("appearance")
        if declared:
            if declared.lower() not in {t.value for t in allowed}:
                view.problem(
                    "consult_type",
                    N_("%(value)s cannot be used with type %(kind)s; use one of %(allowed)s."),
                    value=declared,
                    kind=kind,
                    allowed=", ".join(sorted(t.value for t in allowed)),
                )
                return None
            qtype = QuestionType(declared.lower())
        elif kind == "select_one" and list_name in _STANDARD_LISTS:
            qtype = QuestionType(list_name)
        elif kind == "text" and appearance.lower() == "multiline":
            qtype = QuestionType.long_text
        else:
            qtype = next(iter(allowed)) if len(allowed) == 1 else _DEFAULT_TYPE[kind]
        if appearance and not (kind == "text" and appearance.lower() == "multiline"):
            view.problem("appearance", N_("Appearance %(value)s is not supported."), value=appearance)
        return qtype

    def _choices(self, view: _RowView, list_name: str | None) -> list[ChoiceSpec] | None:
        if not list_name:
            view.problem("type", N_("The type names no choice list."))
            return None
        found = self.lists.get(list_name) or next(
            (choice_list for name, choice_list in self.lists.items() if name.casefold() == list_name.casefold()), None
        )
        if found is None:
            view.problem("type", N_("Choice list %(list)s is not on the choices sheet."), list=list_name)
            return None
        return found.choices

    def _type_fields(self, view: _RowView, kind: str, fields: dict[str, Any]) -> bool:
        constraint = view.get("constraint")
        # Some authors name the question itself instead of writing `.`.
        expression = re.sub(r"\$\{\s*" + re.escape(fields["code"]) + r"\s*\}", ".", constraint)
        ok = True
        if kind == "integer":
            fields["whole_numbers"] = True
        if kind == "range":
            ok = self._range(view, fields)
            fields["allow_dont_know"] = _boolean(view, "consult_dont_know")
            fields["low_label"] = view.localized("consult_low_label")
            fields["high_label"] = view.localized("consult_high_label")
        if constraint:
            parser = _CONSTRAINT_PARSERS.get(kind)
            parsed = parser(expression, kind) if parser else None
            if parsed is None:
                view.problem("constraint", N_("Constraint %(value)s is not supported for this type."), value=constraint)
                ok = False
            elif isinstance(parsed, str):
                view.problem("constraint", parsed, value=constraint)
                ok = False
            else:
                fields.update(parsed)
        return ok

    def _range(self, view: _RowView, fields: dict[str, Any]) -> bool:
        parameters = view.get("parameters")
        pair = r"([A-Za-z_]+)\s*=\s*([^\s;,]+)"
        values = {key.lower(): value for key, value in re.findall(pair, parameters)}
        leftover = re.sub(pair, "", parameters).strip(" ;,")
        unknown = bool(leftover) or bool(set(values) - {"start", "end", "step"})
        try:
            start = int(values.get("start", RANGE_DEFAULT[0]))
            end = int(values.get("end", RANGE_DEFAULT[1]))
            step = int(values.get("step", 1))
        except ValueError:
            view.problem("parameters", N_("Range parameters must be whole numbers (start=1 end=5)."))
            return False
        if unknown or step != 1 or end <= start:
            view.problem(
                "parameters",
                N_("Only start=A end=B with A below B and step=1 is supported (got %(value)s)."),
                value=parameters,
            )
            return False
        if (start, end) != SCALE_DEFAULT:
            fields["min_value"], fields["max_value"] = float(start), float(end)
        return True

    # -- relevant --

    def _condition(self, view: _RowView) -> tuple[Condition | None, bool]:
        expression = view.get("relevant")
        if not expression:
            return None, True
        condition, errors = read_relevant(expression, self.questions, self.all_names)
        for error in errors:
            view.problem("relevant", error.template, value=expression, **error.params)
        return condition, not errors


_DEFAULT_TYPE = {"select_one": QuestionType.single_choice, "text": QuestionType.short_text}


# --- Expressions --------------------------------------------------------------------------

# `relevant`: a small recursive-descent parser. Grammar (XPath's precedence: not(...) is a
# function, so it binds tightest; then and; then or):
#   or_expr  := and_expr ("or" and_expr)*
#   and_expr := unary ("and" unary)*
#   unary    := "not" "(" or_expr ")" | "(" or_expr ")" | test
#   test     := ${q} ("=" | "!=") LITERAL | LITERAL ("=" | "!=") ${q} | selected(${q}, LITERAL)


@dataclass(frozen=True)
class RelevantError:
    """Why (part of) a relevant expression cannot be used: an N_ template and its parameters
    (the caller adds `value`, the whole expression)."""

    template: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RelevantTest:
    """A test as written, before choice names are looked up: (question, op, choice name)."""

    question: str
    op: ConditionOp
    name: str


@dataclass(frozen=True)
class RelevantNode:
    kind: str  # "all", "any" or "not"
    parts: tuple[RelevantTree, ...]


RelevantTree = RelevantTest | RelevantNode

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{\s*(?P<code>[^}\s]+)\s*\})
      | '(?P<single>[^']*)'
      | "(?P<double>[^"]*)"
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|=)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_:.-]*)
    )""",
    re.VERBOSE,
)
_UNREADABLE = N_(
    "%(value)s cannot be read at “%(near)s”: use tests such as ${q} = 'x', ${q} != 'x' and selected(${q}, 'x'), "
    "combined with and, or, not(...) and brackets."
)
MAX_RELEVANT_LENGTH = 2000
MAX_BRACKET_DEPTH = 20  # brackets may be redundant; the condition itself may nest MAX_CONDITION_DEPTH deep


@dataclass(frozen=True)
class _Token:
    kind: str  # ref, literal, op, punct, word, end
    text: str
    position: int


class _RelevantParseError(Exception):
    def __init__(self, error: RelevantError) -> None:
        super().__init__(error.template)
        self.error = error


def _tokens(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        if not expression[position:].strip():
            break
        match = _TOKEN.match(expression, position)
        if match is None:
            # Reported when the parser gets here, so the first problem from the left is named.
            tokens.append(_Token("bad", "", position))
            break
        start = match.end() - len(match.group(0).lstrip())
        if match.group("ref"):
            tokens.append(_Token("ref", match.group("code"), start))
        elif match.lastgroup in ("single", "double", "number"):
            tokens.append(_Token("literal", match.group(match.lastgroup), start))
        else:
            kind = match.lastgroup or ""
            tokens.append(_Token(kind, match.group(kind), start))
        position = match.end()
    tokens.append(_Token("end", "", len(expression)))
    return tokens


def _near(expression: str, position: int) -> str:
    text = expression[position:].strip()
    return (text[:30] + "…") if len(text) > 30 else (text or "…")


class _RelevantParser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def fail(self, token: _Token | None = None) -> _RelevantParseError:
        token = token or self.current
        if token.kind == "end":
            return _RelevantParseError(RelevantError(N_("%(value)s ends too early: a test or a bracket is missing.")))
        return _RelevantParseError(RelevantError(_UNREADABLE, {"near": _near(self.expression, token.position)}))

    def take(self, kind: str, text: str | None = None) -> _Token:
        token = self.current
        if token.kind != kind or (text is not None and token.text.lower() != text):
            raise self.fail()
        self.index += 1
        return token

    def at_word(self, word: str) -> bool:
        return self.current.kind == "word" and self.current.text.lower() == word

    def parse(self) -> RelevantTree:
        tree = self.or_expr()
        if self.current.kind != "end":
            raise self.fail()
        return tree

    def _combine(self, kind: str, parts: list[RelevantTree]) -> RelevantTree:
        # Flattened, so `a and (b and c)` is the same all-of as `a and b and c`.
        flat: list[RelevantTree] = []
        for part in parts:
            flat.extend(part.parts if isinstance(part, RelevantNode) and part.kind == kind else (part,))
        return flat[0] if len(flat) == 1 else RelevantNode(kind, tuple(flat))

    def or_expr(self) -> RelevantTree:
        return self._joined("or", "any", self.and_expr)

    def and_expr(self) -> RelevantTree:
        return self._joined("and", "all", self.unary)

    def _joined(self, word: str, kind: str, operand: Callable[[], RelevantTree]) -> RelevantTree:
        """`operand (word operand)*`, combined into one node of `kind`."""
        parts = [operand()]
        while self.at_word(word):
            self.index += 1
            parts.append(operand())
        return self._combine(kind, parts)

    def nested(self) -> RelevantTree:
        self.depth += 1
        if self.depth > MAX_BRACKET_DEPTH:
            raise _RelevantParseError(
                RelevantError(N_("%(value)s nests more than %(max)s levels deep."), {"max": MAX_BRACKET_DEPTH})
            )
        self.take("punct", "(")
        tree = self.or_expr()
        self.take("punct", ")")
        self.depth -= 1
        return tree

    def unary(self) -> RelevantTree:
        if self.at_word("not"):
            self.index += 1
            return _negate(self.nested())
        if self.current.kind == "punct" and self.current.text == "(":
            return self.nested()
        return self.test()

    def test(self) -> RelevantTree:
        token = self.current
        if self.at_word("selected"):
            self.index += 1
            self.take("punct", "(")
            code = self.take("ref").text
            self.take("punct", ",")
            name = self.take("literal").text
            self.take("punct", ")")
            return RelevantTest(code, ConditionOp.includes, name)
        if token.kind == "ref":
            self.index += 1
            op = self.take("op").text
            name = self.take("literal").text
            return RelevantTest(token.text, ConditionOp.equals if op == "=" else ConditionOp.not_, name)
        if token.kind == "literal":
            self.index += 1
            op = self.take("op").text
            code = self.take("ref").text
            return RelevantTest(code, ConditionOp.equals if op == "=" else ConditionOp.not_, token.text)
        raise self.fail()


def _negate(tree: RelevantTree) -> RelevantTree:
    """not(one test) is that test's `not` (as a lone condition always read); not(not(x)) is x."""
    if isinstance(tree, RelevantTest) and tree.op != ConditionOp.not_:
        return RelevantTest(tree.question, ConditionOp.not_, tree.name)
    if isinstance(tree, RelevantNode) and tree.kind == "not":
        return tree.parts[0]
    return RelevantNode("not", (tree,))


def parse_relevant(expression: str) -> RelevantTree | RelevantError:
    """The expression's structure, or why it cannot be read (an N_ template with parameters)."""
    if len(expression) > MAX_RELEVANT_LENGTH:
        return RelevantError(N_("%(value)s is longer than %(max)s characters."), {"max": MAX_RELEVANT_LENGTH})
    try:
        return _RelevantParser(expression).parse()
    except _RelevantParseError as failed:
        return failed.error


def resolve_relevant(
    tree: RelevantTree, earlier: Mapping[str, QuestionSpec], all_names: Collection[str] = ()
) -> tuple[Condition | None, list[RelevantError]]:
    """Choice names looked up in the earlier questions: a condition, or every test's problem."""
    errors: list[RelevantError] = []
    condition = _resolve(tree, earlier, all_names, errors)
    if condition is not None and condition_depth(normalize_condition(condition)) > MAX_CONDITION_DEPTH:
        errors.append(RelevantError(N_("%(value)s nests more than %(max)s levels deep."), {"max": MAX_CONDITION_DEPTH}))
    return (None, errors) if errors else (condition, [])


def read_relevant(
    expression: str, earlier: Mapping[str, QuestionSpec], all_names: Collection[str] = ()
) -> tuple[Condition | None, list[RelevantError]]:
    parsed = parse_relevant(expression)
    if isinstance(parsed, RelevantError):
        return None, [parsed]
    return resolve_relevant(parsed, earlier, all_names)


def _resolve(
    tree: RelevantTree, earlier: Mapping[str, QuestionSpec], all_names: Collection[str], errors: list[RelevantError]
) -> Condition | None:
    if isinstance(tree, RelevantTest):
        return _resolve_test(tree, earlier, all_names, errors)
    parts = [_resolve(part, earlier, all_names, errors) for part in tree.parts]
    if errors:
        return None
    if tree.kind == "not":
        return NotCondition(negated=parts[0])
    return AllOf(all=tuple(parts)) if tree.kind == "all" else AnyOf(any=tuple(parts))


def _resolve_test(
    test: RelevantTest, earlier: Mapping[str, QuestionSpec], all_names: Collection[str], errors: list[RelevantError]
) -> ConditionSpec | None:
    code, name = test.question, test.name
    source = earlier.get(code)
    if source is None:
        template = (
            N_("%(value)s refers to %(question)s, which is not an earlier question we could import.")
            if code in all_names
            else N_("%(value)s refers to %(question)s, which is not a question in this form.")
        )
        errors.append(RelevantError(template, {"question": code}))
        return None
    if source.type not in CHOICE_TYPES:
        template = N_("Conditions can only test choice questions; %(question)s is not one.")
        errors.append(RelevantError(template, {"question": code}))
        return None
    if test.op == ConditionOp.equals and source.type in LIST_TYPES:
        template = N_("Use selected(${%(question)s}, '%(name)s') for a question with several answers.")
        errors.append(RelevantError(template, {"question": code, "name": name}))
        return None
    by_name = {choice_name(c): c.code for c in source.choices}
    if name not in by_name:
        errors.append(RelevantError(N_("%(question)s has no choice named %(name)s."), {"question": code, "name": name}))
        return None
    return ConditionSpec(question=code, op=test.op, value=by_name[name])


def _strip_parentheses(expression: str) -> str:
    text = expression.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in _without_literals(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _without_literals(text: str) -> str:
    return re.sub(r"'[^']*'|\"[^\"]*\"|\$\{[^}]*\}", "''", text)


_NUMBER = r"-?\d+(?:\.\d+)?"
_BOUND = re.compile(rf"^\.\s*(>=|<=|>|<)\s*({_NUMBER})$")
_BOUND_REVERSED = re.compile(rf"^({_NUMBER})\s*(>=|<=|>|<)\s*\.$")
_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">"}
_LENGTH = re.compile(r"^string-length\s*\(\s*\.\s*\)\s*(<=|<)\s*(\d+)$")
_COUNT = re.compile(r"^count-selected\s*\(\s*\.\s*\)\s*(<=|<)\s*(\d+)$")


def _terms(constraint: str) -> list[str] | None:
    text = _strip_parentheses(constraint)
    if re.search(r"\bor\b", text):
        return None
    return [_strip_parentheses(term) for term in re.split(r"\band\b", text)]


def _number_constraint(constraint: str, kind: str) -> dict[str, Any] | str | None:
    terms = _terms(constraint)
    if terms is None:
        return None
    bounds: dict[str, Any] = {}
    for term in terms:
        match = _BOUND.match(term)
        if match:
            op, number = match.group(1), float(match.group(2))
        elif reversed_match := _BOUND_REVERSED.match(term):
            op, number = _FLIP[reversed_match.group(2)], float(reversed_match.group(1))
        else:
            return None
        if op in (">", "<"):
            if kind != "integer" or not number.is_integer():
                return N_("%(value)s: use >= or <= (a strict bound cannot be kept for decimals).")
            op, number = (">=", number + 1) if op == ">" else ("<=", number - 1)
        key = "min_value" if op == ">=" else "max_value"
        if key in bounds:
            return N_("%(value)s gives the same bound twice.")
        bounds[key] = number
    if "min_value" in bounds and "max_value" in bounds and bounds["min_value"] > bounds["max_value"]:
        return N_("%(value)s: no number can meet it.")
    return bounds


def _limit_constraint(pattern: re.Pattern[str], key: str) -> Callable[[str, str], dict[str, Any] | None]:
    def parse(constraint: str, kind: str) -> dict[str, Any] | None:
        match = pattern.match(_strip_parentheses(constraint))
        if not match:
            return None
        limit = int(match.group(2)) - (1 if match.group(1) == "<" else 0)
        return {key: limit} if limit >= 1 else None

    return parse


_CONSTRAINT_PARSERS: dict[str, Callable[[str, str], dict[str, Any] | str | None]] = {
    "integer": _number_constraint,
    "decimal": _number_constraint,
    "text": _limit_constraint(_LENGTH, "max_length"),
    "select_multiple": _limit_constraint(_COUNT, "max_choices"),
    "rank": _limit_constraint(_COUNT, "max_choices"),
}


# --- Reading: the whole form --------------------------------------------------------------


def read_xlsform(source: Source, *, slug: str | None = None) -> XLSFormResult:
    """Read an XLSForm workbook. `slug` overrides the settings' form_id."""
    problems = _Problems()
    try:
        data = _load_bytes(source)
    except OSError as exc:
        problems.add("", None, None, N_("The file cannot be read: %(error)s"), error=_short(exc))
        return XLSFormResult(None, problems.in_reading_order())
    sheets = _open_sheets(data, problems)
    if sheets is None:
        return XLSFormResult(None, problems.in_reading_order())
    settings = _read_settings(sheets.get(SETTINGS), problems)
    lists = _read_choices(sheets.get(CHOICES), settings.default_language, problems)
    survey_sheet = sheets.get(SURVEY)
    if survey_sheet is None:
        problems.add("", None, None, N_("The workbook has no survey sheet."))
        return XLSFormResult(None, problems.in_reading_order(), settings.version)
    pages = _SurveyReader(survey_sheet, lists, settings.default_language, problems).read()
    if not pages:
        problems.add(survey_sheet.title, None, None, N_("The survey sheet has no questions we could import."))
        return XLSFormResult(None, problems.in_reading_order(), settings.version)
    spec = _build_spec(settings, pages, slug, problems)
    return XLSFormResult(spec, problems.in_reading_order(), settings.version)


def _build_spec(settings: _Settings, pages: list[PageSpec], slug: str | None, problems: _Problems) -> SurveySpec | None:
    # Like pyxform, a form without form_title is titled by its form_id.
    title = settings.title or ({settings.default_language: settings.form_id} if settings.form_id else None)
    survey_slug = slugify(slug) if slug else settings.slug or slugify(_first(title))
    if not survey_slug:
        problems.add(
            settings.sheet_title,
            settings.row,
            None,
            N_("The form has no form_id to make the survey's address (slug) from; add one or give a slug."),
        )
        return None
    if not title:
        problems.add(settings.sheet_title, settings.row, None, N_("The form has no form_title."))
        return None
    try:
        return SurveySpec(slug=survey_slug, title=title, pages=tuple(pages), **settings.fields)
    except ValidationError as exc:
        problems.add(
            settings.sheet_title,
            settings.row,
            None,
            N_("The survey is not valid: %(error)s"),
            error="; ".join(e["msg"] for e in exc.errors()),
        )
        return None


def _first(text: Localized | None) -> str:
    return next(iter(text.values()), "") if text else ""


# --- Writing ------------------------------------------------------------------------------


def _languages(spec: SurveySpec) -> list[str]:
    used: set[str] = set()

    def note(text: Localized | None) -> None:
        used.update(k for k, v in (text or {}).items() if v)

    for text in (spec.title, spec.intro, spec.privacy_notice):
        note(text)
    for page in spec.pages:
        note(page.title)
        for q in page.questions:
            for text in (q.text, q.help, q.low_label, q.high_label, q.required_message, q.constraint_message):
                note(text)
            for choice in q.choices:
                note(choice.label)
    return [language for language in LANGUAGES if language in used]


def _put_localized(row: dict[str, Any], base: str, text: Localized | None) -> None:
    for language, value in (text or {}).items():
        if language in LANGUAGE_HEADERS and value:
            row[f"{base}::{LANGUAGE_HEADERS[language]}"] = value


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _constraint(question: QuestionSpec) -> str:
    if question.type == QuestionType.number:
        terms = []
        if question.min_value is not None:
            terms.append(f". >= {_fmt(question.min_value)}")
        if question.max_value is not None:
            terms.append(f". <= {_fmt(question.max_value)}")
        return " and ".join(terms)
    if question.type in LIST_TYPES and question.max_choices:
        return f"count-selected(.) <= {question.max_choices}"
    if question.type in (QuestionType.short_text, QuestionType.long_text) and question.max_length:
        return f"string-length(.) <= {question.max_length}"
    return ""


_XLSFORM_TYPE = {
    QuestionType.single_choice: "select_one",
    QuestionType.municipality: "select_one",
    QuestionType.age_band: "select_one",
    QuestionType.gender: "select_one",
    QuestionType.multiple_choice: "select_multiple",
    QuestionType.ranking: "rank",
    QuestionType.scale: "range",
    QuestionType.number: "decimal",
    QuestionType.short_text: "text",
    QuestionType.long_text: "text",
}


def _xlsform_type(question: QuestionSpec) -> str:
    if question.type == QuestionType.number and question.whole_numbers:
        return "integer"
    return _XLSFORM_TYPE[question.type]


def relevant_expression(spec: SurveySpec | None, condition: Condition) -> str:
    """The condition as an XLSForm `relevant` expression, which parse_relevant reads back.
    Choices go by their XLSForm names, which `spec` knows; without it, by code."""
    if isinstance(condition, NotCondition):
        return f"not({relevant_expression(spec, condition.negated)})"
    if isinstance(condition, AllOf | AnyOf):
        joiner = " or " if isinstance(condition, AnyOf) else " and "
        return joiner.join(_relevant_part(spec, part) for part in condition_parts(condition))
    source = spec.question(condition.question) if spec else None
    choice = source.choice(condition.value) if source else None
    name = _quoted(choice_name(choice) if choice else str(condition.value))
    if condition.op == ConditionOp.equals:
        return f"${{{condition.question}}} = {name}"
    selected = f"selected(${{{condition.question}}}, {name})"
    return selected if condition.op == ConditionOp.includes else f"not({selected})"


def _quoted(name: str) -> str:
    # A name with an apostrophe (O'Brien) is written in double quotes, which the parser reads too.
    return f'"{name}"' if "'" in name and '"' not in name else f"'{name}'"


def _relevant_part(spec: SurveySpec | None, part: Condition) -> str:
    # Brackets around every combination inside another, though `and` binds tighter than `or`:
    # people read them more easily.
    text = relevant_expression(spec, part)
    return f"({text})" if isinstance(part, AllOf | AnyOf) else text


def _question_row(spec: SurveySpec, question: QuestionSpec) -> dict[str, Any]:
    xls_type = _xlsform_type(question)
    row: dict[str, Any] = {
        "type": f"{xls_type} {question.code}" if question.choices else xls_type,
        "name": question.code,
    }
    _put_localized(row, "label", question.text)
    _put_localized(row, "hint", question.help)
    row["required"] = "yes" if question.required else ""
    _put_localized(row, "required_message", question.required_message)
    if question.condition:
        row["relevant"] = relevant_expression(spec, question.condition)
    row["constraint"] = _constraint(question)
    _put_localized(row, "constraint_message", question.constraint_message)
    if question.type == QuestionType.long_text:
        row["appearance"] = "multiline"
    if question.type == QuestionType.scale:
        low = question.min_value if question.min_value is not None else SCALE_DEFAULT[0]
        high = question.max_value if question.max_value is not None else SCALE_DEFAULT[1]
        row["parameters"] = f"start={_fmt(low)} end={_fmt(high)} step=1"
        row["consult_dont_know"] = "yes" if question.allow_dont_know else ""
        _put_localized(row, "consult_low_label", question.low_label)
        _put_localized(row, "consult_high_label", question.high_label)
    if question.type in SINGLE_CODE_TYPES and (
        question.type != QuestionType.single_choice or question.code in _STANDARD_LISTS
    ):
        row["consult_type"] = question.type.value
    row["consult_priority"] = question.priority_key or ""
    return row


def _page_names(spec: SurveySpec) -> list[str]:
    taken = set(spec.by_code)
    names = []
    for number in range(1, len(spec.pages) + 1):
        name = f"page_{number}"
        while name in taken:
            name += "_"
        taken.add(name)
        names.append(name)
    return names


def _survey_rows(spec: SurveySpec) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page, name in zip(spec.pages, _page_names(spec), strict=True):
        begin: dict[str, Any] = {"type": "begin_group", "name": name}
        _put_localized(begin, "label", page.title)
        rows.append(begin)
        rows.extend(_question_row(spec, question) for question in page.questions)
        rows.append({"type": "end_group", "name": name})
    return rows


def _choice_rows(spec: SurveySpec) -> list[dict[str, Any]]:
    rows = []
    for question in spec.questions:
        for choice in question.choices:
            row: dict[str, Any] = {"list_name": question.code, "name": choice_name(choice)}
            _put_localized(row, "label", choice.label)
            row["consult_priority"] = choice.priority_key or ""
            rows.append(row)
    return rows


def _settings_row(spec: SurveySpec) -> dict[str, Any]:
    row: dict[str, Any] = {"form_title": spec.title.get("sv", "")}
    # pyxform cannot take a translated form_title; the other languages go in consult_title.
    _put_localized(row, "consult_title", {k: v for k, v in spec.title.items() if k != "sv"})
    row.update({"form_id": spec.slug, "version": str(spec.revision), "default_language": LANGUAGE_HEADERS["sv"]})
    _put_localized(row, "consult_intro", spec.intro)
    _put_localized(row, "consult_privacy_notice", spec.privacy_notice)
    row.update(
        {
            "consult_audience": spec.audience.value,
            "consult_identity_mode": spec.identity_mode.value,
            "consult_access": spec.access.value,
            "consult_status": spec.status.value,
            "consult_opens_at": spec.opens_at.isoformat() if spec.opens_at else "",
            "consult_closes_at": spec.closes_at.isoformat() if spec.closes_at else "",
            "consult_minutes_needed": spec.minutes_needed if spec.minutes_needed is not None else "",
            "consult_retention_days": spec.retention_days if spec.retention_days is not None else "",
        }
    )
    return row


def _ordered_headers(rows: Iterable[dict[str, Any]], order: list[str], languages: list[str]) -> list[str]:
    """Columns in a conventional order, each base followed by its languages; empty columns left out."""
    present = {key for row in rows for key, value in row.items() if value not in ("", None)}
    headers = []
    for base in order:
        candidates = [base] + [f"{base}::{LANGUAGE_HEADERS[lang]}" for lang in languages]
        headers.extend(c for c in candidates if c in present)
    return headers


def _add_sheet(
    workbook: Workbook,
    title: str,
    rows: list[dict[str, Any]],
    order: list[str],
    languages: list[str],
    always: Iterable[str] = (),
) -> None:
    sheet = workbook.create_sheet(title)
    headers = _ordered_headers(rows, order, languages)
    for required in always:
        if required not in headers:
            headers.insert(order.index(required) if required in order else len(headers), required)
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header, "") for header in headers])
    sheet.freeze_panes = "A2"


_SURVEY_ORDER = [
    "type", "name", "label", "hint", "required", "required_message", "relevant", "constraint",
    "constraint_message", "appearance", "parameters", "consult_type", "consult_priority", "consult_dont_know",
    "consult_low_label", "consult_high_label",
]  # fmt: skip
_CHOICES_ORDER = ["list_name", "name", "label", "consult_priority"]
_SETTINGS_ORDER = [
    "form_title",
    "consult_title", "form_id", "version", "default_language", "consult_intro", "consult_privacy_notice",
    "consult_audience", "consult_identity_mode", "consult_access", "consult_status", "consult_opens_at",
    "consult_closes_at", "consult_minutes_needed", "consult_retention_days",
]  # fmt: skip


def write_xlsform(spec: SurveySpec) -> bytes:
    """The survey as an XLSForm workbook; read_xlsform gives the same spec back."""
    languages = _languages(spec)
    workbook = Workbook()
    default_sheet = workbook.active
    if default_sheet is not None:
        workbook.remove(default_sheet)
    _add_sheet(workbook, SURVEY, _survey_rows(spec), _SURVEY_ORDER, languages, always=("type", "name"))
    _add_sheet(workbook, CHOICES, _choice_rows(spec), _CHOICES_ORDER, languages, always=("list_name", "name"))
    _add_sheet(workbook, SETTINGS, [_settings_row(spec)], _SETTINGS_ORDER, languages)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
