"""Speed of the theme engine on generated Swedish-like answers (issue 5, section 9).

Run:  .venv/bin/python tests/bench/bench_analysis.py --n 100000
      .venv/bin/python tests/bench/bench_analysis.py --n 1000000

Prints one line per pipeline: the plain baseline (TfidfVectorizer + MiniBatchKMeans with a fixed
k) and the full engine (themes with auto k, labels, representatives, mapping onto the strategy's
priorities), their seconds, the ratio, the NMI against the generating themes and the peak memory.
Targets: 100k in <= 15 s, 1M in <= 180 s and <= 4 GB, and at most 3x the plain pipeline.
Both pipelines run with one BLAS thread, so besides wall-clock seconds the CPU seconds of the process
are printed: on a machine shared with other work the wall-clock ratio swings with the load (1.3x to
3.3x in consecutive runs), the CPU-time ratio hardly.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from analysis.evaluate import clustering_scores  # noqa: E402
from analysis.io import DEFAULT_KEYWORDS, read_strategy  # noqa: E402
from analysis.pipeline import analyse_question  # noqa: E402

_ONSETS = ["b", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "sk", "st", "tr", "fr", "gr"]
_VOWELS = ["a", "e", "i", "o", "u", "y", "å", "ä", "ö"]
_CODAS = ["", "n", "r", "s", "t", "ng", "ck", "ll", "rd", "nd"]
_ENDINGS = ["", "en", "et", "ar", "arna", "er", "na", "or", "ning", "s"]
_FUNCTION = ["och", "att", "det", "som", "en", "på", "är", "för", "med", "till", "vi", "jag", "man", "har",
             "kan", "inte", "mer", "fler", "bättre", "måste", "behöver", "i", "av", "så"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(rng.randint(1, 3)))


def generate(n: int, n_themes: int = 20, seed: int = 0) -> pd.DataFrame:
    """Answers from ``n_themes`` themes: a Zipf-distributed long-tail vocabulary per theme, shared
    background words, compounds of theme words, inflections and typos."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    shared = [_word(rng) for _ in range(3000)]
    themes = [[_word(rng) for _ in range(400)] for _ in range(n_themes)]
    zipf_theme = 1 / np.arange(1, 401) ** 1.1
    zipf_theme /= zipf_theme.sum()
    zipf_shared = 1 / np.arange(1, 3001) ** 1.0
    zipf_shared /= zipf_shared.sum()
    labels = nrng.integers(0, n_themes, size=n)
    lengths = nrng.integers(2, 18, size=n)
    texts = []
    municipalities = ["Härnösand", "Kramfors", "Sollefteå", "Sundsvall", "Timrå", "Ånge", "Örnsköldsvik"]
    for label, length in zip(labels, lengths, strict=True):
        words = []
        theme_draws = nrng.choice(400, size=length, p=zipf_theme)
        shared_draws = nrng.choice(3000, size=length, p=zipf_shared)
        for i in range(length):
            roll = rng.random()
            if roll < 0.35:
                words.append(rng.choice(_FUNCTION))
            elif roll < 0.55:
                words.append(shared[shared_draws[i]])
            else:
                word = themes[label][theme_draws[i]]
                if rng.random() < 0.15:  # compound of two theme words
                    word += themes[label][theme_draws[(i + 1) % length]]
                word += rng.choice(_ENDINGS)
                if rng.random() < 0.05 and len(word) > 4:  # typo: a dropped letter
                    cut = rng.randrange(1, len(word) - 1)
                    word = word[:cut] + word[cut + 1:]
                words.append(word)
        texts.append(" ".join(words).capitalize())
    return pd.DataFrame({"id": np.arange(n), "text": texts, "theme": labels,
                         "municipality": [municipalities[i % 7] for i in labels]})


def plain(frame: pd.DataFrame, k: int, seed: int) -> tuple[float, float, np.ndarray]:
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from threadpoolctl import threadpool_limits

    started, cpu = time.perf_counter(), time.process_time()
    with threadpool_limits(1):
        X = TfidfVectorizer(min_df=2).fit_transform(frame["text"])
        labels = MiniBatchKMeans(k, batch_size=4096, n_init=3, random_state=seed).fit_predict(X)
    return time.perf_counter() - started, time.process_time() - cpu, labels


def full(frame: pd.DataFrame, k: int | str, seed: int) -> tuple[float, float, np.ndarray, dict]:
    strategy = read_strategy(DEFAULT_KEYWORDS)
    started, cpu = time.perf_counter(), time.process_time()
    result = analyse_question(frame, "text", "id", lang="sv", k=k, strategy=strategy, random_state=seed)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return seconds, cpu_seconds, result["assignments"]["theme_id"].to_numpy(), result["themes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--themes", type=int, default=20)
    parser.add_argument("--k", default="auto", help="k for the engine: auto or a number")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    frame = generate(args.n, args.themes, args.seed)
    plain_seconds, plain_cpu, plain_labels = plain(frame, args.themes, args.seed)
    k = int(args.k) if args.k.isdigit() else args.k
    full_seconds, full_cpu, full_labels, themes = full(frame, k, args.seed)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    report = {
        "n": args.n,
        "plain_seconds": round(plain_seconds, 2),
        "plain_nmi": round(clustering_scores(frame["theme"], plain_labels)["nmi"], 3),
        "engine_seconds": round(full_seconds, 2),
        "engine_nmi": round(clustering_scores(frame["theme"], full_labels)["nmi"], 3),
        "engine_k": themes["k"],
        "ratio": round(full_seconds / plain_seconds, 2),
        "plain_cpu_seconds": round(plain_cpu, 2),
        "engine_cpu_seconds": round(full_cpu, 2),
        "cpu_ratio": round(full_cpu / plain_cpu, 2),
        "peak_memory_gb": round(peak_gb, 2),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
