"""From answers to dense vectors: stemmed words, compound parts and sub-word n-grams, reduced by LSA.

Short, misspelt answers share few whole words, so every answer is represented three ways at once:
- stemmed content words plus the parts of Swedish compounds (vårdcentralen -> vård, central),
- character n-grams of those terms (kollektivtrafik ~ kollektivtrafiken ~ kolektivtrafik),
- optional prior concepts (for example a strategy's priorities with their keyword lists), so that
  answers using different words for one need meet in the same dimension,
and the whole is reduced with truncated SVD (latent semantic analysis), which lets words that occur
in similar answers stand in for each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from analysis.text import OPINION_WORDS, Analyzer, dominant_language, split_compound, stem, stop_words


def _identity(terms: list[str]) -> list[str]:
    """Analyzer for pre-analysed answers (module level so fitted vectorisers pickle)."""
    return terms


def _as_list(texts: Sequence | pd.Series) -> list[str]:
    return ["" if not isinstance(t, str) else t for t in texts]


class ConceptScorer:
    """Score answers against named concepts, each given as a title and a list of keywords.

    Keywords are stemmed and split like the answers, so "vård" matches "vårdcentralen" and
    "sjukvården". A concept's score for an answer is the share of the answer's TF-IDF weight that
    falls on the concept's terms: 0 when the answer never touches it, 1 when it speaks of nothing
    else. Scoring is one sparse matrix product, so it costs little even for a million answers.
    """

    def __init__(self, concepts: Mapping[str, Sequence[str]], lang: str = "sv"):
        self.concepts = {name: list(words) for name, words in concepts.items()}
        self.lang = lang

    def _terms_of(self, phrase: str) -> set[str]:
        # A keyword that is itself a stop word after all ("mer") would only add noise.
        return {t for t in Analyzer(self.lang)(phrase) if t not in stop_words(self.lang)}

    def fit(self, vocabulary: Mapping[str, int]) -> ConceptScorer:
        """Build the term x concept matrix over a fitted vectoriser's vocabulary."""
        self.names_ = list(self.concepts)
        rows, cols = [], []
        for j, name in enumerate(self.names_):
            terms = self._terms_of(name)
            for keyword in self.concepts[name]:
                terms |= self._terms_of(keyword)
            for term in terms:
                if term in vocabulary:
                    rows.append(vocabulary[term])
                    cols.append(j)
        self.matrix_ = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                     shape=(len(vocabulary), len(self.names_)))
        return self

    def transform(self, words: sp.csr_matrix) -> np.ndarray:
        """Concept scores from a TF-IDF matrix over the same vocabulary."""
        mass = np.asarray(words.sum(axis=1)).ravel()
        scores = np.asarray((words @ self.matrix_).todense(), dtype=np.float32)
        return scores / np.maximum(mass, 1e-9)[:, None]


class AnswerVectorizer(TransformerMixin, BaseEstimator):
    """Sparse word + sub-word TF-IDF of answers, with optional concept features.

    ``lang`` is "sv", "en" or "auto" (the dominant language of the input is used for all answers,
    which keeps one consistent vocabulary). ``char_weight`` scales the character n-gram block and
    ``concept_weight`` the concept block relative to the word block.
    """

    def __init__(
        self,
        lang: str = "auto",
        char_weight: float = 1.0,
        char_ngrams: tuple[int, int] = (3, 5),
        concepts: Mapping[str, Sequence[str]] | None = None,
        concept_weight: float = 1.0,
        min_df: int | float = 1,
        max_df: float = 0.5,
    ):
        self.lang = lang
        self.char_weight = char_weight
        self.char_ngrams = char_ngrams
        self.concepts = concepts
        self.concept_weight = concept_weight
        self.min_df = min_df
        self.max_df = max_df

    def _analyse_unique(self, texts: list[str]) -> tuple[list[list[str]], np.ndarray]:
        codes, uniques = pd.factorize(pd.Series(texts, dtype=object))
        return [self.analyzer_(t) for t in uniques], codes

    def fit(self, texts: Sequence[str], y: object = None) -> AnswerVectorizer:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[str], y: object = None) -> sp.csr_matrix:
        texts = _as_list(texts)
        self.lang_ = dominant_language(texts) if self.lang == "auto" else self.lang
        self.analyzer_ = Analyzer(self.lang_)
        analysed, codes = self._analyse_unique(texts)
        # Terms are computed once per distinct answer; the vectoriser only counts them.
        self.words_ = TfidfVectorizer(
            analyzer=_identity, sublinear_tf=True, dtype=np.float32,
            min_df=self.min_df if len(analysed) > 50 else 1, max_df=self.max_df if len(analysed) > 50 else 1.0,
        )
        unique_words = self.words_.fit_transform(analysed)
        terms = self.words_.get_feature_names_out()
        if self.char_weight:
            self.char_ = TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngrams, sublinear_tf=True,
                                         dtype=np.float32)
            self.term_chars_ = self.char_.fit_transform(terms)
        opinion = OPINION_WORDS.get(self.lang_, frozenset())
        opinion_stems = {stem(w, self.lang_) for w in opinion}
        self.topical_terms_ = np.array([t not in opinion_stems for t in terms], dtype=bool)
        self.concept_scorer_ = (ConceptScorer(self.concepts, self.lang_).fit(self.words_.vocabulary_)
                                if self.concepts else None)
        self.word_matrix_ = unique_words[codes]
        return self._combine(self.word_matrix_)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self._combine(self.transform_words(texts))

    def transform_words(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The word block alone (TF-IDF of stems and compound parts)."""
        analysed, codes = self._analyse_unique(_as_list(texts))
        return self.words_.transform(analysed)[codes]

    def topical(self, words: sp.csr_matrix) -> np.ndarray:
        """True for answers with at least one known word that is not a mere opinion word."""
        return np.asarray(words[:, self.topical_terms_].getnnz(axis=1) > 0).ravel()

    def _combine(self, words: sp.csr_matrix) -> sp.csr_matrix:
        blocks = [words]
        if self.char_weight:
            blocks.append(self.char_weight * normalize(words @ self.term_chars_))
        if self.concept_scorer_ is not None and self.concept_weight:
            blocks.append(sp.csr_matrix(self.concept_weight * self.concept_scorer_.transform(words)))
        return normalize(sp.hstack(blocks, format="csr", dtype=np.float32))

    def surface_forms(self, texts: Sequence[str]) -> dict[str, str]:
        """Most common written form of each term in ``texts`` (for readable labels)."""
        counts: dict[str, dict[str, int]] = {}
        lang = self.lang_
        for text in _as_list(texts):
            _, tokens = self.analyzer_.content_tokens(text)
            for token in tokens:
                forms = [token, *split_compound(token)] if lang == "sv" else [token]
                for form in forms:
                    by_form = counts.setdefault(stem(form, lang), {})
                    by_form[form] = by_form.get(form, 0) + 1
        return {term: max(forms, key=lambda f: (forms[f], -len(f))) for term, forms in counts.items()}


class LsaEmbedder(TransformerMixin, BaseEstimator):
    """Truncated SVD of a sparse matrix, rows normalised to unit length (cosine geometry)."""

    def __init__(self, n_components: int = 30, random_state: int | None = 0):
        self.n_components = n_components
        self.random_state = random_state

    def fit_transform(self, X: sp.csr_matrix, y: object = None) -> np.ndarray:
        n_components = max(1, min(self.n_components, X.shape[1] - 1, X.shape[0] - 1))
        self.svd_ = TruncatedSVD(n_components, algorithm="randomized", n_iter=4, random_state=self.random_state)
        return normalize(self.svd_.fit_transform(X)).astype(np.float32)

    def fit(self, X: sp.csr_matrix, y: object = None) -> LsaEmbedder:
        self.fit_transform(X)
        return self

    def transform(self, X: sp.csr_matrix) -> np.ndarray:
        return normalize(self.svd_.transform(X)).astype(np.float32)
