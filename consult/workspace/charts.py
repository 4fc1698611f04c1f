"""Charts as SVG drawn by matplotlib (Agg backend, object API: no global pyplot state, safe in
threads). Every chart comes with a text alternative; the pages put the data table beside it."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402 - the backend must be chosen first

BRAND = "#00507a"
SECOND = "#b35c00"
PALETTE = [BRAND, SECOND, "#4a4a4a", "#1d6b34", "#7a3a8c"]
RC = {
    "svg.fonttype": "none",  # text stays text: smaller files, readable and selectable
    "svg.hashsalt": "consult",  # the same chart gives the same file
    "font.size": 10,
    "font.family": ["DejaVu Sans", "sans-serif"],
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained")


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


@lru_cache(maxsize=512)
def bar_chart(labels: tuple[str, ...], values: tuple[float, ...], *, percent: bool = True,
              axis_label: str = "") -> bytes:
    """Horizontal bars, first label on top. Values are fractions when `percent`."""
    with matplotlib.rc_context(RC):
        figure = _figure(6.4, max(1.2, 0.32 * len(labels) + 0.7))
        axes = figure.add_subplot()
        shown = [v * 100 if percent else v for v in values]
        positions = list(range(len(labels)))[::-1]
        bars = axes.barh(positions, shown, color=BRAND)
        axes.set_yticks(positions, [_short(label) for label in labels])
        axes.bar_label(bars, labels=[_format(v, percent) for v in shown], padding=3, fontsize=9)
        axes.set_xlabel(axis_label)
        axes.set_xlim(0, max(shown, default=0) * 1.18 or 1)
        return _svg(figure)


@lru_cache(maxsize=256)
def line_chart(periods: tuple[str, ...], values: tuple[float, ...], *, axis_label: str = "") -> bytes:
    with matplotlib.rc_context(RC):
        figure = _figure(6.4, 2.6)
        axes = figure.add_subplot()
        axes.plot(range(len(periods)), values, color=BRAND, marker="o", markersize=3)
        step = max(1, len(periods) // 8)
        axes.set_xticks(range(0, len(periods), step), [periods[i] for i in range(0, len(periods), step)],
                        rotation=30, ha="right")
        axes.set_ylabel(axis_label)
        axes.set_ylim(bottom=0)
        return _svg(figure)


@lru_cache(maxsize=256)
def column_chart(labels: tuple[str, ...], values: tuple[float, ...], *, axis_label: str = "",
                 marks: tuple[str, ...] | None = None) -> bytes:
    """Vertical bars for a histogram or a scale's distribution, in the order given. `marks`: a text
    to show instead of a bar's figure where it is not empty (a bin hidden for publication)."""
    with matplotlib.rc_context(RC):
        figure = _figure(6.4, 2.6)
        axes = figure.add_subplot()
        bars = axes.bar(range(len(labels)), values, color=BRAND, width=0.85)
        axes.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 6 else 0,
                        ha="right" if len(labels) > 6 else "center")
        axes.bar_label(bars, labels=[mark or _format(v, False) for v, mark in zip(values, marks or [""] * len(values),
                                                                                    strict=True)],
                       padding=2, fontsize=8)
        axes.set_ylabel(axis_label)
        # Counts of people: whole-number ticks (matplotlib's own would be 0.25 steps, with a decimal
        # point, under a weighted histogram of a few respondents).
        axes.yaxis.get_major_locator().set_params(integer=True)
        return _svg(figure)


@lru_cache(maxsize=128)
def grouped_bar_chart(labels: tuple[str, ...], series: tuple[tuple[str, tuple[float, ...]], ...], *,
                      axis_label: str = "") -> bytes:
    """Horizontal bars per label, one bar per series (e.g. per review cycle); values are fractions."""
    with matplotlib.rc_context(RC):
        figure = _figure(6.4, max(1.6, 0.3 * len(labels) * max(1, len(series)) + 0.9))
        axes = figure.add_subplot()
        height = 0.8 / max(1, len(series))
        for index, (name, values) in enumerate(series):
            positions = [len(labels) - 1 - i + (len(series) - 1 - index) * height - 0.4 + height / 2
                         for i in range(len(labels))]
            axes.barh(positions, [v * 100 for v in values], height=height, label=name,
                      color=PALETTE[index % len(PALETTE)])
        axes.set_yticks(range(len(labels))[::-1], [_short(label) for label in labels])
        axes.set_xlabel(axis_label)
        axes.legend(loc="lower right", frameon=False)
        return _svg(figure)


def _format(value: float, percent: bool) -> str:
    """A bar's figure as the table beside it shows it: whole per cent or whole numbers (a weighted
    count is a sum of weights), and "<1%" for a share that rounds to nothing although someone chose
    the option ("0%" would say nobody did)."""
    if percent:
        return "<1%" if 0 < value < 0.5 else f"{value:.0f}%"
    return f"{value:.0f}"


def describe_bars(title: str, labels: Sequence[str], values: Sequence[float | None], *, percent: bool = True) -> str:
    """A text alternative: what the chart shows and its largest values (the table has the rest)."""
    pairs = [(label, value) for label, value in zip(labels, values, strict=True) if value is not None]
    if not pairs:
        return title
    top = sorted(pairs, key=lambda p: -p[1])[:3]
    figures = ", ".join(f"{label} {_format(v * 100 if percent else v, percent)}" for label, v in top)
    return f"{title}: {figures}"
