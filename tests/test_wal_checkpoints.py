"""SQLite's write-ahead log is copied into the database file by a thread of its own, not by the
commit that happens to fill it (that commit's request, and every other on its event loop, would
wait for the copy and its fsyncs)."""

from __future__ import annotations

import time
from pathlib import Path

from consult.db import WalCheckpointer, make_engine


def _rows(connection, count: int) -> None:  # type: ignore[no-untyped-def]
    connection.exec_driver_sql("INSERT INTO note (body) VALUES (?)", [("x" * 200,) for _ in range(count)])


def test_commits_leave_the_log_to_the_checkpointer_thread(tmp_path: Path) -> None:
    database = tmp_path / "notes.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    with engine.begin() as connection:
        _rows(connection, 20_000)  # about 1,200 pages: past SQLite's default threshold of 1,000
    # The commits did not copy the log into the database file themselves.
    assert database.stat().st_size < 100_000
    checkpointer = WalCheckpointer(engine)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while database.stat().st_size < 4_000_000 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        checkpointer.stop()
    assert database.stat().st_size >= 4_000_000
    assert checkpointer.thread is None
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM note").scalar_one() == 20_000
    engine.dispose()


def test_the_checkpointer_does_nothing_on_postgresql() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    checkpointer = WalCheckpointer(engine)
    checkpointer.start()
    assert checkpointer.thread is None
    checkpointer.stop()
