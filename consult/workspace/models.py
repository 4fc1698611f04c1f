"""The workspace's own tables: weighting targets and weights per survey, and export jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Index, UniqueConstraint, literal_column, or_
from sqlmodel import Field, SQLModel

from consult.core.fields import json_field, timestamp
from consult.responses.models import Response


class WeightVariable(StrEnum):
    municipality = "municipality"
    gender = "gender"
    age_band = "age_band"


class WeightTarget(SQLModel, table=True):
    """An analyst's target share of one category (a choice code of the survey's demographic question)."""

    __tablename__ = "workspace_weight_target"
    __table_args__ = (UniqueConstraint("survey_id", "variable", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    variable: str = Field(max_length=16)
    code: int
    share: float  # a fraction; the shares of one variable sum to 1


class WeightRun(SQLModel, table=True):
    """The weights last computed for a survey, and what they were computed from, so a change
    of targets or new responses is noticed and the weights renewed."""

    __tablename__ = "workspace_weight_run"
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", unique=True)
    fingerprint: str = Field(max_length=64)  # hash of the targets and of the responses' count and last id
    computed_at: datetime | None = timestamp(default_now=True)
    iterations: int = 0
    converged: bool = False
    respondents: int = 0
    effective_n: float = 0.0
    design_effect: float = 1.0
    min_weight: float = 1.0
    max_weight: float = 1.0


class WeightCell(SQLModel, table=True):
    """The raking weight of one combination of categories; -1 stands for no answer or a variable
    not used. Weights depend only on the cell, so raking runs on cells, not on respondents."""

    __tablename__ = "workspace_weight_cell"
    __table_args__ = (Index("ix_weight_cell_key", "survey_id", "municipality", "gender", "age_band"),)
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    municipality: int = -1
    gender: int = -1
    age_band: int = -1
    respondents: int = 0
    weight: float = 1.0


class ResponseWeight(SQLModel, table=True):
    """Each counted response's weight: derived data, rebuilt from the responses and the cells whenever
    they change (`ensure_weights`). No foreign keys: the database would check both for each of the
    100,000 rows of every rebuild (0.73 of 1.18 s on PostgreSQL), and nothing else writes here;
    deleting a response deletes its weight with every other row keyed by response_id."""

    __tablename__ = "workspace_response_weight"
    response_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    survey_id: int = Field(index=True)
    weight: float = 1.0


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    sav = "sav"
    json = "json"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ExportJob(SQLModel, table=True):
    __tablename__ = "workspace_export_job"
    __table_args__ = (Index("ix_export_job_owner_created", "owner_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="staff_user.id")
    survey_id: int = Field(foreign_key="survey.id", index=True)
    format: str = Field(max_length=8)
    raw_text: bool = False
    filters: dict = json_field(dict)
    status: str = Field(default=JobStatus.queued.value, max_length=10)
    progress: int = 0  # percent
    file_path: str | None = Field(default=None, max_length=500)
    file_name: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime | None = timestamp(default_now=True)
    updated_at: datetime | None = timestamp(default_now=True)


# The workspace's reading index on the responses table (a table of the responses domain, indexed here
# because only the workspace reads it this way). Which responses count (status, review state), the
# overview's counts by day, channel and campaign tag, the time to answer and the filters all read this
# index alone instead of the wide response rows: about a third of the pages to read, and on
# PostgreSQL an index-only scan. `id` second keeps a survey's responses in the order they were stored
# (and their answers with them), so what joins answers to responses reads both in order.
RESPONSE_READING_INDEX = Index(
    "ix_response_workspace",
    *(Response.__table__.c[name] for name in (  # type: ignore[attr-defined]
        "survey_id", "id", "status", "review_state", "channel", "campaign_tag", "submitted_at", "started_at",
    )),
)


def not_counted(table: Any) -> ColumnElement[bool]:
    """Responses that do not count: withdrawn, or rejected in review. The constants are written into
    the SQL, not bound, because a database uses a partial index only when the query states its
    condition exactly (SQLite compares the expressions; PostgreSQL cannot prove it of a parameter)."""
    return or_(table.c.status != literal_column("'submitted'"), table.c.review_state == literal_column("'rejected'"))


# The few responses that do not count, by survey: their ids in a few index entries instead of a pass
# over all of a survey's responses (every workspace page asks which responses count). Rows that count
# are not in it, so a new submission does not write to it.
NOT_COUNTED_INDEX = Index(
    "ix_response_not_counted",
    Response.__table__.c.survey_id,  # type: ignore[attr-defined]
    Response.__table__.c.id,  # type: ignore[attr-defined]
    postgresql_where=not_counted(Response.__table__),  # type: ignore[attr-defined]
    sqlite_where=not_counted(Response.__table__),  # type: ignore[attr-defined]
)
