"""The same save sent several times at once (a double click, two staff at the same page) runs one
after the other: no 500 from a constraint, nothing duplicated. Each thread has its own session and
connection, as worker threads do; on PostgreSQL the saves collided on foreign and unique keys."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from tests.factories import every_type_survey, store

AT_ONCE = 6


def run_at_once(work: Callable[[], Any]) -> list[Any]:
    """Each call's result, or the exception it raised."""

    def attempt() -> Any:
        try:
            return work()
        except Exception as exc:  # noqa: BLE001 - the test looks at what each call ended with
            return exc

    with ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(lambda _: attempt(), range(AT_ONCE)))


def test_survey_editor_saves_at_once_all_succeed(migrated: str) -> None:
    from consult.authoring import service
    from consult.db import session_scope

    spec = store(every_type_survey(status="draft"))

    def rename() -> None:
        with session_scope() as session:
            service.save_page_title(session, slug=spec.slug, number=1, title={"sv": "Om dig"}, user_id=None)

    def add_page() -> int:
        with session_scope() as session:
            return service.add_page(session, slug=spec.slug, title={"sv": "Ny sida"}, user_id=None)

    assert [r for r in run_at_once(rename) if isinstance(r, Exception)] == []
    pages = run_at_once(add_page)
    assert [r for r in pages if isinstance(r, Exception)] == []
    with session_scope() as session:
        loaded = service.load(session, spec.slug)
    assert loaded is not None and len(loaded[1].pages) == len(spec.pages) + AT_ONCE  # none lost


def test_weighting_targets_saved_at_once_all_succeed(migrated: str) -> None:
    from consult.db import session_scope
    from consult.workspace import service
    from consult.workspace.models import WeightTarget

    spec = store(every_type_survey())

    def save() -> None:
        with session_scope() as session:
            service.save_targets(session, spec=spec, targets={"municipality": {2281: 75, 2280: 25}})

    assert [r for r in run_at_once(save) if isinstance(r, Exception)] == []
    with session_scope() as session:
        count = session.execute(select(func.count()).where(WeightTarget.survey_id == spec.id)).scalar_one()
    assert count == 2
