"""One call per use: analyse one question's answers, or evaluate the engine on a labelled set.

These functions tie the estimators together for the command line and for background jobs. They
take data frames and plain parameters, return plain data, and read or write nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd

from analysis.coding import AssistedCoder, sample_coded
from analysis.evaluate import clustering_scores, coding_scores
from analysis.strategy_map import StrategyMapper, StrategyVersion, concepts_of
from analysis.text import dominant_language
from analysis.themes import OTHER_THEME_ID, ThemeFinder

Progress = Callable[[str, float], None]


def parse_k(k: str | int) -> int | str:
    """"auto", "gold" or a positive number; anything else is a ValueError with a clear message."""
    if isinstance(k, int):
        return k
    value = str(k).strip().lower()
    if value in {"auto", "gold"}:
        return value
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise ValueError(f"--k must be auto, gold or a positive number, not {k!r}")


@lru_cache(maxsize=1)
def _packaged_concepts() -> dict[str, list[str]]:
    """The priorities and keyword lists shipped in analysis/data (a read-only package file)."""
    from analysis.io import DEFAULT_KEYWORDS, read_strategy

    try:
        return concepts_of(read_strategy(DEFAULT_KEYWORDS))
    except (OSError, ValueError):  # a broken or missing list only weakens the themes
        return {}


def prior_concepts(texts: pd.Series, lang: str, strategy: StrategyVersion | None,
                   prior: bool = True) -> dict[str, list[str]] | None:
    """The prior vocabulary for clustering and coding: the given strategy's priorities, else (with
    ``prior``) the packaged Swedish keyword lists when the answers are Swedish, else none.

    The packaged lists describe what regional development answers talk about (transport, care,
    schools, jobs, housing, ...); on Swedish answers about other things they cost little, because
    the concept block is one small part of each answer's features.
    """
    if strategy is not None:
        return concepts_of(strategy)
    if not prior:
        return None
    language = lang if lang != "auto" else dominant_language(texts.tolist())
    return (_packaged_concepts() or None) if language == "sv" else None


def analyse_question(
    frame: pd.DataFrame,
    text_col: str,
    id_col: str | None = None,
    lang: str = "auto",
    k: int | str = "auto",
    strategy: StrategyVersion | None = None,
    random_state: int = 0,
    progress: Progress | None = None,
    prior: bool = True,
) -> dict:
    """Themes, assignments and (with a strategy) the mapping onto it, for one question's answers.

    Without a strategy, Swedish answers still get the packaged keyword lists as prior vocabulary
    (``prior=False`` turns that off); only a given strategy is mapped onto.

    Returns {"themes": <themes.json data>, "assignments": DataFrame(row_id, theme_id, score),
    "strategy": per-priority summary or None}. Row ids come from ``id_col``, else the row number
    counted from 1.
    """
    texts = frame[text_col].where(frame[text_col].notna(), "").astype(str)
    row_ids = frame[id_col].astype(str).to_numpy() if id_col else np.arange(1, len(frame) + 1)
    texts.index = pd.Index(row_ids, name="row_id")
    metadata = frame.set_axis(texts.index)
    concepts = prior_concepts(texts, lang, strategy, prior)
    finder = ThemeFinder(lang=lang, k=k, concepts=concepts, concept_weight=2.0, random_state=random_state,
                         adaptive_concepts=strategy is None)
    finder.fit(texts, metadata=metadata, progress=progress)
    result = finder.to_dict()
    assignments = finder.assignments_.reset_index()
    strategy_summary = None
    if strategy is not None:
        mapper = StrategyMapper(strategy, lang=finder.vectorizer_.lang_).fit(vectorizer=finder.vectorizer_)
        answer_scores = mapper.score_answers(words=finder.vectorizer_.word_matrix_)
        answer_scores.index = texts.index
        coverage = mapper.coverage(mapper.score_themes(answer_scores, finder.assignments_["theme_id"]))
        for theme in result["themes"]:
            if theme["id"] in coverage.index and theme["id"] != OTHER_THEME_ID:
                row = coverage.loc[theme["id"]]
                theme["strategy"] = {"best_item": row["best_item"], "reach": float(row["reach"]),
                                     "covered": bool(row["covered"])}
        values = answer_scores.to_numpy()
        if values.shape[1]:
            best = values.argmax(axis=1)
            titles = np.asarray(answer_scores.columns, dtype=object)
            strong = values[np.arange(len(best)), best] >= mapper.answer_threshold
            assignments["best_priority"] = np.where(strong, titles[best], "")
        else:
            assignments["best_priority"] = ""
        strategy_summary = mapper.summary(answer_scores).reset_index(names="item").to_dict(orient="records")
        result["strategy"] = {"name": strategy.name, "items": strategy_summary}
    result["breakdowns"] = finder.breakdowns_.to_dict(orient="records")
    return {"themes": result, "assignments": assignments, "finder": finder}


def evaluate_labelled(
    frame: pd.DataFrame,
    text_col: str,
    label_col: str,
    lang: str = "auto",
    k: int | str = "auto",
    coded_per_theme: int | None = None,
    seed: int = 0,
    strategy: StrategyVersion | None = None,
    progress: Progress | None = None,
    prior: bool = True,
) -> dict:
    """Cluster without the labels, score against them; optionally score assisted coding too.

    The prior vocabulary is chosen as in ``analyse_question``."""
    started = time.perf_counter()
    frame = frame[frame[label_col].notna() & (frame[label_col].astype(str).str.strip() != "")]
    frame = frame.reset_index(drop=True)
    texts = frame[text_col].where(frame[text_col].notna(), "").astype(str)
    labels = frame[label_col].astype(str)
    k_gold = int(labels.nunique())
    k_value = k_gold if k == "gold" else k
    concepts = prior_concepts(texts, lang, strategy, prior)
    finder = ThemeFinder(lang=lang, k=k_value, concepts=concepts, concept_weight=2.0, random_state=seed,
                         adaptive_concepts=strategy is None)
    finder.fit(texts, progress=progress)
    found = finder.assignments_["theme_id"].to_numpy()
    scores = clustering_scores(labels, found)
    coding: dict[str, float | None] = {"macro_f1": None, "micro_f1": None}
    if coded_per_theme:
        if progress:
            progress("assisted coding", 0.9)
        coded = sample_coded(labels, coded_per_theme, random_state=seed).to_numpy()
        coder = AssistedCoder(lang=lang, concepts=concepts, concept_weight=2.0, random_state=seed)
        coder.fit(texts, labels.where(coded))
        rest = ~coded
        if rest.any():
            coding = coding_scores(labels[rest], coder.predict(texts[rest])["theme"])
    return {
        "n": int(len(frame)),
        "k_found": int(len(finder.centres_)),
        "k_gold": k_gold,
        "nmi": round(scores["nmi"], 4),
        "ari": round(scores["ari"], 4),
        "f1_matched": round(scores["f1_matched"], 4),
        "coding_macro_f1": None if coding["macro_f1"] is None else round(coding["macro_f1"], 4),
        "coding_micro_f1": None if coding["micro_f1"] is None else round(coding["micro_f1"], 4),
        "seconds": round(time.perf_counter() - started, 2),
    }
