"""Whether the workspace's and the report's figures say what they are: the base a share is of,
whether it is weighted, and that a publication hides alike everywhere (a QA pass on the figures).

The expected figures are worked out here by hand from the small survey's six responses
(tests/test_workspace.py), not by the functions under test."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.test_workspace import SmallSurvey, create_small_survey, create_staff, logged_in_client, set_state


@pytest.fixture(scope="module")
def small(migrated: str) -> SmallSurvey:
    return create_small_survey()


@pytest.fixture(scope="module", autouse=True)
def release_cycles(migrated: str) -> Iterator[None]:
    """Afterwards, move the surveys of this module's review cycles out of them: the workspace opens the
    newest cycle with a survey by default, which other tests expect to be the demo's."""
    yield
    from sqlalchemy import select, update

    from consult.db import session_scope
    from consult.strategy.models import ReviewCycle
    from consult.surveys.models import Survey

    with session_scope() as session:
        ours = select(ReviewCycle.id).where(ReviewCycle.key.like("qa-%"))
        session.execute(update(Survey).where(Survey.cycle_id.in_(ours)).values(cycle_id=None))


def cycle_with_small_survey() -> tuple[str, SmallSurvey]:
    import uuid

    from consult.db import session_scope
    from tests.factories import review_cycle

    key = f"qa-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        cycle_id = review_cycle(session, key, {"sv": f"Granskning {key}", "en": f"QA {key}"}).id
    return key, create_small_survey(cycle_id=cycle_id, draft=False)


@pytest.fixture(scope="module")
def staff(small) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff()


@pytest.fixture(scope="module")
def analyst(app, staff, demo) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in_client(app, staff["analyst"])


def svg_texts(svg: bytes) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg.decode())


def test_a_published_campaign_tag_cannot_be_worked_out_from_another_tags_count_and_share(migrated: str) -> None:
    """Five responses tagged "facebook" and one "instagram": published, instagram's 1 is hidden, but
    facebook's 5 and 83 % give the tagged total (5 / 0.83 = 6) and so instagram's 1. Facebook's count
    must be hidden too, as a channel's or a municipality's would be."""
    from consult.db import session_scope
    from consult.workspace import service

    survey = create_small_survey(draft=False)
    for index, response_id in enumerate(survey.response_ids):
        set_state(response_id, campaign_tag="instagram" if index == 0 else "facebook")
    with session_scope() as session:
        plain = service.overview(session, cycle=None, surveys=[survey.spec])
        published = service.overview(session, cycle=None, surveys=[survey.spec], publish=True)
    assert {row["code"]: row["count"] for row in plain.by_campaign} == {"facebook": 5, "instagram": 1}
    shown = {row["code"]: (row["count"], row["share"]) for row in published.by_campaign}
    assert shown["instagram"] == (None, None)
    assert shown["facebook"] == (None, None), "5 of 6 at 83 % gives the hidden 1 away"


def either(texts: list[str], english: str, swedish: str) -> bool:
    return english in texts or swedish in texts


def test_a_charts_axis_says_what_its_bars_are_shares_of_and_whether_weighted(small: SmallSurvey,
                                                                           analyst: TestClient) -> None:
    """The scale's bars are shares of the five with a view (one said "vet ej"), as its table says;
    weighted bars and a weighted histogram say they are weighted."""
    base = f"/arbetsyta/enkater/{small.spec.slug}/diagram"
    scale = svg_texts(analyst.get(f"{base}/skala.svg").content)
    assert either(scale, "Share of those with a view", "Andel av dem med en åsikt"), scale
    # 5, 4, 3, 5, 2 with a view: 5 is two of five, 40 %, not two of six (33 %).
    assert "40%" in scale and "33%" not in scale
    choice = svg_texts(analyst.get(f"{base}/val.svg?viktat=1").content)
    assert either(choice, "Weighted share of respondents", "Viktad andel av de svarande"), choice
    weighted_scale = svg_texts(analyst.get(f"{base}/skala.svg?viktat=1").content)
    assert either(weighted_scale, "Weighted share of those with a view", "Viktad andel av dem med en åsikt")
    histogram = svg_texts(analyst.get(f"{base}/antal.svg?viktat=1").content)
    assert either(histogram, "Weighted respondents", "Viktade svarande"), histogram
    plain = svg_texts(analyst.get(f"{base}/antal.svg").content)
    assert either(plain, "Respondents", "Svarande") and not either(plain, "Weighted respondents", "Viktade svarande")


def test_a_weighted_histograms_bars_are_labelled_in_whole_numbers_as_its_table(small: SmallSurvey,
                                                                             analyst: TestClient) -> None:
    """A weighted count is a sum of weights (1.3, 0.8): the table beside the chart rounds it to a whole
    number, and a bar's label with a decimal point (not even the Swedish comma) disagreed with it."""
    histogram = svg_texts(analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/diagram/antal.svg?viktat=1").content)
    assert not [text for text in histogram if re.fullmatch(r"\d+[.,]\d+", text)], histogram


def test_a_bar_someone_chose_is_never_labelled_zero_per_cent() -> None:
    """One in 250 is 0.4 %: the table says "<1 %", so the bar must not say "0%" (nobody)."""
    from consult.workspace import charts

    texts = svg_texts(charts.bar_chart(("Ja", "Nej"), (249 / 250, 1 / 250), axis_label="Andel"))
    assert "<1%" in texts or "&lt;1%" in texts, texts
    assert "0%" not in texts and "100%" in texts


def test_the_overview_says_campaign_tag_shares_are_of_the_tagged_responses_only(migrated: str,
                                                                                analyst: TestClient) -> None:
    """Two of six responses tagged (facebook, instagram): each tag is 50 % of the tagged two, which the
    page must say, or 50 % reads as half of all six."""
    key, survey = cycle_with_small_survey()
    set_state(survey.response_ids[0], campaign_tag="instagram")  # the fifth response is tagged facebook already
    page = analyst.get(f"/arbetsyta?cykel={key}&lang=en")
    assert page.status_code == 200
    tags = page.text[page.text.index("By campaign tag"):]
    assert "50%" in tags.replace("\u00a0", "").replace(" ", "")
    note = re.search(r'<p class="hint" id="tagged-base">([^<]*)</p>', page.text)
    assert note and "2 responses that came with a campaign tag, not of all 6" in note.group(1)
    published = analyst.get(f"/arbetsyta?cykel={key}&publicera=1&lang=en")
    note = re.search(r'<p class="hint" id="tagged-base">([^<]*)</p>', published.text)
    assert note and "responses that came with a campaign tag" in note.group(1) and "2" not in note.group(1)


def test_a_weighted_excel_file_says_its_means_are_weighted(small: SmallSurvey, analyst: TestClient) -> None:
    """The scale's weighted mean differs from the respondents' own (5, 4, 3, 5, 2: 3.8); under the
    plain label "Mean" with nothing to say it is weighted, a reader would quote it as theirs."""
    import io

    from openpyxl import load_workbook

    from tests.test_exports import run_export

    workbook = load_workbook(io.BytesIO(run_export(analyst, small.spec.slug, "xlsx", viktat="1")), read_only=True)
    rows = [tuple(r) for r in workbook["skala"].iter_rows(values_only=True)]
    first_cells = [row[0] for row in rows]
    assert "Viktade siffror." in first_cells or "Weighted figures." in first_cells, rows
    assert "Effektiv urvalsstorlek" in first_cells or "Effective sample size" in first_cells
    plain = load_workbook(io.BytesIO(run_export(analyst, small.spec.slug, "xlsx")), read_only=True)
    plain_rows = [tuple(r) for r in plain["skala"].iter_rows(values_only=True)]
    means = [row[1] for row in plain_rows if row[0] in ("Medelvärde", "Mean")]
    assert means == [pytest.approx(3.8)]
    assert not {"Viktade siffror.", "Weighted figures."} & {row[0] for row in plain_rows}


def test_the_export_page_says_the_files_are_not_for_publication(small: SmallSurvey, analyst: TestClient) -> None:
    """Coming from the published view, the form carries publicera=1, but the files hold every figure
    (a group of one included): the page must say so rather than let them pass for publishable."""
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/export?publicera=1&lang=en")
    assert page.status_code == 200
    assert 'id="export-not-published"' in page.text and "not for publication" in page.text
    assert 'id="export-not-published"' not in analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/export").text


def test_the_report_says_dont_know_is_left_out_of_a_scales_mean_and_that_means_are_weighted(
        analyst: TestClient) -> None:
    """The scale's mean is 3.8, of the five with a view (5, 4, 3, 5, 2), not 3.17 with "vet ej" as 0:
    the report says so, as the workspace does. Weighted, the report's means are weighted too."""
    key, survey = cycle_with_small_survey()
    scale = survey.spec.question("skala")
    assert scale is not None
    page = analyst.get(f"/arbetsyta/rapport/{key}?lang=en").text
    start = page.index(f'aria-labelledby="rq-{scale.id}"')
    section = page[start: page.index("</section>", start)]
    assert "3.80" in section
    assert "is not part of the distribution or the mean" in section
    url = f"/arbetsyta/rapport/{key}/atgarder"
    token = re.search(r'name="csrftoken" value="([^"]+)"', analyst.get(url).text)
    assert token
    analyst.post(url, data={"csrftoken": token.group(1), "actions-sv": "Text", "weighted": "1"})
    weighted = analyst.get(f"/arbetsyta/rapport/{key}?lang=en").text
    results = weighted[weighted.index('id="resultat"'):]
    assert "Weighted shares, means and histograms." in results


def test_a_crosstab_says_whom_its_total_counts(small: SmallSurvey, analyst: TestClient) -> None:
    """Six responded, one said "vet ej" to the scale: the scale × yes/no table counts five, and says
    why its total is not the six of the results page."""
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/korstabell?rad=skala&kolumn=val&lang=en")
    assert page.status_code == 200
    note = re.search(r'<p class="meta" id="crosstab-base">([^<]*)</p>', page.text)
    assert note, "the crosstab does not say whom it counts"
    assert "answered both questions are counted (5)" in note.group(1).replace("&#39;", "'")


def test_a_weighted_tables_interval_says_it_is_of_the_weighted_share(small: SmallSurvey, analyst: TestClient) -> None:
    """Weighted, the interval is around the weighted share (from the effective sample size), not the
    counted share beside it: its heading says which."""
    weighted = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}?viktat=1&lang=en").text
    plain = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}?lang=en").text
    assert "95% interval of the weighted share" in weighted
    assert "95% interval of the weighted share" not in plain and "95% interval" in plain


def test_a_weighted_crosstab_gives_its_effective_sample_size(small: SmallSurvey, analyst: TestClient) -> None:
    """Weighted, the crosstab's percentages rest on fewer respondents' worth than its counts say; the
    effective sample size, (Σw)² / Σw² over the six who answered both, is worked out here from the
    stored weights."""
    from sqlalchemy import select

    from consult.db import session_scope
    from consult.workspace.models import ResponseWeight

    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/korstabell?rad=kon&kolumn=val&viktat=1&lang=en")
    assert page.status_code == 200
    with session_scope() as session:
        weights = session.execute(
            select(ResponseWeight.weight).where(ResponseWeight.response_id.in_(small.response_ids))).scalars().all()
    assert len(weights) == 6
    expected = sum(weights) ** 2 / sum(w * w for w in weights)
    note = re.search(r'<p class="meta" id="crosstab-weighted">([^<]*)</p>', page.text)
    assert note, "the weighted crosstab does not give its effective sample size"
    assert f"Effective sample size: {round(expected)}." in note.group(1)
    plain = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/korstabell?rad=kon&kolumn=val&lang=en")
    assert 'id="crosstab-weighted"' not in plain.text


def test_a_published_histogram_keeps_a_hidden_bin_on_its_axis_marked() -> None:
    """Published, the 10–19 bin (3 answers) is hidden and so is 20–29 beside it: the chart still has
    them on its axis, marked hidden, instead of drawing 0–9 and 30–39 side by side."""
    from consult.workspace import service
    from consult.workspace.routes import question_svg
    from tests.factories import q

    result = service.QuestionResult(question=q("antal", "number", "Hur många?"), kind="number", respondents=20)
    result.histogram = [
        {"low": 0.0, "high": 9.0, "count": 8.0, "digits": 0},
        {"low": 10.0, "high": 19.0, "count": None, "digits": 0, "suppressed": True},
        {"low": 20.0, "high": 29.0, "count": None, "digits": 0, "suppressed": True, "complement": True},
        {"low": 30.0, "high": 39.0, "count": 6.0, "digits": 0},
    ]
    texts = svg_texts(question_svg(result, weighted=False))
    assert [t for t in texts if "–" in t] == ["0–9", "10–19", "20–29", "30–39"]
    assert texts.count("dolt") + texts.count("hidden") == 2
    assert "8" in texts and "6" in texts
