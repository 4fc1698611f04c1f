"""Score answers and themes against the priorities and principles of one version of a strategy.

A strategy version is plain data: items (priorities and principles) with a title and a list of
keywords the analysts can edit. An answer's score for an item is the idf-weighted share of the
answer's content terms that belong to the item (title words plus keywords, stemmed and with
Swedish compounds split): 0 when the answer never touches the item, 1 when it speaks of nothing
else. A theme's "reach" for an item is the share of its answers whose score reaches
``answer_threshold``; a theme whose best reach is below ``coverage_threshold`` is flagged as not
covered by the strategy: a candidate for the update.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis.vectorize import AnswerVectorizer, ConceptScorer


@dataclass(frozen=True)
class StrategyItem:
    kind: str  # "priority" or "principle"
    title: str
    goal_area: str = ""
    keywords: tuple[str, ...] = ()
    added: int | None = None  # year of the review that added it, when known


@dataclass(frozen=True)
class StrategyVersion:
    name: str
    items: tuple[StrategyItem, ...] = field(default_factory=tuple)

    def titles(self) -> list[str]:
        return [item.title for item in self.items]


_ADDED_PRIORITY = re.compile(r'added priority\s+"([^"]+)"', re.IGNORECASE)


def _added_years(data: Mapping) -> dict[str, int]:
    """Titles that a review added, from the ``reviews`` list ("added priority "…"" changes)."""
    added = {}
    for review in data.get("reviews") or []:
        for change in review.get("changes") or []:
            for title in _ADDED_PRIORITY.findall(str(change)):
                added[title.strip()] = int(review.get("year"))
    return added


def _entry(entry: str | Mapping) -> tuple[str, int | None, list[str]]:
    if isinstance(entry, Mapping):
        return str(entry["title"]).strip(), entry.get("added"), list(entry.get("keywords") or [])
    return str(entry).strip(), None, []


def strategy_version(
    data: Mapping, keywords: Mapping | None = None, year: int | None = None
) -> StrategyVersion:
    """Build the strategy as it stood in ``year`` (default: its latest form) from plain data.

    ``data`` has the shape of strategy.yaml: ``goal_areas`` (each with ``key``, ``title`` and
    ``priorities``) and ``principles``; entries are titles or mappings with ``title``, ``added``
    and ``keywords``. Items added by a later review (``added`` or a ``reviews`` change reading
    'added priority "…"') are left out. ``keywords`` is ``{"priorities": {title: [...]},
    "principles": {title: [...]}}``, the analysts' editable lists.
    """
    keywords = keywords or {}
    review_added = _added_years(data)
    items = []
    for area in data.get("goal_areas") or []:
        for entry in area.get("priorities") or []:
            title, added, own = _entry(entry)
            items.append(StrategyItem("priority", title, str(area.get("key", "")),
                                      tuple(own + list((keywords.get("priorities") or {}).get(title, []))),
                                      added or review_added.get(title)))
    for entry in data.get("principles") or []:
        title, added, own = _entry(entry)
        items.append(StrategyItem("principle", title, "",
                                  tuple(own + list((keywords.get("principles") or {}).get(title, []))),
                                  added or review_added.get(title)))
    if year is not None:
        items = [item for item in items if item.added is None or item.added <= year]
    name = f"{data.get('document', 'strategy')} ({year or data.get('adopted', '')})"
    return StrategyVersion(name, tuple(items))


def concepts_of(strategy: StrategyVersion, kinds: Sequence[str] = ("priority",)) -> dict[str, list[str]]:
    """Title -> keywords for the items of the given kinds: prior vocabulary for ThemeFinder."""
    return {item.title: list(item.keywords) for item in strategy.items if item.kind in kinds}


class StrategyMapper:
    """Score answers and themes against a strategy version (fit on the answers for term weights)."""

    def __init__(self, strategy: StrategyVersion, lang: str = "sv", answer_threshold: float = 0.15,
                 coverage_threshold: float = 0.25):
        self.strategy = strategy
        self.lang = lang
        self.answer_threshold = answer_threshold
        self.coverage_threshold = coverage_threshold

    def fit(self, texts: Sequence[str] | None = None, vectorizer: AnswerVectorizer | None = None) -> StrategyMapper:
        """Learn term weights from the answers, or reuse a fitted vectoriser (no second pass)."""
        if vectorizer is None:
            if texts is None:
                raise ValueError("fit needs the answers or a fitted AnswerVectorizer")
            vectorizer = AnswerVectorizer(lang=self.lang, char_weight=0.0).fit(list(texts))
        self.vectorizer_ = vectorizer
        concepts = {item.title: list(item.keywords) for item in self.strategy.items}
        self.scorer_ = ConceptScorer(concepts, vectorizer.lang_, compounds=True).fit(vectorizer.words_.vocabulary_)
        return self

    def score_answers(self, texts: Sequence[str] | pd.Series | None = None,
                      words: sp.csr_matrix | None = None) -> pd.DataFrame:
        """Answers x items: the share of each answer that speaks to each item (0..1).

        Give the answers' texts, or their word matrix from the same vectoriser (faster).
        """
        index = texts.index if isinstance(texts, pd.Series) else None
        if words is None:
            words = self.vectorizer_.transform_words(list(texts))
        return pd.DataFrame(self.scorer_.transform(words), columns=self.strategy.titles(), index=index)

    def score_themes(self, answer_scores: pd.DataFrame, theme_ids: Sequence[int] | pd.Series) -> pd.DataFrame:
        """Themes x items: reach (share of the theme's answers that clearly speak to the item)."""
        hits = (answer_scores >= self.answer_threshold).astype(float)
        return hits.groupby(np.asarray(theme_ids)).mean()

    def coverage(self, theme_reach: pd.DataFrame) -> pd.DataFrame:
        """Per theme: best matching item, its reach and whether the strategy covers the theme."""
        best = theme_reach.idxmax(axis=1)
        reach = theme_reach.max(axis=1)
        return pd.DataFrame({
            "best_item": best.where(reach > 0, ""),
            "reach": reach.round(4),
            "covered": reach >= self.coverage_threshold,
        })

    def summary(self, answer_scores: pd.DataFrame) -> pd.DataFrame:
        """Per item: how many answers speak to it, their share, and the mean score."""
        hits = answer_scores >= self.answer_threshold
        kinds = {item.title: item.kind for item in self.strategy.items}
        return pd.DataFrame({
            "kind": [kinds[t] for t in answer_scores.columns],
            "answers": hits.sum().astype(int).to_numpy(),
            "share": hits.mean().round(4).to_numpy(),
            "mean_score": answer_scores.mean().round(4).to_numpy(),
        }, index=answer_scores.columns).sort_values("answers", ascending=False)
