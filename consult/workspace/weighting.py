"""Weighting to the population and the statistics beside it: pure functions on pandas/numpy.

Raking (iterative proportional fitting) adjusts weights one variable at a time until every
variable's weighted shares match its targets. Weights depend only on the combination of
categories a respondent belongs to, so raking runs on a table of cells with their counts; a
survey of 100,000 responses has at most a few thousand cells.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

SMALL_CELL = 5  # fewer respondents than this are not shown in anything published
# Below this effective sample size weighted shares are rough indications at most: a few respondents
# with large weights decide them (the rule of thumb of 30 for a normal approximation).
FEW_EFFECTIVE = 30


@dataclass(frozen=True)
class RakeResult:
    weights: pd.Series  # one weight per cell (per respondent of the cell), mean weight over respondents 1
    iterations: int
    converged: bool
    max_error: float  # largest gap between a weighted share and its target, after the last iteration
    unreachable: dict[str, list[int]]  # target categories nobody in the sample belongs to


def complete_targets(observed: pd.Series, targets: Mapping[int, float]) -> tuple[dict[int, float], list[int]]:
    """Targets for every category present in the sample. Categories without a target (no answer,
    "prefer not to say") keep their observed share and the given targets share the rest, in their
    own proportions. Targets for categories nobody belongs to cannot be met and are left out."""
    present = {int(code) for code, count in observed.items() if count > 0}
    reachable = {code: share for code, share in targets.items() if code in present and share > 0}
    unreachable = sorted(code for code, share in targets.items() if code not in present and share > 0)
    total = observed.sum()
    free = {code: observed.get(code, 0) / total for code in present if code not in reachable}
    rest = 1.0 - sum(free.values())
    given = sum(reachable.values())
    completed = {code: rest * share / given for code, share in reachable.items()} if given > 0 else {}
    if not completed:  # no usable target: the variable leaves the weights alone
        return {code: observed.get(code, 0) / total for code in present}, unreachable
    return {**completed, **free}, unreachable


def rake(
    cells: pd.DataFrame,
    targets: Mapping[str, Mapping[int, float]],
    *,
    count_column: str = "respondents",
    max_iterations: int = 200,
    tolerance: float = 1e-6,
) -> RakeResult:
    """Raking weights per cell. `cells` has one column per variable in `targets` (category codes)
    and a count column; `targets` maps a variable to {code: share}."""
    counts = cells[count_column].to_numpy(dtype=float)
    total = counts.sum()
    weights = np.ones(len(cells))
    if total == 0 or not targets:
        return RakeResult(pd.Series(weights, index=cells.index), 0, True, 0.0, {})
    margins: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    unreachable: dict[str, list[int]] = {}
    for variable, shares in targets.items():
        observed = pd.Series(counts, index=cells[variable].to_numpy()).groupby(level=0).sum()
        completed, missing = complete_targets(observed, shares)
        if missing:
            unreachable[variable] = missing
        codes, inverse = np.unique(cells[variable].to_numpy(), return_inverse=True)
        goal = np.array([completed.get(int(code), 0.0) for code in codes]) * total
        margins.append((inverse, goal, codes))
    iterations, error = 0, math.inf
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        for inverse, goal, codes in margins:
            current = np.bincount(inverse, weights=counts * weights, minlength=len(codes))
            factor = np.divide(goal, current, out=np.ones_like(goal), where=current > 0)
            weights = weights * factor[inverse]
        error = _largest_gap(margins, counts, weights, total)
        if error < tolerance:
            break
    weights = weights * total / float((counts * weights).sum())
    return RakeResult(pd.Series(weights, index=cells.index), iterations, error < tolerance, error, unreachable)


def _largest_gap(margins: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], counts, weights, total) -> float:  # type: ignore[no-untyped-def]
    gaps = []
    for inverse, goal, codes in margins:
        current = np.bincount(inverse, weights=counts * weights, minlength=len(codes))
        gaps.append(np.abs(current - goal).max() / total)
    return float(max(gaps))


def effective_sample_size(weights: Iterable[float], counts: Iterable[float] | None = None) -> float:
    """Kish's effective sample size (Σw)² / Σw²; with `counts`, each weight stands for that many respondents."""
    w = np.asarray(list(weights), dtype=float)
    c = np.ones_like(w) if counts is None else np.asarray(list(counts), dtype=float)
    square_sum = float((c * w * w).sum())
    return float((c * w).sum()) ** 2 / square_sum if square_sum > 0 else 0.0


def design_effect(n: float, effective_n: float) -> float:
    """How much the weighting widens intervals: n / n_eff (1 = no loss)."""
    return n / effective_n if effective_n > 0 else 1.0


@dataclass(frozen=True)
class MeanSummary:
    n: float  # respondents (weighted: the effective sample size)
    mean: float | None
    low: float | None  # 95% interval
    high: float | None
    sd: float | None


MIN_INTERVAL_N = 5  # below this a t-interval rests on too few answers to mean much


def mean_with_interval(
    values: Sequence[float], counts: Sequence[float], effective_n: float | None = None
) -> MeanSummary:
    """Mean and 95% t-interval of a distribution given as values with (weighted) counts. With
    weights, pass the effective sample size: the interval is then as wide as the weighting makes it."""
    v = np.asarray(values, dtype=float)
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    if total <= 0:
        return MeanSummary(0, None, None, None, None)
    mean = float((v * c).sum() / total)
    n = effective_n if effective_n is not None else total
    if n < 2:
        return MeanSummary(n, mean, None, None, None)
    variance = float((c * (v - mean) ** 2).sum() / total) * n / (n - 1)
    sd = math.sqrt(variance)
    if n < MIN_INTERVAL_N or sd == 0:
        # Three people who all answered 3 do not make the mean certain: a zero-width interval would say so.
        return MeanSummary(n, mean, None, None, sd)
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return MeanSummary(n, mean, mean - half, mean + half, sd)


def share_interval(share: float | None, n: float) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a share among `n` respondents. With weights, `n` is the
    effective sample size; scipy's binomial test takes whole numbers, so it is rounded."""
    if share is None or n < 1:
        return None
    trials = max(1, round(n))
    successes = min(trials, max(0, round(share * trials)))
    interval = stats.binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    return float(interval.low), float(interval.high)


def weighted_quantiles(values: Sequence[float], counts: Sequence[float], quantiles: Sequence[float]) -> list[float]:
    """Quantiles of a distribution given as sorted or unsorted values with counts (inverted CDF, as
    numpy's "inverted_cdf" method for whole counts)."""
    v = np.asarray(values, dtype=float)
    c = np.asarray(counts, dtype=float)
    order = np.argsort(v)
    v, c = v[order], c[order]
    cumulative = np.cumsum(c)
    total = cumulative[-1]
    return [float(v[min(np.searchsorted(cumulative, q * total, side="left"), len(v) - 1)]) for q in quantiles]


def suppress_small_cells(
    rows: list[dict[str, Any]],
    *,
    keys: Sequence[str] = ("count",),
    minimum: int = SMALL_CELL,
    hide: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Rows for publication: wherever a count in `keys` is between 1 and minimum-1, that count and
    the fields in `hide` (shares, weighted figures) become None and the row is marked suppressed.
    Zero stays visible: it reveals nobody. Returns new rows; the input is not changed."""
    published = []
    for row in rows:
        small = any(isinstance(row.get(k), int | float) and 0 < row[k] < minimum for k in keys)
        copy = dict(row)
        if small:
            for field in (*keys, *hide):
                copy[field] = None
        copy["suppressed"] = small
        published.append(copy)
    return published


def protect_complements(groups: Sequence[Sequence[dict[str, Any]]], *, key: str = "count",
                        hide: Sequence[str] = ()) -> bool:
    """Hide more figures wherever a hidden one could be worked out by subtraction.

    Each group holds figures that add up to a total the page shows (a question's options, a
    crosstab's row or column). Where exactly one of a group's figures is hidden, the total minus
    the others gives it away, so the group's next smallest figure is hidden too (marked
    `complement`: it is not itself small). A figure can sit in two groups (a crosstab cell), so
    this repeats until no group gives one away. Changes the rows in place; returns whether it
    hid anything."""
    hid_any, changed = False, True
    while changed:
        changed = False
        for rows in groups:
            if sum(1 for row in rows if row.get("suppressed")) != 1:
                continue
            shown = [row for row in rows if not row.get("suppressed") and row.get(key)]
            if shown:
                hide_figure(min(shown, key=lambda row: row[key]), key=key, hide=hide)
                changed = hid_any = True
    return hid_any


def hide_figure(row: dict[str, Any], *, key: str = "count", hide: Sequence[str] = ()) -> None:
    """Hide a figure that is not small itself, so that a small one cannot be worked out."""
    row.update({field: None for field in (key, *hide)}, suppressed=True, complement=True)


PROTECTION = 2  # a hidden figure must be free to move at least this much within what the page shows


def protect_by_audit(figures: Sequence[dict[str, Any]], keys: Sequence[str],
                     equations: Sequence[tuple[Sequence[int], int]], *, ceiling: float,
                     hide: Sequence[Sequence[str]] | None = None) -> bool:
    """Hide more figures until no hidden one can be worked out from the shown ones, however they are
    combined. `figures[i][keys[i]]` is a count; each equation says that the figures at its first
    indices add up to the one at its second (a row's cells to the row's total, the totals to n). A
    reader knows that a small hidden figure is 1-4 and any other hidden one 0-`ceiling`; for each
    hidden figure two linear programmes give the least and greatest value the shown figures allow
    (the audit statistical offices run on their tables), and a figure held within less than
    PROTECTION gets a neighbour hidden with it (see _protect). Repeats until none is exposed, or
    none that more hiding could protect. Changes the figures in place; returns whether it hid
    anything."""
    hid_any = False
    settled: set[int] = set()  # exposed, with nothing left beside it to hide
    for _round in range(3 * len(figures)):
        # One at a time, then audit again: one more hidden figure may protect the others too.
        index = next(iter(_exposed(figures, keys, equations, ceiling, first_only=True, skip=settled)), None)
        if index is None:
            break
        if _protect(figures, keys, equations, index, hide):
            hid_any = True
        else:
            settled.add(index)
    return hid_any


def _protect(figures: Sequence[dict[str, Any]], keys: Sequence[str], equations: Sequence[tuple[Sequence[int], int]],
             index: int, hide: Sequence[Sequence[str]] | None) -> bool:
    """Widen what a reader can tell of an exposed figure, giving away as little as possible: hide
    the smallest shown figure of its sums (a shown zero last: it tells least), or else, when all
    of them are hidden already, stop saying which are small ("fewer than 5" bounds a figure to
    1-4; "hidden" says nothing). False when there is nothing left to do."""
    partners = sorted({j for parts, whole in equations if index in (*parts, whole) for j in (*parts, whole)})
    shown = [j for j in partners if not figures[j].get("suppressed")]
    if shown:
        pick = min(shown, key=lambda j: (figures[j][keys[j]] == 0, figures[j][keys[j]]))
        hide_figure(figures[pick], key=keys[pick], hide=hide[pick] if hide else ())
        return True
    small = [j for j in partners if not figures[j].get("complement")]
    for j in small:
        figures[j]["complement"] = True
    return bool(small)


def _exposed(figures: Sequence[dict[str, Any]], keys: Sequence[str],
             equations: Sequence[tuple[Sequence[int], int]], ceiling: float, *, first_only: bool = False,
             skip: Collection[int] = ()) -> list[int]:
    hidden = [i for i, figure in enumerate(figures) if figure.get("suppressed") and i not in skip]
    if not hidden or not equations:
        return []
    bounds = []
    for figure, key in zip(figures, keys, strict=True):
        if not figure.get("suppressed"):
            bounds.append((float(figure[key]), float(figure[key])))
        else:
            bounds.append((0.0, float(ceiling)) if figure.get("complement") else (1.0, float(SMALL_CELL - 1)))
    if len(equations) == 1:
        return _exposed_in_one_sum(hidden, bounds, equations[0])
    return _exposed_by_linear_programming(hidden, bounds, equations, first_only=first_only)


def _exposed_in_one_sum(hidden: list[int], bounds: list[tuple[float, float]],
                        equation: tuple[Sequence[int], int]) -> list[int]:
    """One sum of parts equal to a whole, each figure within its bounds: a figure's least and greatest
    values are those its bounds allow once the others take their greatest and least values (a
    question's options, 20 of them on a results page, without a solver each)."""
    parts, whole = equation
    signed = [(index, 1.0) for index in parts] + [(whole, -1.0)]
    exposed = []
    for index in hidden:
        sign = next(s for i, s in signed if i == index)
        # sign * x = -(sum of the other terms); the others' range gives x's.
        others = [(s * bounds[i][0], s * bounds[i][1]) for i, s in signed if i != index]
        rest_low = sum(min(pair) for pair in others)
        rest_high = sum(max(pair) for pair in others)
        low, high = sorted((-rest_high * sign, -rest_low * sign))
        low, high = max(low, bounds[index][0]), min(high, bounds[index][1])
        if high - low < PROTECTION:
            exposed.append(index)
    return exposed


def _exposed_by_linear_programming(hidden: list[int], bounds: list[tuple[float, float]],
                                   equations: Sequence[tuple[Sequence[int], int]], *,
                                   first_only: bool = False) -> list[int]:
    from scipy.optimize import linprog

    figures = range(len(bounds))
    matrix = np.zeros((len(equations), len(figures)))
    for row, (parts, whole) in enumerate(equations):
        matrix[row, list(parts)] += 1.0
        matrix[row, whole] -= 1.0
    zeros = np.zeros(len(equations))
    exposed = []
    for index in hidden:
        objective = np.zeros(len(figures))
        objective[index] = 1.0
        low = linprog(objective, A_eq=matrix, b_eq=zeros, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=matrix, b_eq=zeros, bounds=bounds, method="highs")
        if low.status == 0 and high.status == 0 and -high.fun - low.fun < PROTECTION:
            exposed.append(index)
            if first_only:
                break
    return exposed

