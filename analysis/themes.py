"""Theme discovery for the answers to one question.

``ThemeFinder`` vectorises answers (see ``analysis.vectorize``), reduces them with LSA, clusters
them with k-means and describes each theme: label, distinctive terms, size and share,
representative answers and breakdowns by background columns.

The number of themes, when not given, is chosen by the silhouette (compactness of themes relative
to their distance from the next theme) of k-means on the LSA vectors of a random sample of at most
``k_sample`` answers, for every k in ``k_range`` (2 to 30 by default): the smallest k whose
silhouette is at least 90% of the best one. On short answers the silhouette keeps creeping up with
k, so plain "highest silhouette" would nearly always answer 30; the 90% rule prefers fewer themes
when more would hardly be better separated.

k-means gives the starting themes; a mixture of von Mises-Fisher distributions (the model of
directions on the unit sphere, fitted by EM as in Banerjee et al. 2005, "Clustering on the unit
hypersphere using von Mises-Fisher distributions") then refines them. Unlike k-means, the mixture
lets themes differ in size (it has a weight per theme), so a common need is not cut into several
equal-sized pieces; its concentration is estimated from the data, not tuned.

Answers with no topical word (empty, "vet ej", "inget", "bra") and answers far from every theme
(cosine to the nearest centre below ``min_score``) go to the bucket "övrigt/oklart" (theme id 0)
so that they do not distort the real themes.
"""

from __future__ import annotations

import copy
import math
import pickle
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import pairwise_distances
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from analysis.text import OPINION_WORDS, stem
from analysis.vectorize import AnswerVectorizer, LsaEmbedder

OTHER_THEME_ID = 0
OTHER_THEME_LABEL = "övrigt/oklart"
BREAKDOWN_COLUMNS = ("municipality", "channel", "gender", "age_band")
Progress = Callable[[str, float], None]
PARSIMONY = 0.9
# Weight of the answer vectors learned from the answers' own word co-occurrences (analysis.embedding),
# before scaling by how much there was to learn from. Half the word block's weight: more lets the
# learned similarities outvote the words themselves (English feedback NMI, seed 0: 0.5 -> 0.23,
# 1.0 -> 0.21, 2.0 -> 0.19, none 0.18).
EMBEDDING_WEIGHT = 0.5
# Weight of the pretrained answer vectors (analysis.pretrained; English only), as the word block's.
# English feedback NMI at --k gold, seeds 0-2: none 0.235/0.236/0.231, 0.75 0.247/0.249/0.249,
# 1.0 0.250/0.262/0.258, 1.25 0.256/0.251/0.245.
PRETRAINED_WEIGHT = 1.0
# What fitting keeps per answer; ``ThemeFinder.compact`` leaves these out (see also word_matrix_).
PER_ANSWER_ATTRIBUTES = ("embedding_", "assignments_", "breakdowns_")


def _no_progress(step: str, fraction: float) -> None:
    return None


def _kmeans(n_clusters: int, n_rows: int, random_state: int | None) -> KMeans | MiniBatchKMeans:
    if n_rows > 20_000:
        return MiniBatchKMeans(n_clusters, batch_size=4096, n_init=3, random_state=random_state)
    return KMeans(n_clusters, n_init=10, random_state=random_state)


# EM for the von Mises-Fisher mixture runs on at most this many answers (then all are assigned).
VMF_SAMPLE = 20_000
VMF_ITERATIONS = 30


def vmf_concentration(mean_resultant: float, dimensions: int) -> float:
    """Banerjee et al.'s approximation of a von Mises-Fisher concentration from the mean cosine of
    the points to their mean direction (r) in d dimensions: r (d - r^2) / (1 - r^2)."""
    r = min(max(mean_resultant, 1e-6), 0.999)
    return r * (dimensions - r**2) / (1 - r**2)


def vmf_mixture(rows: np.ndarray, centres: np.ndarray, weights: np.ndarray,
                iterations: int = VMF_ITERATIONS) -> tuple[np.ndarray, np.ndarray, float]:
    """Refine k-means themes as a mixture of von Mises-Fisher distributions with one shared
    concentration (EM). ``rows`` are unit vectors. Returns unit centres, theme weights and the
    concentration. Deterministic: no chance enters once the starting themes are given.
    """
    centres = normalize(centres).astype(np.float32)
    weights = np.maximum(np.asarray(weights, dtype=np.float64), 1e-6)
    weights /= weights.sum()
    kappa = 0.0
    for _ in range(iterations):
        similarity = rows @ centres.T
        nearest = similarity.max(axis=1)
        kappa = vmf_concentration(float(nearest.mean()), rows.shape[1])
        log_p = kappa * similarity.astype(np.float64) + np.log(weights)
        log_p -= log_p.max(axis=1, keepdims=True)
        responsibility = np.exp(log_p)
        responsibility /= responsibility.sum(axis=1, keepdims=True)
        new_weights = np.maximum(responsibility.mean(axis=0), 1e-6)
        new_centres = normalize(responsibility.T @ rows).astype(np.float32)
        moved = float(np.abs(new_centres - centres).max())
        centres, weights = new_centres, new_weights / new_weights.sum()
        if moved < 1e-4:
            break
    return centres, weights, kappa


def silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a precomputed distance matrix (as scikit-learn's ``silhouette_score``,
    singletons count 0), with every answer's mean distance to every theme from one matrix product."""
    n = len(labels)
    _, labels = np.unique(labels, return_inverse=True)
    sizes = np.bincount(labels).astype(np.float32)
    members = np.zeros((n, len(sizes)), dtype=np.float32)
    members[np.arange(n), labels] = 1
    sums = distances @ members
    own_size = sizes[labels]
    inside = sums[np.arange(n), labels] / np.maximum(own_size - 1, 1)
    to_others = sums / sizes
    to_others[np.arange(n), labels] = np.inf
    nearest_other = to_others.min(axis=1)
    widths = np.maximum(inside, nearest_other)
    values = np.where((own_size > 1) & (widths > 0), (nearest_other - inside) / np.maximum(widths, 1e-12), 0.0)
    return float(values.mean())


def choose_k(
    embedding: np.ndarray, k_range: tuple[int, int] = (2, 30), sample_size: int = 2000,
    random_state: int | None = 0,
) -> tuple[int, dict[int, float]]:
    """The smallest k whose silhouette on a sample is within 10% of the best, and every k's silhouette."""
    rng = np.random.default_rng(random_state)
    rows = embedding
    # On a large input the sample is already a random draw; one k-means start per k is enough there
    # (three on small inputs, where the answers themselves are all there is).
    n_init = 3
    if len(rows) > sample_size:
        rows = rows[rng.choice(len(rows), sample_size, replace=False)]
        n_init = 1
    low, high = k_range
    # No more themes than distinct answers: k-means cannot make more clusters than distinct points
    # (answers chosen from a few set phrases, or one text sent many times).
    distinct = len(np.unique(rows, axis=0))
    high = min(high, max(low, len(rows) // 5), distinct)
    scores: dict[int, float] = {}
    distances = pairwise_distances(rows).astype(np.float32)  # computed once, used for every k
    for k in range(low, high + 1):
        if k >= len(rows):
            break
        labels = KMeans(k, n_init=n_init, random_state=random_state).fit_predict(rows)
        if len(set(labels)) < 2:
            continue
        scores[k] = silhouette(distances, labels)
    if not scores:
        return min(low, max(1, len(rows))), scores
    # On short texts the silhouette tends to creep upwards with k; like the one-standard-error
    # rule, take the smallest k that comes within PARSIMONY of the best silhouette.
    best = max(scores.values())
    return min(k for k, score in scores.items() if score >= PARSIMONY * best), scores


class ThemeFinder(BaseEstimator):
    """Find themes in free-text answers.

    Parameters: ``lang`` ("sv", "en", "auto"), ``k`` ("auto" or a number), ``k_range`` for "auto",
    ``n_components`` of the LSA step, ``char_weight`` for sub-word n-grams, ``concepts`` (optional
    mapping name -> keywords used as prior vocabulary, e.g. a strategy's priorities),
    ``min_score`` below which an answer joins "övrigt/oklart", ``n_representatives`` and
    ``random_state``. ``threads`` caps BLAS/OpenMP threads during fitting. ``adaptive_concepts``
    scales the concept block by how many answers clearly speak to the concepts (for a default prior).
    ``embedding_weight`` weighs the answer vectors learned from the answers' own word co-occurrences
    (``analysis.embedding``; 0 turns them off), scaled down where there was little to learn from.

    After ``fit(texts, metadata=None)``: ``themes_`` (one row per theme), ``assignments_`` (one row
    per answer: theme_id, score), ``embedding_`` and ``k_scores_`` (silhouette per k tried).
    ``compact()`` / ``to_bytes()`` / ``from_bytes()`` store a fitted model without its per-answer data.
    """

    def __init__(
        self,
        lang: str = "auto",
        k: int | str = "auto",
        k_range: tuple[int, int] = (2, 30),
        k_sample: int = 2000,
        n_components: int = 30,
        char_weight: float = 1.0,
        concepts: Mapping[str, Sequence[str]] | None = None,
        concept_weight: float = 1.0,
        min_score: float = 0.2,
        n_representatives: int = 5,
        n_terms: int = 8,
        threads: int = 1,
        random_state: int | None = 0,
        adaptive_concepts: bool = False,
        embedding_weight: float = EMBEDDING_WEIGHT,
        pretrained_weight: float = PRETRAINED_WEIGHT,
    ):
        self.lang = lang
        self.k = k
        self.k_range = k_range
        self.k_sample = k_sample
        self.n_components = n_components
        self.char_weight = char_weight
        self.concepts = concepts
        self.concept_weight = concept_weight
        self.min_score = min_score
        self.n_representatives = n_representatives
        self.n_terms = n_terms
        self.threads = threads
        self.random_state = random_state
        self.adaptive_concepts = adaptive_concepts
        self.embedding_weight = embedding_weight
        self.pretrained_weight = pretrained_weight

    # --- fitting -----------------------------------------------------------------------------

    def fit(
        self, texts: Sequence[str] | pd.Series, metadata: pd.DataFrame | None = None,
        progress: Progress | None = None,
    ) -> ThemeFinder:
        progress = progress or _no_progress
        index = texts.index if isinstance(texts, pd.Series) else None
        texts = pd.Series(list(texts), dtype=object, index=index)
        texts = texts.where(texts.map(lambda v: isinstance(v, str)), "")
        with threadpool_limits(self.threads):
            progress("vectorising", 0.05)
            self.vectorizer_ = AnswerVectorizer(
                lang=self.lang, char_weight=self.char_weight, concepts=self.concepts,
                concept_weight=self.concept_weight, min_df=1 if len(texts) < 5000 else 2,
                adaptive_concepts=self.adaptive_concepts, embedding_weight=self.embedding_weight,
                pretrained_weight=self.pretrained_weight, random_state=self.random_state,
            )
            features = self.vectorizer_.fit_features(texts)
            progress("reducing", 0.35)
            self.embedder_ = LsaEmbedder(self.n_components, random_state=self.random_state)
            embedding = self.embedder_.fit_transform(features)
            topical = self.vectorizer_.topical(self.vectorizer_.word_matrix_)
            progress("choosing the number of themes", 0.5)
            k, self.k_scores_ = self._resolve_k(embedding[topical])
            progress("clustering", 0.65)
            labels, scores = self._cluster(embedding, topical, k)
            progress("describing themes", 0.8)
            self.embedding_ = embedding
            self._describe(texts, features, labels, scores, metadata)
        progress("done", 1.0)
        return self

    def _resolve_k(self, embedding: np.ndarray) -> tuple[int, dict[int, float]]:
        if isinstance(self.k, int | np.integer) or (isinstance(self.k, str) and self.k.isdigit()):
            return max(1, min(int(self.k), max(1, len(embedding)))), {}
        if len(embedding) < 4:
            return max(1, len(embedding)), {}
        return choose_k(embedding, self.k_range, self.k_sample, self.random_state)

    def _cluster(self, embedding: np.ndarray, topical: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.full(len(embedding), OTHER_THEME_ID, dtype=np.int32)
        scores = np.zeros(len(embedding), dtype=np.float32)
        rows = embedding[topical]
        if len(rows) == 0:
            self.centres_ = np.zeros((0, embedding.shape[1]), dtype=np.float32)
            return labels, scores
        model = _kmeans(min(k, len(rows)), len(rows), self.random_state).fit(rows)
        centres = normalize(model.cluster_centers_).astype(np.float32)
        weights = np.bincount(model.labels_, minlength=model.n_clusters).astype(np.float64)
        self.kappa_ = 0.0
        if model.n_clusters > 1:
            sample = rows
            if len(rows) > VMF_SAMPLE:
                rng = np.random.default_rng(self.random_state)
                sample = rows[np.sort(rng.choice(len(rows), VMF_SAMPLE, replace=False))]
            refined, refined_weights, kappa = vmf_mixture(sample, centres, weights)
            # A theme the mixture empties (less than one answer's worth) would be listed with no
            # answers; keep k-means' themes then.
            if refined_weights.min() * len(sample) >= 1:
                centres, weights, self.kappa_ = refined, refined_weights, kappa
        # Theme ids 1..k by weight, largest first, so that ids read like a ranking.
        order = np.argsort(-weights, kind="stable")
        self.centres_ = centres[order]
        self.log_weights_ = np.log(weights[order] / weights.sum()).astype(np.float32)
        theme_ids, theme_scores = self._nearest(rows)
        labels[topical] = np.where(theme_scores >= self.min_score, theme_ids, OTHER_THEME_ID)
        scores[topical] = theme_scores
        return labels, scores

    def _nearest(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(self.centres_) == 0:
            return np.zeros(len(rows), dtype=np.int32), np.zeros(len(rows), dtype=np.float32)
        similarity = rows @ self.centres_.T
        # The most probable theme under the mixture (concentration x cosine + log weight); models
        # stored before the mixture existed have no weights and use the nearest centre.
        kappa = getattr(self, "kappa_", 0.0)
        log_weights = getattr(self, "log_weights_", None)
        if kappa and log_weights is not None:
            best = (kappa * similarity + log_weights).argmax(axis=1)
        else:
            best = similarity.argmax(axis=1)
        return (best + 1).astype(np.int32), similarity[np.arange(len(rows)), best].astype(np.float32)

    # --- describing --------------------------------------------------------------------------

    def _describe(
        self, texts: pd.Series, features, labels: np.ndarray, scores: np.ndarray, metadata: pd.DataFrame | None
    ) -> None:
        index = texts.index if metadata is None else metadata.index
        self.assignments_ = pd.DataFrame({"theme_id": labels, "score": np.round(scores, 4)}, index=index)
        consent = _consent_mask(metadata, len(texts))
        word_block = self.vectorizer_.word_matrix_
        terms = self.vectorizer_.words_.get_feature_names_out()
        rows = []
        n_ids = len(self.centres_) + 1
        theme_ids = sorted(set(np.unique(labels).tolist()) | set(range(1, n_ids)))
        overall = np.asarray(word_block.mean(axis=0)).ravel()
        # Every theme's mean word weights in one sparse product (themes x answers @ answers x terms).
        sizes = np.bincount(labels, minlength=n_ids)
        membership = sp.csr_matrix((1 / np.maximum(sizes[labels], 1), (labels, np.arange(len(labels)))),
                                   shape=(n_ids, len(labels)))
        means = np.asarray((membership @ word_block).todense())
        order = np.argsort(labels, kind="stable")
        starts = np.searchsorted(labels[order], np.arange(n_ids + 1))
        for theme_id in theme_ids:
            members = order[starts[theme_id]: starts[theme_id + 1]]
            if theme_id == OTHER_THEME_ID and len(members) == 0:
                continue
            rows.append(self._describe_one(theme_id, members, texts, means[theme_id], overall, terms, scores,
                                           consent))
        self.themes_ = pd.DataFrame(rows)
        self.breakdowns_ = breakdowns(self.assignments_["theme_id"], metadata)

    def _describe_one(self, theme_id, members, texts, inside, overall, terms, scores, consent) -> dict:
        size = len(members)
        share = size / max(1, len(texts))
        if theme_id == OTHER_THEME_ID or size == 0:
            top_terms, label, phrase = [], OTHER_THEME_LABEL, ""
        else:
            # Distinctive: frequent inside the theme and more frequent than outside (c-TF-IDF-like).
            distinct = inside * np.log1p(inside / (overall + 1e-9))
            top = [i for i in np.argsort(-distinct)[: self.n_terms * 2] if inside[i] > 0]
            # Written forms and phrases come from the answers nearest the centre (at most 300).
            nearest = members[np.argsort(-scores[members], kind="stable")[:300]]
            tokens = [self.vectorizer_.analyzer_.content_tokens(t)[1] for t in texts.iloc[nearest]]
            top_terms = written_terms(self.vectorizer_, tokens, [terms[i] for i in top], self.n_terms)
            phrase = _common_phrase(tokens, self.vectorizer_.lang_, {terms[i] for i in top[:4]})
            label = phrase or ", ".join(top_terms[:3])
        reps = _representatives(members, scores, texts, consent, self.n_representatives)
        return {
            "theme_id": int(theme_id), "label": label, "terms": top_terms, "phrase": phrase,
            "size": int(size), "share": round(float(share), 4),
            "representatives": [texts.index[i] for i in reps],
            "representative_texts": [_redacted(texts.iloc[i]) for i in reps],
        }

    # --- new answers -------------------------------------------------------------------------

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """LSA embedding of answers in the fitted space."""
        with threadpool_limits(self.threads):
            texts = list(texts)
            words = self.vectorizer_.transform_words(texts)
            return self.embedder_.transform(self.vectorizer_.features(words, texts))

    def predict(self, texts: Sequence[str] | pd.Series) -> pd.DataFrame:
        """Assign answers that arrived after the run to the existing themes, without re-clustering."""
        series = pd.Series(list(texts), dtype=object, index=texts.index if isinstance(texts, pd.Series) else None)
        texts = series.where(series.map(lambda v: isinstance(v, str)), "").tolist()
        words = self.vectorizer_.transform_words(texts)
        with threadpool_limits(self.threads):
            embedding = self.embedder_.transform(self.vectorizer_.features(words, texts))
        topical = self.vectorizer_.topical(words)
        theme_ids, scores = self._nearest(embedding)
        theme_ids = np.where(topical & (scores >= self.min_score), theme_ids, OTHER_THEME_ID)
        return pd.DataFrame({"theme_id": theme_ids, "score": np.round(np.where(topical, scores, 0), 4)},
                            index=series.index)

    # --- storing -----------------------------------------------------------------------------

    def compact(self) -> ThemeFinder:
        """A copy that can still assign new answers (``predict``, ``transform``, ``to_dict``) but keeps
        nothing per answer: ``embedding_``, ``assignments_``, ``breakdowns_`` and the vectoriser's
        ``word_matrix_`` are None. That is what a stored model should hold: it is far smaller, and the
        answers' data stays in the application's own tables. The fitted model itself is unchanged.
        """
        compact = copy.copy(self)
        for name in PER_ANSWER_ATTRIBUTES:
            if hasattr(compact, name):
                setattr(compact, name, None)
        vectorizer = getattr(self, "vectorizer_", None)
        if vectorizer is not None:
            compact.vectorizer_ = copy.copy(vectorizer)
            compact.vectorizer_.word_matrix_ = None
        return compact

    @property
    def is_compact(self) -> bool:
        """True for a model without per-answer data (from ``compact`` or ``from_bytes``)."""
        return getattr(self, "embedding_", None) is None

    def to_bytes(self) -> bytes:
        """The compact model as bytes (a zlib-compressed pickle) for storing, e.g. in a database."""
        return zlib.compress(pickle.dumps(self.compact(), protocol=pickle.HIGHEST_PROTOCOL), 1)

    @classmethod
    def from_bytes(cls, data: bytes) -> ThemeFinder:
        """A model stored with ``to_bytes`` (or as a zlib-compressed pickle by an earlier version).

        Unpickling runs code named in the data: only load bytes that this application wrote.
        """
        model = pickle.loads(zlib.decompress(data))  # noqa: S301 - the caller's own stored model
        if not isinstance(model, cls):
            raise TypeError(f"expected a stored {cls.__name__}, got {type(model).__name__}")
        return model

    def to_dict(self) -> dict:
        """Plain data for themes.json: one entry per theme."""
        keep = ["theme_id", "label", "terms", "phrase", "size", "share", "representatives"]
        records = self.themes_[keep].rename(columns={"theme_id": "id"}).to_dict(orient="records")
        return {"k": int(len(self.centres_)), "language": self.vectorizer_.lang_, "themes": records}


# --- helpers -------------------------------------------------------------------------------------


def written_terms(vectorizer: AnswerVectorizer, tokenised: Sequence[Sequence[str]], terms: Sequence[str],
                  n: int) -> list[str]:
    """Up to n of ``terms`` (the vectoriser's stems, best first) as the words the answers write:
    each stem's most common written form in ``tokenised`` (the answers' content tokens), without
    repeats or compound parts. A stem that no answer writes is left out, so that a truncated stem
    ("bättr") never reaches a label."""
    forms = vectorizer.surface_forms(tokenised)
    return _without_parts(_unique([forms[term] for term in terms if term in forms]))[:n]


def answer_terms(vectorizer: AnswerVectorizer, texts: Sequence[str], terms: Sequence[str], n: int) -> list[str]:
    """``written_terms`` for raw answer texts."""
    tokens = [vectorizer.analyzer_.content_tokens(text)[1] for text in texts]
    return written_terms(vectorizer, tokens, terms, n)


def _without_parts(forms: list[str]) -> list[str]:
    """The forms without those written inside another of them: a compound's parts and stems are
    features of their own, but "kollektivtrafik" says what "kollektiv" and "trafik" would repeat."""
    return [form for form in forms if not any(form != other and form in other for other in forms)]


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]


def _consent_mask(metadata: pd.DataFrame | None, n: int) -> np.ndarray:
    """True where an answer may be quoted; without a consent column every answer may."""
    if metadata is None:
        return np.ones(n, dtype=bool)
    for column in ("consent_to_quote", "consent_quote", "consent"):
        if column in metadata.columns:
            values = metadata[column].astype(str).str.strip().str.lower()
            return values.isin({"1", "true", "yes", "ja", "y", "j"}).to_numpy()
    return np.ones(n, dtype=bool)


def _representatives(members, scores, texts: pd.Series, consent, n: int) -> list[int]:
    """Up to n answers closest to the theme centre: quotable, not trivially short, no duplicates."""
    ranked = members[np.argsort(-scores[members], kind="stable")]
    chosen, seen = [], set()
    for position in ranked:
        if not consent[position]:
            continue
        text = str(texts.iloc[position]).strip()
        key = text.lower()
        if key in seen or len(text.split()) < 3 and len(ranked) > n * 3:
            continue
        seen.add(key)
        chosen.append(int(position))
        if len(chosen) >= n:
            break
    return chosen


def _redacted(text: str) -> str:
    """Text with personal data replaced, when the redaction module is available."""
    try:
        from analysis.redact import redact  # written separately; optional at import time
    except ImportError:  # pragma: no cover - depends on the tree
        return text
    return redact(text)


def _common_phrase(sample: list[list[str]], lang: str, top_terms: set[str]) -> str:
    """A two- or three-word phrase that many answers of the theme share, if one stands out."""
    opinion = OPINION_WORDS.get(lang, frozenset())
    counts: Counter[tuple[str, ...]] = Counter()
    for tokens in sample:
        seen = set()
        for size in (2, 3):
            for i in range(len(tokens) - size + 1):
                gram = tuple(tokens[i: i + size])
                stems = [stem(t, lang) for t in gram]
                if not any(s in top_terms for s in stems) or all(t in opinion for t in gram[1:]):
                    continue
                seen.add(gram)
        counts.update(seen)
    if not counts:
        return ""
    needed = max(3, math.ceil(0.1 * len(sample)))
    candidates = [(n * len(g), g) for g, n in counts.items() if n >= needed]
    if not candidates:
        return ""
    return " ".join(max(candidates)[1])


def breakdowns(theme_ids: pd.Series, metadata: pd.DataFrame | None,
               columns: Sequence[str] = BREAKDOWN_COLUMNS) -> pd.DataFrame:
    """How themes differ by background: for each column and group, each theme's share of the group.

    Long format with columns: column, group, theme_id, n, share_of_group, share_overall, lift
    (share_of_group / share_overall; above 1 means the group raises the theme more than average).
    """
    out_columns = ["column", "group", "theme_id", "n", "share_of_group", "share_overall", "lift"]
    if metadata is None:
        return pd.DataFrame(columns=out_columns)
    overall = theme_ids.value_counts(normalize=True)
    frames = []
    for column in columns:
        if column not in metadata.columns:
            continue
        groups = metadata[column].fillna("(saknas)").astype(str)
        counts = pd.crosstab(groups, theme_ids.to_numpy())
        share = counts.div(counts.sum(axis=1), axis=0)
        long = counts.stack().rename("n").to_frame().join(share.stack().rename("share_of_group"))
        long = long.reset_index()
        long.columns = ["group", "theme_id", "n", "share_of_group"]
        long["column"] = column
        long["share_overall"] = long["theme_id"].map(overall)
        long["lift"] = long["share_of_group"] / long["share_overall"]
        frames.append(long[out_columns])
    if not frames:
        return pd.DataFrame(columns=out_columns)
    return pd.concat(frames, ignore_index=True)
