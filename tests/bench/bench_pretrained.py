"""What the pretrained English answer vectors (analysis.pretrained) cost the theme engine.

Run:  .venv/bin/python tests/bench/bench_pretrained.py --n 100000
      .venv/bin/python tests/bench/bench_pretrained.py --n 1000000

English answers are built from the shared patient-feedback set (read from ../shared/datasets at
run time): each is two of its answers joined, so a large input has as many distinct answers as a
real question of that size. Each pipeline runs in a fresh process, so its peak memory is its own:
the plain baseline (TfidfVectorizer + MiniBatchKMeans, k 20), the engine without the pretrained
block and the engine with it (both with k 20). Prints one JSON line per pipeline: wall and CPU
seconds, peak memory of the process (which includes the generated answers).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT.parent / "shared" / "datasets" / "en_patient_feedback.csv"
PIPELINES = ("plain", "engine_without", "engine_with")


def english_answers(n: int, seed: int = 0) -> list[str]:
    feedback = pd.read_csv(DATASET)["feedback"].dropna().astype(str).tolist()
    pairs = np.random.default_rng(seed).integers(0, len(feedback), size=(n, 2))
    return [f"{feedback[i]} {feedback[j]}" for i, j in pairs]


def run(pipeline: str, n: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from threadpoolctl import threadpool_limits

    texts = english_answers(n)
    wall, cpu = time.perf_counter(), time.process_time()
    if pipeline == "plain":
        from sklearn.cluster import MiniBatchKMeans
        from sklearn.feature_extraction.text import TfidfVectorizer

        with threadpool_limits(1):
            matrix = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(texts)
            MiniBatchKMeans(20, random_state=0, n_init=3).fit(matrix)
    else:
        from analysis.themes import ThemeFinder

        weight = 1.0 if pipeline == "engine_with" else 0.0
        ThemeFinder(k=20, random_state=0, pretrained_weight=weight).fit(texts)
    return {
        "pipeline": pipeline,
        "n": n,
        "seconds": round(time.perf_counter() - wall, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "peak_memory_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--pipeline", choices=PIPELINES, help="run one pipeline in this process")
    args = parser.parse_args()
    if not DATASET.exists():
        sys.exit(f"needs {DATASET}")
    if args.pipeline:
        print(json.dumps(run(args.pipeline, args.n)))
        return
    for pipeline in PIPELINES:
        subprocess.run([sys.executable, __file__, "--n", str(args.n), "--pipeline", pipeline], check=True)


if __name__ == "__main__":
    main()
