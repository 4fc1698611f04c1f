"""Importing a strategy version from a YAML or JSON file in the shape of the seed's strategy.yaml:
a name, a year, the vision, goal areas with their priorities, and principles; each title a text in
Swedish or a {sv, en} pair. One function for the web form and the command line: it checks the whole
file before it stores anything."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlmodel import Session

from consult.core.i18n import N_
from consult.core.problems import FieldProblem
from consult.strategy.models import StrategyVersion
from consult.strategy.service import KEY_RULE, create_version, version_by_key

MAX_FILE_BYTES = 1_000_000
MAX_ITEMS = 500
MAX_TITLE = 1000
MAX_KEYWORDS = 80
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
RESERVED_KEYS = {"jamfor", "importera"}  # the addresses of the strategy pages themselves


NOT_UTF8 = N_("The file is not text in UTF-8: save the strategy as a YAML or JSON file.")
NOT_A_STRATEGY = N_(
    "The file does not describe a strategy: it should have a name, a year, a vision, goal areas with priorities,"
    " and principles."
)


class ImportProblem(FieldProblem):
    """One reason a file or key cannot be imported; `field` is "file" or "key"."""


class ImportRefused(Exception):
    """The import stored nothing, for these reasons (at most one per field)."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass
class ParsedStrategy:
    name: str
    names: dict[str, str]
    year: int
    region: str
    structure: dict[str, Any] = field(default_factory=dict)

    def count(self) -> dict[str, int]:
        areas = self.structure["goal_areas"]
        return {
            "goal_areas": len(areas),
            "priorities": sum(len(area["priorities"]) for area in areas),
            "principles": len(self.structure["principles"]),
        }


KEY_IN_USE = N_("The key %(key)s is already used by another strategy version.")


def check_key(session: Session, key: str) -> str:
    key = key.strip()
    if not key:
        raise ImportProblem("key", N_("Give the version a key, for example rus-2031."))
    if not KEY_PATTERN.match(key) or key in RESERVED_KEYS:
        raise ImportProblem("key", KEY_RULE)
    if version_by_key(session, key=key) is not None:
        raise ImportProblem("key", KEY_IN_USE, key=key)
    return key


def read_file(data: bytes) -> Any:
    """The file's data as YAML (JSON is read as JSON)."""
    if not data.strip():
        raise ImportProblem("file", N_("Choose a YAML or JSON file to upload."))
    if len(data) > MAX_FILE_BYTES:
        raise ImportProblem("file", N_("The file is larger than 1 MB."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportProblem("file", NOT_UTF8) from None
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except ValueError as error:
            line = getattr(error, "lineno", None)
            if line:
                message = N_("The file could not be read as JSON (line %(line)s).")
                raise ImportProblem("file", message, line=line) from None
            raise ImportProblem("file", N_("The file could not be read as JSON.")) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            raise ImportProblem(
                "file", N_("The file could not be read as YAML (line %(line)s)."), line=mark.line + 1
            ) from None
        raise ImportProblem("file", N_("The file could not be read as YAML.")) from None


def _text(value: Any) -> dict[str, str] | None:
    """A title in Swedish (a plain text) or by language ({sv: ..., en: ...}); None when there is no
    Swedish text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str | int | float):
        value = {"sv": value}
    if not isinstance(value, dict):
        return None
    texts = {}
    for language in ("sv", "en"):
        raw = value.get(language)
        if isinstance(raw, str | int | float) and not isinstance(raw, bool) and str(raw).strip():
            text = " ".join(str(raw).split())
            if len(text) > MAX_TITLE:
                raise ImportProblem(
                    "file", N_("“%(start)s…” is longer than %(max)s characters."), start=text[:40], max=MAX_TITLE
                )
            texts[language] = text
    return texts if "sv" in texts else None


def _slug(title: str) -> str:
    plain = unicodedata.normalize("NFKD", title.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    slug = ""
    for word in re.findall(r"[a-z0-9]+", plain):  # whole words, up to 40 characters
        if slug and len(slug) + 1 + len(word) > 40:
            break
        slug = f"{slug}-{word}" if slug else word[:40]
    return slug or "del"


class _Keys:
    """The items' keys: the file's own where it gives them, else made from the Swedish title."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, given: Any, title: str) -> str:
        if given is not None and str(given).strip():
            key = str(given).strip()
            if not KEY_PATTERN.match(key):
                raise ImportProblem(
                    "file",
                    N_("“%(key)s” cannot be a key in the file: use lower-case letters a–z, digits and hyphens."),
                    key=key[:64],
                )
            if key in self.used:
                raise ImportProblem("file", N_("The key %(key)s is used twice in the file."), key=key)
        else:
            base = key = _slug(title)
            number = 2
            while key in self.used:
                key, number = f"{base}-{number}", number + 1
        self.used.add(key)
        return key


def _keywords(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    words = [str(word).strip()[:40] for word in value if isinstance(word, str | int) and str(word).strip()]
    return words[:MAX_KEYWORDS]


def _entry(value: Any, keys: _Keys, problem: ImportProblem) -> dict[str, Any]:
    """A priority or principle: a plain title, or {key, sv, en, keywords} or {key, title, keywords}."""
    title = _text(value["title"] if isinstance(value, dict) and "title" in value else value)
    if title is None:
        raise problem
    given = value.get("key") if isinstance(value, dict) else None
    entry: dict[str, Any] = {"key": keys.take(given, title["sv"]), **title}
    if isinstance(value, dict):
        entry["keywords"] = _keywords(value.get("keywords"))
    return entry


def parse_strategy(raw: Any) -> ParsedStrategy:
    """Check the file's data and bring it to the shape create_version stores."""
    if not isinstance(raw, dict):
        raise ImportProblem("file", NOT_A_STRATEGY)
    source = {**raw, **raw["strategy"]} if isinstance(raw.get("strategy"), dict) else raw
    name = _text(source.get("name") or source.get("document"))
    if name is None:
        raise ImportProblem("file", N_("The file has no name: give the strategy's name as “name” or “document”."))
    year_raw = source.get("year") or source.get("adopted")
    try:
        year = int(str(year_raw).strip()) if not isinstance(year_raw, bool) else 0
    except ValueError:
        year = 0
    if not 1900 <= year <= 2200:
        raise ImportProblem("file", N_("The file has no year: give it as “year” or “adopted”, for example 2031."))
    region = source.get("region")
    region_text = " ".join(str(region).split())[:100] if isinstance(region, str | int) else ""

    vision_raw = source.get("vision")
    tagline_raw = source.get("tagline")
    if isinstance(vision_raw, dict) and "title" in vision_raw:
        tagline_raw = vision_raw.get("tagline", tagline_raw)
        vision_raw = vision_raw["title"]
    vision = _text(vision_raw)
    if vision is None:
        raise ImportProblem("file", N_("The file has no vision."))
    tagline = _text(tagline_raw)

    areas_raw = source.get("goal_areas")
    if not isinstance(areas_raw, list) or not areas_raw:
        raise ImportProblem("file", N_("The file has no goal areas: give them as a list “goal_areas”."))
    keys = _Keys()
    areas = []
    total = 0
    for number, area in enumerate(areas_raw, start=1):
        no_title = ImportProblem("file", N_("Goal area %(number)s has no title."), number=number)
        if not isinstance(area, dict):
            raise no_title
        title = _text(area.get("title"))
        if title is None:
            raise no_title
        key = keys.take(area.get("key"), title["sv"])
        priorities_raw = area.get("priorities")
        if not isinstance(priorities_raw, list):
            raise ImportProblem(
                "file", N_("Goal area %(number)s has no priorities: give them as a list “priorities”."), number=number
            )
        priorities = [
            _entry(
                priority,
                keys,
                ImportProblem(
                    "file", N_("Priority %(number)s of goal area %(area)s has no title."), number=position, area=number
                ),
            )
            for position, priority in enumerate(priorities_raw, start=1)
        ]
        total += 1 + len(priorities)
        areas.append({"key": key, "title": title, "short": _text(area.get("short")), "priorities": priorities})

    principles_raw = source.get("principles") or []
    if not isinstance(principles_raw, list):
        raise ImportProblem("file", N_("The principles must be given as a list “principles”."))
    principles = [
        _entry(principle, keys, ImportProblem("file", N_("Principle %(number)s has no title."), number=number))
        for number, principle in enumerate(principles_raw, start=1)
    ]
    total += len(principles)
    if total > MAX_ITEMS:
        raise ImportProblem(
            "file", N_("The file has more than %(max)s goal areas, priorities and principles."), max=MAX_ITEMS
        )
    names = {"en": name["en"]} if "en" in name else {}
    structure = {"vision": vision, "tagline": tagline, "goal_areas": areas, "principles": principles}
    return ParsedStrategy(name=name["sv"][:200], names=names, year=year, region=region_text, structure=structure)


def import_strategy(session: Session, *, key: str, data: bytes) -> StrategyVersion:
    """Store the file's strategy as a new version under `key`; raises ImportRefused, storing nothing.
    The caller's transaction commits it (with its audit entry) or rolls it back."""
    problems: list[ImportProblem] = []
    try:
        key = check_key(session, key)
    except ImportProblem as problem:
        problems.append(problem)
    try:
        parsed = parse_strategy(read_file(data))
    except ImportProblem as problem:
        problems.append(problem)
    if problems:
        raise ImportRefused(problems)
    return create_version(
        session,
        key=key,
        name=parsed.name,
        names=parsed.names,
        year=parsed.year,
        region=parsed.region,
        structure=parsed.structure,
    )
