"""The demo consultation: the strategy as data, the survey, and believable responses."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from consult.demo.service import load_demo
from consult.responses.models import Answer, Response
from consult.strategy.models import Municipality, StrategyItem, StrategyVersion
from consult.surveys.service import load_spec
from tests.shared import STRATEGY


def test_strategy_versions(db, demo) -> None:  # type: ignore[no-untyped-def]
    versions = {v.key: v for v in db.execute(select(StrategyVersion)).scalars()}
    for key, priorities in (("rus-2025", 17), ("rus-2020", 16)):
        items = db.execute(select(StrategyItem).where(StrategyItem.version_id == versions[key].id)).scalars().all()
        kinds = Counter(i.kind for i in items if i.kind != "section")  # prose sections belong to the remiss draft
        assert kinds == {"goal_area": 3, "priority": priorities, "principle": 6}
    titles_2025 = {i.title["sv"] for i in db.execute(select(StrategyItem)).scalars()}
    assert "Stärkt folkhälsoarbete för god och jämlik hälsa" in titles_2025
    assert db.execute(select(func.count()).select_from(Municipality)).scalar_one() == 7


def test_demo_survey_shape(db, demo) -> None:  # type: ignore[no-untyped-def]
    spec = load_spec(db, slug="vasternorrland-2030")
    assert spec is not None and 3 <= len(spec.pages) <= 4 and 13 <= len(spec.questions) <= 17
    types = {q.code: q.type for q in spec.questions}
    assert types["kommun"] == "municipality" and types["prioriteringar"] == "multiple_choice"
    assert spec.by_code["prioriteringar"].max_choices == 3
    assert len(spec.by_code["prioriteringar"].choices) == 17
    assert spec.by_code["mal_leva"].priority_key == "leva"


def test_demo_is_idempotent_and_tops_up(migrated, demo) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    first = load_demo(session_scope, responses=60)
    again = load_demo(session_scope, responses=60)
    assert again["created"] == 0 and again["total"] == first["total"]
    more = load_demo(session_scope, responses=70)
    assert more["created"] == 10 and more["total"] == first["total"] + 10


def test_consult_demo_run_again_over_an_older_demo_keeps_its_responses_and_says_so(migrated, demo) -> None:  # type: ignore[no-untyped-def]
    """Responses of an older demo differ from what the demo generates now (store_responses calls
    that a conflict): loading it again leaves them as they are and reports them kept."""
    from sqlalchemy import update
    from typer.testing import CliRunner

    from consult.cli import app as cli
    from consult.db import session_scope

    def stored() -> list[tuple]:
        with session_scope() as session:
            spec = load_spec(session, slug="vasternorrland-2030")
            responses = session.execute(select(Response.id, Response.content_hash, Response.receipt)
                                        .where(Response.survey_id == spec.id).order_by(Response.id)).all()
            answers = session.execute(select(Answer.response_id, Answer.question_id, Answer.choice, Answer.number,
                                             Answer.text).order_by(Answer.id)).all()
        return [*map(tuple, responses), len(answers), hash(tuple(map(tuple, answers)))]

    with session_scope() as session:
        spec = load_spec(session, slug="vasternorrland-2030")
        older = session.execute(select(Response.id, Response.content_hash).where(Response.survey_id == spec.id)).all()
        for response_id, content_hash in older[::2]:  # every other one generated differently back then
            changed = "older" + content_hash[5:]
            session.execute(update(Response).where(Response.id == response_id).values(content_hash=changed))
    before = stored()
    try:
        result = CliRunner().invoke(cli, ["demo", "--responses", "60", "--no-themes"])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"Demo already loaded: {len(older)} responses kept."
        assert "conflict" not in result.output.lower()
        assert stored() == before
    finally:
        with session_scope() as session:
            for response_id, content_hash in older:
                session.execute(update(Response).where(Response.id == response_id).values(content_hash=content_hash))


def test_the_years_in_the_county_are_whole_years_also_in_an_older_demo_database(migrated, demo) -> None:  # type: ignore[no-untyped-def]
    """The help text asks for whole years; a demo database loaded before the rule existed gets it
    when the demo is loaded again, and loading once more changes nothing."""
    from sqlalchemy import update

    from consult.db import session_scope
    from consult.surveys.models import Question, Survey

    def state() -> tuple[bool, int]:
        with session_scope() as session:
            spec = load_spec(session, slug="vasternorrland-2030")
            assert spec is not None
            return spec.by_code["ar_i_lanet"].whole_numbers, spec.revision

    assert state()[0] is True
    with session_scope() as session:
        demo_id = session.execute(select(Survey.id).where(Survey.slug == "vasternorrland-2030")).scalar_one()
        session.execute(update(Question).where(Question.survey_id == demo_id, Question.code == "ar_i_lanet")
                        .values(whole_numbers=False))
    assert state()[0] is False
    load_demo(session_scope, responses=0)
    repaired, revision = state()
    assert repaired is True
    load_demo(session_scope, responses=0)
    assert state() == (True, revision)


def age_band_upper_bounds(spec) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """The oldest age each age band's choice names ("16–24 år" → 24); the open top band is bounded
    only by the question's own maximum."""
    import re

    top = spec.by_code["ar_i_lanet"].max_value
    return {c.code: float(re.findall(r"\d+", c.label["sv"])[1]) if "–" in c.label["sv"] else top
            for c in spec.by_code["alder"].choices}


def test_nobody_has_lived_in_the_county_longer_than_they_have_lived(db, demo) -> None:  # type: ignore[no-untyped-def]
    spec = load_spec(db, slug="vasternorrland-2030")
    bounds = age_band_upper_bounds(spec)
    rows = db.execute(
        select(Response.id, Answer.question_id, Answer.choice, Answer.number)
        .join(Answer, Answer.response_id == Response.id)
        .where(Response.survey_id == spec.id,
               Answer.question_id.in_([spec.by_code["alder"].id, spec.by_code["ar_i_lanet"].id]))
    ).all()
    bands = {r.id: r.choice for r in rows if r.question_id == spec.by_code["alder"].id}
    years = {r.id: r.number for r in rows if r.question_id == spec.by_code["ar_i_lanet"].id}
    assert len(years) > 30
    assert {rid: (bands[rid], y) for rid, y in years.items() if y > bounds[bands[rid]]} == {}


def test_an_older_demo_databases_impossible_years_are_repaired_when_the_demo_is_loaded_again(
    migrated, demo  # type: ignore[no-untyped-def]
) -> None:
    """A demo database loaded before the years followed the age band: a 16–24-year-old who has
    lived here for 63 years gets believable years when the demo is loaded again."""
    from sqlalchemy import update

    from consult.db import session_scope

    def youngest_with_years():  # type: ignore[no-untyped-def]
        with session_scope() as session:
            spec = load_spec(session, slug="vasternorrland-2030")
            band = select(Answer.response_id).where(Answer.question_id == spec.by_code["alder"].id, Answer.choice == 1)
            return session.execute(select(Answer.id, Answer.number)
                                   .where(Answer.question_id == spec.by_code["ar_i_lanet"].id,
                                          Answer.response_id.in_(band))
                                   .order_by(Answer.id)).first()

    answer_id, fitting = youngest_with_years()
    with session_scope() as session:
        session.execute(update(Answer).where(Answer.id == answer_id).values(number=63.0))
    load_demo(session_scope, responses=0)
    assert youngest_with_years() == (answer_id, fitting) and fitting <= 24


def test_the_generated_years_in_the_county_are_spread_like_a_population() -> None:
    """Across many generated respondents: whole years within the age band, many who have lived
    here all their lives (years at least the band's youngest age) and some who moved in."""
    from consult.demo.service import demo_response, read_fixture, survey_spec_from_fixture

    fixture = read_fixture()
    spec = survey_spec_from_fixture(fixture)
    bounds = age_band_upper_bounds(spec)
    lowest = {c.code: int(c.label["sv"].split("–")[0].split()[0]) for c in spec.by_code["alder"].choices}
    populations = {m["code"]: m["population"] for m in fixture["municipalities"]}
    answers = [demo_response(spec, n, populations).values for n in range(1500)]
    with_years = [(v["alder"], v["ar_i_lanet"]) for v in answers if "ar_i_lanet" in v]
    assert all(years == int(years) and 0 <= years <= bounds[band] for band, years in with_years)
    long_time = sum(1 for band, years in with_years if years >= lowest[band]) / len(with_years)
    moved_in = sum(1 for band, years in with_years if years < lowest[band] - 10) / len(with_years)
    assert 0.35 < long_time < 0.75 and 0.15 < moved_in < 0.5
    assert demo_response(spec, 7, populations).values == demo_response(spec, 7, populations).values


def test_demo_free_text_is_varied(db, demo) -> None:  # type: ignore[no-untyped-def]
    spec = load_spec(db, slug="vasternorrland-2030")
    texts = db.execute(select(Answer.text).where(Answer.question_id == spec.by_code["forandra"].id)).scalars().all()
    assert len(texts) > 30
    assert len(set(texts)) > 0.8 * len(texts)
    channels = {c for (c,) in db.execute(select(Response.channel).where(Response.survey_id == spec.id))}
    assert {"web", "campaign"} <= channels and len(channels) >= 4


def test_every_priority_title_is_the_strategy_documents_whole_title(migrated, demo) -> None:  # type: ignore[no-untyped-def]
    """The priorities read as the strategy writes them, commas and all, in the strategy and in the
    survey's choices; a demo database loaded with titles cut at their first comma is repaired when
    the demo is loaded again."""
    import yaml
    from sqlalchemy import update

    from consult.db import session_scope
    from consult.surveys.models import Choice

    seed = yaml.safe_load(STRATEGY.read_text(encoding="utf-8"))
    whole = {title for area in seed["goal_areas"] for title in area["priorities"]}
    assert "Kraftsamling för att utveckla, behålla och attrahera kompetens och investeringar till länet" in whole
    with session_scope() as session:
        cut = "Kraftsamling för att utveckla"
        session.execute(update(StrategyItem).where(StrategyItem.key == "kompetens-investeringar")
                        .values(title={"sv": cut, "en": "Joint effort to develop"}))
        session.execute(update(Choice).where(Choice.label["sv"].as_string() == whole_title(whole, cut))
                        .values(label={"sv": cut, "en": "Joint effort to develop"}))
    load_demo(session_scope, responses=0)
    with session_scope() as session:
        titles = {i.title["sv"] for i in session.execute(
            select(StrategyItem).where(StrategyItem.kind == "priority")).scalars()}
        spec = load_spec(session, slug="vasternorrland-2030")
    assert titles == whole
    assert {c.label["sv"] for c in spec.by_code["prioriteringar"].choices} == whole
    assert {c.label["en"] for c in spec.by_code["prioriteringar"].choices} >= {
        "Joint effort to develop, retain and attract skills and investment to the county"}


def whole_title(titles: set[str], start: str) -> str:
    return next(t for t in titles if t.startswith(start))


def test_consult_demo_analyses_the_open_questions_into_themes_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`consult demo` (as `make run` calls it) leaves the review team themes to read: each open
    question's answers analysed and the themes selected. Loading it again analyses nothing."""
    import os
    import subprocess
    import sys

    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {**os.environ, "CONSULT_DATABASE_URL": url, "CONSULT_VAR_DIR": str(tmp_path)}

    def consult(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "consult", *args], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    consult("migrate")
    first = consult("demo", "--responses", "120")
    assert "Themes found in the answers to 3 open questions." in first
    engine = create_engine(url)
    with engine.connect() as connection:
        themes = dict(connection.exec_driver_sql(
            "SELECT q.code, count(*) FROM theme_selected t JOIN question q ON q.id = t.question_id"
            " WHERE t.active AND NOT t.is_other GROUP BY q.code").all())
        assigned = connection.exec_driver_sql("SELECT count(*) FROM theme_assignment").scalar_one()
    engine.dispose()
    assert set(themes) == {"forandra", "attraktivt", "flytta_varfor"} and themes["forandra"] >= 2
    assert assigned > 100
    again = consult("demo", "--responses", "120")
    assert "Themes found" not in again


def test_the_demo_remiss_dates_count_from_the_day_of_loading_and_a_reload_keeps_them(migrated, demo) -> None:  # type: ignore[no-untyped-def]
    """The demo remiss is open on the day it is loaded, whatever that day is; loading the demo again
    later creates nothing and moves no date."""
    from datetime import UTC, datetime, timedelta

    from consult.core.formatting import LOCAL_TIME
    from consult.db import session_scope
    from consult.remiss import service as remiss

    spec = remiss.read_draft_fixture()["round"]
    times = remiss.demo_round_times(spec, now=datetime(2026, 11, 28, 23, 30, tzinfo=UTC))  # 29 Nov in Sweden
    assert times["opens"] == datetime(2026, 10, 15, 8, 0, tzinfo=LOCAL_TIME)
    assert times["deadline"] == datetime(2026, 12, 29, 23, 59, tzinfo=LOCAL_TIME)
    with session_scope() as session:
        before = remiss.round_by_key(session, key=spec["key"])
        assert before is not None
        dates = (remiss.as_utc(before.opens_at), remiss.as_utc(before.deadline))
        assert dates[0] < datetime.now(UTC) < dates[1]
    with session_scope() as session:
        again = remiss.load_demo_remiss(session, now=datetime.now(UTC) + timedelta(days=200))
    assert again == {"sections": 0, "organisations": 0, "answers": 0}
    with session_scope() as session:
        after = remiss.round_by_key(session, key=spec["key"])
        assert after is not None and (remiss.as_utc(after.opens_at), remiss.as_utc(after.deadline)) == dates
