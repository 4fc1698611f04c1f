"""Background runs of the theme analysis, recorded in the database (no message broker).

A run is a row in ``theme_run``. Any worker process may pick up a queued run: on PostgreSQL with
``SELECT … FOR UPDATE SKIP LOCKED`` (two workers never wait for, or take, the same row), on SQLite
with an ``UPDATE … WHERE status = 'queued'`` that only one process can win. The job reports its
progress and a heartbeat in the row, checks the row's cancel flag between the engine's steps, and
stores candidate themes, assignments and the fitted model when done. A run whose heartbeat stops
(its process died) is marked failed, so the question can be analysed again.

Where the work happens: each web process has at most one daemon worker thread, started lazily
(``ensure_worker``) by the first request to a theme page and whenever a run is queued, so nothing
in consult/app.py has to change and a process that never serves theme pages never polls. The
thread polls for queued runs every couple of seconds and ends after a few idle minutes; the next
theme request starts it again. Analysis runs with BLAS/OpenMP limited to one thread so it does
not starve the web workers on a small machine.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from sqlalchemy import select, update
from threadpoolctl import threadpool_limits

from consult.core.fields import utcnow
from consult.db import session_scope, write_lock
from consult.themes import service
from consult.themes.models import RunKind, RunStatus, ThemeRun

log = logging.getLogger(__name__)
run_table = ThemeRun.__table__

POLL_SECONDS = 1.0
IDLE_EXIT_SECONDS = 300.0
HEARTBEAT_SECONDS = 20.0
PROGRESS_EVERY_SECONDS = 0.5


class RunCancelled(Exception):  # noqa: N818 - it is a signal, not an error
    """The analyst cancelled the run; raised from the progress callback between engine steps."""


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


# --- claiming ---------------------------------------------------------------------------------------------


def claim_next() -> int | None:
    """Take the oldest queued run for this process, or None. Safe with any number of processes."""
    with session_scope() as session:
        service.fail_stale_runs(session)
    with write_lock(), session_scope() as session:
        query = (select(run_table.c.id).where(run_table.c.status == RunStatus.queued.value)
                 .order_by(run_table.c.id).limit(1))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        run_id = session.execute(query).scalar()
        if run_id is None:
            return None
        now = utcnow()
        won = session.execute(
            update(run_table).where(run_table.c.id == run_id, run_table.c.status == RunStatus.queued.value)
            .values(status=RunStatus.running.value, started_at=now, heartbeat_at=now, worker=worker_name(),
                    progress=1, step="starting")
        ).rowcount
        return int(run_id) if won == 1 else None


def _set(run_id: int, **values: Any) -> None:
    with session_scope() as session:
        session.execute(update(run_table).where(run_table.c.id == run_id).values(**values))


def _cancel_requested(run_id: int) -> bool:
    with session_scope() as session:
        return bool(session.execute(select(run_table.c.cancel_requested).where(run_table.c.id == run_id)).scalar())


class _Reporter:
    """The engine's progress callback: writes progress to the run (throttled) and stops the run
    when an analyst has asked to cancel it."""

    def __init__(self, run_id: int, low: int, high: int) -> None:
        self.run_id, self.low, self.high = run_id, low, high
        self._last = 0.0
        self._step = ""

    def __call__(self, step: str, fraction: float) -> None:
        now = time.monotonic()
        if step == self._step and now - self._last < PROGRESS_EVERY_SECONDS:
            return
        self._last, self._step = now, step
        if _cancel_requested(self.run_id):
            raise RunCancelled
        percent = int(self.low + (self.high - self.low) * max(0.0, min(1.0, fraction)))
        _set(self.run_id, progress=percent, step=step[:60], heartbeat_at=utcnow())


class _Heartbeat:
    """Keeps the run's heartbeat fresh while a long engine step runs without reporting."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"theme-heartbeat-{run_id}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                _set(self.run_id, heartbeat_at=utcnow())
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                log.exception("theme run %s: heartbeat failed", self.run_id)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


# --- running ----------------------------------------------------------------------------------------------


def execute(run_id: int) -> str:
    """Run a claimed run to its end; returns the final status. Never raises."""
    try:
        with _Heartbeat(run_id), threadpool_limits(1):
            with session_scope() as session:
                run = session.get(ThemeRun, run_id)
                assert run is not None
                kind = run.kind
            if kind == RunKind.code.value:
                _run_coding(run_id)
            else:
                _run_discovery(run_id)
        _set(run_id, status=RunStatus.done.value, progress=100, step="done", finished_at=utcnow())
        return RunStatus.done.value
    except RunCancelled:
        _set(run_id, status=RunStatus.cancelled.value, step="cancelled", finished_at=utcnow())
        return RunStatus.cancelled.value
    except Exception as error:  # noqa: BLE001 - the run records the failure for the analyst
        log.exception("theme run %s failed", run_id)
        message = str(error) if isinstance(error, service.ThemeError | ValueError) else type(error).__name__
        _set(run_id, status=RunStatus.failed.value, step="failed", finished_at=utcnow(), error=message[:2000])
        return RunStatus.failed.value


def _run_discovery(run_id: int) -> None:
    from analysis.pipeline import analyse_question, parse_k

    with session_scope() as session:
        run = session.get(ThemeRun, run_id)
        assert run is not None
        frame = service.answers_frame(session, question_id=run.question_id)
        consent_known = service.consent_is_known(session, question_id=run.question_id)
        strategy = (service.strategy_for(session, version_id=run.strategy_version_id)
                    if run.strategy_version_id else None)
        params, random_state = dict(run.params), run.random_state
    if len(frame) < service.MIN_ANSWERS:
        raise service.ThemeError("too few written answers")
    report = _Reporter(run_id, 5, 85)
    report("loading answers", 0.0)
    result = analyse_question(service.engine_frame(frame, consent_known), "text", "response_id",
                              lang=params.get("lang", "auto"), k=parse_k(params.get("k", "auto")),
                              strategy=strategy, random_state=random_state, progress=report)
    _Reporter(run_id, 85, 100)("storing themes", 0.0)
    with write_lock(), session_scope() as session:
        run = session.get(ThemeRun, run_id)
        assert run is not None
        if run.cancel_requested:
            raise RunCancelled
        service.store_discovery(session, run=run, result=result)
        session.add(run)


def _run_coding(run_id: int) -> None:
    from analysis.coding import AssistedCoder
    from analysis.strategy_map import concepts_of

    with session_scope() as session:
        run = session.get(ThemeRun, run_id)
        assert run is not None
        question_id, user_id = run.question_id, run.started_by_id
        threshold = float(run.params.get("threshold", service.DEFAULT_THRESHOLD))
        service.assign_new_answers(session, question_id=question_id, user_id=user_id, automatic=True)
        frame = service.coding_frame(session, question_id=question_id)
        strategy = (service.strategy_for(session, version_id=run.strategy_version_id)
                    if run.strategy_version_id else None)
        random_state = run.random_state
        # The names the analysts gave their themes are evidence for the coder too (on large questions).
        names = {str(theme.id): theme.label
                 for theme in service.active_themes(session, question_id=question_id)}
    report = _Reporter(run_id, 5, 90)
    report("training the coder", 0.1)
    labels = frame["theme_id"].astype(str).where(frame["reviewed"].astype(bool), None)
    coder = AssistedCoder(lang="auto", threshold=threshold, random_state=random_state,
                          concepts=concepts_of(strategy) if strategy else None, concept_weight=2.0)
    coder.fit(frame["text"].fillna("").tolist(), labels.tolist(), names=names)
    report("coding the answers", 0.7)
    rest = frame[~frame["reviewed"].astype(bool)].reset_index(drop=True)
    predicted = coder.predict(rest["text"].fillna("").tolist()) if len(rest) else None
    report("storing", 0.95)
    with write_lock(), session_scope() as session:
        if _cancel_requested(run_id):
            raise RunCancelled
        summary = {"coded": 0, "needs_review": 0, "threshold": threshold}
        if predicted is not None:
            summary = service.store_coding(session, question_id=question_id, frame=rest, predicted=predicted,
                                           threshold=threshold, run_id=run_id, user_id=user_id)
        run = session.get(ThemeRun, run_id)
        assert run is not None
        run.summary = summary
        run.n_answers = len(frame)
        session.add(run)


# --- the worker thread -------------------------------------------------------------------------------------

_lock = threading.Lock()
_wake = threading.Event()
_stop = threading.Event()
_thread: threading.Thread | None = None


def worker_enabled() -> bool:
    """CONSULT_THEME_WORKER=0 keeps a process from running analyses (for example a process that
    should only serve pages while another does the work)."""
    return os.environ.get("CONSULT_THEME_WORKER", "1") != "0"


def ensure_worker() -> None:
    """Start this process's worker thread if it is not running, else wake it up."""
    global _thread
    if not worker_enabled():
        return
    with _lock:
        if _thread is not None and _thread.is_alive():
            _wake.set()
            return
        _wake.clear()
        _stop.clear()
        _thread = threading.Thread(target=_work, name="theme-worker", daemon=True)
        _thread.start()


def stop_worker(timeout: float = 30.0) -> None:
    """Stop this process's worker thread after its current run (for tests and shutdown)."""
    global _thread
    with _lock:
        thread = _thread
        _stop.set()
        _wake.set()
    if thread is not None:
        thread.join(timeout)
    with _lock:
        if _thread is thread:
            _thread = None


def _work() -> None:
    global _thread
    idle_since = time.monotonic()
    while not _stop.is_set():
        try:
            run_id = claim_next()
        except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
            log.exception("theme worker: claiming a run failed")
            run_id = None
            time.sleep(POLL_SECONDS * 5)
        if run_id is not None:
            execute(run_id)
            idle_since = time.monotonic()
            continue
        if time.monotonic() - idle_since > IDLE_EXIT_SECONDS:
            with _lock:
                if not _wake.is_set():
                    _thread = None
                    return
        _wake.wait(POLL_SECONDS)
        _wake.clear()


def run_pending(limit: int = 10) -> int:
    """Run queued runs in the calling thread (for tests and scripts); returns how many ran."""
    done = 0
    while done < limit:
        run_id = claim_next()
        if run_id is None:
            break
        execute(run_id)
        done += 1
    return done


