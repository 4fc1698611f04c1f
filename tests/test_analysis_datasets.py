"""Quality on the shared labelled sets (skipped where ../shared/datasets is absent)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.io import read_strategy
from analysis.pipeline import evaluate_labelled
from tests.shared import DATASETS, STRATEGY

pytestmark = pytest.mark.skipif(not DATASETS.exists(), reason="shared datasets not available")


def test_resident_answers_reach_the_target_with_the_strategy_as_prior() -> None:
    if not STRATEGY.exists():
        pytest.skip("shared seed strategy not available")
    frame = pd.read_csv(DATASETS / "sv_resident_answers_dev.csv")
    frame = frame[frame["question"] == "forandra"]
    scores = evaluate_labelled(frame, "text", "theme", lang="sv", k="gold", strategy=read_strategy(STRATEGY))
    assert scores["k_found"] == scores["k_gold"] == 13
    assert scores["nmi"] >= 0.30


def test_swedish_answers_use_the_packaged_keywords_without_a_strategy() -> None:
    frame = pd.read_csv(DATASETS / "sv_resident_answers_dev.csv")
    frame = frame[frame["question"] == "forandra"]
    with_prior = evaluate_labelled(frame, "text", "theme", lang="sv", k="gold")
    without = evaluate_labelled(frame, "text", "theme", lang="sv", k="gold", prior=False)
    assert with_prior["nmi"] >= 0.30 and with_prior["nmi"] > without["nmi"]


def test_argumentation_topics_are_found() -> None:
    frame = pd.read_csv(DATASETS / "sv_argumentation_dev.tsv", sep="\t")
    scores = evaluate_labelled(frame, "sentence", "topic", lang="sv", k="gold", coded_per_theme=20)
    assert scores["nmi"] >= 0.70
    assert scores["coding_macro_f1"] >= 0.85


def test_english_feedback_themes_gain_from_vectors_learned_on_the_answers() -> None:
    from analysis.evaluate import clustering_scores
    from analysis.io import read_table
    from analysis.themes import ThemeFinder

    frame = read_table(DATASETS / "en_patient_feedback.csv")
    frame = frame[frame["label"].notna()]
    texts = frame["feedback"].fillna("")
    # Without the pretrained vectors, so that the learned ones are measured alone.
    finders = {weight: ThemeFinder(k=9, random_state=0, embedding_weight=weight, pretrained_weight=0)
               for weight in (0.0, 0.5)}
    nmi = {weight: clustering_scores(frame["label"], finder.fit(texts).assignments_["theme_id"])["nmi"]
           for weight, finder in finders.items()}
    assert nmi[0.5] >= 0.22 and nmi[0.5] > nmi[0.0] + 0.03  # measured 0.235 against 0.182


def test_english_feedback_themes_gain_from_pretrained_vectors() -> None:
    from analysis.evaluate import clustering_scores
    from analysis.io import read_table
    from analysis.themes import ThemeFinder

    frame = read_table(DATASETS / "en_patient_feedback.csv")
    frame = frame[frame["label"].notna()]
    texts = frame["feedback"].fillna("")

    def nmi(seed: int, weight: float) -> float:
        found = ThemeFinder(k=9, random_state=seed, pretrained_weight=weight).fit(texts).assignments_["theme_id"]
        return clustering_scores(frame["label"], found)["nmi"]

    with_vectors = [nmi(seed, 1.0) for seed in (0, 1, 2)]
    without = [nmi(seed, 0.0) for seed in (0, 1, 2)]
    # Measured 0.256, 0.264, 0.252 against 0.235, 0.236, 0.231: the English target (0.25)
    # is met on average over the seeds.
    assert np.mean(with_vectors) >= 0.25
    assert all(a > b + 0.01 for a, b in zip(with_vectors, without, strict=True))
