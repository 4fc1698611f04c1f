"""Paper and bulk import: templates, reading CSV and XLSX, the preview with its reasons, cancel,
confirm, idempotent re-import, roles and CSRF."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from consult.accounts import service as accounts
from consult.accounts.models import AuditEvent, Role
from consult.imports import files, service
from consult.imports.models import ImportBatch
from consult.responses.models import Answer, AnswerSelection, Response
from tests.factories import every_type_survey, store
from tests.staff import create_staff, csrf_from
from tests.staff import logged_in as staff_login

PASSWORD = "ett-långt-lösenord-42"


def logged_in(app, email: str) -> TestClient:  # type: ignore[no-untyped-def]
    return staff_login(app, email, PASSWORD)


HEADER = files.template_columns(every_type_survey())  # the same questions in every test survey


@pytest.fixture(scope="module")
def staff(migrated) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff("import", PASSWORD)


@pytest.fixture()
def analyst(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff[Role.analyst])


@pytest.fixture()
def survey():  # type: ignore[no-untyped-def]
    return store(every_type_survey())


def csv_bytes(
    rows: list[dict[str, str]], *, sep: str = ";", bom: bool = True, header: list[str] | None = None
) -> bytes:
    header = header or HEADER
    lines = [sep.join(header)]
    for row in rows:
        lines.append(sep.join(_quote(row.get(column, ""), sep) for column in header))
    return (("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n").encode()


def _quote(value: str, sep: str) -> str:
    return f'"{value}"' if sep in value or '"' in value else value


def good_row(row_id: str, **changes: str) -> dict[str, str]:
    row = {
        "row_id": row_id,
        "kommun": "2",
        "val": "1",
        "flera": "1;3",
        "skala": "vet ej",
        "rang": "3;1",
        "antal": "12,5",
        "kort": "Mer kollektivtrafik",
    }
    return {**row, **changes}


def upload(client: TestClient, slug: str, content: bytes, filename: str = "svar.csv", token: str | None = None):  # type: ignore[no-untyped-def]
    page = client.get(f"/admin/surveys/{slug}/import")
    assert page.status_code == 200
    data = {"csrftoken": token if token is not None else csrf_from(page.text)}
    return client.post(f"/admin/surveys/{slug}/import", data=data, files={"file": (filename, content)})


def preview_of(client: TestClient, slug: str, content: bytes, filename: str = "svar.csv") -> tuple[str, str]:
    response = upload(client, slug, content, filename)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    page = client.get(location)
    assert page.status_code == 200
    return location, page.text


def confirm(client: TestClient, location: str, html: str):  # type: ignore[no-untyped-def]
    return client.post(location + "/confirm", data={"csrftoken": csrf_from(html)})


def responses_of(survey_id: int) -> list[Response]:
    from consult.db import session_scope

    with session_scope() as session:
        return list(session.execute(select(Response).where(Response.survey_id == survey_id)).scalars())


def count_responses(survey_id: int) -> int:
    return len(responses_of(survey_id))


def dd(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert match, f"no #{element_id} on the page"
    return match.group(1).strip()


def problem_rows(html: str) -> list[list[str]]:
    """The problems table as lists of cell texts: row, column, cell, value, reason."""
    table = html.split('aria-labelledby="problems-heading"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], flags=re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", r, re.S)] for r in rows]


# --- templates -------------------------------------------------------------------------------


def test_xlsx_template_has_a_column_per_question_and_the_codebook(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    response = analyst.get(f"/admin/surveys/{survey.slug}/import/template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["svar", "koder"]
    header = [c.value for c in workbook["svar"][1]]
    assert header[0] == "row_id"
    assert header[1:-3] == [q.code for q in survey.questions]
    assert header[-3:] == ["channel", "event_name", "submitted_at"]
    assert "semikolon" in workbook["svar"]["F1"].comment.text  # flera: how to write several codes
    codes = [[c.value for c in row] for row in workbook["koder"].iter_rows()]
    assert codes[0] == ["kolumn", "typ", "kod", "etikett (sv)", "etikett (en)", "så fyller du i"]
    assert ["kommun", None, 2, "Kramfors", "Kramfors", None] in codes
    assert ["skala", None, "vet ej", "Vet ej", "Don't know", None] in codes
    assert ["channel", None, "paper", "Pappersenkät", "Paper form", None] in codes


def test_csv_template_and_codebook(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    template = analyst.get(f"/admin/surveys/{survey.slug}/import/template.csv")
    assert template.status_code == 200 and template.headers["content-type"].startswith("text/csv")
    assert template.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    assert template.content.decode("utf-8-sig").strip().split(";") == HEADER
    codebook = analyst.get(f"/admin/surveys/{survey.slug}/import/codebook.csv?lang=en").content.decode("utf-8-sig")
    lines = codebook.splitlines()
    assert lines[0] == "column;type;code;label (sv);label (en);how to fill in"
    assert "flera;;3;C;C;" in lines
    assert any(line.startswith("flera;multiple_choice;") and "separated by semicolons" in line for line in lines)


def test_an_empty_template_reads_back_and_says_it_has_no_answers(survey) -> None:  # type: ignore[no-untyped-def]
    """The downloaded template, sent back unfilled (or a file of column names alone): not a preview
    of zeros, but what is missing."""
    for content in (files.template_xlsx(survey, "sv"), files.template_csv(survey)):
        with pytest.raises(files.ImportFileError) as refused:
            service.parse_upload(survey, content)
        assert refused.value.template.startswith("The file has column names but no answers")


# --- reading files ---------------------------------------------------------------------------


def test_csv_with_bom_semicolons_and_decimal_comma_is_imported(analyst, survey, staff) -> None:  # type: ignore[no-untyped-def]
    content = csv_bytes(
        [
            good_row("p-1"),
            good_row(
                "p-2",
                kommun="1",
                antal="0",
                flera="",
                event_name="Framtidsdagen",
                channel="event",
                submitted_at="2025-03-20 14:05",
            ),
        ]
    )
    location, html = preview_of(analyst, survey.slug, content)
    assert dd(html, "count-rows") == "2" and dd(html, "count-new") == "2" and dd(html, "count-rejected") == "0"
    assert "Inget har importerats ännu" in html
    assert count_responses(survey.id) == 0  # the preview stores nothing
    result = confirm(analyst, location, html)
    assert result.status_code == 303
    done = analyst.get(location).text
    assert dd(done, "count-created") == "2" and dd(done, "count-duplicate") == "0"
    stored = {r.client_uuid: r for r in responses_of(survey.id)}
    first = stored[service.client_uuid_for(survey.slug, "p-1")]
    second = stored[service.client_uuid_for(survey.slug, "p-2")]
    assert first.channel == "paper" and second.channel == "event" and second.event_name == "Framtidsdagen"
    analyst_id = _user_id(staff[Role.analyst])
    assert first.entered_by_id == analyst_id == second.entered_by_id
    moment = second.submitted_at if second.submitted_at.tzinfo else second.submitted_at.replace(tzinfo=UTC)
    assert moment == datetime(2025, 3, 20, 13, 5, tzinfo=UTC)  # Swedish time, stored in UTC
    answers = _answers(first.id)
    assert answers["antal"].number == 12.5
    assert answers["skala"].dont_know is True and answers["skala"].number is None
    assert answers["kort"].text == "Mer kollektivtrafik"
    assert _selections(first.id) == {"flera": [(1, 1), (3, 2)], "rang": [(3, 1), (1, 2)]}


def test_comma_separated_csv_without_bom(survey) -> None:  # type: ignore[no-untyped-def]
    content = csv_bytes([good_row("1", flera="1;2", antal="3.5", kort="Ja, gärna")], sep=",", bom=False)
    parsed = service.parse_upload(survey, content)
    assert not parsed.problems
    assert parsed.rows[0].values["flera"] == [1, 2] and parsed.rows[0].values["antal"] == 3.5
    assert parsed.rows[0].values["kort"] == "Ja, gärna"


def test_excel_sep_line_and_comma_between_codes(survey) -> None:  # type: ignore[no-untyped-def]
    content = b"sep=;\r\n" + csv_bytes([good_row("1", flera="1, 3")], bom=False)
    parsed = service.parse_upload(survey, content)
    assert not parsed.problems and parsed.rows[0].values["flera"] == [1, 3]


def xlsx_bytes(rows: list[list[object]], header: list[str] | None = None, sheet: str = "svar") -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(header or HEADER)
    for row in rows:
        worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_row(**cells: object) -> list[object]:
    return [cells.get(column) for column in HEADER]


def test_xlsx_with_numbers_and_dates_is_imported(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    content = xlsx_bytes(
        [
            xlsx_row(
                row_id=101,
                kommun=1,
                val=1,
                flera="2;3",
                skala=4,
                rang=2,
                antal=7.25,
                submitted_at=datetime(2025, 4, 2, 9, 30),
            ),
            xlsx_row(row_id=102.0, kommun=2.0, val=2, varfor_nej="Jobbet", kort=42),
            [],  # blank rows left behind in a spreadsheet are not rows
        ]
    )
    location, html = preview_of(analyst, survey.slug, content, "svar.xlsx")
    assert dd(html, "count-new") == "2" and dd(html, "count-rejected") == "0"
    assert confirm(analyst, location, html).status_code == 303
    stored = {r.client_uuid: r for r in responses_of(survey.id)}
    first = stored[service.client_uuid_for(survey.slug, "101")]
    second = stored[service.client_uuid_for(survey.slug, "102")]  # 102.0 in the cell is the id 102
    assert _answers(first.id)["skala"].number == 4 and _answers(first.id)["antal"].number == 7.25
    assert _answers(second.id)["kort"].text == "42" and _answers(second.id)["varfor_nej"].text == "Jobbet"
    assert _selections(first.id)["rang"] == [(2, 1)]


def test_file_that_is_not_utf8_or_not_a_spreadsheet_is_refused_with_advice(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    latin1 = "row_id;kommun;val\n1;1;1\nHärnösand".encode("latin-1")
    response = upload(analyst, survey.slug, latin1)
    assert response.status_code == 422
    assert "CSV UTF-8" in response.text and 'role="alert"' in response.text and 'href="#field-file"' in response.text
    assert upload(analyst, survey.slug, b"\xd0\xcf\x11\xe0" + b"\0" * 100, "gammal.xls").status_code == 422
    assert "xlsx" in upload(analyst, survey.slug, b"PK\x03\x04broken", "trasig.xlsx").text
    empty = analyst.post(
        f"/admin/surveys/{survey.slug}/import",
        data={"csrftoken": csrf_from(analyst.get(f"/admin/surveys/{survey.slug}/import").text)},
    )
    assert empty.status_code == 422 and "Välj en fil" in empty.text
    assert count_responses(survey.id) == 0


# --- the preview and its reasons -------------------------------------------------------------


def test_preview_lists_rejected_rows_with_row_column_and_reason(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    content = csv_bytes(
        [
            good_row("1"),
            good_row("2", kommun="9"),  # unknown code
            good_row("3", antal="tolv"),  # wrong type
            good_row("4", val="", channel="interview_phone"),  # a required question without an answer
            good_row("5", val="2", channel="interview_phone"),  # its follow-up question is then required
            good_row("6", skala="7", flera="1;4"),
            good_row("1", kommun="1"),  # the id of row 2 again
            good_row("9", val=""),  # on paper a blank stays blank: imported
        ]
    )
    location, html = preview_of(analyst, survey.slug, content)
    rows = problem_rows(html)
    assert not any(r[0] == "10" for r in rows)
    assert ["3", "kommun", "B3", "9", "9 är inte en svarskod för den här frågan (se kodlistan)."] in rows
    assert ["4", "antal", "I4", "tolv", "Inte ett tal. Skriv till exempel 12 eller 12,5."] in rows
    assert ["5", "val", "E5", "", "Frågan är obligatorisk, men cellen är tom."] in rows
    assert ["6", "varfor_nej", "L6", "", "Frågan är obligatorisk, men cellen är tom."] in rows
    assert any(r[:3] == ["7", "skala", "G7"] and "1 till 5" in r[4] for r in rows)
    assert any(r[:4] == ["7", "flera", "F7", "1;4"] and r[4].startswith("4 är inte") for r in rows)
    duplicates = [r for r in rows if r[1] == "row_id"]
    assert [r[0] for r in duplicates] == ["2", "8"] and "2, 8" in duplicates[0][4]
    assert dd(html, "count-new") == "1" and dd(html, "count-rejected") == "7"  # the paper row with a blank
    assert 'role="alert"' in html and 'href="#problems-heading"' in html
    english = analyst.get(location + "?lang=en").text
    assert ["3", "kommun", "B3", "9", "9 is not a choice code of this question (see the codebook)."] in problem_rows(
        english
    )
    analyst.get("/?lang=sv")


def test_unknown_or_missing_columns_block_the_whole_file(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    header = [c for c in HEADER if c != "val"] + ["Kommun2", "Antal"]
    content = csv_bytes([{"row_id": "1", "kommun": "1", "Kommun2": "1"}], header=header)
    location, html = preview_of(analyst, survey.slug, content)
    rows = problem_rows(html)
    assert any(r[:2] == ["1", "Kommun2"] and "Enkäten har ingen fråga med den här koden" in r[4] for r in rows)
    assert any(r[:2] == ["1", "Antal"] and "antal" in r[4] for r in rows)  # a suggestion, not a guess
    assert any(r[:2] == ["1", "val"] and "Kolumnen saknas" in r[4] for r in rows)
    assert "Filens kolumner måste rättas" in html and "/confirm" not in html
    assert confirm(analyst, location, html).status_code == 409
    assert count_responses(survey.id) == 0


def test_problems_found_by_the_service(survey) -> None:  # type: ignore[no-untyped-def]
    content = csv_bytes(
        [
            good_row("1", channel="fax"),
            good_row("2", submitted_at="20/3 2025"),
            good_row("3", val="1", varfor_nej="Ska inte besvaras"),  # a hidden question: warned, not imported
            good_row("4", skala="DK", kort="Ring 070-123 45 67"),
            good_row("5", submitted_at="2099-01-01"),  # typos that would stretch every chart over time
            good_row("6", submitted_at="1900-01-01 10:00"),
            good_row("8", submitted_at="0001-01-01"),  # the calendar's first day: no UTC time before it
        ]
    )
    parsed = service.parse_upload(survey, content + b"7;1;;;1;;;;;;;;;;;extra\r\n")
    kinds = {(p.row, p.column, p.kind) for p in parsed.problems}
    assert {(2, "channel", "unknown_channel"), (3, "submitted_at", "bad_date"), (9, "", "too_many_cells")} <= kinds
    assert {(6, "submitted_at", "date_in_future"), (7, "submitted_at", "date_too_early")} <= kinds
    assert (8, "submitted_at", "bad_date") in kinds
    assert [(w.row, w.column, w.kind) for w in parsed.warnings] == [(4, "varfor_nej", "hidden_answer_dropped")]
    imported = {r.row_id: r for r in parsed.rows}
    assert set(imported) == {"3", "4"} and "varfor_nej" not in imported["3"].values
    assert imported["4"].values["skala"] is None


def test_a_bad_answer_to_a_hidden_question_is_dropped_not_refused(survey) -> None:  # type: ignore[no-untyped-def]
    too_long = "x" * 600  # varfor_nej takes 500 characters and is asked only when val is 2 (Nej)
    content = csv_bytes([good_row("1", val="1", varfor_nej=too_long), good_row("2", val="2", varfor_nej=too_long)])
    parsed = service.parse_upload(survey, content)
    assert [r.row_id for r in parsed.rows] == ["1"] and "varfor_nej" not in parsed.rows[0].values
    assert [(w.row, w.column, w.kind) for w in parsed.warnings] == [(2, "varfor_nej", "hidden_answer_dropped")]
    assert [(p.row, p.column, p.kind) for p in parsed.problems] == [(3, "varfor_nej", "too_long")]


def test_event_rows_without_the_event_name_are_rejected_as_elsewhere(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    """The interviewer form and its API ask for the event's name; the import asks the same."""
    content = csv_bytes(
        [
            good_row("1", channel="event", event_name="Framtidsdagen"),
            good_row("2", channel="event"),
            good_row("3", channel="event", event_name="  "),
            good_row("4", channel="kiosk"),
        ]
    )
    location, html = preview_of(analyst, survey.slug, content)
    rows = problem_rows(html)
    for number in ("3", "4", "5"):
        assert [number, "event_name", f"N{number}", "", "Ange evenemangets namn."] in rows
    assert dd(html, "count-new") == "1" and dd(html, "count-rejected") == "3"
    english = problem_rows(analyst.get(location + "?lang=en").text)
    assert ["3", "event_name", "N3", "", "Enter the name of the event."] in english
    analyst.get("/?lang=sv")
    confirm(analyst, location, html)
    stored = responses_of(survey.id)
    expected = [(service.client_uuid_for(survey.slug, "1"), "Framtidsdagen")]
    assert [(r.client_uuid, r.event_name) for r in stored] == expected


def test_rows_without_answers_are_rejected_but_a_partly_blank_paper_form_is_not(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    blank = {column: "" for column in HEADER}
    content = csv_bytes(
        [
            good_row("1"),
            {**blank, "row_id": "2"},
            {**blank, "row_id": "3", "channel": "paper", "submitted_at": "2025-03-20"},
            {**blank, "row_id": "4", "varfor_nej": "Bara en dold fråga"},  # its condition is not met
            {**blank, "row_id": "5", "kort": "Bara en kommentar"},  # on paper, the rest left blank
        ]
    )
    location, html = preview_of(analyst, survey.slug, content)
    rows = problem_rows(html)
    assert [[r[0], r[1], r[4]] for r in rows] == [[n, "", "Raden har inga svar."] for n in ("3", "4", "5")]
    assert dd(html, "count-new") == "2" and dd(html, "count-rejected") == "3"
    assert "The row has no answers." in analyst.get(location + "?lang=en").text
    analyst.get("/?lang=sv")
    confirm(analyst, location, html)
    stored = {r.client_uuid for r in responses_of(survey.id)}
    assert stored == {service.client_uuid_for(survey.slug, n) for n in ("1", "5")}


def test_free_text_is_redacted_on_the_preview_and_never_echoed_in_problems(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    content = csv_bytes([good_row("1", kort="Ring mig på 070-123 45 67"), good_row("2", kort="x" * 600)])
    _location, html = preview_of(analyst, survey.slug, content)
    assert "070-123 45 67" not in html and "[telefon]" in html
    assert "x" * 100 not in html
    assert any(r[:2] == ["3", "kort"] and r[3] == "" for r in problem_rows(html))


# --- cancel, confirm, twice ------------------------------------------------------------------


def test_cancel_imports_nothing(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    location, html = preview_of(analyst, survey.slug, csv_bytes([good_row("1"), good_row("2")]))
    cancel_token = csrf_from(html.split("/cancel", 1)[1])
    response = analyst.post(location + "/cancel", data={"csrftoken": cancel_token})
    assert response.status_code == 303 and response.headers["location"].endswith("/import?cancelled=1")
    assert "Importen avbröts. Inget importerades." in analyst.get(response.headers["location"]).text
    assert count_responses(survey.id) == 0
    assert analyst.get(location).status_code == 404  # the upload is forgotten
    assert confirm(analyst, location, html).status_code == 404


def test_importing_the_same_file_twice_creates_no_duplicates(analyst, survey, staff) -> None:  # type: ignore[no-untyped-def]
    content = csv_bytes([good_row(str(n), kommun=str(n % 2 + 1)) for n in range(1, 6)])
    location, html = preview_of(analyst, survey.slug, content)
    confirm(analyst, location, html)
    assert count_responses(survey.id) == 5
    assert analyst.get(location).status_code == 200  # a second click on confirm only shows the result
    assert confirm(analyst, location, html).status_code == 303 and count_responses(survey.id) == 5

    changed = csv_bytes(
        [good_row(str(n), kommun=str(n % 2 + 1)) for n in range(1, 5)] + [good_row("5", kommun="1"), good_row("6")]
    )
    again, html = preview_of(analyst, survey.slug, changed)
    assert (dd(html, "count-new"), dd(html, "count-already"), dd(html, "count-conflict")) == ("1", "4", "1")
    confirm(analyst, again, html)
    done = analyst.get(again).text
    assert (dd(done, "count-created"), dd(done, "count-duplicate"), dd(done, "count-conflicting")) == ("1", "4", "1")
    assert count_responses(survey.id) == 6
    row_5 = next(r for r in responses_of(survey.id) if r.client_uuid == service.client_uuid_for(survey.slug, "5"))
    assert _answers(row_5.id)["kommun"].choice == 2  # the conflicting row left as it was
    events = _audit("import", staff[Role.analyst])
    assert events[0].target == f"survey:{survey.slug}"
    assert {k: events[0].details[k] for k in ("created", "duplicate", "conflicting")} == {
        "created": 1,
        "duplicate": 4,
        "conflicting": 1,
    }


def button_texts(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", b).strip() for b in re.findall(r"<button[^>]*>(.*?)</button>", html, re.S)]


def test_the_preview_offers_to_import_only_the_new_rows(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    first = csv_bytes([good_row("1"), good_row("2")])
    location, html = preview_of(analyst, survey.slug, first)
    assert "Importera de 2 nya raderna" in button_texts(html) and 'id="skipped-note"' not in html
    waiting, _waiting_html = preview_of(analyst, survey.slug, first)  # the same file, left in another tab
    confirm(analyst, location, html)

    again, html = preview_of(analyst, survey.slug, first)
    assert "/confirm" not in html and not any(b.startswith("Importera") for b in button_texts(html))
    assert "Det finns inget nytt att importera: alla giltiga rader i filen har importerats tidigare." in html
    assert dd(html, "count-new") == "0" and dd(html, "count-already") == "2"
    assert "Avbryt importen" in button_texts(html)
    # A preview made before the other import is counted again when it is shown.
    assert "/confirm" not in analyst.get(waiting).text and "Det finns inget nytt" in analyst.get(waiting).text

    partly = csv_bytes([good_row("1"), good_row("2", kommun="1"), good_row("3")])
    partly_location, html = preview_of(analyst, survey.slug, partly)
    assert "Importera den 1 nya raden" in button_texts(html)
    assert "2 rader i filen har importerats tidigare och hoppas över." in html
    sample = html.split('aria-labelledby="sample-heading"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<tr>\s*<td>(\d+)</td>", sample) == ["4"]  # only the row that will be stored
    english = button_texts(analyst.get(partly_location + "?lang=en").text)
    assert "Import the 1 new row" in english
    analyst.get("/?lang=sv")
    confirm(analyst, partly_location, html)
    assert count_responses(survey.id) == 3


def test_the_same_row_id_in_another_survey_is_another_response(survey) -> None:  # type: ignore[no-untyped-def]
    other = every_type_survey()
    assert service.client_uuid_for(survey.slug, "1") != service.client_uuid_for(other.slug, "1")
    assert service.client_uuid_for(survey.slug, "1") == service.client_uuid_for(survey.slug, "1")


def test_a_batch_belongs_to_its_uploader_and_expires(app, analyst, staff, survey) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    location, html = preview_of(analyst, survey.slug, csv_bytes([good_row("1")]))
    admin = logged_in(app, staff[Role.admin])
    assert admin.get(location).status_code == 404
    assert confirm(admin, location, admin.get(f"/admin/surveys/{survey.slug}/import").text).status_code == 404
    token = location.rsplit("/", 1)[1]
    with session_scope() as session:
        batch = session.execute(select(ImportBatch).where(ImportBatch.token == token)).scalars().one()
        assert len(token) == 26  # 128 random bits in base32
        batch.expires_at = datetime(2020, 1, 1, tzinfo=UTC)
        session.add(batch)
    assert analyst.get(location).status_code == 404
    with session_scope() as session:
        assert service.purge_expired(session) >= 1
    assert count_responses(survey.id) == 0


# --- who may, and CSRF -----------------------------------------------------------------------


def test_interviewer_gets_403_and_anonymous_goes_to_login(app, staff, survey) -> None:  # type: ignore[no-untyped-def]
    interviewer = logged_in(app, staff[Role.interviewer])
    for path in (
        "/admin/import",
        f"/admin/surveys/{survey.slug}/import",
        f"/admin/surveys/{survey.slug}/import/template.csv",
    ):
        assert interviewer.get(path).status_code == 403
    token = csrf_from(interviewer.get("/personal").text)
    posted = interviewer.post(
        f"/admin/surveys/{survey.slug}/import",
        data={"csrftoken": token},
        files={"file": ("a.csv", csv_bytes([good_row("1")]))},
    )
    assert posted.status_code == 403
    anonymous = TestClient(app, base_url="http://testserver", follow_redirects=False)
    response = anonymous.get(f"/admin/surveys/{survey.slug}/import")
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == [f"/admin/surveys/{survey.slug}/import"]
    assert count_responses(survey.id) == 0


def test_menu_shows_import_to_analysts_only(app, staff) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/admin/import"' in logged_in(app, staff[Role.analyst]).get("/personal").text
    assert 'href="/admin/import"' not in logged_in(app, staff[Role.interviewer]).get("/personal").text


def test_upload_without_csrf_token_is_refused(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    response = upload(analyst, survey.slug, csv_bytes([good_row("1")]), token="")
    assert response.status_code == 403
    forged = analyst.post(f"/admin/surveys/{survey.slug}/import", files={"file": ("a.csv", csv_bytes([good_row("1")]))})
    assert forged.status_code == 403
    from consult.db import session_scope

    with session_scope() as session:
        assert (
            session.execute(
                select(func.count()).select_from(ImportBatch).where(ImportBatch.survey_id == survey.id)
            ).scalar()
            == 0
        )


def test_upload_form_puts_the_token_before_the_file(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    html = analyst.get(f"/admin/surveys/{survey.slug}/import").text
    form = html.split('enctype="multipart/form-data"', 1)[1]
    assert form.index('name="csrftoken"') < form.index('type="file"')


def test_unknown_survey_is_404(analyst) -> None:  # type: ignore[no-untyped-def]
    assert analyst.get("/admin/surveys/finns-inte/import").status_code == 404
    assert analyst.get("/admin/surveys/finns-inte/import/template.xlsx").status_code == 404


# --- helpers reading the database ------------------------------------------------------------


def _user_id(email: str) -> int:
    from consult.db import session_scope

    with session_scope() as session:
        user = accounts.get_user_by_email(session, email)
        assert user is not None and user.id is not None
        return user.id


def _answers(response_id: int) -> dict[str, Answer]:
    from consult.db import session_scope
    from consult.surveys.models import Question

    with session_scope() as session:
        rows = session.execute(
            select(Question.code, Answer)
            .join(Answer, Answer.question_id == Question.id)
            .where(Answer.response_id == response_id)
        ).all()
        return {code: answer for code, answer in rows}


def _selections(response_id: int) -> dict[str, list[tuple[int, int]]]:
    from consult.db import session_scope
    from consult.surveys.models import Question

    with session_scope() as session:
        rows = session.execute(
            select(Question.code, AnswerSelection.choice, AnswerSelection.rank)
            .join(AnswerSelection, AnswerSelection.question_id == Question.id)
            .where(AnswerSelection.response_id == response_id)
            .order_by(Question.code, AnswerSelection.rank)
        ).all()
    found: dict[str, list[tuple[int, int]]] = {}
    for code, choice, rank in rows:
        found.setdefault(code, []).append((choice, rank))
    return found


def _audit(action: str, email: str) -> list[AuditEvent]:
    from consult.db import session_scope

    with session_scope() as session:
        return accounts.list_audit(session, action=action, user_id=_user_id(email))


def _only_codes_sheet() -> bytes:
    workbook = Workbook()
    workbook.active.title = "koder"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


ODD_FILES = {
    "nul bytes": b"\x00\x01\x02garbage",
    "utf-16": "row_id;kommun\r\n1;1\r\n".encode("utf-16"),
    "mixed separators": b"row_id,kommun;val\r\n1,1;1\r\n",
    "huge field": b"row_id;kommun\r\n1;" + b"9" * 200_000 + b"\r\n",
    "unclosed quote": b'row_id;kommun;val;varfor_nej\r\n"1;1;1\r\n',
    "too many columns": (";".join(f"c{n}" for n in range(600)) + "\r\n").encode(),
    "only the codebook sheet": _only_codes_sheet(),
    "blank first row": b"\r\n;;;\r\n",
}


@pytest.mark.parametrize("name", list(ODD_FILES))
def test_odd_files_get_a_message_not_a_500(analyst, survey, name: str) -> None:  # type: ignore[no-untyped-def]
    response = upload(analyst, survey.slug, ODD_FILES[name])
    assert response.status_code in (303, 422), response.text[:300]
    if response.status_code == 422:
        assert 'class="error-message"' in response.text
    else:
        assert analyst.get(response.headers["location"]).status_code == 200
    assert count_responses(survey.id) == 0


@pytest.mark.parametrize("cell", ["9" * 5000, "1;" * 3000, "1" * 70 + ",5", "1e309", "  ", "nan", "-0"])
def test_odd_cells_are_reported_not_crashed_on(survey, cell: str) -> None:  # type: ignore[no-untyped-def]
    for column in ("kommun", "flera", "skala", "antal", "rang"):
        parsed = service.parse_upload(survey, csv_bytes([good_row("1", **{column: cell})]))
        assert parsed.rows or parsed.problems


# --- identified surveys ----------------------------------------------------------------------------


def test_an_identified_survey_imports_who_answered_from_respondent_columns(analyst) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.responses.models import ResponseIdentity

    identified = store(every_type_survey(identity_mode="identified"))
    template = analyst.get(f"/admin/surveys/{identified.slug}/import/template.csv").content.decode("utf-8-sig")
    header = template.splitlines()[0].split(";")
    assert header[:4] == ["row_id", "respondent_name", "respondent_email", "respondent_organisation"]
    assert "respondent_name" not in analyst.get(f"/admin/surveys/{store(every_type_survey()).slug}"
                                                "/import/template.csv").text
    rows = [good_row("1", respondent_name="Eva Holm", respondent_organisation="Byalaget"),
            good_row("2", respondent_email="eva@"), good_row("3")]
    parsed = service.parse_upload(identified, csv_bytes(rows, header=header))
    assert {(p.row, p.column, p.kind) for p in parsed.problems} == {
        (3, "respondent_name", "respondent_required"), (3, "respondent_email", "respondent_invalid"),
        (4, "respondent_name", "respondent_required")}
    location, html = preview_of(analyst, identified.slug, csv_bytes(rows, header=header))
    assert "skriv den svarandes namn" in html and "Inte en e-postadress." in html
    assert confirm(analyst, location, html).status_code == 303
    stored = responses_of(identified.id)
    assert len(stored) == 1
    with session_scope() as session:
        identity = session.get(ResponseIdentity, stored[0].id)
        assert identity is not None and (identity.name, identity.organisation) == ("Eva Holm", "Byalaget")
