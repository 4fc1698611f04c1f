"""Surveys: store a definition, read it back, and cache it per worker for the answering path."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlencode

from sqlalchemy import func
from sqlmodel import Session, select

from consult.core.fields import utcnow
from consult.strategy.models import StrategyItem
from consult.surveys.models import Choice, Question, Survey, SurveyPage, SurveyStatus
from consult.surveys.schema import ChoiceSpec, PageSpec, QuestionSpec, SurveySpec, load_condition


class Availability(StrEnum):
    open = "open"
    not_yet_open = "not_yet_open"
    closed = "closed"
    draft = "draft"


def availability(spec: SurveySpec, now: datetime | None = None) -> Availability:
    now = now or utcnow()
    if spec.status == SurveyStatus.draft:
        return Availability.draft
    if spec.status == SurveyStatus.closed or (spec.closes_at and now >= _aware(spec.closes_at)):
        return Availability.closed
    if spec.opens_at and now < _aware(spec.opens_at):
        return Availability.not_yet_open
    return Availability.open


def _aware(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back; every time we store is UTC.
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _priority_ids(session: Session, version_id: int | None) -> dict[str, int]:
    if version_id is None:
        return {}
    rows = session.exec(select(StrategyItem).where(StrategyItem.version_id == version_id)).all()
    return {item.key: item.id for item in rows if item.id is not None}


def save_survey(
    session: Session, *, spec: SurveySpec, cycle_id: int | None = None, strategy_version_id: int | None = None
) -> Survey:
    """Store a new survey from its definition. Priority keys are resolved against the strategy version."""
    priorities = _priority_ids(session, strategy_version_id)
    survey = Survey(
        cycle_id=cycle_id,
        slug=spec.slug,
        title=dict(spec.title),
        intro=dict(spec.intro or {}),
        privacy_notice=dict(spec.privacy_notice or {}),
        audience=spec.audience,
        identity_mode=spec.identity_mode,
        access=spec.access,
        status=spec.status,
        opens_at=spec.opens_at,
        closes_at=spec.closes_at,
        minutes_needed=spec.minutes_needed,
        retention_days=spec.retention_days,
    )
    session.add(survey)
    session.flush()
    assert survey.id is not None
    _add_pages(session, survey.id, spec, priorities)
    return survey


def _add_pages(session: Session, survey_id: int, spec: SurveySpec, priorities: dict[str, int]) -> None:
    """Write the definition's pages, questions and choices under a survey that has none."""
    position = 0
    for page_number, page_spec in enumerate(spec.pages, start=1):
        page = SurveyPage(survey_id=survey_id, position=page_number, title=dict(page_spec.title or {}))
        session.add(page)
        session.flush()
        assert page.id is not None
        for question_spec in page_spec.questions:
            position += 1
            _add_question(session, survey_id, page.id, position, question_spec, priorities)
    session.flush()


def _add_question(
    session: Session, survey_id: int, page_id: int, position: int, spec: QuestionSpec, priorities: dict[str, int]
) -> None:
    question = Question(
        survey_id=survey_id,
        page_id=page_id,
        position=position,
        code=spec.code,
        type=spec.type,
        required=spec.required,
        text=dict(spec.text),
        help=dict(spec.help or {}),
        max_choices=spec.max_choices,
        min_value=spec.min_value,
        max_value=spec.max_value,
        whole_numbers=spec.whole_numbers,
        low_label=dict(spec.low_label or {}),
        high_label=dict(spec.high_label or {}),
        allow_dont_know=spec.allow_dont_know,
        max_length=spec.max_length,
        required_message=dict(spec.required_message or {}),
        constraint_message=dict(spec.constraint_message or {}),
        priority_id=priorities.get(spec.priority_key or ""),
        condition=spec.condition.model_dump(mode="json") if spec.condition else None,
    )
    session.add(question)
    session.flush()
    assert question.id is not None
    for choice_position, choice in enumerate(spec.choices, start=1):
        session.add(
            Choice(
                question_id=question.id,
                code=choice.code,
                position=choice_position,
                label=dict(choice.label),
                name=choice.name,
                priority_id=priorities.get(choice.priority_key or ""),
            )
        )


def load_spec(session: Session, *, slug: str) -> SurveySpec | None:
    survey = session.exec(select(Survey).where(Survey.slug == slug)).first()
    if survey is None:
        return None
    return spec_from_rows(session, survey)


def spec_from_rows(session: Session, survey: Survey) -> SurveySpec:
    pages = session.exec(
        select(SurveyPage).where(SurveyPage.survey_id == survey.id).order_by(SurveyPage.position)
    ).all()
    questions = session.exec(select(Question).where(Question.survey_id == survey.id).order_by(Question.position)).all()
    question_ids = [q.id for q in questions]
    choices = (
        session.exec(select(Choice).where(Choice.question_id.in_(question_ids)).order_by(Choice.position)).all()
        if question_ids
        else []
    )
    item_keys = dict(session.exec(select(StrategyItem.id, StrategyItem.key)).all())
    choices_by_question: dict[int, list[ChoiceSpec]] = {}
    for choice in choices:
        choices_by_question.setdefault(choice.question_id, []).append(
            ChoiceSpec(
                code=choice.code, label=choice.label, name=choice.name, priority_key=item_keys.get(choice.priority_id)
            )
        )
    page_specs = []
    for page in pages:
        page_questions = [
            QuestionSpec(
                id=q.id,
                code=q.code,
                type=q.type,
                required=q.required,
                text=q.text,
                help=q.help or None,
                choices=tuple(choices_by_question.get(q.id or 0, [])),
                max_choices=q.max_choices,
                min_value=q.min_value,
                max_value=q.max_value,
                whole_numbers=q.whole_numbers,
                low_label=q.low_label or None,
                high_label=q.high_label or None,
                allow_dont_know=q.allow_dont_know,
                max_length=q.max_length,
                required_message=q.required_message or None,
                constraint_message=q.constraint_message or None,
                priority_key=item_keys.get(q.priority_id),
                condition=load_condition(q.condition) if q.condition else None,
            )
            for q in questions
            if q.page_id == page.id
        ]
        page_specs.append(PageSpec(title=page.title or None, questions=tuple(page_questions)))
    return SurveySpec(
        id=survey.id,
        revision=survey.revision,
        slug=survey.slug,
        title=survey.title,
        intro=survey.intro or None,
        privacy_notice=survey.privacy_notice or None,
        audience=survey.audience,
        identity_mode=survey.identity_mode,
        access=survey.access,
        status=survey.status,
        opens_at=survey.opens_at,
        closes_at=survey.closes_at,
        minutes_needed=survey.minutes_needed,
        retention_days=survey.retention_days,
        pages=tuple(page_specs),
    )


def list_open_surveys(session: Session) -> list[Survey]:
    surveys = session.exec(select(Survey).where(Survey.status == SurveyStatus.open).order_by(Survey.id)).all()
    now = utcnow()
    return [
        s
        for s in surveys
        if (s.opens_at is None or _aware(s.opens_at) <= now) and (s.closes_at is None or now < _aware(s.closes_at))
    ]


def touch_survey(session: Session, *, survey: Survey) -> None:
    """Record a change so every worker's cached definition renews."""
    survey.revision += 1
    survey.updated_at = utcnow()
    session.add(survey)


def set_standard_choices(session: Session, *, question_type: str, choices: tuple[ChoiceSpec, ...]) -> list[str]:
    """Give every question of a demographic `question_type` these choices, in the surveys nobody has
    begun to answer (a survey with responses keeps the choices its answers were given under).
    Returns the slugs of the surveys changed; the caller commits."""
    from sqlalchemy import delete

    from consult.responses.models import Response

    answered = select(Response.survey_id).distinct()
    rows = session.exec(
        select(Question, Survey)
        .join(Survey, Survey.id == Question.survey_id)  # type: ignore[arg-type]
        .where(Question.type == question_type, Survey.id.not_in(answered))  # type: ignore[union-attr]
    ).all()
    changed: dict[str, Survey] = {}
    for question, survey in rows:
        session.exec(delete(Choice).where(Choice.question_id == question.id))  # type: ignore[call-overload]
        for position, choice in enumerate(choices, start=1):
            session.add(Choice(question_id=question.id, code=choice.code, position=position, label=dict(choice.label)))
        changed[survey.slug] = survey
    for survey in changed.values():
        touch_survey(session, survey=survey)
    session.flush()
    return sorted(changed)


@dataclass
class _CacheEntry:
    spec: SurveySpec | None
    checked_at: float


class SurveyCache:
    """Definitions cached per worker process. A cheap revision check at most every `ttl` seconds
    keeps workers in step after an edit without reading the whole survey on every request."""

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, _CacheEntry] = {}

    def get(self, session_factory, slug: str) -> SurveySpec | None:  # type: ignore[no-untyped-def]
        entry = self._entries.get(slug)
        now = time.monotonic()
        if entry and now - entry.checked_at < self.ttl:
            return entry.spec
        with session_factory() as session:
            revision = session.exec(
                select(Survey.revision, Survey.status, Survey.opens_at, Survey.closes_at).where(Survey.slug == slug)
            ).first()
            if revision is None:
                spec = None
            elif entry and entry.spec and entry.spec.revision == revision[0] and entry.spec.status == revision[1]:
                spec = entry.spec
            else:
                spec = load_spec(session, slug=slug)
        self._entries[slug] = _CacheEntry(spec, now)
        return spec

    def clear(self) -> None:
        self._entries.clear()


survey_cache = SurveyCache()


def count_surveys(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Survey)).one()


# --- Editing a stored survey (used by consult.authoring) -----------------------------------


def _write_survey_fields(survey: Survey, spec: SurveySpec) -> None:
    survey.title = dict(spec.title)
    survey.intro = dict(spec.intro or {})
    survey.privacy_notice = dict(spec.privacy_notice or {})
    survey.audience = spec.audience
    survey.identity_mode = spec.identity_mode
    survey.access = spec.access
    survey.status = spec.status
    survey.opens_at = spec.opens_at
    survey.closes_at = spec.closes_at
    survey.minutes_needed = spec.minutes_needed
    survey.retention_days = spec.retention_days


def replace_survey_structure(
    session: Session, *, survey: Survey, spec: SurveySpec, strategy_version_id: int | None = None
) -> None:
    """Write a whole definition over a stored survey that has NO answers: its pages, questions
    and choices are deleted and made anew from `spec` (answers would point at the old rows).
    The caller bumps the revision (touch_survey) and commits."""
    from sqlalchemy import delete

    assert survey.id is not None
    question_ids = select(Question.id).where(Question.survey_id == survey.id)
    # Core statements run at once, so the deletes reach the database before the new rows with
    # the same (survey, position) keys are flushed.
    session.exec(delete(Choice).where(Choice.question_id.in_(question_ids)))  # type: ignore[call-overload]
    session.exec(delete(Question).where(Question.survey_id == survey.id))  # type: ignore[call-overload]
    session.exec(delete(SurveyPage).where(SurveyPage.survey_id == survey.id))  # type: ignore[call-overload]
    _write_survey_fields(survey, spec)
    session.add(survey)
    priorities = _priority_ids(session, strategy_version_id)
    _add_pages(session, survey.id, spec, priorities)


def update_survey_wording(
    session: Session, *, survey: Survey, spec: SurveySpec, strategy_version_id: int | None = None
) -> None:
    """Write the texts (and strategy links) of `spec` into the stored rows in place, keeping
    every id, so stored answers stay attached. The structure of `spec` (pages, question codes,
    choice codes) must be the stored one; the caller checks that first."""
    assert survey.id is not None
    _write_survey_fields(survey, spec)
    session.add(survey)
    priorities = _priority_ids(session, strategy_version_id)
    pages = session.exec(
        select(SurveyPage).where(SurveyPage.survey_id == survey.id).order_by(SurveyPage.position)
    ).all()
    for page, page_spec in zip(pages, spec.pages, strict=False):
        page.title = dict(page_spec.title or {})
        session.add(page)
    questions = {q.code: q for q in session.exec(select(Question).where(Question.survey_id == survey.id)).all()}
    for question_spec in spec.questions:
        question = questions[question_spec.code]
        question.text = dict(question_spec.text)
        question.help = dict(question_spec.help or {})
        question.low_label = dict(question_spec.low_label or {})
        question.high_label = dict(question_spec.high_label or {})
        question.required_message = dict(question_spec.required_message or {})
        question.constraint_message = dict(question_spec.constraint_message or {})
        question.priority_id = priorities.get(question_spec.priority_key or "")
        session.add(question)
        choices = {c.code: c for c in session.exec(select(Choice).where(Choice.question_id == question.id)).all()}
        for choice_spec in question_spec.choices:
            choice = choices[choice_spec.code]
            choice.label = dict(choice_spec.label)
            choice.priority_id = priorities.get(choice_spec.priority_key or "")
            session.add(choice)
    session.flush()


def kiosk_start_query(event_name: str, language: str) -> str:
    """The query of a kiosk's start page: its event, and the language it was opened in, so that the
    next person starts in that language whichever one the person before switched to."""
    return urlencode({"kiosk": event_name, "lang": language})


def kiosk_start_path(slug: str, event_name: str, language: str) -> str:
    """The survey's start page in kiosk mode: the address a kiosk tablet shows between respondents."""
    return f"/s/{slug}?{kiosk_start_query(event_name, language)}"
