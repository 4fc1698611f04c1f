"""Theme analysis of one free-text question: runs, candidate and selected themes, the analysts'
changes, assisted coding and the mapping onto the strategy. Plain functions with keyword
arguments, no HTTP. Counts are SQL aggregates; the engine (``analysis``) does the text work.

Every change an analyst makes is written to ``theme_change`` (who, when, what) in the same
transaction as the change itself.
"""

from __future__ import annotations

import pickle
import re
import threading
import unicodedata
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, bindparam, case, delete, exists, false, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from consult.accounts.models import User
from consult.core.fields import one_line, pick, utcnow
from consult.core.i18n import N_, _, current_language
from consult.core.redacting import placeholders, redact
from consult.db import lock_for_update
from consult.responses.models import Answer, Response, ResponseStatus, ReviewState
from consult.strategy.models import ItemKind, ReviewCycle, StrategyItem, StrategyVersion
from consult.strategy.service import effective_keywords
from consult.surveys.models import TEXT_TYPES, Survey
from consult.surveys.schema import QuestionSpec, SurveySpec, demographic_questions
from consult.themes.models import (
    ACTIVE_STATUSES,
    AssignmentSource,
    CandidateTheme,
    ChangeAction,
    RunAssignment,
    RunKind,
    RunStatus,
    SelectedTheme,
    ThemeAssignment,
    ThemeChange,
    ThemeModel,
    ThemeRun,
)

answer = Answer.__table__
response = Response.__table__
run_table = ThemeRun.__table__
candidate_table = CandidateTheme.__table__
run_assignment = RunAssignment.__table__
selected = SelectedTheme.__table__
assignment = ThemeAssignment.__table__
change_table = ThemeChange.__table__
staff = User.__table__

MIN_ANSWERS = 5  # fewer answers than this give no themes worth the name
MAX_SPLIT_PARTS = 6
DEFAULT_THRESHOLD = 0.5
PAGE_SIZE = 50
AUTO_ASSIGN_LIMIT = 500  # new answers assigned when the explorer is opened; more wait for the button
STALE_AFTER = timedelta(minutes=3)  # a running job whose heartbeat is older has lost its worker


class ThemeError(ValueError):
    """Something the analyst asked for cannot be done; the message is an English msgid."""


# --- questions and answers ---------------------------------------------------------------------------


def text_questions(spec: SurveySpec) -> list[QuestionSpec]:
    return [q for q in spec.questions if q.type in TEXT_TYPES]


def _counted() -> Any:
    """Responses that count: submitted and not rejected in review."""
    return and_(response.c.status == ResponseStatus.submitted.value,
                response.c.review_state != ReviewState.rejected.value)


def _has_text() -> Any:
    return and_(answer.c.text.is_not(None), func.length(func.trim(answer.c.text)) > 0)


def _answers_query(question_id: int) -> Any:
    return (
        select(answer.c.response_id, answer.c.text, response.c.consent_quote)
        .select_from(answer.join(response, response.c.id == answer.c.response_id))
        .where(answer.c.question_id == question_id, _has_text(), _counted())
    )


def answers_frame(session: Session, *, question_id: int, response_ids: Sequence[int] | None = None,
                  unassigned_only: bool = False) -> pd.DataFrame:
    """The question's written answers: response_id, text, consent_quote ("true"/"false"/"")."""
    query = _answers_query(question_id)
    if unassigned_only:
        query = query.where(~exists().where(assignment.c.question_id == question_id,
                                            assignment.c.response_id == answer.c.response_id))
    if response_ids is not None:
        query = query.where(answer.c.response_id.in_(list(response_ids)))
    rows = session.execute(query.order_by(answer.c.response_id)).all()
    frame = pd.DataFrame(rows, columns=["response_id", "text", "consent_quote"])
    frame["consent_quote"] = frame["consent_quote"].map({True: "true", False: "false"}).fillna("")
    return frame


def count_answers(session: Session, *, question_id: int) -> int:
    query = select(func.count()).select_from(_answers_query(question_id).subquery())
    return int(session.execute(query).scalar_one())


def consent_is_known(session: Session, *, question_id: int) -> bool:
    """True when some respondents to the question were asked whether they may be quoted. Then only
    those who said yes are quoted; when nobody was asked, every answer may be."""
    query = select(exists().where(answer.c.question_id == question_id, answer.c.response_id == response.c.id,
                                  response.c.consent_quote.is_not(None)))
    return bool(session.execute(query).scalar())


def engine_frame(frame: pd.DataFrame, consent_known: bool) -> pd.DataFrame:
    """The frame as the engine reads it: answers whose consent is unknown are not quoted either."""
    out = frame[["response_id", "text"]].copy()
    if consent_known:
        out["consent_quote"] = frame["consent_quote"].eq("true").map({True: "true", False: "false"})
    return out


# --- strategy versions -------------------------------------------------------------------------------


def strategy_for(session: Session, *, version_id: int, priorities_only: bool = False) -> Any:
    """The engine's StrategyVersion for a stored version: priorities (and principles) with their
    Swedish titles and the keywords matching uses (the analysts' edited list, else the packaged one)."""
    from analysis.strategy_map import strategy_version

    version = session.get(StrategyVersion, version_id)
    if version is None:
        raise ThemeError(N_("That strategy version does not exist."))
    items = session.execute(
        select(StrategyItem).where(StrategyItem.version_id == version_id).order_by(StrategyItem.position)
    ).scalars().all()
    areas: dict[int | None, dict] = {}
    for item in items:
        if item.kind == ItemKind.goal_area:
            areas[item.id] = {"key": item.key, "priorities": []}
    loose: dict = {"key": "", "priorities": []}
    principles = []
    for item in items:
        entry = {"title": pick(item.title, "sv"), "keywords": effective_keywords(item)}
        if item.kind == ItemKind.priority:
            areas.get(item.parent_id, loose)["priorities"].append(entry)
        elif item.kind == ItemKind.principle and not priorities_only:
            principles.append(entry)
    data = {"document": version.name, "adopted": version.year,
            "goal_areas": [*areas.values(), loose], "principles": principles}
    return strategy_version(data)


def shown_label(theme: Any) -> str:
    """A theme's name (a selected or candidate theme, or a name as stored) in the interface's language.
    The engine names its catch-all bucket in Swedish and the database keeps that name until an
    analyst renames it (``analysis`` never imports ``consult``, so it cannot translate): wherever the
    name is shown, it is translated here."""
    from analysis.themes import OTHER_THEME_LABEL

    label = theme if isinstance(theme, str) else theme.label
    return _(N_("other/unclear")) if label == OTHER_THEME_LABEL else label


@dataclass(frozen=True)
class VersionChoice:
    id: int
    key: str
    name: str
    role: str  # "proposed" or "current"
    names: dict[str, str] = field(default_factory=dict)  # the name in other languages


def versions_for(session: Session, *, survey_id: int) -> list[VersionChoice]:
    """The survey's review cycle's proposed version first, then its current version."""
    survey = session.get(Survey, survey_id)
    cycle = session.get(ReviewCycle, survey.cycle_id) if survey and survey.cycle_id else None
    choices: list[VersionChoice] = []
    pairs = [("proposed", cycle.proposed_version_id), ("current", cycle.current_version_id)] if cycle else []
    for role, version_id in pairs:
        version = session.get(StrategyVersion, version_id) if version_id else None
        if version is not None and version.id is not None and all(c.id != version.id for c in choices):
            choices.append(VersionChoice(version.id, version.key, version.name, role, version.names or {}))
    if not choices:  # a survey outside any cycle: the newest versions
        for version in session.execute(select(StrategyVersion).order_by(StrategyVersion.year.desc())).scalars():
            assert version.id is not None
            choices.append(VersionChoice(version.id, version.key, version.name,
                                         "proposed" if not choices else "current", version.names or {}))
    return choices


# --- runs ----------------------------------------------------------------------------------------------


def fail_stale_runs(session: Session) -> int:
    """Mark running jobs whose worker stopped (no heartbeat for a while) as failed, so the
    question can be analysed again."""
    cutoff = utcnow() - STALE_AFTER
    result = session.execute(
        update(run_table)
        .where(run_table.c.status == RunStatus.running.value,
               or_(run_table.c.heartbeat_at.is_(None), run_table.c.heartbeat_at < cutoff))
        .values(status=RunStatus.failed.value, finished_at=utcnow(), error="worker stopped")
    )
    return int(result.rowcount or 0)


def start_run(session: Session, *, survey_id: int, question_id: int, user_id: int | None,
              kind: str = RunKind.discover.value, k: int | str = "auto", random_state: int = 0,
              threshold: float = DEFAULT_THRESHOLD, strategy_version_id: int | None = None) -> ThemeRun:
    """Queue a run. Raises ThemeError when the question already has one queued or running (the
    database's partial unique index decides, so two workers or two clicks cannot both succeed)."""
    fail_stale_runs(session)
    if kind == RunKind.discover.value and count_answers(session, question_id=question_id) < MIN_ANSWERS:
        raise ThemeError(N_("There are too few written answers to find themes (at least 5 are needed)."))
    if kind == RunKind.code.value:
        check_can_code(session, question_id=question_id)
    if strategy_version_id is None:
        choices = versions_for(session, survey_id=survey_id)
        strategy_version_id = choices[0].id if choices else None
    params: dict[str, Any] = {"k": k, "lang": "auto"}
    if kind == RunKind.code.value:
        params = {"threshold": threshold, "lang": "auto"}
    run = ThemeRun(survey_id=survey_id, question_id=question_id, kind=kind, params=params,
                   random_state=random_state, strategy_version_id=strategy_version_id, started_by_id=user_id)
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError as error:
        raise ThemeError(N_("An analysis of this question is already running. Wait for it or cancel it.")) from error
    _record(session, question_id=question_id, user_id=user_id, action=ChangeAction.start, run_id=run.id,
            details={"kind": kind, **params, "random_state": random_state})
    return run


def cancel_run(session: Session, *, run_id: int, user_id: int | None) -> ThemeRun:
    """A queued run is cancelled at once; a running one stops at the engine's next step."""
    run = session.get(ThemeRun, run_id)
    if run is None:
        raise ThemeError(N_("That analysis does not exist."))
    queued = session.execute(
        update(run_table).where(run_table.c.id == run_id, run_table.c.status == RunStatus.queued.value)
        .values(status=RunStatus.cancelled.value, finished_at=utcnow(), cancel_requested=True)
    ).rowcount
    if not queued:
        session.execute(update(run_table).where(run_table.c.id == run_id,
                                                run_table.c.status == RunStatus.running.value)
                        .values(cancel_requested=True))
    _record(session, question_id=run.question_id, user_id=user_id, action=ChangeAction.cancel, run_id=run_id)
    session.refresh(run)
    return run


def active_run(session: Session, *, question_id: int) -> ThemeRun | None:
    return session.execute(
        select(ThemeRun).where(ThemeRun.question_id == question_id, ThemeRun.status.in_(ACTIVE_STATUSES))
    ).scalars().first()


def runs_for(session: Session, *, question_id: int, limit: int = 20) -> list[ThemeRun]:
    return list(session.execute(
        select(ThemeRun).where(ThemeRun.question_id == question_id).order_by(ThemeRun.id.desc()).limit(limit)
    ).scalars())


def latest_discovery(session: Session, *, question_id: int) -> ThemeRun | None:
    return session.execute(
        select(ThemeRun).where(ThemeRun.question_id == question_id, ThemeRun.kind == RunKind.discover.value,
                               ThemeRun.status == RunStatus.done.value).order_by(ThemeRun.id.desc())
    ).scalars().first()


def candidates(session: Session, *, run_id: int) -> list[CandidateTheme]:
    return list(session.execute(
        select(CandidateTheme).where(CandidateTheme.run_id == run_id)
        .order_by((CandidateTheme.number == 0), CandidateTheme.number)
    ).scalars())


def accepted_run_id(session: Session, *, question_id: int) -> int | None:
    return session.execute(
        select(selected.c.run_id).where(selected.c.question_id == question_id, selected.c.active.is_(True)).limit(1)
    ).scalar()


# --- storing a run's results (called by the job) --------------------------------------------------------


def store_discovery(session: Session, *, run: ThemeRun, result: dict) -> None:
    """Candidate themes, the machine assignment of every answer and the fitted model of a run."""
    themes = result["themes"]["themes"]
    # Shares from the sizes, not the engine's rounded figure, so a theme's share reads the same
    # here as among the selected themes (7 of 39 is 17.9 %, not a rounded 0.1795 shown as 18.0 %).
    total = sum(int(theme["size"]) for theme in themes)
    rows = []
    for theme in themes:
        mapped = theme.get("strategy") or {}
        rows.append({
            "run_id": run.id, "number": int(theme["id"]), "label": str(theme["label"])[:300],
            "phrase": str(theme.get("phrase") or "")[:300], "terms": list(theme.get("terms") or []),
            "size": int(theme["size"]), "share": int(theme["size"]) / total if total else 0.0,
            "representatives": [int(r) for r in theme.get("representatives") or []],
            "best_priority": mapped.get("best_item") or None,
            "best_score": float(mapped["reach"]) if "reach" in mapped else None,
            "not_covered": bool(mapped) and not mapped.get("covered", True) and int(theme["id"]) != 0,
        })
    if rows:
        session.execute(insert(candidate_table), rows)
    frame = result["assignments"]
    assigned = [
        {"run_id": run.id, "response_id": int(row_id), "number": int(theme_id), "score": float(score)}
        for row_id, theme_id, score in zip(frame["row_id"], frame["theme_id"], frame["score"], strict=True)
    ]
    for start in range(0, len(assigned), 5000):
        session.execute(insert(run_assignment), assigned[start: start + 5000])
    finder = result.get("finder")
    if finder is not None:
        session.add(ThemeModel(run_id=run.id, data=_pack(finder)))
    run.summary = {"k": int(result["themes"].get("k", len(themes))),
                   "language": result["themes"].get("language", ""), "n": len(assigned)}
    run.n_answers = len(assigned)


def _pack(finder: Any) -> bytes:
    """The fitted engine without the per-answer matrices it keeps from fitting (the engine's own
    compact form: assigning new answers needs only the vocabulary, the reduction and the centres)."""
    return finder.to_bytes()


_model_cache: OrderedDict[int, Any] = OrderedDict()
_model_lock = threading.Lock()


def load_finder(session: Session, *, run_id: int) -> Any | None:
    """The fitted engine of a run (cached per process: runs never change once done)."""
    with _model_lock:
        if run_id in _model_cache:
            _model_cache.move_to_end(run_id)
            return _model_cache[run_id]
    stored = session.get(ThemeModel, run_id)
    if stored is None:
        return None
    finder = pickle.loads(zlib.decompress(stored.data))  # noqa: S301 - written by this app only
    with _model_lock:
        _model_cache[run_id] = finder
        while len(_model_cache) > 4:
            _model_cache.popitem(last=False)
    return finder


# --- history ------------------------------------------------------------------------------------------


def _record(session: Session, *, question_id: int, user_id: int | None, action: str, theme_id: int | None = None,
            run_id: int | None = None, details: dict | None = None) -> None:
    session.add(ThemeChange(question_id=question_id, user_id=user_id, action=str(action), theme_id=theme_id,
                            run_id=run_id, details=details or {}))
    session.flush()


def history(session: Session, *, question_id: int, theme_id: int | None = None, limit: int = 50) -> list[dict]:
    query = (
        select(change_table, staff.c.name, staff.c.email)
        .select_from(change_table.outerjoin(staff, staff.c.id == change_table.c.user_id))
        .where(change_table.c.question_id == question_id)
    )
    if theme_id is not None:
        query = query.where(change_table.c.theme_id == theme_id)
    rows = session.execute(query.order_by(change_table.c.id.desc()).limit(limit)).mappings().all()
    return [{**row, "who": row["name"] or row["email"] or ""} for row in rows]


# --- accepting a run: candidates become the analysts' themes -------------------------------------------------


def accept_run(session: Session, *, run_id: int, user_id: int | None) -> list[SelectedTheme] | None:
    """Make the run's candidates the question's selected themes, with the run's assignments.
    Themes selected earlier stay as inactive history; their coding is replaced. None when the run's
    themes are the ones selected already: accepting it again (a second click, an old tab) would
    throw away the work done on them since."""
    lock_for_update(session, ThemeRun, ThemeRun.id == run_id)  # two clicks at once: one after the other
    run = session.get(ThemeRun, run_id)
    if run is None or run.kind != RunKind.discover.value or run.status != RunStatus.done.value:
        raise ThemeError(N_("Only a finished theme analysis can be accepted."))
    question_id = run.question_id
    if accepted_run_id(session, question_id=question_id) == run_id:
        return None
    replaced = session.execute(
        select(func.count()).select_from(assignment).where(assignment.c.question_id == question_id,
                                                           assignment.c.reviewed.is_(True))
    ).scalar_one()
    session.execute(delete(assignment).where(assignment.c.question_id == question_id))
    session.execute(update(selected).where(selected.c.question_id == question_id, selected.c.active.is_(True))
                    .values(active=False, updated_at=utcnow()))
    themes: dict[int, SelectedTheme] = {}
    for candidate in candidates(session, run_id=run_id):
        theme = SelectedTheme(question_id=question_id, run_id=run_id, label=candidate.label,
                              terms=list(candidate.terms), sources=[candidate.number],
                              is_other=candidate.number == 0, created_by_id=user_id)
        session.add(theme)
        themes[candidate.number] = theme
    if 0 not in themes:  # somewhere to put answers that fit no theme
        from analysis.themes import OTHER_THEME_LABEL

        themes[0] = SelectedTheme(question_id=question_id, run_id=run_id, label=OTHER_THEME_LABEL, sources=[0],
                                  is_other=True, created_by_id=user_id)
        session.add(themes[0])
    session.flush()
    session.execute(
        insert(assignment).from_select(
            ["question_id", "response_id", "theme_id", "machine_theme_id", "score", "source", "assigned_at",
             "needs_review", "reviewed"],
            select(
                literal(question_id), run_assignment.c.response_id, _number_to_theme(themes),
                _number_to_theme(themes), run_assignment.c.score, literal(AssignmentSource.machine.value),
                literal(utcnow(), type_=assignment.c.assigned_at.type), false(), false(),
            ).where(run_assignment.c.run_id == run_id),
        )
    )
    _record(session, question_id=question_id, user_id=user_id, action=ChangeAction.accept, run_id=run_id,
            details={"themes": len(themes), "replaced_reviewed": int(replaced)})
    return list(themes.values())


def _number_to_theme(themes: dict[int, SelectedTheme]) -> Any:
    return case({number: literal(theme.id) for number, theme in themes.items()},
                value=run_assignment.c.number, else_=literal(themes[0].id))


# --- selected themes ------------------------------------------------------------------------------------


@dataclass
class ThemeRow:
    theme: SelectedTheme
    size: int = 0
    share: float = 0.0
    reviewed: int = 0
    needs_review: int = 0


def active_themes(session: Session, *, question_id: int) -> list[SelectedTheme]:
    return list(session.execute(
        select(SelectedTheme).where(SelectedTheme.question_id == question_id, SelectedTheme.active.is_(True))
        .order_by(SelectedTheme.id)
    ).scalars())


def _live_assignments() -> Any:
    """Assignments of answers that still count (a response rejected later drops out)."""
    return assignment.join(response, response.c.id == assignment.c.response_id)


def theme_rows(session: Session, *, question_id: int) -> list[ThemeRow]:
    """The question's selected themes with size, share and review counts, largest first, "övrigt" last."""
    counts = session.execute(
        select(assignment.c.theme_id, func.count(),
               func.sum(case((assignment.c.reviewed.is_(True), 1), else_=0)),
               func.sum(case((assignment.c.needs_review.is_(True), 1), else_=0)))
        .select_from(_live_assignments())
        .where(assignment.c.question_id == question_id, _counted())
        .group_by(assignment.c.theme_id)
    ).all()
    by_theme = {row[0]: row for row in counts}
    total = sum(row[1] for row in counts)
    rows = []
    for theme in active_themes(session, question_id=question_id):
        found = by_theme.get(theme.id)
        size = int(found[1]) if found else 0
        rows.append(ThemeRow(theme, size, size / total if total else 0.0,
                             int(found[2] or 0) if found else 0, int(found[3] or 0) if found else 0))
    rows.sort(key=lambda r: (r.theme.is_other, -r.size, r.theme.id))
    return rows


def get_theme(session: Session, *, theme_id: int, question_id: int) -> SelectedTheme:
    theme = session.get(SelectedTheme, theme_id)
    if theme is None or theme.question_id != question_id:
        raise ThemeError(N_("That theme does not exist."))
    return theme


def _active_theme(session: Session, theme_id: int, question_id: int) -> SelectedTheme:
    theme = get_theme(session, theme_id=theme_id, question_id=question_id)
    if not theme.active:
        raise ThemeError(N_("That theme has been merged, split or replaced."))
    return theme


def clean_label(label: str) -> str:
    label = one_line(label)
    if not label:
        raise ThemeError(N_("Enter a name for the theme."))
    if len(label) > 300:
        raise ThemeError(N_("The name can be at most 300 characters."))
    return label


def rename_theme(session: Session, *, question_id: int, theme_id: int, label: str,
                 user_id: int | None) -> SelectedTheme:
    theme = _active_theme(session, theme_id, question_id)
    label = clean_label(label)
    if label == shown_label(theme):  # the name as the page showed it (translated): nothing to rename
        return theme
    old = theme.label
    theme.label = label
    theme.updated_at = utcnow()
    session.add(theme)
    _record(session, question_id=question_id, user_id=user_id, action=ChangeAction.rename, theme_id=theme_id,
            details={"from": old, "to": label})
    return theme


def merge_themes(session: Session, *, question_id: int, theme_ids: Sequence[int], label: str,
                 user_id: int | None) -> SelectedTheme:
    """A new theme holding the answers of the given themes; the merged ones become history."""
    ids = sorted(set(theme_ids))
    if len(ids) < 2:
        raise ThemeError(N_("Choose at least two themes to merge."))
    # The same merge sent twice at once: the second finds the themes merged already.
    lock_for_update(session, SelectedTheme, col(SelectedTheme.id).in_(ids))
    merged = [_active_theme(session, theme_id, question_id) for theme_id in ids]
    label = clean_label(label) if label.strip() else " / ".join(t.label for t in merged)[:300]
    terms: list[str] = []
    for theme in merged:
        terms += [t for t in theme.terms if t not in terms]
    new = SelectedTheme(question_id=question_id, run_id=merged[0].run_id, label=label, terms=terms[:8],
                        sources=sorted({s for t in merged for s in t.sources}),
                        is_other=all(t.is_other for t in merged), created_by_id=user_id)
    session.add(new)
    session.flush()
    for theme in merged:
        theme.active = False
        theme.updated_at = utcnow()
        session.add(theme)
    session.execute(update(assignment).where(assignment.c.theme_id.in_(ids)).values(theme_id=new.id))
    session.execute(update(assignment).where(assignment.c.machine_theme_id.in_(ids)).values(machine_theme_id=new.id))
    _record(session, question_id=question_id, user_id=user_id, action=ChangeAction.merge, theme_id=new.id,
            details={"from": ids, "labels": [t.label for t in merged], "label": label})
    return new


def finished_change(session: Session, *, question_id: int, action: ChangeAction, theme_ids: Sequence[int]
                    ) -> list[int]:
    """The active themes that a merge of exactly `theme_ids`, or a split of the one theme in it,
    already made: empty if there was no such change or its result has been changed since. A
    request sent twice (a double click, a reload that posts again) is then answered with what the
    first one did instead of an error."""
    ids = sorted(set(theme_ids))
    recent = session.execute(
        select(change_table.c.theme_id, change_table.c.details)
        .where(change_table.c.question_id == question_id, change_table.c.action == str(action))
        .order_by(change_table.c.id.desc()).limit(20)
    ).all()
    for row in recent:
        details = row.details or {}
        if action == ChangeAction.merge and sorted(details.get("from", [])) == ids:
            made = [row.theme_id]
        elif action == ChangeAction.split and [row.theme_id] == ids:
            made = list(details.get("into", []))
        else:
            continue
        active = session.execute(
            select(func.count()).select_from(SelectedTheme)
            .where(col(SelectedTheme.id).in_(made), col(SelectedTheme.active).is_(True))
        ).scalar_one()
        return made if made and active == len(made) else []
    return []


def split_theme(session: Session, *, question_id: int, theme_id: int, parts: int,
                user_id: int | None) -> list[SelectedTheme]:
    """Re-cluster one theme's answers into ``parts`` new themes (the engine's split, on the vectors of
    the run that made the theme)."""
    from analysis import curation
    from analysis.themes import ThemeFinder  # noqa: F401 - the pickled model needs the class importable

    lock_for_update(session, SelectedTheme, SelectedTheme.id == theme_id)  # a split sent twice: one split
    theme = _active_theme(session, theme_id, question_id)
    if not 2 <= parts <= MAX_SPLIT_PARTS:
        raise ThemeError(N_("A theme can be split into 2 to 6 parts."))
    members = session.execute(
        select(assignment.c.response_id, answer.c.text)
        .select_from(assignment.join(answer, and_(answer.c.response_id == assignment.c.response_id,
                                                  answer.c.question_id == assignment.c.question_id)))
        .where(assignment.c.theme_id == theme_id).order_by(assignment.c.response_id)
    ).all()
    if len(members) < parts * 2:
        raise ThemeError(N_("The theme has too few answers to split into that many parts."))
    finder = load_finder(session, run_id=theme.run_id)
    if finder is None:
        raise ThemeError(N_("The analysis this theme came from cannot be used any more. Run a new analysis."))
    ids = [str(row.response_id) for row in members]
    vectors = finder.transform([row.text or "" for row in members])
    book = curation.Codebook((curation.SelectedTheme(theme_id, theme.label, tuple(theme.sources)),),
                             dict.fromkeys(ids, theme_id))
    who = str(user_id or "")
    try:
        book = curation.split(book, theme_id, dict(zip(ids, vectors, strict=True)), parts, who)
    except ValueError as error:
        raise ThemeError(N_("The theme has too few answers to split into that many parts.")) from error
    new_themes = {}
    for part in book.themes:
        created = SelectedTheme(question_id=question_id, run_id=theme.run_id, label=part.label[:300],
                                terms=list(theme.terms), sources=list(theme.sources), created_by_id=user_id)
        session.add(created)
        new_themes[part.theme_id] = created
    session.flush()
    theme.active = False
    theme.updated_at = utcnow()
    session.add(theme)
    moves = [{"b_response": int(answer_id), "b_theme": new_themes[part].id}
             for answer_id, part in book.assignments.items()]
    session.execute(
        update(assignment)
        .where(assignment.c.question_id == question_id, assignment.c.response_id == bindparam("b_response"))
        .values(theme_id=bindparam("b_theme"), machine_theme_id=bindparam("b_theme")),
        moves,
    )
    _label_parts(session, finder, list(new_themes.values()), members, book)
    _record(session, question_id=question_id, user_id=user_id, action=ChangeAction.split, theme_id=theme_id,
            details={"label": theme.label, "into": [t.id for t in new_themes.values()]})
    return list(new_themes.values())


def _label_parts(session: Session, finder: Any, parts: list[SelectedTheme], members: Sequence[Any], book: Any) -> None:
    """Name each part after its most distinctive words (the analysts rename them as they like), written
    as the answers write them, the way the analysis names its themes."""
    from analysis.themes import answer_terms

    texts = {str(row.response_id): row.text or "" for row in members}
    by_part: dict[int, list[str]] = {}
    for answer_id, part in book.assignments.items():
        by_part.setdefault(part, []).append(texts[answer_id])
    try:
        vectorizer = finder.vectorizer_
        terms = vectorizer.words_.get_feature_names_out()
        overall = np.asarray(vectorizer.transform_words(list(texts.values())).mean(axis=0)).ravel()
    except Exception:  # noqa: BLE001 - labels are a convenience; "(1)", "(2)" remain
        return
    for (_part, part_texts), theme in zip(sorted(by_part.items()), parts, strict=False):
        inside = np.asarray(vectorizer.transform_words(part_texts).mean(axis=0)).ravel()
        distinct = inside * np.log1p(inside / (overall + 1e-9))
        # Twice as many stems as the label shows: some fold into one word or are parts of another.
        stems = [terms[i] for i in np.argsort(-distinct)[:6] if inside[i] > 0]
        top = answer_terms(vectorizer, part_texts, stems, 3)
        if top:
            theme.label = f"{theme.label.rsplit(' (', 1)[0]}: {', '.join(top)}"[:300]
            theme.terms = top
            session.add(theme)


def _chosen(session: Session, question_id: int, response_ids: Iterable[int], from_theme_id: int | None
            ) -> list[tuple[int, int]]:
    """(answer, theme) of the chosen answers, only those in `from_theme_id` when given (the theme
    whose page the analyst chose them on): an answer moved meanwhile, or an id that is no answer of
    the question, is not changed."""
    ids = sorted({int(r) for r in response_ids})
    if not ids:
        raise ThemeError(N_("Choose at least one answer."))
    query = select(assignment.c.response_id, assignment.c.theme_id).where(
        assignment.c.question_id == question_id, assignment.c.response_id.in_(ids))
    if from_theme_id is not None:
        query = query.where(assignment.c.theme_id == from_theme_id)
    found = [(int(r), int(t)) for r, t in session.execute(query).all()]
    if not found:
        raise ThemeError(N_("None of the chosen answers is in this theme any more. Reload the page."))
    return found


def move_answers(session: Session, *, question_id: int, response_ids: Iterable[int], to_theme_id: int,
                 user_id: int | None, from_theme_id: int | None = None) -> int:
    """Move answers to another theme: the analyst's choice, so they count as reviewed."""
    target = _active_theme(session, to_theme_id, question_id)
    before = _chosen(session, question_id, response_ids, from_theme_id)
    ids = [r for r, _theme in before]
    now = utcnow()
    session.execute(
        update(assignment).where(assignment.c.question_id == question_id, assignment.c.response_id.in_(ids))
        .values(theme_id=target.id, source=AssignmentSource.analyst.value, assigned_by_id=user_id, assigned_at=now,
                reviewed=True, reviewed_by_id=user_id, reviewed_at=now, needs_review=False)
    )
    _record(session, question_id=question_id, user_id=user_id, action=ChangeAction.move, theme_id=target.id,
            details={"answers": {str(r): t for r, t in before}, "to": target.id, "label": target.label})
    return len(before)


def confirm_answers(session: Session, *, question_id: int, response_ids: Iterable[int], user_id: int | None,
                    from_theme_id: int | None = None) -> int:
    """The analyst agrees with the answers' current theme."""
    ids = [r for r, _theme in _chosen(session, question_id, response_ids, from_theme_id)]
    now = utcnow()
    count = session.execute(
        update(assignment).where(assignment.c.question_id == question_id, assignment.c.response_id.in_(ids))
        .values(reviewed=True, reviewed_by_id=user_id, reviewed_at=now, needs_review=False)
    ).rowcount
    _record(session, question_id=question_id, user_id=user_id, action=ChangeAction.confirm,
            details={"answers": ids})
    return int(count or 0)


# --- answers of a theme, quotes, breakdowns, search ------------------------------------------------------


@dataclass
class AnswerRow:
    response_id: int
    text: str
    theme_id: int
    theme_label: str
    score: float | None
    source: str
    coded_by: str
    reviewed: bool
    reviewed_by: str
    needs_review: bool
    review_state: str


def _answer_rows_query(question_id: int) -> Any:
    coder = staff.alias("coder")
    reviewer = staff.alias("reviewer")
    return (
        select(assignment.c.response_id, answer.c.text, assignment.c.theme_id, selected.c.label,
               assignment.c.score, assignment.c.source, coder.c.name.label("coder_name"),
               coder.c.email.label("coder_email"), assignment.c.reviewed, reviewer.c.name.label("reviewer_name"),
               reviewer.c.email.label("reviewer_email"), assignment.c.needs_review, response.c.review_state)
        .select_from(
            assignment.join(answer, and_(answer.c.response_id == assignment.c.response_id,
                                         answer.c.question_id == assignment.c.question_id))
            .join(response, response.c.id == assignment.c.response_id)
            .join(selected, selected.c.id == assignment.c.theme_id)
            .outerjoin(coder, coder.c.id == assignment.c.assigned_by_id)
            .outerjoin(reviewer, reviewer.c.id == assignment.c.reviewed_by_id)
        )
        .where(assignment.c.question_id == question_id, _counted())
    )


def _answer_row(row: Any) -> AnswerRow:
    return AnswerRow(
        response_id=row.response_id, text=redact(row.text or ""), theme_id=row.theme_id, theme_label=row.label,
        score=row.score, source=row.source, coded_by=row.coder_name or row.coder_email or "",
        reviewed=bool(row.reviewed), reviewed_by=row.reviewer_name or row.reviewer_email or "",
        needs_review=bool(row.needs_review), review_state=row.review_state,
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


REVIEW_FILTERS = ("all", "unreviewed", "needs_review", "reviewed")


def theme_answers(session: Session, *, question_id: int, theme_id: int | None = None, search: str = "",
                  review: str = "all", page: int = 1) -> tuple[list[AnswerRow], int]:
    """One page of answers (redacted) with their coding, and the number of matching answers.
    Unreviewed answers the coder was unsure about come first, then the rest by closeness."""
    query = _answer_rows_query(question_id)
    if theme_id is not None:
        query = query.where(assignment.c.theme_id == theme_id)
    # The answers are stored composed (NFC); a search typed with a combining mark ("a" + "¨") must
    # find "ä" all the same.
    search = unicodedata.normalize("NFC", search).strip()[:200]
    if search:
        query = query.where(answer.c.text.ilike(_like(search), escape="\\"))
    if review == "unreviewed":
        query = query.where(assignment.c.reviewed.is_(False))
    elif review == "needs_review":
        query = query.where(assignment.c.needs_review.is_(True))
    elif review == "reviewed":
        query = query.where(assignment.c.reviewed.is_(True))
    total = int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    page = max(1, page)
    rows = session.execute(
        query.order_by(assignment.c.needs_review.desc(), assignment.c.reviewed, assignment.c.score.desc().nulls_last(),
                       assignment.c.response_id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return [_answer_row(row) for row in rows], total


def quotes(session: Session, *, question_id: int, theme_id: int, n: int = 5) -> list[dict]:
    """Up to n answers nearest the theme's centre: redacted, each text once (compared without case,
    spacing or punctuation, after redaction), answers without redacted personal data first, and
    only from respondents who agreed to be quoted when the survey asked. The placeholders are in the
    request's language."""
    from analysis.redact import TYPES

    shown = placeholders(current_language.get())
    marks = [shown[kind] for kind in TYPES]

    query = (
        select(assignment.c.response_id, answer.c.text)
        .select_from(assignment.join(answer, and_(answer.c.response_id == assignment.c.response_id,
                                                  answer.c.question_id == assignment.c.question_id))
                     .join(response, response.c.id == assignment.c.response_id))
        .where(assignment.c.theme_id == theme_id, _counted(), _has_text())
    )
    if consent_is_known(session, question_id=question_id):
        query = query.where(response.c.consent_quote.is_(True))
    rows = session.execute(
        query.order_by(assignment.c.reviewed.desc(), assignment.c.score.desc().nulls_last(), assignment.c.response_id)
        .limit(n * 20)
    ).all()
    # A quote full of "[phone]" says little and answers that differed only in a phone number read
    # the same once redacted: those come last, and each text counts once.
    plain: list[dict] = []
    redacted: list[dict] = []
    seen: set[str] = set()
    short_ok = len(rows) <= n * 3
    for row in rows:
        text = redact(" ".join((row.text or "").split()))
        key = _quote_key(text)
        if not key or key in seen or (len(text.split()) < 3 and not short_ok):
            continue
        seen.add(key)
        (redacted if any(mark in text for mark in marks) else plain).append(
            {"response_id": row.response_id, "text": text})
        if len(plain) >= n:
            break
    return (plain + redacted)[:n]


def _quote_key(text: str) -> str:
    """What makes two quotes the same: their words, ignoring case, spacing and punctuation."""
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


def candidate_quotes(session: Session, *, question_id: int, candidate: CandidateTheme) -> list[dict]:
    """The engine's representative answers of a candidate theme, redacted (the engine picked them
    among respondents who agreed to be quoted)."""
    ids = [int(r) for r in candidate.representatives][:5]
    if not ids:
        return []
    rows = dict(session.execute(
        select(answer.c.response_id, answer.c.text).where(answer.c.question_id == question_id,
                                                          answer.c.response_id.in_(ids))
    ).all())
    return [{"response_id": r, "text": redact(rows[r])} for r in ids if rows.get(r)]


@dataclass
class BreakdownGroup:
    label: str
    in_theme: int
    answers: int
    share: float  # share of the group's answers that are in the theme
    lift: float | None  # share / the theme's overall share


def breakdowns(session: Session, *, spec: SurveySpec, question_id: int, theme_id: int,
               language: str) -> dict[str, list[BreakdownGroup]]:
    """The theme's share of each municipality's, gender's, age band's and channel's answers."""
    demographic = demographic_questions(spec)
    result: dict[str, list[BreakdownGroup]] = {}
    base = _live_assignments()
    for kind in ("municipality", "gender", "age_band"):
        question = demographic.get(kind)
        if question is None or question.id is None:
            continue
        other = answer.alias(f"demo_{kind}")
        rows = session.execute(
            select(other.c.choice, func.count(), func.sum(case((assignment.c.theme_id == theme_id, 1), else_=0)))
            .select_from(base.outerjoin(other, and_(other.c.response_id == assignment.c.response_id,
                                                    other.c.question_id == question.id)))
            .where(assignment.c.question_id == question_id, _counted())
            .group_by(other.c.choice)
        ).all()
        labels = {c.code: c.text(language) for c in question.choices}
        result[kind] = _groups([(labels.get(code, str(code)) if code is not None else None, n, k)
                                for code, n, k in rows], order=[c.code for c in question.choices],
                               codes=[code for code, _n, _k in rows])
    rows = session.execute(
        select(response.c.channel, func.count(), func.sum(case((assignment.c.theme_id == theme_id, 1), else_=0)))
        .select_from(base).where(assignment.c.question_id == question_id, _counted())
        .group_by(response.c.channel)
    ).all()
    result["channel"] = _groups([(code, n, k) for code, n, k in rows], order=None, codes=None)
    return result


def _groups(rows: list[tuple[str | None, int, int]], order: list[int] | None,
            codes: list[int | None] | None) -> list[BreakdownGroup]:
    total = sum(int(n) for _l, n, _k in rows)
    in_theme = sum(int(k or 0) for _l, _n, k in rows)
    overall = in_theme / total if total else 0.0
    groups = []
    for label, n, k in rows:
        share = int(k or 0) / int(n) if n else 0.0
        groups.append(BreakdownGroup(label or "", int(k or 0), int(n), share, share / overall if overall else None))
    if order is not None and codes is not None:
        position = {code: i for i, code in enumerate(order)}
        ranked = sorted(zip(codes, groups, strict=True), key=lambda p: position.get(p[0], len(order) + 1)
                        if p[0] is not None else len(order) + 2)
        return [g for _c, g in ranked]
    return sorted(groups, key=lambda g: -g.answers)


# --- answers that arrive after a run ----------------------------------------------------------------------


def count_unassigned(session: Session, *, question_id: int) -> int:
    query = _answers_query(question_id).where(
        ~exists().where(assignment.c.question_id == question_id, assignment.c.response_id == answer.c.response_id))
    return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def assign_new_answers(session: Session, *, question_id: int, user_id: int | None, automatic: bool = False) -> int:
    """Assign answers that arrived after the accepted run to its themes with the run's fitted
    model (no re-clustering). Returns how many were assigned."""
    run_id = accepted_run_id(session, question_id=question_id)
    if run_id is None:
        return 0
    frame = answers_frame(session, question_id=question_id, unassigned_only=True)
    if frame.empty:
        return 0
    finder = load_finder(session, run_id=run_id)
    if finder is None:
        raise ThemeError(N_("The accepted analysis cannot assign new answers. Run a new analysis."))
    predicted = finder.predict(frame["text"].fillna("").tolist())
    target = _theme_for_candidate(session, question_id=question_id)
    now = utcnow()
    rows = []
    for response_id, number, score in zip(frame["response_id"], predicted["theme_id"], predicted["score"], strict=True):
        theme_id = target.get(int(number)) or target.get(0)
        if theme_id is None:
            continue
        rows.append({"question_id": question_id, "response_id": int(response_id), "theme_id": theme_id,
                     "machine_theme_id": theme_id, "score": float(score), "source": AssignmentSource.machine.value,
                     "assigned_at": now, "needs_review": False, "reviewed": False})
    if not rows:
        return 0
    try:
        with session.begin_nested():
            session.execute(insert(assignment), rows)
    except IntegrityError:
        # Viewing the theme page assigns new answers: another view did it at the same moment.
        return 0
    # Automatic assignment (opening the explorer, accepting a run, before coding) is nobody's
    # decision: the history says so instead of crediting whoever happened to trigger it.
    _record(session, question_id=question_id, user_id=None if automatic else user_id,
            action=ChangeAction.assign_new, run_id=run_id, details={"answers": len(rows), "automatic": automatic})
    return len(rows)


def _theme_for_candidate(session: Session, *, question_id: int) -> dict[int, int]:
    """Candidate number -> the selected theme that now holds it (after merges; after a split, the
    largest part)."""
    rows = theme_rows(session, question_id=question_id)
    best: dict[int, ThemeRow] = {}
    for row in rows:
        for number in row.theme.sources:
            if int(number) not in best or row.size > best[int(number)].size:
                best[int(number)] = row
    found = {number: int(row.theme.id or 0) for number, row in best.items()}
    other = next((r.theme.id for r in rows if r.theme.is_other), None)
    if other is not None:
        found.setdefault(0, other)
    return found


# --- assisted coding ----------------------------------------------------------------------------------------


def reviewed_counts(session: Session, *, question_id: int) -> dict[int, int]:
    rows = session.execute(
        select(assignment.c.theme_id, func.count()).select_from(_live_assignments())
        .where(assignment.c.question_id == question_id, assignment.c.reviewed.is_(True), _counted())
        .group_by(assignment.c.theme_id)
    ).all()
    return {int(theme_id): int(n) for theme_id, n in rows}


def check_can_code(session: Session, *, question_id: int) -> None:
    counts = reviewed_counts(session, question_id=question_id)
    if sum(1 for n in counts.values() if n > 0) < 2:
        raise ThemeError(N_("Confirm some answers in at least two themes before the rest can be coded."))


def coding_frame(session: Session, *, question_id: int) -> pd.DataFrame:
    rows = session.execute(
        select(assignment.c.id, assignment.c.response_id, answer.c.text, assignment.c.theme_id, assignment.c.reviewed)
        .select_from(assignment.join(answer, and_(answer.c.response_id == assignment.c.response_id,
                                                  answer.c.question_id == assignment.c.question_id))
                     .join(response, response.c.id == assignment.c.response_id))
        .where(assignment.c.question_id == question_id, _counted())
        .order_by(assignment.c.response_id)
    ).all()
    return pd.DataFrame(rows, columns=["id", "response_id", "text", "theme_id", "reviewed"])


def store_coding(session: Session, *, question_id: int, frame: pd.DataFrame, predicted: pd.DataFrame,
                 threshold: float, run_id: int, user_id: int | None) -> dict:
    """Write the coder's themes: confident ones replace the machine's theme, the others keep it and
    are marked for review. The coder's guess is kept as the machine's answer either way."""
    active = {t.id for t in active_themes(session, question_id=question_id)}
    now = utcnow()
    updates = []
    for row_id, current, theme, confidence in zip(frame["id"], frame["theme_id"], predicted["theme"],
                                                   predicted["confidence"], strict=True):
        guess = int(theme)
        if guess not in active:
            continue
        sure = float(confidence) >= threshold
        updates.append({"b_id": int(row_id), "b_theme": guess if sure else int(current), "b_machine": guess,
                        "b_score": float(confidence), "b_review": not sure,
                        "b_source": AssignmentSource.coder.value, "b_at": now})
    if updates:
        session.execute(
            update(assignment).where(assignment.c.id == bindparam("b_id"), assignment.c.reviewed.is_(False))
            .values(theme_id=bindparam("b_theme"), machine_theme_id=bindparam("b_machine"), score=bindparam("b_score"),
                    needs_review=bindparam("b_review"), source=bindparam("b_source"), assigned_at=bindparam("b_at"),
                    assigned_by_id=None),
            updates,
        )
    left = sum(1 for u in updates if u["b_review"])
    summary = {"coded": len(updates) - left, "needs_review": left, "threshold": threshold}
    _record(session, question_id=question_id, user_id=user_id, action=ChangeAction.code, run_id=run_id,
            details=summary)
    return summary


def agreement_figures(session: Session, *, question_id: int) -> dict:
    """The machine's agreement with the analysts over the reviewed answers (F1 with a 95% interval
    once at least 30 are reviewed), as the UK government's Consult tool reports it."""
    from analysis.coding import MIN_REVIEWED, agreement

    rows = session.execute(
        select(assignment.c.theme_id, assignment.c.machine_theme_id).select_from(_live_assignments())
        .where(assignment.c.question_id == question_id, assignment.c.reviewed.is_(True),
               assignment.c.machine_theme_id.is_not(None), _counted())
    ).all()
    figures: dict[str, Any] = {"n_reviewed": len(rows), "min_reviewed": MIN_REVIEWED, "result": None}
    if len(rows) >= MIN_REVIEWED:
        figures["result"] = agreement([r[0] for r in rows], [r[1] for r in rows])
    return figures


# --- coverage of the strategy -----------------------------------------------------------------------------


@dataclass
class CoverageRow:
    theme: SelectedTheme
    size: int
    reach: dict[str, float]  # priority title -> share of the theme's answers that speak to it
    best: str
    best_reach: float
    covered: bool
    quotes: list[dict] = field(default_factory=list)


@dataclass
class Coverage:
    version: VersionChoice
    priorities: list[str]
    rows: list[CoverageRow]
    threshold: float
    answer_threshold: float

    @property
    def uncovered(self) -> list[CoverageRow]:
        return [r for r in self.rows if not r.covered]


_coverage_cache: OrderedDict[tuple, Coverage] = OrderedDict()
_coverage_lock = threading.Lock()


def _change_stamp(session: Session, question_id: int) -> tuple:
    last = session.execute(select(func.max(change_table.c.id))
                           .where(change_table.c.question_id == question_id)).scalar()
    count = session.execute(select(func.count()).select_from(assignment)
                            .where(assignment.c.question_id == question_id)).scalar_one()
    return (last, count)


def coverage(session: Session, *, question_id: int, version: VersionChoice,
             with_quotes: bool = False) -> Coverage | None:
    """Themes x the version's priorities: each theme's reach for each priority, its best priority, and
    whether any priority covers it (the engine's StrategyMapper). None before themes are accepted."""
    from analysis.strategy_map import StrategyMapper

    rows = [r for r in theme_rows(session, question_id=question_id) if not r.theme.is_other and r.size > 0]
    run_id = accepted_run_id(session, question_id=question_id)
    if run_id is None:
        return None
    strategy = strategy_for(session, version_id=version.id, priorities_only=True)
    # The strategy is part of the key: analysts' keyword edits change the mapping at once.
    key = (question_id, version.id, _change_stamp(session, question_id), strategy)
    with _coverage_lock:
        cached = _coverage_cache.get(key)
    if cached is None:
        frame = coding_frame(session, question_id=question_id)
        finder = load_finder(session, run_id=run_id)
        mapper = StrategyMapper(strategy)
        if finder is not None:
            mapper = StrategyMapper(strategy, lang=finder.vectorizer_.lang_).fit(vectorizer=finder.vectorizer_)
        else:
            mapper.fit(frame["text"].fillna("").tolist())
        texts = pd.Series(frame["text"].fillna("").tolist(), dtype=object)
        scores = mapper.score_answers(texts)
        reach = mapper.score_themes(scores, frame["theme_id"].to_numpy())
        verdict = mapper.coverage(reach)
        result_rows = []
        for row in rows:
            theme_id = row.theme.id
            if theme_id not in reach.index:
                continue
            values = {title: float(reach.loc[theme_id, title]) for title in strategy.titles()}
            best = verdict.loc[theme_id]
            result_rows.append(CoverageRow(row.theme, row.size, values, str(best["best_item"]), float(best["reach"]),
                                           bool(best["covered"])))
        cached = Coverage(version, strategy.titles(), result_rows, mapper.coverage_threshold, mapper.answer_threshold)
        with _coverage_lock:
            _coverage_cache[key] = cached
            while len(_coverage_cache) > 16:
                _coverage_cache.popitem(last=False)
    if not with_quotes:
        return cached
    # The cached figures are shared between requests; the quotes are each reader's own (their
    # placeholders are in the reader's language), so they go on copies of the rows.
    rows = [
        replace(row, quotes=quotes(session, question_id=question_id, theme_id=row.theme.id, n=3))
        if not row.covered else row
        for row in cached.rows
    ]
    return replace(cached, rows=rows)
