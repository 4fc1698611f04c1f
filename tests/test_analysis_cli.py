"""The command-line contract: `themes`, `evaluate` and `redact` (issue 5, section 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from consult.themes.cli import register
from tests.analysis_corpus import corpus

app = typer.Typer()


@app.callback()
def _root() -> None:
    """Test entry point with the analysis commands registered."""


register(app)
runner = CliRunner()
EVALUATE_KEYS = {"n", "k_found", "k_gold", "nmi", "ari", "f1_matched", "coding_macro_f1", "coding_micro_f1", "seconds"}


@pytest.fixture(scope="module")
def answers_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "answers.csv"
    corpus().to_csv(path, sep=";", index=False)  # semicolon, as Swedish Excel writes it
    return path


def test_themes_writes_json_and_assignments(answers_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["themes", str(answers_csv), "--text-col", "text", "--id-col", "id",
                                 "--k", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "themes.json").read_text(encoding="utf-8"))
    themes = data["themes"]
    assert {"id", "label", "terms", "size", "share", "representatives"} <= set(themes[0])
    assert sum(t["size"] for t in themes) == len(corpus())
    assignments = pd.read_csv(out / "assignments.csv")
    assert list(assignments.columns[:3]) == ["row_id", "theme_id", "score"]
    assert set(assignments["row_id"]) == set(corpus()["id"])
    assert set(assignments["theme_id"]) <= {t["id"] for t in themes}
    ids = set(assignments["row_id"])
    assert all(set(t["representatives"]) <= ids for t in themes)
    assert "themes" in result.stdout  # the summary table


def test_themes_reads_xlsx_and_tsv(tmp_path: Path) -> None:
    frame = corpus()
    for name, write in (("a.xlsx", lambda p: frame.to_excel(p, index=False)),
                        ("a.tsv", lambda p: frame.to_csv(p, sep="\t", index=False))):
        path = tmp_path / name
        write(path)
        result = runner.invoke(app, ["themes", str(path), "--text-col", "text", "--k", "3",
                                     "--out", str(tmp_path / name.replace(".", "_"))])
        assert result.exit_code == 0, result.output
        assignments = pd.read_csv(tmp_path / name.replace(".", "_") / "assignments.csv")
        assert list(assignments["row_id"][:3]) == [1, 2, 3]


def test_evaluate_prints_exactly_one_json_line(answers_csv: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(answers_csv), "--text-col", "text", "--label-col", "topic",
                                 "--k", "gold", "--coded-per-theme", "5", "--seed", "1"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    scores = json.loads(lines[0])
    assert set(scores) == EVALUATE_KEYS
    assert scores["n"] == len(corpus()) and scores["k_gold"] == 4 and scores["k_found"] == 4
    assert scores["nmi"] > 0.6 and scores["coding_macro_f1"] > 0.6


def test_evaluate_without_coding_reports_null_coding(answers_csv: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(answers_csv), "--text-col", "text", "--label-col", "topic"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout.strip())
    assert scores["coding_macro_f1"] is None and 2 <= scores["k_found"] <= 30


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("id;text\n1;hej\n", ["--text-col", "svar"], "missing column 'svar'"),
        ("", ["--text-col", "text"], "empty"),
        (b"\x00\x01\xff\xfe\x00garbage", ["--text-col", "text"], "unreadable encoding"),
        ("id;text\n1;hej\n", ["--text-col", "text", "--k", "many"], "--k must be"),
        ("id;text\n1;hej\n", ["--text-col", "text", "--lang", "xx"], "--lang must be auto or one of sv, en"),
    ],
)
def test_errors_give_one_line_and_non_zero_exit(tmp_path: Path, content, args: list[str], message: str) -> None:
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["themes", str(path), *args, "--out", str(tmp_path / "o")])
    assert result.exit_code != 0
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1 and message in error_lines[0]
    assert not (tmp_path / "o" / "themes.json").exists()


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(tmp_path / "nope.csv"), "--text-col", "t", "--label-col", "l"])
    assert result.exit_code != 0 and "no such file" in result.stderr


def test_redact_writes_one_line_per_line(tmp_path: Path) -> None:
    pytest.importorskip("analysis.redact")
    lines = "Ring mig på 070-123 45 67\n\nBuss 12 går 2025\nMejla anna@example.se"
    result = runner.invoke(app, ["redact"], input=lines)
    assert result.exit_code == 0, result.output
    out = result.stdout.split("\n")
    assert len(out) == len(lines.split("\n"))
    assert "070-123" not in result.stdout and "anna@example.se" not in result.stdout
    assert "Buss 12 går 2025" in result.stdout
    path = tmp_path / "in.txt"
    path.write_text(lines + "\n", encoding="utf-8")
    from_file = runner.invoke(app, ["redact", str(path)])
    assert from_file.stdout.count("\n") == lines.count("\n") + 1


def test_themes_accepts_another_analysed_language(tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    rows = ["Mehr Busse am Abend", "Die Busse fahren zu selten", "Bessere Schulen", "Mehr Lehrer in der Schule"] * 3
    path.write_text("text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["themes", str(path), "--text-col", "text", "--lang", "de", "--k", "2",
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "o" / "themes.json").read_text(encoding="utf-8"))["language"] == "de"
