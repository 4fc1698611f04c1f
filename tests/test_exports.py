"""Exports (issue 6, section 7): long CSV, XLSX, SPSS .sav and JSON; redaction of free text, raw
text for admins only, an audit event for every export, and the background job with its progress."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.test_workspace import (
    PERSONNUMMER,
    RESPONSES,
    SmallSurvey,
    create_small_survey,
    create_staff,
    csrf_from,
    logged_in_client,
)


@pytest.fixture(scope="module")
def small(migrated: str) -> SmallSurvey:
    return create_small_survey()


@pytest.fixture(scope="module")
def staff(small) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff()


@pytest.fixture(scope="module")
def analyst(app, staff, demo) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in_client(app, staff["analyst"])


@pytest.fixture(scope="module")
def admin(app, staff, demo) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in_client(app, staff["admin"])


def export_events(email: str) -> list:  # type: ignore[type-arg]
    from consult.accounts import service
    from consult.db import session_scope

    with session_scope() as session:
        user = service.get_user_by_email(session, email)
        return service.list_audit(session, action="export", user_id=user.id if user else None)


def expected_csv_rows() -> int:
    """A row per answered question, but a row per chosen option for multiple choice and ranking."""
    total = 0
    for response in RESPONSES:
        for code, value in response.items():
            if code.startswith("_"):
                continue
            total += len(value) if isinstance(value, list) else 1
    return total


def test_long_csv_has_a_row_per_answer_and_redacts_free_text(small: SmallSurvey, analyst: TestClient, staff) -> None:  # type: ignore[no-untyped-def]
    before = len(export_events(staff["analyst"]))
    answer = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/export.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert "-filtrerad" not in answer.headers["content-disposition"]
    filtered = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/export.csv?kanal=web")
    assert f'filename="{small.spec.slug}-filtrerad-' in filtered.headers["content-disposition"]  # never taken for all
    weighted = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/export.csv?viktat=1")
    assert "-viktad-" in weighted.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == expected_csv_rows()
    ids = [int(r["response_id"]) for r in rows]
    assert ids == sorted(ids)  # each response's rows together, its chosen options among its answers
    flera = [r for r in rows if r["question"] == "flera"]
    assert sorted(r["choice_label"] for r in flera) == ["A", "A", "A", "B", "B", "C", "C"]
    assert {r["number"] for r in rows if r["question"] == "skala" and r["dont_know"] == "1"} == {""}
    assert PERSONNUMMER not in answer.text and "[personnummer]" in answer.text
    events = export_events(staff["analyst"])
    assert len(events) == before + 3 and events[1].details["format"] == "csv" and events[1].details["raw"] is False


def test_csv_follows_the_filter(small: SmallSurvey, analyst: TestClient) -> None:
    answer = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/export.csv?kanal=paper")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["response_id"] for r in rows} == {str(small.response_ids[5])}


def test_raw_text_is_for_admins_only_and_logged(
    small: SmallSurvey, analyst: TestClient, admin: TestClient, staff
) -> None:  # type: ignore[no-untyped-def]
    assert analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/export.csv?ratext=1").status_code == 403
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/export")
    refused = analyst.post(
        f"/arbetsyta/enkater/{small.spec.slug}/export",
        data={"csrftoken": csrf_from(page.text), "format": "json", "ratext": "1"},
    )
    assert refused.status_code == 403
    raw = admin.get(f"/arbetsyta/enkater/{small.spec.slug}/export.csv?ratext=1")
    assert raw.status_code == 200 and PERSONNUMMER in raw.text
    assert export_events(staff["admin"])[0].details["raw"] is True


def run_export(client: TestClient, spec_slug: str, export_format: str, **extra: str) -> bytes:
    page = client.get(f"/arbetsyta/enkater/{spec_slug}/export")
    started = client.post(
        f"/arbetsyta/enkater/{spec_slug}/export",
        data={"csrftoken": csrf_from(page.text), "format": export_format, **extra},
    )
    assert started.status_code == 303, started.text[:300]
    job_url = started.headers["location"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = client.get(job_url, headers={"HX-Request": "true"})
        assert state.status_code == 200
        if 'id="download"' in state.text:
            assert "every 1s" not in state.text  # polling stops when the file is ready
            break
        assert "export failed" not in state.text and "misslyckades" not in state.text, state.text
        assert 'hx-trigger="every 1s"' in state.text
        time.sleep(0.2)
    else:
        pytest.fail("the export did not finish")
    download = client.get(job_url + "/fil")
    assert download.status_code == 200
    return download.content


def test_xlsx_has_a_codebook_and_a_sheet_per_question(small: SmallSurvey, analyst: TestClient, staff) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    content = run_export(analyst, small.spec.slug, "xlsx")
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    codes = [q.code for q in small.spec.questions]
    assert workbook.sheetnames[0] == "Kodbok"
    assert workbook.sheetnames[1:] == codes
    codebook = list(workbook[workbook.sheetnames[0]].iter_rows(values_only=True))
    if workbook.sheetnames[0] == "Kodbok":  # every heading in the reader's language
        assert codebook[0] == ("Variabel", "Etikett", "Fråga", "Typ", "Värden", "Saknade värden")
        headings = [tuple(r[:4]) for r in workbook["val"].iter_rows(values_only=True)]
        assert ("Kod", "Alternativ", "Antal", "Andel av de svarande") in headings
        skala = [tuple(r[:4]) for r in workbook["skala"].iter_rows(values_only=True)]
        assert ("Kod", "Alternativ", "Antal", "Andel av dem med en åsikt") in skala  # "vet ej" left out
        assert any(row[0] == "Medelvärde" for row in skala)
        assert ("Svarsnummer", "Svar") in [tuple(r[:2]) for r in workbook["fritt"].iter_rows(values_only=True)]
    variables = {row[0] for row in codebook}
    assert {"response_id", "val", "flera_1", "flera_2", "flera_3", "rang_1", "skala", "fritt"} <= variables
    assert ("val", "Ja eller nej?", "val", "code", "1 = Ja; 2 = Nej") in [row[:5] for row in codebook]
    flera = [tuple(r[:4]) for r in workbook["flera"].iter_rows(values_only=True)]
    assert (1, "A", 3, pytest.approx(0.6)) in flera  # per option, share of respondents
    texts = [r for r in workbook["fritt"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert len(texts) == 2
    val = list(workbook["val"].iter_rows(values_only=True))
    assert (1, "Ja", 4, pytest.approx(4 / 6)) in [tuple(r[:4]) for r in val]
    every_cell = " ".join(str(c) for sheet in workbook for row in sheet.iter_rows(values_only=True) for c in row)
    assert PERSONNUMMER not in every_cell and "[personnummer]" in every_cell
    assert export_events(staff["analyst"])[0].details["format"] == "xlsx"


def test_sav_reads_back_with_variable_and_value_labels(small: SmallSurvey, analyst: TestClient, tmp_path: Path) -> None:
    import pyreadstat

    path = tmp_path / "export.sav"
    path.write_bytes(run_export(analyst, small.spec.slug, "sav"))
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert len(frame) == len(RESPONSES)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["val"] == "Ja eller nej?"
    assert meta.variable_value_labels["val"] == {1.0: "Ja", 2.0: "Nej"}
    assert meta.variable_value_labels["kommun"][2281.0] == "Sundsvall"
    assert sorted(frame["val"].tolist()) == [1, 1, 1, 1, 2, 2]
    assert frame["flera_1"].sum() == 3 and frame["flera_1"].isna().sum() == 1
    assert (frame["skala"] == 99).sum() == 1  # "vet ej", a declared missing value
    assert meta.missing_ranges["skala"] == [{"lo": 99.0, "hi": 99.0}]
    assert meta.variable_value_labels["channel"]["web"] == "Webb"  # the channel's codes read too
    assert not frame["fritt"].str.contains(PERSONNUMMER).any()
    # The first response came in at 09:00 UTC on 3 March 2025: 10:00 in Sweden, as the pages show it.
    assert str(frame["submitted_at"].min()) == "2025-03-03 10:00:00"
    assert labels["submitted_at"] == "Inskickad (svensk tid)"


def test_a_default_scale_has_its_ends_labelled_in_the_codebook() -> None:
    """A 1-5 scale that keeps the default bounds still labels 1 and 5 in the .sav and codebook."""
    from consult.surveys.schema import PageSpec, SurveySpec
    from consult.workspace.exports import _variables
    from tests.factories import q

    scale = q("skala", "scale", allow_dont_know=True, low_label={"sv": "Låg", "en": "Low"}, high_label={"sv": "Hög"})
    spec = SurveySpec(slug="s", title={"sv": "S"}, pages=(PageSpec(questions=(scale,)),))
    variables = {v.name: v for v in _variables(spec, "en", with_weight=False)}
    assert variables["skala"].value_labels[1] == "Low" and variables["skala"].value_labels[5] == "Hög"
    assert variables["channel"].value_labels["interview_phone"] == "Phone interview"


def test_json_export(small: SmallSurvey, analyst: TestClient, admin: TestClient) -> None:
    document = json.loads(run_export(analyst, small.spec.slug, "json"))
    assert document["survey"] == small.spec.slug and len(document["responses"]) == len(RESPONSES)
    assert any(v["variable"] == "val" and v["values"] == {"1": "Ja", "2": "Nej"} for v in document["codebook"])
    assert PERSONNUMMER not in json.dumps(document, ensure_ascii=False)
    assert min(r["submitted_at"] for r in document["responses"]) == "2025-03-03T10:00:00+01:00"
    raw = json.loads(run_export(admin, small.spec.slug, "json", ratext="1"))
    assert PERSONNUMMER in json.dumps(raw, ensure_ascii=False)


def test_export_jobs_belong_to_their_owner(small: SmallSurvey, analyst: TestClient, app, staff) -> None:  # type: ignore[no-untyped-def]
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/export")
    started = analyst.post(
        f"/arbetsyta/enkater/{small.spec.slug}/export", data={"csrftoken": csrf_from(page.text), "format": "json"}
    )
    job_url = started.headers["location"]
    other = logged_in_client(app, create_staff()["analyst"])
    assert other.get(job_url).status_code == 404 and other.get(job_url + "/fil").status_code == 404
    bad = analyst.post(
        f"/arbetsyta/enkater/{small.spec.slug}/export", data={"csrftoken": csrf_from(page.text), "format": "exe"}
    )
    assert bad.status_code == 400


def test_free_text_that_looks_like_a_formula_stays_text_in_the_workbook(tmp_path: Path) -> None:
    """A resident who writes "=HYPERLINK(...)" must not get a live formula into the analysts' Excel."""
    from openpyxl import load_workbook

    from consult.db import session_scope
    from consult.responses.service import NewResponse, store_responses
    from consult.workspace import exports
    from consult.workspace.service import Filters
    from tests.factories import every_type_survey, store

    spec = store(every_type_survey())
    answer = '=HYPERLINK("http://example.com","Klicka")'
    with session_scope() as session:
        store_responses(session, [NewResponse(spec=spec, client_uuid=str(uuid.uuid4()),
                                              values={"kommun": 1, "val": 1, "lang": answer})])
    path = tmp_path / "export.xlsx"
    with session_scope() as session:
        exports.write_xlsx(path, session=session, spec=spec, filters=Filters(), raw=False, language="sv",
                           progress=lambda _percent: None)
    cells = [cell for row in load_workbook(path)["lang"].iter_rows() for cell in row if cell.value == answer]
    assert cells and all(cell.data_type == "s" for cell in cells)
    long_csv = "".join(exports.csv_lines(spec, Filters(), raw=False))
    assert "'=HYPERLINK" in long_csv and ",=HYPERLINK" not in long_csv


@pytest.mark.parametrize("language, shown, other", [("en", "[personal identity number]", "[personnummer]"),
                                                   ("sv", "[personnummer]", "[personal identity number]")])
def test_redacted_free_text_reads_in_the_files_language(small: SmallSurvey, app, staff, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                        language: str, shown: str, other: str) -> None:
    """Personal data in free text is replaced by a placeholder in the export's language, in every format."""
    from openpyxl import load_workbook

    from consult.db import session_scope
    from consult.workspace import exports
    from consult.workspace.service import Filters

    client = logged_in_client(app, staff["analyst"])
    long_csv = client.get(f"/arbetsyta/enkater/{small.spec.slug}/export.csv?lang={language}").text
    path = tmp_path / "export.xlsx"
    with session_scope() as session:
        wide = exports.wide_table(session, spec=small.spec, filters=Filters(), raw=False, language=language)
        exports.write_xlsx(path, session=session, spec=small.spec, filters=Filters(), raw=False, language=language,
                           progress=lambda _percent: None)
    wide_text = " ".join(str(value) for value in wide.frame["fritt"].tolist())
    workbook = " ".join(str(c) for row in load_workbook(path)["fritt"].iter_rows(values_only=True) for c in row)
    for text in (long_csv, wide_text, workbook):
        assert shown in text and other not in text and PERSONNUMMER not in text


def test_a_weighted_workbook_has_the_weighted_share_beside_the_counted_one(small: SmallSurvey) -> None:
    from openpyxl import Workbook

    from consult.workspace.exports import _question_sheet
    from consult.workspace.service import QuestionResult

    rows = [{"code": 1, "label": "Ja", "count": 4, "share": 4 / 6, "weighted_share": 0.7},
            {"code": 2, "label": "Nej", "count": 2, "share": 2 / 6, "weighted_share": 0.3}]
    result = QuestionResult(question=small.spec.by_code["val"], kind="choice", respondents=6, rows=rows)
    sheet = Workbook().active
    _question_sheet(sheet, result, None, "sv")
    lines = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert lines[2] == ["Kod", "Alternativ", "Antal", "Andel av de svarande", "Viktad andel"]
    assert lines[3][-1] == 0.7


# --- the raking weight in the files, and links that keep the weighting ---------------------------


@pytest.fixture(scope="module")
def weighted_survey(migrated: str) -> SmallSurvey:
    """The small survey with the analysts' targets, 75/25 against a sample of 3/3: weights 1.5 and 0.5."""
    from consult.db import session_scope
    from consult.workspace import service

    survey = create_small_survey(slug=f"ws-wexp-{uuid.uuid4().hex[:6]}", draft=False)
    with session_scope() as session:
        service.save_targets(session, spec=survey.spec, targets={"municipality": {2281: 75, 2280: 25}})
    return survey


def stored_weights(survey: SmallSurvey) -> dict[int, float]:
    from sqlalchemy import select

    from consult.db import session_scope
    from consult.workspace.models import ResponseWeight

    with session_scope() as session:
        return dict(session.execute(select(ResponseWeight.response_id, ResponseWeight.weight)
                                    .where(ResponseWeight.survey_id == survey.spec.id)).all())


@pytest.mark.parametrize("query", ["", "?viktat=1", "?viktat=1&kanal=web"])
def test_the_long_csv_has_each_respondents_stored_weight(weighted_survey: SmallSurvey, analyst: TestClient,
                                                         query: str) -> None:
    answer = analyst.get(f"/arbetsyta/enkater/{weighted_survey.spec.slug}/export.csv{query}")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    weights = stored_weights(weighted_survey)
    assert rows and set(weights) == set(weighted_survey.response_ids)
    assert all(float(row["weight"]) == pytest.approx(weights[int(row["response_id"])]) for row in rows)
    assert {round(float(row["weight"]), 6) for row in rows} == {1.5, 0.5}


@pytest.mark.parametrize("weighted", [False, True])
def test_sav_and_json_have_each_respondents_stored_weight(weighted_survey: SmallSurvey, analyst: TestClient,
                                                          tmp_path: Path, weighted: bool) -> None:
    import pyreadstat

    extra = {"viktat": "1"} if weighted else {}
    path = tmp_path / "export.sav"
    path.write_bytes(run_export(analyst, weighted_survey.spec.slug, "sav", **extra))
    frame, meta = pyreadstat.read_sav(str(path))
    weights = stored_weights(weighted_survey)
    assert len(frame) == len(weights)
    assert dict(zip(frame["response_id"].astype(int), frame["weight"], strict=True)) == pytest.approx(weights)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["weight"].startswith("Rakingvikt mot målandelarna för befolkningen")
    document = json.loads(run_export(analyst, weighted_survey.spec.slug, "json", **extra))
    assert {r["response_id"]: r["weight"] for r in document["responses"]} == pytest.approx(weights)
    assert any(v["variable"] == "weight" for v in document["codebook"])


def test_a_survey_without_targets_has_no_weight_column(analyst: TestClient, tmp_path: Path) -> None:
    from consult.surveys.schema import PageSpec, SurveySpec
    from tests.factories import choices, q, store

    spec = store(SurveySpec(slug=f"ws-now-{uuid.uuid4().hex[:6]}", title={"sv": "Utan vikter"}, status="open",
                            pages=(PageSpec(questions=(q("val", "single_choice", "Ja?", choices=choices("Ja")),)),)))
    answer = analyst.get(f"/arbetsyta/enkater/{spec.slug}/export.csv?viktat=1")
    assert answer.status_code == 200 and "weight" not in answer.text.splitlines()[0].split(",")
    page = analyst.get(f"/arbetsyta/enkater/{spec.slug}/export?viktat=1")
    assert re.search(r'id="export-weight">Filerna har ingen viktkolumn', page.text)


def test_the_export_page_says_whether_the_files_have_a_weight_column(weighted_survey: SmallSurvey,
                                                                     analyst: TestClient) -> None:
    page = analyst.get(f"/arbetsyta/enkater/{weighted_survey.spec.slug}/export?viktat=1")
    note = re.search(r'id="export-weight">(.*?)</p>', page.text, re.S)
    assert note is not None
    text = note.group(1)
    assert "har en viktkolumn" in text and "kolumnen weight" in text and "medelvärde 1" in text
    assert "viktat efter kommun" in text
    assert 'id="export-filter"' not in page.text  # weighting leaves no respondent out: no filter to drop
    # Sentences and the link are apart: no "siffror.Målandelar" or "1.Excelfilen".
    words = re.sub(r"<[^>]+>", "", text)
    assert not re.search(r"[.:][A-ZÅÄÖ]", words), words
    for filtered in ("viktat=1", "viktat=0", "kommun=2281"):
        page = analyst.get(f"/arbetsyta/enkater/{weighted_survey.spec.slug}/export?{filtered}")
        words = re.sub(r"<[^>]+>", "", re.search(r'id="export-weight">(.*?)</p>', page.text, re.S).group(1))
        assert not re.search(r"[.:][A-ZÅÄÖ]", words), words


def _link(page: str, text: str) -> str:
    found = re.search(rf'<a href="([^"]*)">{re.escape(text)}</a>', page)
    assert found is not None, text
    return html.unescape(found.group(1))


@pytest.mark.parametrize(
    ("page", "filters", "link", "marker"),
    [
        # the files to be made are still the weighted ones
        ("export", "", "Exportera alla i stället", ('name="viktat" value="1"',)),
        ("korstabell", "rad=kon&kolumn=val&", "Visa alla", ("(viktade procent)", 'id="published-note"')),
    ],
)
def test_showing_everyone_keeps_the_weighting_and_publication(weighted_survey: SmallSurvey, analyst: TestClient,
                                                              page: str, filters: str, link: str,
                                                              marker: tuple[str, ...]) -> None:
    """Dropping the respondent filters keeps how the figures are computed (weighted, for publication)."""
    slug = weighted_survey.spec.slug
    shown = analyst.get(f"/arbetsyta/enkater/{slug}/{page}?{filters}kanal=web&kommun=2281&viktat=1&publicera=1")
    everyone = _link(shown.text, link)
    assert everyone == f"/arbetsyta/enkater/{slug}/{page}?{filters}viktat=1&publicera=1"
    followed = analyst.get(everyone)
    assert followed.status_code == 200 and 'id="export-filter"' not in followed.text
    assert 'id="crosstab-filter"' not in followed.text and all(text in followed.text for text in marker)
