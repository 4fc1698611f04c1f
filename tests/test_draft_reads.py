"""Survey page views read their draft through consult.db.KeyedReads: batched on PostgreSQL,
direct on SQLite. Both must give each request its own draft, and nothing for a wrong survey,
an expired draft or an unknown token."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest

from consult.core.fields import utcnow
from consult.db import KeyedReads, get_engine, is_sqlite, session_scope
from consult.responses import drafts
from consult.responses.models import ResponseDraft


def _new_drafts(survey_id: int, count: int, *, expired: bool = False) -> list[str]:
    with session_scope() as session:
        made = [drafts.start_draft(session, survey_id=survey_id, language="sv") for _ in range(count)]
        for index, draft in enumerate(made):
            draft.page = index + 1
            if expired:
                draft.expires_at = utcnow() - timedelta(minutes=1)
        return [draft.token for draft in made]


def _run(make_coroutine):  # type: ignore[no-untyped-def]
    """asyncio.run in a thread of its own: the browser tests leave an event loop running on this one."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(make_coroutine())
        except BaseException as error:  # noqa: BLE001 - raised again in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _demo_survey_id() -> int:
    from consult.surveys.views import survey_or_404

    survey_id = survey_or_404("vasternorrland-2030").id
    assert survey_id is not None
    return survey_id


def test_each_page_view_gets_its_own_draft(demo) -> None:  # type: ignore[no-untyped-def]
    survey_id = _demo_survey_id()
    tokens = _new_drafts(survey_id, 12)
    expired = _new_drafts(survey_id, 1, expired=True)

    async def read_all() -> list:
        wanted = [*tokens, *expired, "NO-SUCH-TOKEN"]
        found = await asyncio.gather(*(drafts.read_draft(token=t, survey_id=survey_id) for t in wanted))
        wrong_survey = await drafts.read_draft(token=tokens[0], survey_id=survey_id + 1000)
        return [*found, wrong_survey]

    found = _run(read_all)
    assert [d.token for d in found[:12]] == tokens
    assert [d.page for d in found[:12]] == list(range(1, 13))
    assert found[12:] == [None, None, None]  # expired, unknown, another survey's address
    # The plain read for code off the loop agrees.
    assert drafts.get_draft(token=tokens[3], survey_id=survey_id) == found[3]


def test_concurrent_reads_on_postgresql_share_round_trips(demo) -> None:  # type: ignore[no-untyped-def]
    if is_sqlite(get_engine()):
        pytest.skip("SQLite reads are direct local calls")
    tokens = _new_drafts(_demo_survey_id(), 30)
    reads = KeyedReads(f"SELECT token, page FROM {ResponseDraft.__tablename__}", "token")
    queries: list[int] = []
    counted = reads._rows

    async def counting_rows(loop_reads, engine, keys):  # type: ignore[no-untyped-def]
        queries.append(len(keys))
        return await counted(loop_reads, engine, keys)

    reads._rows = counting_rows  # type: ignore[method-assign]

    async def read_all() -> list:
        try:
            return await asyncio.gather(*(reads.get(token) for token in [*tokens, tokens[0], "NO-SUCH-TOKEN"]))
        finally:
            await reads.close()

    rows = _run(read_all)
    assert [row["token"] for row in rows[:30]] == tokens
    assert rows[30]["token"] == tokens[0] and rows[31] is None
    assert sum(queries) == 31 and len(queries) <= 2  # the first read goes alone; the rest wait together
