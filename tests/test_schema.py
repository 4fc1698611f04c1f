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


def test_a_time_given_in_swedish_time_reads_back_as_the_same_moment(migrated) -> None:  # type: ignore[no-untyped-def]
    """A survey closing at 23:59 Swedish time must close then on either database: SQLite keeps
    timestamps as text without their zone, so every timestamp column stores the moment in UTC."""
    import uuid
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from consult.db import session_scope
    from consult.surveys.models import Survey

    closes = datetime(2025, 8, 31, 23, 59, tzinfo=ZoneInfo("Europe/Stockholm"))
    with session_scope() as session:
        survey = Survey(slug=f"tz-{uuid.uuid4().hex[:8]}", title={"sv": "Tid"}, closes_at=closes)
        session.add(survey)
        session.flush()
        survey_id = survey.id
    with session_scope() as session:
        stored = session.get(Survey, survey_id)
        assert stored is not None and stored.closes_at == closes
        assert stored.closes_at.utcoffset() is not None
        assert stored.closes_at.astimezone(UTC) == datetime(2025, 8, 31, 21, 59, tzinfo=UTC)
        session.delete(stored)
