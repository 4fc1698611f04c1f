"""Whether the workspace's and the report's figures say what they are: the base a share is of,
whether it is weighted, and that a publication hides alike everywhere (a QA pass on the figures).

The expected figures are worked out here by hand from the small survey's six responses
(tests/test_workspace.py), not by the functions under test."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.test_workspace import SmallSurvey, create_small_survey, create_staff, logged_in_client, set_state


@pytest.fixture(scope="module")
def small(migrated: str) -> SmallSurvey:
    return create_small_survey()


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
