"""Benchmark of the review team's workspace (issue 6, section 9).

Creates a survey of 15 questions with 100,000 responses (rows written with plain executemany into
a fresh database), then times, in server time:
  - the overview of the review cycle and a survey's results page (request through the app in
    process with a logged-in analyst: service queries plus template rendering; median of 5 after
    one cold run), also filtered and weighted;
  - an XLSX and an SPSS .sav export (the job's work, in process) and the streamed long CSV.

    .venv/bin/python tests/bench/bench_workspace.py                      # SQLite in a temp folder
    CONSULT_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5433/postgres \\
        .venv/bin/python tests/bench/bench_workspace.py                  # PostgreSQL (a fresh database)

Options: --responses N (default 100000), --repeat N (default 5), --keep (keep the database and the temp folder).
Targets: overview and results at most 300 ms; an export at most 30 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.bench.benchdb import discard, fresh_database  # noqa: E402 (run as a script)

TMP = Path(tempfile.mkdtemp(prefix="consult-bench-ws-"))
PASSWORD = "benchmark-lösenord-123"


def survey_spec():  # type: ignore[no-untyped-def]
    from consult.surveys.schema import ChoiceSpec, PageSpec, QuestionSpec, SurveySpec
    from consult.surveys.standard import standard_choices

    municipalities = [(2280, "Härnösand"), (2282, "Kramfors"), (2283, "Sollefteå"), (2281, "Sundsvall"),
                      (2262, "Timrå"), (2260, "Ånge"), (2284, "Örnsköldsvik")]

    def q(code: str, qtype: str, **fields):  # type: ignore[no-untyped-def]
        if qtype in ("municipality", "gender", "age_band"):
            fields["choices"] = standard_choices(qtype, municipalities)
        return QuestionSpec(code=code, type=qtype, text={"sv": f"Fråga {code}", "en": f"Question {code}"}, **fields)

    def options(n: int) -> tuple:  # type: ignore[type-arg]
        return tuple(ChoiceSpec(code=i, label={"sv": f"Alternativ {i}", "en": f"Option {i}"}) for i in range(1, n + 1))

    questions = (
        q("kommun", "municipality"), q("kon", "gender"), q("alder", "age_band"),
        q("val1", "single_choice", choices=options(3)), q("val2", "single_choice", choices=options(5)),
        q("val3", "single_choice", choices=options(2)),
        q("flera1", "multiple_choice", choices=options(17)), q("flera2", "multiple_choice", choices=options(6)),
        q("skala1", "scale", min_value=1, max_value=5, allow_dont_know=True),
        q("skala2", "scale", min_value=1, max_value=5, allow_dont_know=True),
        q("skala3", "scale", min_value=0, max_value=10),
        q("rang", "ranking", choices=options(5)), q("antal", "number", min_value=0, max_value=110),
        q("fritt1", "long_text"), q("fritt2", "short_text"),
    )
    return SurveySpec(slug="bench-arbetsyta", title={"sv": "Benchmark", "en": "Benchmark"}, status="open",
                      pages=(PageSpec(questions=questions),))


TEXTS = ["Bättre bussar och tåg", "Fler jobb på landsbygden", "Ring mig på 070-123 45 67", "Mer kultur",
         "Billigare bostäder i centrum", "Skolan behöver mer resurser"]
CHANNELS = ["web", "campaign", "interview_in_person", "event", "paper", "kiosk"]
TAGS = [None, "facebook", "instagram", "affisch"]
START = datetime(2025, 1, 15, tzinfo=UTC)


def response_rows(spec, rid: int, rng) -> tuple[dict, list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    """One response with its answers and selections. About 0.6% of the responses do not count
    (every 250th rejected in review, every 500th withdrawn), as in a real consultation."""
    by_code = spec.by_code
    submitted = START + timedelta(minutes=int(rng.integers(0, 105 * 24 * 60)))
    row = {
        "id": rid, "survey_id": spec.id, "client_uuid": f"bench-{rid:08d}", "content_hash": "x" * 64,
        "receipt": f"R{rid:012d}", "channel": CHANNELS[int(rng.integers(0, len(CHANNELS)))],
        "campaign_tag": TAGS[int(rng.integers(0, len(TAGS)))], "language": "sv",
        "started_at": submitted - timedelta(seconds=int(rng.integers(120, 1500))),
        "submitted_at": submitted, "status": "withdrawn" if rid % 500 == 7 else "submitted",
        "review_state": "rejected" if rid % 250 == 0 else "received",
    }
    answers, selections = [], []
    values = {
        "kommun": int(rng.choice([2280, 2282, 2283, 2281, 2262, 2260, 2284], p=[.1, .07, .07, .45, .08, .04, .19])),
        "kon": int(rng.choice([1, 2, 3, 4], p=[.55, .41, .02, .02])),
        "alder": int(rng.integers(1, 8)), "val1": int(rng.integers(1, 4)), "val2": int(rng.integers(1, 6)),
        "val3": int(rng.integers(1, 3)),
    }
    for code, value in values.items():
        answers.append({"response_id": rid, "question_id": by_code[code].id, "choice": value,
                        "number": None, "text": None, "dont_know": False})
    for code in ("skala1", "skala2", "skala3"):
        dont_know = code != "skala3" and rng.random() < 0.06
        number = None if dont_know else float(rng.integers(0 if code == "skala3" else 1, 11 if code == "skala3" else 6))
        answers.append({"response_id": rid, "question_id": by_code[code].id, "choice": None,
                        "number": number, "text": None, "dont_know": dont_know})
    if rng.random() < 0.8:
        answers.append({"response_id": rid, "question_id": by_code["antal"].id, "choice": None,
                        "number": float(rng.integers(0, 71)), "text": None, "dont_know": False})
    for code, options, most in (("flera1", 17, 3), ("flera2", 6, 2), ("rang", 5, 3)):
        chosen = rng.choice(np.arange(1, options + 1), size=int(rng.integers(1, most + 1)), replace=False)
        answers.append({"response_id": rid, "question_id": by_code[code].id, "choice": None,
                        "number": None, "text": None, "dont_know": False})
        selections += [{"response_id": rid, "question_id": by_code[code].id, "choice": int(c),
                        "rank": rank if code == "rang" else None} for rank, c in enumerate(chosen, 1)]
    for code, chance in (("fritt1", 0.85), ("fritt2", 0.4)):
        if rng.random() < chance:
            answers.append({"response_id": rid, "question_id": by_code[code].id, "choice": None,
                            "number": None, "text": TEXTS[int(rng.integers(0, len(TEXTS)))], "dont_know": False})
    return row, answers, selections


def insert_responses(spec, ids: range, rng) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from consult.db import get_engine
    from consult.responses.models import Answer, AnswerSelection, Response

    responses, answers, selections = [], [], []
    for rid in ids:
        row, answered, chosen = response_rows(spec, rid, rng)
        responses.append(row)
        answers += answered
        selections += chosen
    with get_engine().begin() as conn:
        conn.execute(insert(Response.__table__), responses)
        conn.execute(insert(Answer.__table__), answers)
        conn.execute(insert(AnswerSelection.__table__), selections)


def generate(spec, count: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Insert `count` responses with executemany: ids are chosen here, so answers need no read-back."""
    from sqlalchemy import text

    from consult.db import get_engine

    rng = np.random.default_rng(2025)
    began = time.perf_counter()
    batch = 10_000
    for offset in range(0, count, batch):
        insert_responses(spec, range(offset + 1, min(count, offset + batch) + 1), rng)
    timings = {"generate_s": time.perf_counter() - began}
    with get_engine().begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('response_id_seq', (SELECT max(id) FROM response))"))
    vacuum_analyze()
    return timings


def vacuum_analyze() -> None:
    """What autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) would have done after a bulk load:
    statistics for the planner, and on PostgreSQL the visibility map that index-only scans need."""
    from sqlalchemy import text

    from consult.db import get_engine

    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def forget_figures() -> None:
    """What a change of the data does to every cached figure (the cache keys hold the data version):
    the next request computes everything again, as the first request after a start does."""
    from consult.workspace import charts, service

    service.figure_cache.clear()
    for chart in (charts.bar_chart, charts.line_chart, charts.column_chart, charts.grouped_bar_chart):
        chart.cache_clear()


def timed(call, repeat: int) -> tuple[float, float, float, float]:  # type: ignore[no-untyped-def]
    """(median cold ms, slowest cold ms, median cold CPU ms of this process, median warm ms): cold with
    every figure computed again, warm from the figure cache. The CPU time is less sensitive to other
    jobs on the machine; on SQLite it includes the database's work, on PostgreSQL it does not."""
    colds, cpu, warms = [], [], []
    for _ in range(repeat):
        forget_figures()
        began, began_cpu = time.perf_counter(), time.process_time()
        call()
        colds.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        began = time.perf_counter()
        call()
        warms.append((time.perf_counter() - began) * 1000)
    return statistics.median(colds), max(colds), statistics.median(cpu), statistics.median(warms)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database and its folder, to study them")
    args = parser.parse_args()
    url = fresh_database(TMP, "consult_bench_ws")
    os.environ["CONSULT_DATABASE_URL"] = url
    os.environ["CONSULT_VAR_DIR"] = str(TMP / "var")
    os.environ["CONSULT_SECRET_KEY"] = "bench-secret"
    os.environ.setdefault("CONSULT_LOGIN_RATE", "1000/minute")
    try:
        return run(args, url)
    finally:
        from consult.db import get_engine

        get_engine().dispose()
        if args.keep:
            print(f"kept: {url} (and {TMP})")
        else:
            discard(TMP, url)


def run(args: argparse.Namespace, url: str) -> int:
    from fastapi.testclient import TestClient

    import consult.tables  # noqa: F401
    from consult.accounts.service import create_user
    from consult.db import get_engine, session_scope
    from consult.migrate import upgrade
    from consult.strategy import service as strategy
    from consult.surveys.service import load_spec, save_survey
    from consult.workspace import exports, service

    upgrade(url)
    with session_scope() as session:
        strategy.upsert_municipalities(session, region="Västernorrland", rows=[
            {"code": c, "name": n, "population": p} for c, n, p in [
                (2280, "Härnösand", 24400), (2282, "Kramfors", 17900), (2283, "Sollefteå", 18900),
                (2281, "Sundsvall", 99400), (2262, "Timrå", 18000), (2260, "Ånge", 9100),
                (2284, "Örnsköldsvik", 56100)]])
        cycle = strategy.create_cycle(session, key="bench", name={"sv": "Bench", "en": "Bench"},
                                      mandate_period="2023–2026", current_version_id=None,
                                      proposed_version_id=None, phases=[])
        save_survey(session, spec=survey_spec(), cycle_id=cycle.id)
        create_user(session, email="analytiker@bench.se", password=PASSWORD, role="analyst")
    with session_scope() as session:
        spec = load_spec(session, slug="bench-arbetsyta")
    print(f"database: {get_engine().dialect.name}; responses: {args.responses:,}; questions: {len(spec.questions)}")
    figures = generate(spec, args.responses)
    print(f"generated in {figures['generate_s']:.1f} s")

    from consult.app import app

    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    login = client.get("/login").text
    token = login.split('name="csrftoken" value="')[1].split('"')[0]
    assert client.post("/login", data={"csrftoken": token, "email": "analytiker@bench.se",
                                       "password": PASSWORD, "next": ""}).status_code == 303

    def page(path: str):  # type: ignore[no-untyped-def]
        def call() -> None:
            answer = client.get(path)
            assert answer.status_code == 200, answer.text[:300]
        return call

    survey = "/arbetsyta/enkater/bench-arbetsyta"
    pages = [
        ("overview", "/arbetsyta"),
        ("results", survey),
        ("results, municipality + gender", f"{survey}?kommun=2281&kon=1"),
        ("results, gender", f"{survey}?kon=1"),
        ("results, municipality + channel", f"{survey}?kommun=2281&kanal=web"),
        ("results, weighted", f"{survey}?viktat=1"),
        ("results, weighted, municipality + gender", f"{survey}?viktat=1&kommun=2281&kon=1"),
        ("crosstab municipality × scale", f"{survey}/korstabell?rad=kommun&kolumn=skala1"),
        ("chart (one question, filtered)", f"{survey}/diagram/flera1.svg?kon=2"),
    ]
    first = time.perf_counter()
    page(pages[0][1])()
    print(f"{'first request after start (overview)':45s} {(time.perf_counter() - first) * 1000:9.0f} ms")
    print(f"load average before the pages: {os.getloadavg()[0]:.1f}")
    with session_scope() as session:  # weights as they stand before any weighted page is asked for
        service.ensure_weights(session, spec=spec)
    print(f"{'':45s} {'cold median':>12s} {'cold max':>9s} {'cold CPU':>9s} {'warm':>7s}")
    for name, path in pages:
        cold, slowest, cpu, warm = timed(page(path), args.repeat)
        print(f"{name:45s} {cold:9.0f} ms {slowest:6.0f} ms {cpu:6.0f} ms {warm:5.0f} ms")

    # A new response arrives: the data version changes, so the next request computes every figure
    # (and, for weighted figures, the weights) again.
    rng = np.random.default_rng(7)
    for name, path in [("results after a new response", survey),
                       ("weighted results after a new response", f"{survey}?viktat=1"),
                       ("overview after a new response", "/arbetsyta")]:
        args.responses += 1
        insert_responses(spec, range(args.responses, args.responses + 1), rng)
        began = time.perf_counter()
        page(path)()
        print(f"{name:45s} {(time.perf_counter() - began) * 1000:9.0f} ms")

    with session_scope() as session:
        began = time.perf_counter()
        service.ensure_weights(session, spec=spec, force=True)
        print(f"{'raking weights (recompute)':45s} {time.perf_counter() - began:8.2f} s")

    for export_format in ("xlsx", "sav"):
        path = TMP / f"bench.{export_format}"
        began = time.perf_counter()
        with session_scope() as session:
            exports.build_file(session, path=path, spec=spec, export_format=export_format,
                               filters=service.Filters(), raw=False, language="sv")
        seconds = time.perf_counter() - began
        print(f"{export_format + ' export':45s} {seconds:8.1f} s   ({path.stat().st_size / 1e6:.1f} MB)")
    for with_weight in (False, True):
        began = time.perf_counter()
        if with_weight:
            with session_scope() as session:
                with_weight = exports.prepare_weights(session, spec=spec)  # as the download does
        lines = exports.csv_lines(spec, service.Filters(), raw=False, with_weight=with_weight)
        size = sum(len(chunk) for chunk in lines)
        name = "long CSV (streamed)" + (", with weights" if with_weight else "")
        print(f"{name:45s} {time.perf_counter() - began:8.1f} s   ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
