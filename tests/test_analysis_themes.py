"""Theme discovery on a generated corpus whose themes are known."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.evaluate import clustering_scores, matched_f1
from analysis.themes import OTHER_THEME_ID, ThemeFinder, answer_terms, choose_k, vmf_mixture
from tests.analysis_corpus import corpus


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    return corpus()


@pytest.fixture(scope="module")
def fitted(answers: pd.DataFrame) -> ThemeFinder:
    texts = answers.set_index("id")["text"]
    return ThemeFinder(lang="sv", k=3, random_state=1).fit(texts, metadata=answers.set_index("id"))


def test_same_input_and_seed_give_the_same_themes(answers: pd.DataFrame) -> None:
    first = ThemeFinder(k="auto", random_state=7).fit(answers["text"])
    second = ThemeFinder(k="auto", random_state=7).fit(answers["text"])
    pd.testing.assert_frame_equal(first.assignments_, second.assignments_)
    assert first.to_dict() == second.to_dict()


def test_finds_the_known_themes(answers: pd.DataFrame, fitted: ThemeFinder) -> None:
    found = fitted.assignments_["theme_id"].to_numpy()
    assert clustering_scores(answers["topic"], found)["nmi"] > 0.7
    assert len(fitted.themes_[fitted.themes_.theme_id != OTHER_THEME_ID]) == 3


def test_empty_and_vague_answers_go_to_the_other_bucket(answers: pd.DataFrame, fitted: ThemeFinder) -> None:
    vague = answers["topic"].eq("ovrigt").to_numpy()
    assert (fitted.assignments_["theme_id"].to_numpy()[vague] == OTHER_THEME_ID).all()
    other = fitted.themes_.set_index("theme_id").loc[OTHER_THEME_ID]
    assert other["label"] == "övrigt/oklart" and other["size"] >= vague.sum()


def test_themes_are_described_readably(answers: pd.DataFrame, fitted: ThemeFinder) -> None:
    themes = fitted.themes_[fitted.themes_.theme_id != OTHER_THEME_ID]
    assert themes["size"].sum() + fitted.themes_.set_index("theme_id").loc[OTHER_THEME_ID, "size"] == len(answers)
    assert abs(fitted.themes_["share"].sum() - 1.0) < 0.01
    words = " ".join(" ".join(t) for t in themes["terms"])
    # Terms appear in a written form (not as stems such as "vårdcentral" -> "vårdcentral"/"skol").
    assert any(w in words.split() for w in ("vårdcentralen", "vården", "skolan", "bussar", "kollektivtrafiken"))
    for row in themes.itertuples():
        # No term is written inside another: "kollektivtrafiken" is listed, not also "kollektiv" and "trafik".
        assert not [(a, b) for a in row.terms for b in row.terms if a != b and a in b], row.terms
        assert 3 <= len(row.representatives) <= 5
        assert row.label and row.label != "övrigt/oklart"
        members = set(fitted.assignments_.index[fitted.assignments_["theme_id"] == row.theme_id])
        assert set(row.representatives) <= members


def test_answer_terms_writes_stems_as_the_answers_write_them(fitted: ThemeFinder) -> None:
    """What a split theme's parts are named by: each stem as its most common written word, never the
    stem itself ("bättr"), and a stem no answer writes is left out."""
    texts = ["Bättre bussar på kvällen", "Bättre busstrafik och tåget", "Bussar och tåget på helgen"]
    vectorizer = fitted.vectorizer_
    stems = [s for s in vectorizer.analyzer_(" ".join(texts)) if s in set(vectorizer.analyzer_(texts[0]))]
    assert "bättr" in stems  # the vectoriser's term, which must not reach a label
    words = answer_terms(vectorizer, texts, [*stems, "vårdcentral"], 10)
    assert "bättre" in words and "bättr" not in words and "vårdcentralen" not in words
    written = " ".join(texts).lower().split()
    assert all(word in written for word in words), words


def test_breakdown_by_municipality(fitted: ThemeFinder, answers: pd.DataFrame) -> None:
    table = fitted.breakdowns_
    assert set(table["column"]) == {"municipality"}
    shares = table.groupby("group")["share_of_group"].sum()
    assert np.allclose(shares.to_numpy(), 1.0)


def test_new_answers_join_existing_themes_without_reclustering(fitted: ThemeFinder) -> None:
    before = fitted.centres_.copy()
    new = pd.Series(["bussen går alldeles för sällan", "läkare på vårdcentralen", "vet ej"], index=["n1", "n2", "n3"])
    assigned = fitted.predict(new)
    assert np.array_equal(before, fitted.centres_)
    by_text = dict(zip(fitted.assignments_["theme_id"], fitted.themes_.set_index("theme_id").index, strict=False))
    assert by_text is not None
    bus_theme = fitted.predict(pd.Series(["fler bussar på kvällarna"]))["theme_id"].iat[0]
    care_theme = fitted.predict(pd.Series(["fler läkare på vårdcentralen"]))["theme_id"].iat[0]
    assert assigned.loc["n1", "theme_id"] == bus_theme != OTHER_THEME_ID
    assert assigned.loc["n2", "theme_id"] == care_theme != bus_theme
    assert assigned.loc["n3", "theme_id"] == OTHER_THEME_ID


def test_auto_k_stays_in_range_and_prefers_separated_groups() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:4]
    points = np.vstack([c + 0.05 * rng.standard_normal((50, 8)) for c in centres])
    k, scores = choose_k(points, (2, 30), random_state=0)
    assert k == 4 and min(scores) >= 2 and max(scores) <= 30


def test_answers_from_a_few_set_phrases_give_no_more_themes_than_phrases() -> None:
    phrases = ["Jobbet", "Studier", "Familjen", "Bostaden", "Klimatet", "Vet inte"]
    texts = pd.Series([phrases[i % len(phrases)] for i in range(168)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # k-means warns when asked for more clusters than points
        finder = ThemeFinder(lang="sv", random_state=0).fit(texts)
    assert max(finder.k_scores_) <= len(phrases)


def test_matched_f1_penalises_wrong_numbers_of_themes() -> None:
    gold = ["a"] * 10 + ["b"] * 10
    assert matched_f1(gold, gold) == 1.0
    assert matched_f1(gold, [1] * 20) < 0.5
    assert matched_f1(gold, list(range(20))) < 0.2


def test_a_compact_model_assigns_new_answers_like_the_full_one(fitted: ThemeFinder) -> None:
    import pickle
    import zlib

    new = pd.Series(["bussen går alldeles för sällan", "läkare på vårdcentralen", "mindre klasser i skolan",
                     "vet ej", ""], index=["n1", "n2", "n3", "n4", "n5"])
    stored = fitted.to_bytes()
    loaded = ThemeFinder.from_bytes(stored)
    assert loaded.is_compact and not fitted.is_compact  # the fitted model keeps its per-answer data
    assert loaded.embedding_ is None and loaded.assignments_ is None and loaded.vectorizer_.word_matrix_ is None
    assert fitted.vectorizer_.word_matrix_ is not None and len(fitted.assignments_) > 0
    assert len(stored) < len(zlib.compress(pickle.dumps(fitted), 1)) * 0.8
    pd.testing.assert_frame_equal(loaded.predict(new), fitted.predict(new))
    np.testing.assert_allclose(fitted.compact().transform(new), fitted.transform(new))
    assert loaded.to_dict() == fitted.to_dict()
    with pytest.raises(TypeError):
        ThemeFinder.from_bytes(zlib.compress(pickle.dumps({"not": "a model"})))


def test_the_mixture_lets_a_common_theme_stay_whole() -> None:
    # 900 answers about one thing and 100 about another: k-means would pull the boundary towards
    # the large group; the von Mises-Fisher mixture learns the themes' shares and directions.
    rng = np.random.default_rng(0)
    directions = np.eye(10, dtype=np.float32)[:2]
    rows = np.vstack([directions[0] + 0.35 * rng.standard_normal((900, 10)),
                      directions[1] + 0.35 * rng.standard_normal((100, 10))]).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    start = np.vstack([directions[0] + directions[1] * 0.6, directions[1] + directions[0] * 0.6])
    centres, weights, kappa = vmf_mixture(rows, start, np.array([0.5, 0.5]))
    assert weights == pytest.approx([0.9, 0.1], abs=0.03)
    assert (centres @ directions.T).diagonal().min() > 0.95
    assert kappa > 1


def test_new_answers_are_assigned_like_the_fitted_ones(answers: pd.DataFrame, fitted: ThemeFinder) -> None:
    texts = answers.set_index("id")["text"]
    again = fitted.predict(texts)
    assert (again["theme_id"] == fitted.assignments_["theme_id"]).mean() > 0.98
