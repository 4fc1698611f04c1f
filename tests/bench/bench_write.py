"""Benchmark of the write path alone: storing batches of 15-answer responses (issue 2, section 8).

Times, in the same run on the same database, `consult.responses.service.store_responses` (what the
batch writer calls: driver-level executemany on SQLite, COPY on PostgreSQL) against the plain way of
doing the same work with the ORM (one `Response` and its `Answer` / `AnswerSelection` objects added to a
session per response, one commit per batch); on PostgreSQL also `store_responses` with executemany
instead of COPY. Prints CPU and wall time per response.

    .venv/bin/python tests/bench/bench_write.py                       # SQLite in a temp folder
    CONSULT_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5433/postgres \\
        .venv/bin/python tests/bench/bench_write.py                   # PostgreSQL (a fresh database)

Options: --batches N (default 40), --batch-size N (default 64).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="consult-bench-write-"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    from tests.bench.benchdb import discard, fresh_database

    url = fresh_database(TMP, "consult_bench_write")
    os.environ.update(CONSULT_DATABASE_URL=url, CONSULT_VAR_DIR=str(TMP / "var"), CONSULT_SECRET_KEY="bench-secret")
    try:
        run(args)
    finally:
        from consult.db import get_engine

        get_engine().dispose()
        discard(TMP, url)
    return 0


def run(args: argparse.Namespace) -> None:
    import consult.tables  # noqa: F401
    from consult.db import get_engine, session_scope
    from consult.responses import service
    from consult.responses.validation import parse_json_answers, validate_complete
    from consult.surveys.service import load_spec
    from tests.bench.bench_http import ANSWERS, prepare_database
    from tests.bench.benchdb import database_server_cpu_seconds

    prepare_database(0)
    with session_scope() as session:
        spec = load_spec(session, slug="vasternorrland-2030")
    values = validate_complete(spec, parse_json_answers(spec, ANSWERS)).values

    def items() -> list[service.NewResponse]:
        return [service.NewResponse(spec=spec, client_uuid=str(uuid.uuid4()), values=dict(values))
                for _ in range(args.batch_size)]

    def consult_batch() -> None:
        with session_scope() as session:
            service.store_responses(session, items())

    def orm_batch() -> None:
        from consult.responses.models import Answer, AnswerSelection, Response
        from consult.surveys.models import LIST_TYPES

        with session_scope() as session:
            for item in items():
                stored = Response(survey_id=spec.id, client_uuid=item.client_uuid, content_hash=item.content_hash,
                                  receipt=service.new_token(), channel=item.channel.value,
                                  submitted_at=item.submitted_at)
                session.add(stored)
                session.flush()  # the id, for the answers
                for code, value in item.values.items():
                    question = spec.by_code[code]
                    choice, number, text, dont_know = service.answer_cells(question.type, value)
                    session.add(Answer(response_id=stored.id, question_id=question.id, choice=choice,
                                       number=number, text=text, dont_know=dont_know))
                    if question.type in LIST_TYPES and isinstance(value, list):
                        for rank, option in enumerate(value, start=1):
                            session.add(AnswerSelection(response_id=stored.id, question_id=question.id,
                                                        choice=option, rank=rank))

    print(f"database: {get_engine().dialect.name}; {args.batches} batches of {args.batch_size} responses, "
          f"{len(values)} answers each")
    print(f"{'':28s} {'CPU µs/response':>16s} {'wall µs/response':>17s} {'database CPU µs':>16s}")
    def executemany_batch() -> None:
        service.USE_COPY = False
        try:
            consult_batch()
        finally:
            service.USE_COPY = True

    ways = [("consult store_responses", consult_batch), ("plain SQLModel ORM", orm_batch)]
    if get_engine().dialect.name == "postgresql":
        ways.insert(1, ("  the same with executemany", executemany_batch))
    for name, batch in ways:
        batch()  # warm up
        cpu, wall, server = [], [], []
        for _ in range(3):
            began, began_cpu, began_server = time.perf_counter(), time.process_time(), database_server_cpu_seconds()
            for _ in range(args.batches):
                batch()
            count = args.batches * args.batch_size
            wall.append((time.perf_counter() - began) / count * 1e6)
            cpu.append((time.process_time() - began_cpu) / count * 1e6)
            server.append((database_server_cpu_seconds() - began_server) / count * 1e6)
        print(f"{name:28s} {statistics.median(cpu):16.0f} {statistics.median(wall):17.0f} "
              f"{statistics.median(server):16.0f}")
    print("CPU is this process's (on SQLite that includes the database's work); database CPU is the local "
          "PostgreSQL server's processes (all of them: background writers included).")


if __name__ == "__main__":
    raise SystemExit(main())
