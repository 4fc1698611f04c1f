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

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from analysis.embedding import CooccurrenceEmbedding, reliability
from analysis.pretrained import answer_vectors, available
from analysis.text import (
    OPINION_WORDS,
    TOKEN_PATTERN,
    Analyzer,
    concept_terms,
    content_terms,
    dominant_language,
    prepare,
    split_compound,
    stem,
    stop_words,
)

# Above this many distinct answers, tokens that occur in a single answer are not stemmed or split:
# they are mostly typos and one-off compounds, the Python work per distinct token is the cost that
# grows with the input, and min_df=2 drops most of their terms anyway.
LARGE_INPUT = 20_000
# An answer whose concept score reaches this clearly speaks to the concept (StrategyMapper's default).
CLEAR_CONCEPT_SCORE = 0.15


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

    def __init__(self, concepts: Mapping[str, Sequence[str]], lang: str = "sv", compounds: bool = False):
        self.concepts = {name: list(words) for name, words in concepts.items()}
        self.lang = lang
        # Also count compounds the dictionary lists whole (busstur) for the concept of a part
        # (buss): right for telling which priority an answer speaks to, but as a prior for the
        # themes and the coder it blurred them (measured in docs/analysis.md).
        self.compounds = compounds

    def _terms_of(self, phrase: str, title: bool = False) -> set[str]:
        # A stem that is itself a stop word after all would only add noise.
        return {t for t in concept_terms(phrase, self.lang, title=title) if t not in stop_words(self.lang)}

    def terms(self, name: str) -> set[str]:
        """The terms of one concept: its title's topical words and its keywords (see concept_terms)."""
        terms = self._terms_of(name, title=True)
        for keyword in self.concepts[name]:
            terms |= self._terms_of(keyword)
        return terms

    def fit(self, vocabulary: Mapping[str, int]) -> ConceptScorer:
        """Build the term x concept matrix over a fitted vectoriser's vocabulary."""
        self.names_ = list(self.concepts)
        concept_terms_ = [self.terms(name) for name in self.names_]
        heads = (_compound_heads(vocabulary, set().union(*concept_terms_))
                 if self.compounds and self.lang == "sv" else {})
        rows, cols = [], []
        for j, terms in enumerate(concept_terms_):
            for term in terms:
                if term in vocabulary:
                    rows.append(vocabulary[term])
                    cols.append(j)
            for term, head in heads.items():
                if head in terms and term not in terms:
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


_MIN_HEAD, _MIN_TAIL = 4, 3


def _compound_heads(vocabulary: Mapping[str, int], heads: set[str]) -> dict[str, str]:
    """Vocabulary terms that are a concept term joined to another term of the vocabulary, directly
    or with a linking s (busstur = buss + tur, where "tur" comes from "turer"), mapped to that
    concept term. The dictionary's compound splitting keeps a compound it lists as one word whole,
    and then a keyword for one of its parts never reached it."""
    found: dict[str, str] = {}
    for term in vocabulary:
        for cut in range(_MIN_HEAD, len(term) - _MIN_TAIL + 1):
            head = term[:cut]
            if head not in heads:
                continue
            rest = term[cut:]
            if (len(rest) >= _MIN_TAIL and rest in vocabulary) or (
                    rest.startswith("s") and len(rest) > _MIN_TAIL and rest[1:] in vocabulary):
                found[term] = head
                break
    return found


class TermWeights:
    """The fitted term vocabulary with its idf weights (what ``AnswerVectorizer.words_`` holds).

    It answers the calls callers make on a fitted TfidfVectorizer: ``vocabulary_``, ``idf_``,
    ``get_feature_names_out()`` and ``transform(list of term lists)``.
    """

    def __init__(self, terms: Sequence[str], idf: np.ndarray):
        self.terms_ = np.asarray(list(terms), dtype=object)
        self.vocabulary_ = {term: i for i, term in enumerate(self.terms_)}
        self.idf_ = np.asarray(idf, dtype=np.float32)

    def get_feature_names_out(self) -> np.ndarray:
        return self.terms_.copy()

    def weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear tf times idf, rows L2-normalised (TfidfVectorizer(sublinear_tf=True))."""
        weights = sp.csr_matrix(counts, dtype=np.float32, copy=True)
        np.log(weights.data, out=weights.data)
        weights.data += 1
        weights = weights @ sp.diags(self.idf_, format="csr", dtype=np.float32)
        return normalize(weights).astype(np.float32)

    def transform(self, analysed: Sequence[Sequence[str]]) -> sp.csr_matrix:
        rows, cols = [], []
        for i, terms in enumerate(analysed):
            for term in terms:
                if term in self.vocabulary_:
                    rows.append(i)
                    cols.append(self.vocabulary_[term])
        counts = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                               shape=(len(analysed), len(self.terms_)))
        return self.weigh(counts)


# Answers are counted a chunk at a time, joined into one string with this separator between them:
# one regular-expression pass over the chunk instead of one call per answer.
_SEPARATOR = "\x00"
_TOKEN_OR_SEPARATOR = re.compile(f"{TOKEN_PATTERN}|{_SEPARATOR}")
COUNT_CHUNK = 100_000


def _count_tokens(texts: Sequence[str], chunk: int = COUNT_CHUNK) -> tuple[sp.csr_matrix, np.ndarray]:
    """Token counts (answers x distinct tokens) and the tokens, in order of first appearance.

    The same tokens as ``tokenise(prepare(text))`` per answer, but each chunk of answers is prepared
    and tokenised as one string (C-speed regular expressions, pandas hashing) with a separator
    between answers that the token pattern never matches inside one (``prepare`` never joins words
    across it: its URL pattern stops at white space, which surrounds the separator).
    """
    vocabulary: dict[str, int] = {}
    rows: list[np.ndarray] = []
    columns: list[np.ndarray] = []
    for start in range(0, len(texts), chunk):
        part = list(texts[start: start + chunk])
        joined = f" {_SEPARATOR} ".join(part)
        if joined.count(_SEPARATOR) != len(part) - 1:  # a separator inside an answer: drop it there
            joined = f" {_SEPARATOR} ".join(t.replace(_SEPARATOR, " ") for t in part)
        found = np.asarray(_TOKEN_OR_SEPARATOR.findall(prepare(joined)), dtype=object)
        if len(found) == 0:
            continue
        codes, uniques = pd.factorize(found)
        # Compared in Python: numpy would compare "\x00" as the empty string.
        is_separator = np.fromiter((u == _SEPARATOR for u in uniques), dtype=bool, count=len(uniques))
        answer = start + np.cumsum(is_separator[codes])
        ids = np.fromiter((vocabulary.setdefault(u, len(vocabulary)) if not sep else -1
                           for u, sep in zip(uniques, is_separator, strict=True)), dtype=np.int64,
                          count=len(uniques))
        words = ~is_separator[codes]
        rows.append(answer[words])
        columns.append(ids[codes[words]])
    if not vocabulary:  # no token at all (only empty answers, numbers or punctuation)
        return sp.csr_matrix((len(texts), 0), dtype=np.float32), np.array([], dtype=object)
    row, column = np.concatenate(rows), np.concatenate(columns)
    counts = sp.csr_matrix((np.ones(len(row), dtype=np.float32), (row, column)),
                           shape=(len(texts), len(vocabulary)))
    counts.sum_duplicates()
    return counts, np.array(list(vocabulary), dtype=object)


def _per_answer(distinct: sp.csr_matrix, codes: np.ndarray) -> sp.csr_matrix:
    """Rows of the distinct answers repeated for every answer (no copy when all answers differ)."""
    if len(codes) == distinct.shape[0] and np.array_equal(codes, np.arange(len(codes))):
        return distinct
    return distinct[codes]


def _weighted_columns(blocks: list[tuple[np.ndarray | None, float]]) -> np.ndarray | None:
    """The dense blocks side by side, each times its weight, filled into one float32 matrix (a
    million answers' pretrained vectors are a gigabyte: no intermediate copies)."""
    used = [(block, weight) for block, weight in blocks if weight and block is not None]
    if not used:
        return None
    dense = np.empty((used[0][0].shape[0], sum(block.shape[1] for block, _ in used)), dtype=np.float32)
    start = 0
    for block, weight in used:
        np.multiply(block, weight, out=dense[:, start: start + block.shape[1]], casting="unsafe")
        start += block.shape[1]
    return dense


class CombinedFeatures:
    """The answers' feature matrix [words | c * normalize(words @ term_chars) | a * concepts |
    e * embedding | p * pretrained], each row normalised, as an operator: the character n-gram
    block is never built answer by answer (it has tens of n-grams per term), its products go
    through the term x n-gram matrix instead. That is what keeps a million answers within memory
    and lets the SVD run on all of them. The concept scores, the learned answer vectors
    (``analysis.embedding``) and the pretrained ones (``analysis.pretrained``) are small dense
    blocks, kept as one weighted dense matrix.
    """

    def __init__(self, words: sp.csr_matrix, term_chars: sp.csr_matrix | None, char_weight: float,
                 concepts: np.ndarray | None, concept_weight: float, chunk: int = 50_000,
                 embedding: np.ndarray | None = None, embedding_weight: float = 0.0,
                 pretrained: np.ndarray | None = None, pretrained_weight: float = 0.0):
        self.words = words
        self.term_chars = term_chars if char_weight and term_chars is not None else None
        self.dense = _weighted_columns([(concepts, concept_weight), (embedding, embedding_weight),
                                        (pretrained, pretrained_weight)])
        n = words.shape[0]
        self.char_scale = np.zeros(n, dtype=np.float32)
        if self.term_chars is not None:
            norms = np.empty(n, dtype=np.float32)
            for start in range(0, n, chunk):  # row norms of words @ term_chars, a chunk at a time
                block = words[start: start + chunk] @ self.term_chars
                norms[start: start + chunk] = np.sqrt(np.asarray(block.multiply(block).sum(axis=1)).ravel())
            nonzero = norms > 0
            self.char_scale[nonzero] = char_weight / norms[nonzero]
        squared = np.asarray(words.multiply(words).sum(axis=1)).ravel()
        squared += np.where(self.char_scale > 0, char_weight**2, 0.0)
        if self.dense is not None:
            squared += np.einsum("ij,ij->i", self.dense, self.dense)
        self.row_scale = np.where(squared > 0, 1 / np.sqrt(np.maximum(squared, 1e-30)), 0).astype(np.float32)
        widths = [words.shape[1], 0 if self.term_chars is None else self.term_chars.shape[1],
                  0 if self.dense is None else self.dense.shape[1]]
        self.bounds = np.cumsum([0, *widths])
        self.shape = (n, int(self.bounds[-1]))

    def dot(self, right: np.ndarray) -> np.ndarray:
        """self @ right for a dense right-hand side (columns x r)."""
        a, b, c, _ = self.bounds
        out = np.asarray(self.words @ right[a:b], dtype=np.float32)
        if self.term_chars is not None:
            out += self.char_scale[:, None] * np.asarray(self.words @ (self.term_chars @ right[b:c]))
        if self.dense is not None:
            out += self.dense @ right[c:]
        return out * self.row_scale[:, None]

    def tdot(self, left: np.ndarray) -> np.ndarray:
        """self.T @ left for a dense left-hand side (rows x r)."""
        scaled = left * self.row_scale[:, None]
        parts = [np.asarray(self.words.T @ scaled)]
        if self.term_chars is not None:
            parts.append(np.asarray(self.term_chars.T @ (self.words.T @ (scaled * self.char_scale[:, None]))))
        if self.dense is not None:
            parts.append(self.dense.T @ scaled)
        return np.vstack(parts).astype(np.float32)

    def to_sparse(self) -> sp.csr_matrix:
        """The whole matrix, built (for small inputs and for classifiers that need it)."""
        blocks = [self.words]
        if self.term_chars is not None:
            blocks.append(sp.diags(self.char_scale) @ (self.words @ self.term_chars))
        if self.dense is not None:
            blocks.append(sp.csr_matrix(self.dense))
        return (sp.diags(self.row_scale) @ sp.hstack(blocks, format="csr")).astype(np.float32).tocsr()


class AnswerVectorizer(TransformerMixin, BaseEstimator):
    """Sparse word + sub-word TF-IDF of answers, with optional concept features.

    ``lang`` is "sv", "en" or "auto" (the dominant language of the input is used for all answers,
    which keeps one consistent vocabulary). ``char_weight`` scales the character n-gram block and
    ``concept_weight`` the concept block relative to the word block. ``embedding_weight`` (0: off)
    adds answer vectors built from word vectors learned on the answers themselves
    (``analysis.embedding``); its weight is scaled by how many term occurrences they were learned
    from (``embedding_weight_``), so a few hundred short answers get little of it.
    ``pretrained_weight`` (0: off) adds answer vectors from a pretrained model where there is one for
    the answers' language (``analysis.pretrained``: English); ``pretrained_weight_`` is what was used.

    Counting is vectorised: scikit-learn counts surface tokens per distinct answer, then each
    distinct token is stemmed and split once and a token x term matrix maps the counts onto terms.
    Document frequencies (for idf, ``min_df`` and ``max_df``) are counted over distinct answers.
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
        adaptive_concepts: bool = False,
        embedding_weight: float = 0.0,
        random_state: int | None = 0,
        pretrained_weight: float = 0.0,
    ):
        self.lang = lang
        self.char_weight = char_weight
        self.char_ngrams = char_ngrams
        self.concepts = concepts
        self.concept_weight = concept_weight
        self.min_df = min_df
        self.max_df = max_df
        self.adaptive_concepts = adaptive_concepts
        self.embedding_weight = embedding_weight
        self.random_state = random_state
        self.pretrained_weight = pretrained_weight

    # --- counting ----------------------------------------------------------------------------

    def _token_map(self, tokens: np.ndarray, analyse: np.ndarray, vocabulary: dict[str, int],
                   grow: bool) -> sp.csr_matrix:
        """Tokens x terms: 1 where a token contributes a term (its stem, its compound parts)."""
        rows, cols = [], []
        lang = self.lang_
        for i in np.flatnonzero(analyse):
            for term in content_terms(tokens[i], lang):
                j = vocabulary.get(term)
                if j is None:
                    if not grow:
                        continue
                    j = vocabulary[term] = len(vocabulary)
                rows.append(i)
                cols.append(j)
        return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                             shape=(len(tokens), len(vocabulary)))

    def _unique_counts(self, texts: list[str]) -> tuple[np.ndarray, list[str]]:
        codes, uniques = pd.factorize(pd.Series(texts, dtype=object))
        return codes, list(uniques)

    def fit(self, texts: Sequence[str], y: object = None) -> AnswerVectorizer:
        self.fit_transform(texts)
        return self

    def fit_features(self, texts: Sequence[str]) -> CombinedFeatures:
        """Fit on the answers and return their combined features as an operator (no char block built)."""
        texts = _as_list(texts)
        self.lang_ = dominant_language(texts) if self.lang == "auto" else self.lang
        self.analyzer_ = Analyzer(self.lang_)
        codes, uniques = self._unique_counts(texts)
        token_counts, tokens = _count_tokens(uniques)
        token_df = np.bincount(token_counts.indices, minlength=len(tokens))
        analyse = token_df >= (2 if len(uniques) >= LARGE_INPUT else 1)
        vocabulary: dict[str, int] = {}
        counts = (token_counts @ self._token_map(tokens, analyse, vocabulary, grow=True)).tocsr()
        terms = np.empty(len(vocabulary), dtype=object)
        for term, j in vocabulary.items():
            terms[j] = term
        keep = self._kept_terms(counts, len(uniques))
        order = keep[np.argsort(terms[keep], kind="stable")]  # alphabetical, like scikit-learn
        counts = counts[:, order]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log((1 + len(uniques)) / (1 + df)) + 1
        self.words_ = TermWeights(terms[order], idf)
        terms = self.words_.get_feature_names_out()
        if self.char_weight:
            self.char_ = TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngrams, sublinear_tf=True,
                                         dtype=np.float32)
            self.term_chars_ = self.char_.fit_transform(terms).tocsr()
        opinion_stems = {stem(w, self.lang_) for w in OPINION_WORDS.get(self.lang_, frozenset())}
        self.topical_terms_ = np.array([t not in opinion_stems for t in terms], dtype=bool)
        self.concept_scorer_ = (ConceptScorer(self.concepts, self.lang_).fit(self.words_.vocabulary_)
                                if self.concepts else None)
        self.word_matrix_ = _per_answer(self.words_.weigh(counts), codes)
        self.concept_weight_ = self.concept_weight
        if self.adaptive_concepts and self.concept_scorer_ is not None:
            # A prior nobody chose for this question (the packaged lists) earns its weight by how
            # many answers clearly speak to it: full weight from half of the answers, fading below.
            spoken_to = (self.concept_scorer_.transform(self.word_matrix_).max(axis=1) >= CLEAR_CONCEPT_SCORE).mean()
            self.concept_weight_ = self.concept_weight * min(1.0, 2 * float(spoken_to))
        self.embedding_, self.embedding_weight_ = None, 0.0
        if self.embedding_weight:
            self.embedding_weight_ = self.embedding_weight * reliability(self.word_matrix_)
            self.embedding_ = CooccurrenceEmbedding(random_state=self.random_state).fit(self.word_matrix_)
        self.pretrained_weight_ = self.pretrained_weight if available(self.lang_) else 0.0
        return self.features(self.word_matrix_, texts)

    def _kept_terms(self, counts: sp.csr_matrix, n_docs: int) -> np.ndarray:
        """Term ids within min_df and max_df (both ignored for 50 distinct answers or fewer)."""
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        if n_docs <= 50:
            keep = df >= 1
        else:
            low = self.min_df if isinstance(self.min_df, int | np.integer) else self.min_df * n_docs
            high = self.max_df * n_docs if isinstance(self.max_df, float) else self.max_df
            keep = (df >= low) & (df <= high)
        if not keep.any():
            raise ValueError("no words to analyse: the answers are empty or contain only stop words")
        return np.flatnonzero(keep)

    def fit_transform(self, texts: Sequence[str], y: object = None) -> sp.csr_matrix:
        return self.fit_features(texts).to_sparse()

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        texts = _as_list(texts)
        return self.features(self.transform_words(texts), texts).to_sparse()

    def transform_words(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The word block alone (TF-IDF of stems and compound parts) over the fitted vocabulary."""
        codes, uniques = self._unique_counts(_as_list(texts))
        token_counts, tokens = _count_tokens(uniques)
        vocabulary = self.words_.vocabulary_
        mapping = self._token_map(tokens, np.ones(len(tokens), dtype=bool), dict(vocabulary), grow=False)
        counts = (token_counts @ mapping).tocsr()
        return _per_answer(self.words_.weigh(counts), codes)

    def topical(self, words: sp.csr_matrix) -> np.ndarray:
        """True for answers with at least one known word that is not a mere opinion word."""
        return np.asarray(words[:, self.topical_terms_].getnnz(axis=1) > 0).ravel()

    def features(self, words: sp.csr_matrix, texts: Sequence[str] | None = None) -> CombinedFeatures:
        """The combined features of answers given their word block (and their texts, for the
        pretrained vectors), as an operator."""
        weight = getattr(self, "concept_weight_", self.concept_weight)
        concepts = self.concept_scorer_.transform(words) if self.concept_scorer_ is not None and weight else None
        # Models stored before the learned vectors existed have no embedding_.
        embedding_model = getattr(self, "embedding_", None)
        embedding_weight = getattr(self, "embedding_weight_", 0.0)
        embedding = embedding_model.transform(words) if embedding_model is not None and embedding_weight else None
        # Models stored before the pretrained vectors existed have no pretrained_weight_.
        pretrained_weight = getattr(self, "pretrained_weight_", 0.0)
        pretrained = answer_vectors(texts, self.lang_) if pretrained_weight and texts is not None else None
        return CombinedFeatures(words, self.term_chars_ if self.char_weight else None, self.char_weight,
                                concepts, weight, embedding=embedding, embedding_weight=embedding_weight,
                                pretrained=pretrained, pretrained_weight=pretrained_weight)

    def surface_forms(self, tokenised: Sequence[Sequence[str]]) -> dict[str, str]:
        """Most common written form of each term in answers' content tokens (for readable labels)."""
        counts: dict[str, dict[str, int]] = {}
        lang = self.lang_
        for tokens in tokenised:
            for token in tokens:
                forms = [token, *split_compound(token)] if lang == "sv" else [token]
                for form in forms:
                    by_form = counts.setdefault(stem(form, lang), {})
                    by_form[form] = by_form.get(form, 0) + 1
        return {term: max(forms, key=lambda f: (forms[f], -len(f))) for term, forms in counts.items()}


def randomized_svd(matrix: sp.spmatrix | CombinedFeatures, n_components: int, n_iter: int = 4,
                   random_state: int | None = 0, oversample: int = 10) -> np.ndarray:
    """Top right singular vectors (components x columns) by the randomized range finder of Halko,
    Martinsson and Tropp, using only products with the matrix and its transpose."""
    dot, tdot = _products(matrix)
    rng = np.random.default_rng(random_state)
    size = min(n_components + oversample, *matrix.shape)
    sketch = dot(rng.standard_normal((matrix.shape[1], size)).astype(np.float32))
    for _ in range(n_iter):
        sketch = dot(_orthonormal(tdot(_orthonormal(sketch))))
    basis = _orthonormal(_orthonormal(sketch))  # twice: float32 Gram matrices lose accuracy once
    # Right singular vectors of the small-by-wide projection B = basis.T @ matrix, from B @ B.T.
    projection = tdot(basis).T.astype(np.float64)
    values, vectors = np.linalg.eigh(projection @ projection.T)
    top = np.argsort(-values)[:n_components]
    components = (vectors[:, top].T @ projection) / np.sqrt(np.maximum(values[top], 1e-30))[:, None]
    # A fixed sign per component (largest entry positive), so that runs compare entry by entry.
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    return (components * signs[:, None]).astype(np.float32)


def _orthonormal(block: np.ndarray) -> np.ndarray:
    """An orthonormal basis of a tall block's columns from its small Gram matrix (one product instead
    of a Householder QR of the tall block, which costs far more on a hundred thousand rows)."""
    gram = (block.T @ block).astype(np.float64)
    values, vectors = np.linalg.eigh(gram)
    keep = values > values.max() * 1e-10
    return (block @ (vectors[:, keep] / np.sqrt(values[keep])).astype(np.float32)).astype(np.float32)


def _products(matrix: sp.spmatrix | CombinedFeatures):
    if isinstance(matrix, CombinedFeatures):
        return matrix.dot, matrix.tdot
    csr = sp.csr_matrix(matrix, dtype=np.float32)
    transposed = csr.T.tocsr()
    return (lambda right: np.asarray(csr @ right, dtype=np.float32),
            lambda left: np.asarray(transposed @ left, dtype=np.float32))


class LsaEmbedder(TransformerMixin, BaseEstimator):
    """Truncated SVD (latent semantic analysis) of a sparse matrix or of ``CombinedFeatures``, rows
    normalised to unit length (cosine geometry)."""

    def __init__(self, n_components: int = 30, random_state: int | None = 0):
        self.n_components = n_components
        self.random_state = random_state

    def fit_transform(self, X: sp.spmatrix | CombinedFeatures, y: object = None) -> np.ndarray:
        n_components = max(1, min(self.n_components, X.shape[1] - 1, X.shape[0] - 1))
        self.components_ = randomized_svd(X, n_components, n_iter=4, random_state=self.random_state)
        return self.transform(X)

    def fit(self, X: sp.spmatrix | CombinedFeatures, y: object = None) -> LsaEmbedder:
        self.fit_transform(X)
        return self

    def transform(self, X: sp.spmatrix | CombinedFeatures) -> np.ndarray:
        dot, _ = _products(X)
        return normalize(dot(self.components_.T)).astype(np.float32)
