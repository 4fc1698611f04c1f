"""The pretrained English answer vectors (analysis.pretrained) and where the engine uses them."""

from __future__ import annotations

import numpy as np

from analysis.coding import AssistedCoder
from analysis.pretrained import answer_vectors, available
from analysis.themes import ThemeFinder


def test_english_answers_that_share_no_word_but_mean_the_same_are_close() -> None:
    answers = [
        "Car parking is too expensive",
        "Parking charges are far too high",
        "The nurses were rude to me",
        "Staff were unkind and dismissive",
    ]
    vectors = answer_vectors(answers, "en")
    assert vectors is not None and vectors.shape[0] == 4
    similarity = vectors @ vectors.T
    for one, paraphrase, others in ((0, 1, [2, 3]), (2, 3, [0, 1])):
        assert similarity[one, paraphrase] > similarity[one, others].max()


def test_each_answer_gets_a_unit_vector_and_an_empty_one_none() -> None:
    vectors = answer_vectors(["Waited four hours", "", "Waited four hours"], "en")
    assert vectors is not None
    assert np.allclose(np.linalg.norm(vectors, axis=1), [1, 0, 1], atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2])
    nothing = answer_vectors(["", "   "], "en")
    assert nothing is not None and nothing.shape == (2, vectors.shape[1]) and not nothing.any()


def test_swedish_answers_get_no_pretrained_vectors() -> None:
    # Measured to hurt on Swedish (docs/analysis.md): the engine must go on without them.
    assert answer_vectors(["Fler bussar till Ånge"], "sv") is None
    assert available("en") and not available("sv")


ENGLISH = [
    "The staff were friendly and kind",
    "Lovely nurses, very caring",
    "Parking is far too expensive",
    "Car park charges are too high",
    "Waited too long to be seen",
    "The waiting time was four hours",
] * 5
SWEDISH = ["Fler bussar behövs", "Bättre vård i Kramfors", "Mer kollektivtrafik", "Vårdcentralen är bra"] * 5


def test_the_theme_finder_uses_them_for_english_only() -> None:
    english = ThemeFinder(k=3, random_state=0).fit(ENGLISH)
    swedish = ThemeFinder(k=2, random_state=0).fit(SWEDISH)
    assert english.vectorizer_.pretrained_weight_ > 0
    assert swedish.vectorizer_.pretrained_weight_ == 0
    # New answers go through the same features as the fitted ones.
    assert english.predict(["Parking costs a fortune"])["theme_id"].iloc[0] == \
        english.predict(["Car park charges are too high"])["theme_id"].iloc[0]


def test_the_assisted_coder_uses_them_for_english_only() -> None:
    labels = ["staff", "staff", "parking", "parking", "waiting", "waiting"] + [None] * 24
    english = AssistedCoder(random_state=0).fit(ENGLISH, labels)
    swedish = AssistedCoder(random_state=0).fit(SWEDISH, ["buss", "vård", "buss", "vård"] + [None] * 16)
    assert english.pretrained_weight_ > 0 and swedish.pretrained_weight_ == 0
    assert english.predict(["The parking fees are too high"])["theme"].iloc[0] == "parking"
