"""A scale's results say what its ends mean: "1 Inte alls viktigt" and "5 Mycket viktigt" beside the
values in the workspace and in the summary report, in the page's language, and in the chart's text
alternative, which otherwise lists bare numbers."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from consult.surveys.schema import PageSpec, SurveySpec
from tests.factories import q, review_cycle
from tests.test_workspace import create_staff, logged_in_client

LOW = {"sv": "Inte alls viktigt", "en": "Not at all important"}
HIGH = {"sv": "Mycket viktigt & brådskande", "en": "Very important & urgent"}  # & shows escaping once
# Per respondent: the 1-5 scale (None: "vet ej") and the 0-10 scale.
ANSWERS = [(1.0, 0.0), (1.0, 3.0), (2.0, 10.0), (5.0, 10.0), (5.0, 7.0), (None, 5.0)]


def scale_spec(slug: str) -> SurveySpec:
    return SurveySpec(
        slug=slug,
        title={"sv": "Skalornas enkät", "en": "The scales' survey"},
        status="open",
        pages=(
            PageSpec(
                questions=(
                    # No min or max: the survey shows 1 to 5, so the labels belong to 1 and 5.
                    q("viktigt", "scale", "Hur viktigt?", low_label=LOW, high_label=HIGH, allow_dont_know=True),
                    q("betyg", "scale", "Hur troligt?", min_value=0, max_value=10,
                      low_label={"sv": "Inte alls troligt"}, high_label={"sv": "Helt säkert"}),
                    q("utan", "scale", "Utan etiketter?", min_value=1, max_value=5),
                ),
            ),
        ),
    )


def create_cycle_with_scales() -> tuple[str, SurveySpec]:
    from consult.db import session_scope
    from consult.responses.service import NewResponse, store_responses
    from consult.surveys.service import load_spec, save_survey

    key = f"sl-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        cycle = review_cycle(session, key, {"sv": f"Skalcykel {key}", "en": f"Scale cycle {key}"})
        save_survey(session, spec=scale_spec(f"{key}-enkat"), cycle_id=cycle.id)
    with session_scope() as session:
        spec = load_spec(session, slug=f"{key}-enkat")
        assert spec is not None
        start = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
        store_responses(session, [
            NewResponse(spec=spec, client_uuid=str(uuid.uuid4()), values={"viktigt": important, "betyg": likely,
                        "utan": 3.0}, submitted_at=start + timedelta(hours=n))
            for n, (important, likely) in enumerate(ANSWERS)
        ])
    return key, spec


@pytest.fixture(scope="module")
def scales(migrated: str, demo) -> Iterator[tuple[str, SurveySpec]]:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from consult.db import session_scope
    from consult.surveys.models import Survey

    key, spec = create_cycle_with_scales()
    yield key, spec
    # Out of the cycle again, so the overview keeps opening the demo cycle (the newest with a survey).
    with session_scope() as session:
        session.execute(update(Survey).where(Survey.id == spec.id).values(cycle_id=None))


@pytest.fixture(scope="module")
def analyst(app, scales) -> TestClient:  # type: ignore[no-untyped-def]
    # Each request names its language (?lang= is also remembered in a cookie).
    return logged_in_client(app, create_staff()["analyst"])


def row_headers(fragment: str) -> list[str]:
    """The row headers of the first table in the fragment, as text."""
    table = fragment[fragment.index("<table") : fragment.index("</table>")]
    cells = re.findall(r'<th scope="row">(.*?)</th>', table, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def workspace_section(page: str, code: str) -> str:
    start = page.index(f'id="q-{code}"')
    return page[start : page.index("</section>", start)]


def report_section(page: str, question_id: int | None) -> str:
    start = page.index(f'aria-labelledby="rq-{question_id}"')
    return page[start : page.index("</section>", start)]


def chart_alt(fragment: str) -> str:
    match = re.search(r'<img [^>]*alt="([^"]*)"', fragment)
    assert match, "the chart has no text alternative"
    return html.unescape(match.group(1))


def test_workspace_results_name_the_ends_of_a_scale(analyst: TestClient, scales) -> None:  # type: ignore[no-untyped-def]
    _key, spec = scales
    page = analyst.get(f"/arbetsyta/enkater/{spec.slug}?lang=sv")
    assert page.status_code == 200, page.text[:500]
    important = workspace_section(page.text, "viktigt")
    assert row_headers(important) == ["1 Inte alls viktigt", "2", "3", "4", "5 Mycket viktigt & brådskande"]
    assert "&amp;amp;" not in important  # escaped once, not twice
    alt = chart_alt(important)
    # A scale's shares are of those with a view, as its table says ("vet ej" left out).
    assert alt.startswith("Andel av dem med en åsikt per alternativ för: Hur viktigt?: ")
    assert alt.endswith(". Skala från 1 (Inte alls viktigt) till 5 (Mycket viktigt & brådskande).")
    # The ends follow the question's own range; 0 is a value with a label like any other.
    likely = row_headers(workspace_section(page.text, "betyg"))
    assert likely[0] == "0 Inte alls troligt" and likely[-1] == "10 Helt säkert"
    assert likely[1:-1] == [str(n) for n in range(1, 10)]
    # Without labels the values stand alone and the text alternative has nothing added.
    bare = workspace_section(page.text, "utan")
    assert row_headers(bare) == ["1", "2", "3", "4", "5"]
    assert "Skala från" not in chart_alt(bare)


def test_workspace_results_in_english_use_the_english_labels(analyst: TestClient, scales) -> None:  # type: ignore[no-untyped-def]
    _key, spec = scales
    page = analyst.get(f"/arbetsyta/enkater/{spec.slug}?lang=en").text
    important = workspace_section(page, "viktigt")
    headers = row_headers(important)
    assert headers[0] == "1 Not at all important" and headers[-1] == "5 Very important & urgent"
    assert chart_alt(important).endswith("Scale from 1 (Not at all important) to 5 (Very important & urgent).")
    # A label written only in Swedish is shown in Swedish rather than left out.
    assert row_headers(workspace_section(page, "betyg"))[0] == "0 Inte alls troligt"


def test_filtered_results_fragment_keeps_the_labels(analyst: TestClient, scales) -> None:  # type: ignore[no-untyped-def]
    _key, spec = scales
    fragment = analyst.get(f"/arbetsyta/enkater/{spec.slug}?kanal=web&lang=sv", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment
    assert row_headers(workspace_section(fragment, "viktigt"))[0] == "1 Inte alls viktigt"


def test_summary_report_names_the_ends_of_a_scale(analyst: TestClient, scales) -> None:  # type: ignore[no-untyped-def]
    key, spec = scales
    page = analyst.get(f"/arbetsyta/rapport/{key}?lang=sv")
    assert page.status_code == 200, page.text[:500]
    important = report_section(page.text, spec.question("viktigt").id)  # type: ignore[union-attr]
    assert row_headers(important) == ["1 Inte alls viktigt", "2", "3", "4", "5 Mycket viktigt & brådskande"]
    assert chart_alt(important).endswith(". Skala från 1 (Inte alls viktigt) till 5 (Mycket viktigt & brådskande).")
    english = analyst.get(f"/arbetsyta/rapport/{key}?lang=en").text
    likely = report_section(english, spec.question("betyg").id)  # type: ignore[union-attr]
    assert row_headers(likely)[0] == "0 Inte alls troligt" and row_headers(likely)[-1] == "10 Helt säkert"
    assert chart_alt(likely).endswith("Scale from 0 (Inte alls troligt) to 10 (Helt säkert).")


def test_the_chart_itself_names_the_ends_of_a_scale(analyst: TestClient, scales) -> None:  # type: ignore[no-untyped-def]
    """The bar chart's axis says what 1 and 5 mean too, in the reader's language."""
    _key, spec = scales
    swedish = analyst.get(f"/arbetsyta/enkater/{spec.slug}/diagram/viktigt.svg?lang=sv")
    assert swedish.status_code == 200 and swedish.headers["content-type"].startswith("image/svg+xml")
    text = html.unescape(swedish.text)
    assert "1 Inte alls viktigt" in text and "5 Mycket viktigt & brådskande" in text
    english = html.unescape(analyst.get(f"/arbetsyta/enkater/{spec.slug}/diagram/viktigt.svg?lang=en").text)
    assert "1 Not at all important" in english
    analyst.get("/?lang=sv")
