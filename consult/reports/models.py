"""The summary report's own table: one row per review cycle with what the analysts wrote in the
closing section ("Vad vi gör med synpunkterna"), the report's settings and whether it is public.
Every figure of the report is computed when it is shown; only the analysts' text is stored."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from consult.core.fields import localized, timestamp


class SummaryReport(SQLModel, table=True):
    __tablename__ = "summary_report"
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="review_cycle.id", unique=True)
    actions: dict = localized(nullable=True)  # {"sv": ..., "en": ...}: "what we do with the input"
    weighted: bool = False  # results weighted to the population (raking) instead of raw counts
    published: bool = False
    published_at: datetime | None = timestamp()
    published_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    updated_at: datetime | None = timestamp()
    updated_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime | None = timestamp(nullable=False, default_now=True)
