"""The theme explorer in the web app: background runs, the analysts' changes with who/when, new
answers assigned without re-clustering, redacted and consent-filtered quotes, the coverage matrix
against two strategy versions, and roles."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from consult.accounts import service as accounts
from consult.themes import jobs, service
from consult.themes.models import (
    CandidateTheme,
    RunAssignment,
    RunStatus,
    SelectedTheme,
    ThemeAssignment,
    ThemeChange,
    ThemeRun,
)
from tests.factories import choices, q

PASSWORD = "ett-långt-lösenord-42"
CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')
HEALTH = "Stärkt folkhälsoarbete för god och jämlik hälsa"
DEMO_SLUG = "vasternorrland-2030"

HEALTH_ANSWERS = [
    "Vårdcentralen i byn har stängt, vi måste åka sex mil till närmaste läkare",
    "Längre öppettider på vårdcentralen och kortare köer till psykiatrin",
    "Akuten på sjukhuset måste öppna igen, det är livsfarligt långt till vården",
    "Fler barnmorskor och en förlossning närmare, inte tio mil enkel väg",
    "Bättre äldreomsorg och hemtjänst, samma personal varje dag",
    "Vården måste bli bättre, läkare på vårdcentralen saknas helt",
    "Sjukhuset behöver fler sjuksköterskor och kortare vårdköer",
    "Psykisk ohälsa bland unga kräver mer vård och fler kuratorer",
    "Det tar månader att få en läkartid på vårdcentralen",
]
TRANSPORT_ANSWERS = [
    "Fler bussar på kvällarna så att man kan pendla till jobbet",
    "Bussen går för sällan, kollektivtrafiken måste byggas ut",
    "Billigare busskort och fler turer med kollektivtrafiken",
    "Tätare bussturer mellan byarna och staden",
    "Kollektivtrafiken på landsbygden behöver fler bussar och turer",
    "Bussarna borde gå oftare så att man kan pendla utan bil",
    "Fler busslinjer och bättre tidtabell för pendling",
    "Satsa på kollektivtrafik med fler bussturer på helger",
    "Bättre busstrafik och anslutningar till tåget",
]
PHONE_ANSWER = "Ring mig på 070-123 45 67 om vårdcentralen, läkare saknas och vården är för långt bort"
SECRET_ANSWER = "Hemlig vårdcentral åsikt: läkare och sjukhus och vård borde finnas nära"


# --- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def theme_tables(migrated: str, demo: dict) -> Iterator[None]:
    """The migrated test database, which has the theme tables; the worker stops afterwards."""
    yield
    jobs.stop_worker()  # before the test database goes away


@pytest.fixture(scope="module")
def staff(theme_tables: None) -> dict[str, str]:
    from consult.db import session_scope

    suffix = uuid.uuid4().hex[:8]
    emails = {role: f"teman-{role}-{suffix}@test.se" for role in ("admin", "analyst", "interviewer")}
    with session_scope() as session:
        for role, email in emails.items():
            accounts.create_user(session, email=email, password=PASSWORD, role=role, name=f"Tema {role}")
    return emails


def _log_in(app, email: str) -> TestClient:  # type: ignore[no-untyped-def]
    accounts.reset_login_limits()
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    token = CSRF_INPUT.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"csrftoken": token, "email": email, "password": PASSWORD, "next": ""})
    assert response.status_code in (302, 303)
    return client


@pytest.fixture(scope="module")
def analyst(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return _log_in(app, staff["analyst"])


@pytest.fixture(scope="module")
def analyst_id(staff) -> int:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        user = accounts.get_user_by_email(session, staff["analyst"])
        assert user is not None and user.id is not None
        return user.id


def csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    match = CSRF_INPUT.search(page.text)
    assert match
    return match.group(1)


def wait_for(run_id: int, statuses: tuple[str, ...] = ("done", "failed", "cancelled"), timeout: float = 90) -> ThemeRun:
    """Poll the database until the background run ends (any worker process may run it)."""
    from consult.db import session_scope

    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            run = session.get(ThemeRun, run_id)
            assert run is not None
            if run.status in statuses:
                return run
        if time.monotonic() > deadline:
            pytest.fail(f"run {run_id} still {run.status} after {timeout} s")
        jobs.ensure_worker()
        time.sleep(0.2)


def latest_run_id(question_id: int) -> int:
    from consult.db import session_scope

    with session_scope() as session:
        run_id = session.execute(select(func.max(ThemeRun.id)).where(ThemeRun.question_id == question_id)).scalar()
        assert run_id is not None
        return int(run_id)


def make_survey(cycle_key: str | None = "oversyn-2025"):  # type: ignore[no-untyped-def]
    """A small survey with one free-text question: health-care and bus answers."""
    from consult.db import session_scope
    from consult.strategy.service import cycle_by_key
    from consult.surveys.schema import PageSpec, SurveySpec
    from consult.surveys.service import load_spec, save_survey

    spec = SurveySpec(
        slug=f"teman-{uuid.uuid4().hex[:10]}",
        title={"sv": "Temaprov", "en": "Theme test"},
        status="open",
        pages=(
            PageSpec(
                title={"sv": "Sida", "en": "Page"},
                questions=(
                    q("kommun", "municipality", choices=choices("Härnösand", "Kramfors")),
                    q("kon", "gender", choices=choices("Kvinna", "Man")),
                    q("alder", "age_band", choices=choices("16–29", "30–64", "65+")),
                    q("behov", "long_text", "Vad behöver förändras?"),
                ),
            ),
        ),
    )
    with session_scope() as session:
        cycle = cycle_by_key(session, key=cycle_key) if cycle_key else None
        save_survey(session, spec=spec, cycle_id=cycle.id if cycle else None)
    with session_scope() as session:
        stored = load_spec(session, slug=spec.slug)
    assert stored is not None
    return stored


def add_answers(spec, texts: list[str], consent: bool | None = True, channel: str = "web") -> list[int]:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.responses.models import Channel
    from consult.responses.service import NewResponse, store_responses

    items = [
        NewResponse(
            spec=spec,
            client_uuid=str(uuid.uuid4()),
            consent_quote=consent,
            channel=Channel(channel),
            values={"kommun": 1 + i % 2, "kon": 1 + i % 2, "alder": 1 + i % 3, "behov": text},
        )
        for i, text in enumerate(texts)
    ]
    with session_scope() as session:
        stored = store_responses(session, items)
    return [s.response_id for s in stored if s.response_id is not None]


def question_id(spec, code: str) -> int:  # type: ignore[no-untyped-def]
    question = spec.question(code)
    assert question is not None and question.id is not None
    return question.id


@pytest.fixture(scope="module")
def health_survey(analyst: TestClient) -> dict:
    """The small survey analysed (k = 2) and accepted: one health theme, one bus theme."""
    spec = make_survey()
    health_ids = add_answers(spec, HEALTH_ANSWERS[:4])
    secret_ids = add_answers(spec, [SECRET_ANSWER], consent=False)
    phone_ids = add_answers(spec, [PHONE_ANSWER], consent=True, channel="paper")
    health_ids += add_answers(spec, HEALTH_ANSWERS[4:])
    bus_ids = add_answers(spec, TRANSPORT_ANSWERS, channel="interview_phone")
    base = f"/arbetsyta/enkater/{spec.slug}/teman/behov"
    token = csrf(analyst, base)
    response = analyst.post(f"{base}/korning", data={"csrftoken": token, "k": "2", "seed": "0"})
    assert response.status_code == 303, response.text[:500]
    qid = question_id(spec, "behov")
    run = wait_for(latest_run_id(qid))
    assert run.status == "done", run.error
    response = analyst.post(f"{base}/korning/{run.id}/acceptera", data={"csrftoken": csrf(analyst, base)})
    assert response.status_code == 303
    from consult.db import session_scope

    with session_scope() as session:
        rows = session.execute(
            select(ThemeAssignment.response_id, ThemeAssignment.theme_id).where(ThemeAssignment.question_id == qid)
        ).all()
    theme_of = dict(rows)
    health_theme = max(set(theme_of[r] for r in health_ids), key=lambda t: sum(theme_of[r] == t for r in health_ids))
    bus_theme = max(set(theme_of[r] for r in bus_ids), key=lambda t: sum(theme_of[r] == t for r in bus_ids))
    return {
        "spec": spec,
        "base": base,
        "qid": qid,
        "run_id": run.id,
        "health_ids": health_ids,
        "secret_id": secret_ids[0],
        "phone_id": phone_ids[0],
        "bus_ids": bus_ids,
        "health_theme": health_theme,
        "bus_theme": bus_theme,
        "theme_of": theme_of,
    }


def theme_assignments(question: int) -> dict[int, tuple[int, bool]]:
    """Each answer's theme and whether it is reviewed."""
    from consult.db import session_scope

    with session_scope() as session:
        rows = session.execute(select(ThemeAssignment.response_id, ThemeAssignment.theme_id, ThemeAssignment.reviewed)
                               .where(ThemeAssignment.question_id == question)).all()
    return {r: (t, bool(reviewed)) for r, t, reviewed in rows}


def changes(question: int, action: str) -> list[ThemeChange]:
    from consult.db import session_scope

    with session_scope() as session:
        return list(
            session.execute(
                select(ThemeChange)
                .where(ThemeChange.question_id == question, ThemeChange.action == action)
                .order_by(ThemeChange.id)
            ).scalars()
        )


# --- background runs ----------------------------------------------------------------------------------------


def test_a_run_on_the_demo_question_completes_in_the_background(analyst: TestClient) -> None:
    from consult.db import session_scope
    from consult.surveys.service import load_spec

    with session_scope() as session:
        spec = load_spec(session, slug=DEMO_SLUG)
    assert spec is not None
    qid = question_id(spec, "forandra")
    base = f"/arbetsyta/enkater/{DEMO_SLUG}/teman/forandra"
    existing = wait_for(latest_run_id(qid)) if _has_runs(qid) else None  # another test may have one going
    assert existing is None or existing.status in ("done", "failed", "cancelled")
    response = analyst.post(f"{base}/korning", data={"csrftoken": csrf(analyst, base), "k": "auto", "seed": "1"})
    assert response.status_code == 303
    run_id = latest_run_id(qid)
    # The progress element polls itself with htmx while the run is going.
    status = analyst.get(f"{base}/korning/{run_id}", headers={"HX-Request": "true"})
    assert status.status_code == 200
    assert 'id="run-status"' in status.text
    assert 'hx-trigger="every 1s"' in status.text or status.headers.get("hx-refresh") == "true"
    run = wait_for(run_id)
    assert run.status == "done", run.error
    with session_scope() as session:
        cands = session.execute(select(CandidateTheme).where(CandidateTheme.run_id == run_id)).scalars().all()
        assigned = session.execute(
            select(func.count()).select_from(RunAssignment).where(RunAssignment.run_id == run_id)
        ).scalar_one()
        answers = service.count_answers(session, question_id=qid)
    assert len([c for c in cands if c.number != 0]) >= 2
    assert assigned == answers == run.n_answers > 0
    assert sum(c.size for c in cands) == answers
    assert all(c.share == pytest.approx(c.size / answers) for c in cands)  # not the engine's rounded share
    page = analyst.get(f"{base}?lang=en")
    assert "Candidate themes from the latest analysis" in page.text
    assert any(c.label in page.text for c in cands)


def _has_runs(qid: int) -> bool:
    from consult.db import session_scope

    with session_scope() as session:
        return (
            session.execute(select(func.count()).select_from(ThemeRun).where(ThemeRun.question_id == qid)).scalar_one()
            > 0
        )


def test_only_one_run_at_a_time_per_question(analyst: TestClient, analyst_id: int) -> None:
    from consult.db import session_scope

    spec = make_survey()
    add_answers(spec, HEALTH_ANSWERS[:6])
    qid = question_id(spec, "behov")
    with session_scope() as session:
        busy = ThemeRun(
            survey_id=spec.id,
            question_id=qid,
            status=RunStatus.running.value,
            heartbeat_at=service.utcnow(),
            worker="elsewhere:1",
            started_by_id=analyst_id,
        )
        session.add(busy)
    base = f"/arbetsyta/enkater/{spec.slug}/teman/behov"
    response = analyst.post(f"{base}/korning", data={"csrftoken": csrf(analyst, base), "k": "auto", "seed": "0"})
    assert response.status_code == 422
    assert "already running" in response.text or "pågår redan" in response.text
    with session_scope() as session:
        with pytest.raises(service.ThemeError):
            service.start_run(session, survey_id=spec.id or 0, question_id=qid, user_id=analyst_id)
        active = session.execute(
            select(func.count())
            .select_from(ThemeRun)
            .where(ThemeRun.question_id == qid, ThemeRun.status.in_(("queued", "running")))
        ).scalar_one()
    assert active == 1
    # Even a direct insert cannot make a second active run: the database refuses it.
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(ThemeRun(survey_id=spec.id, question_id=qid, status=RunStatus.queued.value))


def test_a_run_whose_worker_stopped_is_failed_and_frees_the_question(analyst_id: int) -> None:
    from consult.db import session_scope

    spec = make_survey()
    add_answers(spec, HEALTH_ANSWERS[:6])
    qid = question_id(spec, "behov")
    with session_scope() as session:
        session.add(
            ThemeRun(
                survey_id=spec.id,
                question_id=qid,
                status=RunStatus.running.value,
                heartbeat_at=service.utcnow() - service.STALE_AFTER * 2,
            )
        )
    with session_scope() as session:
        run = service.start_run(session, survey_id=spec.id or 0, question_id=qid, user_id=analyst_id)
        service.cancel_run(session, run_id=run.id or 0, user_id=analyst_id)
    with session_scope() as session:
        statuses = sorted(session.execute(select(ThemeRun.status).where(ThemeRun.question_id == qid)).scalars())
    assert statuses == ["cancelled", "failed"]


def test_cancel_stops_a_running_and_a_queued_run(analyst: TestClient, analyst_id: int) -> None:
    from consult.db import session_scope

    spec = make_survey()
    add_answers(spec, HEALTH_ANSWERS + TRANSPORT_ANSWERS)
    qid = question_id(spec, "behov")
    base = f"/arbetsyta/enkater/{spec.slug}/teman/behov"
    # A running run (as a worker elsewhere has claimed it) stops at the engine's next step.
    with session_scope() as session:
        running = ThemeRun(
            survey_id=spec.id,
            question_id=qid,
            status=RunStatus.running.value,
            heartbeat_at=service.utcnow(),
            params={"k": "auto", "lang": "auto"},
        )
        session.add(running)
    response = analyst.post(
        f"{base}/korning/{running.id}/avbryt", data={"csrftoken": csrf(analyst, base)}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="run-status"' in response.text
    assert jobs.execute(running.id or 0) == "cancelled"
    assert wait_for(running.id or 0).status == "cancelled"
    # A queued run is cancelled at once (or, if a worker took it meanwhile, at its next step).
    response = analyst.post(f"{base}/korning", data={"csrftoken": csrf(analyst, base), "k": "2", "seed": "0"})
    assert response.status_code == 303
    queued = latest_run_id(qid)
    response = analyst.post(f"{base}/korning/{queued}/avbryt", data={"csrftoken": csrf(analyst, base)})
    assert response.status_code == 303
    final = wait_for(queued)
    # A worker (this process's, or the live server's in a full run) may take and finish a run this
    # small before the cancel arrives; then there is nothing left to cancel, but the request is recorded.
    assert final.status == "done" or (final.status == "cancelled" and final.cancel_requested)
    with session_scope() as session:
        who = session.execute(
            select(ThemeChange.user_id).where(ThemeChange.run_id == queued, ThemeChange.action == "cancel")
        ).scalar()
    assert who == analyst_id


# --- the analysts' changes -------------------------------------------------------------------------------------


def test_accepting_a_run_makes_its_candidates_the_selected_themes(health_survey: dict) -> None:
    from consult.db import session_scope

    with session_scope() as session:
        themes = service.active_themes(session, question_id=health_survey["qid"])
        cands = service.candidates(session, run_id=health_survey["run_id"])
    assert {t.label for t in themes if not t.is_other} == {c.label for c in cands if c.number != 0}
    # Health answers and bus answers end up in different themes.
    assert health_survey["health_theme"] != health_survey["bus_theme"]
    theme_of = health_survey["theme_of"]
    assert sum(theme_of[r] == health_survey["health_theme"] for r in health_survey["health_ids"]) >= 7
    assert sum(theme_of[r] == health_survey["bus_theme"] for r in health_survey["bus_ids"]) >= 7
    assert changes(health_survey["qid"], "accept")[-1].user_id is not None


def test_accepting_the_accepted_run_again_keeps_the_work_done_since(analyst: TestClient, analyst_id: int) -> None:
    """A second click on "Accept these themes" (or an old tab) used to accept the run again: the
    renames, merges and reviews made since were gone without a word. The run's own page now warns
    like the explorer does, with the number of reviewed answers that accepting would reset."""
    from consult.db import session_scope

    spec = make_survey()
    ids = add_answers(spec, HEALTH_ANSWERS + TRANSPORT_ANSWERS)
    qid = question_id(spec, "behov")
    base = f"/arbetsyta/enkater/{spec.slug}/teman/behov"
    analyst.post(f"{base}/korning", data={"csrftoken": csrf(analyst, base), "k": "2", "seed": "0"})
    run = wait_for(latest_run_id(qid))
    assert run.status == "done", run.error
    run_page = f"{base}/korning/{run.id}"
    assert "Det ersätter de teman" not in analyst.get(f"{run_page}?lang=sv").text  # nothing to replace yet
    analyst.post(f"{run_page}/acceptera", data={"csrftoken": csrf(analyst, base)})
    with session_scope() as session:
        theme = next(r.theme for r in service.theme_rows(session, question_id=qid) if not r.theme.is_other)
        service.rename_theme(session, question_id=qid, theme_id=theme.id, label="Vård nära", user_id=analyst_id)
        service.confirm_answers(session, question_id=qid, response_ids=ids[:3], user_id=analyst_id)
    # Another run of the question: its page says what accepting it would replace.
    analyst.post(f"{base}/korning", data={"csrftoken": csrf(analyst, base), "k": "3", "seed": "1"})
    other = wait_for(latest_run_id(qid))
    page = analyst.get(f"{base}/korning/{other.id}?lang=sv").text
    assert "Det ersätter de teman" in page and "3 svar som du har granskat" in page
    again = analyst.post(f"{run_page}/acceptera", data={"csrftoken": csrf(analyst, base)})
    assert again.status_code == 303
    assert len(changes(qid, "accept")) == 1
    with session_scope() as session:
        labels = [r.theme.label for r in service.theme_rows(session, question_id=qid)]
        assert "Vård nära" in labels
        assert sum(service.reviewed_counts(session, question_id=qid).values()) == 3


def test_quotes_are_redacted_and_only_from_respondents_who_consented(analyst: TestClient, health_survey: dict) -> None:
    from consult.db import session_scope

    qid, theme_id = health_survey["qid"], health_survey["health_theme"]
    with session_scope() as session:
        # The two special answers belong to the health theme for this test.
        service.move_answers(
            session,
            question_id=qid,
            response_ids=[health_survey["secret_id"], health_survey["phone_id"]],
            to_theme_id=theme_id,
            user_id=None,
        )
        session.execute(
            update(ThemeAssignment)
            .where(
                ThemeAssignment.question_id == qid,
                ThemeAssignment.response_id.in_([health_survey["secret_id"], health_survey["phone_id"]]),
            )
            .values(score=0.99)
        )
        quotes = service.quotes(session, question_id=qid, theme_id=theme_id, n=20)
    texts = [quote["text"] for quote in quotes]
    assert "Hemlig" not in " ".join(texts)
    phone = [t for t in texts if "Ring mig" in t]
    assert phone and "070" not in phone[0] and "[telefon]" in phone[0]
    page = analyst.get(f"{health_survey['base']}/tema/{theme_id}")
    assert page.status_code == 200
    quotes_html = page.text.split('id="quotes-heading"')[1].split('id="breakdown-heading"')[0]
    assert "Hemlig" not in quotes_html
    assert "070-123" not in page.text  # neither in the quotes nor in the list of answers
    assert "[telefon]" in page.text
    english = analyst.get(f"{health_survey['base']}/tema/{theme_id}?lang=en").text
    assert "[phone]" in english and "[telefon]" not in english and "070-123" not in english
    analyst.get(f"{health_survey['base']}/tema/{theme_id}?lang=sv")
    # Each answer leads to its response, where staff remove what the automatic redaction missed.
    opened = re.search(r'href="(/granskning/\d+)">', page.text)
    assert opened and 'action="' + opened.group(1) + '/ta-bort-text"' in analyst.get(opened.group(1)).text


def test_a_themes_page_breaks_the_theme_down_by_background(analyst: TestClient, health_survey: dict) -> None:
    page = analyst.get(f"{health_survey['base']}/tema/{health_survey['bus_theme']}?lang=en")
    assert page.status_code == 200
    for heading in ("By municipality", "By gender", "By age band", "By channel"):
        assert heading in page.text
    assert "Härnösand" in page.text and "Phone interview" in page.text


def test_rename_merge_split_and_move_are_recorded_with_who_and_when(analyst: TestClient, analyst_id: int) -> None:
    from consult.db import session_scope

    spec = make_survey()
    add_answers(
        spec,
        HEALTH_ANSWERS
        + TRANSPORT_ANSWERS
        + [
            "Mer kultur och fritid för unga, bio och konserter",
            "Fler fritidsgårdar och idrottshallar för unga",
            "Kulturhuset och biblioteket behöver öppet på kvällar",
            "Idrott och kultur för barn och unga",
        ],
    )
    qid = question_id(spec, "behov")
    base = f"/arbetsyta/enkater/{spec.slug}/teman/behov"
    analyst.post(f"{base}/korning", data={"csrftoken": csrf(analyst, base), "k": "3", "seed": "0"})
    run = wait_for(latest_run_id(qid))
    assert run.status == "done", run.error
    analyst.post(f"{base}/korning/{run.id}/acceptera", data={"csrftoken": csrf(analyst, base)})
    with session_scope() as session:
        themes = [r.theme for r in service.theme_rows(session, question_id=qid) if not r.theme.is_other]
    first, second = themes[0], themes[1]

    # Rename, with htmx: the name block comes back in place.
    response = analyst.post(
        f"{base}/tema/{first.id}/namn",
        headers={"HX-Request": "true"},
        data={"csrftoken": csrf(analyst, f"{base}/tema/{first.id}"), "namn": "Vård nära"},
    )
    assert response.status_code == 200
    assert 'id="theme-name"' in response.text and "Vård nära" in response.text
    rename = changes(qid, "rename")[-1]
    assert rename.user_id == analyst_id and rename.at is not None and rename.details["to"] == "Vård nära"
    # An empty name is refused with a message next to the field.
    response = analyst.post(f"{base}/tema/{first.id}/namn", data={"csrftoken": csrf(analyst, base), "namn": " "})
    assert response.status_code == 422 and 'href="#field-namn"' in response.text

    # Move two answers of the second theme into the first.
    with session_scope() as session:
        moved = [a.response_id for a in service.theme_answers(session, question_id=qid, theme_id=second.id)[0][:2]]
    response = analyst.post(
        f"{base}/tema/{second.id}/svar",
        data={
            "csrftoken": csrf(analyst, base),
            "svar": [str(m) for m in moved],
            "atgard": "flytta",
            "till": str(first.id),
        },
    )
    assert response.status_code == 303
    with session_scope() as session:
        rows = (
            session.execute(
                select(ThemeAssignment).where(
                    ThemeAssignment.question_id == qid, ThemeAssignment.response_id.in_(moved)
                )
            )
            .scalars()
            .all()
        )
    assert all(
        r.theme_id == first.id and r.source == "analyst" and r.reviewed and r.assigned_by_id == analyst_id for r in rows
    )
    move = changes(qid, "move")[-1]
    assert move.user_id == analyst_id and set(move.details["answers"]) == {str(m) for m in moved}
    page = analyst.get(f"{base}/tema/{first.id}")
    assert "Tema analyst" in page.text  # who coded the moved answers

    # Merge the two themes.
    response = analyst.post(
        f"{base}/sla-ihop",
        data={"csrftoken": csrf(analyst, base), "tema": [str(first.id), str(second.id)], "namn": "Sammanslaget"},
    )
    assert response.status_code == 303
    with session_scope() as session:
        merged = session.execute(
            select(SelectedTheme).where(SelectedTheme.question_id == qid, SelectedTheme.label == "Sammanslaget")
        ).scalar_one()
        old = [session.get(SelectedTheme, t.id) for t in (first, second)]
        in_merged = session.execute(
            select(func.count()).select_from(ThemeAssignment).where(ThemeAssignment.theme_id == merged.id)
        ).scalar_one()
    assert merged.active and not any(t.active for t in old if t)
    assert in_merged >= len(moved)
    merge = changes(qid, "merge")[-1]
    assert merge.user_id == analyst_id and merge.details["from"] == sorted([first.id, second.id])
    # The same merge sent again (a double click) shows what the first one made, and does nothing.
    merges = len(changes(qid, "merge"))
    again = analyst.post(
        f"{base}/sla-ihop",
        data={"csrftoken": csrf(analyst, base), "tema": [str(second.id), str(first.id)], "namn": "Sammanslaget"},
    )
    assert again.status_code == 303 and again.headers["location"].endswith(f"/tema/{merged.id}")
    assert len(changes(qid, "merge")) == merges

    # Split it again: the engine re-clusters its answers into two new themes.
    response = analyst.post(f"{base}/tema/{merged.id}/dela", data={"csrftoken": csrf(analyst, base), "delar": "2"})
    assert response.status_code == 303, response.text[:300]
    split = changes(qid, "split")[-1]
    assert split.user_id == analyst_id and len(split.details["into"]) == 2
    with session_scope() as session:
        parts = [session.get(SelectedTheme, t) for t in split.details["into"]]
        sizes = [
            session.execute(
                select(func.count()).select_from(ThemeAssignment).where(ThemeAssignment.theme_id == t)
            ).scalar_one()
            for t in split.details["into"]
        ]
    assert all(p and p.active for p in parts) and sum(sizes) == in_merged and min(sizes) > 0
    # Each part is named after whole words its answers write, not the engine's stems ("bättr").
    with session_scope() as session:
        for part in parts:
            assert part and ": " in part.label, part
            texts = " ".join(a.text for a in service.theme_answers(session, question_id=qid, theme_id=part.id)[0])
            written = set(re.findall(r"\w+", texts.lower()))
            words = part.label.split(": ", 1)[1].split(", ")
            assert words and all(w in written for w in words) and part.terms == words, part.label
    splits = len(changes(qid, "split"))
    again = analyst.post(f"{base}/tema/{merged.id}/dela", data={"csrftoken": csrf(analyst, base), "delar": "2"})
    assert again.status_code == 303 and again.headers["location"].endswith("#teman")
    assert len(changes(qid, "split")) == splits
    history = analyst.get(base).text
    assert "Tema analyst" in history


def test_new_answers_are_assigned_to_the_existing_themes_without_re_clustering(
    analyst: TestClient, health_survey: dict
) -> None:
    from consult.db import session_scope

    qid = health_survey["qid"]
    runs_before = _count(ThemeRun, ThemeRun.question_id == qid)
    new_ids = add_answers(
        health_survey["spec"],
        ["Vårdcentralen behöver fler läkare och kortare köer", "Fler bussturer och billigare kollektivtrafik"],
    )
    page = analyst.get(f"{health_survey['base']}?lang=sv")  # opening the explorer assigns them
    assert page.status_code == 200
    assert _count(ThemeRun, ThemeRun.question_id == qid) == runs_before
    with session_scope() as session:
        rows = dict(
            session.execute(
                select(ThemeAssignment.response_id, ThemeAssignment.theme_id).where(
                    ThemeAssignment.response_id.in_(new_ids)
                )
            ).all()
        )
    assert rows == {new_ids[0]: health_survey["health_theme"], new_ids[1]: health_survey["bus_theme"]}
    assert changes(qid, "assign_new")[-1].details["answers"] == 2
    # Nobody pressed anything: the history says the system did it, not the analyst who looked.
    assert changes(qid, "assign_new")[-1].user_id is None
    assert re.search(r"Nya svar tilldelades automatiskt\s*: 2", history_of(page.text))
    assert "Tema analyst tilldelade nya svar" not in history_of(page.text)
    english = history_of(analyst.get(f"{health_survey['base']}?lang=en").text)
    assert re.search(r"New answers were assigned automatically\s*: 2", english)


def test_an_analyst_who_presses_assign_new_answers_is_credited_for_it(
    analyst: TestClient, analyst_id: int, health_survey: dict
) -> None:
    base = health_survey["base"]
    token = csrf(analyst, base)  # before the answers arrive, so opening the page assigns nothing
    add_answers(health_survey["spec"], ["Längre öppettider på vårdcentralen", "Tätare bussar på kvällen",
                                        "Kortare väntetid till läkare"])
    response = analyst.post(f"{base}/tilldela", data={"csrftoken": token})
    assert response.status_code == 303 and "tilldelade=3" in response.headers["location"]
    assert changes(health_survey["qid"], "assign_new")[-1].user_id == analyst_id
    history = history_of(analyst.get(f"{base}?lang=sv").text)
    assert re.search(r"Tema analyst tilldelade nya svar\s*: 3", history)
    assert not re.search(r"Nya svar tilldelades automatiskt\s*: 3", history)


def history_of(page: str) -> str:
    """The text of the page's change history, one line an event."""
    block = re.search(r'<ul class="ws-history">(.*?)</ul>', page, re.S)
    assert block, "no history on the page"
    return re.sub(r"<[^>]+>", "", block.group(1))


def _count(model, *conditions) -> int:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        return int(session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one())


def test_search_shows_each_answers_theme_and_review_status(analyst: TestClient, health_survey: dict) -> None:
    page = analyst.get(f"{health_survey['base']}?q=busskort&lang=en")
    assert page.status_code == 200
    results = page.text.split('id="search-results"')[1]
    assert "Billigare busskort" in results
    assert "not reviewed" in results or "reviewed by" in results
    partial = analyst.get(
        f"{health_survey['base']}?q=busskort", headers={"HX-Request": "true", "HX-Target": "search-results"}
    )
    assert partial.text.lstrip().startswith('<div id="search-results">')


def test_assisted_coding_and_agreement(analyst: TestClient, analyst_id: int) -> None:
    from consult.db import session_scope

    spec = make_survey()
    add_answers(spec, (HEALTH_ANSWERS + TRANSPORT_ANSWERS) * 2)
    qid = question_id(spec, "behov")
    base = f"/arbetsyta/enkater/{spec.slug}/teman/behov"
    analyst.post(f"{base}/korning", data={"csrftoken": csrf(analyst, base), "k": "2", "seed": "0"})
    run = wait_for(latest_run_id(qid))
    analyst.post(f"{base}/korning/{run.id}/acceptera", data={"csrftoken": csrf(analyst, base)})
    # Coding needs confirmed answers in two themes first.
    response = analyst.post(f"{base}/koda", data={"csrftoken": csrf(analyst, base), "threshold": "0,5"})
    assert response.status_code == 422
    with session_scope() as session:
        rows = service.theme_rows(session, question_id=qid)
        for row in (r for r in rows if r.size):
            answers = service.theme_answers(session, question_id=qid, theme_id=row.theme.id)[0]
            service.confirm_answers(
                session, question_id=qid, response_ids=[a.response_id for a in answers[:3]], user_id=analyst_id
            )
    response = analyst.post(f"{base}/koda", data={"csrftoken": csrf(analyst, base), "threshold": "0,5"})
    assert response.status_code == 303
    coding = wait_for(latest_run_id(qid))
    assert coding.kind == "code" and coding.status == "done", coding.error
    with session_scope() as session:
        sources = set(
            session.execute(
                select(ThemeAssignment.source).where(
                    ThemeAssignment.question_id == qid, ThemeAssignment.reviewed.is_(False)
                )
            ).scalars()
        )
    assert sources == {"coder"}
    assert changes(qid, "code")[-1].user_id == analyst_id
    page = analyst.get(f"{base}?lang=en")
    assert "once 30 answers are reviewed" in page.text
    # Confirm every answer: with 30 or more reviewed the agreement appears with its interval.
    with session_scope() as session:
        ids = list(
            session.execute(select(ThemeAssignment.response_id).where(ThemeAssignment.question_id == qid)).scalars()
        )
        service.confirm_answers(session, question_id=qid, response_ids=ids, user_id=analyst_id)
        figures = service.agreement_figures(session, question_id=qid)
    assert figures["result"] is not None and figures["result"]["f1"] == 1.0
    page = analyst.get(f"{base}?lang=en")
    assert "Agreement with the analysts (F1)" in page.text and "95% interval" in page.text


# --- coverage ----------------------------------------------------------------------------------------------


def test_coverage_health_answers_map_to_folkhalsa_in_2025_and_are_not_covered_in_2020(
    analyst: TestClient, health_survey: dict
) -> None:
    from consult.db import session_scope

    with session_scope() as session:
        versions = service.versions_for(session, survey_id=health_survey["spec"].id)
        assert [v.key for v in versions] == ["rus-2025", "rus-2020"]
        proposed = service.coverage(session, question_id=health_survey["qid"], version=versions[0])
        current = service.coverage(session, question_id=health_survey["qid"], version=versions[1])
    assert proposed is not None and current is not None
    health_2025 = next(r for r in proposed.rows if r.theme.id == health_survey["health_theme"])
    health_2020 = next(r for r in current.rows if r.theme.id == health_survey["health_theme"])
    assert health_2025.best == HEALTH and health_2025.covered
    assert not health_2020.covered and HEALTH not in current.priorities
    bus_2020 = next(r for r in current.rows if r.theme.id == health_survey["bus_theme"])
    assert bus_2020.covered

    label = health_2025.theme.label
    page = analyst.get(f"{health_survey['base']}/tackning?lang=sv")  # an earlier test left the client in English
    assert page.status_code == 200
    uncovered = page.text.split('id="uncovered-heading"')[1].split('id="matrix-heading"')[0]
    assert label not in uncovered
    assert HEALTH in page.text
    page = analyst.get(f"{health_survey['base']}/tackning?version=rus-2020")
    uncovered = page.text.split('id="uncovered-heading"')[1].split('id="matrix-heading"')[0]
    assert label in uncovered and "<blockquote>" in uncovered
    assert "Hemlig" not in uncovered
    assert analyst.get(f"{health_survey['base']}/tackning?version=nope").status_code == 404
    # In English the priorities carry the strategy's English titles, not the engine's Swedish ones.
    english = analyst.get(f"{health_survey['base']}/tackning?lang=en").text
    assert "Stronger public health work for good and equal health" in english and HEALTH not in english
    # The strategy version is named in English too (the link to its keywords, the matrix's caption).
    name_en = versions[0].names.get("en")
    assert name_en and name_en != versions[0].name
    assert f"See or change the keywords of {name_en}" in english and f"each priority of {name_en}" in english
    assert versions[0].name not in english
    analyst.get(f"{health_survey['base']}/tackning?lang=sv")


def test_each_reader_keeps_the_quotes_of_their_own_language(health_survey: dict, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Coverage figures are cached and shared between requests; the quotes beside them are each
    reader's own (their placeholders are in the reader's language), so a Swedish reader's request
    never rewrites the quotes an English reader was given."""
    from consult.core.i18n import current_language
    from consult.db import session_scope

    def quotes_in_the_readers_language(session, *, question_id: int, theme_id: int, n: int) -> list[dict]:  # type: ignore[no-untyped-def]
        return [{"response_id": 0, "text": f"quote read in {current_language.get()}"}]

    monkeypatch.setattr(service, "quotes", quotes_in_the_readers_language)

    def coverage_read_in(language: str) -> service.Coverage:
        token = current_language.set(language)
        try:
            with session_scope() as session:
                version = service.versions_for(session, survey_id=health_survey["spec"].id)[1]
                found = service.coverage(session, question_id=health_survey["qid"], version=version, with_quotes=True)
        finally:
            current_language.reset(token)
        assert found is not None and found.uncovered
        return found

    def quoted(found: service.Coverage) -> set[str]:
        return {quote["text"] for row in found.uncovered for quote in row.quotes}

    english = coverage_read_in("en")
    swedish = coverage_read_in("sv")
    assert quoted(english) == {"quote read in en"}
    assert quoted(swedish) == {"quote read in sv"}


def test_keywords_edited_by_analysts_change_what_the_strategy_covers_at_once(
    analyst: TestClient, health_survey: dict
) -> None:
    """The 2020 strategy has no health priority. Analysts who decide that health care belongs under
    attractive places give that priority the words; the health theme is covered from then on."""
    edit = "/arbetsyta/strategi/rus-2020/attraktiva-orter/nyckelord"
    coverage_2020 = f"{health_survey['base']}/tackning?version=rus-2020"

    def uncovered() -> str:
        page = analyst.get(coverage_2020)
        return page.text.split('id="uncovered-heading"')[1].split('id="matrix-heading"')[0]

    label = analyst.get(f"{health_survey['base']}/tema/{health_survey['health_theme']}").text
    label = re.search(r"<h1[^>]*>(.*?)</h1>", label, re.S).group(1).split(":")[-1].strip()  # type: ignore[union-attr]
    assert label in uncovered()
    words = "vårdcentral, läkare, sjukhus, vård, sjuksköterska, äldreomsorg"
    saved = analyst.post(edit, data={"csrftoken": csrf(analyst, edit), "keywords": words})
    try:
        assert saved.status_code == 303
        assert label not in uncovered()
    finally:
        reset = analyst.post(f"{edit}/aterstall", data={"csrftoken": csrf(analyst, edit)})
    assert reset.status_code == 303
    assert label in uncovered()


# --- roles and odd input -----------------------------------------------------------------------------------


def test_roles(app, staff, health_survey: dict) -> None:  # type: ignore[no-untyped-def]
    interviewer = _log_in(app, staff["interviewer"])
    base = health_survey["base"]
    for path in (
        "/arbetsyta/teman",
        base,
        f"{base}/tackning",
        f"{base}/tema/{health_survey['health_theme']}",
        f"{base}/korning/{health_survey['run_id']}",
    ):
        assert interviewer.get(path).status_code == 403, path
    token = csrf(interviewer, "/")
    assert interviewer.post(f"{base}/korning", data={"csrftoken": token}).status_code == 403
    anonymous = TestClient(app, base_url="http://testserver", follow_redirects=False)
    assert anonymous.get(base).status_code in (302, 303)
    admin = _log_in(app, staff["admin"])
    assert admin.get(base).status_code == 200
    assert admin.get("/arbetsyta/teman").status_code == 200


def test_odd_input_gives_messages_or_404_never_500(analyst: TestClient, health_survey: dict) -> None:
    base = health_survey["base"]
    token = csrf(analyst, base)
    assert analyst.get(f"/arbetsyta/enkater/{health_survey['spec'].slug}/teman/kommun").status_code == 404
    assert analyst.get(f"{base}/tema/999999").status_code == 404
    assert analyst.get(f"{base}/korning/999999").status_code == 404
    assert analyst.get(f"{base}?sida=abc&granskning=<x>&q=%25_").status_code == 200
    assert analyst.post(f"{base}/korning", data={"csrftoken": token, "k": "100"}).status_code == 422
    assert analyst.post(f"{base}/korning", data={"csrftoken": token, "seed": "-1"}).status_code == 422
    assert analyst.post(f"{base}/sla-ihop", data={"csrftoken": token, "tema": ["x"]}).status_code == 422
    theme = health_survey["bus_theme"]
    assert analyst.post(f"{base}/tema/{theme}/dela", data={"csrftoken": token, "delar": "9"}).status_code == 422
    no_parts = analyst.post(f"{base}/tema/{theme}/dela", data={"csrftoken": token})  # not split in two unasked
    assert no_parts.status_code == 422 and 'id="error-delar"' in no_parts.text
    response = analyst.post(f"{base}/tema/{theme}/svar", data={"csrftoken": token, "atgard": "flytta", "till": ""})
    assert response.status_code == 422
    # Answers chosen on one theme's page are changed only if they are in that theme: an answer of
    # another theme, or an id that is no answer, is refused with a message (it used to say "done").
    health_answer = health_survey["health_ids"][0]
    theme_of = theme_assignments(health_survey["qid"])
    for answer_id in (health_answer, 999_999_999):
        for action in ("flytta", "bekrafta"):
            refused = analyst.post(f"{base}/tema/{theme}/svar", data={
                "csrftoken": token, "atgard": action, "till": str(theme), "svar": str(answer_id), "q": ""})
            assert refused.status_code == 422 and "Inget av de valda svaren finns kvar" in refused.text
    assert theme_assignments(health_survey["qid"]) == theme_of
    assert analyst.post(f"{base}/koda", data={"csrftoken": token, "threshold": "2"}).status_code == 422


def test_two_views_assigning_the_same_new_answers_at_once_both_show_the_page(
    analyst: TestClient, health_survey: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the explorer assigns new answers; a second view that read them as unassigned just
    before the first stored them must not fail on the unique constraint (it gave a 500)."""
    from consult.db import session_scope
    from consult.themes import service

    add_answers(health_survey["spec"], ["Längre öppettider på vårdcentralen"])
    with session_scope() as session:
        stale = service.answers_frame(session, question_id=health_survey["qid"], unassigned_only=True)
    assert len(stale) == 1
    assert analyst.get(health_survey["base"]).status_code == 200  # the first view assigns it
    monkeypatch.setattr(service, "answers_frame", lambda *args, **kwargs: stale.copy())
    assert analyst.get(health_survey["base"]).status_code == 200  # the second still reads it as new
    with session_scope() as session:
        assert service.assign_new_answers(session, question_id=health_survey["qid"], user_id=None) == 0


def test_quotes_are_each_said_once_and_prefer_answers_without_redacted_data(analyst: TestClient) -> None:
    """The report's typical quotes showed one sentence three times (differing only in case, spacing
    or punctuation, or in a phone number that redaction hides) and chose quotes full of placeholders."""
    from consult.db import session_scope

    spec = make_survey()
    texts = [
        "Ring mig på 070-123 45 67 om bussen",  # nearest the centre, but redacted: last
        "Ring mig på 070-765 43 21 om bussen",  # the same once redacted
        "Bussen går för sällan!",
        "bussen  går för sällan",
        "Bussen går för sällan.",
        "Fler bussar på kvällarna behövs",
        "Billigare busskort för unga",
    ]
    ids = add_answers(spec, texts)
    qid = question_id(spec, "behov")
    with session_scope() as session:
        run = ThemeRun(survey_id=spec.id, question_id=qid, status=RunStatus.done.value, progress=100)
        session.add(run)
        session.flush()
        theme = SelectedTheme(question_id=qid, run_id=run.id, label="Bussar")
        session.add(theme)
        session.flush()
        for rank, response_id in enumerate(ids):
            session.add(ThemeAssignment(question_id=qid, response_id=response_id, theme_id=theme.id,
                                        score=1.0 - rank / 10))
        session.flush()
        three = [q["text"] for q in service.quotes(session, question_id=qid, theme_id=theme.id, n=3)]
        every = [q["text"] for q in service.quotes(session, question_id=qid, theme_id=theme.id, n=10)]
    assert three == ["Bussen går för sällan!", "Fler bussar på kvällarna behövs", "Billigare busskort för unga"]
    assert every == [*three, "Ring mig på [telefon] om bussen"]


def test_the_catch_all_theme_is_named_in_the_pages_language(analyst: TestClient, health_survey: dict) -> None:
    """The engine stores the catch-all bucket's Swedish name; every page shows it in its own language:
    the list of themes, the bucket's own page and name field, the candidates of a run, search results
    and the coverage page."""
    from consult.db import session_scope

    base = health_survey["base"]
    add_answers(health_survey["spec"], ["Vet inte, ingen åsikt"])
    assert analyst.get(base).status_code == 200  # opening the explorer assigns it: to the bucket
    with session_scope() as session:
        other = next(r.theme for r in service.theme_rows(session, question_id=health_survey["qid"])
                     if r.theme.is_other)
        in_other = service.theme_answers(session, question_id=health_survey["qid"], theme_id=other.id)[0]
    assert [a.text for a in in_other] == ["Vet inte, ingen åsikt"]
    word = "ingen"
    pages = [base, f"{base}/tema/{other.id}", f"{base}/korning/{health_survey['run_id']}", f"{base}/tackning",
             f"{base}?q={word}"]
    for path in pages:
        english = analyst.get(path + ("&" if "?" in path else "?") + "lang=en")
        assert english.status_code == 200 and "övrigt/oklart" not in english.text, path
    assert "other/unclear" in analyst.get(f"{base}/tema/{other.id}?lang=en").text
    assert "other/unclear" in analyst.get(f"{base}?q={word}&lang=en").text  # the answer's theme
    assert ">other/unclear</a>" in analyst.get(base + "?lang=en").text
    swedish = analyst.get(base + "?lang=sv").text
    assert ">övrigt/oklart</a>" in swedish and "other/unclear" not in swedish
    # Saving the name field as the English page fills it is no rename: the bucket stays the engine's.
    token = csrf(analyst, f"{base}/tema/{other.id}?lang=en")
    assert analyst.post(f"{base}/tema/{other.id}/namn", data={"csrftoken": token, "namn": "other/unclear"}
                        ).status_code == 303
    with session_scope() as session:
        assert session.get(SelectedTheme, other.id).label == "övrigt/oklart"  # type: ignore[union-attr]
    analyst.get(f"{base}?lang=sv")


def test_the_same_merge_sent_twice_at_once_merges_once(health_survey: dict) -> None:
    from consult.db import session_scope
    from consult.themes import service
    from tests.test_concurrent_saves import run_at_once

    qid = health_survey["qid"]
    with session_scope() as session:
        rows = [r for r in service.theme_rows(session, question_id=qid) if not r.theme.is_other]
        ids = [int(r.theme.id or 0) for r in rows[-2:]]
        active_before = len(rows)

    def merge() -> int:
        with session_scope() as session:
            return int(service.merge_themes(session, question_id=qid, theme_ids=ids, label="", user_id=None).id or 0)

    outcomes = run_at_once(merge)
    assert len([o for o in outcomes if isinstance(o, int)]) == 1, outcomes
    assert all(isinstance(o, service.ThemeError) for o in outcomes if not isinstance(o, int)), outcomes
    with session_scope() as session:
        active = [r for r in service.theme_rows(session, question_id=qid) if not r.theme.is_other]
    assert len(active) == active_before - 1
