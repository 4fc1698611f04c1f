"""Strategy versions, review cycles and municipalities: creating and reading them."""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlmodel import Session, col, func, select

from consult.core.fields import pick
from consult.core.formatting import swedish_sort_key
from consult.core.i18n import N_
from consult.core.problems import FieldProblem
from consult.strategy.models import CyclePhase, ItemKind, Municipality, ReviewCycle, StrategyItem, StrategyVersion


def create_version(
    session: Session,
    *,
    key: str,
    name: str,
    year: int,
    region: str,
    structure: dict[str, Any],
    omit: Iterable[str] = (),
    names: dict[str, str] | None = None,
) -> StrategyVersion:
    """Store a version from the fixture's structure (goal areas with priorities, principles),
    leaving out the priorities that version did not have. `names`: its name in other languages."""
    left_out = set(omit)
    version = StrategyVersion(
        key=key, name=name, names=names or {}, year=year, region=region, vision=structure["vision"],
        tagline=structure.get("tagline"),
    )
    session.add(version)
    session.flush()
    assert version.id is not None
    for area_position, area in enumerate(structure["goal_areas"], start=1):
        goal = StrategyItem(
            version_id=version.id,
            kind=ItemKind.goal_area,
            key=area["key"],
            position=area_position,
            title=area["title"],
            description=area.get("short"),
        )
        session.add(goal)
        session.flush()
        for position, priority in enumerate(area["priorities"], start=1):
            if priority["key"] in left_out:
                continue
            session.add(
                StrategyItem(
                    version_id=version.id,
                    parent_id=goal.id,
                    kind=ItemKind.priority,
                    key=priority["key"],
                    position=area_position * 100 + position,
                    title=_languages(priority),
                    keywords=list(priority.get("keywords", [])),
                )
            )
    for position, principle in enumerate(structure["principles"], start=1):
        session.add(
            StrategyItem(
                version_id=version.id,
                kind=ItemKind.principle,
                key=principle["key"],
                position=1000 + position,
                title=_languages(principle),
            )
        )
    session.flush()
    return version


def _languages(entry: dict[str, Any]) -> dict[str, str]:
    """An entry's title by language: Swedish always, English where the source has it."""
    return {language: entry[language] for language in ("sv", "en") if entry.get(language)}


def items(session: Session, *, version_id: int, kind: str | None = None) -> list[StrategyItem]:
    query = select(StrategyItem).where(StrategyItem.version_id == version_id)
    if kind:
        query = query.where(StrategyItem.kind == kind)
    return list(session.exec(query.order_by(StrategyItem.position)).all())


def version_by_key(session: Session, *, key: str) -> StrategyVersion | None:
    return session.exec(select(StrategyVersion).where(StrategyVersion.key == key)).first()


def create_cycle(
    session: Session,
    *,
    key: str,
    name: dict[str, str],
    mandate_period: str,
    current_version_id: int | None,
    proposed_version_id: int | None,
    phases: list[dict[str, Any]],
) -> ReviewCycle:
    cycle = ReviewCycle(
        key=key,
        name=name,
        mandate_period=mandate_period,
        current_version_id=current_version_id,
        proposed_version_id=proposed_version_id,
    )
    session.add(cycle)
    session.flush()
    assert cycle.id is not None
    for position, phase in enumerate(phases, start=1):
        session.add(
            CyclePhase(
                cycle_id=cycle.id,
                key=phase["key"],
                name={"sv": phase["sv"], "en": phase["en"]},
                position=position,
                starts_on=_as_date(phase.get("starts")),
                ends_on=_as_date(phase.get("ends")),
            )
        )
    session.flush()
    return cycle


# The phases of a mandate-period review, named as the demo's review names them; a new review gets
# them without dates, and the phase-dates form fills them in.
STANDARD_PHASES: list[dict[str, Any]] = [
    {"key": "inspel", "sv": "Inspel från invånare och aktörer", "en": "Input from residents and organisations"},
    {"key": "framtidsdag", "sv": "Framtidsdag", "en": "Future day"},
    {"key": "remiss", "sv": "Remiss av förslaget", "en": "Consultation on the draft"},
    {"key": "sammanstallning", "sv": "Sammanställning av inspel", "en": "Summary of input"},
    {"key": "beslut", "sv": "Beslut i regionfullmäktige", "en": "Decision by the regional council"},
]
KEY_RULE = N_(
    "Use lower-case letters a–z, digits and hyphens for the key, starting with a letter or digit (at most 64)."
)
CYCLE_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
RESERVED_CYCLE_KEYS = {"ny"}  # the address of the form that creates one
_MANDATE_PERIOD = re.compile(r"^(\d{4})\s*[-–—]\s*(\d{4})$")
MAX_CYCLE_NAME = 200


@dataclass(frozen=True)
class NewCycle:
    """A review cycle as the admin form gives it, fields as typed."""

    key: str = ""
    name_sv: str = ""
    name_en: str = ""
    mandate_period: str = ""
    current_version: str = ""  # a version's id
    proposed_version: str = ""  # a version's id, or empty


class CycleRefused(Exception):
    """Nothing was created; `errors` maps each form field to an English msgid (with `params`)."""

    def __init__(self, errors: dict[str, tuple[str, dict[str, Any]]]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def create_cycle_from_form(session: Session, *, form: NewCycle) -> ReviewCycle:
    """Check the form, then create the cycle with the standard phases (no dates yet); raises
    CycleRefused with every field's problem, creating nothing."""
    values = _checked_cycle(session, form=form, cycle=None)
    return create_cycle(session, **values, phases=[dict(phase) for phase in STANDARD_PHASES])


def update_cycle_from_form(session: Session, *, cycle: ReviewCycle, form: NewCycle) -> list[str]:
    """Change a cycle's name, mandate period and versions (its key stays: addresses use it); raises
    CycleRefused, changing nothing. Returns the names of the fields that changed."""
    values = _checked_cycle(session, form=form, cycle=cycle)
    values.pop("key")
    changed = [name for name, value in values.items() if getattr(cycle, name) != value]
    for name in changed:
        setattr(cycle, name, values[name])
    session.add(cycle)
    session.flush()
    return changed


def _checked_cycle(session: Session, *, form: NewCycle, cycle: ReviewCycle | None) -> dict[str, Any]:
    """The form's values as the cycle stores them, or CycleRefused with each field's problem. For an
    existing cycle the key is its own, and a version it already uses for a survey question or a
    remiss round cannot be replaced."""
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    key = cycle.key if cycle is not None else form.key.strip()
    if cycle is None and (key_problem := _new_cycle_key_problem(session, key)):
        errors["key"] = key_problem
    name_sv, name_en = " ".join(form.name_sv.split()), " ".join(form.name_en.split())
    if not name_sv:
        errors["name_sv"] = (N_("Give the review's name in Swedish."), {})
    for field_name, text in (("name_sv", name_sv), ("name_en", name_en)):
        if len(text) > MAX_CYCLE_NAME and field_name not in errors:
            errors[field_name] = (N_("Shorten the name to at most %(max)s characters."), {"max": MAX_CYCLE_NAME})
    period = _MANDATE_PERIOD.match(form.mandate_period.strip())
    if period is None:
        errors["mandate_period"] = (N_("Give the mandate period as two years, for example 2027–2030."), {})
    elif int(period.group(2)) < int(period.group(1)):
        errors["mandate_period"] = (N_("The mandate period cannot end before it starts."), {})
    known = {str(v.id): v for v in versions(session)}
    current = known.get(form.current_version.strip())
    if current is None:
        errors["current_version"] = (N_("Choose the strategy version the review starts from."), {})
    proposed = known.get(form.proposed_version.strip()) if form.proposed_version.strip() else None
    if form.proposed_version.strip() and proposed is None:
        errors["proposed_version"] = (N_("Choose a strategy version from the list, or none."), {})
    elif proposed is not None and current is not None and proposed.id == current.id:
        errors["proposed_version"] = (N_("Choose a proposed version other than the one under review."), {})
    if cycle is not None:
        for field_name, old_id, new in (
            ("current_version", cycle.current_version_id, current),
            ("proposed_version", cycle.proposed_version_id, proposed),
        ):
            if field_name not in errors and old_id is not None and old_id != (new.id if new else None):
                uses = version_uses_in_cycle(session, cycle_id=cycle.id or 0, version_id=old_id)
                if uses:
                    errors[field_name] = (VERSION_IN_USE, {"uses": uses})
    if errors:
        raise CycleRefused(errors)
    assert period is not None and current is not None
    return {
        "key": key,
        "name": {"sv": name_sv, "en": name_en} if name_en else {"sv": name_sv},
        "mandate_period": f"{period.group(1)}–{period.group(2)}",
        "current_version_id": current.id,
        "proposed_version_id": proposed.id if proposed else None,
    }


def _new_cycle_key_problem(session: Session, key: str) -> tuple[str, dict[str, Any]] | None:
    if not key:
        return N_("Give the review a key, for example oversyn-2029."), {}
    if not CYCLE_KEY.match(key) or key in RESERVED_CYCLE_KEYS:
        return KEY_RULE, {}
    if cycle_by_key(session, key=key) is not None:
        return N_("The key %(key)s is already used by another review."), {"key": key}
    return None


VERSION_IN_USE = N_(
    "The review's surveys or remiss already use this version (%(uses)s), so it cannot be replaced here."
)


def version_uses_in_cycle(session: Session, *, cycle_id: int, version_id: int) -> dict[str, int]:
    """What in one cycle depends on a strategy version: questions and choices of its surveys tied to
    the version's priorities, and its remiss rounds on the version (table name -> rows)."""
    from consult.remiss.models import RemissRound
    from consult.surveys.models import Choice, Question, Survey

    item_ids = select(StrategyItem.id).where(StrategyItem.version_id == version_id)
    survey_ids = select(Survey.id).where(Survey.cycle_id == cycle_id)
    question_ids = select(Question.id).where(col(Question.survey_id).in_(survey_ids))
    counts = {
        "question": session.exec(
            select(func.count()).where(col(Question.id).in_(question_ids), col(Question.priority_id).in_(item_ids))
        ).one(),
        "choice": session.exec(
            select(func.count()).where(col(Choice.question_id).in_(question_ids), col(Choice.priority_id).in_(item_ids))
        ).one(),
        "remiss_round": session.exec(
            select(func.count()).where(RemissRound.cycle_id == cycle_id, RemissRound.version_id == version_id)
        ).one(),
    }
    return {table: count for table, count in counts.items() if count}


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def cycles(session: Session) -> list[ReviewCycle]:
    """Every review cycle, the newest first."""
    return list(session.exec(select(ReviewCycle).order_by(col(ReviewCycle.id).desc())).all())


def cycle_by_key(session: Session, *, key: str) -> ReviewCycle | None:
    return session.exec(select(ReviewCycle).where(ReviewCycle.key == key)).first()


def reviewed_region(session: Session, *, cycle: ReviewCycle | None) -> str:
    """The region of the strategy version `cycle` reviews, or of the newest version without one."""
    version = session.get(StrategyVersion, cycle.current_version_id) if cycle and cycle.current_version_id else None
    if version is None:
        version = session.exec(select(StrategyVersion).order_by(col(StrategyVersion.id).desc())).first()
    return version.region if version else ""


def upsert_municipalities(session: Session, *, region: str, rows: list[dict[str, Any]]) -> None:
    existing = {m.code: m for m in session.exec(select(Municipality)).all()}
    _write_municipalities(session, existing=existing, rows=rows, region=region)


def _write_municipalities(
    session: Session, *, existing: dict[int, Municipality], rows: list[dict[str, Any]], region: str
) -> None:
    """Each row's municipality added, or renamed and given its population, by its code."""
    for row in rows:
        municipality = existing.get(row["code"]) or Municipality(code=row["code"], name=row["name"], region=region)
        municipality.name = row["name"]
        municipality.population = row["population"]
        session.add(municipality)
    session.flush()


def municipalities(session: Session) -> list[Municipality]:
    return sorted(session.exec(select(Municipality)).all(), key=lambda m: swedish_sort_key(m.name))


# --- the organisation's own list of municipalities ------------------------------------------------

MAX_MUNICIPALITIES = 500
MUNICIPALITY_HEADER = ("code", "name", "population")
_HEADER_WORDS = {"code", "kod", "kommunkod", "name", "namn", "kommun", "population", "folkmängd", "invånare"}


@dataclass(frozen=True)
class RowProblem:
    """A problem with one line of a municipality list (line 0: the list as a whole)."""

    line: int
    message: str
    values: dict[str, Any]


def municipalities_as_text(session: Session) -> str:
    """The stored list as the semicolon-separated text the edit form shows, ordered by code."""
    rows = sorted(municipalities(session), key=lambda m: m.code)
    return "\n".join(f"{m.code};{m.name};{m.population}" for m in rows)


def parse_municipalities(text: str) -> tuple[list[dict[str, Any]], list[RowProblem]]:
    """Rows of code, name and population, separated by commas or semicolons, with or without a
    header line. Every bad line gets a problem of its own; rows are only good when no line is bad."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        return [], [RowProblem(0, N_("The list is empty: give one municipality per line."), {})]
    if len(lines) > MAX_MUNICIPALITIES + 1:
        return [], [RowProblem(0, N_("The list has more than %(max)s municipalities."), {"max": MAX_MUNICIPALITIES})]
    sample = "\n".join(line for _, line in lines[:20])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;").delimiter
    except csv.Error:
        delimiter = ";" if ";" in lines[0][1] else ","
    rows: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    seen: dict[int, int] = {}
    for index, (number, line) in enumerate(lines):
        try:
            cells = [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]
        except csv.Error:
            problems.append(RowProblem(number, N_("Line %(line)s could not be read: check the quotation marks."),
                                       {"line": number}))
            continue
        if index == 0 and cells and cells[0].lower() in _HEADER_WORDS:
            continue  # the column names
        if len(cells) != 3:
            problems.append(RowProblem(number, N_("Line %(line)s must have three values: code, name and population."),
                                       {"line": number}))
            continue
        code_text, name, population_text = cells
        code = _whole_number(code_text)
        population = _whole_number(population_text.replace(" ", "").replace("\u00a0", ""))
        if code is None or code <= 0:
            problems.append(RowProblem(number, N_("Line %(line)s: the code “%(value)s” is not a whole number."),
                                       {"line": number, "value": code_text}))
        elif code in seen:
            problems.append(RowProblem(number, N_("Line %(line)s: the code %(code)s is already on line %(other)s."),
                                       {"line": number, "code": code, "other": seen[code]}))
        if not name:
            problems.append(RowProblem(number, N_("Line %(line)s: the name is missing."), {"line": number}))
        elif len(name) > 100:
            problems.append(RowProblem(number, N_("Line %(line)s: the name can be at most 100 characters long."),
                                       {"line": number}))
        if population is None or population < 0:
            problems.append(RowProblem(number, N_("Line %(line)s: the population “%(value)s” is not a whole number."),
                                       {"line": number, "value": population_text}))
        if code is not None and code > 0:
            seen.setdefault(code, number)
        rows.append({"code": code, "name": name, "population": population})
    if not problems and not rows:
        problems.append(RowProblem(0, N_("The list is empty: give one municipality per line."), {}))
    return ([] if problems else rows), problems


def _whole_number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def municipality_codes_in_answers(session: Session) -> set[int]:
    """The municipality codes some answer holds, in a question of the municipality type."""
    from consult.responses.models import Answer
    from consult.surveys.models import Question, QuestionType

    questions = select(Question.id).where(Question.type == QuestionType.municipality)
    found = session.exec(
        select(Answer.choice).where(col(Answer.question_id).in_(questions), col(Answer.choice).is_not(None)).distinct()
    ).all()
    return {int(code) for code in found if code is not None}


def replace_municipalities(session: Session, *, rows: list[dict[str, Any]], region: str = "") -> list[RowProblem]:
    """Make the stored list `rows` (from parse_municipalities). A municipality whose code answers
    hold may be renamed but not removed: those answers would lose their municipality. Nothing is
    stored when a problem is returned; the caller commits."""
    existing = {m.code: m for m in session.exec(select(Municipality)).all()}
    wanted = {row["code"] for row in rows}
    in_use = municipality_codes_in_answers(session)
    problems = [
        RowProblem(0, N_("%(name)s (code %(code)s) cannot be removed or given another code: answers already "
                         "hold that code, and they would lose their municipality. Keep the line with the same code."),
                   {"name": existing[code].name, "code": code})
        for code in sorted((set(existing) - wanted) & in_use)
    ]
    if problems:
        return problems
    for code, municipality in existing.items():
        if code not in wanted:
            session.delete(municipality)
    _write_municipalities(session, existing=existing, rows=rows, region=region)
    _offer_in_unanswered_surveys(session)
    return []


def _offer_in_unanswered_surveys(session: Session) -> None:
    """The municipality questions of surveys nobody has begun to answer offer the new list at once."""
    from consult.surveys.models import QuestionType
    from consult.surveys.service import set_standard_choices
    from consult.surveys.standard import standard_choices

    listed = [(m.code, m.name) for m in municipalities(session)]
    choices = standard_choices(QuestionType.municipality, listed)
    set_standard_choices(session, question_type=QuestionType.municipality, choices=choices)


# --- the analysts' keywords ----------------------------------------------------------------------

MAX_KEYWORDS = 80
MAX_KEYWORDS_TEXT = 4000
MAX_KEYWORD_LENGTH = 40
# Letters or digits, with single spaces, hyphens or apostrophes inside ("e-hälsa", "kultur och fritid").
_KEYWORD = re.compile(r"^[^\W_]+(?:[ '’-][^\W_]+)*$")
_SEPARATORS = re.compile(r"[,;\n]")


class KeywordProblem(FieldProblem):
    pass


@lru_cache(maxsize=1)
def packaged_keywords() -> dict[str, Any]:
    """The keyword lists shipped with the engine, by Swedish title of the priority or principle."""
    from analysis.io import DEFAULT_KEYWORDS, read_yaml

    try:
        return read_yaml(DEFAULT_KEYWORDS)
    except Exception:  # noqa: BLE001 - a missing or broken list only weakens matching
        return {}


def packaged_for(item: StrategyItem) -> list[str]:
    group = "priorities" if item.kind == ItemKind.priority else "principles"
    return list((packaged_keywords().get(group) or {}).get(pick(item.title, "sv"), []))


def effective_keywords(item: StrategyItem) -> list[str]:
    """The words matching uses for this item: the analysts' list once they have edited it, else the
    default list."""
    return list(item.edited_keywords) if item.edited_keywords is not None else default_keywords(item)


def default_keywords(item: StrategyItem) -> list[str]:
    """The version's own keywords (from its data) plus the packaged list. Matching lower-cases
    anyway, so "EU" and "eu" are one keyword."""
    return list(dict.fromkeys(word.lower() for word in [*(item.keywords or []), *packaged_for(item)]))


def parse_keywords(raw: str) -> list[str]:
    """Keywords separated by commas, semicolons or new lines; lower-cased, repeats dropped."""
    if len(raw) > MAX_KEYWORDS_TEXT:
        raise KeywordProblem(
            "keywords",
            N_("Shorten the list to at most %(max)s characters (now %(length)s)."),
            max=MAX_KEYWORDS_TEXT,
            length=len(raw),
        )
    words: list[str] = []
    for part in _SEPARATORS.split(raw):
        word = " ".join(part.split()).lower()
        if not word:
            continue
        if len(word) < 2 or len(word) > MAX_KEYWORD_LENGTH or not _KEYWORD.match(word):
            raise KeywordProblem(
                "keywords",
                N_("“%(word)s” cannot be a keyword: use 2–%(max)s letters or digits, with spaces or hyphens between."),
                word=word[:MAX_KEYWORD_LENGTH],
                max=MAX_KEYWORD_LENGTH,
            )
        words.append(word)
    words = list(dict.fromkeys(words))
    if len(words) > MAX_KEYWORDS:
        raise KeywordProblem(
            "keywords", N_("Give at most %(max)s keywords (now %(count)s)."), max=MAX_KEYWORDS, count=len(words)
        )
    return words


def set_keywords(session: Session, *, item: StrategyItem, raw: str) -> list[str]:
    """Replace the item's keywords with the analysts' list; raises KeywordProblem, changing nothing."""
    words = parse_keywords(raw)
    item.edited_keywords = words
    session.add(item)
    session.flush()
    return words


def reset_keywords(session: Session, *, item: StrategyItem) -> None:
    """Back to the default list."""
    item.edited_keywords = None
    session.add(item)
    session.flush()


def item_by_key(session: Session, *, version_key: str, item_key: str) -> tuple[StrategyVersion, StrategyItem] | None:
    """A priority or principle of a version (the items analysts give keywords)."""
    version = version_by_key(session, key=version_key)
    if version is None:
        return None
    item = session.exec(
        select(StrategyItem).where(
            StrategyItem.version_id == version.id,
            StrategyItem.key == item_key,
            col(StrategyItem.kind).in_([ItemKind.priority, ItemKind.principle]),
        )
    ).first()
    return (version, item) if item else None


def versions(session: Session) -> list[StrategyVersion]:
    return list(session.exec(select(StrategyVersion).order_by(StrategyVersion.year, StrategyVersion.key)).all())


# --- reading and comparing versions ---------------------------------------------------------------


@dataclass(frozen=True)
class Outline:
    """A version as its document has it: goal areas with their priorities, then the principles."""

    version: StrategyVersion
    goal_areas: list[tuple[StrategyItem, list[StrategyItem]]]
    principles: list[StrategyItem]

    def items(self) -> list[StrategyItem]:
        """The priorities and principles, in the document's order: the items with keywords."""
        return [item for _, priorities in self.goal_areas for item in priorities] + self.principles


def outline(session: Session, *, version: StrategyVersion) -> Outline:
    assert version.id is not None
    every = items(session, version_id=version.id)
    areas = [item for item in every if item.kind == ItemKind.goal_area]
    below = {area.id: [i for i in every if i.kind == ItemKind.priority and i.parent_id == area.id] for area in areas}
    return Outline(
        version, [(area, below[area.id]) for area in areas], [item for item in every if item.kind == ItemKind.principle]
    )


class Change(StrEnum):
    added = "added"
    removed = "removed"
    renamed = "renamed"
    moved = "moved"  # the same priority under another goal area
    same = "same"


@dataclass(frozen=True)
class ItemChange:
    kind: str
    key: str
    change: Change
    old: StrategyItem | None
    new: StrategyItem | None


def compare_versions(session: Session, *, old: StrategyVersion, new: StrategyVersion) -> list[ItemChange]:
    """Goal areas, priorities and principles of two versions matched by their stable keys, in the
    newer version's order with what it dropped at the end."""
    assert old.id is not None and new.id is not None
    kinds = (ItemKind.goal_area, ItemKind.priority, ItemKind.principle)
    before = {i.key: i for i in items(session, version_id=old.id) if i.kind in kinds}
    after = [i for i in items(session, version_id=new.id) if i.kind in kinds]
    parent_keys = {i.id: i.key for i in [*before.values(), *after]}
    changes = []
    for item in after:
        earlier = before.pop(item.key, None)
        if earlier is None:
            change = Change.added
        elif earlier.title != item.title:
            change = Change.renamed
        elif parent_keys.get(earlier.parent_id) != parent_keys.get(item.parent_id):
            change = Change.moved
        else:
            change = Change.same
        changes.append(ItemChange(item.kind, item.key, change, earlier, item))
    changes += [ItemChange(item.kind, key, Change.removed, item, None) for key, item in before.items()]
    return changes


# --- the review's phases --------------------------------------------------------------------------


class PhaseState(StrEnum):
    done = "done"
    now = "now"
    coming = "coming"


@dataclass(frozen=True)
class PhaseView:
    phase: CyclePhase
    state: PhaseState


def phases(session: Session, *, cycle_id: int) -> list[CyclePhase]:
    query = select(CyclePhase).where(CyclePhase.cycle_id == cycle_id).order_by(CyclePhase.position)
    return list(session.exec(query).all())


def phase_state(phase: CyclePhase, today: date) -> PhaseState:
    """A phase with only a first day is a one-day event; one with only a last day is a deadline,
    coming until it has passed; one without dates is coming."""
    last = phase.ends_on or phase.starts_on
    if last is not None and last < today:
        return PhaseState.done
    if phase.starts_on is None or phase.starts_on > today:
        return PhaseState.coming
    return PhaseState.now


def timeline(session: Session, *, today: date) -> tuple[ReviewCycle, list[PhaseView]] | None:
    """The review the public page describes: the one under way today, else the one whose phases
    ended last (a finished review stays on show until the next one starts)."""
    cycles = list(session.exec(select(ReviewCycle)).all())
    best: tuple[tuple[int, date], ReviewCycle, list[CyclePhase]] | None = None
    for cycle in cycles:
        assert cycle.id is not None
        steps = phases(session, cycle_id=cycle.id)
        dates = [d for p in steps for d in (p.starts_on, p.ends_on) if d is not None]
        if not dates:
            continue
        under_way = min(dates) <= today <= max(dates)
        rank = (1 if under_way else 0, max(dates) if max(dates) <= today or under_way else date.min)
        if best is None or rank > best[0]:
            best = (rank, cycle, steps)
    if best is None:
        return None
    return best[1], [PhaseView(p, phase_state(p, today)) for p in best[2]]


PhaseDates = dict[str, tuple[date | None, date | None]]


def parse_phase_dates(raw: dict[str, tuple[str, str]]) -> tuple[PhaseDates, dict[str, str]]:
    """Start and end dates per phase key as typed (YYYY-MM-DD, or empty); errors by field name."""
    dates: PhaseDates = {}
    errors: dict[str, str] = {}
    for key, (start_raw, end_raw) in raw.items():
        parsed = []
        for field_name, text in ((f"start-{key}", start_raw), (f"end-{key}", end_raw)):
            try:
                parsed.append(date.fromisoformat(text.strip()) if text.strip() else None)
            except ValueError:
                errors[field_name] = N_("Enter a date as YYYY-MM-DD, for example 2027-03-01.")
                parsed.append(None)
        start, end = parsed
        if start and end and end < start:
            errors[f"end-{key}"] = N_("The phase cannot end before it starts.")
        dates[key] = (start, end)
    return dates, errors


def set_phase_dates(session: Session, *, cycle_id: int, dates: PhaseDates) -> int:
    """Store checked dates; returns how many phases changed."""
    changed = 0
    for phase in phases(session, cycle_id=cycle_id):
        if phase.key in dates and dates[phase.key] != (phase.starts_on, phase.ends_on):
            phase.starts_on, phase.ends_on = dates[phase.key]
            session.add(phase)
            changed += 1
    session.flush()
    return changed



# --- titles in the reader's language --------------------------------------------------------------

# The theme engine names priorities by their Swedish titles; pages in English show the strategy's own
# English title. Read once per process (the titles come from the strategy document and do not change
# at run time); a title not found is looked up again once, then shown as it is.
_titles: dict[str, dict[str, str]] = {}
_titles_lock = threading.Lock()


def version_name(version: Any, language: str) -> str:
    """A strategy version's name in the interface's language, or its Swedish name."""
    return (getattr(version, "names", None) or {}).get(language) or version.name


def localized_title(title_sv: str, language: str) -> str:
    if language == "sv" or not title_sv:
        return title_sv
    with _titles_lock:
        entry = _titles.get(title_sv)
        if entry is None:
            _load_titles()
            entry = _titles.setdefault(title_sv, {})
    return entry.get(language) or title_sv


def _load_titles() -> None:
    from consult.db import session_scope

    with session_scope() as session:
        for item in session.exec(select(StrategyItem)).all():
            if item.title:
                # Versions may share a title, one of them without English (an imported Swedish-only
                # version): each language is kept from whichever version has it.
                entry = _titles.setdefault(pick(item.title, "sv"), {})
                for language, text in item.title.items():
                    if text:
                        entry.setdefault(language, text)
