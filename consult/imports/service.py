"""Bulk import: validate a file's rows with the rules every channel shares, keep them as a batch
until the user confirms, then store them idempotently. No HTTP here.

Rows are checked cell by cell and every problem is reported with its row (the spreadsheet's row
number, header = 1), column and reason; nothing is guessed. Problems with the columns themselves
(an unknown column, a missing row_id or required question, a duplicate) block the whole file, since
they would otherwise be reported on every row or, worse, dropped without a word.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from openpyxl.utils import get_column_letter
from sqlalchemy import delete, select, update
from sqlmodel import Session

from consult.accounts.service import record_audit
from consult.core.fields import CONTROL_CHARS, utcnow
from consult.core.formatting import LOCAL_TIME
from consult.core.i18n import N_, gettext_for
from consult.imports.files import (
    CHANNEL,
    DONT_KNOW_TOKENS,
    EVENT_NAME,
    IMPORT_CHANNELS,
    METADATA_COLUMNS,
    RESPONDENT_COLUMNS,
    ROW_ID,
    SUBMITTED_AT,
    Cell,
    Table,
    cell_text,
    read_table,
)
from consult.imports.models import BatchStatus, ImportBatch
from consult.responses.identity import asks_identity, check_identity
from consult.responses.messages import error_message
from consult.responses.models import Channel, Response
from consult.responses.service import NewResponse, Outcome, consent_from, content_hash, new_token, store_responses
from consult.responses.validation import (
    FieldError,
    Value,
    answers_required,
    parse_json_answers,
    validate_complete,
)
from consult.surveys.models import LIST_TYPES, TEXT_TYPES, QuestionType
from consult.surveys.schema import QuestionSpec, SurveySpec

HEADER_ROW = 1
BATCH_LIFETIME = timedelta(days=1)
MAX_ROW_ID_LENGTH = 100
MAX_EVENT_NAME_LENGTH = 200
MAX_VALUE_LENGTH = 200  # of a code, a list of codes or a number as written
STORE_CHUNK = 1000
# Channels whose responses always carry the event's name: the interviewer's "event" (its form and
# API ask for the name) and the kiosk (a kiosk cannot be opened without one).
EVENT_CHANNELS = frozenset({Channel.event.value, Channel.kiosk.value})
# Fixed for ever: each imported row's client UUID is uuid5(IMPORT_NAMESPACE, "<slug>\x1f<row_id>").
IMPORT_NAMESPACE = uuid.UUID("5b0f5d7e-9a51-4c55-8e0b-7f3c2d6a1c42")
LIST_SPLIT = re.compile(r"\s*[;,]\s*")

# Reasons in the importer's words; kinds not listed here use the respondent's message from
# consult.responses.messages (they read well for both).
MESSAGES: dict[str, str] = {
    "unknown_column": N_("The survey has no question with this code, and it is not one of the columns %(known)s."),
    "unknown_column_case": N_(
        "Unknown column. Did you mean %(suggestion)s? Write column names exactly as in the template."
    ),
    "missing_column": N_(
        "The column is missing. The file needs a row_id column and a column for every required question."
    ),
    "duplicate_column": N_("The column appears more than once."),
    "unnamed_column": N_("The column has values but no name in the first row."),
    "too_many_cells": N_("The row has more cells than the first row has column names."),
    "missing_row_id": N_("The row has no id. Every row needs an id of its own in the row_id column."),
    "row_id_too_long": N_("The id is longer than %(max)s characters."),
    "duplicate_row_id": N_("The same row_id is used in rows %(rows)s. Each row needs an id of its own."),
    "unknown_channel": N_("Not a channel code. Use one of: %(allowed)s."),
    "event_name_too_long": N_("The event name is longer than %(max)s characters."),
    # The interviewer form and its API say the same when an event has no name.
    "event_name_required": N_("Enter the name of the event."),
    "no_answers": N_("The row has no answers."),
    "bad_date": N_("Write the date as YYYY-MM-DD or YYYY-MM-DD HH:MM."),
    "date_in_future": N_("The date lies in the future: write the day the answer was given."),
    "date_too_early": N_("The date lies before 2000: write the day the answer was given."),
    "respondent_required": N_("This survey asks who answered: write the respondent's name."),
    "respondent_too_long": N_("The text is longer than 200 characters."),
    "respondent_invalid": N_("Not an e-mail address."),
    "value_too_long": N_("The cell is far too long for a code or a number."),
    "wrong_type": N_("The cell holds a date or a true/false value. Write the answer as the codebook says."),
    "required": N_("The question is required, but the cell is empty."),
    "not_a_choice": N_("Not a choice code. Write a code from the codebook, a whole number."),
    "not_a_choice_list": N_(
        "Not a list of choice codes. Write codes from the codebook separated by semicolons, for example 1;3."
    ),
    "unknown_choice": N_("%(value)s is not a choice code of this question (see the codebook)."),
    "no_dont_know": N_("This question has no “vet ej” option. Write a value on the scale or leave the cell empty."),
    "scale_range": N_("Write a whole number from %(min)s to %(max)s."),
    "not_a_number": N_("Not a number. Write for example 12 or 12,5."),
    "hidden_answer_dropped": N_(
        "The question's condition is not met by the row's other answers, so this answer will not be imported."
    ),
}


class ImportStateError(ValueError):
    """A batch cannot be confirmed now; the message is an English msgid."""


@dataclass(frozen=True)
class ImportProblem:
    row: int
    column: str  # the column name as written; "" for the row as a whole
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    value: str = ""  # the cell as written, shown next to the reason (never free text)
    letter: str = ""  # the spreadsheet column letter

    @property
    def cell(self) -> str:
        return f"{self.letter}{self.row}" if self.letter else ""

    def message(self, language: str, spec: SurveySpec | None = None) -> str:
        question = spec.question(self.column) if spec else None
        template = MESSAGES.get(self.kind)
        if template is None:
            return error_message(FieldError(self.column, self.kind, self.params), language, question)
        if question is not None and self.kind in ("required",) and question.required_message:
            return error_message(FieldError(self.column, self.kind, self.params), language, question)
        text = gettext_for(language, template)
        try:
            return text % self.params if self.params else text
        except (KeyError, TypeError, ValueError):
            return text

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "kind": self.kind,
            "params": self.params,
            "value": self.value,
            "letter": self.letter,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportProblem:
        return cls(**data)


@dataclass
class ImportRow:
    row: int
    row_id: str
    values: dict[str, Value]
    channel: str = Channel.paper.value
    event_name: str | None = None
    submitted_at: datetime | None = None
    identity: dict[str, str | None] | None = None  # who answered an identified survey

    def to_json(self) -> list[Any]:
        moment = self.submitted_at.isoformat() if self.submitted_at else None
        return [self.row, self.row_id, self.values, self.channel, self.event_name, moment, self.identity]

    @classmethod
    def from_json(cls, data: list[Any]) -> ImportRow:
        row, row_id, values, channel, event_name, moment, *rest = data  # batches kept from before: no identity
        return cls(row, row_id, values, channel, event_name, datetime.fromisoformat(moment) if moment else None,
                   rest[0] if rest else None)


@dataclass
class ParsedImport:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    total_rows: int = 0

    @property
    def columns_ok(self) -> bool:
        return not any(p.row == HEADER_ROW for p in self.problems)

    @property
    def rejected_rows(self) -> int:
        return len({p.row for p in self.problems if p.row != HEADER_ROW})


def client_uuid_for(slug: str, row_id: str) -> str:
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{slug}\x1f{row_id}"))


# --- Columns -------------------------------------------------------------------------------


@dataclass
class _HeaderMap:
    by_index: dict[int, str]  # column index -> question code or metadata column name
    unnamed: list[int]
    problems: list[ImportProblem]


def _map_columns(spec: SurveySpec, header: list[str]) -> _HeaderMap:
    known = {*METADATA_COLUMNS, *spec.by_code}
    by_lower = {name.lower(): name for name in known}
    mapped = _HeaderMap({}, [], [])
    seen: set[str] = set()

    def problem(index: int, name: str, kind: str, **params: Any) -> None:
        mapped.problems.append(ImportProblem(HEADER_ROW, name, kind, params, letter=get_column_letter(index + 1)))

    for index, name in enumerate(header):
        if not name:
            mapped.unnamed.append(index)
        elif name in seen:
            problem(index, name, "duplicate_column")
        elif name in known:
            seen.add(name)
            mapped.by_index[index] = name
        elif name.lower() in by_lower:
            problem(index, name, "unknown_column_case", suggestion=by_lower[name.lower()])
        else:
            problem(index, name, "unknown_column", known=", ".join(METADATA_COLUMNS))
    needed = [ROW_ID, *(q.code for q in spec.questions if q.required)]
    for name in needed:
        if name not in seen:
            mapped.problems.append(ImportProblem(HEADER_ROW, name, "missing_column"))
    return mapped


def _unnamed_column_problems(columns: _HeaderMap, table: Table) -> list[ImportProblem]:
    problems = []
    for index in columns.unnamed:
        if any(index < len(cells) and cell_text(cells[index]) for _, cells in table.rows):
            letter = get_column_letter(index + 1)
            problems.append(ImportProblem(HEADER_ROW, f"({letter})", "unnamed_column", letter=letter))
    return problems


# --- Cells to the API's value shapes -------------------------------------------------------


_WRONG_TYPE = object()


def cell_to_raw(question: QuestionSpec, cell: Cell) -> Any:
    """The cell in the shape parse_json_answers takes: None means "vet ej" for a scale; an empty
    cell gives "" (no answer). Dates and booleans are never an answer: _WRONG_TYPE."""
    qtype = question.type
    if isinstance(cell, str):  # every CSV cell, and most typed into a spreadsheet
        text = cell.strip()
        if not text or qtype in TEXT_TYPES:
            return text
        if qtype == QuestionType.scale and text.lower() in DONT_KNOW_TOKENS:
            return None
        return [part for part in LIST_SPLIT.split(text) if part] if qtype in LIST_TYPES else text
    if cell is None:
        return ""
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        return _WRONG_TYPE  # a date, a time or TRUE/FALSE
    if isinstance(cell, float) and cell.is_integer() and qtype != QuestionType.number:
        cell = int(cell)
    if qtype in TEXT_TYPES:
        return cell_text(cell)
    return [cell] if qtype in LIST_TYPES else cell


def _too_long(raw: str | list[Any]) -> bool:
    """Codes and numbers are short: a longer cell is a mistake, and is kept from the int parser,
    which refuses numbers of more than 4,300 digits with an exception."""
    return (
        sum(len(str(part)) for part in raw) > MAX_VALUE_LENGTH if isinstance(raw, list) else len(raw) > MAX_VALUE_LENGTH
    )


@dataclass(frozen=True)
class _Column:
    index: int
    name: str  # a question code or a metadata column
    letter: str
    question: QuestionSpec | None


def _answer_problem(row: int, error: FieldError, cells: dict[str, Cell], columns: dict[str, _Column]) -> ImportProblem:
    column = columns.get(error.field)
    question = column.question if column else None
    kind = error.kind
    if kind == "not_a_choice" and question is not None and question.type in LIST_TYPES:
        kind = "not_a_choice_list"
    # Free text may name people: it is never repeated on the preview.
    value = "" if question is None or question.type in TEXT_TYPES else cell_text(cells.get(error.field))[:60]
    return ImportProblem(row, error.field, kind, dict(error.params), value, column.letter if column else "")


# --- Metadata cells ------------------------------------------------------------------------


EARLIEST_YEAR = 2000


def parse_moment(cell: Cell) -> datetime | None:
    """A time of answering; naive times are Swedish local time. Raises ValueError if unreadable."""
    if isinstance(cell, datetime):
        moment = cell
    elif hasattr(cell, "isoformat") and not isinstance(cell, str | bool):
        moment = datetime.fromisoformat(cell.isoformat())  # a date cell
    else:
        text = cell_text(cell)
        if not re.match(r"^\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2})?)?$", text):
            raise ValueError(text)
        moment = datetime.fromisoformat(text.replace(" ", "T") if len(text) > 10 else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TIME)
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:  # the first or last day the calendar has: no time before or after it
        raise ValueError(str(cell)) from error


@dataclass
class _RowMeta:
    row_id: str = ""
    channel: str = Channel.paper.value
    event_name: str | None = None
    submitted_at: datetime | None = None


def _read_metadata(row: int, cells: dict[str, Cell], letters: dict[str, str]) -> tuple[_RowMeta, list[ImportProblem]]:
    meta = _RowMeta()
    problems: list[ImportProblem] = []

    def problem(column: str, kind: str, value: str = "", **params: Any) -> None:
        problems.append(ImportProblem(row, column, kind, params, value[:60], letters.get(column, "")))

    meta.row_id = cell_text(cells.get(ROW_ID))
    if not meta.row_id:
        problem(ROW_ID, "missing_row_id")
    elif len(meta.row_id) > MAX_ROW_ID_LENGTH:
        problem(ROW_ID, "row_id_too_long", meta.row_id, max=MAX_ROW_ID_LENGTH)
    channel = cell_text(cells.get(CHANNEL))
    if channel:
        if channel in {c.value for c in IMPORT_CHANNELS}:
            meta.channel = channel
        else:
            problem(CHANNEL, "unknown_channel", channel, allowed=", ".join(c.value for c in IMPORT_CHANNELS))
    # One line, as the interviewer's place is kept: a line break typed in a cell is not part of a name.
    event_name = CONTROL_CHARS.sub(" ", cell_text(cells.get(EVENT_NAME))).strip()
    if len(event_name) > MAX_EVENT_NAME_LENGTH:
        problem(EVENT_NAME, "event_name_too_long", max=MAX_EVENT_NAME_LENGTH)
    elif meta.channel in EVENT_CHANNELS and not event_name:
        # An answer given at an event is reported by the event's name; without it the response
        # would count for an event nobody can tell, and no other channel lets one in that way.
        problem(EVENT_NAME, "event_name_required")
    meta.event_name = event_name or None
    moment = cells.get(SUBMITTED_AT)
    if cell_text(moment):
        try:
            meta.submitted_at = parse_moment(moment)
        except ValueError:
            problem(SUBMITTED_AT, "bad_date", cell_text(moment))
        else:
            # A typo (2099, 1900) would stretch every chart over time and the report's period.
            if meta.submitted_at and meta.submitted_at > utcnow() + timedelta(days=1):
                problem(SUBMITTED_AT, "date_in_future", cell_text(moment))
            elif meta.submitted_at and meta.submitted_at.year < EARLIEST_YEAR:
                problem(SUBMITTED_AT, "date_too_early", cell_text(moment))
    return meta, problems


# --- Rows ----------------------------------------------------------------------------------


@dataclass
class _RowResult:
    row: ImportRow | None
    problems: list[ImportProblem]
    warnings: list[ImportProblem]


def parse_row(spec: SurveySpec, number: int, cells: list[Cell], columns: list[_Column]) -> _RowResult:
    width = len(cells)
    by_name = {c.name: cells[c.index] if c.index < width else None for c in columns}
    named = {c.name: c for c in columns}
    letters = {c.name: c.letter for c in columns}
    meta, problems = _read_metadata(number, by_name, letters)
    identity, identity_problems = _read_identity(spec, number, by_name, letters)
    problems += identity_problems
    answers: dict[str, Any] = {}
    unreadable: dict[str, ImportProblem] = {}  # a question's cell that could not be read at all
    for column in columns:
        if column.question is None:
            continue
        raw = cell_to_raw(column.question, by_name[column.name])
        if isinstance(raw, str | list) and column.question.type not in TEXT_TYPES and _too_long(raw):
            unreadable[column.name] = ImportProblem(number, column.name, "value_too_long", {}, "", column.letter)
        elif raw is _WRONG_TYPE:
            value = cell_text(by_name[column.name])[:60]
            unreadable[column.name] = ImportProblem(number, column.name, "wrong_type", {}, value, column.letter)
        elif raw != "":
            answers[column.name] = raw
    parsed = parse_json_answers(spec, answers)
    # An unreadable cell is an answer that failed, as a bad value does; the shared rule decides
    # whether it counts: an answer to a question that the row's answers hide is dropped unchecked.
    parsed.errors += [FieldError(code, problem.kind) for code, problem in unreadable.items()]
    final = validate_complete(spec, parsed, required=answers_required(meta.channel))
    problems += [unreadable.get(e.field) or _answer_problem(number, e, by_name, named) for e in final.errors]
    warnings: list[ImportProblem] = []
    if problems:
        return _RowResult(None, problems, warnings)
    for code in final.dropped:
        warnings.append(ImportProblem(number, code, "hidden_answer_dropped", letter=named[code].letter))
    if not final.values:
        # Refused, not just flagged: the template has no use for a row without answers (a form
        # returned blank is not a respondent), and stored it would count as a response that says
        # nothing in every total. The interviewer form refuses an empty entry the same way. A row
        # with some answers stays valid: a paper form is entered as it was filled in.
        return _RowResult(None, [ImportProblem(number, "", "no_answers")], warnings)
    row = ImportRow(number, meta.row_id, final.values, meta.channel, meta.event_name, meta.submitted_at, identity)
    return _RowResult(row, [], warnings)


def _read_identity(spec: SurveySpec, row: int, cells: dict[str, Cell], letters: dict[str, str],
                   ) -> tuple[dict[str, str | None] | None, list[ImportProblem]]:
    """Who answered, from the respondent_* columns, for a survey that asks (else nothing)."""
    if not asks_identity(spec):
        return None, []
    column_of = {field_name: column for column, field_name in RESPONDENT_COLUMNS.items()}
    identity, found = check_identity({name: cell_text(cells.get(column)) for name, column in column_of.items()})
    problems = [ImportProblem(row, column_of[p.field], f"respondent_{p.code}", {}, "",
                              letters.get(column_of[p.field], "")) for p in found]
    return (None if problems else identity), problems


def _reject_duplicate_ids(
    rows: list[ImportRow], ids_by_row: dict[int, str], letter: str
) -> tuple[list[ImportRow], list[ImportProblem]]:
    """Rows sharing an id are all rejected: which of them is right would be a guess."""
    rows_by_id: dict[str, list[int]] = defaultdict(list)
    for number, row_id in ids_by_row.items():
        rows_by_id[row_id].append(number)
    shared = {row_id: numbers for row_id, numbers in rows_by_id.items() if len(numbers) > 1}
    if not shared:
        return rows, []
    problems = []
    for row_id, numbers in shared.items():
        listed = ", ".join(str(n) for n in numbers[:10]) + (" …" if len(numbers) > 10 else "")
        problems += [
            ImportProblem(n, ROW_ID, "duplicate_row_id", {"rows": listed}, row_id[:60], letter) for n in numbers
        ]
    return [r for r in rows if r.row_id not in shared], problems


def parse_table(spec: SurveySpec, table: Table) -> ParsedImport:
    columns = _map_columns(spec, table.header)
    result = ParsedImport(total_rows=len(table.rows))
    result.problems += columns.problems + _unnamed_column_problems(columns, table)
    width = len(table.header)
    ids_by_row: dict[int, str] = {}
    id_index = next((i for i, name in columns.by_index.items() if name == ROW_ID), None)
    plan = [
        _Column(index, name, get_column_letter(index + 1), spec.question(name))
        for index, name in columns.by_index.items()
    ]
    for number, cells in table.rows:
        outcome = parse_row(spec, number, cells, plan)
        if len(cells) > width and any(cell_text(c) for c in cells[width:]):
            outcome.problems.insert(0, ImportProblem(number, "", "too_many_cells"))
            outcome.row = None
        if id_index is not None and id_index < len(cells) and cell_text(cells[id_index]):
            ids_by_row[number] = cell_text(cells[id_index])
        result.problems += outcome.problems
        result.warnings += outcome.warnings
        if outcome.row is not None:
            result.rows.append(outcome.row)
    letter = get_column_letter(id_index + 1) if id_index is not None else ""
    result.rows, duplicates = _reject_duplicate_ids(result.rows, ids_by_row, letter)
    result.problems += duplicates
    result.problems.sort(key=lambda p: (p.row, len(p.letter), p.letter))
    return result


def parse_upload(spec: SurveySpec, data: bytes) -> ParsedImport:
    """Read and validate a file. Raises ImportFileError when the file as a whole cannot be read."""
    return parse_table(spec, read_table(data))


# --- Batches -------------------------------------------------------------------------------


def _existing(session: Session, uuids: Sequence[str]) -> dict[str, str]:
    """client_uuid -> content_hash of the responses already stored, looked up in chunks."""
    found: dict[str, str] = {}
    for start in range(0, len(uuids), STORE_CHUNK):
        chunk = uuids[start : start + STORE_CHUNK]
        query = select(Response.client_uuid, Response.content_hash).where(Response.client_uuid.in_(chunk))
        found.update({row.client_uuid: row.content_hash for row in session.execute(query)})
    return found


def row_outcomes(session: Session, spec: SurveySpec, rows: Sequence[ImportRow]) -> list[str]:
    """How each valid row would fare: new (created), already imported (duplicate) or imported
    before with other answers (conflict: the stored response is kept as it is)."""
    uuids = [client_uuid_for(spec.slug, r.row_id) for r in rows]
    existing = _existing(session, uuids)
    outcomes = []
    for row, client_uuid in zip(rows, uuids, strict=True):
        known = existing.get(client_uuid)
        if known is None:
            outcomes.append(Outcome.created.value)
        elif known == content_hash(spec.slug, row.values, row.identity):
            outcomes.append(Outcome.duplicate.value)
        else:
            outcomes.append(Outcome.conflict.value)
    return outcomes


def preview_counts(session: Session, spec: SurveySpec, rows: Iterable[ImportRow]) -> Counter[str]:
    counts: Counter[str] = Counter({Outcome.created.value: 0, Outcome.duplicate.value: 0, Outcome.conflict.value: 0})
    counts.update(row_outcomes(session, spec, list(rows)))
    return counts


def pending_preview(
    session: Session, *, spec: SurveySpec, batch: ImportBatch
) -> tuple[dict[str, Any], list[ImportRow]]:
    """The summary of a batch not yet confirmed, counted against what is stored now (another
    import may have stored some of its rows since the upload), and the rows that confirming
    would store. The preview offers to import those alone: the others are skipped."""
    rows = batch_rows(batch)
    if not batch.summary.get("columns_ok", False):
        return dict(batch.summary), []
    outcomes = row_outcomes(session, spec, rows)
    counts = Counter(outcomes)
    summary = {
        **batch.summary,
        "new": counts[Outcome.created.value],
        "already": counts[Outcome.duplicate.value],
        "conflict": counts[Outcome.conflict.value],
    }
    return summary, [row for row, outcome in zip(rows, outcomes, strict=True) if outcome == Outcome.created.value]


def purge_expired(session: Session, now: datetime | None = None) -> int:
    result = session.execute(delete(ImportBatch).where(ImportBatch.expires_at < (now or utcnow())))
    return result.rowcount or 0


def create_batch(
    session: Session, *, spec: SurveySpec, owner_id: int, filename: str, parsed: ParsedImport
) -> ImportBatch:
    assert spec.id is not None
    purge_expired(session)
    counts = preview_counts(session, spec, parsed.rows) if parsed.columns_ok else Counter()
    now = utcnow()
    batch = ImportBatch(
        token=new_token(),
        survey_id=spec.id,
        survey_revision=spec.revision,
        owner_id=owner_id,
        filename=filename[:255],
        created_at=now,
        expires_at=now + BATCH_LIFETIME,
        total_rows=parsed.total_rows,
        rows_json=json.dumps([r.to_json() for r in parsed.rows], ensure_ascii=False),
        problems_json=json.dumps(
            {"problems": [p.to_json() for p in parsed.problems], "warnings": [w.to_json() for w in parsed.warnings]},
            ensure_ascii=False,
        ),
        summary={
            "valid": len(parsed.rows),
            "rejected": parsed.rejected_rows,
            "columns_ok": parsed.columns_ok,
            "new": counts[Outcome.created.value],
            "already": counts[Outcome.duplicate.value],
            "conflict": counts[Outcome.conflict.value],
        },
    )
    session.add(batch)
    session.flush()
    return batch


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives naive UTC back


def get_batch(session: Session, *, token: str, owner_id: int, survey_id: int) -> ImportBatch | None:
    """The user's own batch for this survey; None for anyone else's, or once it has expired."""
    if not token or len(token) > 32:
        return None
    batch = session.execute(select(ImportBatch).where(ImportBatch.token == token)).scalars().first()
    if batch is None or batch.owner_id != owner_id or batch.survey_id != survey_id:
        return None
    if batch.expires_at is not None and _aware(batch.expires_at) < utcnow():
        return None
    return batch


def batch_rows(batch: ImportBatch) -> list[ImportRow]:
    return [ImportRow.from_json(r) for r in json.loads(batch.rows_json)]


def batch_problems(batch: ImportBatch) -> tuple[list[ImportProblem], list[ImportProblem]]:
    data = json.loads(batch.problems_json)
    return (
        [ImportProblem.from_json(p) for p in data.get("problems", [])],
        [ImportProblem.from_json(w) for w in data.get("warnings", [])],
    )


def cancel_batch(session: Session, *, batch: ImportBatch) -> None:
    """Forget a pending upload; nothing of it was stored. An imported batch stays (its counts)."""
    if batch.status == BatchStatus.pending:
        session.execute(delete(ImportBatch).where(ImportBatch.id == batch.id))


def new_responses(spec: SurveySpec, rows: Iterable[ImportRow], *, entered_by_id: int | None) -> list[NewResponse]:
    now = utcnow()
    return [
        NewResponse(
            spec=spec,
            client_uuid=client_uuid_for(spec.slug, row.row_id),
            values=row.values,
            channel=Channel(row.channel),
            event_name=row.event_name,
            submitted_at=row.submitted_at or now,
            consent_quote=consent_from(spec, row.values),
            entered_by_id=entered_by_id,
            identity=row.identity,
        )
        for row in rows
    ]


def store_rows(session: Session, items: Sequence[NewResponse]) -> Counter[str]:
    """Store in chunks, in the caller's transaction: all rows or none."""
    counts: Counter[str] = Counter({o.value: 0 for o in Outcome})
    for start in range(0, len(items), STORE_CHUNK):
        for stored in store_responses(session, items[start : start + STORE_CHUNK]):
            counts[stored.outcome.value] += 1
    return counts


def confirm_batch(
    session: Session, *, batch: ImportBatch, spec: SurveySpec, user_id: int, request: Any = None
) -> dict[str, Any]:
    """Store the batch's rows and record the import. Raises ImportStateError when it cannot be
    confirmed (already confirmed, columns to fix, or the survey changed since the preview)."""
    if not batch.summary.get("columns_ok", False):
        raise ImportStateError(N_("Fix the columns of the file and upload it again; nothing can be imported from it."))
    if batch.survey_revision != spec.revision:
        raise ImportStateError(N_("The survey has changed since the preview. Upload the file again."))
    # Claim the batch first: a second confirm (a double click, another tab) finds it claimed.
    claimed = session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == BatchStatus.pending.value)
        .values(status=BatchStatus.imported.value)
    )
    if claimed.rowcount != 1:
        raise ImportStateError(N_("This file has already been imported."))
    counts = store_rows(session, new_responses(spec, batch_rows(batch), entered_by_id=user_id))
    summary = {
        **batch.summary,
        "created": counts[Outcome.created.value],
        "duplicate": counts[Outcome.duplicate.value],
        "conflicting": counts[Outcome.conflict.value],
    }
    session.execute(update(ImportBatch).where(ImportBatch.id == batch.id).values(rows_json="[]", summary=summary))
    record_audit(
        session,
        user_id=user_id,
        action="import",
        target=f"survey:{spec.slug}",
        details={
            "file": batch.filename,
            "rows": batch.total_rows,
            "rejected": summary.get("rejected", 0),
            "created": summary["created"],
            "duplicate": summary["duplicate"],
            "conflicting": summary["conflicting"],
        },
        request=request,
    )
    return summary
