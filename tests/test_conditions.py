"""Combined display conditions (and / or / not) decided on the server: which questions a
respondent sees, which are required, and which answers are stored. Showing and hiding in the
browser is tested in tests/test_browser_authoring.py."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from consult.responses.flow import questions_on_page, submit_page
from consult.responses.models import Answer, AnswerSelection, Response
from consult.responses.validation import Parsed, validate_complete, visible_codes
from consult.surveys.models import ConditionOp
from consult.surveys.schema import (
    AllOf,
    AnyOf,
    ConditionSpec,
    PageSpec,
    SurveySpec,
    load_condition,
    referenced_questions,
)
from tests.factories import choices, q, store
from tests.test_survey_pages import csrf, receipt_of

SUNDSVALL, TIMRA = 1, 2
KVINNA, MAN = 1, 2
JA, NEJ = 1, 2
# kommun = Sundsvall and (prio includes C or not(kon = Kvinna))
FORDJUPNING = {
    "all": [
        {"question": "kommun", "op": "equals", "value": SUNDSVALL},
        {"any": [{"question": "prio", "op": "includes", "value": 3}, {"not": {"question": "kon", "value": KVINNA}}]},
    ]
}


def conditions_survey() -> SurveySpec:
    return SurveySpec(
        slug=f"villkor-{uuid.uuid4().hex[:10]}",
        title={"sv": "Villkor", "en": "Conditions"},
        status="open",
        pages=(
            PageSpec(
                questions=(
                    q("kommun", "single_choice", "Var bor du?", required=True, choices=choices("Sundsvall", "Timrå")),
                    q("kon", "single_choice", "Kön", choices=choices("Kvinna", "Man")),
                    # Asked only in Sundsvall.
                    q(
                        "cyklar",
                        "single_choice",
                        "Cyklar du?",
                        choices=choices("Ja", "Nej"),
                        condition={"question": "kommun", "value": SUNDSVALL},
                    ),
                ),
            ),
            PageSpec(
                questions=(
                    q("prio", "multiple_choice", "Vad är viktigast?", choices=choices("A", "B", "C")),
                    q("fordjupning", "short_text", "Berätta mer", required=True, condition=FORDJUPNING),
                    # Decided by page 1 alone.
                    q(
                        "man_eller_timra",
                        "short_text",
                        "Man eller Timrå",
                        condition={"any": [{"question": "kommun", "value": TIMRA}, {"question": "kon", "value": MAN}]},
                    ),
                    # Tests cyklar, which Timrå residents are never asked.
                    q(
                        "cykel_eller_man",
                        "short_text",
                        "Nej till cykel, eller man",
                        condition={"any": [{"question": "cyklar", "value": NEJ}, {"question": "kon", "value": MAN}]},
                    ),
                    q(
                        "inte_cykel_och_kvinna",
                        "short_text",
                        "Inte (cyklar och kvinna)",
                        condition={
                            "not": {"all": [{"question": "cyklar", "value": JA}, {"question": "kon", "value": KVINNA}]}
                        },
                    ),
                ),
            ),
        ),
    )


SPEC = conditions_survey()


def leaf(question: str, value: int, op: ConditionOp = ConditionOp.equals) -> ConditionSpec:
    return ConditionSpec(question=question, op=op, value=value)


def test_conditions_load_as_trees_and_single_tests_keep_their_shape() -> None:
    condition = SPEC.by_code["fordjupning"].condition
    not_woman = leaf("kon", KVINNA, ConditionOp.not_)  # not(one test) is that test's `not`
    priority_c = leaf("prio", 3, ConditionOp.includes)
    assert condition == AllOf(all=(leaf("kommun", SUNDSVALL), AnyOf(any=(priority_c, not_woman))))
    assert referenced_questions(condition) == ["kommun", "prio", "kon"]
    old = {"question": "kommun", "op": "equals", "value": 1}
    assert load_condition(old) == leaf("kommun", 1) and load_condition(old).model_dump(mode="json") == old


def test_a_condition_may_not_test_a_later_question() -> None:
    pages = [page.model_dump() for page in SPEC.pages]
    later = {"any": [{"question": "kommun", "value": 1}, {"question": "prio", "value": 1}]}
    pages[0]["questions"][2]["condition"] = later
    with pytest.raises(ValueError, match="refers to prio, which is not an earlier question"):
        SurveySpec(**{**SPEC.model_dump(exclude={"pages"}), "pages": pages})


@pytest.mark.parametrize(
    ("answers", "shown"),
    [
        ({"kommun": SUNDSVALL, "kon": KVINNA, "prio": [1]}, {"inte_cykel_och_kvinna"}),
        ({"kommun": SUNDSVALL, "kon": KVINNA, "prio": [3]}, {"fordjupning", "inte_cykel_och_kvinna"}),
        # cyklar was asked and not answered: no choice, so not(cyklar = Ja and ...) holds.
        (
            {"kommun": SUNDSVALL, "kon": MAN},
            {"fordjupning", "man_eller_timra", "cykel_eller_man", "inte_cykel_och_kvinna"},
        ),
        ({"kommun": SUNDSVALL, "kon": KVINNA, "cyklar": NEJ}, {"cykel_eller_man", "inte_cykel_och_kvinna"}),
        # cyklar was never asked in Timrå, so a test on it has no truth value (even with a stale
        # answer): `or` with a true part is still true, `and` with a false part still false ...
        ({"kommun": TIMRA, "kon": MAN, "cyklar": JA}, {"man_eller_timra", "cykel_eller_man", "inte_cykel_och_kvinna"}),
        # ... but otherwise the whole stays unknown, under not(...) too, and shows nothing.
        ({"kommun": TIMRA, "kon": KVINNA, "cyklar": JA, "prio": [3]}, {"man_eller_timra"}),
    ],
)
def test_visible_questions(answers: dict[str, Any], shown: set[str]) -> None:
    page_two = {question.code for question in SPEC.pages[1].questions} - {"prio"}
    assert visible_codes(SPEC, answers) & page_two == shown


def test_a_hidden_required_question_is_not_required_and_hidden_answers_are_dropped() -> None:
    answers = {"kommun": SUNDSVALL, "kon": KVINNA, "prio": [1], "fordjupning": "Dolt svar", "man_eller_timra": "x"}
    result = validate_complete(SPEC, Parsed(values=answers))
    assert result.ok
    assert result.values == {"kommun": SUNDSVALL, "kon": KVINNA, "prio": [1]}
    shown = validate_complete(SPEC, Parsed(values={"kommun": SUNDSVALL, "kon": KVINNA, "prio": [3]}))
    assert not shown.ok and [e.field for e in shown.errors] == ["fordjupning"]


def test_a_page_drops_a_bad_answer_to_a_question_its_answers_hide() -> None:
    """A form kept from before an earlier answer changed, or sent without JavaScript."""
    stored = {"kommun": TIMRA, "kon": KVINNA}
    too_long = {"prio": ["1"], "fordjupning": ["x" * 6000]}
    outcome = submit_page(SPEC, page=2, stored=stored, form=too_long)
    assert outcome.errors == [] and outcome.next_page is None and "fordjupning" not in outcome.answers
    outcome = submit_page(SPEC, page=2, stored={"kommun": SUNDSVALL, "kon": KVINNA}, form={**too_long, "prio": ["3"]})
    assert [(e.field, e.kind) for e in outcome.errors] == [("fordjupning", "too_long")] and outcome.next_page == 2


def test_page_carries_what_is_left_of_a_condition_for_the_browser() -> None:
    page_one = {"kommun": SUNDSVALL, "kon": KVINNA}
    shown = {question.code: question.condition for question in questions_on_page(SPEC, 2, page_one)}
    # kommun and kon are decided: only the test on prio, on this page, is left.
    assert shown == {"prio": None, "fordjupning": leaf("prio", 3, ConditionOp.includes), "inte_cykel_och_kvinna": None}
    man = questions_on_page(SPEC, 2, {"kommun": SUNDSVALL, "kon": MAN})
    shown = {question.code: question.condition for question in man}
    assert shown["fordjupning"] is None and shown["man_eller_timra"] is None
    assert "fordjupning" not in {question.code for question in questions_on_page(SPEC, 2, {"kommun": TIMRA})}


def test_without_javascript_the_server_decides_on_submit() -> None:
    stored = {"kommun": SUNDSVALL, "kon": KVINNA}
    form = {"prio": ["1"], "fordjupning": ["Syns inte"], "inte_cykel_och_kvinna": ["Syns"]}
    outcome = submit_page(SPEC, page=2, stored=stored, form=form)
    assert outcome.errors == [] and outcome.next_page is None
    assert outcome.answers == {"kommun": SUNDSVALL, "kon": KVINNA, "prio": [1], "inte_cykel_och_kvinna": "Syns"}
    outcome = submit_page(SPEC, page=2, stored=stored, form={"prio": ["3"]})
    assert [e.field for e in outcome.errors] == ["fordjupning"] and outcome.next_page == 2


# --- Over HTTP: stored survey, page flow, API ------------------------------------------------


@pytest.fixture(scope="module")
def survey(client) -> SurveySpec:  # type: ignore[no-untyped-def]
    stored = store(conditions_survey())
    assert stored.by_code["fordjupning"].condition == SPEC.by_code["fordjupning"].condition
    return stored


def stored_answers(survey: SurveySpec, receipt: str) -> dict[str, Any]:
    from consult.db import session_scope

    codes = {question.id: question.code for question in survey.questions}
    with session_scope() as session:
        response_id = session.execute(select(Response.id).where(Response.receipt == receipt)).scalar_one()
        answers = session.execute(select(Answer).where(Answer.response_id == response_id)).scalars().all()
        selections = (
            session.execute(select(AnswerSelection).where(AnswerSelection.response_id == response_id)).scalars().all()
        )
        found: dict[str, Any] = {}
        for selection in selections:
            found.setdefault(codes[selection.question_id], []).append(selection.choice)
        for answer in answers:
            found.setdefault(codes[answer.question_id], answer.choice if answer.choice is not None else answer.text)
    return found


def test_page_flow_without_javascript(client, survey) -> None:  # type: ignore[no-untyped-def]
    client.cookies.delete("consult_answered")
    start = client.get(f"/s/{survey.slug}")
    response = client.post(f"/s/{survey.slug}/start", data={"csrftoken": csrf(start.text)}, follow_redirects=False)
    url = response.headers["location"]
    html = client.get(url).text
    page_one = {"csrftoken": csrf(html), "kommun": "1", "kon": "1", "cyklar": "1", "action": "next"}
    response = client.post(url, data=page_one, follow_redirects=False)
    url = response.headers["location"]
    html = client.get(url).text
    # Shown, with only the test on this page left for the script to apply.
    block = re.search(r'id="q-fordjupning" data-condition=\'([^\']+)\'', html)
    assert block and block.group(1) == '{"op": "includes", "question": "prio", "value": 3}'
    assert 'name="man_eller_timra"' not in html and 'name="cykel_eller_man"' not in html
    # No C among the priorities: the required follow-up is not required and its answer is not kept.
    page_two = {"csrftoken": csrf(html), "prio": ["1", "2"], "fordjupning": "Kastas", "action": "next"}
    response = client.post(url, data=page_two, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("/kvitto")
    receipt = receipt_of(client, response.headers["location"])
    assert stored_answers(survey, receipt) == {"kommun": 1, "kon": 1, "cyklar": 1, "prio": [1, 2]}


def test_api_shows_combined_conditions_and_keeps_single_ones(client, survey) -> None:  # type: ignore[no-untyped-def]
    structure = client.get(f"/api/surveys/{survey.slug}").json()
    conditions = {q["code"]: q["condition"] for page in structure["pages"] for q in page["questions"]}
    assert conditions["cyklar"] == {"question": "kommun", "op": "equals", "value": 1}
    assert conditions["fordjupning"] == {
        "all": [
            {"question": "kommun", "op": "equals", "value": 1},
            {"any": [{"question": "prio", "op": "includes", "value": 3}, {"question": "kon", "op": "not", "value": 1}]},
        ]
    }
    assert conditions["inte_cykel_och_kvinna"] == {
        "not": {
            "all": [
                {"question": "cyklar", "op": "equals", "value": 1},
                {"question": "kon", "op": "equals", "value": 1},
            ]
        }
    }


def test_api_drops_answers_to_hidden_questions(client, survey) -> None:  # type: ignore[no-untyped-def]
    answers = {"kommun": 2, "kon": 1, "cyklar": 1, "prio": [3], "man_eller_timra": "Ja", "fordjupning": "Kastas"}
    body = {"client_uuid": str(uuid.uuid4()), "language": "sv", "answers": answers}
    response = client.post(f"/api/surveys/{survey.slug}/responses", json=body)
    assert response.status_code in (200, 201, 202), response.text
    receipt = response.json()["receipt"]
    assert stored_answers(survey, receipt) == {"kommun": 2, "kon": 1, "prio": [3], "man_eller_timra": "Ja"}


def test_import_codebook_explains_a_combined_condition() -> None:
    from consult.imports.files import how_to_fill

    text = how_to_fill(SPEC.by_code["fordjupning"], "sv")
    assert "Besvaras bara när kommun har kod 1 och (prio har kod 3 eller kon inte har kod 1)." in text
    assert "Answered only when kommun has code 1 and (" in how_to_fill(SPEC.by_code["fordjupning"], "en")
