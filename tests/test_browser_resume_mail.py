"""A respondent who has to stop half-way has the resume link mailed to them, in a real browser against
a server that has a mail server set up, and continues from the mailed link in another browser."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from tests.conftest import assert_accessible, screenshot
from tests.factories import every_type_survey, store
from tests.test_browser_survey_errors import answer_page_one, start

pytestmark = pytest.mark.browser


def test_the_mailed_link_continues_where_the_respondent_stopped(browser, mail_server, mail_page) -> None:  # type: ignore[no-untyped-def]
    url, messages = mail_server
    spec = store(every_type_survey())
    page = mail_page
    start(page, spec)
    answer_page_one(page)
    page.get_by_text("Fortsätt senare").click()
    field = page.get_by_label("Eller få länken med e-post")

    field.fill("anna@")
    page.get_by_role("button", name="Skicka länken").click()
    page.locator("#resume-email-error").filter(has_text="Ange en e-postadress som namn@exempel.se.").wait_for()
    assert page.get_by_label("Eller få länken med e-post").input_value() == "anna@"
    assert page.evaluate("document.activeElement.id") == "resume-email-error"
    assert messages == []
    assert_accessible(page)
    screenshot(page, "resume-mail-error")

    page.get_by_label("Eller få länken med e-post").fill("anna@example.se")
    page.get_by_role("button", name="Skicka länken").click()
    page.get_by_role("status").filter(has_text="Länken är på väg till din e-post").wait_for()
    assert "anna@example.se" not in page.content()
    assert_accessible(page)
    screenshot(page, "resume-mail-sent")

    [raw] = messages
    mail = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[arg-type]
    assert mail["To"] == "anna@example.se"
    [link] = re.findall(rf"{re.escape(url)}/s/{spec.slug}/r/\S+", mail.get_content())

    # Another browser (the phone the mail is read on): the link opens the page the respondent left,
    # with the first page's answers kept.
    other = browser.new_context(locale="sv-SE", java_script_enabled=False)
    try:
        resumed = other.new_page()
        resumed.goto(link)
        resumed.get_by_role("button", name="Skicka").wait_for()
        assert "Sida 2 av 2" in resumed.locator("#progress").inner_text()
        resumed.get_by_role("button", name="Tillbaka").click()
        resumed.wait_for_url("**/r/**/1")
        assert resumed.get_by_label("Kramfors").is_checked()
    finally:
        other.close()
