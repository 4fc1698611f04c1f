"""The report's charts: matplotlib SVG in the workspace's style (Agg backend, object API), and
the data URIs that put them in the page and in the PDF without another request."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import lru_cache

import matplotlib

from consult.workspace import charts as workspace_charts

matplotlib.use("Agg")

# Agree to disagree from dark blue to dark orange; abstaining grey. Each colour has a 3:1 contrast
# against white, and the segments are also told apart by their hatching and the table beside them.
POSITION_COLOURS = ("#00507a", "#5b8fb0", "#b35c00", "#6e6e6e")
POSITION_HATCHES = ("", "//", "xx", "||")  # no dots: matplotlib writes each dot as a path (70 KB a chart)


def data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


@lru_cache(maxsize=256)
def stacked_bar_chart(labels: tuple[str, ...], series: tuple[tuple[str, tuple[int, ...]], ...], *,
                      axis_label: str = "") -> bytes:
    """Horizontal bars, one per label (first on top), each split into the series' counts."""
    rc = workspace_charts.RC
    with matplotlib.rc_context(rc):
        figure = workspace_charts._figure(6.4, max(1.4, 0.36 * len(labels) + 1.0))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        left = [0.0] * len(labels)
        for index, (name, values) in enumerate(series):
            bars = axes.barh(positions, values, left=left, label=name,
                             color=POSITION_COLOURS[index % len(POSITION_COLOURS)],
                             hatch=POSITION_HATCHES[index % len(POSITION_HATCHES)], edgecolor="white", linewidth=0.6)
            # Dark figures on a small white box stay readable on every colour and hatching.
            axes.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center", fontsize=8,
                           color="#111111", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_yticks(positions, [workspace_charts._short(label, 34) for label in labels])
        axes.set_xlabel(axis_label)
        axes.set_xlim(0, max(left, default=0) or 1)
        axes.xaxis.get_major_locator().set_params(integer=True)
        # Above the bars, where it never meets the axis label, whatever the number of bars.
        axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4, frameon=False, fontsize=8)
        return workspace_charts._svg(figure)


def describe_stacked(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> str:
    """A text alternative: per bar, its counts (the table beside the chart has the same figures)."""
    parts = []
    for index, label in enumerate(labels):
        counts = ", ".join(f"{name} {values[index]}" for name, values in series if values[index])
        parts.append(f"{label}: {counts or '0'}")
    return f"{title}. " + "; ".join(parts)
