"""The consultation summary ("Sammanställning av inspel") of a review cycle, and the organisations'
answers of a remiss round, as plain data. No HTTP and no charts here: routes.py draws them.

Every figure comes from the workspace, theme and remiss services, so the report shows what the
analysts see in the workspace. With `publish=True` everything follows the publication rules: cells
with fewer than five respondents are suppressed, and the only free text is quotes from respondents
who agreed to be quoted, redacted. Organisations' comments never appear in the published report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from consult.core.fields import pick, utcnow
from consult.core.i18n import N_, current_language
from consult.core.redacting import redact
from consult.domains import optional_module
from consult.remiss import service as remiss
from consult.remiss.models import Position, RemissRound
from consult.reports.models import SummaryReport
from consult.strategy.models import ItemKind, ReviewCycle
from consult.strategy.service import version_name
from consult.surveys.models import TEXT_TYPES
from consult.surveys.schema import QuestionSpec, SurveySpec
from consult.themes.service import shown_label
from consult.workspace import service as workspace
from consult.workspace.weighting import SMALL_CELL, suppress_small_cells

log = logging.getLogger(__name__)

CONSENT_CODE = "consent_quote"  # the survey's "may we quote you" question: administrative, not a result
MAX_ACTIONS_LENGTH = 20_000
QUOTES_PER_THEME = 3
POSITIONS: tuple[str, ...] = tuple(p.value for p in Position)  # the order of the stacked bars
POSITION_LABELS = remiss.POSITION_LABELS


# --- the stored part: the analysts' closing section and the publication ------------------------------


def published_reports(session: Session) -> list[tuple[ReviewCycle, SummaryReport]]:
    """The summaries open to the public, newest first: the front page's "what we heard"."""
    rows = session.execute(
        select(ReviewCycle, SummaryReport).join(SummaryReport, SummaryReport.cycle_id == ReviewCycle.id)
        .where(SummaryReport.published.is_(True)).order_by(SummaryReport.published_at.desc())
    ).all()
    return [(cycle, record) for cycle, record in rows]


def report_record(session: Session, *, cycle_id: int) -> SummaryReport | None:
    return session.execute(select(SummaryReport).where(SummaryReport.cycle_id == cycle_id)).scalars().first()


def _record_for_update(session: Session, cycle_id: int) -> SummaryReport:
    return report_record(session, cycle_id=cycle_id) or SummaryReport(cycle_id=cycle_id, actions={})


def clean_text(text: str) -> str:
    """Plain text as the analyst wrote it: line ends unified, blank lines at both ends removed."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def check_actions(actions: Mapping[str, str]) -> dict[str, str]:
    """Problems with the closing section's texts: field name -> English message id."""
    errors: dict[str, str] = {}
    if not actions.get("sv", "").strip():
        errors["actions-sv"] = N_("Write what will be done with the input, in Swedish.")
    for language in ("sv", "en"):
        if len(actions.get(language, "")) > MAX_ACTIONS_LENGTH:
            errors[f"actions-{language}"] = N_("The text is too long: at most 20,000 characters.")
    return errors


def save_actions(session: Session, *, cycle_id: int, actions: Mapping[str, str], weighted: bool,
                 user_id: int | None) -> SummaryReport:
    """Store the closing section (checked with check_actions first) and the weighting choice."""
    record = _record_for_update(session, cycle_id)
    record.actions = {lang: clean_text(actions.get(lang, "")) for lang in ("sv", "en") if actions.get(lang, "").strip()}
    record.weighted = weighted
    record.updated_at = utcnow()
    record.updated_by_id = user_id
    session.add(record)
    session.flush()
    return record


def set_published(session: Session, *, cycle_id: int, published: bool, user_id: int | None) -> SummaryReport:
    record = _record_for_update(session, cycle_id)
    record.published = published
    record.published_at = utcnow() if published else None
    record.published_by_id = user_id if published else None
    session.add(record)
    session.flush()
    return record


def paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: separated by blank lines; single line breaks are kept inside one."""
    blocks = [block.strip() for block in clean_text(text).split("\n\n")]
    return [block for block in blocks if block]


# --- the report's parts ----------------------------------------------------------------------------------


@dataclass
class ThemeSummary:
    label: str
    count: int | None  # None: suppressed for publication
    share: float | None
    suppressed: bool = False
    quotes: list[str] = field(default_factory=list)
    best: str = ""  # the closest priority (for themes no priority covers)
    best_reach: float | None = None


@dataclass
class PriorityCoverage:
    title: str
    themes: list[str]


@dataclass
class CoverageSummary:
    version_name: str
    threshold: float
    priorities: list[PriorityCoverage]
    uncovered: list[ThemeSummary]


@dataclass
class FreeTextSection:
    question: QuestionSpec
    answers: int
    analysed: bool = False  # an accepted theme analysis exists
    themes: list[ThemeSummary] = field(default_factory=list)
    quotes_allowed: bool = False  # the survey asked for consent to quote
    reviewed: int = 0  # answers whose theme an analyst has confirmed or moved
    coverage: CoverageSummary | None = None
    coverage_failed: bool = False


@dataclass
class SurveySection:
    spec: SurveySpec
    results: workspace.Results
    closed: list[workspace.QuestionResult]
    free_text: list[FreeTextSection]
    weighting_variables: list[str] = field(default_factory=list)


@dataclass
class PriorityPositions:
    key: str
    label: str
    counts: dict[str, int | None]  # position -> number of organisations (None: suppressed)
    total: int
    suppressed: bool = False
    by_actor: list[dict[str, Any]] = field(default_factory=list)  # {actor_type, counts, total}


@dataclass
class RoundSummary:
    remiss_round: RemissRound
    title: str
    invited: int
    answered: int
    priorities: list[PriorityPositions]
    published_answers: list[tuple[str, int]] = field(default_factory=list)  # organisation, answer id


@dataclass
class Report:
    cycle: ReviewCycle
    record: SummaryReport | None
    publish: bool
    weighted: bool
    overview: workspace.Overview
    surveys: list[SurveySection]
    rounds: list[RoundSummary]
    themes_available: bool
    generated_at: datetime

    @property
    def published(self) -> bool:
        return bool(self.record and self.record.published)

    def actions(self, language: str) -> list[str]:
        return paragraphs(pick(self.record.actions, language)) if self.record and self.record.actions else []

    @property
    def period(self) -> tuple[date, date] | None:
        return self.overview.span

    @property
    def municipalities(self) -> list[dict[str, Any]]:
        return self.overview.by_demographic.get("municipality", [])

    @property
    def has_free_text(self) -> bool:
        return any(s.free_text for s in self.surveys)

    @property
    def analysed(self) -> list[tuple[SurveySection, FreeTextSection]]:
        return [(s, t) for s in self.surveys for t in s.free_text if t.analysed]

    @property
    def reviewed(self) -> int:
        """Answers whose theme analysts have checked, over every analysed question."""
        return sum(text.reviewed for _survey, text in self.analysed)


def build_report(session: Session, *, cycle: ReviewCycle, publish: bool, language: str = "sv") -> Report:
    """Everything the summary report shows for a review cycle."""
    assert cycle.id is not None
    record = report_record(session, cycle_id=cycle.id)
    weighted = bool(record and record.weighted)
    specs = workspace.surveys_of_cycle(session, cycle_id=cycle.id)
    overview = workspace.overview(session, cycle=cycle, surveys=specs, language=language, publish=publish)
    themes = _themes_service()
    surveys = [_survey_section(session, spec, weighted=weighted, publish=publish, language=language, themes=themes)
               for spec in specs]
    rounds = [round_summary(session, remiss_round=r, language=language, publish=publish)
              for r in rounds_of_cycle(session, cycle_id=cycle.id)]
    return Report(cycle, record, publish, weighted, overview, surveys, rounds, themes is not None, utcnow())


def _survey_section(session: Session, spec: SurveySpec, *, weighted: bool, publish: bool, language: str,
                    themes: Any) -> SurveySection:
    filters = workspace.Filters(weighted=weighted, publish=publish)
    results = workspace.results(session, spec=spec, filters=filters, language=language)
    closed = [r for r in results.questions if r.kind != "text" and r.code != CONSENT_CODE]
    free_text = [_free_text(session, spec, r, publish=publish, themes=themes)
                 for r in results.questions if r.question.type in TEXT_TYPES]
    variables: list[str] = []
    if weighted:
        targets, _own = workspace.weight_targets(session, spec=spec)
        variables = [name for name, shares in targets.items() if shares]
    return SurveySection(spec, results, closed, free_text, variables)


# --- free text and themes ------------------------------------------------------------------------------------


def _themes_service() -> Any | None:
    """The theme analysis service, if installed with what the report reads."""
    module = optional_module("themes.service")
    needed = ("accepted_run_id", "theme_rows", "quotes", "consent_is_known")
    if module is None or not all(hasattr(module, name) for name in needed):
        return None
    return module


def _free_text(session: Session, spec: SurveySpec, result: workspace.QuestionResult, *, publish: bool,
               themes: Any) -> FreeTextSection:
    question = result.question
    section = FreeTextSection(question, result.respondents if not result.suppressed else 0)
    if themes is None or question.id is None or themes.accepted_run_id(session, question_id=question.id) is None:
        return section
    section.analysed = True
    # Quotes only from respondents who said yes to being quoted: a survey that never asked gives none.
    section.quotes_allowed = bool(themes.consent_is_known(session, question_id=question.id))
    if hasattr(themes, "reviewed_counts"):
        section.reviewed = sum(themes.reviewed_counts(session, question_id=question.id).values())
    for row in themes.theme_rows(session, question_id=question.id):
        if row.size == 0:
            continue
        summary = _theme_summary(session, themes, question.id, row.theme, row.size, row.share,
                                 publish=publish, with_quotes=section.quotes_allowed)
        section.themes.append(summary)
    section.coverage, section.coverage_failed = _coverage(session, spec, question, publish=publish, themes=themes,
                                                          quotes_allowed=section.quotes_allowed)
    return section


def _theme_summary(session: Session, themes: Any, question_id: int, theme: Any, size: int, share: float | None, *,
                   publish: bool, with_quotes: bool) -> ThemeSummary:
    suppressed = publish and 0 < size < SMALL_CELL
    label = shown_label(theme)
    quotes: list[str] = []
    if with_quotes and not suppressed:
        quotes = [q["text"] for q in themes.quotes(session, question_id=question_id, theme_id=theme.id,
                                                   n=QUOTES_PER_THEME)]
    return ThemeSummary(label, None if suppressed else size, None if suppressed else share, suppressed,
                        [redact(q) for q in quotes])


def _coverage(session: Session, spec: SurveySpec, question: QuestionSpec, *, publish: bool, themes: Any,
              quotes_allowed: bool) -> tuple[CoverageSummary | None, bool]:
    """Which priorities the themes speak to, and the themes no priority covers (None, False without
    a strategy version; None, True when the mapping failed: the rest of the report still shows)."""
    if not (hasattr(themes, "coverage") and hasattr(themes, "versions_for")) or question.id is None:
        return None, False
    versions = themes.versions_for(session, survey_id=spec.id or 0)
    if not versions:
        return None, False
    try:
        with session.begin_nested():
            found = themes.coverage(session, question_id=question.id, version=versions[0], with_quotes=False)
    except Exception:  # noqa: BLE001 - the text engine may fail on odd data; the report shows the rest
        log.exception("theme coverage failed for question %s", question.id)
        return None, True
    if found is None:
        return None, False
    priorities = [
        PriorityCoverage(title, [shown_label(row.theme) for row in found.rows
                                 if row.reach.get(title, 0.0) >= found.threshold])
        for title in found.priorities
    ]
    uncovered = []
    for row in found.uncovered:
        summary = _theme_summary(session, themes, question.id, row.theme, row.size, None, publish=publish,
                                 with_quotes=quotes_allowed)
        summary.best, summary.best_reach = row.best, row.best_reach
        uncovered.append(summary)
    name = version_name(found.version, current_language.get())
    return CoverageSummary(name, found.threshold, priorities, uncovered), False


# --- the remiss: positions and comments ------------------------------------------------------------------------


def rounds_of_cycle(session: Session, *, cycle_id: int) -> list[RemissRound]:
    return list(session.execute(
        select(RemissRound).where(RemissRound.cycle_id == cycle_id).order_by(RemissRound.id)
    ).scalars())


def all_rounds(session: Session) -> list[RemissRound]:
    return list(session.execute(select(RemissRound).order_by(RemissRound.id.desc())).scalars())


def _actor_order(found: set[str]) -> list[str]:
    """The strategy's actor types in their own order, then any others alphabetically."""
    known = [t for t in remiss.actor_types() if t in found]
    return known + sorted(found - set(known))


def round_summary(session: Session, *, remiss_round: RemissRound, language: str, publish: bool) -> RoundSummary:
    """Positions per priority (totals and by actor type) of the round's submitted answers. Published:
    totals only, cells under five suppressed, and the answers the organisations agreed to publish."""
    assert remiss_round.id is not None
    draft = remiss.load_draft(session, version_id=remiss_round.version_id)
    counts = remiss.position_counts(session, round_id=remiss_round.id)
    priorities = []
    for priority in draft.priorities:
        by_actor_type = counts.get(priority.key, {})
        totals = {p: sum(found.get(p, 0) for found in by_actor_type.values()) for p in POSITIONS}
        row = PriorityPositions(priority.key, priority.label(language), dict(totals), sum(totals.values()))
        if publish:
            cells = suppress_small_cells([{"position": p, "count": n} for p, n in totals.items()])
            row.counts = {c["position"]: c["count"] for c in cells}
            row.suppressed = any(c["suppressed"] for c in cells)
        else:
            row.by_actor = [
                {"actor_type": actor, "counts": {p: by_actor_type[actor].get(p, 0) for p in POSITIONS},
                 "total": sum(by_actor_type[actor].values())}
                for actor in _actor_order(set(by_actor_type))
            ]
        priorities.append(row)
    invited = remiss.invitation_rows(session, round_id=remiss_round.id)
    submitted = remiss.submitted_answers(session, round_id=remiss_round.id)
    published = [(item.organisation.name, item.answer.id or 0) for item in submitted if item.answer.published]
    return RoundSummary(remiss_round, pick(remiss_round.title, language), len(invited), len(submitted), priorities,
                        published)


@dataclass
class CommentSection:
    key: str | None  # None: the draft as a whole
    label: str
    kind: str  # priority, principle, section kinds, or "overall"
    comments: list[dict[str, Any]]


def round_comments(session: Session, *, remiss_round: RemissRound, language: str) -> list[CommentSection]:
    """Every comment of the round's submitted answers, per section in the draft's order, redacted."""
    assert remiss_round.id is not None
    draft = remiss.load_draft(session, version_id=remiss_round.version_id)
    counted = remiss.comment_counts(session, round_id=remiss_round.id)
    sections = [(s.key, s.label(language), s.kind) for s in draft.sections if counted.get(s.key)]
    known = {s.key for s in draft.sections}
    sections += [(key, key, "section") for key in sorted(k for k in counted if k is not None and k not in known)]
    if counted.get(None):
        sections.append((None, "", "overall"))
    found = []
    for key, label, kind in sections:
        rows = remiss.comments_for_section(session, round_id=remiss_round.id, section_key=key)
        comments = [
            {
                "organisation": row.organisation.name,
                "actor_type": row.organisation.actor_type,
                "position": row.position if kind == ItemKind.priority else None,
                "quote": redact(row.comment.quote, language) if row.comment.quote else "",
                "text": redact(row.comment.text, language),
                "answer_id": row.answer.id,
                "target": row.comment.target,
            }
            for row in rows
        ]
        if comments:
            found.append(CommentSection(key, label, kind, comments))
    return found


def round_by_key(session: Session, *, key: str) -> RemissRound | None:
    return remiss.round_by_key(session, key=key)
