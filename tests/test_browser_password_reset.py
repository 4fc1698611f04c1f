"""A staff member who forgot their password, in Chromium against a server with a mail server: from
the login page to the request form, the mailed link, the new-password form with its error state,
and back to logging in. axe-core on every page."""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid

import pytest

from tests.conftest import assert_accessible, screenshot

pytestmark = pytest.mark.browser

OLD_PASSWORD = "det-gamla-lösenordet-1"
NEW_PASSWORD = "tre ord som inte hör ihop"


def _mailed_link(messages: list[bytes]) -> str:
    """The link in the first mail, which the server sends just after its answer."""
    for _ in range(100):
        if messages:
            break
        time.sleep(0.1)
    body = email.message_from_bytes(messages[0], policy=email.policy.default).get_content()  # type: ignore[attr-defined]
    match = re.search(r"(http://127\.0\.0\.1:\d+/losenord/nytt/[A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


def test_a_forgotten_password_is_replaced_from_the_mailed_link(mail_server, mail_page) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import service
    from consult.db import session_scope

    _url, messages = mail_server
    address = f"glomde-{uuid.uuid4().hex[:6]}@region.se"
    with session_scope() as session:
        service.create_user(session, email=address, password=OLD_PASSWORD, role="interviewer")
    page = mail_page

    page.goto("/login")
    page.get_by_role("link", name="Glömt lösenordet?").click()
    page.wait_for_url(re.compile(r"/losenord/glomt$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Glömt lösenordet?"
    assert_accessible(page)

    page.get_by_label("E-postadress").fill("anna@")
    page.get_by_role("button", name="Skicka länken").click()
    page.locator("#email-error").filter(has_text="Ange en e-postadress som namn@exempel.se.").wait_for()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("E-postadress").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("E-postadress").input_value() == "anna@"
    assert_accessible(page)
    screenshot(page, "password-reset-request-error")

    page.get_by_label("E-postadress").fill(address)
    page.get_by_role("button", name="Skicka länken").click()
    page.get_by_role("status").filter(has_text="Om adressen hör till ett konto har vi skickat en länk").wait_for()
    assert address not in page.content()
    assert_accessible(page)
    screenshot(page, "password-reset-request-sent")

    page.goto(_mailed_link(messages))
    assert page.get_by_role("heading", level=1).inner_text() == "Välj ett nytt lösenord"
    assert address in page.content()
    assert_accessible(page)

    page.get_by_label("Nytt lösenord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Det nya lösenordet igen").fill(NEW_PASSWORD + " fel")
    page.get_by_role("button", name="Spara det nya lösenordet").click()
    page.locator("#repeated-error").filter(has_text="De två nya lösenorden är inte likadana.").wait_for()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Det nya lösenordet igen").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "password-reset-new-password-error")

    page.get_by_label("Nytt lösenord", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Det nya lösenordet igen").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Spara det nya lösenordet").click()
    page.wait_for_url(re.compile(r"/login\?nytt_losenord=1$"))
    page.get_by_role("status").filter(has_text="Ditt nya lösenord är sparat").wait_for()
    assert_accessible(page)

    page.get_by_label("E-postadress").fill(address)
    page.get_by_label("Lösenord").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/personal$"))

    page.goto(_mailed_link(messages))
    assert page.get_by_role("heading", level=1).inner_text() == "Länken fungerar inte"
    assert "Länken har redan använts" in page.content()
    assert_accessible(page)
