"""The migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from consult.db import get_engine
from consult.tables import metadata


def test_migrations_match_models(migrated) -> None:  # type: ignore[no-untyped-def]
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == [], f"alembic autogenerate finds differences: {differences}"


def test_every_table_is_migrated(migrated) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import inspect

    tables = set(inspect(get_engine()).get_table_names())
    assert set(metadata.tables) <= tables
    assert {"survey", "question", "choice", "response", "answer", "strategy_item", "review_cycle"} <= tables
