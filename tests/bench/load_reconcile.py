"""Load and fault test with reconciliation (issue 8, section 1).

Sends N responses (default 50,000) over 64 connections to `consult serve --workers 2`, logs
every acknowledgement, optionally SIGKILLs a worker process every few seconds (uvicorn's
supervisor starts a new one), and retries failed requests with the same client UUID. Then it
reconciles with the database: every acknowledged response is stored exactly once with the
receipt the client got, and nothing is half-stored.

    .venv/bin/python tests/bench/load_reconcile.py [--responses 50000] [--kill-every 5]
    CONSULT_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5433/postgres \
        .venv/bin/python tests/bench/load_reconcile.py

All traffic goes to 127.0.0.1; the run is bounded by --responses and --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_http import ANSWERS, bench_environment, free_port  # noqa: E402
from benchdb import discard  # noqa: E402

SLUG = "vasternorrland-2030"


def worker_pids(master: int) -> list[int]:
    result = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(p) for p in result.stdout.split()]


def killer(master: int, every: float, stop: threading.Event, kills: list[int]) -> None:
    """SIGKILL one worker every `every` seconds, as a crashing process would die."""
    rng = random.Random(7)
    while not stop.wait(every):
        pids = [p for p in worker_pids(master) if _is_worker(p)]
        if pids:
            victim = rng.choice(pids)
            try:
                os.kill(victim, signal.SIGKILL)
                kills.append(victim)
            except ProcessLookupError:
                pass


def _is_worker(pid: int) -> bool:
    try:
        return (
            "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_text()
            or "consult" in Path(f"/proc/{pid}/cmdline").read_text()
        )
    except OSError:
        return False


class Connection:
    """A bare HTTP/1.1 keep-alive connection: the load generator must cost far less CPU than the
    server it measures, which a full client library does not on a 2-core machine."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        keep_alive = True
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                keep_alive = False
        payload = await self.reader.readexactly(length)
        if not keep_alive:
            await self.close()
        return status, payload


async def send_all(base: str, total: int, concurrency: int, ack_log: Path, max_seconds: float) -> dict:
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    acks: dict[str, str] = {}
    retries = 0
    gave_up: list[str] = []
    counter = iter(range(total))
    deadline = time.monotonic() + max_seconds
    log = ack_log.open("w")
    path = f"/api/surveys/{SLUG}/responses"

    async def one() -> None:
        nonlocal retries
        connection = Connection(host, int(port))
        sent = 0
        for _ in counter:
            client_uuid = str(uuid.uuid4())
            body = json.dumps({"client_uuid": client_uuid, "language": "sv", "answers": ANSWERS}).encode()
            delay = 0.05
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    status, payload = await asyncio.wait_for(connection.post_json(path, body), 15)
                except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
                    status, payload = 0, b""
                    await connection.close()
                if status in (200, 201):
                    latencies.append(time.perf_counter() - started)
                    receipt = json.loads(payload)["receipt"]
                    acks[client_uuid] = receipt
                    log.write(f"{client_uuid} {receipt}\n")
                    sent += 1
                    if sent % 200 == 0:
                        await connection.close()  # reconnect now and then so both workers get connections
                    break
                retries += 1  # connection reset by a killed worker, or a 5xx: resend the same UUID
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
            else:
                gave_up.append(client_uuid)
        await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    log.close()
    latencies.sort()
    return {
        "acked": acks,
        "retries": retries,
        "gave_up": gave_up,
        "seconds": elapsed,
        "rps": len(acks) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else 0,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0,
    }


def reconcile(acked: dict[str, str], gave_up: list[str]) -> dict:
    from sqlalchemy import func, select

    from consult.db import get_engine
    from consult.responses.models import Answer, AnswerSelection, Response

    engine = get_engine()
    expected_answers = len(ANSWERS)
    expected_selections = len(ANSWERS["prioriteringar"])
    stored: dict[str, str] = {}
    with engine.connect() as connection:
        for client_uuid, receipt in connection.execute(select(Response.client_uuid, Response.receipt)):
            stored[client_uuid] = receipt
        answer_counts = dict(
            connection.execute(select(Answer.response_id, func.count()).group_by(Answer.response_id)).all()
        )
        selection_counts = dict(
            connection.execute(
                select(AnswerSelection.response_id, func.count()).group_by(AnswerSelection.response_id)
            ).all()
        )
        ids = dict(connection.execute(select(Response.client_uuid, Response.id)).all())
    missing = [u for u in acked if u not in stored]
    wrong_receipt = [u for u, r in acked.items() if u in stored and stored[u] != r]
    partial = [
        u
        for u, rid in ids.items()
        if answer_counts.get(rid, 0) != expected_answers or selection_counts.get(rid, 0) != expected_selections
    ]
    unacked_stored = [u for u in stored if u not in acked]
    return {
        "acknowledged": len(acked),
        "stored": len(stored),
        "acknowledged_missing": len(missing),
        "wrong_receipt": len(wrong_receipt),
        "partial": len(partial),
        "stored_not_acknowledged": len(unacked_stored),
        "gave_up": len(gave_up),
        "gave_up_stored": len([u for u in gave_up if u in stored]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=0, help="SIGKILL a worker every N seconds (0: never)")
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()

    workdir, database_url = bench_environment("consult-load-")
    from consult.db import session_scope
    from consult.demo.service import ensure_structure, read_fixture
    from consult.migrate import upgrade

    upgrade()
    with session_scope() as session:
        ensure_structure(session, read_fixture())

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "consult", "serve", "--port", str(port), "--workers", str(args.workers)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    stop = threading.Event()
    kills: list[int] = []
    thread = None
    if args.kill_every > 0:
        thread = threading.Thread(target=killer, args=(server.pid, args.kill_every, stop, kills), daemon=True)
        thread.start()
    try:
        result = asyncio.run(send_all(base, args.responses, args.connections, workdir / "acks.log", args.max_seconds))
    finally:
        stop.set()
        if thread:
            thread.join()
        server.send_signal(signal.SIGINT)
        server.wait(30)
    report = reconcile(result["acked"], result["gave_up"])
    from consult.db import get_engine

    get_engine().dispose()
    discard(workdir, database_url)
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    summary = {
        "backend": backend,
        "workers": args.workers,
        "connections": args.connections,
        "worker_kills": len(kills),
        "seconds": round(result["seconds"], 1),
        "acknowledged_per_second": round(result["rps"], 1),
        "p50_ms": round(result["p50_ms"], 1),
        "p99_ms": round(result["p99_ms"], 1),
        "retries": result["retries"],
        **report,
    }
    print(json.dumps(summary, indent=2))
    ok = report["acknowledged_missing"] == 0 and report["wrong_receipt"] == 0 and report["partial"] == 0
    print("RECONCILIATION:", "OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
