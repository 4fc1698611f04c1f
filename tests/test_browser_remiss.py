"""An organisation answers the remiss through its personal link in Chromium: with JavaScript it
anchors a comment to a passage it selects in the draft; without JavaScript it uses the section
picker. Both save a draft, submit and get the receipt; axe-core checks each page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from consult.remiss import service
from tests.conftest import assert_accessible, screenshot

pytestmark = pytest.mark.browser

PASSAGE = "snabb, robust och säker digital infrastruktur"


@pytest.fixture(scope="module")
def remiss_round(migrated: str, demo) -> str:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.strategy.service import version_by_key

    key = f"browser-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        service.load_demo_remiss(session)
        version = version_by_key(session, key="rus-2025")
        assert version is not None and version.id is not None
        service.create_round(
            session,
            key=key,
            version_id=version.id,
            title={"sv": "Remiss: Regional utvecklingsstrategi 2025", "en": "Consultation: strategy 2025"},
            deadline=datetime.now(UTC) + timedelta(days=14),
        )
    return key


def organisation_link(round_key: str, name: str) -> str:
    from consult.db import session_scope

    with session_scope() as session:
        remiss_round = service.round_by_key(session, key=round_key)
        assert remiss_round is not None
        _invitation, token = service.register_organisation(
            session,
            remiss_round=remiss_round,
            name=name,
            actor_type="Kommun",
            area="Kramfors",
            email="kommun@kramfors.example.se",
        )
    return f"/r/{token}"


def stored_content(link: str) -> tuple[str, dict]:
    from consult.db import session_scope

    with session_scope() as session:
        context = service.context_for_token(session, token=link.rsplit("/", 1)[-1])
        assert context is not None
        return context.answer.status, context.answer.content


SELECT_PASSAGE = """([key, passage]) => {
  const element = document.querySelector(`[data-anchor="${key}"]`);
  const node = element.firstChild;
  const start = node.textContent.indexOf(passage);
  const range = document.createRange();
  range.setStart(node, start);
  range.setEnd(node, start + passage.length);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return start;
}"""


def test_organisation_answers_with_a_comment_on_a_selected_passage(page, remiss_round: str) -> None:  # type: ignore[no-untyped-def]
    link = organisation_link(remiss_round, f"Kramfors kommun {uuid.uuid4().hex[:4]}")
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Remissvar från Kramfors kommun")
    assert page.locator("#passage-tool").is_hidden()
    assert_accessible(page)

    page.check("#position__folkhalsa-partly")
    page.check("#position__hallbart-resande-disagree")
    page.fill("#field-comment__hallbart-resande", "Kvällsturerna till Kramfors saknas.")

    start = page.evaluate(SELECT_PASSAGE, ["leva-insatser", PASSAGE])
    page.get_by_role("button", name="Kommentera det markerade stycket").click()
    assert page.locator("#field-new_section").input_value() == "leva-insatser"
    assert page.locator("#field-new_quote").input_value() == PASSAGE
    assert page.evaluate("document.activeElement.id") == "field-new_text"
    page.fill("#field-new_text", "Mobiltäckningen längs E4 måste också med.")
    page.get_by_role("button", name="Lägg till kommentar").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert "Ert utkast är sparat (version 1)" in page.locator(".notice").inner_text()
    assert PASSAGE in page.locator(".anchored-comment blockquote").inner_text()
    assert page.locator("#field-comment__hallbart-resande").input_value() == "Kvällsturerna till Kramfors saknas."
    assert_accessible(page)
    screenshot(page, "remiss-01-draft-with-anchored-comment")

    _status, content = stored_content(link)
    anchored = content["anchored"][0]
    assert (anchored["section"], anchored["quote"], anchored["start"]) == ("leva-insatser", PASSAGE, start)
    assert anchored["end"] == start + len(PASSAGE)

    page.fill("#field-overall", "Kramfors kommun ställer sig bakom förslaget.")
    page.get_by_role("button", name="Spara utkast").click()
    page.wait_for_url(re.compile(r"saved=2"))
    assert page.locator("#field-overall").input_value() == "Kramfors kommun ställer sig bakom förslaget."

    page.get_by_role("button", name="Skicka in svaret").click()  # no consent choice yet: an error, nothing lost
    summary = page.locator(".error-summary")
    assert "Ange om ert svar får publiceras" in summary.inner_text()
    assert page.locator("#field-overall").input_value() == "Kramfors kommun ställer sig bakom förslaget."
    assert_accessible(page)

    page.get_by_label("Ja, svaret får publiceras").check()
    page.get_by_role("button", name="Skicka in svaret").click()
    # Positions on two of seventeen priorities: asked once whether the rest are left out on purpose.
    notice = page.locator("#unanswered")
    notice.wait_for()
    assert "Ert svar tar inte ställning till 15 prioriteringar" in notice.inner_text()
    assert page.evaluate("document.activeElement.id") == "unanswered"
    assert page.locator("#field-overall").input_value() == "Kramfors kommun ställer sig bakom förslaget."
    assert_accessible(page)
    screenshot(page, "remiss-02b-unanswered")
    page.get_by_role("button", name="Skicka in utan de här ställningstagandena").click()
    page.wait_for_url(re.compile(r"/kvitto$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Ert svar har tagits emot"
    assert PASSAGE in page.locator("blockquote").inner_text()
    assert "Instämmer delvis" in page.content() and "Instämmer inte" in page.content()
    assert page.get_by_role("button", name="Skriv ut").is_visible()
    assert_accessible(page)
    screenshot(page, "remiss-02-receipt")
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden() and page.get_by_role("button", name="Skriv ut").is_hidden()
    status, _content = stored_content(link)
    assert status == "submitted"


def test_organisation_answers_without_javascript_using_the_section_picker(page_no_js, remiss_round: str) -> None:  # type: ignore[no-untyped-def]
    page = page_no_js
    link = organisation_link(remiss_round, f"Sollefteå kommun {uuid.uuid4().hex[:4]}")
    page.goto(link)
    assert page.locator("#passage-tool").is_hidden()
    page.check("#position__attraktiva-orter-agree")
    page.select_option("#field-new_section", "plats-2030")
    page.fill("#field-new_quote", "Påverkansarbetet är samordnat över länsgränserna.")
    page.fill("#field-new_text", "Samordningen med Jämtland behöver nämnas.")
    page.get_by_role("button", name="Lägg till kommentar").click()
    assert "Ert utkast är sparat (version 1)" in page.locator(".notice").inner_text()
    assert "Samordningen med Jämtland behöver nämnas." in page.locator(".anchored-comment textarea").input_value()

    page.fill("#field-new_text", "En kommentar utan vald del.")
    page.get_by_role("button", name="Spara utkast").click()
    assert "Välj den del av förslaget som kommentaren gäller" in page.locator(".error-summary").inner_text()
    assert page.locator("#field-new_text").input_value() == "En kommentar utan vald del."
    screenshot(page, "remiss-03-nojs-error")
    page.select_option("#field-new_section", "principer")
    page.check("#consent-no")
    page.get_by_role("button", name="Skicka in svaret").click()
    assert "Ert svar tar inte ställning till" in page.locator("#unanswered").inner_text()  # no position given
    page.get_by_role("button", name="Skicka in utan de här ställningstagandena").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ert svar har tagits emot"
    assert "Svaret publiceras inte." in page.content()
    status, content = stored_content(link)
    assert status == "submitted"
    sections = [c["section"] for c in content["anchored"]]
    assert sections == ["plats-2030", "principer"]
    assert content["anchored"][0]["start"] is not None  # the server found the hand-typed quote


@pytest.mark.parametrize("javascript", [True, False])
def test_switching_language_keeps_what_was_typed_and_enter_saves(  # type: ignore[no-untyped-def]
    page, page_no_js, remiss_round: str, javascript: bool
) -> None:
    page = page if javascript else page_no_js
    link = organisation_link(remiss_round, f"Härnösands kommun {uuid.uuid4().hex[:4]}")
    page.goto(link)
    page.check("#position__folkhalsa-partly")
    page.fill("#field-overall", "Skrivet innan språket byttes.")
    page.get_by_role("button", name="In English").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Answer from Härnösands kommun")
    assert page.locator("#field-overall").input_value() == "Skrivet innan språket byttes."
    assert page.locator("#position__folkhalsa-partly").is_checked()
    # Enter in a single-line field saves (the form's default button) and keeps the language.
    page.fill("#field-new_quote", "")
    page.fill("#field-overall", "Ändrat och sparat med Enter.")
    page.locator("#field-new_quote").press("Enter")
    page.wait_for_url(re.compile(r"saved=2"))
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#field-overall").input_value() == "Ändrat och sparat med Enter."
    _status, content = stored_content(link)
    assert content["overall"] == "Ändrat och sparat med Enter." and content["positions"] == {"folkhalsa": "partly"}
    page.get_by_role("button", name="På svenska").click()  # nothing changed: no new version
    page.wait_for_function("document.documentElement.lang === 'sv'")
    assert page.url.endswith("saved=2")
