"""Backups and restores: SQLite's online backup API, pg_dump/pg_restore for PostgreSQL."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import Engine, make_url

from consult.responses.models import Answer


class BackupError(RuntimeError):
    pass


def _sqlite_path(engine: Engine) -> str:
    database = engine.url.database
    if not database:
        raise BackupError("in-memory SQLite databases cannot be backed up")
    return database


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not candidates:
        raise BackupError(f"{name} was not found; install the PostgreSQL client tools")
    return str(candidates[-1])


def _pg_args(engine: Engine) -> list[str]:
    url = make_url(engine.url.render_as_string(hide_password=False)).set(drivername="postgresql")
    return ["--dbname", url.render_as_string(hide_password=False)]


def backup(engine: Engine, destination: Path) -> None:
    """Write a consistent copy of the database while it keeps serving."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path(engine))
        target = sqlite3.connect(destination)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    result = subprocess.run(
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(destination), *_pg_args(engine)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or "pg_dump failed")


def restore(engine: Engine, source: Path) -> None:
    """Replace the database's contents with a backup made by `backup`."""
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    engine.dispose()
    if engine.dialect.name == "sqlite":
        backup_db = sqlite3.connect(source)
        try:
            backup_db.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite backup") from exc
        target = sqlite3.connect(_sqlite_path(engine))
        try:
            backup_db.backup(target)
        finally:
            target.close()
            backup_db.close()
        return
    result = subprocess.run(
        [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", *_pg_args(engine), str(source)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or "pg_restore failed")


def answers_checksum(engine: Engine) -> tuple[int, str]:
    """Count and SHA-256 of every answer, in a stable order: proves a restore is complete."""
    digest = hashlib.sha256()
    count = 0
    columns = (Answer.response_id, Answer.question_id, Answer.choice, Answer.number, Answer.text, Answer.dont_know)
    with engine.connect() as connection:
        for row in connection.execute(select(*columns).order_by(Answer.response_id, Answer.question_id)):
            digest.update(repr(tuple(row)).encode())
            count += 1
    return count, digest.hexdigest()


def table_counts(engine: Engine) -> dict[str, int]:
    from consult.tables import metadata

    with engine.connect() as connection:
        return {
            name: connection.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
            for name in sorted(metadata.tables)
        }
