"""Renaming and removing campaign links in Chromium: the rename form with its error beside the
field, the confirmation before a removal and the page that says why a link responses carry
stays, each checked by axe-core."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import assert_accessible, screenshot
from tests.factories import every_type_survey, store

pytestmark = pytest.mark.browser

PASSWORD = "ett-långt-lösenord-42"


def _log_in_as_analyst(page, next_path: str) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import service
    from consult.db import session_scope

    email = f"browser-links-{uuid.uuid4().hex[:8]}@test.se"
    with session_scope() as session:
        service.create_user(session, email=email, password=PASSWORD, role="analyst")
    page.goto(f"/login?next={next_path}")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"**{next_path}")


def _create(page, name: str, tag: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Namn").fill(name)
    page.get_by_label("Tagg", exact=True).fill(tag)
    page.get_by_role("button", name="Skapa länken").click()
    page.get_by_role("status").filter(has_text=f"taggen {tag} har skapats").wait_for()


def test_a_campaign_link_is_renamed_and_another_removed(page) -> None:  # type: ignore[no-untyped-def]
    spec = store(every_type_survey())
    campaigns = f"/admin/surveys/{spec.slug}/campaigns"
    _log_in_as_analyst(page, campaigns)
    _create(page, "Affisch Sollef", "affisch-solleftea")
    _create(page, "Fel länk", "fel-lank")

    page.get_by_role("link", name="Byt namn (Affisch Sollef)").click()
    page.wait_for_url("**/affisch-solleftea/namn")
    assert_accessible(page)
    page.get_by_label("Namn").fill("")
    page.get_by_role("button", name="Spara namnet").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "Skriv ett namn på länken" in page.locator("#name-error").inner_text()
    assert page.get_by_label("Namn").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "campaign-link-rename-error")
    page.get_by_label("Namn").fill("Affisch i Sollefteå")
    page.get_by_role("button", name="Spara namnet").click()
    page.get_by_role("status").filter(has_text="har fått ett nytt namn").wait_for()
    assert page.get_by_role("heading", name="Affisch i Sollefteå").is_visible()

    page.get_by_role("link", name="Ta bort (Fel länk)").click()
    page.wait_for_url("**/fel-lank/ta-bort")
    assert_accessible(page)
    screenshot(page, "campaign-link-remove-confirm")
    page.get_by_role("button", name="Ta bort länken").click()
    page.get_by_role("status").filter(has_text="taggen fel-lank har tagits bort").wait_for()
    assert page.get_by_role("heading", name="Fel länk").count() == 0
    assert_accessible(page)


def test_a_link_that_responses_carry_says_why_it_stays(page) -> None:  # type: ignore[no-untyped-def]
    from consult.campaigns import service
    from consult.db import session_scope
    from consult.responses.models import Channel
    from consult.responses.service import NewResponse, store_responses

    spec = store(every_type_survey())
    assert spec.id is not None
    with session_scope() as session:
        service.create_link(session, survey_id=spec.id, name="Facebook", tag="facebook", user_id=None)
        store_responses(session, [NewResponse(spec=spec, client_uuid=str(uuid.uuid4()), values={"kommun": 1, "val": 1},
                                              channel=Channel.campaign, campaign_tag="facebook")])
    _log_in_as_analyst(page, f"/admin/surveys/{spec.slug}/campaigns/facebook/ta-bort")
    assert "Länken kan inte tas bort: 1 svar har dess tagg facebook" in page.locator("#remove-refused").inner_text()
    assert page.get_by_role("button", name="Ta bort länken").count() == 0
    assert_accessible(page)
    screenshot(page, "campaign-link-remove-refused")
