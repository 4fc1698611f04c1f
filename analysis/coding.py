"""Assisted coding: learn from the answers analysts have coded, code the rest with a confidence.

The coder sees every answer of the question (coded or not) when it builds its vocabulary, so words
that only uncoded answers use still get sub-word and LSA neighbours. A logistic regression is
trained on the coded answers; then, in a few rounds of self-training, uncoded answers it is very
sure about join the training set with their predicted theme (semi-supervised learning). Answers
whose confidence stays below ``threshold`` are left for review.

Analysts code about the same number of answers per theme, so the classifier learns as if every
theme were equally common; real questions are not like that (one theme may be twenty times
another). When there are enough uncoded answers to tell (``MIN_UNCODED_PER_THEME`` per theme on
average), the themes' true shares are estimated on them by EM (Saerens, Latinne and Decaestecker
2002, "Adjusting the outputs of a classifier to new a priori probabilities") and the probabilities
are adjusted to them. The same large questions also get a view of words and word pairs with the
function words kept ("waiting time", "more staff"), which needs many answers before pairs repeat,
and leave out the LSA view, which helps small questions (answers that share no word) but blurs
themes that the sparse views separate once there are enough answers.

On those large questions the themes' names are evidence too: every analyst theme has a name, and an
answer that says what the name says ("Communication", "Dignity") leans towards that theme. Each name,
cut to the words that at least two answers use (so codes such as "T1" or "ovrigt" add nothing), joins
the training set as one more coded answer, and the answers' similarity to it (pretrained vectors when
the language has them, else the coder's own features; and word vectors learned from the question's
own answers) is added to the scores as a log-prior.

Agreement with the analysts is reported as F1 with a 95% bootstrap interval once at least
``MIN_REVIEWED`` answers have been reviewed (the practice of the UK government's Consult tool).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from threadpoolctl import threadpool_limits

from analysis.embedding import CooccurrenceEmbedding
from analysis.evaluate import bootstrap_interval, coding_scores
from analysis.pretrained import answer_vectors, available
from analysis.text import TOKEN_PATTERN, prepare
from analysis.vectorize import AnswerVectorizer, LsaEmbedder

MIN_REVIEWED = 30
# Estimating the themes' shares needs enough uncoded answers per theme; on a few hundred answers
# the estimate is noise and costs more than it brings.
MIN_UNCODED_PER_THEME = 50


class AssistedCoder(BaseEstimator):
    """Code answers into the analysts' themes.

    ``fit(texts, labels)``: ``labels`` holds a theme for coded answers and NaN/None for the rest
    (all answers of the question are passed, so the uncoded ones inform the vocabulary); on a large
    question the labels' names (or ``names[label]`` when labels are ids) are evidence as well.
    ``predict(texts)`` returns theme, confidence and needs_review per answer.
    """

    def __init__(
        self,
        lang: str = "auto",
        threshold: float = 0.5,
        C: float = 10.0,
        self_training_rounds: int = 4,
        self_training_confidence: float = 0.7,
        n_components: int = 100,
        lsa_weight: float = 1.0,
        concepts: Mapping[str, Sequence[str]] | None = None,
        concept_weight: float = 1.0,
        threads: int = 1,
        random_state: int | None = 0,
        text_char_weight: float = 1.0,
        model: str = "ridge",
        alpha: float = 1.0,
        sharpness: float = 8.0,
        prior_correction: bool = True,
        phrase_weight: float = 1.0,
        pretrained_weight: float = 1.0,
        pseudo_label_weight: float = 0.1,
        large_confidence: float = 0.8,
        name_weight: float = 4.0,
        name_example_weight: float = 5.0,
        learned_name_weight: float = 2.0,
    ):
        self.lang = lang
        self.threshold = threshold
        self.C = C
        self.self_training_rounds = self_training_rounds
        self.self_training_confidence = self_training_confidence
        self.n_components = n_components
        self.lsa_weight = lsa_weight
        self.concepts = concepts
        self.concept_weight = concept_weight
        self.threads = threads
        self.random_state = random_state
        self.text_char_weight = text_char_weight
        self.model = model
        self.alpha = alpha
        self.sharpness = sharpness
        self.prior_correction = prior_correction
        self.phrase_weight = phrase_weight
        self.pretrained_weight = pretrained_weight
        self.pseudo_label_weight = pseudo_label_weight
        self.large_confidence = large_confidence
        self.name_weight = name_weight
        self.name_example_weight = name_example_weight
        self.learned_name_weight = learned_name_weight

    def _features(self, sparse: sp.csr_matrix, texts: Sequence[str]) -> sp.csr_matrix:
        return self._features_and_vectors(sparse, texts)[0]

    def _features_and_vectors(self, sparse: sp.csr_matrix,
                              texts: Sequence[str]) -> tuple[sp.csr_matrix, np.ndarray | None]:
        """The coder's features, and the pretrained answer vectors when the language has them."""
        blocks = [sparse]
        vectors = None
        if self.lsa_weight and getattr(self, "lsa_", None) is not None:
            blocks.append(sp.csr_matrix(self.lsa_.transform(sparse) * self.lsa_weight))
        if self.text_char_weight:
            blocks.append(self.text_char_weight * self.text_chars_.transform(list(texts)))
        if getattr(self, "phrases_", None) is not None:
            blocks.append(self.phrase_weight * self.phrases_.transform(list(texts)))
        pretrained_weight = getattr(self, "pretrained_weight_", 0.0)
        if pretrained_weight:
            vectors = answer_vectors(texts, self.vectorizer_.lang_)
            blocks.append(sp.csr_matrix(pretrained_weight * vectors))
        return sp.hstack(blocks, format="csr"), vectors

    def fit(self, texts: Sequence[str] | pd.Series, labels: Sequence | pd.Series,
            names: Mapping[str, str] | None = None) -> AssistedCoder:
        """``names`` maps a label to its theme's name when the labels are ids (the label itself is
        taken as the name otherwise)."""
        texts = list(texts)
        labels = pd.Series(list(labels), dtype=object)
        coded = labels.notna().to_numpy() & (labels.astype(str).str.strip() != "").to_numpy()
        if coded.sum() == 0 or labels[coded].nunique() < 2:
            raise ValueError("assisted coding needs coded answers for at least two themes")
        with threadpool_limits(self.threads):
            self.vectorizer_ = AnswerVectorizer(lang=self.lang, concepts=self.concepts,
                                                concept_weight=self.concept_weight)
            sparse = self.vectorizer_.fit_transform(texts)
            n_themes = labels[coded].nunique()
            large = (~coded).sum() >= MIN_UNCODED_PER_THEME * n_themes
            # LSA lets answers that share no word meet, which is what a small question needs; on a
            # large one the sparse views have enough answers per word and LSA only blurs them.
            self.lsa_ = None if large else LsaEmbedder(self.n_components, random_state=self.random_state).fit(sparse)
            if self.text_char_weight:
                # Character n-grams of the whole answer, function words and misspellings included:
                # a second view that the stemmed content terms lose ("I felt", "kolektivtrafik").
                self.text_chars_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                                   preprocessor=prepare, min_df=2, dtype=np.float32)
                self.text_chars_.fit(texts)
            self.phrases_ = None
            if large and self.phrase_weight:
                # Words and word pairs with function words kept ("not enough", "more staff").
                self.phrases_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, preprocessor=prepare,
                                                token_pattern=TOKEN_PATTERN, min_df=2, dtype=np.float32)
                self.phrases_.fit(texts)
            self.pretrained_weight_ = self.pretrained_weight if available(self.vectorizer_.lang_) else 0.0
            self.prior_ratio_ = None
            adjust = large and self.prior_correction
            X, vectors = self._features_and_vectors(sparse, texts)
            y = labels[coded].astype(str).to_numpy()
            self.name_evidence_ = None
            name_rows = None
            if large and (self.name_weight or self.name_example_weight):
                name_rows = self._fit_names(np.unique(y), names or {}, vectors)
            self._name_rows = name_rows
            self._bias = (self._name_bias(X, vectors, self.vectorizer_.word_matrix_)
                          if self.name_evidence_ is not None else None)
            train = coded.copy()
            targets = np.empty(len(texts), dtype=object)
            targets[coded] = y
            # On a large question the machine's own labels outnumber the analysts' a hundred to one,
            # and a third of them are wrong: they count a tenth as much as a coded answer, and only
            # the surer ones are taken. (A small question needs every guess it can get.)
            weights = np.ones(len(texts))
            confidence = self.self_training_confidence
            if large:
                weights[~coded] = self.pseudo_label_weight
                confidence = max(confidence, self.large_confidence)
            self.model_ = self._train(X[train], targets[train], weights[train])
            uncoded = np.flatnonzero(~coded)
            previous: tuple[np.ndarray, np.ndarray] | None = None
            for _ in range(self.self_training_rounds if len(uncoded) else 0):
                proba = self._scored(self.model_.predict_proba(X[uncoded]), uncoded)
                if adjust:
                    proba = _with_ratio(proba, estimate_prior_ratio(proba))
                sure = proba.max(axis=1) >= confidence
                guesses = self.model_.classes_[proba[sure].argmax(axis=1)]
                if not sure.any() or (previous is not None and np.array_equal(previous[0], sure)
                                      and np.array_equal(previous[1], guesses)):
                    break  # nothing sure, or the same training set as last round: converged
                previous = (sure, guesses)
                train = coded.copy()
                train[uncoded[sure]] = True
                targets[uncoded[sure]] = guesses
                self.model_ = self._train(X[train], targets[train], weights[train])
            if adjust and len(uncoded):
                self.prior_ratio_ = estimate_prior_ratio(self._scored(self.model_.predict_proba(X[uncoded]), uncoded))
        del self._name_rows, self._bias
        self.classes_ = self.model_.classes_
        return self

    def _fit_names(self, classes: np.ndarray, names: Mapping[str, str],
                   vectors: np.ndarray | None) -> tuple[sp.csr_matrix, np.ndarray] | None:
        """Each theme's name cut to the words that at least two answers use (the word view's
        vocabulary), as features (a pseudo-coded answer) and, for the log-prior, as a unit vector in
        the pretrained space or the coder's own. Sets ``name_evidence_``; returns the rows to train on."""
        vocabulary = self.phrases_.vocabulary_ if getattr(self, "phrases_", None) is not None else {}
        texts = []
        for label in classes:
            words = re.findall(TOKEN_PATTERN, prepare(re.sub(r"[_/-]+", " ", str(names.get(label, label)))))
            texts.append(" ".join(word for word in words if word in vocabulary))
        named = np.array([bool(text) for text in texts])
        if not named.any():
            return None
        known = [text for text in texts if text]
        rows = self._features(self.vectorizer_.transform(known), known)
        if vectors is not None:
            centres = answer_vectors(known, self.vectorizer_.lang_)
        else:
            norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1))).ravel()
            centres = sp.diags(1 / np.maximum(norms, 1e-12)) @ rows
        self.name_evidence_ = {"named": named, "centres": centres, "pretrained": vectors is not None,
                               "space": None, "learned_centres": None}
        if self.learned_name_weight:
            # Word vectors learned from this question's own answers (which words keep the same company)
            # know what the answers call a theme, in any language.
            space = CooccurrenceEmbedding(random_state=self.random_state).fit(self.vectorizer_.word_matrix_)
            self.name_evidence_["space"] = space
            self.name_evidence_["learned_centres"] = space.transform(self.vectorizer_.transform_words(known))
        return rows, classes[named]

    def _name_bias(self, X: sp.csr_matrix, vectors: np.ndarray | None,
                   words: sp.csr_matrix | None) -> np.ndarray | None:
        """Log-prior per answer and theme: ``name_weight`` × the answer's similarity to the theme's
        name (pretrained vectors, else the coder's features) plus ``learned_name_weight`` × its
        similarity in the learned space, each centred over the named themes (unnamed themes get 0)."""
        evidence = getattr(self, "name_evidence_", None)
        if evidence is None or not (self.name_weight or evidence["space"] is not None):
            return None
        if evidence["pretrained"]:
            similarity = vectors @ evidence["centres"].T
        else:
            norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
            similarity = (sp.diags(1 / np.maximum(norms, 1e-12)) @ X @ evidence["centres"].T).toarray()
        log_prior = self.name_weight * (similarity - similarity.mean(axis=1, keepdims=True))
        if evidence["space"] is not None and words is not None:
            learned = evidence["space"].transform(words) @ evidence["learned_centres"].T
            log_prior += self.learned_name_weight * (learned - learned.mean(axis=1, keepdims=True))
        bias = np.zeros((X.shape[0], len(evidence["named"])))
        bias[:, evidence["named"]] = log_prior
        return bias

    def _scored(self, proba: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The model's probabilities with the names' log-prior of these answers (during fit)."""
        return proba if self._bias is None else _with_log_prior(proba, self._bias[rows])

    def _train(self, X: sp.csr_matrix, y: np.ndarray, weights: np.ndarray) -> LogisticRegression | _SoftRidge:
        y = y.astype(str)
        name_rows = getattr(self, "_name_rows", None)  # set during fit only
        if name_rows is not None and self.name_example_weight:
            # The names as pseudo-coded answers, always in the training set.
            rows, themes = name_rows
            X = sp.vstack([X, rows], format="csr")
            y = np.concatenate([y, themes.astype(str)])
            weights = np.concatenate([weights, np.full(len(themes), self.name_example_weight)])
        if self.model == "logistic":
            model = LogisticRegression(C=self.C, max_iter=2000)
            return model.fit(X, y, sample_weight=balanced_weights(y, weights))
        return _SoftRidge(self.alpha, self.sharpness).fit(X, y, weights)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        with threadpool_limits(self.threads):
            words = self.vectorizer_.transform_words(texts)
            X, vectors = self._features_and_vectors(self.vectorizer_.features(words, texts).to_sparse(), texts)
            proba = self.model_.predict_proba(X)
            bias = self._name_bias(X, vectors, words)
        if bias is not None:
            proba = _with_log_prior(proba, bias)
        ratio = getattr(self, "prior_ratio_", None)
        return proba if ratio is None else _with_ratio(proba, ratio)

    def predict(self, texts: Sequence[str] | pd.Series) -> pd.DataFrame:
        """Theme, confidence (probability of that theme) and whether the answer needs review."""
        proba = self.predict_proba(texts)
        confidence = proba.max(axis=1)
        return pd.DataFrame(
            {
                "theme": self.classes_[proba.argmax(axis=1)],
                "confidence": np.round(confidence, 4),
                "needs_review": confidence < self.threshold,
            },
            index=texts.index if isinstance(texts, pd.Series) else None,
        )


def _with_log_prior(proba: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    adjusted = proba * np.exp(log_prior)
    return adjusted / np.maximum(adjusted.sum(axis=1, keepdims=True), 1e-30)


def _with_ratio(proba: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    adjusted = proba * ratio
    return adjusted / np.maximum(adjusted.sum(axis=1, keepdims=True), 1e-30)


def estimate_prior_ratio(proba: np.ndarray, iterations: int = 100, tolerance: float = 1e-5) -> np.ndarray:
    """How much more (or less) common each theme is among these answers than in training, by EM.

    ``proba`` are a classifier's probabilities trained with equal theme weights (class-balanced),
    so the training prior is uniform. EM alternates: adjust every answer's probabilities to the
    current estimate of the shares, then re-estimate the shares as the mean adjusted probability.
    Returns estimated share / training share per theme (multiply probabilities by it, renormalise).
    """
    n_themes = proba.shape[1]
    train_prior = np.full(n_themes, 1 / n_themes)
    prior = train_prior.copy()
    for _ in range(iterations):
        new_prior = _with_ratio(proba, prior / train_prior).mean(axis=0)
        converged = np.abs(new_prior - prior).max() < tolerance
        prior = new_prior
        if converged:
            break
    return prior / train_prior


def balanced_weights(y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sample weights that give every theme the same total weight, as scikit-learn's
    class_weight="balanced" does, but counting each answer by its own weight (with weights of
    1 the two are the same)."""
    classes, index = np.unique(y, return_inverse=True)
    mass = np.bincount(index, weights=weights, minlength=len(classes))
    return weights * (weights.sum() / (len(classes) * mass))[index]


class _SoftRidge:
    """Class-balanced ridge classification with scores turned into probabilities by a softmax.

    On a few dozen coded answers per theme over many thousands of sparse features, a ridge (least
    squares) classifier separates themes at least as well as a logistic regression and is faster;
    ``sharpness`` sets how peaked the probabilities are (ridge scores lie around -1..1).
    """

    def __init__(self, alpha: float, sharpness: float):
        self.alpha = alpha
        self.sharpness = sharpness

    def fit(self, X: sp.csr_matrix, y: np.ndarray, weights: np.ndarray | None = None) -> _SoftRidge:
        weights = np.ones(len(y)) if weights is None else weights
        self.ridge_ = RidgeClassifier(alpha=self.alpha, solver="auto").fit(
            X, y, sample_weight=balanced_weights(y, weights)
        )
        self.classes_ = self.ridge_.classes_
        return self

    def predict_proba(self, X: sp.csr_matrix) -> np.ndarray:
        scores = self.ridge_.decision_function(X)
        if scores.ndim == 1:  # two classes: one score for the second
            scores = np.column_stack([-scores, scores])
        scores = self.sharpness * (scores - scores.max(axis=1, keepdims=True))
        weights = np.exp(scores)
        return weights / weights.sum(axis=1, keepdims=True)


def agreement(reviewed: Sequence, predicted: Sequence, random_state: int | None = 0) -> dict | None:
    """Agreement of the coder with analysts' reviews: per-answer F1 (mean) with a 95% interval.

    With one theme per answer the per-answer F1 is 1 for a match and 0 otherwise; macro F1 over
    themes is given alongside. Returns None until ``MIN_REVIEWED`` answers have been reviewed.
    """
    reviewed = pd.Series(list(reviewed), dtype=object).astype(str)
    predicted = pd.Series(list(predicted), dtype=object).astype(str)
    if len(reviewed) < MIN_REVIEWED:
        return None
    per_answer = (reviewed.to_numpy() == predicted.to_numpy()).astype(float)
    mean, low, high = bootstrap_interval(per_answer, random_state=random_state)
    return {"n_reviewed": len(reviewed), "f1": round(mean, 4), "f1_low": round(low, 4),
            "f1_high": round(high, 4), **{k: round(v, 4) for k, v in coding_scores(reviewed, predicted).items()}}


def sample_coded(labels: pd.Series, per_label: int, random_state: int | None = 0) -> pd.Series:
    """Mask of ``per_label`` randomly chosen answers per label: what an analyst would code first."""
    rng = np.random.default_rng(random_state)
    mask = pd.Series(False, index=labels.index)
    for _, positions in labels.groupby(labels.astype(str)).indices.items():
        take = rng.choice(positions, size=min(per_label, len(positions)), replace=False)
        mask.iloc[take] = True
    return mask
