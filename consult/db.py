"""Database engine and sessions, for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from consult.config import get_settings


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets readers run while one writer commits; busy_timeout makes the
            # second worker process wait for the lock instead of failing.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Reads of the large answer indexes (the workspace's aggregates) go through the page
            # cache instead of read() calls: about a fifth less CPU for a full aggregate.
            cursor.execute("PRAGMA mmap_size=268435456")
            # Checkpoints run in a thread of their own (WalCheckpointer); a commit that crosses
            # this many pages of WAL still checkpoints itself, so the WAL stays bounded without it.
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            cursor.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


WAL_AUTOCHECKPOINT_PAGES = 10_000  # 40 MB of WAL
CHECKPOINT_SECONDS = 0.5


class WalCheckpointer:
    """Copies SQLite's write-ahead log into the database file from a thread of its own.

    Left to SQLite, the commit that fills the log past a threshold does the checkpoint: it copies
    the changed pages and waits for two fsyncs, and on the batch writer's event loop every request
    of the process waits with it. In this thread the copy runs beside the loop (the driver releases
    the GIL), and a passive checkpoint never blocks a writer or a reader."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if is_sqlite(self.engine) and self.thread is None:
            self.thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(5)
            self.thread = None

    def _run(self) -> None:
        while not self.stopping.wait(CHECKPOINT_SECONDS):
            try:
                with self.engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # noqa: BLE001 - the commits' own checkpoints take over meanwhile
                continue


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on any error, so nothing is stored in part."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


# --- what belongs to one transaction ---------------------------------------------------------------
TRANSACTION_MEMO = "consult_transaction"


def transaction_memo(session: Session) -> dict[str, Any]:
    """A dict for what holds only while this session's transaction lasts (figures read in it, whether
    it wrote), emptied when the transaction ends; a write empties the figures too."""
    return session.info.setdefault(TRANSACTION_MEMO, {})


def note_write(session: Session) -> None:
    """Called by whatever writes past the ORM's events (plain DBAPI inserts)."""
    memo = transaction_memo(session)
    memo.clear()  # what was read before may have changed
    memo["wrote"] = True


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    note_write(session)


@event.listens_for(Session, "do_orm_execute")
def _executed(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        note_write(state.session)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(TRANSACTION_MEMO, None)


def has_uncommitted_writes(session: Session) -> bool:
    """A second connection (work done beside the request's own, see consult.workspace) sees only what
    is committed, so it may help only while this session's transaction has written nothing."""
    return bool(transaction_memo(session).get("wrote"))


_lock_file = None
_thread_lock = threading.Lock()
LOCK_POLL_SECONDS = 0.0005


def _lock_file_handle():  # type: ignore[no-untyped-def]
    global _lock_file
    if _lock_file is None:
        _lock_file = open(get_settings().var_dir / "write.lock", "a+b")  # noqa: SIM115 - held for the process
    return _lock_file


@contextmanager
def write_lock() -> Iterator[None]:
    """Serialise SQLite writers across worker processes with a blocking file lock.

    SQLite lets one writer in at a time and makes the others poll with growing sleeps (up to
    100 ms each), which shows up as long tail latencies under load. Waiting on an OS lock
    wakes the next writer the moment the previous one commits. PostgreSQL needs no such lock.
    """
    if not is_sqlite(get_engine()):
        yield
        return
    with _thread_lock:
        handle = _lock_file_handle()
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@asynccontextmanager
async def write_turn() -> AsyncIterator[None]:
    """write_lock for code on the event loop: waits for the other threads and processes by
    polling, so the loop keeps serving requests until this process's turn comes."""
    if not is_sqlite(get_engine()):
        yield
        return
    while not _thread_lock.acquire(blocking=False):
        await asyncio.sleep(LOCK_POLL_SECONDS)
    try:
        handle = _lock_file_handle()
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        _thread_lock.release()


_readers = threading.local()


def _reader_connection(engine: Engine, *, fresh: bool = False) -> Any:
    """This thread's own DBAPI connection for fetch_one, taken out of the pool once and kept:
    checking a connection out of the pool and back in cost more than the query."""
    held = getattr(_readers, "held", None)
    if fresh or held is None or held[0] is not engine:
        if held is not None:
            with contextlib.suppress(Exception):
                held[1].close()
        fairy = engine.raw_connection()
        fairy.detach()  # the pool forgets it and will open another when it needs one
        connection = fairy.dbapi_connection
        if not is_sqlite(engine):
            connection.autocommit = True  # a lone SELECT needs no transaction, nor a COMMIT round trip
        held = (engine, connection)
        _readers.held = held
    return held[1]


def fetch_one(sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """One row as a dict, read straight through a DBAPI connection.

    For the few reads on every survey page view: SQLAlchemy's execution and result layers cost
    ten times the query itself there. `sql` uses :name parameters; values come back as the
    driver gives them (SQLite: JSON and timestamps as text). A connection that went bad (the
    database restarted) is replaced once."""
    engine = get_engine()
    if not is_sqlite(engine):
        sql = _NAMED_PARAMETER.sub(r"%(\1)s", sql)
    for attempt in range(2):
        connection = _reader_connection(engine, fresh=attempt > 0)
        try:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            row = cursor.fetchone()
            # The column names depend on the statement alone; psycopg builds a description
            # object per column on every call (a third of a draft read's time on PostgreSQL).
            names = _column_names.get(sql)
            if names is None:
                names = _column_names[sql] = tuple(column[0] for column in cursor.description or ())
            cursor.close()
            return dict(zip(names, row, strict=True)) if row is not None else None
        except engine.dialect.loaded_dbapi.OperationalError:
            if attempt:
                raise
    return None


_NAMED_PARAMETER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_column_names: dict[str, tuple[str, ...]] = {}


class KeyedReads:
    """Rows looked up by one key column, for requests on the event loop: on PostgreSQL the lookups
    that arrive while one is in flight go to the database together, as one query for all their keys.

    Every survey page view reads its draft. On PostgreSQL each such read was a round trip made
    while the event loop waited, and the round trip itself (client and server each waking for
    it) cost as much CPU as the rest of the page. Batched like the writes (see
    consult.responses.writer), a busy worker pays one round trip for many page views, and the loop
    serves other requests while it is out. The first read after a quiet spell goes at once, so
    nothing waits for company. On SQLite a read is a local call of some 15 µs and stays direct.

    `select` is the statement up to its WHERE clause; rows come back as dicts by column name.
    Each event loop has its own queue and connection (tests run several loops, in turn or in
    threads)."""

    def __init__(self, select: str, key_column: str) -> None:
        self.select = select
        self.key_column = key_column
        self._loops: dict[asyncio.AbstractEventLoop, _LoopReads] = {}

    async def get(self, key: Any) -> dict[str, Any] | None:
        engine = get_engine()
        if is_sqlite(engine):
            return fetch_one(f"{self.select} WHERE {self.key_column} = :key", {"key": key})
        loop = asyncio.get_running_loop()
        reads = self._loops.get(loop) or self._start(loop)
        future = loop.create_future()
        reads.pending.setdefault(key, []).append(future)
        if not reads.draining:
            reads.draining = True
            loop.create_task(self._drain(reads, engine))
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> _LoopReads:
        for old_loop in [known for known in self._loops if known.is_closed()]:
            self._loops.pop(old_loop).finish()
        reads = self._loops[loop] = _LoopReads()
        return reads

    async def _drain(self, reads: _LoopReads, engine: Engine) -> None:
        try:
            while reads.pending:
                batch, reads.pending = reads.pending, {}
                try:
                    rows = await self._rows(reads, engine, list(batch))
                except Exception as error:  # noqa: BLE001 - each waiting request gets the error
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(error)
                    continue
                for key, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(rows.get(key))
        finally:
            reads.draining = False

    async def _rows(self, reads: _LoopReads, engine: Engine, keys: list[Any]) -> dict[Any, dict[str, Any]]:
        # One statement text for any number of keys, so the server keeps it prepared.
        sql = f"{self.select} WHERE {self.key_column} = ANY(%s)"
        for attempt in range(2):
            if reads.connection is None or attempt:
                reads.finish()
                import psycopg

                url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                reads.connection = await psycopg.AsyncConnection.connect(url, autocommit=True)
            try:
                cursor = await reads.connection.execute(sql, (keys,))
                names = [column.name for column in cursor.description or ()]
                rows = [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]
                return {row[self.key_column]: row for row in rows}
            except engine.dialect.loaded_dbapi.OperationalError:
                if attempt:
                    raise
        return {}

    async def close(self) -> None:
        """Close the running loop's connection (at the end of the app's lifespan)."""
        reads = self._loops.pop(asyncio.get_running_loop(), None)
        if reads is not None and reads.connection is not None:
            with contextlib.suppress(Exception):
                await reads.connection.close()


class _LoopReads:
    def __init__(self) -> None:
        self.pending: dict[Any, list[asyncio.Future]] = {}
        self.draining = False
        self.connection: Any = None

    def finish(self) -> None:
        """Close the connection without its loop (which may be gone)."""
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.pgconn.finish()
            self.connection = None


def get_session() -> Iterator[Session]:
    """FastAPI dependency."""
    with session_scope() as session:
        yield session


def lock_for_update(session: Session, model: Any, *where: Any) -> None:
    """Take the write lock on rows before reading them to change them, so that two saves of the same
    thing at once (a double click, two analysts) run one after the other instead of colliding on a
    constraint. A no-op update: on PostgreSQL it locks the rows until the commit, on SQLite it takes
    the database's write lock. It must come before the transaction's first read of those rows."""
    session.execute(update(model).where(*where).values({model.id: model.id}),
                    execution_options={"synchronize_session": False})

