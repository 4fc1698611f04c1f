"""The public front page: open surveys with their closing day, the review's phases and the published
summaries; and the admin page that dates the phases."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from consult.strategy import service
from consult.strategy.models import CyclePhase
from tests.staff import create_staff, csrf_from, logged_in

PASSWORD = "ett-långt-lösenord-42"


def test_phase_states_follow_the_calendar() -> None:
    phase = CyclePhase(
        cycle_id=1, key="remiss", name={"sv": "Remiss"}, starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 31)
    )
    assert service.phase_state(phase, date(2027, 2, 28)) == service.PhaseState.coming
    assert service.phase_state(phase, date(2027, 3, 1)) == service.PhaseState.now
    assert service.phase_state(phase, date(2027, 3, 31)) == service.PhaseState.now
    assert service.phase_state(phase, date(2027, 4, 1)) == service.PhaseState.done
    undated = CyclePhase(cycle_id=1, key="beslut", name={"sv": "Beslut"})
    assert service.phase_state(undated, date(2027, 3, 15)) == service.PhaseState.coming
    one_day = CyclePhase(cycle_id=1, key="framtidsdag", name={"sv": "Framtidsdag"}, starts_on=date(2027, 3, 20))
    assert service.phase_state(one_day, date(2027, 3, 20)) == service.PhaseState.now
    assert service.phase_state(one_day, date(2027, 3, 21)) == service.PhaseState.done  # not "under way" for ever
    deadline = CyclePhase(cycle_id=1, key="beslut", name={"sv": "Beslut"}, ends_on=date(2027, 3, 20))
    assert service.phase_state(deadline, date(2027, 3, 1)) == service.PhaseState.coming
    assert service.phase_state(deadline, date(2027, 3, 21)) == service.PhaseState.done


@pytest.fixture(scope="module")
def cycle_under_way(demo: dict) -> str:
    """A review going on today, beside the demo's finished 2025 review."""
    from consult.db import session_scope

    key = f"oversyn-{uuid.uuid4().hex[:6]}"
    today = datetime.now(UTC).date()
    with session_scope() as session:
        service.create_cycle(
            session,
            key=key,
            name={"sv": "Översyn 2029", "en": "Review 2029"},
            mandate_period="2027–2030",
            current_version_id=None,
            proposed_version_id=None,
            phases=[
                {
                    "key": "inspel",
                    "sv": "Inspel",
                    "en": "Input",
                    "starts": today - timedelta(days=30),
                    "ends": today - timedelta(days=1),
                },
                {
                    "key": "remiss",
                    "sv": "Remiss",
                    "en": "Consultation",
                    "starts": today,
                    "ends": today + timedelta(days=60),
                },
                {"key": "beslut", "sv": "Beslut", "en": "Decision", "starts": None, "ends": None},
            ],
        )
    return key


def test_front_page_shows_the_review_under_way_and_where_it_is(client: TestClient, cycle_under_way: str) -> None:
    page = client.get("/").text
    phases = page.split('id="phases-heading"')[1].split("</ol>")[0]
    assert "Översyn 2029 (2027–2030)" in phases
    assert re.search(r'phase-done">\s*<strong>Inspel</strong>.*?avslutad', phases, re.S)
    assert re.search(r'phase-now" aria-current="step">\s*<strong>Remiss</strong>.*?pågår', phases, re.S)
    assert re.search(r'phase-coming">\s*<strong>Beslut</strong>.*?kommer', phases, re.S)
    english = client.get("/?lang=en").text
    assert "How the review works" in english and "under way" in english
    client.get("/?lang=sv")


def test_admin_dates_the_phases_and_bad_dates_change_nothing(app, client: TestClient, cycle_under_way: str) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    staff = create_staff("phases", PASSWORD)
    admin = logged_in(app, staff["admin"], PASSWORD)
    form_url = f"/admin/oversyn/{cycle_under_way}"
    form = admin.get(form_url)
    assert form.status_code == 200 and 'type="date"' in form.text
    token = csrf_from(form.text)
    bad = admin.post(
        form_url,
        data={
            "csrftoken": token,
            "start-beslut": "2030-02-30",
            "start-remiss": "2027-05-01",
            "end-remiss": "2027-04-01",
        },
    )
    assert bad.status_code == 422
    assert "Beslut: Ange ett datum som ÅÅÅÅ-MM-DD" in bad.text
    assert "Remiss: Fasen kan inte sluta innan den börjar." in bad.text
    assert 'id="field-start-beslut"' in bad.text and 'value="2030-02-30"' in bad.text  # what was typed stays
    with session_scope() as session:
        cycle = service.cycle_by_key(session, key=cycle_under_way)
        assert cycle is not None
        before = {p.key: (p.starts_on, p.ends_on) for p in service.phases(session, cycle_id=cycle.id or 0)}
    assert before["beslut"] == (None, None)

    values = {
        f"{part}-{key}": (day.isoformat() if day else "")
        for key, days in before.items()
        for part, day in zip(("start", "end"), days, strict=True)
    }
    saved = admin.post(
        form_url, data={**values, "csrftoken": token, "start-beslut": "2030-11-20", "end-beslut": "2030-11-20"}
    )
    assert saved.status_code == 303
    with session_scope() as session:
        after = {p.key: (p.starts_on, p.ends_on) for p in service.phases(session, cycle_id=cycle.id or 0)}
    assert after["beslut"] == (date(2030, 11, 20), date(2030, 11, 20)) and after["remiss"] == before["remiss"]
    assert "20 november 2030" in client.get("/").text

    analyst = logged_in(app, staff["analyst"], PASSWORD)
    assert analyst.get(form_url).status_code == 403
    assert admin.get("/admin/oversyn/finns-inte").status_code == 404


def test_a_phase_with_only_a_last_day_is_a_deadline(app, client: TestClient, cycle_under_way: str) -> None:  # type: ignore[no-untyped-def]
    """A last day without a first is accepted on purpose: a decision or a consultation often has a
    date it must be done by before anyone knows when it starts. The form says what such a phase
    means, and the front page shows it as "senast <day>"."""
    from babel.dates import format_date

    from consult.db import session_scope

    admin = logged_in(app, create_staff("deadline", PASSWORD)["admin"], PASSWORD)
    form_url = f"/admin/oversyn/{cycle_under_way}"
    form = admin.get(f"{form_url}?lang=sv")
    assert "en med bara en sista dag som ett sista datum" in form.text  # the admin knows what it means
    assert "with only a last day as a deadline" in admin.get(f"{form_url}?lang=en").text
    with session_scope() as session:
        cycle = service.cycle_by_key(session, key=cycle_under_way)
        assert cycle is not None
        before = {p.key: (p.starts_on, p.ends_on) for p in service.phases(session, cycle_id=cycle.id or 0)}
    values = {
        f"{part}-{key}": (day.isoformat() if day else "")
        for key, days in before.items()
        for part, day in zip(("start", "end"), days, strict=True)
    }
    deadline = datetime.now(UTC).date() + timedelta(days=90)
    saved = admin.post(form_url, data={**values, "csrftoken": csrf_from(form.text), "start-beslut": "",
                                       "end-beslut": deadline.isoformat()})
    try:
        assert saved.status_code == 303
        with session_scope() as session:
            after = {p.key: (p.starts_on, p.ends_on) for p in service.phases(session, cycle_id=cycle.id or 0)}
        assert after["beslut"] == (None, deadline)
        phases = client.get("/?lang=sv").text.split('id="phases-heading"')[1].split("</ol>")[0]
        shown = format_date(deadline, "d MMMM y", locale="sv")
        assert re.search(rf'phase-coming">\s*<strong>Beslut</strong>.*?senast {shown}', phases, re.S)
    finally:
        with session_scope() as session:
            service.set_phase_dates(session, cycle_id=cycle.id or 0, dates={"beslut": before["beslut"]})


def test_published_summaries_are_listed_on_the_front_page(client: TestClient, cycle_under_way: str) -> None:
    from consult.db import session_scope
    from consult.reports.service import set_published

    with session_scope() as session:
        cycle = service.cycle_by_key(session, key=cycle_under_way)
        assert cycle is not None
        set_published(session, cycle_id=cycle.id or 0, published=True, user_id=None)
    try:
        page = client.get("/").text
        assert f'href="/rapport/{cycle_under_way}">Översyn 2029: vad vi fick höra och vad vi gör</a>' in page
    finally:
        with session_scope() as session:
            set_published(session, cycle_id=cycle.id or 0, published=False, user_id=None)
    assert f"/rapport/{cycle_under_way}" not in client.get("/").text


def test_a_survey_closing_at_midnight_has_the_day_before_as_its_last_day() -> None:
    from consult.core.formatting import LOCAL_TIME, last_day

    midnight = datetime(2026, 12, 1, 0, 0, tzinfo=LOCAL_TIME)
    assert last_day(midnight) == date(2026, 11, 30)
    assert last_day(midnight.astimezone(UTC)) == date(2026, 11, 30)  # stored in UTC: 23:00 the day before
    assert last_day(datetime(2026, 12, 1, 16, 0, tzinfo=LOCAL_TIME)) == date(2026, 12, 1)
