"""Reading an analyst's table of answers (CSV with comma or semicolon, TSV, XLSX).

Only the command line uses this; the engine itself never reads files.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd


class InputError(ValueError):
    """A problem with the input that the user can fix; its message is one clear line."""


_ENCODINGS = ("utf-8-sig", "cp1252")


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw:
        raise InputError(f"{path}: unreadable encoding (binary data; expected UTF-8 text)")
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: unreadable encoding (expected UTF-8 or Windows-1252 text)")


def _delimiter(text: str, path: Path) -> str:
    if path.suffix.lower() in {".tsv", ".tab"}:
        return "\t"
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        return max(",;\t", key=header.count)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read CSV (comma or semicolon, detected), TSV or XLSX into a DataFrame of strings."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        try:
            frame = pd.read_excel(path, dtype=str)
        except Exception as error:  # openpyxl raises many kinds; all mean "not a readable workbook"
            raise InputError(f"{path}: not a readable XLSX workbook ({error.__class__.__name__})") from error
    else:
        text = _decode(path.read_bytes(), path)
        if not text.strip():
            raise InputError(f"{path}: the file is empty")
        try:
            frame = pd.read_csv(io.StringIO(text), sep=_delimiter(text, path), dtype=str,
                                keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise InputError(f"{path}: cannot parse the table ({str(error).splitlines()[0]})") from error
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise InputError(f"{path}: the table has no rows")
    return frame


def require_columns(frame: pd.DataFrame, *columns: str | None) -> None:
    missing = [c for c in columns if c and c not in frame.columns]
    if missing:
        available = ", ".join(frame.columns[:20])
        raise InputError(f"missing column {missing[0]!r}; the file has: {available}")


def apply_filters(frame: pd.DataFrame, filters: list[str] | None) -> pd.DataFrame:
    """Keep rows matching every ``COL=VALUE`` filter (for one question of a multi-question file)."""
    for condition in filters or []:
        column, sep, value = condition.partition("=")
        if not sep:
            raise InputError(f"--where expects COL=VALUE, got {condition!r}")
        require_columns(frame, column.strip())
        frame = frame[frame[column.strip()].astype(str) == value.strip()]
    if frame.empty:
        raise InputError("no rows left after --where")
    return frame


DEFAULT_KEYWORDS = Path(__file__).with_name("data") / "strategy_keywords_sv.yaml"


def read_yaml(path: str | Path) -> dict:
    """Read a YAML (or JSON) mapping, e.g. a strategy or a keyword file."""
    import yaml  # only needed when a strategy file is given

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        data = yaml.safe_load(_decode(path.read_bytes(), path))
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from error
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping at the top level")
    return data


def read_strategy(path: str | Path, keywords_path: str | Path | None = None, year: int | None = None):
    """A StrategyVersion from a strategy file (strategy.yaml's shape) or a keyword file alone.

    Keywords come from ``keywords_path`` when given, else from the packaged lists for the
    Västernorrland strategy (analysis/data/strategy_keywords_sv.yaml); titles without a list
    are matched on their own words only.
    """
    from analysis.strategy_map import strategy_version

    data = read_yaml(path)
    keywords = read_yaml(keywords_path or DEFAULT_KEYWORDS)
    if "goal_areas" not in data and "priorities" in data:
        # A keyword file alone: its titles are the items.
        keywords = data
        data = {"goal_areas": [{"key": "", "priorities": list(data.get("priorities") or {})}],
                "principles": list(data.get("principles") or {})}
    if "goal_areas" not in data:
        raise InputError(f"{path}: no goal_areas/priorities found")
    return strategy_version(data, keywords, year)
