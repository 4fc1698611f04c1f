"""One writer per worker process that commits many responses in one transaction.

Every request validates on its own, then hands its clean response to this writer and awaits
the result. The writer takes whatever has queued up since its last commit and stores it in one
transaction, so under load the database sees a few large commits instead of many small ones,
and a response is acknowledged only after the commit that stored it.

On SQLite the batch is written on the event loop itself, once this process has its turn at
the write lock: the work is local CPU, and in a thread it would compete with the loop for the
GIL after every database call while holding the lock, so the other worker processes would wait
through those hand-offs too (at 64 connections a batch took four times its CPU time that way).
On PostgreSQL a batch mostly waits for the network and the server's commit, so it runs in a
thread and the loop keeps serving requests meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from consult.db import get_engine, is_sqlite, write_lock, write_turn

log = logging.getLogger(__name__)

MAX_BATCH = 200
# On PostgreSQL, while submissions keep arriving, the writer waits this long before taking a batch,
# as the server's own commit_delay does: batches grow from about 9 responses to about 20, and each
# transaction's fixed costs (its round trips, the thread hand-offs, the commit) are shared by more
# responses. With 64 concurrent clients the app's CPU per submission fell by 10-15% (see
# docs/performance.md). On SQLite the batch waits for the write lock anyway, and waiting more
# only cost throughput.
COMMIT_DELAY = 0.006
DEBUG = bool(os.environ.get("CONSULT_WRITER_DEBUG"))


@dataclass
class _Job:
    kind: str
    payload: Any
    future: asyncio.Future


# kind -> function(session, payloads) -> results, run in the writer's thread
Handler = Callable[[Any, list[Any]], list[Any]]


class BatchWriter:
    def __init__(self, session_factory: Callable[[], Any], handlers: dict[str, Handler]) -> None:
        self.session_factory = session_factory
        self.handlers = handlers
        self.queue: asyncio.Queue[_Job] | None = None
        self.task: asyncio.Task | None = None
        self.turn_at = 0.0  # when the current batch got the write lock (for CONSULT_WRITER_DEBUG)
        self.write_on_loop = True

    async def start(self) -> None:
        self.write_on_loop = is_sqlite(get_engine())
        self.queue = asyncio.Queue()
        self.task = asyncio.create_task(self._run(), name="batch-writer")

    async def stop(self) -> None:
        if self.task:
            # Let queued work finish so nothing acknowledged is lost on a graceful stop.
            assert self.queue is not None
            await self.queue.join()
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def submit(self, kind: str, payload: Any) -> Any:
        if (
            self.queue is None
            or self.task is None
            or self.task.done()
            or self.task.get_loop() is not asyncio.get_running_loop()
        ):
            # No running writer on this event loop (a script, or a test client without lifespan
            # beside one with it): write directly. A queue and its futures belong to one loop.
            return await asyncio.to_thread(self._write_each, kind, [payload])
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        await self.queue.put(_Job(kind, payload, future))
        return await future

    async def _run(self) -> None:
        assert self.queue is not None
        busy = False  # whether the last batch had company: a lone respondent never waits
        while True:
            jobs = [await self.queue.get()]
            if busy and not self.write_on_loop:
                await asyncio.sleep(COMMIT_DELAY)
            while len(jobs) < MAX_BATCH and not self.queue.empty():
                jobs.append(self.queue.get_nowait())
            busy = len(jobs) > 1
            try:
                t0 = time.perf_counter()
                await self._write_batch(jobs)
                if DEBUG:
                    now = time.perf_counter()
                    waited, wrote = (self.turn_at - t0) * 1000, (now - self.turn_at) * 1000
                    log.warning("batch %d: waited %.1f ms, wrote %.1f ms", len(jobs), waited, wrote)
            except Exception:  # noqa: BLE001 - one bad batch must not stop the writer
                log.exception("batch writer failed")
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(RuntimeError("write failed"))
            finally:
                for _ in jobs:
                    self.queue.task_done()

    async def _write_batch(self, jobs: list[_Job]) -> None:
        by_kind: dict[str, list[_Job]] = {}
        for job in jobs:
            by_kind.setdefault(job.kind, []).append(job)
        try:
            async with write_turn():
                self.turn_at = time.perf_counter()
                if self.write_on_loop:
                    outcomes = self._store(by_kind)
                else:
                    outcomes = await asyncio.to_thread(self._store, by_kind)
        except (IntegrityError, OperationalError):
            # A concurrent writer in another process, or a lock we could not get: fall back to
            # one transaction per job so each request still gets its own correct answer.
            for job in jobs:
                self._settle(job, lambda job=job: self._write_each(job.kind, [job.payload]))
            return
        for kind, group in by_kind.items():
            for job, result in zip(group, outcomes[kind], strict=True):
                self._resolve(job, result)

    def _store(self, by_kind: dict[str, list[_Job]]) -> dict[str, list[Any]]:
        with self.session_factory() as session:
            outcomes = {kind: self.handlers[kind](session, [j.payload for j in jobs]) for kind, jobs in by_kind.items()}
            session.commit()
        return outcomes

    def _settle(self, job: _Job, work: Callable[[], Any]) -> None:
        try:
            self._resolve(job, work())
        except Exception as exc:  # noqa: BLE001
            self._fail(job, exc)

    def _write_each(self, kind: str, payloads: list[Any]) -> Any:
        last_error: Exception | None = None
        for _attempt in range(5):
            try:
                with write_lock(), self.session_factory() as session:
                    result = self.handlers[kind](session, payloads)
                    session.commit()
                    return result[0]
            except (IntegrityError, OperationalError) as exc:
                last_error = exc
        raise RuntimeError("could not write") from last_error

    # Both run on the event loop, which owns the futures.
    @staticmethod
    def _resolve(job: _Job, result: Any) -> None:
        if not job.future.done():
            job.future.set_result(result)

    @staticmethod
    def _fail(job: _Job, exc: Exception) -> None:
        if not job.future.done():
            job.future.set_exception(exc)
