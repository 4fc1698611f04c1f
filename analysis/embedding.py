"""Word vectors learned from the question's own answers, and answers as weighted averages of them.

Bag-of-words vectors know that "nurses" and "nurse" share a stem but not that "nurses", "staff" and
"doctors" are the same kind of thing. Answers to one question are a corpus of their own, large enough
on a big question to learn that from which words occur together, with no pretrained model and in any
language:

1. co-occurrence of terms within an answer, each answer's pairs weighted by 1 / (terms - 1) so that a
   long answer counts as much as a short one;
2. positive pointwise mutual information with context-distribution smoothing (the context counts
   raised to 0.75; Levy, Goldberg and Dagan 2015, "Improving distributional similarity with lessons
   learned from word embeddings"), reduced by a truncated SVD: a term's vector is U * sqrt(S);
3. an answer is the average of its terms' vectors weighted by a / (a + p(term)) and the component
   common to all answers is removed (smooth inverse frequency, Arora, Liang and Ma 2017, "A simple
   but tough-to-beat baseline for sentence embeddings").

How far such vectors can be trusted depends on how many co-occurrences they were learned from, so
``reliability`` gives the share of full weight a corpus earns (see ``AnswerVectorizer``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from sklearn.utils.extmath import randomized_svd

# The vectors are learned on at most this many answers and over at most this many terms (the most
# frequent): the cost stays bounded on a million answers, and rarer terms have too few
# co-occurrences to place anyway (they keep their own TF-IDF and sub-word dimensions).
FIT_SAMPLE = 20_000
MAX_TERMS = 10_000
# Term-in-answer occurrences from which the learned vectors get full weight; below, their weight
# fades linearly (a few hundred short answers give co-occurrence counts too thin to learn from).
FULL_WEIGHT_OCCURRENCES = 20_000


def reliability(presence: sp.csr_matrix) -> float:
    """Share of full weight (0..1) that vectors learned from these answers (answers x terms) earn."""
    return min(1.0, presence.nnz / FULL_WEIGHT_OCCURRENCES)


class CooccurrenceEmbedding:
    """PPMI + SVD term vectors and SIF answer vectors over a fitted term vocabulary.

    ``fit(words)`` and ``transform(words)`` take an answers x terms matrix (any weights: only which
    terms an answer contains counts) and the result is one unit vector per answer (zero for an
    answer with no known term). ``random_state`` fixes the SVD and the sample.
    """

    def __init__(self, dimensions: int = 50, smoothing: float = 0.01, context_power: float = 0.75,
                 random_state: int | None = 0):
        self.dimensions = dimensions
        self.smoothing = smoothing
        self.context_power = context_power
        self.random_state = random_state

    def fit(self, words: sp.csr_matrix) -> CooccurrenceEmbedding:
        presence = _presence(words)
        if presence.shape[0] > FIT_SAMPLE:
            rng = np.random.default_rng(self.random_state)
            presence = presence[np.sort(rng.choice(presence.shape[0], FIT_SAMPLE, replace=False))]
        df = np.asarray(presence.sum(axis=0)).ravel()
        kept = np.flatnonzero(df >= 2)
        if len(kept) > MAX_TERMS:
            kept = kept[np.argsort(-df[kept], kind="stable")[:MAX_TERMS]]
        self.n_terms_ = presence.shape[1]
        self.terms_ = np.sort(kept)
        vectors = self._term_vectors(presence[:, self.terms_])
        p = df[self.terms_] / max(df[self.terms_].sum(), 1)
        self.term_weights_ = (self.smoothing / (self.smoothing + p)).astype(np.float32)
        self.vectors_ = vectors
        self.common_ = np.zeros((0, vectors.shape[1]), dtype=np.float32)
        averages = self._average(presence)
        if len(averages) > 1 and np.any(averages):
            _, _, top = randomized_svd(averages, 1, random_state=self.random_state)
            self.common_ = top.astype(np.float32)
        return self

    def _term_vectors(self, presence: sp.csr_matrix) -> np.ndarray:
        n_terms = presence.shape[1]
        dimensions = max(1, min(self.dimensions, n_terms - 1))
        if n_terms < 3:
            return np.zeros((n_terms, dimensions), dtype=np.float32)
        lengths = np.asarray(presence.sum(axis=1)).ravel()
        pair_weight = sp.diags((1 / np.maximum(lengths - 1, 1)).astype(np.float32))
        cooccurrence = (presence.T @ (pair_weight @ presence)).tocoo()
        off_diagonal = cooccurrence.row != cooccurrence.col
        rows, cols = cooccurrence.row[off_diagonal], cooccurrence.col[off_diagonal]
        counts = cooccurrence.data[off_diagonal].astype(np.float64)
        if len(counts) == 0:
            return np.zeros((n_terms, dimensions), dtype=np.float32)
        total = counts.sum()
        term_mass = np.bincount(rows, weights=counts, minlength=n_terms) / total
        context_mass = np.bincount(cols, weights=counts, minlength=n_terms) ** self.context_power
        context_mass /= context_mass.sum()
        pmi = np.log(counts / total / (term_mass[rows] * context_mass[cols]))
        positive = pmi > 0
        ppmi = sp.csr_matrix((pmi[positive].astype(np.float32), (rows[positive], cols[positive])),
                             shape=(n_terms, n_terms))
        u, s, _ = randomized_svd(ppmi, dimensions, n_iter=5, random_state=self.random_state)
        return (u * np.sqrt(s)).astype(np.float32)

    def _average(self, presence: sp.csr_matrix) -> np.ndarray:
        known = presence[:, self.terms_]
        lengths = np.asarray(known.sum(axis=1)).ravel()
        weighted = known @ sp.diags(self.term_weights_)
        return np.asarray(weighted @ self.vectors_, dtype=np.float32) / np.maximum(lengths, 1)[:, None]

    def transform(self, words: sp.csr_matrix) -> np.ndarray:
        averages = self._average(_presence(words))
        if len(self.common_):
            averages -= (averages @ self.common_.T) @ self.common_
        return normalize(averages).astype(np.float32)


def _presence(words: sp.spmatrix) -> sp.csr_matrix:
    presence = sp.csr_matrix(words, dtype=np.float32, copy=True)
    presence.eliminate_zeros()
    presence.data[:] = 1
    return presence
