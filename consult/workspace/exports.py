"""Exports of a survey's answers: tidy long CSV (streamed), XLSX, SPSS .sav and JSON.

Free text is redacted unless an admin asked for the raw text. Every file with a row per respondent
(CSV, .sav, JSON) carries each respondent's raking weight whenever the survey has weighting targets,
weighted figures chosen or not: analysts weight in their own tools, as with any survey file.

The CSV is written while it is read from a server-side cursor, so its memory use does not grow with
the survey. XLSX, .sav and JSON are built from one wide table (a row per response) by a background
job in a thread of its own.
"""

from __future__ import annotations

import csv
import heapq
import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import literal, select, update
from sqlmodel import Session

from consult.config import get_settings
from consult.core.fields import safe_cell, utcnow
from consult.core.formatting import LOCAL_TIME, hidden_label, local
from consult.core.i18n import N_, gettext_for
from consult.core.redacting import redact, redact_series
from consult.db import get_engine
from consult.surveys.models import SINGLE_CODE_TYPES, TEXT_TYPES, QuestionType
from consult.surveys.schema import QuestionSpec, SurveySpec
from consult.workspace import service
from consult.workspace.models import ExportFormat, ExportJob, JobStatus

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
CSV_COLUMNS = [
    "response_id", "submitted_at", "channel", "campaign_tag", "question", "question_type",
    "choice", "choice_label", "rank", "number", "dont_know", "text",
]
WEIGHT_COLUMN = "weight"
WEIGHT_LABEL = N_("Raking weight to the population targets (mean 1 over the survey's counted respondents)")
STREAM_BATCH = 2000
STALE_AFTER_SECONDS = 30 * 60  # a running job not heard from for this long died with its process
SPSS_RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}
MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.sav: "application/x-spss-sav",
    ExportFormat.json: "application/json",
}


def prepare_weights(session: Session, *, spec: SurveySpec) -> bool:
    """Whether the files carry a weight column; if so, the stored weights are brought up to date
    first (the long CSV reads them later, in a connection of its own)."""
    if not service.has_weights(session, spec=spec):
        return False
    service.ensure_weights(session, spec=spec)
    return True


def csv_columns(*, with_weight: bool) -> list[str]:
    """The long CSV's columns; the weight, a property of the respondent, beside the other ones."""
    if not with_weight:
        return list(CSV_COLUMNS)
    at = CSV_COLUMNS.index("campaign_tag") + 1
    return [*CSV_COLUMNS[:at], WEIGHT_COLUMN, *CSV_COLUMNS[at:]]


def _clean_text(text: str | None, raw: bool, language: str) -> str | None:
    if text is None:
        return None
    return text if raw else redact(text, language)


# --- long CSV ------------------------------------------------------------------------------------


def _label_lookup(spec: SurveySpec, language: str) -> tuple[dict[int, QuestionSpec], dict[tuple[int, int], str]]:
    by_id = {q.id: q for q in spec.questions if q.id is not None}
    labels = {(q.id, c.code): c.text(language) for q in by_id.values() for c in q.choices}  # type: ignore[misc]
    return by_id, labels  # type: ignore[return-value]


def csv_lines(spec: SurveySpec, filters: service.Filters, *, raw: bool, language: str = "sv",
              with_weight: bool = False) -> Iterator[str]:
    """The tidy long CSV, chunk by chunk: a row per answered question, and for multiple choice and
    ranking a row per chosen option. It opens its own connection, since it runs while the response
    is sent, after the request's session has closed. With `with_weight`, each row has its respondent's
    stored weight (`prepare_weights` first)."""
    by_id, labels = _label_lookup(spec, language)
    list_ids = [qid for qid, q in by_id.items() if q.type in (QuestionType.multiple_choice, QuestionType.ranking)]
    plain_ids = [qid for qid in by_id if qid not in list_ids]
    base = _with_weight(service.respondents(spec, replace(filters, weighted=False, publish=False)), with_weight)
    response = service.response
    answers = (
        select(base.c.rid, response.c.submitted_at, response.c.channel, response.c.campaign_tag, base.c.weight,
               service.answer.c.question_id, service.answer.c.choice, service.answer.c.number,
               service.answer.c.dont_know, service.answer.c.text)
        .join(response, response.c.id == base.c.rid)
        .join(service.answer, service.answer.c.response_id == base.c.rid)
        .where(service.answer.c.question_id.in_(plain_ids))
        .order_by(base.c.rid, service.answer.c.question_id)
    )
    selections = (
        select(base.c.rid, response.c.submitted_at, response.c.channel, response.c.campaign_tag, base.c.weight,
               service.selection.c.question_id, service.selection.c.choice, service.selection.c.rank)
        .join(response, response.c.id == base.c.rid)
        .join(service.selection, service.selection.c.response_id == base.c.rid)
        .where(service.selection.c.question_id.in_(list_ids))
        .order_by(base.c.rid, service.selection.c.question_id, service.selection.c.rank)
    )
    weight_at = csv_columns(with_weight=True).index(WEIGHT_COLUMN)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_columns(with_weight=with_weight))
    yield buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    streaming = {"yield_per": STREAM_BATCH, "stream_results": True}
    with Session(get_engine()) as session:
        # Both queries come sorted by response and question; merged, each response's rows stay
        # together (a chosen option beside the response's other answers, not at the file's end).
        plain = ((row.rid, row.question_id, 0, False, row)
                 for row in session.execute(answers, execution_options=streaming))
        chosen = ((row.rid, row.question_id, row.rank, True, row)
                  for row in session.execute(selections, execution_options=streaming))
        merged = heapq.merge(plain, chosen, key=itemgetter(0, 1, 2))
        weighed_rid, shown_weight = None, ""
        for count, (rid, _qid, _rank, is_list, row) in enumerate(merged, start=1):
            values = _csv_row(row, is_list, by_id, labels, raw, language)
            if with_weight:
                if rid != weighed_rid:  # written once per respondent, on each of their rows
                    weighed_rid, shown_weight = rid, "" if row.weight is None else _weight_text(row.weight)
                values.insert(weight_at, shown_weight)
            writer.writerow(values)
            if count % STREAM_BATCH == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def _weight_text(weight: float) -> str:
    """Six decimals: a weight's precision (its mean is 1) without the float's seventeen digits on
    every one of a respondent's rows."""
    return f"{weight:.6f}"


def _with_weight(base: Any, with_weight: bool) -> Any:
    """The respondents (rid) with their stored weight, if asked for, else an empty one. An outer join:
    a missing weight leaves the cell empty rather than the respondent out of the file."""
    weight = service.weight_table
    if not with_weight:
        return select(base.c.rid, literal(None).label("weight")).subquery("exported")
    return (select(base.c.rid, weight.c.weight)
            .outerjoin(weight, weight.c.response_id == base.c.rid).subquery("exported"))


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A small CSV in memory, timestamps written as in the long CSV and text that a spreadsheet
    would take for a formula made inert (the cells are what people typed, such as their name)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_iso(value) if isinstance(value, datetime) else safe_cell(value) for value in row]
                     for row in rows)
    return buffer.getvalue()


def _iso(moment: Any) -> str:
    return moment.isoformat() if isinstance(moment, datetime) else (str(moment) if moment else "")


def _csv_row(row: Any, is_list: bool, by_id: dict, labels: dict,  # type: ignore[type-arg]
             raw: bool, language: str) -> list[Any]:
    question = by_id[row.question_id]
    if is_list:
        label = labels.get((row.question_id, row.choice), "")
        return [row.rid, _iso(row.submitted_at), row.channel, row.campaign_tag or "", question.code, question.type,
                row.choice, label, row.rank if question.type == QuestionType.ranking else "", "", "", ""]
    label = labels.get((row.question_id, row.choice), "") if row.choice is not None else ""
    number = "" if row.number is None else (int(row.number) if float(row.number).is_integer() else row.number)
    return [row.rid, _iso(row.submitted_at), row.channel, row.campaign_tag or "", question.code, question.type,
            "" if row.choice is None else row.choice, label, "", number, 1 if row.dont_know else 0,
            safe_cell(_clean_text(row.text, raw, language) or "")]  # a spreadsheet opens CSV files too


# --- the wide table and its codebook -------------------------------------------------------------


@dataclass
class Variable:
    name: str
    label: str
    question: str  # the question code it comes from
    kind: str  # code, number, text, selected, rank, meta
    value_labels: dict[int | str, str] = field(default_factory=dict)  # str: the channel's codes
    missing: list[int] = field(default_factory=list)
    choice: int | None = None  # the option, for a variable per option


@dataclass
class WideTable:
    frame: pd.DataFrame
    variables: list[Variable]


def dont_know_code(question: QuestionSpec) -> int:
    return 99 if (question.max_value or 0) < 99 else -9


def _spss_name(candidate: str, used: set[str]) -> str:
    """A valid, unique SPSS variable name (a letter first, at most 64 characters, no reserved word)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", candidate)
    if not name or not name[0].isalpha():
        name = "v" + name
    if name.upper() in SPSS_RESERVED:
        name += "_"
    name = name[:64]
    base, number = name, 2
    while name.upper() in used:
        suffix = f"_{number}"
        name = base[: 64 - len(suffix)] + suffix
        number += 1
    used.add(name.upper())
    return name


def _variables(spec: SurveySpec, language: str, with_weight: bool) -> list[Variable]:
    """One variable per single-valued question, one per option of multiple choice and ranking."""
    used: set[str] = set()
    meta = [("response_id", N_("Response")), ("submitted_at", N_("Submitted (Swedish time)")),
            ("channel", N_("Channel")), ("campaign_tag", N_("Campaign tag"))]
    if with_weight:
        meta.append((WEIGHT_COLUMN, WEIGHT_LABEL))
    variables = [Variable(_spss_name(name, used), gettext_for(language, label), name, "meta") for name, label in meta]
    channel = next(v for v in variables if v.question == "channel")
    channel.value_labels = {code.value: gettext_for(language, label) for code, label in service.CHANNEL_LABELS.items()}
    for question in spec.questions:
        label = question.label(language)
        if question.type in SINGLE_CODE_TYPES:
            values = {c.code: c.text(language) for c in question.choices}
            variables.append(Variable(_spss_name(question.code, used), label, question.code, "code", values))
        elif question.type in (QuestionType.multiple_choice, QuestionType.ranking):
            kind = "rank" if question.type == QuestionType.ranking else "selected"
            for choice in question.choices:
                name = _spss_name(f"{question.code}_{choice.code}", used)
                values = {} if kind == "rank" else {0: gettext_for(language, "Not chosen"),
                                                    1: gettext_for(language, "Chosen")}
                variables.append(
                    Variable(name, f"{label}: {choice.text(language)}", question.code, kind, values, choice=choice.code)
                )
        elif question.type == QuestionType.scale:
            code = dont_know_code(question)
            values = {code: gettext_for(language, "Don't know")} if question.allow_dont_know else {}
            values.update({point: meaning for point, meaning in question.scale_ends(language).items() if meaning})
            missing = [code] if question.allow_dont_know else []
            variables.append(Variable(_spss_name(question.code, used), label, question.code, "number", values, missing))
        elif question.type == QuestionType.number:
            variables.append(Variable(_spss_name(question.code, used), label, question.code, "number"))
        elif question.type in TEXT_TYPES:
            variables.append(Variable(_spss_name(question.code, used), label, question.code, "text"))
    return variables


def wide_table(session: Session, *, spec: SurveySpec, filters: service.Filters, raw: bool, language: str = "sv",
               progress: Progress | None = None) -> WideTable:
    """A row per response, a column per variable, numeric codes; free text redacted unless raw."""
    report = progress or (lambda _percent: None)
    with_weight = prepare_weights(session, spec=spec)
    # Weighted figures or not, the rows are the same respondents, each with the weight as a variable.
    base = _with_weight(service.respondents(spec, replace(filters, weighted=False, publish=False)), with_weight)
    response = service.response
    meta = _frame(
        session,
        select(base.c.rid, response.c.submitted_at, response.c.channel, response.c.campaign_tag, base.c.weight)
        .join(response, response.c.id == base.c.rid).order_by(base.c.rid),
        ["response_id", "submitted_at", "channel", "campaign_tag", WEIGHT_COLUMN],
    ).set_index("response_id", drop=False)
    report(10)
    counted = service.counted_responses(session, spec, replace(filters, weighted=False, publish=False))
    answers = _frame(
        session,
        select(service.answer.c.response_id, service.answer.c.question_id, service.answer.c.choice,
               service.answer.c.number, service.answer.c.dont_know, service.answer.c.text)
        .where(*_restrict(service.answer, spec, counted)),
        ["response_id", "question_id", "choice", "number", "dont_know", "text"],
        raw_cursor=True,
    )
    report(35)
    chosen = _frame(
        session,
        select(service.selection.c.response_id, service.selection.c.question_id, service.selection.c.choice,
               service.selection.c.rank)
        .where(*_restrict(service.selection, spec, counted)),
        ["response_id", "question_id", "choice", "rank"],
        raw_cursor=True,
    )
    report(50)
    variables = _variables(spec, language, with_weight)
    frame = _assemble(spec, meta, answers, chosen, variables, raw, language)
    report(60)
    return WideTable(frame, variables)


def _restrict(table: Any, spec: SurveySpec, counted: Any | None) -> list[Any]:
    conditions = [table.c.question_id.in_([q.id for q in spec.questions if q.id is not None])]
    if counted is not None:
        conditions.append(table.c.response_id.in_(counted))
    return conditions


def _frame(session: Session, query: Any, columns: list[str], *, raw_cursor: bool = False) -> pd.DataFrame:
    """A DataFrame from a query. With `raw_cursor` the rows come straight from the database driver:
    for hundreds of thousands of plain numbers, building SQLAlchemy rows costs more than the query.
    Only for columns that need no conversion (integers, floats, text, booleans)."""
    if not raw_cursor:
        return pd.DataFrame.from_records([tuple(row) for row in session.execute(query).all()], columns=columns)
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = (
        tuple(compiled.params[name] for name in compiled.positiontup or ())
        if compiled.positional else compiled.params
    )
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def _assemble(spec: SurveySpec, meta: pd.DataFrame, answers: pd.DataFrame, chosen: pd.DataFrame,
              variables: list[Variable], raw: bool, language: str) -> pd.DataFrame:
    index = meta.index
    columns: dict[str, Any] = {}
    by_question = {q.code: q for q in spec.questions}
    answers_by_question = dict(tuple(answers.groupby("question_id"))) if len(answers) else {}
    chosen_by_question = dict(tuple(chosen.groupby("question_id"))) if len(chosen) else {}
    # The region's clock, as the pages show it; SPSS and spreadsheets keep no time zone.
    submitted = pd.to_datetime(meta["submitted_at"], utc=True).dt.tz_convert(LOCAL_TIME).dt.tz_localize(None)
    for variable in variables:
        if variable.kind == "meta":
            source = {"submitted_at": submitted,
                      WEIGHT_COLUMN: meta[WEIGHT_COLUMN].astype(float)}.get(variable.question)
            columns[variable.name] = source if source is not None else meta[variable.question]
            continue
        question = by_question[variable.question]
        rows = answers_by_question.get(question.id, answers.iloc[0:0]).set_index("response_id")
        if variable.kind == "code":
            columns[variable.name] = rows["choice"].reindex(index).astype("Float64")
        elif variable.kind == "number":
            values = rows["number"].astype(float)
            if question.type == QuestionType.scale and question.allow_dont_know:
                values = values.where(~rows["dont_know"].astype(bool), float(dont_know_code(question)))
            columns[variable.name] = values.reindex(index)
        elif variable.kind == "text":
            text = rows["text"].reindex(index)
            columns[variable.name] = text if raw else redact_series(text, language)
        else:
            columns[variable.name] = _option_column(variable, question, rows, chosen_by_question, index)
    return pd.DataFrame(columns, index=index).reset_index(drop=True)


def _option_column(variable: Variable, question: QuestionSpec, answered: pd.DataFrame,
                   chosen_by_question: dict, index: pd.Index) -> pd.Series:  # type: ignore[type-arg]
    """For an option of a multiple-choice question: 1 chosen, 0 answered without it, empty if the
    question was not answered. For ranking: the option's rank."""
    picks = chosen_by_question.get(question.id)
    if picks is None:
        picks = pd.DataFrame(columns=["response_id", "choice", "rank"])
    mine = picks[picks["choice"] == variable.choice].set_index("response_id")
    if variable.kind == "rank":
        return mine["rank"].reindex(index).astype("Float64")
    column = pd.Series(np.where(index.isin(answered.index), 0.0, np.nan), index=index)
    column[index.isin(mine.index)] = 1.0
    return column


# --- the file formats --------------------------------------------------------------------------


def write_sav(path: Path, table: WideTable, *, spec: SurveySpec, language: str) -> None:
    import pyreadstat

    frame = table.frame.copy()
    for variable in table.variables:
        if variable.kind in ("code", "rank"):
            frame[variable.name] = frame[variable.name].astype(float)
        elif variable.kind == "text" or variable.name in ("channel", "campaign_tag"):
            frame[variable.name] = frame[variable.name].fillna("").astype(str)
    pyreadstat.write_sav(
        frame,
        str(path),
        file_label=spec.text("title", language)[:64],
        column_labels={v.name: v.label[:255] for v in table.variables if v.name in frame},
        variable_value_labels={v.name: _sav_value_labels(v)
                               for v in table.variables if v.value_labels and v.name in frame},
        missing_ranges={v.name: [float(m) for m in v.missing] for v in table.variables if v.missing},
        variable_measure={v.name: _measure(v) for v in table.variables if v.name in frame},
    )


def _sav_value_labels(variable: Variable) -> dict[float | str, str]:
    """Numeric codes as SPSS stores them (floats); a string variable's codes (the channel) as they are."""
    return {(code if isinstance(code, str) else float(code)): label for code, label in variable.value_labels.items()}


def _measure(variable: Variable) -> str:
    if variable.kind in ("code", "selected") or variable.name in ("channel", "campaign_tag"):
        return "nominal"
    if variable.kind == "rank":
        return "ordinal"
    return "scale" if variable.kind in ("number", "meta") else "nominal"


def write_xlsx(path: Path, *, session: Session, spec: SurveySpec, filters: service.Filters, raw: bool,
               language: str, progress: Progress) -> None:
    """A workbook to read and quote from: a codebook sheet and a sheet per question with its results
    (for free text: its answers, redacted). The respondent-level data is in the CSV, .sav and JSON
    exports; a wide sheet of 100,000 rows takes openpyxl minutes to write."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    names: set[str] = set()
    # The codebook describes the respondent-level files, the weight among their variables.
    variables = _variables(spec, language, with_weight=service.has_weights(session, spec=spec))
    _codebook_sheet(workbook.create_sheet(_sheet_name(gettext_for(language, "Codebook"), names)), variables, language)
    outcome = service.results(session, spec=spec, filters=replace(filters, publish=False), language=language)
    progress(30)
    texts = _text_answers(session, spec, filters, raw, language)
    progress(60)
    for result in outcome.questions:
        sheet = workbook.create_sheet(_sheet_name(result.code, names))
        _question_sheet(sheet, result, texts.get(result.question.id or 0), language, outcome.weighting)
    progress(90)
    workbook.save(str(path))


def _text_answers(session: Session, spec: SurveySpec, filters: service.Filters, raw: bool,
                  language: str) -> dict[int, pd.DataFrame]:
    text_ids = [q.id for q in spec.questions if q.type in TEXT_TYPES and q.id is not None]
    if not text_ids:
        return {}
    counted = service.counted_responses(session, spec, replace(filters, weighted=False, publish=False))
    table = service.answer
    conditions = [table.c.question_id.in_(text_ids), table.c.text.is_not(None)]
    if counted is not None:
        conditions.append(table.c.response_id.in_(counted))
    frame = _frame(session, select(table.c.question_id, table.c.response_id, table.c.text).where(*conditions)
                   .order_by(table.c.question_id, table.c.response_id),
                   ["question_id", "response_id", "text"], raw_cursor=True)
    if not raw:
        frame["text"] = redact_series(frame["text"], language)
    return {int(qid): part for qid, part in frame.groupby("question_id")}


def _sheet_name(wanted: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "_", wanted)[:31] or "sheet"
    base, number = name, 2
    while name.lower() in used:
        suffix = f"_{number}"
        name = base[: 31 - len(suffix)] + suffix
        number += 1
    used.add(name.lower())
    return name


SUMMARY_LABELS = {
    "n": N_("Answers"),
    "mean": N_("Mean"),
    "low": N_("95% interval of the mean, lower end"),
    "high": N_("95% interval of the mean, upper end"),
    "sd": N_("Standard deviation"),
    "median": N_("Median"),
    "q1": N_("Lower quartile"),
    "q3": N_("Upper quartile"),
    "min": N_("Lowest"),
    "max": N_("Highest"),
}
CODEBOOK_COLUMNS = (N_("Variable"), N_("Label"), N_("Question"), N_("Kind"), N_("Values"), N_("Missing values"))


def _codebook_sheet(sheet: Any, variables: list[Variable], language: str) -> None:
    sheet.append([gettext_for(language, column) for column in CODEBOOK_COLUMNS])
    for v in variables:
        values = "; ".join(f"{code} = {label}" for code, label in v.value_labels.items())
        sheet.append([v.name, v.label, v.question, v.kind, values, ", ".join(str(m) for m in v.missing)])


def _question_sheet(sheet: Any, result: service.QuestionResult, texts: pd.DataFrame | None, language: str,
                    weighting: service.Weighting | None = None) -> None:
    t = lambda message: gettext_for(language, message)  # noqa: E731
    sheet.append([result.question.label(language)])
    sheet.append([t("Respondents"), result.respondents])
    if weighting is not None and result.kind != "text":
        # A weighted mean under the plain label "Mean" would pass for the respondents' own.
        sheet.append([t("Weighted figures."), t(N_("Shares, means and intervals use the raking weights; "
                                                    "counts are respondents as counted."))])
        sheet.append([t("Effective sample size"), weighting.effective_n])
    if result.kind in ("choice", "multiple", "ranking") or (result.kind == "scale" and result.rows):
        # A scale's shares leave out "don't know", as on the results page: the sheet says so.
        share = t(N_("Share of those with a view") if result.kind == "scale" else N_("Share of respondents"))
        header = [t("Code"), t("Option"), t("Count"), share]
        # A weighted export has the weighted share beside the counted one, as the results page.
        weighted = any(row.get("weighted_share") is not None for row in result.rows)
        if weighted:
            header.append(t(N_("Weighted share")))
        if result.kind == "ranking":
            header += [t("Mean rank"), t("Points")]
        sheet.append(header)
        for row in result.rows:
            line = [row["code"], row["label"], row["count"], row["share"]]
            if weighted:
                line.append(row.get("weighted_share"))
            if result.kind == "ranking":
                line += [row.get("mean_rank"), row.get("points")]
            sheet.append(line)
    if result.summary:
        for key, label in SUMMARY_LABELS.items():
            if result.summary.get(key) is not None:
                sheet.append([t(label), result.summary[key]])
    if result.kind == "scale":
        hidden = result.dont_know_hidden
        sheet.append([t("Don't know"), result.dont_know if hidden is None else hidden_label(hidden, t)])
    if result.kind == "text" and texts is not None:
        sheet.append([t(N_("Response number")), t(N_("Answer"))])
        for response_id, text in texts[["response_id", "text"]].itertuples(index=False, name=None):
            sheet.append([int(response_id), _text_cell(sheet, text)])


def _text_cell(sheet: Any, text: str) -> Any:
    """What a respondent wrote, as text even when it starts with "=": openpyxl would otherwise store
    it as a formula, which the analyst's spreadsheet program runs on opening (formula injection)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def write_json(path: Path, table: WideTable, *, spec: SurveySpec, language: str) -> None:
    frame = table.frame.copy()
    if "submitted_at" in frame:
        # Swedish time with its offset: the same moment as in the other files, readable anywhere.
        frame["submitted_at"] = frame["submitted_at"].map(
            lambda m: m.tz_localize(LOCAL_TIME, ambiguous=True, nonexistent="shift_forward").isoformat()
            if pd.notna(m) else None)
    document = {
        "survey": spec.slug,
        "title": spec.text("title", language),
        "exported_at": utcnow().isoformat(),
        "codebook": [
            {"variable": v.name, "label": v.label, "question": v.question, "kind": v.kind,
             "values": {str(k): label for k, label in v.value_labels.items()}, "missing": v.missing}
            for v in table.variables
        ],
    }
    records = json.loads(frame.to_json(orient="records", force_ascii=False, date_format="iso"))
    with path.open("w", encoding="utf-8") as handle:
        json.dump({**document, "responses": records}, handle, ensure_ascii=False)


# --- background jobs -----------------------------------------------------------------------------


def export_dir() -> Path:
    folder = get_settings().var_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def file_name(spec: SurveySpec, export_format: str, filters: service.Filters | None = None, *,
              raw: bool = False) -> str:
    """What the file holds is in its name, so that it is not mistaken for another later: filtered
    (not all respondents), weighted, or with the free text unredacted (personal data). The time is
    the region's clock, as the pages show it."""
    parts = [spec.slug]
    if filters is not None and filters.narrows:
        parts.append("filtrerad")
    if filters is not None and filters.weighted:
        parts.append("viktad")
    if raw:
        parts.append("oredigerad-text")
    return f"{'-'.join(parts)}-{local(utcnow()):%Y%m%d-%H%M}.{export_format}"


def create_job(session: Session, *, owner_id: int, spec: SurveySpec, export_format: str, filters: service.Filters,
               raw: bool) -> ExportJob:
    assert spec.id is not None
    job = ExportJob(owner_id=owner_id, survey_id=spec.id, format=export_format, raw_text=raw,
                    filters=filters.params(), file_name=file_name(spec, export_format, filters, raw=raw))
    session.add(job)
    session.flush()
    return job


def start_job(job_id: int, *, language: str) -> threading.Thread:
    """Run the export in a thread of this process (the request that asked for it returns at once)."""
    thread = threading.Thread(target=run_job, args=(job_id,), kwargs={"language": language},
                              name=f"export-{job_id}", daemon=True)
    thread.start()
    return thread


def _set(job_id: int, **values: Any) -> None:
    with Session(get_engine()) as session:
        session.execute(update(ExportJob).where(ExportJob.id == job_id).values(updated_at=utcnow(), **values))
        session.commit()


def run_job(job_id: int, *, language: str = "sv") -> None:
    try:
        _set(job_id, status=JobStatus.running.value, progress=1)
        with Session(get_engine(), expire_on_commit=False) as session:
            job = session.get(ExportJob, job_id)
            assert job is not None
            spec = service.survey_by_id(session, survey_id=job.survey_id)
            assert spec is not None
            filters, _errors = service.parse_filters(job.filters or {})
            path = export_dir() / f"job-{job_id}-{job.file_name}"
            build_file(session, path=path, spec=spec, export_format=job.format, filters=filters,
                       raw=job.raw_text, language=language, progress=lambda p: _set(job_id, progress=p))
            session.commit()
        _set(job_id, status=JobStatus.done.value, progress=100, file_path=str(path))
    except Exception as exc:  # the job records the failure; the thread must not die silently
        log.exception("export job %s failed", job_id)
        _set(job_id, status=JobStatus.failed.value, error=str(exc)[:500])


def build_file(session: Session, *, path: Path, spec: SurveySpec, export_format: str, filters: service.Filters,
               raw: bool, language: str, progress: Progress | None = None) -> Path:
    report = progress or (lambda _p: None)
    if export_format == ExportFormat.xlsx:
        write_xlsx(path, session=session, spec=spec, filters=filters, raw=raw, language=language, progress=report)
        return path
    table = wide_table(session, spec=spec, filters=filters, raw=raw, language=language, progress=report)
    if export_format == ExportFormat.sav:
        write_sav(path, table, spec=spec, language=language)
    elif export_format == ExportFormat.json:
        write_json(path, table, spec=spec, language=language)
    else:
        raise ValueError(f"unknown export format {export_format}")
    return path


def job_is_stale(job: ExportJob) -> bool:
    if job.status not in (JobStatus.queued, JobStatus.running) or job.updated_at is None:
        return False
    updated = job.updated_at if job.updated_at.tzinfo else job.updated_at.replace(tzinfo=utcnow().tzinfo)
    return (utcnow() - updated).total_seconds() > STALE_AFTER_SECONDS
