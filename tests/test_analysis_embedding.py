"""Word vectors learned from the answers themselves (analysis.embedding)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from analysis.embedding import FULL_WEIGHT_OCCURRENCES, CooccurrenceEmbedding, reliability
from analysis.themes import EMBEDDING_WEIGHT, ThemeFinder
from analysis.vectorize import AnswerVectorizer
from tests.analysis_corpus import corpus

_PEOPLE = ["nurses", "doctors", "carers", "receptionist", "surgeon"]
_PRAISE = ["kind", "friendly", "caring", "helpful", "polite", "patient"]
_TRANSPORT = ["bus", "train", "tram", "ferry", "taxi"]
_TROUBLE = ["late", "delayed", "cancelled", "crowded", "slow", "dirty"]


def _two_needs(n: int = 600, seed: int = 0) -> list[str]:
    """Answers naming one person (or one vehicle) with words that go with it: no answer names two
    people, so "nurses" and "doctors" never occur together, only in the same company."""
    rng = random.Random(seed)
    answers = []
    for i in range(n):
        subjects, companions = (_PEOPLE, _PRAISE) if i % 2 else (_TRANSPORT, _TROUBLE)
        answers.append(f"the {rng.choice(subjects)} " + " and ".join(rng.sample(companions, 2)))
    return answers


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def test_answers_that_share_no_word_meet_through_the_company_their_words_keep() -> None:
    vectorizer = AnswerVectorizer(lang="en", char_weight=0.0)
    vectorizer.fit_features(_two_needs())
    embedding = CooccurrenceEmbedding(random_state=0).fit(vectorizer.word_matrix_)
    new = ["the nurses were lovely", "the doctors", "the bus"]
    words = vectorizer.transform_words(new)
    assert (words[0].multiply(words[1])).sum() == 0  # no word in common: bag-of-words sees nothing
    nurses, doctors, bus = embedding.transform(words)
    assert _cosine(nurses, doctors) > 0.7  # 0.82 measured
    assert _cosine(nurses, bus) < 0.2
    # The same input and seed give the same vectors.
    again = CooccurrenceEmbedding(random_state=0).fit(vectorizer.word_matrix_).transform(words)
    np.testing.assert_array_equal(again, embedding.transform(words))


def test_an_answer_without_known_words_gets_no_direction() -> None:
    vectorizer = AnswerVectorizer(lang="en", char_weight=0.0)
    vectorizer.fit_features(_two_needs())
    embedding = CooccurrenceEmbedding().fit(vectorizer.word_matrix_)
    assert not embedding.transform(vectorizer.transform_words(["zebra", ""])).any()


def test_the_learned_vectors_weigh_by_how_much_there_was_to_learn_from() -> None:
    answers = corpus()
    small = ThemeFinder(lang="sv", k=3, random_state=0).fit(answers["text"])
    occurrences = small.vectorizer_.word_matrix_.nnz
    assert occurrences < FULL_WEIGHT_OCCURRENCES / 4
    assert small.vectorizer_.embedding_weight_ == EMBEDDING_WEIGHT * occurrences / FULL_WEIGHT_OCCURRENCES
    assert reliability(small.vectorizer_.word_matrix_) < 0.25
    big = ThemeFinder(lang="en", k=2, random_state=0).fit(pd.Series(_two_needs(8000)))
    assert big.vectorizer_.embedding_weight_ == EMBEDDING_WEIGHT
    found = big.assignments_["theme_id"].to_numpy()
    truth = np.arange(8000) % 2
    assert (pd.crosstab(truth, found).max(axis=1).sum() / len(found)) > 0.98
    off = ThemeFinder(lang="en", k=2, random_state=0, embedding_weight=0.0).fit(pd.Series(_two_needs(200)))
    assert off.vectorizer_.embedding_ is None and off.vectorizer_.embedding_weight_ == 0.0


def test_models_stored_before_the_learned_vectors_still_assign_answers() -> None:
    finder = ThemeFinder(lang="en", k=2, random_state=0, embedding_weight=0.0).fit(pd.Series(_two_needs(400)))
    old = finder.compact()
    del old.vectorizer_.embedding_, old.vectorizer_.embedding_weight_  # as pickled by earlier versions
    new = pd.Series(["the train was late", "the nurses were kind"])
    assert old.predict(new)["theme_id"].nunique() == 2
    pd.testing.assert_frame_equal(old.predict(new), finder.predict(new))
