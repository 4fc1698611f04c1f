"""Theme analysis in the web app: runs (background jobs), the themes a run proposed, the themes the
analysts keep, each answer's theme, and the history of what the analysts did.

Candidate themes (what the engine proposed in one run) are never edited; the analysts work on
selected themes, created from a run's candidates when they accept it. Old runs, their candidates
and their machine assignments stay as history when a new run is made.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from consult.core.fields import json_field, timestamp


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


ACTIVE_STATUSES = (RunStatus.queued.value, RunStatus.running.value)


class RunKind(StrEnum):
    discover = "discover"  # cluster the answers into candidate themes
    code = "code"  # assisted coding: train on the analysts' confirmed answers, code the rest


class AssignmentSource(StrEnum):
    machine = "machine"  # the run's clustering, or a later answer assigned to its themes
    coder = "coder"  # the assisted coder
    analyst = "analyst"  # moved or confirmed by an analyst


class ChangeAction(StrEnum):
    start = "start"
    cancel = "cancel"
    accept = "accept"
    rename = "rename"
    merge = "merge"
    split = "split"
    move = "move"
    confirm = "confirm"
    code = "code"
    assign_new = "assign_new"


class ThemeRun(SQLModel, table=True):
    """One background job on one question: a theme discovery or an assisted-coding pass."""

    __tablename__ = "theme_run"
    __table_args__ = (
        # One run at a time per question: the database refuses a second queued/running run.
        Index(
            "uq_theme_run_active_question",
            "question_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        Index("ix_theme_run_status", "status", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    kind: str = Field(default=RunKind.discover.value, max_length=12)
    status: str = Field(default=RunStatus.queued.value, max_length=12)
    progress: int = 0  # 0..100
    step: str = Field(default="", max_length=60)
    params: dict = json_field(dict)  # {"k": "auto" | n, "lang": ..., "threshold": ...}
    random_state: int = 0
    strategy_version_id: int | None = Field(default=None, foreign_key="strategy_version.id")
    started_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = timestamp(nullable=False, default_now=True)
    started_at: datetime | None = timestamp()
    finished_at: datetime | None = timestamp()
    heartbeat_at: datetime | None = timestamp()
    cancel_requested: bool = False
    worker: str = Field(default="", max_length=80)  # host:pid of the process that ran it
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    n_answers: int = 0
    summary: dict = json_field(dict)  # k found, language, coding figures


class ThemeModel(SQLModel, table=True):
    """The fitted engine of a discovery run (pickled, compressed), so that answers arriving later
    are assigned to its themes in any worker process, without re-clustering."""

    __tablename__ = "theme_model"
    run_id: int = Field(foreign_key="theme_run.id", primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CandidateTheme(SQLModel, table=True):
    """A theme as the engine proposed it in one run (never edited)."""

    __tablename__ = "theme_candidate"
    __table_args__ = (UniqueConstraint("run_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="theme_run.id", index=True)
    number: int  # the engine's theme id; 0 is "övrigt/oklart"
    label: str = Field(max_length=300)
    phrase: str = Field(default="", max_length=300)
    terms: list = json_field(list)
    size: int = 0
    share: float = 0.0
    representatives: list = json_field(list)  # response ids nearest the theme's centre
    best_priority: str | None = Field(default=None, max_length=300)  # strategy item title
    best_score: float | None = None  # reach: share of the theme's answers that speak to it
    not_covered: bool = False


class RunAssignment(SQLModel, table=True):
    """The engine's theme for each answer in one run (kept with the run as history)."""

    __tablename__ = "theme_run_assignment"
    __table_args__ = (UniqueConstraint("run_id", "response_id"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="theme_run.id", index=True)
    response_id: int = Field(foreign_key="response.id")
    number: int  # candidate number
    score: float = 0.0


class SelectedTheme(SQLModel, table=True):
    """A theme the analysts keep; made from a run's candidates when the run is accepted."""

    __tablename__ = "theme_selected"
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    run_id: int = Field(foreign_key="theme_run.id")  # the run whose candidates it came from
    label: str = Field(max_length=300)
    terms: list = json_field(list)
    sources: list = json_field(list)  # candidate numbers (of run_id) it was made from
    is_other: bool = False  # the "övrigt/oklart" bucket
    active: bool = True  # merged, split or replaced themes stay as inactive history
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = timestamp(nullable=False, default_now=True)
    updated_at: datetime | None = timestamp()


class ThemeAssignment(SQLModel, table=True):
    """The current theme of one answer (response + question) in the analysts' coding."""

    __tablename__ = "theme_assignment"
    __table_args__ = (
        UniqueConstraint("question_id", "response_id"),
        Index("ix_theme_assignment_theme", "theme_id", "score"),
    )
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id")
    response_id: int = Field(foreign_key="response.id", index=True)
    theme_id: int = Field(foreign_key="theme_selected.id")
    score: float | None = None  # closeness to the theme's centre (machine) or the coder's confidence
    source: str = Field(default=AssignmentSource.machine.value, max_length=10)
    # What the machine (run or coder) said, kept when an analyst changes or confirms the theme:
    # the agreement between analysts and machine is computed from it.
    machine_theme_id: int | None = Field(default=None, foreign_key="theme_selected.id")
    needs_review: bool = False  # the coder was not confident enough
    reviewed: bool = False  # an analyst confirmed (or chose) the theme
    assigned_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    assigned_at: datetime = timestamp(nullable=False, default_now=True)
    reviewed_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    reviewed_at: datetime | None = timestamp()


class ThemeChange(SQLModel, table=True):
    """One analyst action on a question's themes: who, when, what."""

    __tablename__ = "theme_change"
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    theme_id: int | None = Field(default=None, foreign_key="theme_selected.id")
    run_id: int | None = Field(default=None, foreign_key="theme_run.id")
    user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    at: datetime = timestamp(nullable=False, default_now=True)
    action: str = Field(max_length=20)
    details: dict = json_field(dict)
