"""Agreement between found themes and gold labels, and between a coder and the analysts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, f1_score, normalized_mutual_info_score


def _as_strings(values: Sequence | pd.Series) -> np.ndarray:
    return np.asarray(pd.Series(values).astype(str))


def matched_f1(labels_true: Sequence, labels_pred: Sequence) -> float:
    """Macro F1 over gold labels after matching clusters one-to-one to labels (Hungarian method).

    Clusters left without a label count as wrong for every answer in them; labels left without a
    cluster get F1 0, so finding too few or too many themes is penalised.
    """
    true, pred = _as_strings(labels_true), _as_strings(labels_pred)
    gold, clusters = np.unique(true), np.unique(pred)
    contingency = pd.crosstab(pd.Series(true, name="t"), pd.Series(pred, name="p"))
    contingency = contingency.reindex(index=gold, columns=clusters, fill_value=0).to_numpy()
    gold_sizes, cluster_sizes = contingency.sum(axis=1), contingency.sum(axis=0)
    f1 = 2 * contingency / (gold_sizes[:, None] + cluster_sizes[None, :])
    rows, cols = linear_sum_assignment(-f1)
    return float(f1[rows, cols].sum() / len(gold))


def clustering_scores(labels_true: Sequence, labels_pred: Sequence) -> dict[str, float]:
    """NMI, ARI and Hungarian-matched F1 of a clustering against gold labels."""
    true, pred = _as_strings(labels_true), _as_strings(labels_pred)
    return {
        "nmi": float(normalized_mutual_info_score(true, pred)),
        "ari": float(adjusted_rand_score(true, pred)),
        "f1_matched": matched_f1(true, pred),
    }


def coding_scores(labels_true: Sequence, labels_pred: Sequence) -> dict[str, float]:
    """Macro and micro F1 of a coder's labels against the analysts' labels."""
    true, pred = _as_strings(labels_true), _as_strings(labels_pred)
    return {
        "macro_f1": float(f1_score(true, pred, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(true, pred, average="micro", zero_division=0)),
    }


def per_answer_f1(true_sets: Sequence[set], pred_sets: Sequence[set]) -> np.ndarray:
    """F1 of each answer's predicted theme set against its reviewed set (multi-theme coding)."""
    scores = []
    for true, pred in zip(true_sets, pred_sets, strict=True):
        if not true and not pred:
            scores.append(1.0)
            continue
        overlap = len(set(true) & set(pred))
        scores.append(2 * overlap / (len(true) + len(pred)))
    return np.asarray(scores, dtype=float)


def bootstrap_interval(
    values: Sequence[float], n_boot: int = 2000, level: float = 0.95, random_state: int | None = 0
) -> tuple[float, float, float]:
    """Mean of ``values`` with a percentile bootstrap interval (default 95%)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(random_state)
    means = data[rng.integers(0, data.size, size=(n_boot, data.size))].mean(axis=1)
    tail = (1 - level) / 2
    return float(data.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))
