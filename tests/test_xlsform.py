"""XLSForm import and export (issue 7, section 2): forms written here with openpyxl."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from openpyxl import Workbook, load_workbook
from sqlmodel import SQLModel
from typer.testing import CliRunner

from consult.demo.service import read_fixture, survey_spec_from_fixture
from consult.surveys.models import ConditionOp, QuestionType, SurveyStatus
from consult.surveys.schema import AllOf, AnyOf, Condition, ConditionSpec, NotCondition, SurveySpec
from consult.surveys.xlsform import XLSFormProblem, XLSFormResult, read_xlsform, write_xlsform

Rows = list[list[Any]]


def workbook_bytes(sheets: dict[str, Rows]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# A cycling survey for Sundsvall written the way people write them: a header with stray spaces
# and capitals, one-colon language columns, TRUE as an Excel boolean, `list name` with a space.
SURVEY_HEADER = [
    "Type",
    " name ",
    "Label::Svenska (sv)",
    "label::English (en)",
    "hint::Svenska (sv)",
    "hint:English",
    "required",
    "relevant",
    "constraint",
    "constraint_message::Svenska (sv)",
    "constraint_message::English (en)",
    "appearance",
    "parameters",
]
SWEDISH_SURVEY: Rows = [
    SURVEY_HEADER,
    ["begin_group", "om_dig", "Om dig", "About you"],
    ["select_one municipality", "kommun", "Var bor du?", "Where do you live?", "", "", "yes"],
    [
        "integer", "alder", "Hur gammal är du?", "How old are you?", "Hela år", "Whole years", "", "",
        ". >= 16 and . <= 110", "Ange en ålder mellan 16 och 110", "Give an age from 16 to 110",
    ],
    ["end_group"],
    ["begin group", "cykling", "Cykling", "Cycling"],
    ["select_one ja_nej", "cyklar", "Cyklar du till jobbet?", "Do you cycle to work?", "", "", True],
    [
        "select_multiple hinder", "hinder", "Vad gör det svårt att cykla?", "What makes cycling hard?",
        "Välj högst två", "Choose at most two", "", "${cyklar} = 'ja'", "count-selected(.) <= 2",
    ],
    [
        "rank atgarder", "atgarder", "Vad ska kommunen göra först?", "What should the municipality do first?",
        "", "", "", "selected(${hinder}, 'morker')",
    ],
    [
        "range", "nojd", "Hur nöjd är du med cykelvägarna?", "How satisfied are you with the cycle paths?",
        "", "", "true()", "", "", "", "", "", "start=1 end=7 step=1",
    ],
    [
        "text", "varfor_inte", "Varför cyklar du inte?", "Why do you not cycle?", "", "", "", "not(${cyklar} = 'ja')",
        "string-length(.) <= 300",
    ],
    ["end_group", "cykling"],
    ["text", "ovrigt", "Något mer du vill säga?", "Anything else?", "", "", "", "", "", "", "", "multiline"],
]  # fmt: skip
SWEDISH_CHOICES: Rows = [
    ["List Name", "name", "label::Svenska (sv)", "label::English (en)"],
    ["ja_nej", "ja", "Ja", "Yes"],
    ["ja_nej", "nej", "Nej", "No"],
    ["municipality", 2281, "Sundsvall", "Sundsvall"],
    ["municipality", 2262, "Timrå", "Timrå"],
    ["hinder", "morker", "Mörker", "Darkness"],
    ["hinder", "vader", "Väder", "Weather"],
    ["hinder", 3, "Annat", "Other"],
    ["atgarder", "belysning", "Bättre belysning", "Better lighting"],
    ["atgarder", "plogning", "Snabbare plogning", "Faster snow clearing"],
]
SWEDISH_SETTINGS: Rows = [
    ["form_title", "form_id", "version", "default_language"],
    ["Cykelvägar i Sundsvall", "Cykelvägar_Sundsvall 2025", "2025-03-01", "Svenska (sv)"],
]


def swedish_form(**changes: Rows) -> bytes:
    sheets = {"survey": SWEDISH_SURVEY, "choices": SWEDISH_CHOICES, "settings": SWEDISH_SETTINGS}
    sheets.update(changes)
    return workbook_bytes(sheets)


def read_ok(data: bytes) -> SurveySpec:
    result = read_xlsform(data)
    assert [str(p) for p in result.problems] == []
    assert result.spec is not None
    return result.spec


def with_rows(*rows: list[Any]) -> Rows:
    """The Swedish survey sheet with rows added at the end (spreadsheet rows 14, 15, ...)."""
    return [*SWEDISH_SURVEY, *rows]


def only(result: XLSFormResult) -> XLSFormProblem:
    assert len(result.problems) == 1, [str(p) for p in result.problems]
    return result.problems[0]


# --- A Swedish form with both languages, conditions and constraints ------------------------


def test_swedish_form_reads_into_pages_questions_and_choices() -> None:
    result = read_xlsform(swedish_form())
    assert result.ok, [str(p) for p in result.problems]
    spec = result.spec
    assert spec is not None
    assert spec.slug == "cykelvagar-sundsvall-2025"
    assert spec.title == {"sv": "Cykelvägar i Sundsvall"}
    assert spec.status == SurveyStatus.draft
    assert result.version == "2025-03-01"
    # Two groups and the question after them, which gets a page of its own.
    assert [page.title for page in spec.pages] == [
        {"sv": "Om dig", "en": "About you"},
        {"sv": "Cykling", "en": "Cycling"},
        None,
    ]
    assert [[q.code for q in page.questions] for page in spec.pages] == [
        ["kommun", "alder"],
        ["cyklar", "hinder", "atgarder", "nojd", "varfor_inte"],
        ["ovrigt"],
    ]
    types = {q.code: q.type for q in spec.questions}
    assert types == {
        "kommun": QuestionType.municipality,
        "alder": QuestionType.number,
        "cyklar": QuestionType.single_choice,
        "hinder": QuestionType.multiple_choice,
        "atgarder": QuestionType.ranking,
        "nojd": QuestionType.scale,
        "varfor_inte": QuestionType.short_text,
        "ovrigt": QuestionType.long_text,
    }
    assert [q.code for q in spec.questions if q.required] == ["kommun", "cyklar", "nojd"]


def test_swedish_form_keeps_both_languages_and_author_messages() -> None:
    spec = read_ok(swedish_form())
    age = spec.question("alder")
    assert age is not None
    assert age.text == {"sv": "Hur gammal är du?", "en": "How old are you?"}
    assert age.help == {"sv": "Hela år", "en": "Whole years"}  # the English from `hint:English`
    assert age.constraint_message == {"sv": "Ange en ålder mellan 16 och 110", "en": "Give an age from 16 to 110"}


def test_constraints_become_validation_rules() -> None:
    spec = read_ok(swedish_form())
    by_code = spec.by_code
    assert (by_code["alder"].min_value, by_code["alder"].max_value) == (16, 110)
    assert by_code["hinder"].max_choices == 2
    assert by_code["varfor_inte"].max_length == 300
    assert (by_code["nojd"].min_value, by_code["nojd"].max_value) == (1, 7)


def test_an_integer_question_takes_whole_numbers_only_and_exports_as_integer() -> None:
    spec = read_ok(swedish_form(survey=with_rows(["decimal", "vikt", "Vikt?", "Weight?"], ["int", "barn", "Barn?"])))
    by_code = spec.by_code
    assert by_code["alder"].whole_numbers is True and by_code["barn"].whole_numbers is True
    assert by_code["vikt"].whole_numbers is False
    assert by_code["alder"].type == by_code["vikt"].type == QuestionType.number
    rows = load_workbook(io.BytesIO(write_xlsform(spec)))["survey"].iter_rows(values_only=True)
    header = list(next(rows))
    types = {row[header.index("name")]: row[header.index("type")] for row in rows}
    assert (types["alder"], types["barn"], types["vikt"]) == ("integer", "integer", "decimal")


def test_choice_codes_are_numbers_and_names_are_kept() -> None:
    spec = read_ok(swedish_form())
    yes_no = spec.by_code["cyklar"].choices
    assert [(c.code, c.name, c.label["en"]) for c in yes_no] == [(1, "ja", "Yes"), (2, "nej", "No")]
    # Integer names are the codes; other names take the lowest codes not taken.
    obstacles = spec.by_code["hinder"].choices
    assert [(c.code, c.name) for c in obstacles] == [(1, "morker"), (2, "vader"), (3, None)]
    assert [c.code for c in spec.by_code["kommun"].choices] == [2281, 2262]


def test_relevant_expressions_become_display_conditions() -> None:
    spec = read_ok(swedish_form())
    conditions = {q.code: q.condition for q in spec.questions if q.condition}
    assert {code: (c.question, c.op, c.value) for code, c in conditions.items()} == {
        "hinder": ("cyklar", ConditionOp.equals, 1),
        "atgarder": ("hinder", ConditionOp.includes, 1),
        "varfor_inte": ("cyklar", ConditionOp.not_, 1),
    }


def extra_condition(relevant: str) -> Condition | None:
    """The condition read from `relevant` on a question added after the Swedish survey."""
    spec = read_ok(swedish_form(survey=with_rows(["text", "extra", "Extra", "Extra", "", "", "", relevant])))
    return spec.by_code["extra"].condition


KOMMUN_SUNDSVALL = ConditionSpec(question="kommun", op=ConditionOp.equals, value=2281)
CYKLAR_JA = ConditionSpec(question="cyklar", op=ConditionOp.equals, value=1)
CYKLAR_NOT_JA = ConditionSpec(question="cyklar", op=ConditionOp.not_, value=1)
HINDER_MORKER = ConditionSpec(question="hinder", op=ConditionOp.includes, value=1)


COMBINED_RELEVANT = "${kommun} = '2281' and (selected(${hinder}, 'morker') or not(${cyklar} = 'ja'))"


def test_and_or_not_with_brackets_become_one_combined_condition() -> None:
    condition = extra_condition(COMBINED_RELEVANT)
    assert condition == AllOf(all=(KOMMUN_SUNDSVALL, AnyOf(any=(HINDER_MORKER, CYKLAR_NOT_JA))))


@pytest.mark.parametrize(
    ("relevant", "expected"),
    [
        # `and` binds tighter than `or` ...
        (
            "${cyklar} = 'ja' or ${kommun} = '2281' and selected(${hinder}, 'morker')",
            AnyOf(any=(CYKLAR_JA, AllOf(all=(KOMMUN_SUNDSVALL, HINDER_MORKER)))),
        ),
        (
            "${kommun} = '2281' and selected(${hinder}, 'morker') or ${cyklar} = 'ja'",
            AnyOf(any=(AllOf(all=(KOMMUN_SUNDSVALL, HINDER_MORKER)), CYKLAR_JA)),
        ),
        # ... unless brackets say otherwise.
        (
            "(${cyklar} = 'ja' or ${kommun} = '2281') and selected(${hinder}, 'morker')",
            AllOf(all=(AnyOf(any=(CYKLAR_JA, KOMMUN_SUNDSVALL)), HINDER_MORKER)),
        ),
        # not(...) binds tightest and may hold a whole combination.
        (
            "not(${cyklar} = 'ja' and ${kommun} = '2281') or selected(${hinder}, 'morker')",
            AnyOf(any=(NotCondition(negated=AllOf(all=(CYKLAR_JA, KOMMUN_SUNDSVALL))), HINDER_MORKER)),
        ),
        # Chains of one operator are one list; redundant brackets change nothing.
        (
            "((${cyklar} = 'ja')) AND (${kommun} = \"2281\" and 'nej' != ${cyklar})",
            AllOf(all=(CYKLAR_JA, KOMMUN_SUNDSVALL, ConditionSpec(question="cyklar", op=ConditionOp.not_, value=2))),
        ),
        ("not(not(${cyklar} = 'ja' or ${kommun} = '2281'))", AnyOf(any=(CYKLAR_JA, KOMMUN_SUNDSVALL))),
        ("not(${cyklar} != 'ja')", NotCondition(negated=CYKLAR_NOT_JA)),
    ],
)
def test_precedence_and_brackets(relevant: str, expected: Condition) -> None:
    assert extra_condition(relevant) == expected


def test_every_bad_test_in_a_combination_is_reported_at_the_cell() -> None:
    relevant = "${cyklar} = 'kanske' or (${alder} = '20' and selected(${hinder}, 'morker'))"
    result = read_xlsform(swedish_form(survey=with_rows(["text", "extra", "Extra", "Extra", "", "", "", relevant])))
    assert [(p.cell, p.column, p.reason) for p in result.problems] == [
        ("H14", "relevant", "cyklar has no choice named kanske."),
        ("H14", "relevant", "Conditions can only test choice questions; alder is not one."),
    ]
    assert result.spec is not None and "extra" not in result.spec.by_code  # not imported without its condition


def test_upper_case_sheets_and_one_colon_language_columns_are_read() -> None:
    survey = [
        ["TYPE", "NAME", "LABEL:Swedish", "Label : English", "Required"],
        ["select one frukt", "frukt", "Vilken frukt?", "Which fruit?", "TRUE"],
    ]
    choices = [["list_name", "name", "label:Swedish", "label:English"], ["frukt", "1", "Äpple", "Apple"]]
    spec = read_ok(workbook_bytes({"SURVEY": survey, " Choices ": choices, "Settings": SWEDISH_SETTINGS}))
    question = spec.questions[0]
    assert question.text == {"sv": "Vilken frukt?", "en": "Which fruit?"}
    assert question.required
    assert question.choices[0].label == {"sv": "Äpple", "en": "Apple"}


def test_plain_label_follows_default_language() -> None:
    settings = [["form_title", "form_id", "default_language"], ["Cycling", "cycling", "English (en)"]]
    survey = [["type", "name", "label"], ["text", "why", "Why?"]]
    spec = read_ok(workbook_bytes({"survey": survey, "settings": settings}))
    assert spec.title == {"en": "Cycling"}
    assert spec.questions[0].text == {"en": "Why?"}


# --- Round trip -----------------------------------------------------------------------------


def test_swedish_form_round_trips() -> None:
    spec = read_ok(swedish_form())
    assert read_ok(write_xlsform(spec)) == spec


def test_combined_conditions_round_trip() -> None:
    relevant = {
        "a": "${kommun} = '2281' and (selected(${hinder}, 'morker') or ${cyklar} != 'ja')",
        "b": "not(${kommun} = '2262' or selected(${hinder}, 'vader')) and ${cyklar} = 'nej'",
        "c": "${cyklar} = 'ja' or ${kommun} = '2281' and not(not(selected(${hinder}, '3')))",
        "d": "not(${cyklar} != 'ja')",
    }
    rows = with_rows(*(["text", code, code, code, "", "", "", expression] for code, expression in relevant.items()))
    spec = read_ok(swedish_form(survey=rows))
    assert all(spec.by_code[code].condition is not None for code in "abcd")
    exported = write_xlsform(spec)
    assert read_ok(exported) == spec
    exported_relevant = relevant_column(exported)
    assert exported_relevant["a"] == (
        "${kommun} = '2281' and (selected(${hinder}, 'morker') or not(selected(${cyklar}, 'ja')))"
    )
    assert exported_relevant["c"] == "${cyklar} = 'ja' or (${kommun} = '2281' and not(not(selected(${hinder}, '3'))))"


def relevant_column(data: bytes) -> dict[str, str]:
    """{name: relevant} from the survey sheet of a workbook."""
    rows = load_workbook(io.BytesIO(data))["survey"].iter_rows(values_only=True)
    header = list(next(rows))
    name, relevant = header.index("name"), header.index("relevant")
    return {row[name]: row[relevant] for row in rows if row[relevant]}


def test_demo_survey_round_trips() -> None:
    spec = survey_spec_from_fixture(read_fixture())
    again = read_ok(write_xlsform(spec))
    assert again == spec
    priorities = again.by_code["prioriteringar"].choices
    assert [c.priority_key for c in priorities] == [c.priority_key for c in spec.by_code["prioriteringar"].choices]
    assert priorities[0].priority_key == "paverkansarbete"


def test_export_is_a_form_pyxform_accepts(tmp_path: Path) -> None:
    """Other tools must be able to read what we write; pyxform is the XLSForm reference."""
    xls2xform = pytest.importorskip("pyxform.xls2xform")
    combined = with_rows(["text", "extra", "Extra", "Extra", "", "", "", COMBINED_RELEVANT])
    specs = [survey_spec_from_fixture(read_fixture()), read_ok(swedish_form()), read_ok(swedish_form(survey=combined))]
    for number, spec in enumerate(specs):
        path = tmp_path / f"form{number}.xlsx"
        path.write_bytes(write_xlsform(spec))
        converted = xls2xform.convert(xlsform=str(path), validate=False)
        assert "<h:title>" in converted.xform
        assert f'id="{spec.slug}"' in converted.xform


# --- Malformed forms: each problem is named cell by cell ------------------------------------


def test_not_an_xlsx_at_all() -> None:
    result = read_xlsform(b"type,name,label\ntext,q1,Hej\n")
    problem = only(result)
    assert result.spec is None
    assert (problem.sheet, problem.row, problem.column) == ("", None, "")
    assert problem.reason.startswith("This is not an Excel workbook (.xlsx)")


def test_missing_survey_sheet() -> None:
    result = read_xlsform(workbook_bytes({"choices": SWEDISH_CHOICES, "settings": SWEDISH_SETTINGS}))
    assert result.spec is None
    assert only(result).reason == "The workbook has no survey sheet."


def test_unknown_type_is_reported_at_its_cell() -> None:
    result = read_xlsform(swedish_form(survey=with_rows(["geopoint", "plats", "Var är du?", "Where are you?"])))
    problem = only(result)
    assert (problem.sheet, problem.cell, problem.column) == ("survey", "A14", "Type")
    assert problem.reason == "Unknown question type geopoint."
    assert str(problem) == "survey!A14 (Type): Unknown question type geopoint."


def test_note_and_date_are_reported_as_not_supported() -> None:
    result = read_xlsform(
        swedish_form(survey=with_rows(["note", "tack", "Tack!", "Thanks!"], ["date", "datum", "När?", "When?"]))
    )
    assert [(p.cell, p.reason) for p in result.problems] == [
        ("A14", "Notes (text without an answer) are not supported yet."),
        ("A15", "Date questions are not supported yet."),
    ]


@pytest.mark.parametrize(
    ("relevant", "reason"),
    [
        ("${cyklar} >> 'ja'", "cannot be read at “>> 'ja'”"),
        ("${cyklar} = 'ja' and", "ends too early"),
        ("(${cyklar} = 'ja' or ${kommun} = '2281'", "ends too early"),
        ("${cyklar} = 'ja') or ${kommun} = '2281'", "cannot be read at “) or ${kommun} = '2281'”"),
        ("${cyklar} = 'ja' or count(${hinder}) > 1", "cannot be read at “count(${hinder}) > 1”"),
        ("not ${cyklar} = 'ja'", "cannot be read at “${cyklar} = 'ja'”"),
        ("${cyklar} = 'ja' and and ${kommun} = '2281'", "cannot be read at “and ${kommun} = '2281'”"),
        ("${cyklar} = 'ja' or " + "(" * 21 + "${kommun} = '2281'" + ")" * 21, "nests more than 20 levels deep"),
        ("${cyklar} = 'ja' and (${okand} = 'x' or ${kommun} = '2281')", "okand, which is not a question in this form"),
        ("${okand} = 'ja'", "okand, which is not a question in this form"),
        ("${cyklar} = 'kanske'", "cyklar has no choice named kanske"),
        ("${senare} = 'ja'", "senare, which is not an earlier question we could import"),
        ("${hinder} = 'morker'", "Use selected(${hinder}, 'morker')"),
        ("${alder} = '20'", "Conditions can only test choice questions"),
    ],
)
def test_bad_relevant_expression(relevant: str, reason: str) -> None:
    row = ["text", "extra", "Extra", "Extra", "", "", "", relevant]
    later = ["select_one ja_nej", "senare", "Senare?", "Later?"]
    result = read_xlsform(swedish_form(survey=with_rows(row, later)))
    problem = only(result)
    assert (problem.cell, problem.column) == ("H14", "relevant")
    assert reason in problem.reason


def test_duplicate_names() -> None:
    result = read_xlsform(swedish_form(survey=with_rows(["text", "alder", "Igen", "Again"])))
    problem = only(result)
    assert (problem.cell, problem.column) == ("B14", "name")
    assert problem.reason == "Name alder is used by an earlier question."


def test_duplicate_choice_names() -> None:
    result = read_xlsform(swedish_form(choices=[*SWEDISH_CHOICES, ["ja_nej", "ja", "Ja igen", "Yes again"]]))
    problem = only(result)
    assert (problem.sheet, problem.cell) == ("choices", "B11")
    assert problem.reason == "Choice name ja appears twice in list ja_nej."


def test_choice_list_missing() -> None:
    result = read_xlsform(swedish_form(survey=with_rows(["select_one farg", "farg", "Färg?", "Colour?"])))
    problem = only(result)
    assert problem.cell == "A14"
    assert problem.reason == "Choice list farg is not on the choices sheet."


def test_group_structure_problems() -> None:
    survey = [
        ["type", "name", "label"],
        ["begin_group", "yttre", "Yttre"],
        ["begin_group", "inre", "Inre"],
        ["select_one ja_nej or_other", "q1", "Q1?"],
        ["text", "q2", "Q2?"],
        ["end_group"],
        ["", "", "En rad utan typ"],
        ["end_group"],
        ["end_group"],
        ["begin_group", "sist", "Sist"],
        ["text", "q3", "Q3?"],
    ]
    result = read_xlsform(workbook_bytes({"survey": survey, "choices": SWEDISH_CHOICES, "settings": SWEDISH_SETTINGS}))
    assert [(p.cell, p.reason) for p in result.problems] == [
        ("A3", "Groups inside groups are not supported; this group's questions join the outer page."),
        ("A4", "select_one ja_nej or_other is not supported (only the list name may follow the type)."),
        ("A7", "This row has no type, so nothing in it is imported."),
        ("A9", "end_group without a begin_group."),
        ("A10", "This group is never closed with end_group."),
    ]
    assert result.spec is not None
    assert [[q.code for q in page.questions] for page in result.spec.pages] == [["q2"], ["q3"]]


def test_values_outside_the_subset_are_reported_cell_by_cell() -> None:
    survey = [
        ["type", "name", "label::Svenska (sv)", "label::Français (fr)", "required", "choice_filter", "media::image"],
        ["text", "a", "A?", "A ?", "${b} = 1", "", ""],
        ["text", "b", "B?", "", "", "x = 1", "b.png"],
    ]
    result = read_xlsform(workbook_bytes({"survey": survey, "settings": SWEDISH_SETTINGS}))
    assert [(p.cell, p.column) for p in result.problems] == [
        ("D2", "label::Français (fr)"),
        ("E2", "required"),
        ("F3", "choice_filter"),
        ("G3", "media::image"),
    ]
    assert "Texts in Français (fr) are not imported" in result.problems[0].reason
    assert result.problems[2].reason == "Column choice_filter is not supported; this value is not imported."


def test_constraints_outside_the_subset() -> None:
    result = read_xlsform(
        swedish_form(
            survey=with_rows(
                ["decimal", "vikt", "Vikt?", "Weight?", "", "", "", "", ". > 0.5"],
                ["text", "postnr", "Postnummer?", "Postcode?", "", "", "", "", "regex(., '^[0-9]{5}$')"],
            )
        )
    )
    assert [(p.cell, p.reason) for p in result.problems] == [
        ("I14", ". > 0.5: use >= or <= (a strict bound cannot be kept for decimals)."),
        ("I15", "Constraint regex(., '^[0-9]{5}$') is not supported for this type."),
    ]


def range_row(parameters: str) -> list[Any]:
    return ["range", "betyg", "Betyg?", "Rating?", "", "", "", "", "", "", "", "", parameters]


def test_range_parameters() -> None:
    spec = read_ok(swedish_form(survey=with_rows(range_row("start = 0 ; end = 10"))))
    assert (spec.by_code["betyg"].min_value, spec.by_code["betyg"].max_value) == (0, 10)
    # No parameters means 1 to 10 in XLSForm.
    spec = read_ok(swedish_form(survey=with_rows(range_row(""))))
    assert (spec.by_code["betyg"].min_value, spec.by_code["betyg"].max_value) == (1, 10)
    problem = only(read_xlsform(swedish_form(survey=with_rows(range_row("start=1 end=5 step=2")))))
    assert (problem.cell, problem.reason) == (
        "M14",
        "Only start=A end=B with A below B and step=1 is supported (got start=1 end=5 step=2).",
    )


def test_problem_reasons_read_in_swedish() -> None:
    problem = only(read_xlsform(swedish_form(survey=with_rows(["select_one farg", "farg", "Färg?", "Colour?"]))))
    assert problem.message("sv") == "Svarslistan farg finns inte på bladet choices."
    assert problem.message("en") == problem.reason


# --- Command line ---------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    """A typer app with only our commands, on a fresh SQLite database."""
    from consult.config import get_settings
    from consult.db import get_engine
    from consult.surveys.xlsform_cli import register

    monkeypatch.setenv("CONSULT_DATABASE_URL", f"sqlite:///{tmp_path / 'consult.db'}")
    monkeypatch.setenv("CONSULT_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    get_engine.cache_clear()
    import consult.tables  # noqa: F401  (every table in the metadata)

    SQLModel.metadata.create_all(get_engine())
    app = typer.Typer()
    register(app)
    yield app
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def stored(slug: str) -> SurveySpec | None:
    from consult.db import session_scope
    from consult.surveys.service import load_spec

    with session_scope() as session:
        return load_spec(session, slug=slug)


def without_ids(spec: SurveySpec) -> dict[str, Any]:
    """The spec without database ids."""
    return spec.model_dump(exclude={"id": True, "pages": {"__all__": {"questions": {"__all__": {"id": True}}}}})


def test_cli_imports_and_exports(cli: typer.Typer, tmp_path: Path) -> None:
    form = tmp_path / "cykel.xlsx"
    form.write_bytes(swedish_form())
    runner = CliRunner()
    result = runner.invoke(cli, ["import-xlsform", str(form), "--slug", "Cykel 2025", "--status", "open"])
    assert result.exit_code == 0, result.output
    assert "Imported survey cykel-2025 (open): 3 pages, 8 questions." in result.stdout
    spec = stored("cykel-2025")
    assert spec is not None and spec.status == SurveyStatus.open
    assert spec.by_code["hinder"].condition is not None

    exported = tmp_path / "export.xlsx"
    result = runner.invoke(cli, ["export-xlsform", "cykel-2025", str(exported)])
    assert result.exit_code == 0, result.output
    again = read_ok(exported.read_bytes())
    assert without_ids(again) == without_ids(spec)


def test_cli_stores_nothing_when_the_form_has_problems(cli: typer.Typer, tmp_path: Path) -> None:
    form = tmp_path / "trasig.xlsx"
    form.write_bytes(swedish_form(survey=with_rows(["select_one farg", "farg", "Färg?", "Colour?"])))
    result = CliRunner().invoke(cli, ["import-xlsform", str(form)])
    assert result.exit_code == 1
    assert "survey!A14 (Type): Choice list farg is not on the choices sheet." in result.stderr
    assert stored("cykelvagar-sundsvall-2025") is None


def test_cli_refuses_an_address_in_use(cli: typer.Typer, tmp_path: Path) -> None:
    form = tmp_path / "cykel.xlsx"
    form.write_bytes(swedish_form())
    runner = CliRunner()
    assert runner.invoke(cli, ["import-xlsform", str(form)]).exit_code == 0
    result = runner.invoke(cli, ["import-xlsform", str(form)])
    assert result.exit_code == 1
    assert "exists already" in result.stderr


def test_cli_needs_a_strategy_version_for_priority_links(cli: typer.Typer, tmp_path: Path) -> None:
    form = tmp_path / "demo.xlsx"
    form.write_bytes(write_xlsform(survey_spec_from_fixture(read_fixture())))
    result = CliRunner().invoke(cli, ["import-xlsform", str(form)])
    assert result.exit_code == 1
    assert "give --strategy-version" in result.stderr
    assert stored("vasternorrland-2030") is None


def test_cli_export_of_unknown_survey(cli: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export-xlsform", "finns-inte", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1
    assert "No survey finns-inte." in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


# Problems found in an order of their own: the settings and choices are read before the survey, a
# group left open and a relevant naming no question are reported after the last row.
OUT_OF_ORDER: dict[str, Rows] = {
    "survey": [
        ["type", "name", "label::Svenska (sv)", "relevant"],
        ["begin_group", "om_dig", "Om dig"],
        ["select_one ja_nej", "cyklar", "Cyklar du?"],
        ["geopoint", "plats", "Var?"],
        ["text", "varfor", "Varför?", "${finns_inte} = 'ja'"],
    ],
    "choices": [
        ["list_name", "name", "label::Svenska (sv)"],
        ["ja_nej", "ja", "Ja"],
        ["ja_nej", "nej", ""],
    ],
    "settings": [["form_title", "form_id"], ["Cykling", "cykling"], ["Annan", "annan"]],
    "anteckningar": [["Att göra: fråga om vintercykling"]],
}


@pytest.mark.parametrize("tabs", [
    ("survey", "choices", "settings", "anteckningar"),
    ("settings", "anteckningar", "choices", "survey"),
])
def test_problems_are_listed_sheet_by_sheet_and_row_by_row(tabs: tuple[str, ...]) -> None:
    """The list reads like the workbook: sheets in the order of its tabs, rows from the top."""
    result = read_xlsform(workbook_bytes({title: OUT_OF_ORDER[title] for title in tabs}))
    places = {
        "survey": ["survey!A2", "survey!A4", "survey!D5"],  # the open group is reported at its first row
        "choices": ["choices!C3"],
        "settings": ["settings row 3"],
        "anteckningar": ["anteckningar"],
    }
    assert [p.where().split(" (")[0] for p in result.problems] == [place for tab in tabs for place in places[tab]]


def test_a_problem_with_the_whole_workbook_comes_before_those_of_its_sheets() -> None:
    choices = [["list_name", "name", "label::Svenska (sv)"], ["ja_nej", "ja", ""]]
    result = read_xlsform(workbook_bytes({"choices": choices}))
    assert [(p.sheet, p.cell, p.reason) for p in result.problems] == [
        ("", "", "The workbook has no survey sheet."),
        ("choices", "C2", "Choice ja has no label."),
    ]


def test_a_rows_problems_read_left_to_right() -> None:
    result = read_xlsform(workbook_bytes({
        "survey": [
            ["type", "name", "label::Svenska (sv)", "relevant", "choice_filter", "appearance"],
            ["text", "varfor", "Varför?", "${finns_inte} = 'ja'", "x", "minimal"],
        ],
    }))
    row = [p.cell for p in result.problems if p.row == 2]
    assert row == sorted(row) and len(row) == 3
