"""The workspace's figures: every count is an SQL aggregate (SQLAlchemy Core), and Python only
assembles the few aggregated rows. The functions take plain arguments and return plain data, so
the results pages, the exports and the summary report all use the same figures."""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    and_,
    delete,
    false,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import Session

from consult.core.fields import pick, utcnow
from consult.core.formatting import LOCAL_TIME
from consult.core.i18n import N_
from consult.core.numbers import as_whole_number
from consult.db import has_uncommitted_writes, lock_for_update, transaction_memo
from consult.responses.models import (
    CHANNEL_LABELS,
    Answer,
    AnswerSelection,
    Channel,
    Response,
    ResponseDraft,
    ResponseStatus,
)
from consult.strategy.models import Municipality, ReviewCycle
from consult.strategy.service import cycles
from consult.surveys.models import DEMOGRAPHIC_TYPES, SINGLE_CODE_TYPES, TEXT_TYPES, QuestionType, Survey
from consult.surveys.schema import QuestionSpec, SurveySpec, demographic_questions
from consult.surveys.service import spec_from_rows
from consult.workspace.models import (
    ResponseWeight,
    WeightCell,
    WeightRun,
    WeightTarget,
    WeightVariable,
    not_counted,
)
from consult.workspace.weighting import (
    FEW_EFFECTIVE,
    SMALL_CELL,
    design_effect,
    effective_sample_size,
    hide_figure,
    mean_with_interval,
    protect_by_audit,
    protect_complements,
    rake,
    share_interval,
    suppress_small_cells,
    weighted_quantiles,
)

__all__ = ["suppress_small_cells", "SMALL_CELL", "CHANNEL_LABELS"]

response = Response.__table__
answer = Answer.__table__
selection = AnswerSelection.__table__
weight_table = ResponseWeight.__table__

CROSSTAB_TYPES = {*SINGLE_CODE_TYPES, QuestionType.scale}


# --- filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Which respondents a view counts, and how. Everything here travels in the URL."""

    municipality: int | None = None
    gender: int | None = None
    age_band: int | None = None
    channel: str | None = None
    campaign_tag: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    weighted: bool = False
    publish: bool = False  # figures meant for publication: small cells suppressed

    def params(self) -> dict[str, str]:
        """The query parameters that reproduce these filters (empty ones left out)."""
        values = {
            "kommun": self.municipality,
            "kon": self.gender,
            "alder": self.age_band,
            "kanal": self.channel,
            "kampanj": self.campaign_tag,
            "fran": self.date_from.isoformat() if self.date_from else None,
            "till": self.date_to.isoformat() if self.date_to else None,
            "viktat": "1" if self.weighted else None,
            "publicera": "1" if self.publish else None,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def query(self, **extra: Any) -> str:
        merged = {**self.params(), **{k: str(v) for k, v in extra.items() if v not in (None, "")}}
        return urlencode(merged)

    def described(self, spec: SurveySpec, language: str, translate: Callable[[str], str]) -> list[str]:
        """What the filter keeps, for people ("Kommun: Sundsvall"), in the reader's language."""
        demographics = demographic_questions(spec)
        parts: list[tuple[str, str]] = []
        for kind, code, title in (("municipality", self.municipality, N_("Municipality")),
                                  ("gender", self.gender, N_("Gender")), ("age_band", self.age_band, N_("Age band"))):
            question = demographics.get(kind)
            if code is not None:
                choice = question.choice(code) if question else None
                parts.append((title, choice.text(language) if choice else str(code)))
        if self.channel:
            parts.append((N_("Channel"), translate(CHANNEL_LABELS.get(self.channel, self.channel))))
        if self.campaign_tag:
            parts.append((N_("Campaign tag"), self.campaign_tag))
        if self.date_from:
            parts.append((N_("From date"), self.date_from.isoformat()))
        if self.date_to:
            parts.append((N_("To date"), self.date_to.isoformat()))
        return [f"{translate(title)}: {value}" for title, value in parts]

    def everyone(self) -> Filters:
        """The same figures for every respondent: the respondent filters dropped, but not how the
        figures are computed (weighted, for publication), which is not a question of who is counted."""
        return Filters(weighted=self.weighted, publish=self.publish)

    @property
    def narrows(self) -> bool:
        """True when some respondents are left out (not just weighted or published)."""
        return any(
            v is not None
            for v in (self.municipality, self.gender, self.age_band, self.channel, self.campaign_tag,
                      self.date_from, self.date_to)
        )


def parse_filters(query: Mapping[str, str]) -> tuple[Filters, dict[str, str]]:
    """Filters from query parameters, and the names of those that could not be read (left out)."""
    errors: dict[str, str] = {}

    def code(name: str) -> int | None:
        raw = (query.get(name) or "").strip()
        if not raw:
            return None
        number = as_whole_number(raw)
        if number is not None:
            return number
        errors[name] = N_("Choose a value from the list.")
        return None

    def day(name: str) -> date | None:
        raw = (query.get(name) or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = N_("Enter a date like 2025-03-31.")
            return None

    channel = (query.get("kanal") or "").strip() or None
    if channel is not None and channel not in {c.value for c in Channel}:
        errors["kanal"] = N_("Choose a value from the list.")
        channel = None
    tag = (query.get("kampanj") or "").strip()[:64] or None
    filters = Filters(
        municipality=code("kommun"),
        gender=code("kon"),
        age_band=code("alder"),
        channel=channel,
        campaign_tag=tag,
        date_from=day("fran"),
        date_to=day("till"),
        weighted=query.get("viktat") == "1",
        publish=query.get("publicera") == "1",
    )
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        errors["till"] = N_("The end date must not be before the start date.")
        filters = replace(filters, date_to=None)
    return filters, errors


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TIME).astimezone(UTC)


def eligible(survey_ids: Sequence[int]) -> ColumnElement[bool]:
    """Responses that count: submitted (not withdrawn) and not rejected in review."""
    return and_(
        response.c.survey_id.in_(list(survey_ids)) if len(survey_ids) != 1 else response.c.survey_id == survey_ids[0],
        response.c.status == ResponseStatus.submitted.value,
        response.c.review_state != "rejected",
    )


def _answer_is(question_id: int | None, choice: int) -> ColumnElement[bool]:
    if question_id is None:
        return false()
    chosen = select(answer.c.response_id).where(answer.c.question_id == question_id, answer.c.choice == choice)
    return response.c.id.in_(chosen)


def filter_conditions(spec: SurveySpec, filters: Filters) -> list[ColumnElement[bool]]:
    assert spec.id is not None
    conditions: list[ColumnElement[bool]] = [eligible([spec.id])]
    demographics = demographic_questions(spec)
    for kind, value in (("municipality", filters.municipality), ("gender", filters.gender),
                        ("age_band", filters.age_band)):
        if value is not None:
            question = demographics.get(kind)
            conditions.append(_answer_is(question.id if question else None, value))
    if filters.channel:
        conditions.append(response.c.channel == filters.channel)
    if filters.campaign_tag:
        conditions.append(response.c.campaign_tag == filters.campaign_tag)
    if filters.date_from:
        conditions.append(response.c.submitted_at >= local_midnight(filters.date_from))
    if filters.date_to:
        conditions.append(response.c.submitted_at < local_midnight(filters.date_to + timedelta(days=1)))
    return conditions


def respondents(spec: SurveySpec, filters: Filters) -> Any:
    """A subquery of the counted responses (rid) with their weight (w): 1 unless weighted."""
    conditions = filter_conditions(spec, filters)
    if filters.weighted:
        query = select(response.c.id.label("rid"), weight_table.c.weight.label("w")).join(
            weight_table, weight_table.c.response_id == response.c.id
        )
    else:
        query = select(response.c.id.label("rid"), literal(1.0).label("w"))
    return query.where(*conditions).subquery("respondents")


# --- results per question -------------------------------------------------------------------------


@dataclass
class Weighting:
    """Beside weighted figures: how many respondents, and what the weighting costs in precision."""

    respondents: int
    effective_n: float
    design_effect: float
    converged: bool = True  # False: the weights do not reach the targets (a target with nobody to weight)
    variables: tuple[str, ...] = ()  # what the weights are raked on, in WEIGHT_VARIABLES' order
    own_targets: bool = False  # the analysts' targets (False: the population defaults)

    @property
    def few(self) -> bool:
        return self.effective_n < FEW_EFFECTIVE


@dataclass
class QuestionResult:
    question: QuestionSpec
    kind: str  # choice, multiple, scale, ranking, number, text
    respondents: int = 0  # answered the question (for scales: with a value or "vet ej")
    weighted_respondents: float | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)  # per option or per scale value
    dont_know: int = 0
    dont_know_share: float | None = None
    dont_know_hidden: dict[str, Any] | None = None  # published: how the "vet ej" count was hidden
    summary: dict[str, Any] | None = None  # mean and interval, or number statistics
    histogram: list[dict[str, Any]] = field(default_factory=list)
    suppressed: bool = False  # too few respondents to publish anything

    @property
    def code(self) -> str:
        return self.question.code


@dataclass
class Results:
    spec: SurveySpec
    filters: Filters
    total: int  # counted respondents
    questions: list[QuestionResult]
    weighting: Weighting | None = None


def _kind(question: QuestionSpec) -> str:
    if question.type in SINGLE_CODE_TYPES:
        return "choice"
    if question.type in TEXT_TYPES:
        return "text"
    return {
        QuestionType.multiple_choice: "multiple",
        QuestionType.ranking: "ranking",
        QuestionType.scale: "scale",
        QuestionType.number: "number",
    }[question.type]


class FigureCache:
    """Figures computed lately, per worker process. An entry is used only while the survey's data
    version (count and last id of its responses, and which of them do not count) is unchanged and for
    at most `ttl` seconds, so new, withdrawn and rejected responses show at once and edits of stored
    answers within a minute."""

    def __init__(self, size: int = 128, ttl: float = 60.0) -> None:
        self.size, self.ttl = size, ttl
        self._entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Any, compute: Callable[[], Any]) -> Any:
        now = monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found and now - found[0] < self.ttl:
                self._entries.move_to_end(key)
                return found[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now, value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


figure_cache = FigureCache()


def data_version(session: Session, survey_ids: Sequence[int]) -> tuple:
    """Changes whenever a response is added, removed, withdrawn, rejected or let back in; read from
    indexes alone. An edit of stored answers shows when the cache entry expires (FigureCache.ttl)."""
    counts = _response_counts(session, survey_ids)
    return counts.stored, counts.highest, tuple(counts.excluded)


@dataclass(frozen=True)
class ResponseCounts:
    stored: int
    highest: int | None  # the highest id
    counted: int
    excluded: list[int]  # the stored responses that do not count (withdrawn, rejected)


def _response_counts(session: Session, survey_ids: Sequence[int]) -> ResponseCounts:
    """Responses stored, the highest id, the responses that count and the ids of those that do not:
    a count over a narrow index and the few that do not count from their partial index. A page asks
    for them several times (cache keys, scope, filter lists), so they are kept for the rest of the
    session's transaction."""
    memo = transaction_memo(session)
    key = ("response_counts", tuple(survey_ids))
    if key not in memo:
        of_surveys = response.c.survey_id.in_(list(survey_ids))
        stored, highest = session.execute(select(func.count(), func.max(response.c.id)).where(of_surveys)).one()
        excluded = session.execute(
            select(response.c.id).where(of_surveys, not_counted(response)).order_by(response.c.id)
        ).scalars().all()
        memo[key] = ResponseCounts(int(stored), highest, int(stored) - len(excluded), list(excluded))
    return memo[key]


def results(session: Session, *, spec: SurveySpec, filters: Filters, language: str = "sv",
            codes: Sequence[str] | None = None) -> Results:
    """Every question's results (or those in `codes`) under the filters."""
    assert spec.id is not None
    weights = ensure_weights(session, spec=spec).fingerprint if filters.weighted else None
    key = ("results", spec.id, spec.revision, filters, language, tuple(codes or ()), weights,
           data_version(session, [spec.id]))
    return figure_cache.get_or_compute(key, lambda: _results(session, spec, filters, language, codes))


def _results(session: Session, spec: SurveySpec, filters: Filters, language: str,
             codes: Sequence[str] | None) -> Results:
    wanted = [q for q in spec.questions if codes is None or q.code in codes]
    with _scoped(session, spec, filters) as scope:
        groups, list_rows = _aggregates(session, scope, filters, wanted)
    built = []
    for question in wanted:
        rows = groups.get(question.id or 0, [])
        counts = {
            "n": sum(r[3] for r in rows),
            "w": sum(r[4] for r in rows),
            "dont_know": sum(r[3] for r in rows if r[2]),
            "w2": sum(r[5] for r in rows),
        }
        result = QuestionResult(
            question=question,
            kind=_kind(question),
            respondents=int(counts["n"]),
            weighted_respondents=counts["w"] if filters.weighted else None,
            dont_know=int(counts["dont_know"]),
        )
        choice_rows = {question.id: {r[0]: (r[3], r[4]) for r in rows if r[0] is not None}}
        number_rows = {question.id: [(float(r[1]), r[3], r[4], r[5]) for r in rows if r[1] is not None]}
        _fill(result, choice_rows, list_rows, number_rows, counts, filters, language)
        if filters.publish:
            _suppress(result)
        built.append(result)
    return Results(spec=spec, filters=filters, total=scope.total, questions=built, weighting=scope.weighting)


def _aggregates(session: Session, scope: Scope, filters: Filters,
                questions: Sequence[QuestionSpec]) -> tuple[dict[int, list[tuple]], dict[int, dict[int, tuple]]]:
    """The answers' groups and the options' counts of `questions`, on two connections at once: the
    database works without the GIL, so two aggregates take the time of one on two cores. SQLite runs
    each query on one core, so there the questions are shared out between the two connections by
    their estimated cost; PostgreSQL reads all answers in one parallel pass, so there the answers'
    aggregate runs beside the options', except when every answer counts (`_in_index_order`). A
    filter's temporary table lives on this session's connection, so the second connection fills its
    own; what this transaction wrote is not seen by another connection: then one query at a time."""
    listed = [q for q in questions if _kind(q) in ("multiple", "ranking")]
    if not questions or has_uncommitted_writes(session):
        return _answer_groups(session, scope, filters, questions), _selection_counts(session, scope, filters, listed)
    if session.get_bind().dialect.name == "postgresql" and not _in_index_order(scope, filters):
        first: tuple[list, list] = (list(questions), [])
        second: tuple[list, list] = ([], listed)
    else:
        first, second = _shared_out(questions)
    with ThreadPoolExecutor(max_workers=1) as pool:
        theirs = pool.submit(_in_own_session, _lane if scope.table is None else _lane_with_own_table,
                             scope, filters, *second)
        groups, counts = _lane(session, scope, filters, *first)
        their_groups, their_counts = theirs.result()
    return groups | their_groups, counts | their_counts


def _in_index_order(scope: Scope, filters: Filters) -> bool:
    """True when an aggregate reads every answer of its questions (at most a few excluded responses,
    subtracted afterwards): nothing to join, so the covering indexes hold all it needs, already in
    the order of its groups."""
    return scope.counted is None and scope.table is None and not filters.weighted


def _lane(session: Session, scope: Scope, filters: Filters, answered: Sequence[QuestionSpec],
          listed: Sequence[QuestionSpec]) -> tuple[dict[int, list[tuple]], dict[int, dict[int, tuple]]]:
    if session.get_bind().dialect.name == "postgresql":
        # The two lanes run at once on a machine of two cores. When every answer counts, each lane
        # reads its share of the questions from the covering index, whose order is the groups', with
        # no parallel worker, no sort and no hash table. PostgreSQL's planner prefers a parallel
        # sequential scan and a hash for half a table; measured on 100,000 responses, alternating,
        # the whole results page's figures took 185-192 ms this way against 234-237 ms its way.
        # Filtered and weighted figures join the responses or the weights, where hashing wins: there
        # the answers' pass keeps one parallel worker beside its own process and the options' pass
        # has none (the default of two workers per query made six processes take turns on two
        # cores: 313-339 ms against 341-354 ms).
        if _in_index_order(scope, filters):
            settings = {"max_parallel_workers_per_gather": "0", "enable_seqscan": "off", "enable_hashagg": "off"}
        else:
            settings = {"max_parallel_workers_per_gather": "1" if answered else "0"}
        with _planner_settings(session, settings):
            return _lane_queries(session, scope, filters, answered, listed)
    return _lane_queries(session, scope, filters, answered, listed)


def _lane_queries(session: Session, scope: Scope, filters: Filters, answered: Sequence[QuestionSpec],
                  listed: Sequence[QuestionSpec]) -> tuple[dict[int, list[tuple]], dict[int, dict[int, tuple]]]:
    groups = _answer_groups(session, scope, filters, answered) if answered else {}
    return groups, _selection_counts(session, scope, filters, listed)


@contextmanager
def _planner_settings(session: Session, settings: Mapping[str, str]) -> Iterator[None]:
    """PostgreSQL planner settings for the queries inside, back to their defaults after them: the
    request's transaction goes on to other queries, which the lanes' settings would mislead. (After
    an error the transaction is rolled back, and its settings with it.)"""
    for name, value in settings.items():
        session.execute(text(f"SET LOCAL {name} = {value}"))
    yield
    for name in settings:
        session.execute(text(f"SET LOCAL {name} TO DEFAULT"))


def _lane_with_own_table(session: Session, scope: Scope, filters: Filters, answered: Sequence[QuestionSpec],
                         listed: Sequence[QuestionSpec]) -> tuple[dict[int, list[tuple]], dict[int, dict[int, tuple]]]:
    with _counted_table(session, scope.table_rows) as table:
        return _lane(session, replace(scope, table=table), filters, answered, listed)


# Relative cost of the aggregates per respondent (measured on SQLite, 100,000 responses): a valued
# answer is grouped by its value, a text answer is only counted, and an option row exists per selection.
ANSWER_COST = {"choice": 1.0, "scale": 0.7, "number": 0.8, "text": 0.5, "multiple": 0.5, "ranking": 0.5}
SELECTION_COST = 1.8


def _shared_out(questions: Sequence[QuestionSpec]) -> tuple[tuple[list, list], tuple[list, list]]:
    """Two lanes of (questions whose answers to group, questions whose options to count) of about
    equal cost: the dearest work first, each to the lane with less so far."""
    work = [(ANSWER_COST[_kind(q)], 0, q) for q in questions]
    work += [(SELECTION_COST, 1, q) for q in questions if _kind(q) in ("multiple", "ranking")]
    lanes: list[tuple[list, list]] = [([], []), ([], [])]
    loads = [0.0, 0.0]
    for cost, part, question in sorted(work, key=lambda item: -item[0]):
        lane = loads.index(min(loads))
        lanes[lane][part].append(question)
        loads[lane] += cost
    return lanes[0], lanes[1]


@dataclass(frozen=True)
class Scope:
    """Which answers an aggregate counts. `counted` (a subquery of response ids) restricts it to the
    counted respondents; when it is None, every stored answer counts except those of `excluded`
    (withdrawn or rejected responses, usually none or a few), whose own aggregate is subtracted.
    Subtracting a few responses is far cheaper than testing 1.5 million answers for membership."""

    total: int
    weighting: Weighting | None = None
    counted: Any | None = None
    excluded: list[int] | None = None
    table: Table | None = None  # SQLite: the counted responses' ids in a temporary table, joined by rowid
    table_rows: Any | None = None  # the query that filled `table`


# Up to this share (and number) of responses excluded, aggregate everything and subtract the excluded ones.
SUBTRACT_UP_TO = 0.2
SUBTRACT_AT_MOST = 5000


USE_COUNTED_TABLE = True  # tests compare the two ways
COUNTED_TABLE = Table("ws_counted", MetaData(), Column("rid", Integer, primary_key=True), prefixes=["TEMPORARY"])


@contextmanager
def _scoped(session: Session, spec: SurveySpec, filters: Filters) -> Iterator[Scope]:
    """The scope of a computation. With a filter on SQLite the counted responses' ids go into a temporary
    table keyed by rowid for its duration: joining 1.4 million answers to it takes half the time of
    testing each against `IN (subquery)`, whose ephemeral index compares whole records. (PostgreSQL
    hash-joins the subquery, so there it stays a subquery.)"""
    in_table = session.get_bind().dialect.name == "sqlite" and USE_COUNTED_TABLE
    scope = _scope(session, spec, filters, count_filtered=not in_table)  # else counted in the table
    if scope.counted is None or not in_table:
        yield scope
        return
    with _counted_table(session, scope.counted) as table:
        total = scope.total
        if total < 0:
            total = session.execute(select(func.count()).select_from(table)).scalar_one()
        yield replace(scope, total=int(total), counted=None, table=table, table_rows=scope.counted)


@contextmanager
def _counted_table(session: Session, rows: Any) -> Iterator[Table]:
    """COUNTED_TABLE on this session's connection, filled with the ids `rows` selects."""
    connection = session.connection()
    COUNTED_TABLE.drop(connection, checkfirst=True)
    COUNTED_TABLE.create(connection)
    try:
        connection.execute(COUNTED_TABLE.insert().from_select(["rid"], rows))
        yield COUNTED_TABLE
    finally:
        COUNTED_TABLE.drop(connection, checkfirst=True)


def _scope(session: Session, spec: SurveySpec, filters: Filters, count_filtered: bool = True) -> Scope:
    assert spec.id is not None
    if filters.weighted:
        return _weighted_scope(session, spec, filters)
    if filters.narrows:
        conditions = filter_conditions(spec, filters)
        total = session.execute(select(func.count()).where(*conditions)).scalar_one() if count_filtered else -1
        return Scope(int(total), counted=select(response.c.id).where(*conditions))
    counts = _response_counts(session, [spec.id])
    if counts.stored == counts.counted:
        return Scope(counts.counted)
    if len(counts.excluded) <= min(SUBTRACT_UP_TO * counts.stored, SUBTRACT_AT_MOST):
        # The ids themselves, not a subquery: the database then finds their answers through the
        # response_id index instead of reading the survey's responses again for each aggregate.
        return Scope(counts.counted, excluded=counts.excluded)
    return Scope(counts.counted, counted=select(response.c.id).where(eligible([spec.id])))


def _weighted_scope(session: Session, spec: SurveySpec, filters: Filters) -> Scope:
    """Weighted figures join the weights, which exist for exactly the counted responses (ensure_weights
    recomputes them whenever that set changes), so without other filters nothing else restricts them
    and the totals come from the small table of weighting cells."""
    assert spec.id is not None
    if filters.narrows:
        base = respondents(spec, filters)
        n, w, w2 = session.execute(
            select(func.count(), func.sum(base.c.w), func.sum(base.c.w * base.c.w)).select_from(base)
        ).one()
        counted = select(response.c.id).where(*filter_conditions(spec, filters))
    else:
        cell = WeightCell.__table__
        n, w, w2 = session.execute(
            select(func.sum(cell.c.respondents), func.sum(cell.c.respondents * cell.c.weight),
                   func.sum(cell.c.respondents * cell.c.weight * cell.c.weight)).where(cell.c.survey_id == spec.id)
        ).one()
        counted = None
    n = int(n or 0)
    effective = (w or 0) ** 2 / w2 if w2 else 0.0
    converged = weights_converged(session, spec=spec)
    targets, own = weight_targets(session, spec=spec)
    used = weighting_variables(spec, targets)
    weighting = Weighting(n, effective, design_effect(n, effective), converged, used, own)
    return Scope(n, weighting, counted=counted)


def weights_converged(session: Session, *, spec: SurveySpec) -> bool:
    """False when the survey's stored weights stopped at the iteration limit, short of their targets."""
    converged = session.execute(select(WeightRun.converged).where(WeightRun.survey_id == spec.id)).scalar()
    return converged is not False


def counted_responses(session: Session, spec: SurveySpec, filters: Filters) -> Any | None:
    """The ids of the counted responses as a subquery, or None when every stored response of the
    survey counts: answers are then aggregated straight from their indexes, with no lookup per response."""
    assert spec.id is not None
    if not filters.narrows and not filters.weighted:
        counts = _response_counts(session, [spec.id])
        if counts.stored == counts.counted:
            return None
    return select(response.c.id).where(*filter_conditions(spec, filters))


def _restricted(query: Any, table: Any, scope: Scope, filters: Filters) -> Any:
    """Limit an aggregate over answers or selections to the counted responses, weighting if asked."""
    if filters.weighted:
        query = query.join(weight_table, weight_table.c.response_id == table.c.response_id)
    if scope.table is not None:
        query = query.join(scope.table, scope.table.c.rid == table.c.response_id)
    if scope.counted is not None:
        query = query.where(table.c.response_id.in_(scope.counted))
    return query


def _weight_columns(filters: Filters) -> list[Any]:
    if filters.weighted:
        return [func.sum(weight_table.c.weight), func.sum(weight_table.c.weight * weight_table.c.weight)]
    return [func.count(), func.count()]  # unweighted: every weight is one


def _run_scoped(session: Session, query: Any, table: Any, scope: Scope, filters: Filters,
                width: int) -> list[tuple]:
    """Rows of a grouped aggregate (grouping columns, then `width` sums) under the scope: with
    `scope.excluded`, the aggregate of everything minus that of the excluded responses."""
    rows = [tuple(r) for r in session.execute(_restricted(query, table, scope, filters))]
    if scope.excluded is None or filters.weighted:
        return rows
    minus = {tuple(r[:-width]): r[-width:] for r in session.execute(
        query.where(table.c.response_id.in_(scope.excluded)))}
    if not minus:
        return rows
    kept = []
    for row in rows:
        taken = minus.get(tuple(row[:-width]))
        if taken is not None:
            row = (*row[:-width], *((a or 0) - (b or 0) for a, b in zip(row[-width:], taken, strict=True)))
            if row[-width] == 0:  # the group held only excluded responses
                continue
        kept.append(row)
    return kept


def _answer_groups(session: Session, scope: Scope, filters: Filters,
                   questions: Sequence[QuestionSpec]) -> dict[int, list[tuple]]:
    """Per question, choice, number and "vet ej": the count of respondents and the sums of weights
    and squared weights. Choices, scales and numbers are grouped in the order of the covering index
    (question, choice, number, dont_know), so the database streams through it without sorting; text,
    multiple choice and ranking only need their count of respondents, a cheaper aggregate on SQLite.
    On PostgreSQL, and with a filter, one pass serves every question: PostgreSQL's cost is in reading
    the answers (from the index in its order, or in a parallel scan), not in the groups, and with a
    filter every answer is looked up among the filter's responses whatever it aggregates."""
    found: dict[int, list[tuple]] = {}
    one_pass = session.get_bind().dialect.name == "postgresql" or scope.counted is not None or scope.table is not None
    valued = [q for q in questions if one_pass or _kind(q) in ("choice", "scale", "number")]
    counted_only = [q for q in questions if q not in valued]
    if valued:
        columns = (answer.c.question_id, answer.c.choice, answer.c.number, answer.c.dont_know)
        query = select(*columns, func.count(), *_weight_columns(filters)).where(
            answer.c.question_id.in_(_ids(valued))
        ).group_by(*columns)
        for qid, choice, value, dont_know, n, w, w2 in _run_scoped(session, query, answer, scope, filters, 3):
            found.setdefault(qid, []).append((choice, value, bool(dont_know), n, float(w or 0), float(w2 or 0)))
    if counted_only:
        query = select(answer.c.question_id, func.count(), *_weight_columns(filters)).where(
            answer.c.question_id.in_(_ids(counted_only))
        ).group_by(answer.c.question_id)
        for qid, n, w, w2 in _run_scoped(session, query, answer, scope, filters, 3):
            found.setdefault(qid, []).append((None, None, False, n, float(w or 0), float(w2 or 0)))
    return found


def _ids(questions: Sequence[QuestionSpec]) -> list[int]:
    return [q.id for q in questions if q.id is not None]


def _in_own_session(work: Callable[..., Any], *args: Any) -> Any:
    """`work(session, *args)` in a session of its own: for an aggregate run in a second thread
    while this request's session reads another (the database works without the GIL)."""
    from consult.db import session_scope

    with session_scope() as session:
        return work(session, *args)


def _selection_counts(session: Session, scope: Scope, filters: Filters,
                      questions: Sequence[QuestionSpec]) -> dict[int, dict[int, tuple]]:
    if not questions:
        return {}
    rank = func.coalesce(selection.c.rank, 0)
    weight = weight_table.c.weight if filters.weighted else literal(1.0)
    query = (
        select(
            selection.c.question_id,
            selection.c.choice,
            func.count(),
            func.sum(weight) if filters.weighted else func.count(),
            func.sum(rank),
            func.sum(rank * weight) if filters.weighted else func.sum(rank),
        )
        .where(selection.c.question_id.in_(_ids(questions)))
        .group_by(selection.c.question_id, selection.c.choice)
    )
    found: dict[int, dict[int, tuple]] = {}
    for qid, choice, count, weighted, rank_sum, weighted_rank_sum in _run_scoped(
        session, query, selection, scope, filters, 4
    ):
        found.setdefault(qid, {})[choice] = (count, weighted or 0.0, rank_sum or 0, weighted_rank_sum or 0.0)
    return found


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _fill(result: QuestionResult, choice_rows, list_rows, number_rows, counts, filters: Filters, language: str) -> None:  # type: ignore[no-untyped-def]
    question = result.question
    qid = question.id or 0
    weighted_base = counts.get("w", 0.0)
    base = _Base(result.respondents, weighted_base, _effective(weighted_base, counts.get("w2", 0.0)), filters)
    if result.kind == "choice":
        found = choice_rows.get(qid, {})
        result.rows = [
            _option_row(choice.code, choice.text(language), found.get(choice.code, (0, 0.0)), base)
            for choice in question.choices
        ]
        unknown = sorted(set(found) - question.choice_codes)  # codes from an older version of the survey
        result.rows += [_option_row(code, str(code), found[code], base) for code in unknown]
    elif result.kind in ("multiple", "ranking"):
        found = list_rows.get(qid, {})
        options = len(question.choices)
        for choice in question.choices:
            count, weighted, rank_sum, weighted_rank_sum = found.get(choice.code, (0, 0.0, 0, 0.0))
            row = _option_row(choice.code, choice.text(language), (count, weighted), base)
            if result.kind == "ranking":
                # Borda points: first of k options gets k points, last gets 1, unranked none.
                mean_rank = weighted_rank_sum / weighted if filters.weighted and weighted else rank_sum / max(count, 1)
                row["mean_rank"] = mean_rank if count else None
                row["points"] = (weighted * (options + 1) - weighted_rank_sum) if filters.weighted else (
                    count * (options + 1) - rank_sum)
            result.rows.append(row)
        if result.kind == "ranking":
            result.rows.sort(key=lambda r: -(r["points"] or 0))
    elif result.kind in ("scale", "number"):
        _fill_numbers(result, number_rows.get(qid, []), counts, filters)


@dataclass(frozen=True)
class _Base:
    """What an option's share is of: the respondents, their weights, and the effective sample size
    that the share's interval is computed from (the respondents themselves when unweighted)."""

    respondents: float
    weighted: float
    effective: float
    filters: Filters

    @property
    def interval_n(self) -> float:
        return self.effective if self.filters.weighted else self.respondents


def _effective(weight_sum: float, square_sum: float) -> float:
    """Kish's effective sample size from the sums of the weights and of their squares."""
    return weight_sum**2 / square_sum if square_sum else 0.0


def _option_row(code: int, label: str, counted: tuple, base: _Base) -> dict[str, Any]:
    count, weighted = counted[0], counted[1]
    share = _share(count, base.respondents)
    weighted_share = _share(weighted, base.weighted) if base.filters.weighted else None
    return {
        "code": code,
        "label": label,
        "count": int(count),
        "share": share,
        "weighted": float(weighted) if base.filters.weighted else None,
        "weighted_share": weighted_share,
        "interval": share_interval(weighted_share if base.filters.weighted else share, base.interval_n),
    }


def _fill_numbers(result: QuestionResult, rows: list[tuple], counts: Mapping[str, float], filters: Filters) -> None:
    values = [r[0] for r in rows]
    plain = [r[1] for r in rows]
    weighted = [r[2] for r in rows]
    with_value = sum(plain)
    weighted_with_value = sum(weighted)
    if filters.weighted:
        square = sum(r[3] for r in rows)
        effective = weighted_with_value**2 / square if square else 0.0
        summary = mean_with_interval(values, weighted, effective_n=effective)
    else:
        summary = mean_with_interval(values, plain)
    use = weighted if filters.weighted else plain
    answered = result.respondents
    result.dont_know_share = _share(result.dont_know, answered)
    result.summary = {
        "n": int(with_value),
        "effective_n": summary.n if filters.weighted else None,
        "mean": summary.mean,
        "low": summary.low,
        "high": summary.high,
        "sd": summary.sd,
    }
    if result.kind == "scale":
        question = result.question
        # Every point of the scale gets a row, answered or not (what the survey offered, as validated).
        low, high = question.scale_range()
        by_value = {v: (p, w) for v, p, w in zip(values, plain, weighted, strict=True)}
        result.rows = [
            {
                "code": point,
                "label": str(point),
                "count": int(by_value.get(float(point), (0, 0.0))[0]),
                "share": _share(by_value.get(float(point), (0, 0.0))[0], with_value),
                "weighted": by_value.get(float(point), (0, 0.0))[1] if filters.weighted else None,
                "weighted_share": _share(by_value.get(float(point), (0, 0.0))[1], weighted_with_value)
                if filters.weighted else None,
            }
            for point in range(low, high + 1)
        ] if high - low <= 20 else []
        base = summary.n if filters.weighted else with_value
        for row in result.rows:
            row["interval"] = share_interval(row["weighted_share"] if filters.weighted else row["share"], base)
        return
    if values:
        q1, median, q3 = weighted_quantiles(values, use, (0.25, 0.5, 0.75))
        result.summary.update({"min": min(values), "max": max(values), "median": median, "q1": q1, "q3": q3})
        result.histogram = histogram(values, use)


def histogram(values: Sequence[float], counts: Sequence[float], bins: int = 10) -> list[dict[str, Any]]:
    """Equal-width bins (at most `bins`) from the smallest answer to the largest, the last bin
    closed so that it ends at the largest answer instead of claiming values nobody gave. Whole
    numbers get whole-number bins ("63–70"); `digits` is how many decimals a bin's edges need."""
    v = np.asarray(values, dtype=float)
    low, high = float(v.min()), float(v.max())
    whole = bool(np.all(np.mod(v, 1) == 0))
    if low == high:
        return [{"low": low, "high": high, "count": float(sum(counts)), "digits": 0 if whole else _digits(high)}]
    if whole:
        width = math.ceil((high - low) / bins)
        # One bin per value when there are few values, so the last bin does not hold two.
        steps = int(high - low) + 1 if width == 1 else math.ceil((high - low) / width)
        edges = low + width * np.arange(steps + 1)
        tops = [float(edge) - 1 for edge in edges[1:]]
        digits = 0
    else:
        edges = np.linspace(low, high, bins + 1)
        tops = [float(edge) for edge in edges[1:]]
        digits = _digits((high - low) / bins)
    tops[-1] = high  # np.histogram counts the largest answer in the last bin, whatever its top edge
    totals, _ = np.histogram(v, bins=edges, weights=np.asarray(counts, dtype=float))
    return [
        {"low": float(edges[i]), "high": tops[i], "count": float(totals[i]), "digits": digits}
        for i in range(len(totals))
    ]


def _digits(step: float) -> int:
    """Decimals enough to tell edges `step` apart (one at least, three at most)."""
    return min(3, max(1, math.ceil(-math.log10(abs(step))))) if step else 1


ROW_FIGURES = ("share", "weighted", "weighted_share", "interval", "mean_rank", "points")


def _suppress(result: QuestionResult) -> None:
    """Published figures: options with 1-4 respondents hidden; a question answered by fewer than
    five is hidden as a whole, with its mean. Where a single option (or "vet ej") is hidden, the
    next smallest is hidden too, or the total minus the others would give it away; and a number's
    lowest and highest values, each one person's answer, are left out."""
    if 0 < result.respondents < SMALL_CELL:
        result.suppressed = True
        result.rows = []
        result.summary = None
        result.histogram = []
        return
    result.rows = suppress_small_cells(result.rows, hide=ROW_FIGURES)
    dont_know = {"count": result.dont_know, "suppressed": 0 < result.dont_know < SMALL_CELL}
    protect_complements([[*result.rows, dont_know]], hide=ROW_FIGURES)
    if result.kind in ("choice", "scale"):  # options that add up to the respondents shown
        _audit_line([*result.rows, dont_know], result.respondents, hide=ROW_FIGURES)
    if dont_know["suppressed"]:
        result.dont_know_hidden = dont_know
        result.dont_know, result.dont_know_share = 0, None
    result.histogram = suppress_small_cells(result.histogram)
    protect_complements([result.histogram])
    _audit_line(result.histogram, result.respondents)
    if result.summary:
        result.summary = {k: v for k, v in result.summary.items() if k not in ("min", "max")}


# --- crosstab -----------------------------------------------------------------------------------


@dataclass
class Crosstab:
    row_question: QuestionSpec
    column_question: QuestionSpec
    rows: list[dict[str, Any]]  # {code, label, cells: [{count, percent}], total}
    columns: list[dict[str, Any]]  # {code, label, total}
    n: int
    chi2: float | None = None
    p_value: float | None = None
    dof: int | None = None
    low_expected: bool = False  # some expected counts below 5: the test is unreliable
    weighted: bool = False
    effective_n: float | None = None  # weighted: Kish's effective sample size of the table's respondents
    # The columns are the options of a multiple-choice question: a cell is the share of the row's
    # respondents who chose the option, so a row adds up to more than 100 % and has no chi-square.
    several: bool = False


def crosstab_questions(spec: SurveySpec) -> list[QuestionSpec]:
    return [q for q in spec.questions if q.type in CROSSTAB_TYPES or q.type == QuestionType.multiple_choice]


def crosstab_pair_problem(spec: SurveySpec, *, row_code: str, column_code: str) -> str | None:
    """Why two questions make no crosstab (an English msgid), or None."""
    if row_code == column_code:
        return N_("Choose two different questions.")
    row_q = spec.question(row_code)
    if row_q is not None and row_q.type == QuestionType.multiple_choice:
        return N_("A multiple-choice question can only be the columns: its options are counted one by one.")
    return None


def _categories(question: QuestionSpec, language: str) -> list[tuple[int, str]]:
    if question.type == QuestionType.scale:
        low = int(question.min_value if question.min_value is not None else 1)
        high = int(question.max_value if question.max_value is not None else 5)
        return [(v, str(v)) for v in range(low, high + 1)]
    return [(c.code, c.text(language)) for c in question.choices]


def _value_column(table: Any, question: QuestionSpec) -> Any:
    return table.c.number if question.type == QuestionType.scale else table.c.choice


def crosstab(session: Session, *, spec: SurveySpec, row_code: str, column_code: str, filters: Filters,
             language: str = "sv") -> Crosstab | None:
    """Counts and row percentages of two questions, with Pearson's chi-square test on the counts."""
    assert spec.id is not None
    weights = ensure_weights(session, spec=spec).fingerprint if filters.weighted else None
    key = ("crosstab", spec.id, spec.revision, row_code, column_code, filters, language, weights,
           data_version(session, [spec.id]))
    return figure_cache.get_or_compute(
        key, lambda: _crosstab(session, spec, row_code, column_code, filters, language)
    )


def _crosstab(session: Session, spec: SurveySpec, row_code: str, column_code: str, filters: Filters,
              language: str) -> Crosstab | None:
    row_q, col_q = spec.question(row_code), spec.question(column_code)
    several = col_q is not None and col_q.type == QuestionType.multiple_choice
    if (row_q is None or col_q is None or row_q.type not in CROSSTAB_TYPES
            or (col_q.type not in CROSSTAB_TYPES and not several)):
        return None
    if filters.weighted:
        ensure_weights(session, spec=spec)
    # The pairs of answers come from the answer index (in response order within each row category,
    # which keeps the lookups of the second answer close together); the counted responses are
    # applied as in the results (the few excluded ones subtracted, or the filter's responses looked up).
    # A multiple-choice column pairs the row's answer with each chosen option instead, and the
    # row's base is its respondents who answered the question at all.
    first, second = answer.alias("a1"), answer.alias("a2")
    row_value = _value_column(first, row_q)
    weight = weight_table.c.weight
    sums = ((func.count(), func.sum(weight), func.sum(weight * weight)) if filters.weighted
            else (func.count(), func.count(), func.count()))
    both = and_(second.c.response_id == first.c.response_id, second.c.question_id == col_q.id)
    if several:
        chosen = selection.alias("s2")
        column_value = chosen.c.choice
        pairs = select(row_value, column_value, *sums).select_from(first).join(
            chosen, and_(chosen.c.response_id == first.c.response_id, chosen.c.question_id == col_q.id))
        base_query = (select(row_value, *sums).select_from(first).join(second, both)
                      .where(first.c.question_id == row_q.id, row_value.is_not(None)).group_by(row_value))
    else:
        column_value = _value_column(second, col_q)
        pairs = select(row_value, column_value, *sums).select_from(first).join(second, both)
    query = (pairs.where(first.c.question_id == row_q.id, row_value.is_not(None), column_value.is_not(None))
             .group_by(row_value, column_value))
    with _scoped(session, spec, filters) as scope:
        counted = {(int(r), int(c)): (n, w or 0.0, w2 or 0.0)
                   for r, c, n, w, w2 in _run_scoped(session, query, first, scope, filters, 3)}
        bases = ({int(r): (n, w or 0.0, w2 or 0.0)
                  for r, n, w, w2 in _run_scoped(session, base_query, first, scope, filters, 3)}
                 if several else None)
    row_categories, column_categories = _categories(row_q, language), _categories(col_q, language)
    counts = np.array([[counted.get((r, c), (0, 0.0))[0] for c, _ in column_categories] for r, _ in row_categories])
    shown = np.array(
        [[counted.get((r, c), (0, 0.0))[1 if filters.weighted else 0] for c, _ in column_categories]
         for r, _ in row_categories], dtype=float,
    )
    if bases is not None:
        base_counts = np.array([bases.get(r, (0, 0.0))[0] for r, _ in row_categories])
        base_shown = np.array([bases.get(r, (0, 0.0))[1 if filters.weighted else 0] for r, _ in row_categories],
                              dtype=float)
    else:
        base_counts, base_shown = counts.sum(axis=1), shown.sum(axis=1)
    table = Crosstab(row_q, col_q, [], [], int(base_counts.sum()), weighted=filters.weighted, several=several)
    if filters.weighted:
        # Each respondent once: per row category (a multiple choice's pairs repeat a respondent per option).
        rows_with_weights = bases.values() if bases is not None else counted.values()
        table.effective_n = _effective(sum(v[1] for v in rows_with_weights), sum(v[2] for v in rows_with_weights))
    table.columns = [{"code": c, "label": label, "total": int(counts[:, j].sum())}
                     for j, (c, label) in enumerate(column_categories)]
    for i, (code, label) in enumerate(row_categories):
        cells = [{"count": int(counts[i, j]), "percent": _share(shown[i, j], base_shown[i])}
                 for j in range(len(column_categories))]
        table.rows.append({"code": code, "label": label, "cells": cells, "total": int(base_counts[i])})
    if not several:  # options chosen together are no contingency table
        _test(table, counts)
    if filters.publish:
        _suppress_crosstab(table)
    return table


def _test(table: Crosstab, counts: np.ndarray) -> None:
    """Chi-square on the unweighted counts, leaving out empty rows and columns (they have no expected counts)."""
    kept = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if kept.shape[0] < 2 or kept.shape[1] < 2:
        return
    outcome = chi2_contingency(kept, correction=False)
    table.chi2, table.p_value, table.dof = float(outcome.statistic), float(outcome.pvalue), int(outcome.dof)
    table.low_expected = bool((outcome.expected_freq < 5).any())


def _audit_line(figures: list[dict[str, Any]], total: int, hide: Sequence[str] = ()) -> None:
    """Figures that add up to a total the page shows: two small ones of 1 each under a total of 2
    more than the rest are pinned down although neither is alone (see protect_by_audit)."""
    if not any(figure.get("suppressed") for figure in figures):
        return
    whole = {"count": total}
    keys = ["count"] * (len(figures) + 1)
    protect_by_audit([*figures, whole], keys, [(list(range(len(figures))), len(figures))], ceiling=total,
                     hide=[hide] * len(figures) + [()])


def _suppress_crosstab(table: Crosstab) -> None:
    """Small counts hidden, and more wherever a hidden one could be worked out from the figures
    shown: a row's cells add up to the row's total (unless the columns are the options of a
    multiple choice), a column's cells to the column's total, the rows' totals to n, and so do the
    columns' totals unless they are options of a multiple choice. A total hidden only for that
    reason also hides one of its cells, or the cells would add up to it."""
    for row in table.rows:
        row["cells"] = suppress_small_cells(row["cells"], hide=("percent",))
    table.rows = suppress_small_cells(table.rows, keys=("total",))
    table.columns = suppress_small_cells(table.columns, keys=("total",))
    margins = [table.rows] if table.several else [table.rows, table.columns]
    while True:
        columns = [[row["cells"][i] for row in table.rows] for i in range(len(table.columns))]
        groups = [cells for cells, column in zip(columns, table.columns, strict=True) if not column["suppressed"]]
        if not table.several:
            groups += [row["cells"] for row in table.rows if not row["suppressed"]]
        changed = protect_complements(groups, hide=("percent",))
        changed = protect_complements(margins, key="total") or changed
        for margin, cells in ((table.rows, [row["cells"] for row in table.rows]), (table.columns, columns)):
            for total, its_cells in zip(margin, cells, strict=True):
                # Hidden only so that a small total cannot be worked out: with every cell shown,
                # the cells would add up to it.
                shown = [cell for cell in its_cells if not cell["suppressed"] and cell["count"]]
                if total.get("complement") and shown and len(shown) == sum(c["count"] != 0 for c in its_cells):
                    hide_figure(min(shown, key=lambda cell: cell["count"]), hide=("percent",))
                    changed = True
        if not changed:
            break
    _audit_crosstab(table)


def _audit_crosstab(table: Crosstab) -> None:
    """The rule above looks at one row or column at a time; combined, the totals can still pin a
    hidden cell down (two hidden column totals whose sum is n minus the others, and rows that each
    hide the same two columns). protect_by_audit checks the whole table."""
    n_figure = {"total": table.n}
    cells = [cell for row in table.rows for cell in row["cells"]]
    figures = [*cells, *table.rows, *table.columns, n_figure]
    keys = ["count"] * len(cells) + ["total"] * (len(table.rows) + len(table.columns) + 1)
    hide = [("percent",)] * len(cells) + [()] * (len(table.rows) + len(table.columns) + 1)
    width = len(table.columns)
    row_at, column_at, n_at = len(cells), len(cells) + len(table.rows), len(figures) - 1
    equations = [([i * width + j for i in range(len(table.rows))], column_at + j) for j in range(width)]
    equations.append((list(range(row_at, column_at)), n_at))
    if not table.several:
        equations += [([i * width + j for j in range(width)], row_at + i) for i in range(len(table.rows))]
        equations.append((list(range(column_at, n_at)), n_at))
    protect_by_audit(figures, keys, equations, ceiling=table.n, hide=hide)



# --- weighting ----------------------------------------------------------------------------------

WEIGHT_VARIABLES = (WeightVariable.municipality, WeightVariable.gender, WeightVariable.age_band)


def default_targets(session: Session, *, spec: SurveySpec) -> dict[str, dict[int, float]]:
    """Municipality shares of the population (from the Municipality table), for the municipalities
    the survey offers. Gender and age band are not weighted unless an analyst sets targets.

    A choice is matched to a municipality by its code (the SCB code every survey built here uses)
    or else by its name, as in a form imported from elsewhere that numbers the choices 1, 2, ...."""
    question = demographic_questions(spec).get(WeightVariable.municipality.value)
    if question is None:
        return {}
    known = session.execute(select(Municipality.code, Municipality.name, Municipality.population)).all()
    by_code = {code: population for code, _, population in known}
    by_name = {name.casefold(): population for _, name, population in known}
    populations = {}
    for choice in question.choices:
        population = by_code.get(choice.code, by_name.get(choice.text("sv").strip().casefold()))
        if population is not None:
            populations[choice.code] = population
    total = sum(populations.values())
    if not total:
        return {}
    return {WeightVariable.municipality.value: {code: pop / total for code, pop in populations.items() if pop > 0}}


def stored_targets(session: Session, *, survey_id: int) -> dict[str, dict[int, float]]:
    rows = session.execute(
        select(WeightTarget.variable, WeightTarget.code, WeightTarget.share).where(WeightTarget.survey_id == survey_id)
    ).all()
    targets: dict[str, dict[int, float]] = {}
    for variable, code, share in rows:
        targets.setdefault(variable, {})[code] = share
    return targets


def weight_targets(session: Session, *, spec: SurveySpec) -> tuple[dict[str, dict[int, float]], bool]:
    """The targets in use, and whether they are the analysts' own (False: the population defaults)."""
    assert spec.id is not None
    stored = stored_targets(session, survey_id=spec.id)
    return (stored, True) if stored else (default_targets(session, spec=spec), False)


def save_targets(session: Session, *, spec: SurveySpec, targets: Mapping[str, Mapping[int, float]]) -> None:
    """Replace the survey's targets; each variable's shares are normalised to sum to one."""
    assert spec.id is not None
    lock_for_update(session, Survey, Survey.id == spec.id)  # two saves at once: one after the other
    session.execute(delete(WeightTarget).where(WeightTarget.survey_id == spec.id))
    rows = []
    for variable, shares in targets.items():
        total = sum(s for s in shares.values() if s > 0)
        rows += [{"survey_id": spec.id, "variable": variable, "code": code, "share": share / total}
                 for code, share in shares.items() if share > 0 and total > 0]
    if rows:
        session.execute(insert(WeightTarget), rows)
    session.flush()


def _fingerprint(session: Session, spec: SurveySpec, targets: Mapping[str, Mapping[int, float]]) -> str:
    assert spec.id is not None
    # The sum of the ids also changes when one response stops counting and another starts to: the
    # weights must exist for exactly the counted responses, as weighted figures rely on that.
    count, last, total = session.execute(
        select(func.count(), func.max(response.c.id), func.sum(response.c.id)).where(eligible([spec.id]))
    ).one()
    canonical = json.dumps({"targets": {k: sorted(v.items()) for k, v in sorted(targets.items())},
                            "count": count, "last": last, "ids": int(total or 0)}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def weighting_variables(spec: SurveySpec, targets: Mapping[str, Mapping[int, float]]) -> tuple[str, ...]:
    """What the weights are raked on, in WEIGHT_VARIABLES' order; none: every weight is 1."""
    demographics = demographic_questions(spec)
    return tuple(v.value for v in WEIGHT_VARIABLES if targets.get(v.value) and v.value in demographics)


def has_weights(session: Session, *, spec: SurveySpec) -> bool:
    """Whether the survey has raking weights worth the name: targets for a question it asks."""
    return bool(weighting_variables(spec, weight_targets(session, spec=spec)[0]))


def ensure_weights(session: Session, *, spec: SurveySpec, force: bool = False) -> WeightRun:
    """The survey's raking weights, computed again when the targets or the responses changed."""
    assert spec.id is not None
    targets, _own = weight_targets(session, spec=spec)
    fingerprint = _fingerprint(session, spec, targets)
    run = session.execute(select(WeightRun).where(WeightRun.survey_id == spec.id)).scalar_one_or_none()
    if run is not None and run.fingerprint == fingerprint and not force:
        return run
    return _compute_weights(session, spec, targets, fingerprint, run)


def _cell_keys(spec: SurveySpec, used: Sequence[str]) -> tuple[Select, list[Any]]:
    """Responses with their cell: the chosen code of each weighting variable, -1 for none."""
    demographics = demographic_questions(spec)
    query = select(response.c.id.label("rid"))
    columns: list[Any] = []
    for variable in WEIGHT_VARIABLES:
        question = demographics.get(variable.value)
        if variable.value in used and question is not None:
            alias = answer.alias(f"w_{variable.value}")
            query = query.outerjoin(alias, and_(alias.c.response_id == response.c.id,
                                                alias.c.question_id == question.id))
            columns.append(func.coalesce(alias.c.choice, -1).label(variable.value))
        else:
            columns.append(literal(-1).label(variable.value))
    assert spec.id is not None
    return query.add_columns(*columns).where(eligible([spec.id])), columns


def _compute_weights(session: Session, spec: SurveySpec, targets: Mapping[str, Mapping[int, float]],
                     fingerprint: str, run: WeightRun | None) -> WeightRun:
    assert spec.id is not None
    demographics = demographic_questions(spec)
    used = [v for v in targets if v in demographics and targets[v]]
    keyed = _cell_keys(spec, used)[0].subquery("keyed")
    names = [v.value for v in WEIGHT_VARIABLES]
    cell_rows = session.execute(
        select(*(keyed.c[n] for n in names), func.count()).group_by(*(keyed.c[n] for n in names))
    ).all()
    cells = pd.DataFrame(cell_rows, columns=[*names, "respondents"])
    raked = rake(cells, {v: targets[v] for v in used}) if len(cells) else None
    cells["weight"] = raked.weights if raked is not None else []
    session.execute(delete(WeightCell).where(WeightCell.survey_id == spec.id))
    session.execute(delete(ResponseWeight).where(ResponseWeight.survey_id == spec.id))
    if len(cells):
        session.execute(insert(WeightCell), [
            {"survey_id": spec.id, **{n: int(row[n]) for n in names}, "respondents": int(row["respondents"]),
             "weight": float(row["weight"])}
            for row in cells.to_dict("records")
        ])
        cell = WeightCell.__table__
        match = and_(cell.c.survey_id == spec.id, *(cell.c[n] == keyed.c[n] for n in names))
        session.execute(insert(weight_table).from_select(
            ["response_id", "survey_id", "weight"],
            select(keyed.c.rid, literal(spec.id), cell.c.weight).select_from(keyed.join(cell, match)),
        ))
    n = int(cells["respondents"].sum()) if len(cells) else 0
    effective = effective_sample_size(cells["weight"], cells["respondents"]) if n else 0.0
    run = run or WeightRun(survey_id=spec.id, fingerprint=fingerprint)
    run.fingerprint = fingerprint
    run.computed_at = utcnow()
    run.iterations = raked.iterations if raked else 0
    run.converged = raked.converged if raked else True
    run.respondents = n
    run.effective_n = effective
    run.design_effect = design_effect(n, effective)
    run.min_weight = float(cells["weight"].min()) if n else 1.0
    run.max_weight = float(cells["weight"].max()) if n else 1.0
    session.add(run)
    session.flush()
    return run


def weighted_margins(session: Session, *, spec: SurveySpec) -> dict[str, list[dict[str, Any]]]:
    """Per weighting variable: sample share, weighted share and target per category, to check the raking."""
    assert spec.id is not None
    targets, _own = weight_targets(session, spec=spec)
    cell = WeightCell.__table__
    margins: dict[str, list[dict[str, Any]]] = {}
    for variable in targets:
        column = cell.c[variable]
        rows = session.execute(
            select(column, func.sum(cell.c.respondents), func.sum(cell.c.respondents * cell.c.weight))
            .where(cell.c.survey_id == spec.id).group_by(column)
        ).all()
        total = sum(r[1] for r in rows) or 1
        margins[variable] = [
            {"code": code, "sample": n / total, "weighted": w / total, "target": targets[variable].get(code)}
            for code, n, w in rows
        ]
    return margins


# --- overview of a review cycle ------------------------------------------------------------------


@dataclass
class SurveyProgress:
    spec: SurveySpec
    submitted: int
    drafts: int  # started and not (yet) submitted
    completion_rate: float | None
    median_minutes: float | None


@dataclass
class Overview:
    cycle: ReviewCycle | None
    surveys: list[SurveyProgress]
    total: int
    over_time: list[dict[str, Any]]  # {period, count}
    period: str  # "day" or "week"
    by_channel: list[dict[str, Any]]
    by_campaign: list[dict[str, Any]]
    by_demographic: dict[str, list[dict[str, Any]]]
    organisations: dict[str, int] | None = None  # {"answered", "invited"} when the remiss domain exists
    # The first and last day a counted response came in (the over-time rows may be weeks, which
    # start on Mondays: not the dates to print as the period).
    span: tuple[date, date] | None = None
    tagged: int = 0  # responses that came with a campaign tag: what the tags' shares are of


def surveys_of_cycle(session: Session, *, cycle_id: int | None) -> list[SurveySpec]:
    query = select(Survey).order_by(Survey.id)
    query = query.where(Survey.cycle_id.is_(None) if cycle_id is None else Survey.cycle_id == cycle_id)
    return [spec_from_rows(session, survey) for survey in session.execute(query).scalars()]


def default_cycle(session: Session) -> ReviewCycle | None:
    """The newest review cycle that has a survey."""
    with_surveys = select(Survey.cycle_id).where(Survey.cycle_id.is_not(None))
    return session.execute(
        select(ReviewCycle).where(ReviewCycle.id.in_(with_surveys)).order_by(ReviewCycle.id.desc())
    ).scalars().first()


def _seconds_between(session: Session, start: Any, end: Any) -> Any:
    """Whole seconds from start to end. SQLite's unixepoch() (3.38 and later) reads a timestamp in
    about half the time julianday() takes."""
    if session.get_bind().dialect.name == "sqlite":
        if sqlite3.sqlite_version_info >= (3, 38):
            return func.unixepoch(end) - func.unixepoch(start)
        return func.round((func.julianday(end) - func.julianday(start)) * 86400.0)
    return func.round(func.extract("epoch", end - start))


def _day(session: Session, column: Any) -> Any:
    """The (UTC) day of a timestamp; SQLite stores them as ISO text, whose first ten characters are the day."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 10)
    return func.date(column)


def overview(session: Session, *, cycle: ReviewCycle | None, surveys: Sequence[SurveySpec], language: str = "sv",
             publish: bool = False) -> Overview:
    """Who answered, when, through which channel and from where, for the surveys of a review cycle."""
    ids = [s.id for s in surveys if s.id is not None]
    drafts = session.execute(select(func.count(), func.max(ResponseDraft.id)).where(
        ResponseDraft.survey_id.in_(ids))).one() if ids else (0, 0)
    version = data_version(session, ids) if ids else (0, None)
    key = ("overview", cycle.id if cycle else None, tuple((s.id, s.revision) for s in surveys), language, publish,
           version, tuple(drafts))
    return figure_cache.get_or_compute(
        key, lambda: _overview(session, cycle, surveys, language, publish, stored=int(version[0] or 0))
    )


def _overview(session: Session, cycle: ReviewCycle | None, surveys: Sequence[SurveySpec], language: str,
              publish: bool, stored: int) -> Overview:
    ids = [s.id for s in surveys if s.id is not None]
    counted = eligible(ids) if ids else false()
    # One pass over the counted responses gives survey, day, channel and campaign tag together; the
    # drafts and durations are read meanwhile on a second connection.
    day = _day(session, response.c.submitted_at)
    with ThreadPoolExecutor(max_workers=1) as pool:
        timing = pool.submit(_in_own_session, _progress_figures, surveys)
        grouped = pd.DataFrame(
            [tuple(r) for r in session.execute(
                select(response.c.survey_id, day, response.c.channel, response.c.campaign_tag, func.count())
                .where(counted).group_by(response.c.survey_id, day, response.c.channel, response.c.campaign_tag)
            )],
            columns=["survey", "day", "channel", "tag", "n"],
        )
        drafts, durations = timing.result()
    submitted = {int(k): int(v) for k, v in grouped.groupby("survey")["n"].sum().items()} if len(grouped) else {}
    progress = _progress(surveys, submitted, drafts, durations)
    total = sum(submitted.values())
    days = list(grouped.groupby("day")["n"].sum().items()) if len(grouped) else []
    over_time, period = _periods(days)
    channels = grouped.groupby("channel")["n"].sum().sort_values(ascending=False) if len(grouped) else {}
    by_channel = [{"code": c, "label": CHANNEL_LABELS.get(c, c), "count": int(n)} for c, n in dict(channels).items()]
    tags = grouped.dropna(subset=["tag"]).groupby("tag")["n"].sum().sort_values(ascending=False) if len(grouped) else {}
    by_campaign = [{"code": t, "label": t, "count": int(n)} for t, n in dict(tags).items()]
    excluded = _excluded_ids(session, ids) if stored != total else []
    by_demographic = {kind.value: _demographic_counts(session, surveys, kind, language, excluded)
                      for kind in DEMOGRAPHIC_TYPES}
    result = Overview(cycle, progress, total, over_time, period, _with_shares(by_channel), _with_shares(by_campaign),
                      {k: _with_shares(v) for k, v in by_demographic.items()}, _organisations(session, cycle),
                      _span(day for day, _count in days), sum(row["count"] for row in by_campaign))
    if publish:
        result.by_channel = _published_counts(result.by_channel)
        # The untagged responses are not listed, but a tag's count and share give the tagged total all
        # the same, so a single hidden tag would be that total minus the others: protected as the rest.
        result.by_campaign = _published_counts(result.by_campaign)
        result.by_demographic = {k: _published_counts(v) for k, v in result.by_demographic.items()}
    return result


def _published_counts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts with their shares, for publication: their total follows from any count and its share,
    so a hidden count must not be the total minus the others."""
    total = sum(int(row["count"] or 0) for row in rows)
    published = suppress_small_cells(rows, hide=("share",))
    protect_complements([published], hide=("share",))
    _audit_line(published, total, hide=("share",))
    return published


def _excluded_ids(session: Session, survey_ids: Sequence[int]) -> list[int] | None:
    """The stored responses that do not count (withdrawn, rejected), or None when there are too many
    to subtract cheaply."""
    excluded = _response_counts(session, survey_ids).excluded
    return None if len(excluded) > SUBTRACT_AT_MOST else excluded


def _with_shares(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    total = sum(r["count"] for r in rows)
    return [{**r, "share": _share(r["count"], total)} for r in rows]


def _span(days: Iterable[Any]) -> tuple[date, date] | None:
    dates = [date.fromisoformat(str(day)[:10]) for day in days if day is not None]
    return (min(dates), max(dates)) if dates else None


def _periods(days: Sequence[tuple[Any, int]]) -> tuple[list[dict[str, Any]], str]:
    """Responses per day, or per ISO week when the period is longer than eight weeks."""
    if not days:
        return [], "day"
    frame = pd.DataFrame([(pd.Timestamp(str(d)[:10]), n) for d, n in days if d is not None], columns=["day", "n"])
    if frame.empty:
        return [], "day"
    if (frame["day"].max() - frame["day"].min()).days <= 56:
        return [{"period": d.date().isoformat(), "count": int(n)} for d, n in zip(frame["day"], frame["n"],
                                                                                 strict=True)], "day"
    frame["week"] = frame["day"] - pd.to_timedelta(frame["day"].dt.day_of_week, unit="D")
    weekly = frame.groupby("week")["n"].sum()
    return [{"period": week.date().isoformat(), "count": int(n)} for week, n in weekly.items()], "week"


def _progress_figures(session: Session, surveys: Sequence[SurveySpec]) -> tuple[dict, dict]:
    """Per survey: open drafts, and the times from start to submission with their counts (one query
    each for all the surveys)."""
    ids = [s.id for s in surveys if s.id is not None]
    if not ids:
        return {}, {}
    drafts = dict(session.execute(
        select(ResponseDraft.survey_id, func.count()).where(ResponseDraft.survey_id.in_(ids))
        .group_by(ResponseDraft.survey_id)
    ).all())
    seconds = _seconds_between(session, response.c.started_at, response.c.submitted_at)
    durations: dict[int, list[tuple[float, int]]] = {}
    for survey_id, value, n in session.execute(
        # No "IS NOT NULL" conditions: they would lead SQLite to the (survey, submitted_at) index and
        # the table rows behind it; a missing time gives a NULL duration, left out below.
        select(response.c.survey_id, seconds, func.count())
        .where(eligible(ids))
        .group_by(response.c.survey_id, seconds)
    ):
        if value is not None and float(value) >= 0:
            durations.setdefault(survey_id, []).append((float(value), n))
    return drafts, durations


def _progress(surveys: Sequence[SurveySpec], submitted: Mapping[int, int], drafts: Mapping[int, int],
              durations: Mapping[int, list[tuple[float, int]]]) -> list[SurveyProgress]:
    """Per survey: drafts, completion rate and the median time from start to submission."""
    progress = []
    for spec in surveys:
        done, started = submitted.get(spec.id or 0, 0), drafts.get(spec.id, 0)
        found = durations.get(spec.id or 0)
        median = weighted_quantiles([d[0] for d in found], [d[1] for d in found], (0.5,))[0] if found else None
        minutes = median / 60 if median is not None else None
        progress.append(SurveyProgress(spec, done, started, _share(done, done + started), minutes))
    return progress


def _demographic_counts(session: Session, surveys: Sequence[SurveySpec], kind: QuestionType,
                        language: str, excluded: list[int] | None) -> list[dict[str, Any]]:
    """Answers to the demographic question, straight from the answer index; the answers of
    excluded responses are subtracted (or, when there are many, counted responses looked up).

    Counted per question and choice, then summed by the choice's text: surveys built in consult
    share the standard codes, but an imported form may number the same municipality differently
    (or give one code another meaning), and each place must still be one row."""
    rows: dict[str, dict[str, Any]] = {}  # label -> row, in the order the surveys list them
    label_of: dict[tuple[int, int], str] = {}
    for spec in surveys:
        question = demographic_questions(spec).get(kind.value)
        if question is None or question.id is None:
            continue
        for choice in question.choices:
            label = choice.text(language)
            label_of[(question.id, choice.code)] = label
            rows.setdefault(label, {"code": choice.code, "label": label, "count": 0})
    if not label_of:
        return []
    ids = [s.id for s in surveys if s.id is not None]
    query = select(answer.c.question_id, answer.c.choice, func.count()).where(
        answer.c.question_id.in_({question_id for question_id, _ in label_of}), answer.c.choice.is_not(None)
    ).group_by(answer.c.question_id, answer.c.choice)
    if excluded is None:
        found = session.execute(query.where(answer.c.response_id.in_(select(response.c.id).where(eligible(ids)))))
        counted = [(question_id, code, n) for question_id, code, n in found]
    else:
        counted = [(question_id, code, n) for question_id, code, n in session.execute(query)]
        if excluded:
            counted += [(question_id, code, -n) for question_id, code, n in
                        session.execute(query.where(answer.c.response_id.in_(excluded)))]
    for question_id, code, n in counted:
        label = label_of.get((question_id, code))
        if label is not None:  # a code the question no longer offers is not shown, as before
            rows[label]["count"] += int(n)
    return list(rows.values())


def _organisations(session: Session, cycle: ReviewCycle | None) -> dict[str, int] | None:
    """Organisations that answered the remiss against those invited, if the remiss domain is installed.
    It is asked for `invitation_summary(session, cycle_id=...) -> {"answered": int, "invited": int}`."""
    from consult.domains import optional_module

    remiss = optional_module("remiss.service")
    summary = getattr(remiss, "invitation_summary", None) if remiss is not None else None
    if summary is None or cycle is None:
        return None
    return summary(session, cycle_id=cycle.id)


# --- comparing review cycles --------------------------------------------------------------------


@dataclass
class Comparison:
    code: str
    columns: list[dict[str, Any]]  # per survey: {spec, cycle, result}
    rows: list[dict[str, Any]]  # per option code: {code, label, cells: [{count, share}]}


def comparable_codes(session: Session) -> list[tuple[str, int]]:
    """Question codes asked in more than one survey, with the number of surveys."""
    from consult.surveys.models import Question

    rows = session.execute(
        select(Question.code, func.count(func.distinct(Question.survey_id)))
        .group_by(Question.code).having(func.count(func.distinct(Question.survey_id)) > 1).order_by(Question.code)
    ).all()
    return [(code, int(n)) for code, n in rows]


def compare(session: Session, *, code: str, filters: Filters, language: str = "sv") -> Comparison:
    """The same question across surveys (oldest review cycle first), each with its own results."""
    from consult.surveys.models import Question

    survey_ids = select(Question.survey_id).where(Question.code == code)
    surveys = session.execute(select(Survey).where(Survey.id.in_(survey_ids))).scalars().all()
    cycle_by_id = {c.id: c for c in cycles(session)}
    columns = []
    for survey in sorted(surveys, key=lambda s: (s.cycle_id or 0, s.id or 0)):
        spec = spec_from_rows(session, survey)
        outcome = results(session, spec=spec, filters=filters, language=language, codes=[code]).questions[0]
        cycle = cycle_by_id.get(survey.cycle_id)
        columns.append({"spec": spec, "cycle": cycle, "cycle_name": pick(cycle.name, language) if cycle else "",
                        "result": outcome})
    codes: dict[int, str] = {}
    for column in columns:
        for row in column["result"].rows:
            codes.setdefault(row["code"], row["label"])
    rows = []
    for option, label in codes.items():
        cells = []
        for column in columns:
            found = next((r for r in column["result"].rows if r["code"] == option), None)
            cells.append(found or {"count": 0, "share": None, "weighted_share": None})
        rows.append({"code": option, "label": label, "cells": cells})
    return Comparison(code, columns, rows)


# --- lookups for the filter form ------------------------------------------------------------------


def campaign_tags(session: Session, *, survey_id: int) -> list[str]:
    key = ("tags", survey_id, data_version(session, [survey_id]))
    return figure_cache.get_or_compute(key, lambda: _campaign_tags(session, survey_id))


def _campaign_tags(session: Session, survey_id: int) -> list[str]:
    # The distinct tags by hopping through the (survey, tag) index, one seek per tag, instead of
    # reading all of the survey's responses.
    rows = session.execute(text(
        "WITH RECURSIVE tags(tag) AS ("
        " SELECT MIN(campaign_tag) FROM response WHERE survey_id = :survey"
        " UNION ALL"
        " SELECT (SELECT MIN(campaign_tag) FROM response WHERE survey_id = :survey AND campaign_tag > tags.tag)"
        " FROM tags WHERE tags.tag IS NOT NULL"
        ") SELECT tag FROM tags WHERE tag IS NOT NULL"
    ), {"survey": survey_id}).all()
    return [r[0] for r in rows]


def survey_by_slug(session: Session, *, slug: str) -> SurveySpec | None:
    survey = session.execute(select(Survey).where(Survey.slug == slug)).scalars().first()
    return spec_from_rows(session, survey) if survey else None


def survey_by_id(session: Session, *, survey_id: int) -> SurveySpec | None:
    survey = session.get(Survey, survey_id)
    return spec_from_rows(session, survey) if survey else None
