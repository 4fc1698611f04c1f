"""Personal data redaction: measured quality on the hand-written cases, and the rules one by one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.redact import (
    TYPES,
    Span,
    evaluate,
    find_personal_data,
    gold_spans,
    read_cases,
    redact,
    redact_series,
)

ROOT = Path(__file__).resolve().parents[1]
CASES_FILE = ROOT / "tests" / "data" / "redaction_cases.tsv"
CASES = read_cases(CASES_FILE)
MIN_PRECISION = MIN_RECALL = 0.95


# --- the test set --------------------------------------------------------------------------------


def test_test_set_is_large_and_mostly_about_what_must_stay() -> None:
    negatives = [case for case in CASES if case.text == case.expected]
    assert len(CASES) >= 150
    assert len(negatives) >= 0.4 * len(CASES)
    for case in CASES:
        gold_spans(case.text, case.expected)  # raises when an expected output does not fit its text


def test_every_type_has_enough_examples_to_measure() -> None:
    counts = {kind: 0 for kind in TYPES}
    for case in CASES:
        for span in gold_spans(case.text, case.expected):
            counts[span.type] += 1
    assert min(counts.values()) >= 10, counts


@pytest.mark.parametrize("subset", ["dev", "holdout", None])
def test_precision_and_recall_per_type(subset: str | None) -> None:
    cases = [case for case in CASES if subset is None or case.set == subset]
    scores, _, _ = evaluate(cases)
    for kind, score in scores.items():
        assert score.precision >= MIN_PRECISION, (kind, score)
        assert score.recall >= MIN_RECALL, (kind, score)


def test_answers_without_personal_data_come_back_unchanged() -> None:
    changed = [case.text for case in CASES if case.text == case.expected and redact(case.text) != case.text]
    assert changed == []


# --- personnummer ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["811218-9876", "8112189876", "19811218-9876", "198112189876", "811218 9876", "811218+9876"],
)
def test_personnummer_in_every_usual_form(number: str) -> None:
    assert redact(f"Mitt personnummer är {number}, tack.") == "Mitt personnummer är [personnummer], tack."


def test_samordningsnummer_has_sixty_added_to_the_day() -> None:
    assert redact("Samordningsnummer 810761-2346") == "Samordningsnummer [personnummer]"


@pytest.mark.parametrize("number", ["811218-9879", "8112189879", "19811218-9879", "1234567890"])
def test_ten_digit_numbers_failing_the_luhn_check_stay(number: str) -> None:
    text = f"Ärende {number} är fortfarande öppet."
    assert redact(text) == text


@pytest.mark.parametrize("number", ["19850101-1234", "850101-1234"])
def test_a_number_the_text_calls_a_personnummer_goes_even_with_a_wrong_check_digit(number: str) -> None:
    assert redact(f"Mitt personnummer är {number}.") == "Mitt personnummer är [personnummer]."
    assert redact(f"pnr {number}") == "pnr [personnummer]"


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("010229-5672", "29 February 1901/2001 does not exist"),
        ("810792-1234", "day 92 - 60 = 32"),
        ("232100-0210", "organisation numbers have a month above 20"),
    ],
)
def test_luhn_valid_numbers_without_a_real_date_stay(number: str, why: str) -> None:
    text = f"Numret {number} stod på blanketten."
    assert redact(text) == text, why


def test_leap_day_of_a_leap_year_is_a_date() -> None:
    assert redact("Född 000229-1235") == "Född [personnummer]"


# --- telephone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "+46 70 123 45 67",
        "+46701234567",
        "+46 (0)70-123 45 67",
        "+46 070-123 45 67",
        "0046 70 123 45 67",
        "0046-70-1234567",
        "+46 8 123 456 78",
        "+46 60 12 34 56",
    ],
)
def test_international_forms_of_swedish_numbers(number: str) -> None:
    assert redact(f"Ring {number} efter fem.") == "Ring [telefon] efter fem."


@pytest.mark.parametrize(
    "number",
    ["070-123 45 67", "0701234567", "073 987 65 43", "076-1234567", "08-123 456 78", "060-12 34 56",
     "0611-123 45", "031-123 45 67", "0660 - 12 34 56"],
)  # fmt: skip
def test_national_mobile_and_landline_forms(number: str) -> None:
    assert redact(f"Ring {number} efter fem.") == "Ring [telefon] efter fem."


def test_a_number_after_a_phone_number_is_left_outside_the_placeholder() -> None:
    assert redact("Ring 070-123 45 67 2 gånger") == "Ring [telefon] 2 gånger"


@pytest.mark.parametrize(
    "text",
    ["Ring 112 eller 1177.", "Mobilen 070-123 45 har för få siffror.", "Öppet 08-16 och kl 07.15.",
     "Datumet 01-03-2025 gäller."],
)  # fmt: skip
def test_short_numbers_times_and_dates_are_not_phone_numbers(text: str) -> None:
    assert redact(text) == text


# --- e-mail and address ---------------------------------------------------------------------------


def test_email_leaves_the_full_stop_of_the_sentence() -> None:
    assert redact("Skriv till per-erik.lund@telia.com.") == "Skriv till [e-post]."


def test_address_takes_the_letter_flat_and_postcode_along() -> None:
    assert redact("Skolhusvägen 4B, lgh 1102, 852 30 Sundsvall") == "[adress]"


@pytest.mark.parametrize(
    "text",
    [
        "Trafiken på Storgatan är farlig.",
        "Postnummer 852 30 Sundsvall.",
        "Det ligger längs Sundsvallsvägen 3 km från centrum.",
        "Ombyggnaden av Storgatan 2025 blev dyr.",
        "Riksväg 86 behöver breddas.",
    ],
)
def test_streets_without_a_house_number_postcodes_and_distances_stay(text: str) -> None:
    assert redact(text) == text


# --- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hej, jag heter Anna Svensson och bor i Matfors.", "Hej, jag heter [namn] och bor i Matfors."),
        ("jag heter kalle och är 17 år", "jag heter [namn] och är 17 år"),
        ("Mitt namn är Lars-Erik Nilsson.", "Mitt namn är [namn]."),
        ("My name is John Smith.", "My name is [namn]."),
        ("Mer bussar.\nHälsningar Karin", "Mer bussar.\nHälsningar [namn]"),
        ("Bättre bussar tack! /Per", "Bättre bussar tack! /[namn]"),
    ],
)
def test_names_that_the_text_introduces(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Vad jag heter spelar ingen roll.",
        "Hälsningar från Byalaget i Stöde",
        "Hälsningar, Region Västernorrland",
        "Mvh SPF Seniorerna",
        "Mittuniversitetet och SCA är viktiga arbetsgivare.",
        "Sundsvall behöver fler bostäder.",
        "Tåg/Buss borde samordnas, öppet 24/7.",
    ],
)
def test_organisations_places_and_capitalised_words_are_not_names(text: str) -> None:
    assert redact(text) == text


# --- what is not personal data --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Linje 20 och buss 120 borde gå oftare.", "Bus 120 is always late.", "Ta linje 1, 2 eller 541."],
)
def test_bus_lines_stay(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Målet för 2030 är att halvera utsläppen.",
        "Från 2025-03-01 ändras tidtabellen, den 1 mars.",
        "Det kostar 250 kr eller 1 500 kronor, 30 % mer än 2020.",
        "Lägg 2 000 000 kr på vägarna, 0,5 procent av budgeten.",
    ],
)
def test_years_dates_prices_and_percentages_stay(text: str) -> None:
    assert redact(text) == text


# --- the interface --------------------------------------------------------------------------------


def test_find_personal_data_returns_typed_offsets_in_text_order() -> None:
    text = "Ring 070-123 45 67 eller mejla a@b.se"
    assert find_personal_data(text) == [Span("telefon", 5, 18), Span("e-post", 31, 37)]


def test_an_email_that_contains_a_name_is_one_email() -> None:
    assert redact("jag heter anna.svensson@gmail.com") == "jag heter [e-post]"


def test_redact_series_keeps_index_missing_and_non_text_values() -> None:
    answers = pd.Series(
        ["Ring 070-123 45 67", None, "Inget", float("nan"), 42, "Ring 070-123 45 67"],
        index=list("abcdef"),
        dtype=object,
    )
    result = redact_series(answers)
    assert list(result.index) == list("abcdef")
    assert result["a"] == result["f"] == "Ring [telefon]"
    assert result["c"] == "Inget"
    assert result["b"] is None and pd.isna(result["d"]) and result["e"] == 42


def test_redact_series_keeps_the_string_dtype() -> None:
    answers = pd.Series(["Mvh Per", None, "Inget"], dtype="string")
    result = redact_series(answers)
    assert result.dtype == answers.dtype
    assert result.tolist()[0] == "Mvh [namn]" and pd.isna(result[1])


def test_command_line_writes_one_line_out_for_each_line_in() -> None:
    lines = "Ring 070-123 45 67\n\nInget\nMvh Per\n"
    result = subprocess.run(
        [sys.executable, "-m", "analysis.redact"], input=lines, capture_output=True, text=True, cwd=ROOT,
        check=True,
    )  # fmt: skip
    assert result.stdout == "Ring [telefon]\n\nInget\nMvh [namn]\n"


def test_command_line_evaluation_reports_every_type() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "analysis.redact", "--evaluate", str(CASES_FILE)],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    for kind in TYPES:
        assert kind in result.stdout


def test_bidirectional_controls_do_not_reach_what_is_shown() -> None:
    """An answer with U+202E showed the rest of itself reversed in quotes and reports; Arabic text
    displays right without such controls, and keeps its own letters."""
    assert redact("👍🏽 Bra! \u202eabc") == "👍🏽 Bra! abc"
    assert redact("\u2067مرحبا\u2069 ring 070-123 45 67") == "مرحبا ring [telefon]"
