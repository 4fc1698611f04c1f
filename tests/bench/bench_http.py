"""HTTP benchmark of the answering path (issue 2, section 8).

Starts `consult serve --workers 2` on a fresh database and measures, in the same run and with
the same load tool (wrk, 64 connections): a hello-world endpoint of the same app, survey page
rendering, and submissions of a 15-answer response through the JSON API and through the HTML
form. Each endpoint runs in rounds between rounds of hello world, so the two are compared under
the same conditions (see `paired`). After the submissions it counts what was stored against what
was acknowledged.

    .venv/bin/python tests/bench/bench_http.py                      # SQLite
    CONSULT_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5433/postgres \\
        .venv/bin/python tests/bench/bench_http.py                  # PostgreSQL

Needs wrk (apt-get install wrk). Traffic goes to 127.0.0.1 only and each run stops after
--seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.bench.benchdb import database_server_cpu_seconds, discard, fresh_database  # noqa: E402

CONNECTIONS = 64

ACK_COUNTER = """
local acked = 0
local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == %(ok)s then acked = acked + 1 end
end
function done_thread() end
"""

LUA_COMMON = """
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local total = 0
  local other = 0
  for _, t in ipairs(threads) do
    total = total + t:get("acked")
    other = other + t:get("other")
  end
  io.write(string.format("ACKED %%d OTHER %%d\\n", total, other))
end
"""

LUA_API = (
    LUA_COMMON
    + """
acked = 0
other = 0
local counter = 0
local template = '%(body)s'
function init(args)
  math.randomseed(os.time() * 1000 + id)
end
local function uuid4()
  local t = 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'
  return (string.gsub(t, '[xy]', function (c)
    local v = (c == 'x') and math.random(0, 0xf) or math.random(8, 0xb)
    return string.format('%%x', v)
  end))
end
function request()
  counter = counter + 1
  local body = string.gsub(template, "CLIENT_UUID", uuid4())
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status == 201 then acked = acked + 1 else other = other + 1 end
end
"""
)

LUA_FORM = (
    LUA_COMMON
    + """
acked = 0
other = 0
local tokens = {}
local index = 0
function init(args)
  for line in io.lines("%(tokens)s") do
    local thread_of, token = line:match("^(%%d+) (%%S+)$")
    if tonumber(thread_of) == id then table.insert(tokens, token) end
  end
end
function request()
  index = index + 1
  local token = tokens[index]
  if token == nil then token = "exhausted" end
  return wrk.format("POST", "/s/%(slug)s/r/" .. token .. "/1",
    {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "%(cookie)s"}, "%(form)s")
end
function response(status, headers, body)
  if status == 303 and headers["location"] and headers["location"]:find("kvitto") then
    acked = acked + 1 else other = other + 1 end
end
"""
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_wrk(output: str) -> dict[str, float]:
    def to_ms(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    acked = re.search(r"ACKED (\d+) OTHER (\d+)", output)
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "non_2xx_3xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "acked": int(acked.group(1)) if acked else -1,
        "other": int(acked.group(2)) if acked else -1,
    }


def process_tree_cpu_seconds(root: int) -> float:
    """User plus system CPU time of a process and all its descendants (the server's workers),
    from /proc. Unlike requests per second it hardly changes when other jobs share the machine."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def wrk(
    url: str,
    seconds: int,
    script: Path | None = None,
    threads: int = 2,
    server_pid: int | None = None,
    headers: tuple[str, ...] = (),
) -> dict[str, float]:
    command = ["wrk", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", str(script)]
    cpu_before = process_tree_cpu_seconds(server_pid) if server_pid else 0.0
    database_before = database_server_cpu_seconds()
    result = subprocess.run(command + [url], capture_output=True, text=True, check=True)
    figures = parse_wrk(result.stdout)
    if server_pid:
        requests = max(figures["rps"] * seconds, 1)
        figures["cpu_us"] = (process_tree_cpu_seconds(server_pid) - cpu_before) / requests * 1e6
        figures["db_cpu_us"] = (database_server_cpu_seconds() - database_before) / requests * 1e6
    return figures


def one_page_spec():  # type: ignore[no-untyped-def]
    """The demo survey's 15 questions on one page, so one form POST carries a whole response."""
    from consult.demo.service import read_fixture, survey_spec_from_fixture
    from consult.surveys.schema import PageSpec

    demo = survey_spec_from_fixture(read_fixture(), status="open")
    questions = tuple(q for page in demo.pages for q in page.questions)
    return demo.model_copy(update={"slug": "bench-onepage", "pages": (PageSpec(questions=questions),)})


ANSWERS = {
    "kommun": 2281,
    "alder": 3,
    "kon": 1,
    "ar_i_lanet": 12,
    "mal_plats": 4,
    "mal_leva": 5,
    "mal_vaxa": None,
    "prioriteringar": [5, 8, 10],
    "framtidstro": 4,
    "bo_kvar": 2,
    "forandra": "Fler bussturer mellan Kramfors och Härnösand på kvällarna, och billigare busskort.",
    "attraktivt": "Naturen och lugnet, Höga kusten.",
    "flytta_varfor": "Jobb",
    "kanal": 1,
    "consent_quote": 1,
}


def form_body() -> str:
    from urllib.parse import urlencode

    pairs: list[tuple[str, str]] = []
    for code, value in ANSWERS.items():
        if value is None:
            pairs.append((code, "dk"))
        elif isinstance(value, list):
            pairs.extend((code, str(v)) for v in value)
        else:
            pairs.append((code, str(value)))
    return urlencode(pairs)


def prepare_database(count_drafts: int) -> tuple[int, int]:

    from consult.db import session_scope
    from consult.demo.service import ensure_structure, read_fixture
    from consult.migrate import upgrade
    from consult.surveys.service import load_spec, save_survey

    upgrade()
    with session_scope() as session:
        ensure_structure(session, read_fixture())
        if load_spec(session, slug="bench-onepage") is None:
            save_survey(session, spec=one_page_spec())
    with session_scope() as session:
        demo_id = load_spec(session, slug="vasternorrland-2030").id  # type: ignore[union-attr]
        bench_id = load_spec(session, slug="bench-onepage").id  # type: ignore[union-attr]
    return demo_id, bench_id


def make_drafts(survey_id: int, count: int, tokens_file: Path, threads: int = 2) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from consult.db import session_scope
    from consult.responses.models import ResponseDraft

    now = datetime.now(UTC)
    rows = []
    with tokens_file.open("w") as handle:
        for n in range(count):
            token = uuid.uuid4().hex.upper()
            handle.write(f"{n % threads + 1} {token}\n")
            rows.append(
                {
                    "token": token,
                    "survey_id": survey_id,
                    "client_uuid": str(uuid.uuid4()),
                    "language": "sv",
                    "channel": "web",
                    "answers": {},
                    "page": 1,
                    "started_at": now,
                    "expires_at": now + timedelta(days=7),
                }
            )
    with session_scope() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(ResponseDraft.__table__), rows[start : start + 5000])


def count_responses(survey_id: int) -> int:
    from sqlalchemy import func, select

    from consult.db import get_engine
    from consult.responses.models import Response

    with get_engine().connect() as connection:
        return connection.execute(
            select(func.count()).select_from(Response).where(Response.survey_id == survey_id)
        ).scalar_one()


def count_partial(survey_id: int) -> int:
    """Responses stored without all their answers: must be zero."""
    from sqlalchemy import func, select

    from consult.db import get_engine
    from consult.responses.models import Answer, Response

    with get_engine().connect() as connection:
        per_response = (
            select(Response.id, func.count(Answer.id).label("n"))
            .join(Answer, Answer.response_id == Response.id, isouter=True)
            .where(Response.survey_id == survey_id)
            .group_by(Response.id)
            .subquery()
        )
        return connection.execute(
            select(func.count()).select_from(per_response).where(per_response.c.n < len(ANSWERS))
        ).scalar_one()


ROUNDS = 3


def paired(
    endpoint: Callable[[int, int], dict[str, float]], hello: Callable[[int], dict[str, float]], seconds: int
) -> dict[str, float]:
    """An endpoint's figures and those of hello world measured around them: the endpoint's time is
    split into ROUNDS rounds, each between two rounds of hello world.

    The machine's speed drifts during a run, by more than most changes measured here; when hello
    world ran once at the start, an endpoint measured a minute later was compared with another
    machine. Each round of the endpoint gets the conditions of the hello-world rounds either side
    of it. `endpoint(seconds, round)` runs one round."""
    share = max(1, round(seconds / ROUNDS))
    hellos = [hello(share)]
    rounds = []
    for number in range(ROUNDS):
        rounds.append(endpoint(share, number))
        hellos.append(hello(share))
    figures = combined(rounds)
    figures["hello_rps"] = combined(hellos)["rps"]
    figures["hello_cpu_us"] = combined(hellos)["cpu_us"]
    return figures


def combined(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Rounds of equal length as one: mean rate, the mean median, the worst p99 (percentiles do
    not average), CPU per request weighted by requests, and summed counts."""
    total = sum(r["rps"] for r in rounds) or 1.0
    figures: dict[str, float] = {
        "rps": total / len(rounds),
        "p50_ms": sum(r["p50_ms"] for r in rounds) / len(rounds),
        "p99_ms": max(r["p99_ms"] for r in rounds),
    }
    for key in ("cpu_us", "db_cpu_us"):
        figures[key] = sum(r.get(key, 0.0) * r["rps"] for r in rounds) / total
    for key in ("acked", "other", "non_2xx_3xx"):
        figures[key] = sum(r[key] for r in rounds) if all(r[key] >= 0 for r in rounds) else -1
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="per endpoint (and as much again of hello world)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", help="comma-separated endpoints to measure (default: all)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    workdir, database_url = bench_environment("consult-bench-")
    sys.path.insert(0, str(ROOT))
    demo_id, bench_id = prepare_database(0)
    # Each round of form submissions posts to drafts of its own (a posted draft is gone).
    token_files = [workdir / f"tokens{number}.txt" for number in range(ROUNDS)]
    for tokens in token_files:
        make_drafts(bench_id, 40_000, tokens)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "consult", "serve", "--port", str(port), "--workers", str(args.workers)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import httpx

        for _ in range(100):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        # A CSRF cookie and token, as a browser has after opening the start page.
        with httpx.Client(base_url=base) as client:
            html = client.get("/s/bench-onepage").text
            csrf = re.search(r'name="csrftoken" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
            cookie = f"csrftoken={client.cookies['csrftoken']}"
            started = client.post("/s/bench-onepage/start", data={"csrftoken": csrf})
            page_url = started.headers["location"]  # the first question page of the new response
            assert client.get(page_url).status_code == 200, "the question page must answer 200"

        api_body = json.dumps({"client_uuid": "CLIENT_UUID", "language": "sv", "answers": ANSWERS}, ensure_ascii=False)
        api_script = workdir / "api.lua"
        api_script.write_text(
            LUA_API % {"body": api_body.replace("'", "\\'"), "path": "/api/surveys/vasternorrland-2030/responses"}
        )
        form_scripts = [workdir / f"form{number}.lua" for number in range(ROUNDS)]
        for script, tokens in zip(form_scripts, token_files, strict=True):
            script.write_text(
                LUA_FORM
                % {
                    "tokens": tokens,
                    "slug": "bench-onepage",
                    "cookie": cookie,
                    "form": f"csrftoken={csrf}&{form_body()}&action=next",
                }
            )

        pid = server.pid
        wrk(base + "/healthz", 2)  # warm up

        def hello(seconds: int) -> dict[str, float]:
            return wrk(base + "/healthz", seconds, server_pid=pid)

        def get(path: str, *headers: str) -> Callable[[int, int], dict[str, float]]:
            return lambda seconds, _round: wrk(base + path, seconds, server_pid=pid, headers=headers)

        before = count_responses(demo_id)
        endpoints: dict[str, Callable[[int, int], dict[str, float]]] = {
            "start_page": get("/s/vasternorrland-2030"),
            # As the respondent's browser asks for it: with the cookie it got on the start page.
            "question_page": get(page_url, f"Cookie: {cookie}"),
            # The same page from a browser without the cookie (a resume link opened elsewhere): the
            # CSRF layer makes and signs a new token for it.
            "question_nocookie": get(page_url),
            "submit_api": lambda seconds, _round: wrk(base + "/", seconds, api_script, server_pid=pid),
            "submit_form": lambda seconds, number: wrk(base + "/", seconds, form_scripts[number], server_pid=pid),
        }
        chosen = args.only.split(",") if args.only else list(endpoints)
        results = {name: paired(run, hello, args.seconds) for name, run in endpoints.items() if name in chosen}
        if "submit_api" in results:
            results["submit_api"]["stored"] = count_responses(demo_id) - before
            results["submit_api"]["partial"] = count_partial(demo_id)
        if "submit_form" in results:
            results["submit_form"]["stored"] = count_responses(bench_id)
            results["submit_form"]["partial"] = count_partial(bench_id)
    finally:
        server.terminate()
        server.wait(20)

    report(results, backend="PostgreSQL" if database_url.startswith("postgresql") else "SQLite", args=args)
    discard(workdir, database_url)


def report(results: dict[str, dict[str, float]], *, backend: str, args: argparse.Namespace) -> None:
    print(f"\nconsult HTTP benchmark: {backend}, {args.workers} workers, wrk {CONNECTIONS} conns, {args.seconds}s")
    print(f"per endpoint in {ROUNDS} rounds, each between two rounds of hello world")
    header = ["endpoint", "req/s", "hello req/s", "vs hello", "p50 ms", "p99 ms", "cpu us/req", "cpu ratio"]
    header += ["db us/req", "acked", "stored"]
    print(f"{header[0]:<18}" + "".join(f"{h:>12}" for h in header[1:]))
    for name, row in results.items():
        acked = int(row["acked"]) if row.get("acked", -1) >= 0 else ""
        cells = [f"{row['rps']:.0f}", f"{row['hello_rps']:.0f}", f"{row['rps'] / row['hello_rps']:.0%}"]
        cells += [f"{row['p50_ms']:.1f}", f"{row['p99_ms']:.1f}", f"{row['cpu_us']:.0f}"]
        cells += [f"{row['hello_cpu_us'] / row['cpu_us']:.0%}", f"{row['db_cpu_us']:.0f}"]
        cells += [str(acked), str(row.get("stored", ""))]
        print(f"{name:<18}" + "".join(f"{c:>12}" for c in cells))
    print("hello req/s: hello world's rate in the rounds around the endpoint's; vs hello: the ratio of the two.")
    print("p99: the worst round's. cpu us/req: CPU time of the server's processes per request served; cpu")
    print("ratio: hello world's CPU per request over the endpoint's, which is what the req/s ratio tends to")
    print("on an idle machine. db us/req: CPU time of the local PostgreSQL server's processes per request")
    print("(0 on SQLite, whose work is in the server's processes); it shares the same two cores.")
    for name in ("submit_api", "submit_form"):
        if name not in results:
            continue
        row = results[name]
        # wrk stops at its deadline without reading replies still in flight, so up to one
        # request per connection and round may be stored but not counted as acknowledged.
        in_flight = int(row["stored"] - row["acked"])
        verdict = "OK" if 0 <= in_flight <= CONNECTIONS * ROUNDS and row["partial"] == 0 else "MISMATCH"
        print(
            f"{name}: acknowledged {int(row['acked'])}, stored {row['stored']} ({in_flight} in flight at the "
            f"cut-offs), partial {row['partial']}, lost {max(0, -in_flight)}: {verdict}"
        )


def bench_environment(prefix: str) -> tuple[Path, str]:
    """A temp folder and a fresh database (SQLite there, or a new PostgreSQL database when
    CONSULT_BENCH_DATABASE_URL is set), exported for the server processes the benchmark starts."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    database_url = fresh_database(workdir)
    os.environ.update(
        CONSULT_DATABASE_URL=database_url,
        CONSULT_VAR_DIR=str(workdir / "var"),
        CONSULT_SECRET_KEY="bench-secret",
        CONSULT_SUBMIT_RATE="10000000/minute",  # the load comes from one address by design
    )
    return workdir, database_url


if __name__ == "__main__":
    main()
