"""Removing a review cycle or a strategy version that nothing else uses: one created by mistake, or
a trial import. Whatever other domains keep that points at one (surveys, remiss rounds, questions
tied to a priority, theme analyses) is found through the schema's foreign keys, so a table added
later is counted without this module knowing it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Table, delete, func, select
from sqlmodel import Session

from consult.core.i18n import ngettext
from consult.strategy.models import CyclePhase, ReviewCycle, StrategyItem, StrategyVersion

# What is removed together with a cycle or a version: its own parts, not uses by others. A review's
# report settings are made when someone first opens its report page, and mean nothing without it.
OWN_PARTS = {
    ReviewCycle.__tablename__: {CyclePhase.__tablename__, "summary_report"},
    StrategyVersion.__tablename__: {StrategyItem.__tablename__},
    StrategyItem.__tablename__: {StrategyItem.__tablename__},
}


class InUse(Exception):
    """Nothing was removed: `uses` counts the rows, per table, that still point at it."""

    def __init__(self, uses: dict[str, int]) -> None:
        super().__init__(", ".join(f"{table}: {count}" for table, count in uses.items()))
        self.uses = uses


def uses(session: Session, *, table: str, ids: list[int]) -> dict[str, int]:
    """Rows of other tables whose foreign keys point at `ids` of `table` (table name -> count)."""
    from consult.tables import metadata

    counts: dict[str, int] = {}
    if not ids:
        return counts
    for other in metadata.sorted_tables:
        if other.name in OWN_PARTS.get(table, set()):
            continue
        for key in other.foreign_keys:
            if key.column.table.name == table:
                count = session.execute(select(func.count()).select_from(other).where(key.parent.in_(ids))).scalar_one()
                if count:
                    counts[other.name] = counts.get(other.name, 0) + count
    return counts


def cycle_uses(session: Session, *, cycle: ReviewCycle) -> dict[str, int]:
    return uses(session, table=ReviewCycle.__tablename__, ids=[cycle.id or 0])


def version_uses(session: Session, *, version: StrategyVersion) -> dict[str, int]:
    item_ids = list(session.execute(select(StrategyItem.id).where(StrategyItem.version_id == version.id)).scalars())
    counts = uses(session, table=StrategyVersion.__tablename__, ids=[version.id or 0])
    for table, count in uses(session, table=StrategyItem.__tablename__, ids=item_ids).items():
        counts[table] = counts.get(table, 0) + count
    return counts


def uses_of(session: Session, subject: ReviewCycle | StrategyVersion) -> dict[str, int]:
    if isinstance(subject, ReviewCycle):
        return cycle_uses(session, cycle=subject)
    return version_uses(session, version=subject)


def remove(session: Session, subject: ReviewCycle | StrategyVersion) -> None:
    if isinstance(subject, ReviewCycle):
        delete_cycle(session, cycle=subject)
    else:
        delete_version(session, version=subject)


def delete_cycle(session: Session, *, cycle: ReviewCycle) -> None:
    """Remove the cycle with its phases and report settings; raises InUse, removing nothing."""
    found = cycle_uses(session, cycle=cycle)
    if found:
        raise InUse(found)
    _delete_parts(session, ReviewCycle.__tablename__, "cycle_id", cycle.id or 0)
    session.delete(cycle)
    session.flush()


def delete_version(session: Session, *, version: StrategyVersion) -> None:
    """Remove the version with its goal areas, priorities, principles and sections; raises InUse,
    removing nothing."""
    found = version_uses(session, version=version)
    if found:
        raise InUse(found)
    items = StrategyItem.__table__
    # Priorities point at their goal area: children first.
    session.execute(delete(items).where(items.c.version_id == version.id, items.c.parent_id.is_not(None)))
    session.execute(delete(items).where(items.c.version_id == version.id))
    session.delete(version)
    session.flush()


def _delete_parts(session: Session, table: str, column: str, row_id: int) -> None:
    from consult.tables import metadata

    for name in OWN_PARTS[table]:
        part: Table = metadata.tables[name]
        session.execute(delete(part).where(part.c[column] == row_id))


# How a page names each kind of use, counted (literal calls, so the catalogue extraction finds them).
USE_NAMES: dict[str, Callable[[int], str]] = {
    "survey": lambda n: ngettext("%(num)d survey", "%(num)d surveys", n),
    "remiss_round": lambda n: ngettext("%(num)d remiss round", "%(num)d remiss rounds", n),
    "review_cycle": lambda n: ngettext("%(num)d review", "%(num)d reviews", n),
    "question": lambda n: ngettext(
        "%(num)d survey question tied to a priority", "%(num)d survey questions tied to a priority", n
    ),
    "choice": lambda n: ngettext(
        "%(num)d answer choice tied to a priority", "%(num)d answer choices tied to a priority", n
    ),
    "theme_run": lambda n: ngettext("%(num)d theme analysis", "%(num)d theme analyses", n),
}


def describe_uses(found: dict[str, int]) -> str:
    """The uses in the page's language, e.g. "2 surveys, 1 remiss round"."""
    other = lambda n: ngettext("%(num)d other record", "%(num)d other records", n)  # noqa: E731
    return ", ".join(USE_NAMES.get(table, other)(count) % {"num": count} for table, count in found.items())
