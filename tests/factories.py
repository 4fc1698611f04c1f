"""Surveys made for tests, each with its own slug so tests never share state."""

from __future__ import annotations

import re
import uuid
from typing import Any

from consult.surveys.schema import ChoiceSpec, PageSpec, QuestionSpec, SurveySpec


def choices(*labels: str) -> tuple[ChoiceSpec, ...]:
    return tuple(ChoiceSpec(code=i, label={"sv": label, "en": label}) for i, label in enumerate(labels, start=1))


def q(code: str, qtype: str, text: str = "", **fields: Any) -> QuestionSpec:
    return QuestionSpec(code=code, type=qtype, text={"sv": text or code, "en": text or code}, **fields)


def every_type_survey(status: str = "open", **fields: Any) -> SurveySpec:
    """One question of each type, on two pages, with a display condition."""
    return SurveySpec(
        slug=f"test-{uuid.uuid4().hex[:10]}",
        title={"sv": "Testenkät", "en": "Test survey"},
        status=status,
        pages=(
            PageSpec(
                title={"sv": "Första", "en": "First"},
                questions=(
                    q("kommun", "municipality", required=True, choices=choices("Härnösand", "Kramfors")),
                    q("alder", "age_band", choices=choices("16–24", "25–34")),
                    q("kon", "gender", choices=choices("Kvinna", "Man", "Annat", "Vill inte uppge")),
                    q("val", "single_choice", required=True, choices=choices("Ja", "Nej")),
                    q("flera", "multiple_choice", max_choices=2, choices=choices("A", "B", "C")),
                ),
            ),
            PageSpec(
                title={"sv": "Andra", "en": "Second"},
                questions=(
                    q("skala", "scale", allow_dont_know=True, low_label={"sv": "Låg"}, high_label={"sv": "Hög"}),
                    q("rang", "ranking", choices=choices("X", "Y", "Z")),
                    q("antal", "number", min_value=0, max_value=100),
                    q("kort", "short_text"),
                    q("lang", "long_text"),
                    q(
                        "varfor_nej",
                        "short_text",
                        required=True,
                        condition={"question": "val", "op": "equals", "value": 2},
                    ),
                ),
            ),
        ),
        **fields,
    )


def store(spec: SurveySpec) -> SurveySpec:
    from consult.db import session_scope
    from consult.surveys.service import load_spec, save_survey

    with session_scope() as session:
        save_survey(session, spec=spec)
    with session_scope() as session:
        stored = load_spec(session, slug=spec.slug)
    assert stored is not None
    return stored


def review_cycle(session: Any, key: str, name: dict[str, str], mandate_period: str = "2023–2026") -> Any:
    """A review cycle of its own, without strategy versions or phases."""
    from consult.strategy import service as strategy

    return strategy.create_cycle(
        session,
        key=key,
        name=name,
        mandate_period=mandate_period,
        current_version_id=None,
        proposed_version_id=None,
        phases=[],
    )


def event_survey(slug_prefix: str, about_you: tuple[QuestionSpec, ...], *later: PageSpec) -> SurveySpec:
    """An open "Framtidsdagen" survey for interview and kiosk tests: a first page that asks where the
    respondent lives (required) and then `about_you`, followed by the `later` pages."""
    where = q("kommun", "municipality", "Var bor du?", required=True, choices=choices("Härnösand", "Kramfors"))
    return SurveySpec(
        slug=f"{slug_prefix}-{uuid.uuid4().hex[:8]}",
        title={"sv": "Framtidsdagen", "en": "Future day"},
        status="open",
        pages=(PageSpec(title={"sv": "Om dig", "en": "About you"}, questions=(where, *about_you)), *later),
    )


def kiosk_survey(slug_prefix: str, *more_on_page_two: QuestionSpec) -> SurveySpec:
    """The kiosk tests' two-page event survey: where the respondent lives and what is needed most,
    then whether they will stay (and `more_on_page_two`)."""
    stay = q("val", "single_choice", "Vill du bo kvar?", choices=choices("Ja", "Nej"))
    return event_survey(
        slug_prefix,
        (q("kort", "short_text", "Vad behövs mest?"),),
        PageSpec(title={"sv": "Framtiden", "en": "The future"}, questions=(stay, *more_on_page_two)),
    )


def shown_receipt(html: str) -> str:
    """The receipt code a page shows (in dash-joined groups), as stored."""
    match = re.search(r'class="receipt"(?: id="receipt-code")?>([A-Z0-9-]+)<', html)
    assert match, "the page shows no receipt code"
    return match.group(1).replace("-", "")


def put_in_kiosk_mode(client: Any, slug: str, event_name: str, language: str = "sv") -> None:
    """Make a test client a kiosk for the survey and event, opened in `language`, as an
    interviewer's "Open kiosk mode" does (tests/test_kiosk_entry.py goes through that page itself)."""
    from consult.surveys import kiosk

    client.cookies.set(kiosk.COOKIE, kiosk.cookie_value(slug, event_name, language))


def put_page_in_kiosk_mode(page: Any, base_url: str, slug: str, event_name: str, language: str = "sv") -> None:
    """The same for a Playwright page browsing the live server at `base_url`."""
    from consult.surveys import kiosk

    value = kiosk.cookie_value(slug, event_name, language)
    page.context.add_cookies([{"name": kiosk.COOKIE, "value": value, "url": base_url}])
