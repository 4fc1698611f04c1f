"""Answer vectors from a pretrained English word-embedding model, for what the answers cannot teach.

Word vectors learned from one question's answers (``analysis.embedding``) only know the words those
answers use together. A model trained on far more text knows that "rude", "dismissive" and
"unkind" describe the same thing even when no answer says two of them. The `wordllama` package
ships such a model in its wheel (WordLlama "l2_supercat", 256 dimensions: token embeddings
distilled from Llama 2 for sentence similarity, MIT licence), so it works offline and installs with
pip like any other dependency.

It is English only: on the Swedish development sets its vectors clustered worse than character
n-grams and lowered the coder's F1 when added (measurements in docs/analysis.md), so other languages
get ``None`` and the engine goes on without them.

The tokenizer and the weights are read with the `tokenizers` and `safetensors` libraries directly
(the package's own module configures the root logger when imported, which a library must not do
inside the web app), and an answer is the sum of its tokens' vectors, normalised: the direction of
the mean the package computes.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

LANGUAGES = frozenset({"en"})
_WEIGHTS = Path("weights") / "l2_supercat_256.safetensors"
_TOKENIZER = Path("tokenizers") / "l2_supercat_tokenizer_config.json"


def _package_dir() -> Path | None:
    spec = importlib.util.find_spec("wordllama")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def _model():  # type: ignore[no-untyped-def]
    """(tokenizer, token vectors), or None when the package or its files are missing."""
    folder = _package_dir()
    if folder is None or not (folder / _WEIGHTS).is_file() or not (folder / _TOKENIZER).is_file():
        return None
    # The tokenizer's own thread pool would compete with the web workers (see analysis.themes).
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / _TOKENIZER))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    vectors = load_file(str(folder / _WEIGHTS))["embedding.weight"].astype(np.float32)
    return tokenizer, vectors


def available(lang: str) -> bool:
    return lang in LANGUAGES and _model() is not None


def answer_vectors(texts: Sequence[str], lang: str) -> np.ndarray | None:
    """One unit vector per answer (zero for an answer without tokens), or None when there is no
    model for ``lang``.

    The tokenizer never merges across a space (its pieces start at a word), so each distinct word
    is tokenised once and an answer's vector is the sum of its words' token vectors: the same sum
    as tokenising every answer whole (apart from runs of whitespace, which that counts as tokens), at
    an eighth of the cost on a large question."""
    if not available(lang):
        return None
    tokenizer, vectors = _model()
    words = CountVectorizer(tokenizer=str.split, lowercase=False, token_pattern=None, dtype=np.float32)
    answers = pd.Series(list(texts), dtype=object).fillna("").astype(str)
    try:
        answer_words = words.fit_transform(answers)
    except ValueError:  # no answer has a word
        return np.zeros((len(answers), vectors.shape[1]), dtype=np.float32)
    encodings = tokenizer.encode_batch(list(words.get_feature_names_out()), add_special_tokens=False)
    ids = [encoding.ids for encoding in encodings]
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    flat = np.fromiter((token for row in ids for token in row), dtype=np.int64, count=int(lengths.sum()))
    word_tokens = sp.csr_matrix((np.ones(len(flat), dtype=np.float32), np.clip(flat, 0, len(vectors) - 1),
                                 np.r_[0, np.cumsum(lengths)]), shape=(len(ids), len(vectors)))
    return normalize(np.asarray(answer_words @ (word_tokens @ vectors), dtype=np.float32), copy=False)
