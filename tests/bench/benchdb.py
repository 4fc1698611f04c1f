"""The database a benchmark runs on: SQLite in its temp folder, or a new PostgreSQL database when
CONSULT_BENCH_DATABASE_URL names a server (created for the run and dropped after it)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

SERVER = "CONSULT_BENCH_DATABASE_URL"


def fresh_database(workdir: Path, prefix: str = "consult_bench") -> str:
    """The URL of an empty database for one run."""
    server = os.environ.get(SERVER, "")
    if not server.startswith("postgresql"):
        return f"sqlite:///{workdir / 'bench.db'}"
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{_admin(server).rpartition('/')[0]}/{name}"


def drop_database(url: str) -> None:
    """Drop a PostgreSQL database made by fresh_database (SQLite files go with the temp folder)."""
    if not url.startswith("postgresql"):
        return
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(_admin(os.environ[SERVER]), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def discard(workdir: Path, url: str) -> None:
    """Drop the run's database and delete its temp folder: the SQLite file and the exports go with it
    (a run of the workspace benchmark leaves some 200 MB)."""
    drop_database(url)
    shutil.rmtree(workdir, ignore_errors=True)


def _admin(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def database_server_cpu_seconds() -> float:
    """User plus system CPU time of every PostgreSQL process on this machine (0 on SQLite, whose
    work is in the benchmark's own process). The benchmarks' database server runs locally, so this
    is the share of the two cores the database takes."""
    if not os.environ.get(SERVER, "").startswith("postgresql"):
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, _, tail = (entry / "stat").read_text().rpartition(")")
        except OSError:
            continue
        if head.partition("(")[2] == "postgres":
            fields = tail.split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total
