"""Command-line access to the theme engine: `consult themes`, `consult evaluate`, `consult redact`.

The lead's `consult/cli.py` calls ``register(app)``. Output contract (issue 5, section 7):
`themes` writes themes.json and assignments.csv and prints a summary table; `evaluate` prints
exactly one JSON line; `redact` writes one line out per line in. Errors print one line on stderr
and exit non-zero. Progress goes to stderr so stdout stays machine-readable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

EXIT_USAGE = 2


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


@contextmanager
def _progress(enabled: bool = True) -> Iterator[Callable[[str, float], None]]:
    """A progress bar on stderr; a callable(step, fraction) for the engine to report through."""
    if not enabled:
        yield lambda step, fraction: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description:<32}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("starting", total=1.0)
        yield lambda step, fraction: bar.update(task, description=step, completed=fraction)


def _load(input_path: Path, columns: list[str | None], where: list[str] | None):
    from analysis.io import InputError, apply_filters, read_table, require_columns

    try:
        frame = read_table(input_path)
        frame = apply_filters(frame, where)
        require_columns(frame, *columns)
    except InputError as error:
        _fail(str(error))
    return frame


def _strategy(path: Path | None, keywords: Path | None, year: int | None):
    if path is None:
        return None
    from analysis.io import InputError, read_strategy

    try:
        return read_strategy(path, keywords, year)
    except InputError as error:
        _fail(str(error))


def _k(value: str) -> int | str:
    from analysis.pipeline import parse_k

    try:
        return parse_k(value)
    except ValueError as error:
        _fail(str(error))


LANG_HELP = "auto (detected per question), or a language code: sv, en, de, fr, ... (see analysis.text)."


def _lang(value: str) -> str:
    from analysis.text import SUPPORTED_LANGUAGES

    if value != "auto" and value not in SUPPORTED_LANGUAGES:
        _fail(f"--lang must be auto or one of {', '.join(SUPPORTED_LANGUAGES)}, not {value!r}")
    return value


def themes(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="CSV (comma or semicolon), TSV or XLSX."),
    text_col: str = typer.Option(..., "--text-col", help="Column with the free-text answers."),
    id_col: str | None = typer.Option(None, "--id-col", help="Column with row ids (default: row number from 1)."),
    lang: str = typer.Option("auto", "--lang", help=LANG_HELP),
    k: str = typer.Option("auto", "--k", help="Number of themes, or auto (silhouette, 2 to 30)."),
    out: Path = typer.Option(Path("themes-out"), "--out", help="Directory for themes.json and assignments.csv."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML (or keyword file) to map onto."),
    keywords: Path | None = typer.Option(None, "--keywords", help="Keyword lists per priority (YAML)."),
    strategy_year: int | None = typer.Option(None, "--strategy-year", help="Strategy as it stood in this year."),
    where: list[str] | None = typer.Option(None, "--where", help="Keep rows where COL=VALUE (repeatable)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same themes."),
) -> None:
    """Find themes in free-text answers; write themes.json and assignments.csv into --out."""
    from analysis.pipeline import analyse_question

    lang, k_value = _lang(lang), _k(k)
    if k_value == "gold":
        _fail("--k gold needs labels: use `consult evaluate`")
    frame = _load(input_path, [text_col, id_col], where)
    strategy_version = _strategy(strategy, keywords, strategy_year)
    if id_col and frame[id_col].duplicated().any():
        _fail(f"column {id_col!r} has duplicate ids")
    with _progress() as report:
        result = analyse_question(frame, text_col, id_col, lang, k_value, strategy_version, seed, report)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "themes.json").write_text(
            json.dumps(result["themes"], ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        result["assignments"].to_csv(out / "assignments.csv", index=False)
    except OSError as error:
        _fail(f"cannot write to {out}: {error.strerror}")
    _print_summary(result["themes"])
    typer.echo(f"wrote {out / 'themes.json'} and {out / 'assignments.csv'}", err=True)


def _print_summary(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(data['themes'])} themes ({data['language']})")
    for column, justify in (("id", "right"), ("label", "left"), ("size", "right"), ("share", "right"),
                            ("terms", "left")):
        table.add_column(column, justify=justify)
    for theme in data["themes"]:
        table.add_row(str(theme["id"]), theme["label"], str(theme["size"]), f"{theme['share']:.1%}",
                      ", ".join(theme["terms"][:6]))
    Console(width=160).print(table)


def evaluate(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="CSV (comma or semicolon), TSV or XLSX."),
    text_col: str = typer.Option(..., "--text-col", help="Column with the free-text answers."),
    label_col: str = typer.Option(..., "--label-col", help="Column with the gold theme labels."),
    lang: str = typer.Option("auto", "--lang", help=LANG_HELP),
    k: str = typer.Option("auto", "--k", help="auto, gold (number of labels) or a number."),
    coded_per_theme: int | None = typer.Option(
        None, "--coded-per-theme", min=1, help="Show N labelled answers per label to the assisted coder."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML used as prior vocabulary."),
    keywords: Path | None = typer.Option(None, "--keywords", help="Keyword lists per priority (YAML)."),
    where: list[str] | None = typer.Option(None, "--where", help="Keep rows where COL=VALUE (repeatable)."),
) -> None:
    """Cluster without looking at the labels, then print one JSON line of agreement scores."""
    from analysis.pipeline import evaluate_labelled

    lang, k_value = _lang(lang), _k(k)
    frame = _load(input_path, [text_col, label_col], where)
    strategy_version = _strategy(strategy, keywords, None)
    with _progress() as report:
        try:
            scores = evaluate_labelled(frame, text_col, label_col, lang, k_value, coded_per_theme, seed,
                                       strategy_version, report)
        except ValueError as error:
            _fail(str(error))
    typer.echo(json.dumps(scores, ensure_ascii=False))


def redact(
    file: Path | None = typer.Argument(None, metavar="[FILE]", help="Text file; standard input when omitted."),
) -> None:
    """Replace personal data in each line; one line out for each line in."""
    try:
        from analysis.redact import redact as redact_text
    except ImportError:
        _fail("redaction is not available in this installation (analysis.redact missing)")
    if file is not None and not file.exists():
        _fail(f"{file}: no such file")
    try:
        stream = file.open(encoding="utf-8", newline="") if file else sys.stdin
        with stream:
            for line in stream:
                body = line.rstrip("\r\n")
                ending = line[len(body):]
                # Redaction never joins or splits lines: any newline it might produce becomes a space.
                cleaned = redact_text(body).replace("\r", " ").replace("\n", " ")
                sys.stdout.write(cleaned + (ending or ""))
    except UnicodeDecodeError:
        _fail(f"{file or 'stdin'}: unreadable encoding (expected UTF-8 text)")
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    """Add the analysis commands to the `consult` command."""
    app.command("themes")(themes)
    app.command("evaluate")(evaluate)
    app.command("redact")(redact)
