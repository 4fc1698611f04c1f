"""Strategy versions, review cycles and municipalities: creating and reading them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlmodel import Session, select

from consult.strategy.models import CyclePhase, ItemKind, Municipality, ReviewCycle, StrategyItem, StrategyVersion


def create_version(
    session: Session,
    *,
    key: str,
    name: str,
    year: int,
    region: str,
    structure: dict[str, Any],
    omit: Iterable[str] = (),
) -> StrategyVersion:
    """Store a version from the fixture's structure (goal areas with priorities, principles),
    leaving out the priorities that version did not have."""
    left_out = set(omit)
    version = StrategyVersion(
        key=key, name=name, year=year, region=region, vision=structure["vision"], tagline=structure.get("tagline")
    )
    session.add(version)
    session.flush()
    assert version.id is not None
    for area_position, area in enumerate(structure["goal_areas"], start=1):
        goal = StrategyItem(
            version_id=version.id,
            kind=ItemKind.goal_area,
            key=area["key"],
            position=area_position,
            title=area["title"],
            description=area.get("short"),
        )
        session.add(goal)
        session.flush()
        for position, priority in enumerate(area["priorities"], start=1):
            if priority["key"] in left_out:
                continue
            session.add(
                StrategyItem(
                    version_id=version.id,
                    parent_id=goal.id,
                    kind=ItemKind.priority,
                    key=priority["key"],
                    position=area_position * 100 + position,
                    title={"sv": priority["sv"], "en": priority["en"]},
                    keywords=list(priority.get("keywords", [])),
                )
            )
    for position, principle in enumerate(structure["principles"], start=1):
        session.add(
            StrategyItem(
                version_id=version.id,
                kind=ItemKind.principle,
                key=principle["key"],
                position=1000 + position,
                title={"sv": principle["sv"], "en": principle["en"]},
            )
        )
    session.flush()
    return version


def items(session: Session, *, version_id: int, kind: str | None = None) -> list[StrategyItem]:
    query = select(StrategyItem).where(StrategyItem.version_id == version_id)
    if kind:
        query = query.where(StrategyItem.kind == kind)
    return list(session.exec(query.order_by(StrategyItem.position)).all())


def version_by_key(session: Session, *, key: str) -> StrategyVersion | None:
    return session.exec(select(StrategyVersion).where(StrategyVersion.key == key)).first()


def create_cycle(
    session: Session,
    *,
    key: str,
    name: dict[str, str],
    mandate_period: str,
    current_version_id: int | None,
    proposed_version_id: int | None,
    phases: list[dict[str, Any]],
) -> ReviewCycle:
    cycle = ReviewCycle(
        key=key,
        name=name,
        mandate_period=mandate_period,
        current_version_id=current_version_id,
        proposed_version_id=proposed_version_id,
    )
    session.add(cycle)
    session.flush()
    assert cycle.id is not None
    for position, phase in enumerate(phases, start=1):
        session.add(
            CyclePhase(
                cycle_id=cycle.id,
                key=phase["key"],
                name={"sv": phase["sv"], "en": phase["en"]},
                position=position,
                starts_on=_as_date(phase.get("starts")),
                ends_on=_as_date(phase.get("ends")),
            )
        )
    session.flush()
    return cycle


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def cycle_by_key(session: Session, *, key: str) -> ReviewCycle | None:
    return session.exec(select(ReviewCycle).where(ReviewCycle.key == key)).first()


def upsert_municipalities(session: Session, *, region: str, rows: list[dict[str, Any]]) -> None:
    existing = {m.code: m for m in session.exec(select(Municipality)).all()}
    for row in rows:
        municipality = existing.get(row["code"]) or Municipality(code=row["code"], name=row["name"], region=region)
        municipality.name = row["name"]
        municipality.population = row["population"]
        session.add(municipality)
    session.flush()


def municipalities(session: Session) -> list[Municipality]:
    return list(session.exec(select(Municipality).order_by(Municipality.name)).all())
