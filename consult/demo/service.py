"""The demo consultation: Västernorrland's 2025 strategy review with a resident survey and
generated responses. Loading it twice changes nothing: every row has a stable key, and demo
responses have client UUIDs derived from their number."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import update
from sqlmodel import Session, func, select

from consult.demo.texts import attractive_answer, change_answer
from consult.organisation import service as organisation
from consult.responses.models import Answer, Channel, Response
from consult.responses.service import NewResponse, Outcome, store_responses
from consult.strategy import service as strategy
from consult.strategy.models import StrategyItem
from consult.surveys.models import Choice, Question, Survey
from consult.surveys.schema import ChoiceSpec, PageSpec, QuestionSpec, SurveySpec
from consult.surveys.service import load_spec, save_survey, touch_survey
from consult.surveys.standard import standard_choices

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "vasternorrland.yaml"
DEMO_NAMESPACE = uuid.UUID("6f1f8a52-4c57-4a7e-9a43-3c0b7c1e2d10")


def read_fixture(path: Path = FIXTURE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def survey_spec_from_fixture(fixture: dict[str, Any], status: str | None = None) -> SurveySpec:
    municipalities = [(m["code"], m["name"]) for m in fixture["municipalities"]]
    priorities = [p for area in fixture["strategy"]["goal_areas"] for p in area["priorities"]]
    data = fixture["survey"]
    pages = []
    for page in data["pages"]:
        questions = []
        for raw in page["questions"]:
            raw = dict(raw)
            choices_from = raw.pop("choices_from", None)
            raw_choices = raw.pop("choices", None)
            if choices_from == "priorities":
                choices = tuple(
                    ChoiceSpec(code=i, label={"sv": p["sv"], "en": p["en"]}, priority_key=p["key"])
                    for i, p in enumerate(priorities, start=1)
                )
            elif raw_choices:
                choices = tuple(ChoiceSpec(code=c["code"], label={"sv": c["sv"], "en": c["en"]}) for c in raw_choices)
            else:
                choices = standard_choices(raw["type"], municipalities)
            questions.append(QuestionSpec(choices=choices, **raw))
        pages.append(PageSpec(title=page.get("title"), questions=tuple(questions)))
    fields = {k: v for k, v in data.items() if k != "pages"}
    if status:
        fields["status"] = status
    return SurveySpec(pages=tuple(pages), **fields)


def ensure_structure(session: Session, fixture: dict[str, Any]) -> Survey:
    """Strategy versions, municipalities, the review cycle and the survey, each created once."""
    strategy.upsert_municipalities(session, region=fixture["region"], rows=fixture["municipalities"])
    organisation.set_default_name(session, name=fixture.get("organisation") or {"sv": f"Region {fixture['region']}"})
    versions = {}
    for version in fixture["versions"]:
        existing = strategy.version_by_key(session, key=version["key"])
        if existing is not None and not existing.names and version.get("names"):
            existing.names = version["names"]  # a demo loaded before versions had English names
            session.add(existing)
        versions[version["key"]] = existing or strategy.create_version(
            session,
            key=version["key"],
            name=version["name"],
            names=version.get("names"),
            year=version["year"],
            region=fixture["region"],
            structure=fixture["strategy"],
            omit=version.get("omit", []),
        )
    cycle_data = fixture["cycle"]
    cycle = strategy.cycle_by_key(session, key=cycle_data["key"]) or strategy.create_cycle(
        session,
        key=cycle_data["key"],
        name=cycle_data["name"],
        mandate_period=cycle_data["mandate_period"],
        current_version_id=versions[cycle_data["current_version"]].id,
        proposed_version_id=versions[cycle_data["proposed_version"]].id,
        phases=cycle_data["phases"],
    )
    slug = fixture["survey"]["slug"]
    survey = session.exec(select(Survey).where(Survey.slug == slug)).first()
    if survey is None:
        survey = save_survey(
            session,
            spec=survey_spec_from_fixture(fixture),
            cycle_id=cycle.id,
            strategy_version_id=versions[cycle_data["proposed_version"]].id,
        )
    _repair_priority_titles(session, fixture, [v.id for v in versions.values()], survey)
    _repair_whole_numbers(session, fixture, survey)
    return survey


def _repair_whole_numbers(session: Session, fixture: dict[str, Any], survey: Survey) -> None:
    """Demo databases loaded before number questions could refuse decimals let `ar_i_lanet` take
    12,5; the fixture's rule is turned on for them. Safe with answers: the demo only generates whole
    years."""
    wanted = {q["code"] for page in fixture["survey"]["pages"] for q in page["questions"] if q.get("whole_numbers")}
    questions = session.exec(select(Question).where(Question.survey_id == survey.id,
                                                    Question.code.in_(wanted))).all()  # type: ignore[attr-defined]
    stale = [question for question in questions if not question.whole_numbers]
    for question in stale:
        question.whole_numbers = True
        session.add(question)
    if stale:
        touch_survey(session, survey=survey)


def _repair_priority_titles(session: Session, fixture: dict[str, Any], version_ids: list[int | None],
                            survey: Survey) -> None:
    """Demo databases loaded before the fixture quoted its priorities hold six titles cut at their
    first comma ("Kraftsamling för att utveckla"); give the priorities and the survey's choices made
    from them the fixture's full titles again. Titles that already match are left alone."""
    titles = {p["key"]: {"sv": p["sv"], "en": p["en"]}
              for area in fixture["strategy"]["goal_areas"] for p in area["priorities"]}
    items = session.exec(select(StrategyItem).where(StrategyItem.version_id.in_(version_ids),  # type: ignore[union-attr]
                                                    StrategyItem.kind == "priority")).all()
    for item in items:
        if item.key in titles and item.title != titles[item.key]:
            item.title = titles[item.key]
    keys = {item.id: item.key for item in items}
    choices = session.exec(select(Choice).join(Question, Question.id == Choice.question_id)
                           .where(Question.survey_id == survey.id, Choice.priority_id.in_(list(keys)))).all()  # type: ignore[union-attr]
    for choice in choices:
        wanted = titles.get(keys.get(choice.priority_id, ""))
        if wanted and choice.label != wanted:
            choice.label = wanted


CHANNEL_MIX = [
    (Channel.web, None, None, 40),
    (Channel.campaign, "facebook", None, 14),
    (Channel.campaign, "instagram", None, 7),
    (Channel.campaign, "affisch-kramfors", None, 3),
    (Channel.interview_in_person, None, None, 13),
    (Channel.interview_phone, None, None, 6),
    (Channel.event, None, "Framtidsdag i Härnösand", 9),
    (Channel.kiosk, None, "Framtidsdag i Härnösand", 4),
    (Channel.paper, None, None, 4),
]
AGE_WEIGHTS = [12, 15, 16, 17, 17, 14, 9]
GENDER_WEIGHTS = [51, 45, 2, 2]
PERIOD_START = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)
PERIOD_DAYS = 105


def age_band_ages(spec: SurveySpec, band: int) -> tuple[int, int | None]:
    """The youngest and oldest age an age band's choice names ("16–24 år" is (16, 24), "75 år eller
    äldre" is (75, None)), read from the survey's own choices so the demo follows their wording."""
    label = next(c.label for c in spec.by_code["alder"].choices if c.code == band)
    ages = [int(n) for n in re.findall(r"\d+", label["sv"])]
    return ages[0], ages[1] if len(ages) > 1 else None


OLDEST_DEMO_AGE = 95  # the open top band ("75 år eller äldre") needs an end to draw from


def years_in_county(rng: random.Random, ages: tuple[int, int | None]) -> int:
    """Whole years lived in Västernorrland for someone in the age band `ages`: never more than
    their age. Many have lived here all their lives, some moved in as children or came back,
    and the rest moved here as adults."""
    low, high = ages
    age = rng.randint(low, high if high is not None else OLDEST_DEMO_AGE)
    kind = rng.choices(["lifelong", "early", "adult"], weights=[45, 20, 35])[0]
    if kind == "lifelong":
        return age
    if kind == "early":
        return rng.randint(age // 2, age - 1)
    return rng.randint(0, max(0, age - 18))


def demo_response(spec: SurveySpec, number: int, populations: dict[int, int]) -> NewResponse:
    """Demo response number `number`, the same every time it is generated."""
    rng = random.Random(number * 7919 + 17)
    municipality = rng.choices(list(populations), weights=list(populations.values()))[0]
    channel, tag, event, _weight = rng.choices(CHANNEL_MIX, weights=[c[3] for c in CHANNEL_MIX])[0]
    values: dict[str, Any] = {
        "kommun": municipality,
        "alder": rng.choices(range(1, 8), weights=AGE_WEIGHTS)[0],
        "kon": rng.choices(range(1, 5), weights=GENDER_WEIGHTS)[0],
    }
    if rng.random() < 0.8:
        values["ar_i_lanet"] = float(years_in_county(rng, age_band_ages(spec, values["alder"])))
    for code, mean in (("mal_plats", 3.6), ("mal_leva", 4.3), ("mal_vaxa", 3.9)):
        values[code] = None if rng.random() < 0.05 else float(min(5, max(1, round(rng.gauss(mean, 0.9)))))
    priority_question = spec.by_code["prioriteringar"]
    codes = [c.code for c in priority_question.choices]
    favoured = [5, 8, 10, 11, 15, 16]  # towns and countryside, travel, health, rail, business: often chosen
    weights = [4 if c in favoured else 1 for c in codes]
    chosen: list[int] = []
    while len(chosen) < rng.choice([1, 2, 3, 3, 3]):
        pick = rng.choices(codes, weights=weights)[0]
        if pick not in chosen:
            chosen.append(pick)
    values["prioriteringar"] = sorted(chosen)
    if rng.random() < 0.9:
        values["framtidstro"] = (
            None if rng.random() < 0.07 else float(rng.choices(range(1, 6), weights=[6, 14, 30, 35, 15])[0])
        )
    stay = rng.choices([1, 2, 3], weights=[70, 12, 18])[0]
    values["bo_kvar"] = stay
    if rng.random() < 0.85:
        values["forandra"] = change_answer(municipality, rng)[0]
    if rng.random() < 0.6:
        values["attraktivt"] = attractive_answer(municipality, rng)[0]
    if stay == 2 and rng.random() < 0.7:
        values["flytta_varfor"] = rng.choice(
            ["jobb", "studier", "Bättre jobb i Stockholm", "Närmare familjen", "Bostad", "Studier i Umeå"]
        )
    if rng.random() < 0.85:
        values["kanal"] = (
            5
            if channel in (Channel.interview_in_person, Channel.interview_phone, Channel.event)
            else rng.choice([1, 1, 2, 3, 4, 6])
        )
    values["consent_quote"] = 1 if rng.random() < 0.7 else 2
    submitted = PERIOD_START + timedelta(minutes=rng.randint(0, PERIOD_DAYS * 24 * 60))
    return NewResponse(
        spec=spec,
        client_uuid=str(uuid.uuid5(DEMO_NAMESPACE, f"{spec.slug}-{number}")),
        values=values,
        language="sv" if rng.random() < 0.95 else "en",
        channel=channel,
        campaign_tag=tag,
        event_name=event,
        started_at=submitted - timedelta(seconds=rng.randint(120, 1500)),
        submitted_at=submitted,
        consent_quote=values["consent_quote"] == 1,
    )


def _repair_years_in_county(session: Session, spec: SurveySpec, populations: dict[int, int]) -> None:
    """Demo databases loaded before the years followed the age band hold 16–24-year-olds who have
    lived here for 60 years. Each such demo answer gets the years the demo generates now for that
    response: the draws before the years are unchanged, so they fit the stored age band. Answers
    that already fit, and responses that are not the demo's, are left alone."""
    band_id, years_id = spec.by_code["alder"].id, spec.by_code["ar_i_lanet"].id
    rows = session.exec(select(Response.client_uuid, Answer.question_id, Answer.choice, Answer.number)
                        .join(Answer, Answer.response_id == Response.id)
                        .where(Response.survey_id == spec.id,
                               Answer.question_id.in_([band_id, years_id]))).all()  # type: ignore[union-attr]
    bands = {uuid_: choice for uuid_, question, choice, _number in rows if question == band_id}
    wrong = {uuid_ for uuid_, question, _choice, years in rows
             if question == years_id and years is not None and uuid_ in bands
             and years > (age_band_ages(spec, bands[uuid_])[1] or OLDEST_DEMO_AGE)}
    if not wrong:
        return
    numbers = {str(uuid.uuid5(DEMO_NAMESPACE, f"{spec.slug}-{n}")): n for n in range(len(bands))}
    for client_uuid in wrong & set(numbers):
        years = demo_response(spec, numbers[client_uuid], populations).values.get("ar_i_lanet")
        if years is None:
            continue
        session.execute(update(Answer)
                        .where(Answer.question_id == years_id,
                               Answer.response_id == select(Response.id).where(Response.client_uuid == client_uuid)
                               .scalar_subquery())
                        .values(number=years))


def load_demo(session_factory, *, responses: int = 2000, batch: int = 500) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Create the demo consultation and top its survey up to `responses` generated responses.
    Returns how many were created, how many were there already (kept untouched), and the total."""
    fixture = read_fixture()
    with session_factory() as session:
        survey = ensure_structure(session, fixture)
        session.commit()
        spec = load_spec(session, slug=survey.slug)
        assert spec is not None
        populations = {m["code"]: m["population"] for m in fixture["municipalities"]}
        _repair_years_in_county(session, spec, populations)
        session.commit()
    created = kept = 0
    for start in range(0, responses, batch):
        items = [demo_response(spec, n, populations) for n in range(start, min(start + batch, responses))]
        with session_factory() as session:
            results = store_responses(session, items)
            session.commit()
        created += sum(1 for r in results if r.outcome == Outcome.created)
        # A demo response already stored is left as it is, also when the demo now generates it
        # differently (one of an older demo, which store_responses calls a conflict): it is the
        # same respondent, kept, not a clash to report.
        kept += sum(1 for r in results if r.outcome in (Outcome.duplicate, Outcome.conflict))
    with session_factory() as session:
        total = session.exec(select(func.count()).select_from(Response).where(Response.survey_id == spec.id)).one()
    return {"created": created, "kept": kept, "total": total}


def load_full_demo(session_factory, *, responses: int = 2000, themes: bool = False) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Everything `consult demo` loads: the consultation and its responses, one staff user per
    role, and the remiss round with its organisations when that domain is installed. With
    `themes`, each open question's answers are analysed into themes as well."""
    from consult.accounts.service import ensure_demo_users
    from consult.domains import optional_module

    result = load_demo(session_factory, responses=responses)
    with session_factory() as session:
        ensure_demo_users(session)
        session.commit()
    remiss = optional_module("remiss.service")
    if remiss is not None:
        with session_factory() as session:
            remiss.load_demo_remiss(session)
            session.commit()
    result["analysed"] = load_demo_themes(session_factory) if themes else 0
    return result


def load_demo_themes(session_factory) -> int:  # type: ignore[no-untyped-def]
    """Analyse each open question of the demo survey into themes and keep them as the selected
    themes, as an analyst would, so the workspace, the coverage of the strategy and the summary
    report show themes from the start. Questions that already have themes, or too few answers,
    are left alone. Returns how many questions were analysed."""
    from consult.domains import optional_module

    themes, jobs = optional_module("themes.service"), optional_module("themes.jobs")
    if themes is None or jobs is None:
        return 0
    with session_factory() as session:
        spec = load_spec(session, slug=read_fixture()["survey"]["slug"])
        assert spec is not None
        waiting = [
            question.id for question in themes.text_questions(spec)
            if themes.accepted_run_id(session, question_id=question.id) is None
            and themes.active_run(session, question_id=question.id) is None
            and themes.count_answers(session, question_id=question.id) >= themes.MIN_ANSWERS
        ]
    analysed = 0
    for question_id in waiting:
        with session_factory() as session:
            run_id = themes.start_run(session, survey_id=spec.id, question_id=question_id, user_id=None).id
            session.commit()
        jobs.run_pending()
        with session_factory() as session:
            try:
                themes.accept_run(session, run_id=run_id, user_id=None)
            except themes.ThemeError:
                continue  # the run failed; its page says why, and the demo goes on without it
            session.commit()
        analysed += 1
    return analysed
