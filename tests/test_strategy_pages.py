"""The strategy pages of the workspace: versions, their comparison and the analysts' keywords."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from consult.strategy import service
from tests.staff import create_staff, csrf_from, logged_in

PASSWORD = "ett-långt-lösenord-42"
HEALTH = "Stärkt folkhälsoarbete för god och jämlik hälsa"
EDIT = "/arbetsyta/strategi/rus-2025/hallbart-resande/nyckelord"


@pytest.fixture(scope="module")
def staff(demo: dict) -> dict[str, str]:
    return create_staff("strategy", PASSWORD)


@pytest.fixture(scope="module")
def analyst(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff["analyst"], PASSWORD)


def _item(key: str = "hallbart-resande", version: str = "rus-2025"):  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        found = service.item_by_key(session, version_key=version, item_key=key)
        assert found is not None
        session.expunge(found[1])
        return found[1]


def _save(client: TestClient, keywords: str):  # type: ignore[no-untyped-def]
    return client.post(EDIT, data={"csrftoken": csrf_from(client.get(EDIT).text), "keywords": keywords})


def test_a_version_reads_as_the_document_with_its_keywords(analyst: TestClient) -> None:
    index = analyst.get("/arbetsyta/strategi")
    assert index.status_code == 200
    assert re.search(
        r"uppdaterad 2025</a></th>\s*<td class=\"num\">2025</td>\s*<td class=\"num\">3</td>"
        r"\s*<td class=\"num\">17</td>\s*<td class=\"num\">6</td>",
        index.text,
    )
    page = analyst.get("/arbetsyta/strategi/rus-2025").text
    assert page.count('class="strategy-item"') == 17 + 6
    assert HEALTH in page and "Jämställdhet" in page
    # The default list: the packaged words, lower-cased and without repeats.
    resande = page.split('id="item-hallbart-resande"')[1].split("</li>")[0]
    assert "Förvalda nyckelord" in resande and "kollektivtrafik" in resande
    assert analyst.get("/arbetsyta/strategi/rus-1999").status_code == 404
    english = analyst.get("/arbetsyta/strategi/rus-2025?lang=en").text
    assert "<h1 tabindex=\"-1\">Regional development strategy for Västernorrland, updated 2025</h1>" in english
    analyst.get("/arbetsyta/strategi?lang=sv")


def test_keywords_are_checked_and_a_refused_list_changes_nothing(analyst: TestClient) -> None:
    before = service.effective_keywords(_item())
    for bad, message in (
        ("buss, <script>", "kan inte vara ett nyckelord"),
        ("buss, x", "kan inte vara ett nyckelord"),
        (", ".join(f"ord{n}" for n in range(service.MAX_KEYWORDS + 1)), "Ange högst 80 nyckelord (nu 81)."),
    ):
        refused = _save(analyst, bad)
        assert refused.status_code == 422
        assert message in refused.text
        assert 'aria-invalid="true"' in refused.text and 'class="error-summary"' in refused.text
        assert bad[:20] in html.unescape(refused.text)  # what was typed is kept
    too_long = _save(analyst, "a" * 5000)
    assert too_long.status_code == 422 and "Korta listan till högst 4000 tecken (nu 5000)." in too_long.text
    assert service.effective_keywords(_item()) == before


def test_saved_keywords_replace_the_default_until_reset(analyst: TestClient) -> None:
    from consult.accounts.models import AuditEvent
    from consult.db import session_scope

    saved = _save(analyst, "Buss;  kollektivtrafik\ntåg, buss, e-cykel")
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("?sparat=hallbart-resande#item-hallbart-resande")
    try:
        assert service.effective_keywords(_item()) == ["buss", "kollektivtrafik", "tåg", "e-cykel"]
        page = analyst.get(saved.headers["location"]).text
        assert "Nyckelorden är sparade" in page
        resande = page.split('id="item-hallbart-resande"')[1].split("</li>")[0]
        assert "Nyckelord ändrade av analytiker (4)" in resande and "buss, kollektivtrafik, tåg, e-cykel" in resande
        form = analyst.get(EDIT).text
        assert "Tillbaka till de förvalda nyckelorden" in form
        # The same item in the other version keeps its default list.
        assert "kollektivtrafik" in service.effective_keywords(_item(version="rus-2020"))
        assert len(service.effective_keywords(_item(version="rus-2020"))) > 4
    finally:
        reset = analyst.post(f"{EDIT}/aterstall", data={"csrftoken": csrf_from(analyst.get(EDIT).text)})
    assert reset.status_code == 303
    assert service.effective_keywords(_item()) == service.default_keywords(_item())
    with session_scope() as session:
        events = session.exec(select(AuditEvent).where(col(AuditEvent.target).like("strategy_item:%")))
        actions = [e.action for e in events]
    assert "strategy.keywords" in actions and "strategy.keywords_reset" in actions


def test_comparison_shows_the_priority_the_update_added(analyst: TestClient) -> None:
    page = analyst.get("/arbetsyta/strategi/jamfor?fran=rus-2020&till=rus-2025")
    assert page.status_code == 200
    changed = page.text.split('id="changes-heading"')[1].split("</table>")[0]
    assert HEALTH in changed and "Tillagd" in changed
    assert "1 skillnad mellan" in page.text
    same_version = analyst.get("/arbetsyta/strategi/jamfor?fran=rus-2025&till=rus-2025")
    assert same_version.status_code == 422 and "Välj två olika versioner." in same_version.text
    unknown = analyst.get("/arbetsyta/strategi/jamfor?fran=nope&till=rus-2025")
    assert unknown.status_code == 422 and "Välj en version av strategin i listan." in unknown.text


def test_interviewers_and_strangers_cannot_edit_the_strategy(app, staff, analyst: TestClient) -> None:  # type: ignore[no-untyped-def]
    interviewer = logged_in(app, staff["interviewer"], PASSWORD)
    assert interviewer.get("/arbetsyta/strategi").status_code == 403
    token = csrf_from(analyst.get(EDIT).text)
    assert interviewer.post(EDIT, data={"csrftoken": token, "keywords": "x"}).status_code in (403,)
    anonymous = TestClient(app, base_url="http://testserver", follow_redirects=False)
    assert anonymous.get("/arbetsyta/strategi").status_code in (302, 303)
    assert analyst.get("/arbetsyta/strategi/rus-2025/vision/nyckelord").status_code == 404
