"""Bulk import of a 10,000-row file (issue 3, section 5: at most 30 seconds).

Generates 10,000 filled rows of the demo survey (all 16 questions: codes, semicolon lists,
scales with "vet ej", decimal commas, free text in about a third of the rows) as a Swedish Excel
CSV (UTF-8 BOM, semicolons) and as XLSX, and imports each through the service functions the
pages use, against a fresh database:

  parse     read the file and validate every row (consult.imports.service.parse_upload)
  preview   keep the validated rows as a batch and count new / already present rows
  confirm   store all rows in one transaction (store_responses, in chunks) and audit
  again     the same file once more: parse, preview and confirm, storing nothing (idempotent)

and, in the same run, the whole path over HTTP in-process (log in, multipart upload, preview
page, confirm) and a floor: pandas.read_csv of the same CSV plus a plain executemany insert of
the same responses and answers, with no validation at all.

    .venv/bin/python tests/bench/bench_import.py                    # SQLite in a temp folder
    CONSULT_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5433/postgres \\
        .venv/bin/python tests/bench/bench_import.py                # a fresh PostgreSQL database
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.bench.benchdb import discard, fresh_database  # noqa: E402 (run as a script)

PASSWORD = "bench-password-2025"
TEXTS = [
    "Bättre kollektivtrafik mellan Kramfors och Härnösand, fler turer på kvällarna.",
    "Satsa på skolan och på att unga ska vilja bo kvar.",
    "Fiber på landsbygden och bättre vägar i glesbygden.",
    "Fler jobb inom industrin och bättre vård nära där man bor, inte bara i Sundsvall.",
    "Trygghet, belysning och snöröjning.",
]


Result = tuple[str, float, float]  # label, wall seconds, CPU seconds of this process


class Clock:
    """Wall time and this process's CPU time: on a shared machine the second shows the work
    itself when other processes hold the cores (PostgreSQL's own CPU is not in it)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def result(self, label: str) -> Result:
        return label, time.perf_counter() - self.wall, time.process_time() - self.cpu


def timed(label: str, results: list[Result], work: Callable[[], Any]) -> Any:
    clock = Clock()
    value = work()
    results.append(clock.result(label))
    return value


def total(label: str, results: list[Result]) -> Result:
    return label, sum(r[1] for r in results), sum(r[2] for r in results)


def random_cells(spec: Any, rng: random.Random, number: int) -> dict[str, str]:
    """One filled row as the cells a person types: codes, lists, decimal commas, free text."""
    from consult.surveys.models import QuestionType

    cells: dict[str, str] = {"row_id": str(number)}
    for question in spec.questions:
        codes = [c.code for c in question.choices]
        qtype = question.type
        if qtype == QuestionType.multiple_choice:
            cells[question.code] = ";".join(map(str, rng.sample(codes, rng.randint(1, question.max_choices or 3))))
        elif qtype == QuestionType.ranking:
            cells[question.code] = ";".join(map(str, rng.sample(codes, len(codes))))
        elif question.choices:
            cells[question.code] = str(rng.choice(codes))
        elif qtype == QuestionType.scale:
            cells[question.code] = "vet ej" if rng.random() < 0.1 else str(rng.randint(1, 5))
        elif qtype == QuestionType.number:
            cells[question.code] = f"{rng.randint(0, 80)},{rng.randint(0, 9)}"
        elif rng.random() < 0.35:
            cells[question.code] = rng.choice(TEXTS)
    # A follow-up question is answered only when its condition holds; otherwise it is left empty.
    if cells.get("bo_kvar") != "2":
        cells.pop("flytta_varfor", None)
    cells["channel"] = "paper" if number % 10 else "event"
    cells["event_name"] = "" if number % 10 else "Framtidsdagen"
    return cells


def make_rows(spec: Any, count: int, prefix: str, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = [random_cells(spec, rng, n) for n in range(1, count + 1)]
    for row in rows:
        row["row_id"] = f"{prefix}-{row['row_id']}"
    return rows


def csv_file(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    import csv

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([row.get(c, "") for c in columns] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode()


def xlsx_file(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("svar")
    sheet.append(columns)
    for row in rows:
        # Numbers as numbers, the way Excel keeps what was typed into a cell.
        sheet.append([_typed(row.get(c, "")) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _typed(text: str) -> Any:
    if text.isdigit():
        return int(text)
    if text.replace(",", "", 1).isdigit():
        return float(text.replace(",", "."))
    return text or None


def service_path(spec: Any, owner_id: int, data: bytes, label: str) -> list[Result]:
    from consult.db import session_scope
    from consult.imports import service

    results: list[Result] = []
    parsed = timed(f"{label}: parse", results, lambda: service.parse_upload(spec, data))
    assert not parsed.problems, parsed.problems[:3]

    def preview() -> Any:
        with session_scope() as session:
            return service.create_batch(session, spec=spec, owner_id=owner_id, filename=label, parsed=parsed)

    batch = timed(f"{label}: preview", results, preview)

    def confirm() -> dict[str, Any]:
        with session_scope() as session:
            return service.confirm_batch(session, batch=batch, spec=spec, user_id=owner_id)

    summary = timed(f"{label}: confirm", results, confirm)
    results.append(total(f"{label}: total", results))
    print(f"  {label}: created {summary['created']}, already present {summary['duplicate']}", flush=True)
    return results


def http_path(slug: str, email: str, data: bytes, filename: str) -> list[Result]:
    import re

    from fastapi.testclient import TestClient

    from consult.app import app

    results: list[Result] = []
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    token = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"csrftoken": token, "email": email, "password": PASSWORD})
    start = Clock()
    page = client.get(f"/admin/surveys/{slug}/import")
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    uploaded = client.post(f"/admin/surveys/{slug}/import", data={"csrftoken": token}, files={"file": (filename, data)})
    assert uploaded.status_code == 303, uploaded.text[:500]
    preview = client.get(uploaded.headers["location"])
    assert preview.status_code == 200
    results.append(start.result("HTTP: upload + preview page"))
    confirm_start = Clock()
    done = client.post(uploaded.headers["location"] + "/confirm", data={"csrftoken": token})
    assert done.status_code == 303, done.text[:500]
    results.append(confirm_start.result("HTTP: confirm"))
    results.append(start.result("HTTP: total"))
    return results


def floor_path(spec: Any, data: bytes) -> list[Result]:
    """pandas.read_csv and executemany of the same rows: what storing costs with no checks at all."""
    import pandas as pd
    from sqlalchemy import insert

    from consult.db import session_scope
    from consult.responses.models import Answer, AnswerSelection, Response
    from consult.surveys.models import LIST_TYPES, QuestionType

    results: list[Result] = []
    start = Clock()
    frame = pd.read_csv(io.BytesIO(data), sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    records = frame.to_dict("records")
    results.append(start.result("floor: pandas.read_csv"))
    insert_start = Clock()
    with session_scope() as session:
        response_rows = [
            {
                "survey_id": spec.id,
                "client_uuid": str(uuid.uuid4()),
                "content_hash": "-",
                "receipt": uuid.uuid4().hex[:26],
                "channel": r["channel"],
                "event_name": r["event_name"] or None,
                "language": "sv",
                "status": "submitted",
                "review_state": "received",
            }
            for r in records
        ]
        table = Response.__table__
        ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), response_rows).all()
        answers, selections = [], []
        for record, (response_id,) in zip(records, ids, strict=True):
            for question in spec.questions:
                cell = record.get(question.code, "")
                if not cell:
                    continue
                row: dict[str, Any] = {
                    "response_id": response_id,
                    "question_id": question.id,
                    "choice": None,
                    "number": None,
                    "text": None,
                    "dont_know": False,
                }
                if question.type in LIST_TYPES:
                    selections += [
                        {"response_id": response_id, "question_id": question.id, "choice": int(c), "rank": rank}
                        for rank, c in enumerate(cell.split(";"), start=1)
                    ]
                elif question.choices:
                    row["choice"] = int(cell)
                elif question.type in (QuestionType.scale, QuestionType.number):
                    row["number"] = None if cell == "vet ej" else float(cell.replace(",", "."))
                    row["dont_know"] = cell == "vet ej"
                else:
                    row["text"] = cell
                answers.append(row)
        session.execute(insert(Answer.__table__), answers)
        session.execute(insert(AnswerSelection.__table__), selections)
    results.append(insert_start.result("floor: executemany insert"))
    results.append(start.result("floor: total"))
    return results


def prepare(database_url: str) -> tuple[Any, int, str]:

    import consult.tables  # noqa: F401 - every domain's tables
    from consult.accounts.service import create_user
    from consult.db import session_scope
    from consult.demo.service import load_demo
    from consult.migrate import upgrade
    from consult.surveys.service import load_spec

    upgrade(database_url)
    load_demo(session_scope, responses=0)
    email = "bench-analyst@example.se"
    with session_scope() as session:
        user = create_user(session, email=email, password=PASSWORD, role="analyst")
        owner_id = user.id
        spec = load_spec(session, slug="vasternorrland-2030")
    assert spec is not None and owner_id is not None
    return spec, owner_id, email


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="consult-bench-import-"))
    database_url = fresh_database(workdir)
    os.environ.update(
        CONSULT_DATABASE_URL=database_url, CONSULT_VAR_DIR=str(workdir / "var"), CONSULT_SECRET_KEY="bench-secret"
    )
    sys.path.insert(0, str(ROOT))
    from consult.imports.files import template_columns

    spec, owner_id, email = prepare(database_url)
    columns = template_columns(spec)
    csv_data = csv_file(columns, make_rows(spec, args.rows, "csv"))
    xlsx_data = xlsx_file(columns, make_rows(spec, args.rows, "xlsx"))
    http_data = csv_file(columns, make_rows(spec, args.rows, "http"))
    print(
        f"database: {database_url.split('://')[0]}; {args.rows} rows, {len(spec.questions)} questions; "
        f"CSV {len(csv_data) / 1e6:.1f} MB, XLSX {len(xlsx_data) / 1e6:.1f} MB",
        flush=True,
    )

    results: list[Result] = []
    results += service_path(spec, owner_id, csv_data, "CSV")
    results += service_path(spec, owner_id, csv_data, "CSV again")
    results += service_path(spec, owner_id, xlsx_data, "XLSX")
    results += http_path(spec.slug, email, http_data, "http.csv")
    results += floor_path(spec, csv_data)
    width = max(len(r[0]) for r in results)
    print(f"{'':<{width}}  {'wall':>7}    {'CPU':>7}")
    for label, wall, cpu in results:
        print(f"{label:<{width}}  {wall:7.2f} s  {cpu:7.2f} s")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    from consult.db import get_engine

    get_engine().dispose()
    discard(workdir, database_url)


if __name__ == "__main__":
    main()
