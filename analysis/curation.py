"""Analysts in the loop: candidate themes stay apart from the themes the analysts select.

A run produces ``CandidateTheme``s (what the engine proposed; never edited). Analysts work on a
``Codebook``: selected themes and the assignment of answers to them. Every change is a pure
function that returns a new Codebook with one more ``Change`` in its history saying who did what
and when; nothing is modified in place, so any earlier state can be kept or shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize


@dataclass(frozen=True)
class CandidateTheme:
    """A theme as the engine proposed it in one run."""

    run_id: str
    theme_id: int
    label: str
    terms: tuple[str, ...] = ()
    size: int = 0


@dataclass(frozen=True)
class SelectedTheme:
    """A theme the analysts keep; ``sources`` are the candidate ids it came from."""

    theme_id: int
    label: str
    sources: tuple[int, ...] = ()


@dataclass(frozen=True)
class Change:
    who: str
    when: datetime
    action: str  # select, rename, merge, split, move
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Codebook:
    themes: tuple[SelectedTheme, ...]
    assignments: Mapping[str, int]  # answer id -> selected theme id
    history: tuple[Change, ...] = ()

    def theme(self, theme_id: int) -> SelectedTheme:
        for theme in self.themes:
            if theme.theme_id == theme_id:
                return theme
        raise KeyError(f"no selected theme {theme_id}")

    def members(self, theme_id: int) -> list[str]:
        return [answer for answer, theme in self.assignments.items() if theme == theme_id]

    def sizes(self) -> dict[int, int]:
        counts = {theme.theme_id: 0 for theme in self.themes}
        for theme_id in self.assignments.values():
            counts[theme_id] = counts.get(theme_id, 0) + 1
        return counts

    def _next_id(self) -> int:
        return max((t.theme_id for t in self.themes), default=0) + 1


def candidates_from_run(run_id: str, themes: pd.DataFrame) -> tuple[CandidateTheme, ...]:
    """Freeze a ThemeFinder's ``themes_`` table as the run's candidate themes."""
    return tuple(
        CandidateTheme(run_id, int(row.theme_id), str(row.label), tuple(row.terms), int(row.size))
        for row in themes.itertuples()
    )


def _now(when: datetime | None) -> datetime:
    return when or datetime.now(UTC)


def select(candidates: Sequence[CandidateTheme], assignments: Mapping[str, int], who: str,
           when: datetime | None = None) -> Codebook:
    """Start the analysts' codebook from the engine's candidates (same ids, same assignments)."""
    themes = tuple(SelectedTheme(c.theme_id, c.label, (c.theme_id,)) for c in candidates)
    change = Change(who, _now(when), "select", {"run_id": candidates[0].run_id if candidates else ""})
    return Codebook(themes, dict(assignments), (change,))


def rename(book: Codebook, theme_id: int, label: str, who: str, when: datetime | None = None) -> Codebook:
    old = book.theme(theme_id)
    themes = tuple(replace(t, label=label) if t.theme_id == theme_id else t for t in book.themes)
    change = Change(who, _now(when), "rename", {"theme_id": theme_id, "from": old.label, "to": label})
    return replace(book, themes=themes, history=(*book.history, change))


def merge(book: Codebook, theme_ids: Sequence[int], label: str, who: str,
          when: datetime | None = None) -> Codebook:
    """Merge themes into a new one; its answers are the union of theirs."""
    if len(set(theme_ids)) < 2:
        raise ValueError("merge needs at least two themes")
    merged = [book.theme(t) for t in theme_ids]
    new = SelectedTheme(book._next_id(), label, tuple(s for t in merged for s in t.sources))
    themes = tuple(t for t in book.themes if t.theme_id not in set(theme_ids)) + (new,)
    assignments = {a: (new.theme_id if t in set(theme_ids) else t) for a, t in book.assignments.items()}
    change = Change(who, _now(when), "merge", {"from": list(theme_ids), "into": new.theme_id, "label": label})
    return Codebook(themes, assignments, (*book.history, change))


def split(book: Codebook, theme_id: int, embedding: Mapping[str, np.ndarray] | pd.DataFrame, n_parts: int,
          who: str, when: datetime | None = None, labels: Sequence[str] | None = None,
          random_state: int | None = 0) -> Codebook:
    """Re-cluster the answers of one theme into ``n_parts`` new themes (k-means on their vectors).

    ``embedding`` gives each answer's vector (e.g. ThemeFinder.embedding_ rows by answer id).
    """
    members = book.members(theme_id)
    if n_parts < 2 or len(members) < n_parts:
        raise ValueError(f"cannot split {len(members)} answers into {n_parts} themes")
    vectors = np.vstack([np.asarray(embedding.loc[m] if isinstance(embedding, pd.DataFrame) else embedding[m])
                         for m in members])
    parts = KMeans(n_parts, n_init=10, random_state=random_state).fit_predict(normalize(vectors))
    old = book.theme(theme_id)
    first = book._next_id()
    names = list(labels or [f"{old.label} ({i + 1})" for i in range(n_parts)])
    new_themes = tuple(SelectedTheme(first + i, names[i], old.sources) for i in range(n_parts))
    themes = tuple(t for t in book.themes if t.theme_id != theme_id) + new_themes
    assignments = dict(book.assignments)
    for answer, part in zip(members, parts, strict=True):
        assignments[answer] = first + int(part)
    change = Change(who, _now(when), "split",
                    {"theme_id": theme_id, "into": [t.theme_id for t in new_themes]})
    return Codebook(themes, assignments, (*book.history, change))


def move(book: Codebook, answer_ids: Iterable[str], to_theme: int, who: str,
         when: datetime | None = None) -> Codebook:
    """Move answers to another selected theme."""
    book.theme(to_theme)
    answer_ids = list(answer_ids)
    unknown = [a for a in answer_ids if a not in book.assignments]
    if unknown:
        raise KeyError(f"unknown answer ids: {unknown[:5]}")
    moved = {a: book.assignments[a] for a in answer_ids}
    assignments = {**book.assignments, **{a: to_theme for a in answer_ids}}
    change = Change(who, _now(when), "move", {"answers": moved, "to": to_theme})
    return replace(book, assignments=assignments, history=(*book.history, change))
