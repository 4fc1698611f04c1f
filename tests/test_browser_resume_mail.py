"""A respondent who has to stop half-way has the resume link mailed to them, in a real browser against
a server that has a mail server set up, and continues from the mailed link in another browser."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator

import pytest

from tests.conftest import assert_accessible, screenshot, serve
from tests.factories import every_type_survey, store
from tests.mail import smtp_environment, smtp_sink
from tests.test_browser_survey_errors import answer_page_one, start

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mail_server(demo) -> Iterator[tuple[str, list[bytes]]]:  # type: ignore[no-untyped-def]
    """A second server process, this one with a mail server, and the messages it sends."""
    with smtp_sink() as (port, messages), serve(smtp_environment(port), "server-mail.log") as url:
        yield url, messages


@pytest.fixture()
def mail_page(browser, mail_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=mail_server[0], locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


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
