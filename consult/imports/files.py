"""Import files in and out: the template and codebook a survey's paper answers are typed into,
and reading a filled file (CSV or XLSX) into a header and rows of cells. No validation here.

The format, as the template's header notes and the codebook tell the people filling it in
-----------------------------------------------------------------------------------------
- One row per response; the first row holds the column names, written exactly as in the template.
- `row_id` (required, first): an id of the importer's own for the row, unique within the survey,
  e.g. the number written on the paper form. The response's client UUID is derived from the
  survey and this id, so importing the same row again never stores it twice.
- One column per question code. Optional metadata columns: `channel` (empty means paper),
  `event_name`, `submitted_at` (YYYY-MM-DD or YYYY-MM-DD HH:MM, Swedish time).
- Choice questions: the choice's numeric code from the codebook. Multiple choice and ranking:
  codes separated by semicolons, `1;3` (a comma is accepted too: codes are whole numbers, so
  it cannot be a decimal comma). A ranking lists the codes in order, first ranked first.
  In the XLSX template these columns are formatted as text, because Swedish Excel turns a typed
  `1,3` into the number 1.3.
- Scale: a whole number on the scale, or `vet ej` / `dk` (any case) for "don't know".
- Number: a decimal comma or point. Text: as written.
- An empty cell is no answer.

CSV: UTF-8 with or without BOM (Excel's "CSV UTF-8"), separated by semicolons (what Swedish Excel
writes), commas or tabs, taken from the header row, where no name contains a separator. An
Excel `sep=;` first line is understood. Other encodings are refused with advice, never guessed.
XLSX: the sheet named "svar" (the template's), else the first sheet that is not the codebook.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from consult.core.i18n import N_, gettext_for
from consult.responses.models import Channel
from consult.surveys.models import (
    LIST_TYPES,
    SINGLE_CODE_TYPES,
    TEXT_TYPES,
    ConditionOp,
    IdentityMode,
    QuestionType,
)
from consult.surveys.schema import ConditionSpec, QuestionSpec, SurveySpec, format_condition, is_compound

ROW_ID, CHANNEL, EVENT_NAME, SUBMITTED_AT = "row_id", "channel", "event_name", "submitted_at"
# Who answered, for surveys whose respondents say who they are: column -> field of the identity.
RESPONDENT_COLUMNS = {"respondent_name": "name", "respondent_email": "email",
                      "respondent_organisation": "organisation"}
METADATA_COLUMNS = (ROW_ID, CHANNEL, EVENT_NAME, SUBMITTED_AT, *RESPONDENT_COLUMNS)
DATA_SHEET, CODES_SHEET = "svar", "koder"
LIST_SEPARATOR = ";"
DONT_KNOW_TOKENS = ("vet ej", "dk")
TEMPLATE_CSV_DELIMITER = ";"  # so Swedish Excel opens the template in columns
MAX_DATA_ROWS = 50_000
MAX_COLUMNS = 500
TEMPLATE_ROWS = 10_000  # rows of the XLSX template that carry drop-down lists and text format
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format

Cell = str | int | float | datetime | date | time | bool | None

CHANNEL_LABELS: dict[str, str] = {
    Channel.paper.value: N_("Paper form"),
    Channel.interview_in_person.value: N_("Interview face to face"),
    Channel.interview_phone.value: N_("Interview by phone"),
    Channel.event.value: N_("Event"),
    Channel.kiosk.value: N_("Kiosk (tablet at an event)"),
    Channel.web.value: N_("Web"),
    Channel.campaign.value: N_("Campaign link"),
}


class ImportFileError(ValueError):
    """The file as a whole cannot be read; `template` is an English msgid with %(name)s parameters."""

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params

    def message(self, language: str) -> str:
        text = gettext_for(language, self.template)
        return text % self.params if self.params else text


@dataclass
class Table:
    """A file's first row (the column names, stripped) and its non-empty data rows, each with
    the row number a spreadsheet shows (the header is row 1)."""

    header: list[str]
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)
    kind: str = "csv"


# --- Reading -------------------------------------------------------------------------------


def read_table(data: bytes) -> Table:
    if not data or not data.strip():
        raise ImportFileError(N_("The file is empty."))
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data)
    if data.startswith(OLE_MAGIC):
        raise ImportFileError(
            N_("This is the old Excel format (.xls). Save the file as an Excel workbook (.xlsx) or as CSV UTF-8.")
        )
    return _read_csv(data)


def _is_empty(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _finish(header_cells: list[Cell], rows: Iterator[tuple[int, list[Cell]]], kind: str) -> Table:
    header = [cell_text(c) for c in header_cells]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise ImportFileError(N_("The first row must hold the column names, but it is empty."))
    if len(header) > MAX_COLUMNS:
        raise ImportFileError(N_("The file has more than %(max)s columns."), max=MAX_COLUMNS)
    table = Table(header=header, kind=kind)
    for number, cells in rows:
        if all(_is_empty(c) for c in cells):
            continue  # spreadsheets leave blank rows behind; they carry nothing to import
        if len(table.rows) >= MAX_DATA_ROWS:
            raise ImportFileError(
                N_("The file has more than %(max)s rows. Split it into smaller files."), max=MAX_DATA_ROWS
            )
        table.rows.append((number, cells))
    if not table.rows:
        raise ImportFileError(N_("The file has column names but no answers: add a row per respondent below them."))
    return table


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            N_(
                "The file is not UTF-8 text. In Excel, choose Save as and the type “CSV UTF-8”, "
                "or save it as an Excel workbook (.xlsx)."
            )
        ) from None
    if "\x00" in text:
        raise ImportFileError(N_("The file is not a CSV text file or an Excel workbook (.xlsx)."))
    return text


def _delimiter(header_line: str) -> str:
    """The header holds question codes and our column names, none of which contains a
    separator, so the separators found there are the file's."""
    found = [d for d in (";", ",", "\t") if d in header_line]
    if len(found) > 1:
        shown = " ".join({";": "“;”", ",": "“,”", "\t": "tab"}[d] for d in found)
        raise ImportFileError(
            N_("The first row mixes separators (%(found)s). Use one separator between the column names."),
            found=shown,
        )
    return found[0] if found else ","


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    first_line, _, rest = text.partition("\n")
    delimiter = None
    if first_line.strip().lower().startswith("sep=") and len(first_line.strip()) == 5:
        delimiter = first_line.strip()[4]  # Excel's hint line; Excel does not show it as a row
        text = rest
        first_line = rest.partition("\n")[0]
    delimiter = delimiter or _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
        rows = [(number, list(cells)) for number, cells in enumerate(reader, start=2)]
    except csv.Error:
        raise ImportFileError(
            N_("The file could not be read as CSV: check that quotation marks around cells are paired.")
        ) from None
    return _finish(list(header), iter(rows), "csv")


def _data_sheet(workbook: Any) -> Any:
    names = {name.strip().lower(): name for name in workbook.sheetnames}
    if DATA_SHEET in names:
        return workbook[names[DATA_SHEET]]
    for sheet in workbook.worksheets:
        if sheet.title.strip().lower() != CODES_SHEET:
            return sheet
    raise ImportFileError(N_("The workbook has no sheet with answers."))


def _read_xlsx(data: bytes) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = _data_sheet(workbook)
            rows_iter = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
            header = list(next(rows_iter, ()))
            rows = []
            for number, cells in enumerate(rows_iter, start=2):
                if number > MAX_DATA_ROWS * 2:  # a sheet claiming a million (mostly empty) rows
                    raise ImportFileError(
                        N_("The file has more than %(max)s rows. Split it into smaller files."), max=MAX_DATA_ROWS
                    )
                rows.append((number, list(cells)))
        finally:
            workbook.close()
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl and zipfile raise many kinds for a damaged file
        raise ImportFileError(N_("The file could not be read as an Excel workbook (.xlsx).")) from None
    return _finish(header, iter(rows), "xlsx")


def cell_text(cell: Cell) -> str:
    """A cell as the text a person sees: whole numbers without '.0', dates in ISO form."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date | time):
        return cell.isoformat(sep=" ") if isinstance(cell, datetime) else cell.isoformat()
    return str(cell).strip()


# --- The template and the codebook ---------------------------------------------------------


def template_columns(spec: SurveySpec) -> list[str]:
    respondent = list(RESPONDENT_COLUMNS) if spec.identity_mode == IdentityMode.identified else []
    return [ROW_ID, *respondent, *(q.code for q in spec.questions), CHANNEL, EVENT_NAME, SUBMITTED_AT]


def _t(language: str, message: str, **params: Any) -> str:
    text = gettext_for(language, message)
    return text % params if params else text


def _scale_bounds(question: QuestionSpec) -> tuple[int, int]:
    low = int(question.min_value) if question.min_value is not None else 1
    high = int(question.max_value) if question.max_value is not None else 5
    return low, high


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")


def how_to_fill(question: QuestionSpec, language: str) -> str:
    """The question's cell format in words, for the codebook and the template's header notes."""
    parts: list[str] = []
    qtype = question.type
    if qtype in SINGLE_CODE_TYPES:
        parts.append(_t(language, N_("One choice code from the list.")))
    elif qtype == QuestionType.multiple_choice:
        parts.append(_t(language, N_("Choice codes separated by semicolons, for example 1;3.")))
    elif qtype == QuestionType.ranking:
        parts.append(
            _t(
                language,
                N_(
                    "Choice codes in order of rank, the first ranked first, separated by semicolons, for example 3;1;2."
                ),
            )
        )
    if qtype in LIST_TYPES and question.max_choices:
        parts.append(_t(language, N_("At most %(max)s codes."), max=question.max_choices))
    if qtype == QuestionType.scale:
        low, high = _scale_bounds(question)
        parts.append(_t(language, N_("A whole number from %(min)s to %(max)s."), min=low, max=high))
        if question.allow_dont_know:
            parts.append(_t(language, N_("Write “vet ej” (or dk) for don't know.")))
    if qtype == QuestionType.number:
        if question.whole_numbers:
            parts.append(_t(language, N_("A whole number, for example 12.")))
        else:
            parts.append(_t(language, N_("A number, with a decimal comma or point if needed, for example 12,5.")))
        if question.min_value is not None and question.max_value is not None:
            parts.append(
                _t(
                    language,
                    N_("From %(min)s to %(max)s."),
                    min=_number(question.min_value),
                    max=_number(question.max_value),
                )
            )
    if qtype in TEXT_TYPES:
        limit = question.max_length or (5000 if qtype == QuestionType.long_text else 500)
        parts.append(_t(language, N_("Text, at most %(max)s characters."), max=limit))
    if is_compound(question.condition):
        parts.append(
            _t(language, N_("Answered only when %(condition)s."), condition=_condition_text(question, language))
        )
    elif question.condition:
        cond = question.condition
        template = (
            N_("Answered only when %(question)s does not have code %(value)s.")
            if cond.op == ConditionOp.not_
            else N_("Answered only when %(question)s has code %(value)s.")
        )
        parts.append(_t(language, template, question=cond.question, value=cond.value))
    parts.append(_t(language, N_("Required.") if question.required else N_("Optional; leave empty for no answer.")))
    return " ".join(parts)


def _condition_text(question: QuestionSpec, language: str) -> str:
    def test(leaf: ConditionSpec) -> str:
        template = (
            N_("%(question)s does not have code %(value)s")
            if leaf.op == ConditionOp.not_
            else N_("%(question)s has code %(value)s")
        )
        return _t(language, template, question=leaf.question, value=leaf.value)

    assert question.condition is not None
    words = {
        key: _t(language, word)
        for key, word in (("and_word", N_("and")), ("or_word", N_("or")), ("not_word", N_("not")))
    }
    return format_condition(question.condition, test, **words)


METADATA_NOTES = {
    ROW_ID: N_(
        "Required. An id of your own for each row, unique within the survey, for example the number written "
        "on the paper form. A row imported again with the same id is not stored twice."
    ),
    CHANNEL: N_("Optional. How the answer was given, as a code from this list; empty means paper form."),
    EVENT_NAME: N_("Optional. The name of the event where the answer was given."),
    SUBMITTED_AT: N_(
        "Optional. When the answer was given: YYYY-MM-DD or YYYY-MM-DD HH:MM, Swedish time. "
        "Empty means the time of import."
    ),
    "respondent_name": N_("Required by this survey: the respondent's name. Kept apart from the answers."),
    "respondent_email": N_("Optional. The respondent's e-mail address."),
    "respondent_organisation": N_("Optional. The organisation the respondent answers for."),
}
IMPORT_CHANNELS = (
    Channel.paper,
    Channel.interview_in_person,
    Channel.interview_phone,
    Channel.event,
    Channel.kiosk,
    Channel.web,
    Channel.campaign,
)


def codebook_rows(spec: SurveySpec, language: str) -> list[list[str | int]]:
    """The codebook: a header, then for each column a row describing it and a row per code.
    Labels are given in Swedish and English whatever the reader's language."""
    header = [
        _t(language, N_("column")),
        _t(language, N_("type")),
        _t(language, N_("code")),
        _t(language, N_("label (sv)")),
        _t(language, N_("label (en)")),
        _t(language, N_("how to fill in")),
    ]
    rows: list[list[str | int]] = [header]
    rows.append([ROW_ID, "text", "", "", "", _t(language, METADATA_NOTES[ROW_ID])])
    if spec.identity_mode == IdentityMode.identified:
        rows.extend([column, "text", "", "", "", _t(language, METADATA_NOTES[column])] for column in RESPONDENT_COLUMNS)
    for question in spec.questions:
        qtype = question.type.value
        text = question.text
        rows.append([question.code, qtype, "", text.get("sv", ""), text.get("en", ""), how_to_fill(question, language)])
        for choice in question.choices:
            rows.append([question.code, "", choice.code, choice.label.get("sv", ""), choice.label.get("en", ""), ""])
        if question.type == QuestionType.scale:
            rows.extend(_scale_code_rows(question))
    rows.append([CHANNEL, "code", "", "", "", _t(language, METADATA_NOTES[CHANNEL])])
    for channel in IMPORT_CHANNELS:
        label = CHANNEL_LABELS[channel.value]
        rows.append([CHANNEL, "", channel.value, gettext_for("sv", label), gettext_for("en", label), ""])
    rows.append([EVENT_NAME, "text", "", "", "", _t(language, METADATA_NOTES[EVENT_NAME])])
    rows.append([SUBMITTED_AT, "date", "", "", "", _t(language, METADATA_NOTES[SUBMITTED_AT])])
    return rows


def _scale_code_rows(question: QuestionSpec) -> list[list[str | int]]:
    low, high = _scale_bounds(question)
    rows: list[list[str | int]] = []
    low_label, high_label = question.low_label or {}, question.high_label or {}
    rows.append([question.code, "", low, low_label.get("sv", ""), low_label.get("en", ""), ""])
    rows.append([question.code, "", high, high_label.get("sv", ""), high_label.get("en", ""), ""])
    if question.allow_dont_know:
        rows.append([question.code, "", DONT_KNOW_TOKENS[0], "Vet ej", "Don't know", ""])
    return rows


def _csv_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=TEMPLATE_CSV_DELIMITER, lineterminator="\r\n")
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM tells Excel it is UTF-8


def template_csv(spec: SurveySpec) -> bytes:
    return _csv_bytes([template_columns(spec)])


def codebook_csv(spec: SurveySpec, language: str) -> bytes:
    return _csv_bytes(codebook_rows(spec, language))


def _column_note(spec: SurveySpec, column: str, language: str) -> str:
    question = spec.question(column)
    if question is None:
        return _t(language, METADATA_NOTES[column])
    return f"{question.label(language)}\n\n{how_to_fill(question, language)}"


def _dropdown_codes(question: QuestionSpec) -> list[str]:
    if question.type in SINGLE_CODE_TYPES:
        return [str(c.code) for c in question.choices]
    if question.type == QuestionType.scale:
        low, high = _scale_bounds(question)
        codes = [str(n) for n in range(low, high + 1)]
        return codes + ([DONT_KNOW_TOKENS[0]] if question.allow_dont_know else [])
    return []


def _add_dropdown(sheet: Any, letter: str, codes: list[str], language: str) -> None:
    formula = '"' + ",".join(codes) + '"'
    if len(formula) > 255:  # Excel's limit for a list written in the rule itself
        return
    rule = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True)
    rule.error = _t(language, N_("Choose a code from the list (see the sheet “koder”)."))
    rule.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
    sheet.add_data_validation(rule)


def template_xlsx(spec: SurveySpec, language: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET
    columns = template_columns(spec)
    sheet.append(columns)
    bold = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        note = Comment(_column_note(spec, column, language), "consult")
        note.width, note.height = 320, 160
        cell.comment = note
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, len(column) + 4)
        question = spec.question(column)
        if question is None:
            continue
        if question.type in LIST_TYPES or question.type in TEXT_TYPES:
            # Text format, so Excel keeps "1;3" and "1,3" as typed instead of making numbers or dates.
            sheet.column_dimensions[letter].number_format = "@"
        codes = _dropdown_codes(question)
        if codes:
            _add_dropdown(sheet, letter, codes, language)
    sheet.freeze_panes = "B2"
    codes_sheet = workbook.create_sheet(CODES_SHEET)
    for row in codebook_rows(spec, language):
        codes_sheet.append(row)
    for cell in codes_sheet[1]:
        cell.font = bold
    for letter, width in zip("ABCDEF", (18, 16, 8, 40, 40, 60), strict=True):
        codes_sheet.column_dimensions[letter].width = width
    codes_sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
