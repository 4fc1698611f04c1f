"""The review team's workspace (issue 6, sections 1-3 and 8): overview, results per question with filters,
crosstab, weighting, suppression for publication, comparing review cycles and who may see them.

The helpers at the top (a small survey with hand-countable responses, staff of each role, login) are also
used by test_exports.py and test_browser_workspace.py."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy.stats import chi2_contingency, t

from consult.surveys.schema import ChoiceSpec, PageSpec, SurveySpec
from tests.factories import choices, q, review_cycle
from tests.staff import csrf_from
from tests.staff import logged_in as staff_login

PASSWORD = "ett-långt-lösenord-för-arbetsytan"


def logged_in_client(app, email: str) -> TestClient:  # type: ignore[no-untyped-def]
    return staff_login(app, email, PASSWORD)


PERSONNUMMER = "811218-9876"
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

# Six responses. Per respondent: municipality, gender, age band, yes/no, options, scale (None = "vet ej"),
# ranking, number, free text, channel, campaign tag, minutes taken.
RESPONSES: list[dict[str, Any]] = [
    {
        "kommun": 2281,
        "kon": 1,
        "alder": 1,
        "val": 1,
        "flera": [1, 2],
        "skala": 5.0,
        "rang": [1, 2, 3],
        "antal": 10.0,
        "fritt": f"Ring mig, mitt personnummer är {PERSONNUMMER}",
        "_channel": "web",
        "_minutes": 4,
    },
    {
        "kommun": 2281,
        "kon": 2,
        "alder": 1,
        "val": 2,
        "flera": [1],
        "skala": 4.0,
        "rang": [2, 1],
        "antal": 20.0,
        "fritt": "Bättre bussar",
        "_channel": "web",
        "_minutes": 6,
    },
    {
        "kommun": 2281,
        "kon": 1,
        "alder": 2,
        "val": 1,
        "flera": [2, 3],
        "skala": None,
        "rang": [3],
        "antal": 30.0,
        "_channel": "web",
        "_minutes": 8,
    },
    {
        "kommun": 2280,
        "kon": 2,
        "alder": 2,
        "val": 1,
        "flera": [1],
        "skala": 3.0,
        "antal": 40.0,
        "_channel": "web",
        "_minutes": 10,
    },
    {
        "kommun": 2280,
        "kon": 1,
        "alder": 1,
        "val": 2,
        "skala": 5.0,
        "_channel": "campaign",
        "_tag": "facebook",
        "_minutes": 12,
    },
    {"kommun": 2280, "kon": 2, "alder": 2, "val": 1, "flera": [3], "skala": 2.0, "_channel": "paper", "_minutes": 14},
]


def small_spec(slug: str, title: str = "Arbetsytans testenkät") -> SurveySpec:
    municipalities = (
        ChoiceSpec(code=2280, label={"sv": "Härnösand", "en": "Härnösand"}),
        ChoiceSpec(code=2281, label={"sv": "Sundsvall", "en": "Sundsvall"}),
    )
    return SurveySpec(
        slug=slug,
        title={"sv": title, "en": title},
        status="open",
        pages=(
            PageSpec(
                questions=(
                    q("kommun", "municipality", "Kommun", choices=municipalities),
                    q("kon", "gender", "Kön", choices=choices("Kvinna", "Man")),
                    q("alder", "age_band", "Ålder", choices=choices("16–24", "25–34")),
                    q("val", "single_choice", "Ja eller nej?", choices=choices("Ja", "Nej")),
                    q("flera", "multiple_choice", "Vilka?", choices=choices("A", "B", "C")),
                    q("skala", "scale", "Hur nöjd?", min_value=1, max_value=5, allow_dont_know=True),
                    q("rang", "ranking", "Rangordna", choices=choices("X", "Y", "Z")),
                    q("antal", "number", "Hur många?", min_value=0, max_value=100),
                    q("fritt", "long_text", "Något mer?"),
                )
            ),
        ),
    )


@dataclass
class SmallSurvey:
    spec: SurveySpec
    response_ids: list[int]


def create_small_survey(cycle_id: int | None = None, slug: str | None = None, draft: bool = True) -> SmallSurvey:
    """The survey and its six responses (and one unfinished draft), in the test database."""
    from consult.db import session_scope
    from consult.responses.models import Channel, ResponseDraft
    from consult.responses.service import NewResponse, store_responses
    from consult.surveys.service import load_spec, save_survey

    slug = slug or f"ws-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        save_survey(session, spec=small_spec(slug), cycle_id=cycle_id)
    with session_scope() as session:
        spec = load_spec(session, slug=slug)
        assert spec is not None
        items = []
        for number, raw in enumerate(RESPONSES):
            values = {k: v for k, v in raw.items() if not k.startswith("_")}
            submitted = START + timedelta(days=number)
            items.append(
                NewResponse(
                    spec=spec,
                    client_uuid=str(uuid.uuid4()),
                    values=values,
                    channel=Channel(raw["_channel"]),
                    campaign_tag=raw.get("_tag"),
                    started_at=submitted - timedelta(minutes=raw["_minutes"]),
                    submitted_at=submitted,
                )
            )
        stored = store_responses(session, items)
        if draft:
            session.add(
                ResponseDraft(
                    token=uuid.uuid4().hex,
                    survey_id=spec.id or 0,
                    client_uuid=str(uuid.uuid4()),
                    answers={"kommun": 2281},
                )
            )
    return SmallSurvey(spec, [s.response_id for s in stored if s.response_id is not None])


def create_staff() -> dict[str, str]:
    """One user per role; returns role -> email."""
    from consult.accounts import service
    from consult.accounts.models import Role
    from consult.db import session_scope

    suffix = uuid.uuid4().hex[:8]
    emails = {role.value: f"ws-{role.value}-{suffix}@test.se" for role in Role}
    with session_scope() as session:
        for role, email in emails.items():
            service.create_user(session, email=email, password=PASSWORD, role=role, name=f"Test {role}")
    return emails


# --- tests -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables(migrated: str) -> str:
    return migrated


@pytest.fixture(scope="module")
def small(tables) -> SmallSurvey:  # type: ignore[no-untyped-def]
    return create_small_survey()


@pytest.fixture(scope="module")
def staff(tables) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff()


@pytest.fixture(scope="module")
def analyst(app, staff, demo) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in_client(app, staff["analyst"])


def results_of(spec: SurveySpec, **filters: Any):  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.workspace import service

    with session_scope() as session:
        outcome = service.results(session, spec=spec, filters=service.Filters(**filters))
    return {r.code: r for r in outcome.questions}, outcome


def rows_by_label(result) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {row["label"]: row for row in result.rows}


def test_single_choice_counts_and_shares(small: SmallSurvey) -> None:
    results, outcome = results_of(small.spec)
    assert outcome.total == 6
    val = rows_by_label(results["val"])
    assert (val["Ja"]["count"], val["Nej"]["count"]) == (4, 2)
    assert val["Ja"]["share"] == pytest.approx(4 / 6)
    municipality = rows_by_label(results["kommun"])
    assert municipality["Sundsvall"]["count"] == 3 and municipality["Härnösand"]["share"] == pytest.approx(0.5)


def test_multiple_choice_is_counted_per_option_never_per_combination(small: SmallSurvey) -> None:
    results, _ = results_of(small.spec)
    flera = results["flera"]
    assert flera.respondents == 5  # the fifth respondent skipped the question
    rows = rows_by_label(flera)
    assert [rows[x]["count"] for x in "ABC"] == [3, 2, 2]
    assert rows["A"]["share"] == pytest.approx(0.6)
    assert sum(r["share"] for r in flera.rows) > 1  # shares of respondents, not of answers
    assert set(rows) == {"A", "B", "C"}  # no row for "A and B"


def test_scale_mean_interval_and_dont_know_kept_apart(small: SmallSurvey, analyst: TestClient) -> None:
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}?lang=sv").text
    assert "6 personer har svarat. Andelarna gäller de 5 som har en åsikt." in " ".join(page.split())
    assert "visas som &lt;1" in page and "<1 %" not in page  # the text is escaped, not markup
    results, _ = results_of(small.spec)
    scale = results["skala"]
    values = [5, 4, 3, 5, 2]
    assert scale.dont_know == 1 and scale.respondents == 6
    assert scale.summary["n"] == 5
    assert scale.summary["mean"] == pytest.approx(3.8)
    half = t.ppf(0.975, 4) * np.std(values, ddof=1) / math.sqrt(5)
    assert scale.summary["low"] == pytest.approx(3.8 - half)
    assert scale.summary["high"] == pytest.approx(3.8 + half)
    distribution = {row["code"]: row["count"] for row in scale.rows}
    assert distribution == {1: 0, 2: 1, 3: 1, 4: 1, 5: 2}
    assert rows_by_label(scale)["5"]["share"] == pytest.approx(2 / 5)  # of those with a view


def test_every_point_of_a_scale_has_a_row_even_when_nobody_chose_it() -> None:
    """A 1-5 scale where nobody answered 1 still shows "1" with no answers, not a shorter scale."""
    from consult.workspace.service import Filters, QuestionResult, _fill_numbers
    from tests.factories import q

    question = q("skala", "scale")
    assert question.min_value is None and question.max_value is None
    result = QuestionResult(question=question, kind="scale", respondents=3)
    rows = [(3.0, 1, 1.0, 1.0), (4.0, 2, 2.0, 2.0)]  # value, count, weight, squared weight
    _fill_numbers(result, rows, {}, Filters())
    assert {row["code"]: row["count"] for row in result.rows} == {1: 0, 2: 0, 3: 1, 4: 2, 5: 0}


def test_ranking_mean_rank_and_borda_points(small: SmallSurvey) -> None:
    results, _ = results_of(small.spec)
    rows = rows_by_label(results["rang"])
    assert rows["X"]["mean_rank"] == pytest.approx(1.5) and rows["X"]["points"] == 5
    assert rows["Y"]["mean_rank"] == pytest.approx(1.5) and rows["Y"]["points"] == 5
    assert rows["Z"]["mean_rank"] == pytest.approx(2.0) and rows["Z"]["points"] == 4


def test_the_ranking_table_shows_each_options_mean_rank_and_points(small: SmallSurvey, analyst: TestClient) -> None:
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}")
    table = re.search(r"<caption>Rangordna</caption>.*?</table>", page.text, re.S)
    assert table is not None
    cells = r'<th scope="row">{}</th>\s*<td class="num">\d+</td><td class="num">{}</td><td class="num">{}</td>'
    assert re.search(cells.format("X", "1,50", "5"), table.group(0))
    assert re.search(cells.format("Z", "2,00", "4"), table.group(0))


def test_number_summary_statistics_and_histogram(small: SmallSurvey) -> None:
    results, _ = results_of(small.spec)
    number = results["antal"]
    assert number.summary["n"] == 4
    assert number.summary["mean"] == pytest.approx(25)
    assert (number.summary["min"], number.summary["max"], number.summary["median"]) == (10, 40, 20)
    assert sum(b["count"] for b in number.histogram) == 4


def test_the_histograms_last_bin_ends_at_the_largest_answer() -> None:
    """Years from 0 to 70: ten bins of seven years, the last "63–70", none reaching past 70."""
    from consult.workspace.service import histogram

    years = [0, 3, 12, 25, 25, 40, 58, 63, 66, 70]
    bins = histogram(years, [1.0] * len(years))
    labels = [(b["low"], b["high"]) for b in bins]
    assert labels[0] == (0, 6) and labels[-1] == (63, 70) and len(bins) == 10
    assert max(b["high"] for b in bins) == 70
    assert all(b["digits"] == 0 for b in bins)
    assert sum(b["count"] for b in bins) == 10 and bins[-1]["count"] == 3
    few = histogram([1, 2, 2, 4], [1.0] * 4)  # few values: one bin each, the last holding only 4
    assert [(b["low"], b["high"], b["count"]) for b in few] == [(1, 1, 1), (2, 2, 2), (3, 3, 0), (4, 4, 1)]
    odd = histogram([0, 73], [1.0, 1.0])  # bins of eight; the last one stops at 73, not 79
    assert odd[-1]["high"] == 73 and odd[-1]["count"] == 1


def test_the_histogram_of_decimal_answers_ends_at_the_largest_and_shows_its_decimals() -> None:
    from consult.workspace.service import histogram

    values = [0.5, 0.7, 1.25, 2.5]
    bins = histogram(values, [1.0] * 4)
    assert bins[0]["low"] == 0.5 and bins[-1]["high"] == 2.5 and len(bins) == 10
    assert sum(b["count"] for b in bins) == 4 and bins[-1]["count"] == 1
    assert all(b["digits"] == 1 for b in bins)
    assert all(a["high"] == pytest.approx(b["low"]) for a, b in zip(bins, bins[1:], strict=False))


def test_free_text_shows_a_count_and_a_link_not_the_text(small: SmallSurvey, analyst: TestClient) -> None:
    results, _ = results_of(small.spec)
    assert results["fritt"].respondents == 2
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}")
    assert page.status_code == 200
    assert "2 written answers" in page.text or "2 skrivna svar" in page.text
    assert PERSONNUMMER not in page.text and "Bättre bussar" not in page.text
    assert "teman?fraga=fritt" in page.text


def test_filters_narrow_the_counts(small: SmallSurvey) -> None:
    results, outcome = results_of(small.spec, municipality=2281)
    assert outcome.total == 3
    assert {r["label"]: r["count"] for r in results["val"].rows} == {"Ja": 2, "Nej": 1}
    _results, by_channel = results_of(small.spec, channel="campaign")
    assert by_channel.total == 1
    _results, by_tag = results_of(small.spec, campaign_tag="facebook", gender=1)
    assert by_tag.total == 1
    from datetime import date

    _results, by_date = results_of(small.spec, date_from=date(2025, 3, 4), date_to=date(2025, 3, 5))
    assert by_date.total == 2


def test_filter_page_keeps_filters_in_the_url_and_answers_htmx_with_a_fragment(
    small: SmallSurvey, analyst: TestClient
) -> None:
    url = f"/arbetsyta/enkater/{small.spec.slug}?kommun=2281&kanal=web"
    full = analyst.get(url)
    assert full.status_code == 200
    assert '<option value="2281" selected>' in full.text
    assert 'hx-push-url="true"' in full.text and f'hx-get="/arbetsyta/enkater/{small.spec.slug}"' in full.text
    assert "3 respondents match" in full.text or "3 svarande matchar" in full.text
    fragment = analyst.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="q-val"' in fragment.text
    assert 'hx-swap-oob="innerHTML:#result-count"' in fragment.text
    # The language switch keeps the filters.
    assert 'href="?kommun=2281&amp;kanal=web&amp;lang=en"' in full.text
    # The crosstab and export links follow the filters the fragment answers.
    assert 'hx-swap-oob="innerHTML:#ws-actions"' in fragment.text
    assert f'href="/arbetsyta/enkater/{small.spec.slug}/korstabell?kommun=2281&amp;kanal=web"' in fragment.text
    assert f'href="/arbetsyta/enkater/{small.spec.slug}/export?kommun=2281&amp;kanal=web"' in fragment.text
    restore = analyst.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_unreadable_filters_are_reported_and_left_out(small: SmallSurvey, analyst: TestClient) -> None:
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}?kommun=abc&fran=31-12-2025&kanal=<script>")
    assert page.status_code == 200
    assert 'class="error-summary"' in page.text and "#field-kommun" in page.text
    assert "6 respondents match" in page.text or "6 svarande matchar" in page.text


def test_crosstab_counts_row_percentages_and_chi_square_match_scipy(small: SmallSurvey) -> None:
    from consult.db import session_scope
    from consult.workspace import service

    with session_scope() as session:
        table = service.crosstab(
            session, spec=small.spec, row_code="kommun", column_code="val", filters=service.Filters()
        )
    assert table is not None
    counts = {row["label"]: [c["count"] for c in row["cells"]] for row in table.rows}
    assert counts == {"Härnösand": [2, 1], "Sundsvall": [2, 1]}
    assert table.rows[0]["cells"][0]["percent"] == pytest.approx(2 / 3)
    expected = chi2_contingency(np.array([[2, 1], [2, 1]]), correction=False)
    assert table.chi2 == pytest.approx(expected.statistic) and table.p_value == pytest.approx(expected.pvalue)
    assert table.low_expected  # six respondents: every expected count is below 5


def test_a_multiple_choice_crosstab_counts_each_option_against_the_rows_respondents(small: SmallSurvey) -> None:
    """Not combinations of options (Decidim's complaint), and not shares of the selections."""
    from consult.db import session_scope
    from consult.workspace import service

    with session_scope() as session:
        table = service.crosstab(
            session, spec=small.spec, row_code="kommun", column_code="flera", filters=service.Filters()
        )
    assert table is not None and table.several and table.p_value is None
    rows = {row["label"]: ([c["count"] for c in row["cells"]], [c["percent"] for c in row["cells"]], row["total"])
            for row in table.rows}
    assert rows["Härnösand"] == ([1, 0, 1], [pytest.approx(0.5), 0.0, pytest.approx(0.5)], 2)  # one did not answer
    assert rows["Sundsvall"] == ([2, 2, 1], [pytest.approx(2 / 3), pytest.approx(2 / 3), pytest.approx(1 / 3)], 3)
    assert table.n == 5 and [c["total"] for c in table.columns] == [3, 2, 2]


def test_crosstab_page(small: SmallSurvey, analyst: TestClient) -> None:
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/korstabell?rad=kon&kolumn=skala")
    assert page.status_code == 200
    assert 'id="chi-square"' in page.text and 'id="low-expected"' in page.text
    # Decimals in the page's language throughout: a decimal comma in Swedish, for p as for χ².
    assert re.search(r'<p id="chi-square">χ² = \d+,\d\d, .* p (= \d,\d{4}|&lt; 0,0001)</p>', page.text)
    filtered = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/korstabell?rad=kon&kolumn=skala&kanal=paper")
    assert re.search(r'id="crosstab-filter">[^<]*Kanal: Papper\.', filtered.text)  # which filter, in words
    same = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/korstabell?rad=kon&kolumn=kon")
    assert same.status_code == 422 and "error-summary" in same.text
    text = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/korstabell?rad=fritt&kolumn=kon")
    assert text.status_code == 422
    several = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/korstabell?rad=kon&kolumn=flera")
    assert several.status_code == 200 and 'id="several"' in several.text and 'id="chi-square"' not in several.text
    turned = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/korstabell?rad=flera&kolumn=kon")
    assert turned.status_code == 422 and 'href="#field-rad"' in turned.text


def test_weighted_results_with_effective_sample_size(small: SmallSurvey) -> None:
    """Targets 75/25 for Sundsvall/Härnösand against a 50/50 sample: weights 1.5 and 0.5."""
    from consult.db import session_scope
    from consult.workspace import service

    slug = f"ws-w-{uuid.uuid4().hex[:6]}"
    survey = create_small_survey(slug=slug, draft=False)
    with session_scope() as session:
        service.save_targets(session, spec=survey.spec, targets={"municipality": {2281: 75, 2280: 25}})
    results, outcome = results_of(survey.spec, weighted=True)
    assert outcome.weighting is not None
    assert outcome.weighting.effective_n == pytest.approx(36 / 7.5)
    assert outcome.weighting.design_effect == pytest.approx(6 / 4.8)
    municipality = rows_by_label(results["kommun"])
    assert municipality["Sundsvall"]["weighted_share"] == pytest.approx(0.75)
    assert municipality["Sundsvall"]["share"] == pytest.approx(0.5)  # unweighted figure kept beside
    weighted_mean = (5 * 1.5 + 4 * 1.5 + 3 * 0.5 + 5 * 0.5 + 2 * 0.5) / 4.5
    assert results["skala"].summary["mean"] == pytest.approx(weighted_mean)


def test_every_share_has_a_wilson_interval_from_its_respondents_or_effective_sample(small: SmallSurvey) -> None:
    from scipy.stats import binomtest

    from consult.db import session_scope
    from consult.workspace import service

    def wilson(k: int, n: int) -> tuple[float, float]:
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        return pytest.approx(ci.low), pytest.approx(ci.high)  # type: ignore[return-value]

    results, _outcome = results_of(small.spec, weighted=False)
    assert tuple(rows_by_label(results["val"])["Ja"]["interval"]) == wilson(4, 6)
    assert tuple(rows_by_label(results["flera"])["A"]["interval"]) == wilson(3, 5)  # of the five who answered
    survey = create_small_survey(slug=f"ws-ci-{uuid.uuid4().hex[:6]}", draft=False)
    with session_scope() as session:
        service.save_targets(session, spec=survey.spec, targets={"municipality": {2281: 75, 2280: 25}})
    weighted, _outcome = results_of(survey.spec, weighted=True)
    # Weighted share 0.75 of an effective sample of 4.8 respondents: as 4 of 5.
    assert tuple(rows_by_label(weighted["kommun"])["Sundsvall"]["interval"]) == wilson(4, 5)


def test_the_results_page_shows_the_intervals_and_what_they_leave_out(small: SmallSurvey, analyst: TestClient) -> None:
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}?lang=sv").text
    assert 'id="interval-hint"' in page and "Det täcker inte vilka som valde att svara" in page
    assert page.count('class="num ws-interval"') >= 10


def plain_figures(outcome) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Every figure of a results page, floats rounded (the same counts summed in another order)."""

    def tidy(value: Any) -> Any:
        if isinstance(value, float):
            return round(value, 9)
        if isinstance(value, dict):
            return {k: tidy(v) for k, v in value.items()}
        if isinstance(value, list):
            return [tidy(v) for v in value]
        return value

    return {"total": outcome.total, **{
        r.code: tidy({"n": r.respondents, "dont_know": r.dont_know, "rows": r.rows, "summary": r.summary,
                      "histogram": r.histogram, "weighted": r.weighted_respondents})
        for r in outcome.questions
    }}


def set_state(response_id: int, **values: str) -> None:
    from sqlalchemy import update

    from consult.db import session_scope
    from consult.responses.models import Response

    with session_scope() as session:
        session.execute(update(Response).where(Response.id == response_id).values(**values))


def test_withdrawn_and_rejected_responses_are_left_out_of_every_figure(tables, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The pages count every stored answer and subtract those of the few responses that do not count;
    that must give exactly what looking up the counted responses gives, and what the data says."""
    from consult.db import session_scope
    from consult.workspace import service

    survey = create_small_survey(slug=f"ws-x-{uuid.uuid4().hex[:6]}", draft=False)
    set_state(survey.response_ids[0], review_state="rejected")
    set_state(survey.response_ids[1], status="withdrawn")
    service.figure_cache.clear()
    results, outcome = results_of(survey.spec)
    kept = RESPONSES[2:]
    assert outcome.total == len(kept) == 4
    assert {r["code"]: r["count"] for r in results["val"].rows} == {1: 3, 2: 1}
    assert results["flera"].respondents == sum(1 for r in kept if r.get("flera"))
    assert {r["label"]: r["count"] for r in results["flera"].rows} == {"A": 1, "B": 1, "C": 2}
    assert results["skala"].dont_know == 1 and results["skala"].summary["n"] == 3  # 3, 5, 2 and one "vet ej"
    assert results["fritt"].respondents == 0  # both texts were in the responses left out
    subtracted = plain_figures(outcome)

    monkeypatch.setattr(service, "SUBTRACT_AT_MOST", 0)  # look up the counted responses instead
    service.figure_cache.clear()
    assert plain_figures(results_of(survey.spec)[1]) == subtracted

    # Filtered: on SQLite the filter's responses go into a temporary table; the same as looking them up.
    filtered = {"municipality": 2280, "gender": 2}
    service.figure_cache.clear()
    joined = plain_figures(results_of(survey.spec, **filtered)[1])
    assert joined["total"] == 2 and joined["val"]["rows"][0]["count"] == 2
    monkeypatch.setattr(service, "USE_COUNTED_TABLE", False)
    service.figure_cache.clear()
    assert plain_figures(results_of(survey.spec, **filtered)[1]) == joined

    with session_scope() as session:
        data = service.overview(session, cycle=None, surveys=[survey.spec])
    assert data.total == 4 and data.surveys[0].submitted == 4
    assert {r["code"]: r["count"] for r in data.by_demographic["municipality"]} == {2280: 3, 2281: 1}
    monkeypatch.setattr(service, "SUBTRACT_AT_MOST", 5000)
    service.figure_cache.clear()
    with session_scope() as session:
        again = service.overview(session, cycle=None, surveys=[survey.spec])
    assert again.by_demographic == data.by_demographic
    assert again.surveys[0].median_minutes == pytest.approx(10)  # 8, 10, 12, 14: the lower middle


def test_the_overview_counts_a_municipality_once_when_surveys_number_it_differently(tables) -> None:  # type: ignore[no-untyped-def]
    """A form imported from elsewhere may number the municipalities 1, 2, ... in its own order; the
    overview of several surveys must still show each municipality once, with every answer from it."""
    from consult.db import session_scope
    from consult.responses.service import NewResponse, store_responses
    from consult.surveys.service import load_spec, save_survey
    from consult.workspace import service

    small = create_small_survey(slug=f"ws-m-{uuid.uuid4().hex[:6]}", draft=False)
    imported = SurveySpec(
        slug=f"ws-imp-{uuid.uuid4().hex[:6]}",
        title={"sv": "Importerad", "en": "Imported"},
        status="open",
        pages=(PageSpec(questions=(q("kommun", "municipality", "Kommun", choices=(
            ChoiceSpec(code=1, label={"sv": "Sundsvall", "en": "Sundsvall"}),
            ChoiceSpec(code=2, label={"sv": "Härnösand", "en": "Härnösand"}),
        )),)),),
    )
    with session_scope() as session:
        save_survey(session, spec=imported, cycle_id=None)
    with session_scope() as session:
        stored = load_spec(session, slug=imported.slug)
        assert stored is not None
        store_responses(session, [NewResponse(spec=stored, client_uuid=str(uuid.uuid4()), values={"kommun": code})
                                  for code in (1, 1, 2)])
    service.figure_cache.clear()
    with session_scope() as session:
        alone = service.overview(session, cycle=None, surveys=[small.spec])
        both = service.overview(session, cycle=None, surveys=[small.spec, stored])
    before = {r["label"]: r["count"] for r in alone.by_demographic["municipality"]}
    after = [(r["label"], r["count"]) for r in both.by_demographic["municipality"]]
    assert after == [("Härnösand", before["Härnösand"] + 1), ("Sundsvall", before["Sundsvall"] + 2)]

    # Weighting to the population finds the municipalities by name when the codes are the form's own.
    from consult.strategy.service import municipalities, upsert_municipalities

    with session_scope() as session:
        if not {2280, 2281} <= {m.code for m in municipalities(session)}:  # no demo loaded in this database
            upsert_municipalities(session, region="Västernorrland", rows=[
                {"code": 2280, "name": "Härnösand", "population": 24_900},
                {"code": 2281, "name": "Sundsvall", "population": 99_500},
            ])
    with session_scope() as session:
        standard = service.default_targets(session, spec=small.spec)["municipality"]
        own = service.default_targets(session, spec=stored)["municipality"]
    assert own == {1: standard[2281], 2: standard[2280]}


def test_a_rejection_or_withdrawal_shows_at_once_in_figures_already_computed(tables) -> None:  # type: ignore[no-untyped-def]
    """The figures are cached per data version; rejecting a response in review, withdrawing one or
    letting one back in changes what counts, so the next page shows it without waiting for the
    cache to expire."""
    from consult.workspace import service

    survey = create_small_survey(slug=f"ws-r-{uuid.uuid4().hex[:6]}", draft=False)
    service.figure_cache.clear()
    assert results_of(survey.spec)[1].total == len(RESPONSES)
    set_state(survey.response_ids[0], review_state="rejected")
    assert results_of(survey.spec)[1].total == len(RESPONSES) - 1
    set_state(survey.response_ids[1], status="withdrawn")
    assert results_of(survey.spec)[1].total == len(RESPONSES) - 2
    set_state(survey.response_ids[0], review_state="approved")
    assert results_of(survey.spec)[1].total == len(RESPONSES) - 1


def test_the_results_leave_the_transactions_query_planning_as_they_found_it(tables) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the aggregates steer the planner (index order, no parallel workers) for their
    own queries only; the page's later queries in the same transaction must plan as usual."""
    from sqlalchemy import text

    from consult.db import session_scope
    from consult.workspace import service

    survey = create_small_survey(slug=f"ws-p-{uuid.uuid4().hex[:6]}", draft=False)
    service.figure_cache.clear()
    with session_scope() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("planner settings are PostgreSQL's")
        before = [session.execute(text(f"SHOW {name}")).scalar_one()
                  for name in ("enable_seqscan", "enable_hashagg", "max_parallel_workers_per_gather")]
        service.results(session, spec=survey.spec, filters=service.Filters())
        after = [session.execute(text(f"SHOW {name}")).scalar_one()
                 for name in ("enable_seqscan", "enable_hashagg", "max_parallel_workers_per_gather")]
    assert after == before


def test_results_read_in_the_transaction_that_stored_the_answers_count_them(tables) -> None:  # type: ignore[no-untyped-def]
    """The aggregates share out their work with a second connection, which sees only committed rows:
    a transaction that has just stored responses must still see every one of them."""
    from consult.db import session_scope
    from consult.responses.models import Channel
    from consult.responses.service import NewResponse, store_responses
    from consult.workspace import service

    survey = create_small_survey(slug=f"ws-t-{uuid.uuid4().hex[:6]}", draft=False)
    service.figure_cache.clear()
    before = plain_figures(results_of(survey.spec)[1])
    with session_scope() as session:
        extra = {"kommun": 2281, "kon": 1, "val": 2, "flera": [1, 3], "skala": 4}
        store_responses(session, [NewResponse(spec=survey.spec, client_uuid=str(uuid.uuid4()), values=extra,
                                              channel=Channel.web)])
        seen = service.results(session, spec=survey.spec, filters=service.Filters())
        figures = {r.code: r for r in seen.questions}
        assert seen.total == before["total"] + 1
        assert {r["code"]: r["count"] for r in figures["flera"].rows}[3] == before["flera"]["rows"][2]["count"] + 1
        assert figures["skala"].summary["n"] == before["skala"]["summary"]["n"] + 1
    service.figure_cache.clear()
    assert plain_figures(results_of(survey.spec)[1]) == plain_figures(seen)


def test_weights_follow_the_counted_responses(tables) -> None:  # type: ignore[no-untyped-def]
    """Weighted figures join the stored weights alone, so the weights must be recomputed whenever the
    counted responses change, even when their number stays the same."""
    from sqlalchemy import select

    from consult.db import session_scope
    from consult.workspace import service
    from consult.workspace.models import ResponseWeight

    survey = create_small_survey(slug=f"ws-wx-{uuid.uuid4().hex[:6]}", draft=False)
    with session_scope() as session:
        service.save_targets(session, spec=survey.spec, targets={"municipality": {2281: 75, 2280: 25}})
    set_state(survey.response_ids[1], review_state="rejected")
    results, outcome = results_of(survey.spec, weighted=True)
    assert outcome.weighting is not None and outcome.weighting.respondents == 5
    # Another response rejected instead: as many responses count as before, and the same last one.
    set_state(survey.response_ids[1], review_state="approved")
    set_state(survey.response_ids[0], review_state="rejected")
    results, outcome = results_of(survey.spec, weighted=True)
    assert outcome.total == 5 and outcome.weighting is not None and outcome.weighting.respondents == 5
    with session_scope() as session:
        weights = dict(session.execute(select(ResponseWeight.response_id, ResponseWeight.weight).where(
            ResponseWeight.survey_id == survey.spec.id)).all())
    assert set(weights) == set(survey.response_ids[1:])
    # Per response, as pandas would weight them: Sundsvall 2 of 5 respondents to 75 %, Härnösand 3 to 25 %.
    assert weights[survey.response_ids[1]] == pytest.approx(0.75 / (2 / 5))
    assert weights[survey.response_ids[3]] == pytest.approx(0.25 / (3 / 5))
    total, squares = sum(weights.values()), sum(w * w for w in weights.values())
    assert outcome.weighting.effective_n == pytest.approx(total**2 / squares)
    assert rows_by_label(results["kommun"])["Sundsvall"]["weighted_share"] == pytest.approx(0.75)


def test_weighting_page_saves_targets_and_is_audited(small: SmallSurvey, analyst: TestClient, staff) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import service as accounts
    from consult.db import session_scope
    from consult.workspace import service

    url = f"/arbetsyta/enkater/{small.spec.slug}/viktning"
    form = analyst.get(url)
    assert form.status_code == 200 and 'name="municipality-2281"' in form.text
    sent = analyst.post(
        url,
        data={
            "csrftoken": csrf_from(form.text),
            "municipality-2280": "25",
            "municipality-2281": "75",
            "use-gender": "1",
            "gender-1": "50",
            "gender-2": "50",
        },
    )
    assert sent.status_code == 303
    with session_scope() as session:
        targets = service.stored_targets(session, survey_id=small.spec.id or 0)
        user = accounts.get_user_by_email(session, staff["analyst"])
        events = accounts.list_audit(session, action="weighting.save", user_id=user.id if user else None)
    assert targets["municipality"] == {2280: pytest.approx(0.25), 2281: pytest.approx(0.75)}
    assert targets["gender"] == {1: pytest.approx(0.5), 2: pytest.approx(0.5)}
    assert events
    shown = analyst.get(url + "?sparat=1")
    assert 'id="neff"' in shown.text and 'id="deff"' in shown.text
    weighted = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}?viktat=1")
    assert "Effective sample size" in weighted.text or "Effektiv urvalsstorlek" in weighted.text


def test_weighting_page_rejects_unreadable_targets(small: SmallSurvey, analyst: TestClient) -> None:
    url = f"/arbetsyta/enkater/{small.spec.slug}/viktning"
    form = analyst.get(url)
    sent = analyst.post(
        url, data={"csrftoken": csrf_from(form.text), "municipality-2280": "abc", "municipality-2281": "-5"}
    )
    assert sent.status_code == 422
    assert 'class="error-summary"' in sent.text and 'href="#field-municipality-2280"' in sent.text
    zero = analyst.post(
        url, data={"csrftoken": csrf_from(form.text), "municipality-2280": "0", "municipality-2281": "0"}
    )
    assert zero.status_code == 422
    assert "Ge minst två kategorier av Kommun en andel över 0, eller bocka ur den" in zero.text
    # One category alone would get all the weight and change nothing: a QA pass saved Kvinna = 50
    # with the other genders empty, and the weighted share stayed as it was, without a word.
    alone = analyst.post(url, data={"csrftoken": csrf_from(form.text), "municipality-2280": "60",
                                    "municipality-2281": "40", "use-gender": "1", "gender-1": "50"})
    assert alone.status_code == 422 and "Ge minst två kategorier av Kön" in alone.text
    assert 'href="#field-gender-1"' in alone.text
    huge = analyst.post(url, data={"csrftoken": csrf_from(form.text), "municipality-2280": "1e308"})
    assert huge.status_code == 422 and "från 0 till 1\xa0000\xa0000\xa0000" in huge.text
    english = analyst.post(url + "?lang=en", data={"csrftoken": csrf_from(form.text), "municipality-2280": "1e308"})
    assert "from 0 to 1,000,000,000" in english.text
    grouped = analyst.post(url, data={"csrftoken": csrf_from(form.text), "municipality-2280": "1\xa0000",
                                      "municipality-2281": "3 000"})
    assert grouped.status_code == 303  # a population figure typed or copied with its thousands grouped


def test_published_view_suppresses_small_cells(small: SmallSurvey, analyst: TestClient) -> None:
    from consult.workspace.service import suppress_small_cells

    rows = suppress_small_cells(
        [{"count": 3, "share": 0.3}, {"count": 7, "share": 0.7}, {"count": 0, "share": 0}], hide=("share",)
    )
    assert rows[0] == {"count": None, "share": None, "suppressed": True}
    assert rows[1]["count"] == 7 and rows[2]["count"] == 0 and not rows[2]["suppressed"]
    results, _ = results_of(small.spec, publish=True)
    assert all(r["count"] is None for r in results["val"].rows)  # 4 and 2: both under five
    assert results["antal"].suppressed  # four respondents
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}?publicera=1")
    assert "fewer than 5" in page.text or "färre än 5" in page.text
    # Six respondents: the count is shown; a filter leaving fewer than five says no more than that.
    assert "6 svarande matchar filtret." in analyst.get(f"/arbetsyta/enkater/{small.spec.slug}?lang=sv").text
    filtered = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}?publicera=1&kanal=paper&lang=sv").text
    assert "Färre än 5 svarande matchar filtret." in filtered
    assert not re.search(r"(?<!än )\d svarande? matchar filtret", filtered)


def test_counts_in_sentences_have_their_thousands_grouped() -> None:
    """As in the tables beside them: "2 006 svarande", not "2006 svarande"."""
    from consult.core.i18n import current_language
    from consult.core.templating import templates

    sentence = templates.env.from_string('{{ ngettext("%(num)s respondent answered.", '
                                         '"%(num)s respondents answered.", total) }}')
    token = current_language.set("sv")
    try:
        assert sentence.render(total=2006) == "2\xa0006 personer har svarat."
        assert sentence.render(total=1) == "1 person har svarat."
    finally:
        current_language.reset(token)
    token = current_language.set("en")
    try:
        assert sentence.render(total=2006) == "2,006 respondents answered."
    finally:
        current_language.reset(token)


def test_a_single_hidden_cell_cannot_be_worked_out_from_the_total(small: SmallSurvey) -> None:
    """With one option hidden, the total minus the options shown would give it away: the next
    smallest option is hidden too. A number's lowest and highest values are one person's answer
    each, so published figures leave them out."""
    from consult.workspace.service import QuestionResult, _suppress

    question = small.spec.by_code["val"]
    rows = [{"code": 1, "label": "A", "count": 9, "share": 0.5}, {"code": 2, "label": "B", "count": 6, "share": 0.33},
            {"code": 3, "label": "C", "count": 3, "share": 0.17}, {"code": 4, "label": "D", "count": 0, "share": 0.0}]
    result = QuestionResult(question=question, kind="choice", respondents=18, rows=[dict(r) for r in rows])
    _suppress(result)
    assert [r["count"] for r in result.rows] == [9, None, None, 0]
    assert result.rows[1]["share"] is None and result.rows[1]["suppressed"]

    two_hidden = QuestionResult(question=question, kind="choice", respondents=13,
                                rows=[dict(r, count=c) for r, c in zip(rows, (9, 2, 2, 0), strict=True)])
    _suppress(two_hidden)
    assert [r["count"] for r in two_hidden.rows] == [9, None, None, 0]  # the two hide each other

    number = QuestionResult(question=small.spec.by_code["antal"], kind="number", respondents=40,
                            summary={"n": 40, "mean": 12.5, "median": 11.0, "min": 0.0, "max": 95.0},
                            histogram=[{"low": 0, "high": 10, "count": 30}, {"low": 10, "high": 20, "count": 8},
                                       {"low": 20, "high": 30, "count": 2}])
    _suppress(number)
    assert number.summary == {"n": 40, "mean": 12.5, "median": 11.0}
    # The histogram's bins add up to the respondents shown: 40 - 30 - 8 would give the hidden bin.
    assert [b["count"] for b in number.histogram] == [30, None, None]
    assert number.histogram[1].get("complement") and not number.histogram[2].get("complement")

    scale = QuestionResult(question=small.spec.by_code["val"], kind="scale", respondents=30, dont_know=3,
                           rows=[dict(r, count=c) for r, c in zip(rows, (12, 9, 6, 0), strict=True)])
    _suppress(scale)  # "vet ej" hidden alone: the smallest option goes with it
    assert [r["count"] for r in scale.rows] == [12, 9, None, 0] and scale.dont_know_share is None
    assert scale.dont_know_hidden == {"count": 3, "suppressed": True} and scale.dont_know == 0


def test_a_published_crosstab_hides_what_its_totals_would_give_away(small: SmallSurvey) -> None:
    """A crosstab's rows and columns each add up to a total shown: no single hidden cell in either,
    and a total hidden to protect a small one is not the sum of cells still shown."""
    from consult.workspace.service import Crosstab, _suppress_crosstab

    counts = [[14, 15, 0, 3], [40, 30, 6, 9], [20, 25, 7, 8]]
    rows = [{"code": i, "label": f"r{i}", "total": sum(r),
             "cells": [{"count": c, "percent": c / sum(r)} for c in r]} for i, r in enumerate(counts)]
    columns = [{"code": j, "label": f"c{j}", "total": sum(r[j] for r in counts)} for j in range(4)]
    question = small.spec.by_code["val"]
    table = Crosstab(row_question=question, column_question=question, rows=rows, columns=columns,
                     n=sum(map(sum, counts)))
    _suppress_crosstab(table)
    shown = [[cell["count"] for cell in row["cells"]] for row in table.rows]
    for row, figures in zip(table.rows, shown, strict=True):
        if row["total"] is not None:
            assert figures.count(None) != 1, shown
    for j, column in enumerate(table.columns):
        if column["total"] is not None:
            assert [figures[j] for figures in shown].count(None) != 1, shown
    assert shown[0][3] is None and shown[0][2] == 0  # the small cell hidden, the zero shown
    assert any(cell.get("complement") for row in table.rows for cell in row["cells"])


def test_overview_counts_completion_and_median_time(small: SmallSurvey) -> None:
    from consult.db import session_scope
    from consult.workspace import service

    with session_scope() as session:
        data = service.overview(session, cycle=None, surveys=[small.spec])
    assert data.total == 6
    progress = data.surveys[0]
    assert (progress.submitted, progress.drafts) == (6, 1)
    assert progress.completion_rate == pytest.approx(6 / 7)
    assert progress.median_minutes == pytest.approx(8)  # 4, 6, 8, 10, 12, 14: the lower middle
    assert {r["code"]: r["count"] for r in data.by_channel} == {"web": 4, "campaign": 1, "paper": 1}
    assert data.by_campaign == [{"code": "facebook", "label": "facebook", "count": 1, "share": 1.0}]
    assert {r["code"]: r["count"] for r in data.by_demographic["gender"]} == {1: 3, 2: 3}
    assert sum(r["count"] for r in data.over_time) == 6


def test_overview_page_and_charts(demo, analyst: TestClient) -> None:  # type: ignore[no-untyped-def]
    page = analyst.get("/arbetsyta?cykel=oversyn-2025")  # the demo cycle, whatever other tests add
    assert page.status_code == 200
    assert "Västernorrland 2030" in page.text and "<table" in page.text
    assert 'src="/arbetsyta/diagram/' in page.text
    chart = analyst.get("/arbetsyta/diagram/" + page.text.split('src="/arbetsyta/diagram/')[1].split('"')[0])
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in chart.content
    outside = analyst.get("/arbetsyta?cykel=ingen")
    assert outside.status_code == 200
    assert analyst.get("/arbetsyta?cykel=finns-inte").status_code == 404


def test_question_charts_are_svg_with_a_text_alternative(small: SmallSurvey, analyst: TestClient) -> None:
    page = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}?kommun=2281")
    assert f'src="/arbetsyta/enkater/{small.spec.slug}/diagram/val.svg?kommun=2281"' in page.text
    assert 'alt="Share of respondents per option for: Ja eller nej?: Ja 67%' in page.text or 'alt="Andel' in page.text
    for code in ("val", "flera", "skala", "rang", "antal"):
        chart = analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/diagram/{code}.svg")
        assert chart.status_code == 200 and b"<svg" in chart.content, code
    assert analyst.get(f"/arbetsyta/enkater/{small.spec.slug}/diagram/nothing.svg").status_code == 404


def test_compare_the_same_question_across_review_cycles(tables, analyst: TestClient) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    key = uuid.uuid4().hex[:6]
    with session_scope() as session:
        old = review_cycle(session, f"ws-2019-{key}", {"sv": "Översyn 2019", "en": "Review 2019"}, "2019–2022")
        new = review_cycle(session, f"ws-2025-{key}", {"sv": "Översyn 2025", "en": "Review 2025"})
        old_id, new_id = old.id, new.id
    create_small_survey(cycle_id=old_id, slug=f"ws-c19-{key}", draft=False)
    create_small_survey(cycle_id=new_id, slug=f"ws-c25-{key}", draft=False)
    from consult.workspace import service

    with session_scope() as session:
        comparison = service.compare(session, code="val", filters=service.Filters())
        codes = dict(service.comparable_codes(session))
    names = [c["cycle_name"] for c in comparison.columns]
    assert names.index("Översyn 2019") < names.index("Översyn 2025")
    assert codes["val"] >= 2
    ja = next(r for r in comparison.rows if r["label"] == "Ja")
    # Other tests' surveys may share the code "val": look only at this test's two cycles.
    ours = [i for i, c in enumerate(comparison.columns) if c["cycle_name"] in ("Översyn 2019", "Översyn 2025")]
    assert len(ours) >= 2
    assert all(ja["cells"][i]["share"] == pytest.approx(4 / 6) for i in ours)
    page = analyst.get("/arbetsyta/jamfor?fraga=val")
    assert page.status_code == 200 and "Översyn 2019" in page.text and "Översyn 2025" in page.text
    chart = analyst.get("/arbetsyta/jamfor.svg?fraga=val")
    assert chart.status_code == 200 and b"<svg" in chart.content
    overview = analyst.get(f"/arbetsyta?cykel=ws-2019-{key}")
    assert overview.status_code == 200 and f"ws-c19-{key}" in overview.text


@pytest.mark.parametrize(
    "path",
    [
        "/arbetsyta",
        "/arbetsyta/enkater/{slug}",
        "/arbetsyta/enkater/{slug}/korstabell",
        "/arbetsyta/enkater/{slug}/viktning",
        "/arbetsyta/enkater/{slug}/export",
        "/arbetsyta/jamfor",
        "/arbetsyta/enkater/{slug}/export.csv",
    ],
)
def test_interviewers_are_refused_and_visitors_sent_to_login(small: SmallSurvey, app, staff, path: str) -> None:  # type: ignore[no-untyped-def]
    url = path.format(slug=small.spec.slug)
    interviewer = logged_in_client(app, staff["interviewer"])
    assert interviewer.get(url).status_code == 403
    anonymous = TestClient(app, base_url="http://testserver", follow_redirects=False)
    answer = anonymous.get(url)
    assert answer.status_code in (302, 303) and answer.headers["location"].startswith("/login")
    admin = logged_in_client(app, staff["admin"])
    assert admin.get(url).status_code == 200


def test_odd_requests_never_give_a_server_error(small: SmallSurvey, analyst: TestClient) -> None:
    slug = small.spec.slug
    for url in [
        "/arbetsyta/enkater/finns-inte",
        f"/arbetsyta/enkater/{slug}?fran=2025-05-01&till=2025-01-01",
        f"/arbetsyta/enkater/{slug}?kommun=99999999999999999999",
        f"/arbetsyta/enkater/{slug}/korstabell?rad=nope&kolumn=val",
        f"/arbetsyta/enkater/{slug}/diagram/val.svg?viktat=1&publicera=1",
        f"/arbetsyta/enkater/{slug}?viktat=1&publicera=1&kommun=2280",
        "/arbetsyta/jamfor?fraga=finns_inte",
        "/arbetsyta/diagram/ingen/nothing.svg",
        "/arbetsyta/exporter/999999",
    ]:
        assert analyst.get(url).status_code < 500, url


def test_a_nul_byte_in_a_filter_or_search_is_dropped(small: SmallSurvey, analyst: TestClient) -> None:
    """PostgreSQL refuses NUL in a text value: a filter typed into the address gave a 500 there."""
    base = f"/arbetsyta/enkater/{small.spec.slug}"
    for path in (f"{base}?kampanj=%00", f"{base}?kampanj=a%00b", "/arbetsyta/jamfor?fraga=%00", "/arbetsyta?cykel=%00"):
        assert analyst.get(path).status_code in (200, 404), path


def test_weights_that_miss_their_targets_are_flagged_on_the_results(analyst: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from consult.db import session_scope
    from consult.workspace import service

    survey = create_small_survey(slug=f"ws-nc-{uuid.uuid4().hex[:6]}", draft=False)
    with session_scope() as session:
        service.save_targets(session, spec=survey.spec, targets={"municipality": {2281: 75, 2280: 25}})
    page = analyst.get(f"/arbetsyta/enkater/{survey.spec.slug}?viktat=1&lang=sv").text
    assert "Viktade siffror." in page and 'id="not-converged"' not in page
    assert 'id="not-converged"' not in analyst.get(f"/arbetsyta/enkater/{survey.spec.slug}/viktning").text
    assert 'id="export-not-converged"' not in analyst.get(f"/arbetsyta/enkater/{survey.spec.slug}/export").text
    # Raking that ends at its iteration limit (a target with nobody to weight, targets that contradict
    # each other): the figures are not what the targets ask for, and the results page says so.
    real_rake = service.rake
    monkeypatch.setattr(service, "rake", lambda *args, **kwargs: replace(real_rake(*args, **kwargs), converged=False))
    with session_scope() as session:
        service.save_targets(session, spec=survey.spec, targets={"municipality": {2281: 70, 2280: 30}})
    page = analyst.get(f"/arbetsyta/enkater/{survey.spec.slug}?viktat=1&lang=sv").text
    assert 'id="not-converged"' in page and "Vikterna når inte målen" in page
    advice = "Sluta vikta efter en variabel vars grupper har få eller inga svarande"
    assert advice in page
    # The weighting page and the export page (whose files carry these weights) say the same.
    weighting = analyst.get(f"/arbetsyta/enkater/{survey.spec.slug}/viktning").text
    assert 'id="not-converged"' in weighting and "Vikterna når inte målen" in weighting and advice in weighting
    export = analyst.get(f"/arbetsyta/enkater/{survey.spec.slug}/export").text
    assert 'id="export-not-converged"' in export and "Vikterna når inte målen" in export and advice in export


def test_weighted_results_say_what_they_are_weighted_by_and_when_too_few_decide_them(analyst: TestClient) -> None:
    from consult.db import session_scope
    from consult.workspace import service

    survey = create_small_survey(slug=f"ws-few-{uuid.uuid4().hex[:6]}", draft=False)
    page = analyst.get(f"/arbetsyta/enkater/{survey.spec.slug}?viktat=1&lang=sv").text
    assert "Viktat efter kommun." in page
    assert "Målen är standardmålen: varje kommuns andel av hela befolkningen, alla åldrar." in page
    # A handful of respondents: the weighted shares are flagged as rough at most.
    assert 'id="few-effective"' in page and "För få svarande för tillförlitliga viktade andelar." in page
    with session_scope() as session:
        service.save_targets(session, spec=survey.spec, targets={"municipality": {2281: 75, 2280: 25},
                                                                 "gender": {1: 50, 2: 50}})
    page = analyst.get(f"/arbetsyta/enkater/{survey.spec.slug}?viktat=1&lang=en").text
    assert "Weighted by municipality, gender." in page and "The targets are the defaults" not in page
    analyst.get("/arbetsyta?lang=sv")  # back to Swedish for the other tests
    assert not service.Weighting(respondents=400, effective_n=310.0, design_effect=1.29).few
    assert service.Weighting(respondents=40, effective_n=29.0, design_effect=1.38).few


def _published_crosstab(small: SmallSurvey, counts: list[list[int]]) -> tuple[list[dict], list[int]]:
    """The crosstab of these counts as published: its cells, and the figures a reader could still
    pin down from everything shown (rows, columns, their totals and n)."""
    from consult.workspace.service import Crosstab, _suppress_crosstab
    from consult.workspace.weighting import _exposed

    width = len(counts[0])
    rows = [{"code": i, "label": f"r{i}", "total": sum(r), "cells": [{"count": c, "percent": 0.0} for c in r]}
            for i, r in enumerate(counts)]
    columns = [{"code": j, "label": f"c{j}", "total": sum(r[j] for r in counts)} for j in range(width)]
    question = small.spec.by_code["val"]
    table = Crosstab(row_question=question, column_question=question, rows=rows, columns=columns,
                     n=sum(map(sum, counts)))
    _suppress_crosstab(table)
    cells = [cell for row in table.rows for cell in row["cells"]]
    figures = [*cells, *table.rows, *table.columns, {"total": table.n}]
    keys = ["count"] * len(cells) + ["total"] * (len(table.rows) + len(table.columns) + 1)
    row_at, column_at, n_at = len(cells), len(cells) + len(table.rows), len(figures) - 1
    equations = [([i * width + j for i in range(len(counts))], column_at + j) for j in range(width)]
    equations += [([i * width + j for j in range(width)], row_at + i) for i in range(len(counts))]
    equations += [(list(range(row_at, column_at)), n_at), (list(range(column_at, n_at)), n_at)]
    return cells, _exposed(figures, keys, equations, table.n)


def test_no_hidden_crosstab_cell_can_be_worked_out_from_all_the_totals_together(small: SmallSurvey) -> None:
    """A QA pass worked a hidden cell out exactly from the demo's published crosstab by combining rows,
    columns and totals, though no row or column had a single hidden cell. This table, found by a
    search, is one where the row and column rules alone leave cells pinned down."""
    _cells, exposed = _published_crosstab(small, [[2, 1, 4, 1], [15, 15, 15, 9], [3, 1, 15, 0], [9, 9, 0, 15]])
    assert exposed == []


def test_a_small_total_whose_cells_are_all_hidden_does_not_end_the_audit(small: SmallSurvey) -> None:
    """A QA pass found a published crosstab (gender by a scale, in one municipality) where a column
    total of fewer than 5 over three hidden cells pins each of them to 1-2, and nothing shown is left
    beside them to hide. The audit stopped there, and left a cell elsewhere that was total minus the
    rest (22 - 11 = 11) for anyone to work out."""
    cells, exposed = _published_crosstab(small, [[1, 5, 10, 11, 8], [1, 6, 9, 11, 7], [1, 0, 0, 0, 0],
                                                 [0, 0, 0, 0, 1]])
    assert exposed == []
    assert cells[3]["count"] is None  # the 11 that was total minus the rest


def test_two_small_options_under_a_small_remainder_are_protected_too(small: SmallSurvey) -> None:
    """Options of 1 and 1 under a total 2 more than the rest: each hidden, yet each must be 1."""
    from consult.workspace.service import QuestionResult, _suppress

    rows = [{"code": c, "label": label, "count": n, "share": n / 12}
            for c, label, n in ((1, "A", 10), (2, "B", 1), (3, "C", 1))]
    result = QuestionResult(question=small.spec.by_code["val"], kind="choice", respondents=12, rows=rows)
    _suppress(result)
    assert [r["count"] for r in result.rows] == [None, None, None]


def test_published_counts_with_shares_hide_what_the_total_would_give_away() -> None:
    """Who answered, by municipality or channel: a count and its share give the total, so a single
    hidden count would be the total minus the others."""
    from consult.workspace.service import _published_counts

    rows = [{"label": "Sundsvall", "count": 40, "share": 0.8}, {"label": "Timrå", "count": 7, "share": 0.14},
            {"label": "Ånge", "count": 3, "share": 0.06}, {"label": "Kramfors", "count": 0, "share": 0.0}]
    published = _published_counts(rows)
    assert [row["count"] for row in published] == [40, None, None, 0]
    assert published[1]["share"] is None and published[1].get("complement")
