"""Strategy versions, their parts, review cycles and municipalities."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from consult.core.fields import json_field, localized


class ItemKind(StrEnum):
    vision = "vision"
    goal_area = "goal_area"
    priority = "priority"
    principle = "principle"
    section = "section"  # prose around the structured parts, used by the remiss draft


class StrategyVersion(SQLModel, table=True):
    __tablename__ = "strategy_version"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)  # e.g. "rus-2020", "rus-2025"
    name: str = Field(max_length=200)  # in Swedish, the strategy's own language
    names: dict = json_field(nullable=True)  # the name in other languages: {"en": ...}
    year: int
    region: str = Field(max_length=100)
    vision: dict = localized()
    tagline: dict = localized(nullable=True)


class StrategyItem(SQLModel, table=True):
    """A goal area, priority, principle or prose section of one strategy version."""

    __tablename__ = "strategy_item"
    __table_args__ = (UniqueConstraint("version_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="strategy_version.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="strategy_item.id")
    kind: str = Field(max_length=20)
    key: str = Field(max_length=64)  # stable across versions, so two versions can be compared
    position: int = 0
    title: dict = localized()
    description: dict = localized(nullable=True)
    keywords: list = json_field(list)  # analysts' keywords for mapping themes to this item
    # The analysts' own list once they edit it in the workspace (None until then). It replaces the
    # default list (the keywords above plus the packaged ones), so a default word that matches the
    # wrong answers can be dropped; the version's own data is kept for going back.
    edited_keywords: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ReviewCycle(SQLModel, table=True):
    __tablename__ = "review_cycle"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    name: dict = localized()
    mandate_period: str = Field(max_length=20)  # e.g. "2023–2026"
    current_version_id: int | None = Field(default=None, foreign_key="strategy_version.id")
    proposed_version_id: int | None = Field(default=None, foreign_key="strategy_version.id")


class CyclePhase(SQLModel, table=True):
    __tablename__ = "cycle_phase"
    __table_args__ = (UniqueConstraint("cycle_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="review_cycle.id", index=True)
    key: str = Field(max_length=40)  # inspel, remiss, framtidsdag, sammanställning, beslut
    name: dict = localized()
    position: int = 0
    starts_on: date | None = None
    ends_on: date | None = None


class Municipality(SQLModel, table=True):
    __tablename__ = "municipality"
    id: int | None = Field(default=None, primary_key=True)
    code: int = Field(unique=True)  # the stable choice code used in answers and exports
    name: str = Field(max_length=100)
    region: str = Field(max_length=100)
    population: int = 0  # default weighting target
