"""The batch writer's lookups by client UUID must stay index lookups as the response table grows.

psycopg prepares a statement it has run five times on a connection, and PostgreSQL then keeps one
generic plan for it. Made while a survey's first responses came in, that plan was a sequential scan
of the response table, and the connection kept it: at 10,000 responses each batch spent 5-18 ms
of the database's time reading the whole table twice (the first minutes of a survey shared on
social media are exactly when it grows fastest)."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session

from consult.db import get_engine, is_sqlite
from consult.responses import service
from consult.responses.validation import parse_json_answers, validate_complete
from consult.surveys.service import load_spec
from tests.bench.bench_http import ANSWERS


def test_the_writers_lookups_are_planned_for_the_table_as_it_is(demo) -> None:  # type: ignore[no-untyped-def]
    engine = get_engine()
    if is_sqlite(engine):
        pytest.skip("SQLite plans every statement against its current statistics")
    # One connection, as each worker's writer keeps using.
    with engine.connect() as connection, Session(bind=connection) as session:
        spec = load_spec(session, slug="vasternorrland-2030")
        assert spec is not None
        values = validate_complete(spec, parse_json_answers(spec, ANSWERS)).values
        batches = []
        for _ in range(8):
            batch = [service.NewResponse(spec=spec, client_uuid=str(uuid.uuid4()), values=dict(values))
                     for _ in range(3)]
            batches.append(service.store_responses(session, batch))
            session.commit()
        kept = [row[0] for row in connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements")]
        session.rollback()
    assert all(stored.outcome == service.Outcome.created for batch in batches for stored in batch)
    assert not [statement for statement in kept if "client_uuid" in statement], kept
