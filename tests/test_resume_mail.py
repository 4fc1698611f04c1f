"""The resume link sent to the respondent's own e-mail address on request."""

from __future__ import annotations

import email
import email.policy
import re

from sqlalchemy import select

from tests.factories import every_type_survey, store
from tests.test_survey_pages import csrf, start


def _messages(raw: list[bytes]) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(item, policy=email.policy.default) for item in raw]  # type: ignore[misc]


def test_the_link_is_mailed_and_the_address_is_not_kept(client, smtp_server) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.responses.models import ResponseDraft

    spec = store(every_type_survey())
    url, html = start(client, spec.slug)
    token = url.split("/r/")[1].split("/")[0]
    assert f'action="/s/{spec.slug}/r/{token}/lank"' in html and "Eller få länken med e-post" in html
    sent = client.post(
        f"/s/{spec.slug}/r/{token}/lank",
        data={"csrftoken": csrf(html), "resume-email": " anna@example.se "},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("?lank=skickad#resume")
    page = client.get(sent.headers["location"])
    assert "Länken är på väg till din e-post" in page.text and "anna@example.se" not in page.text
    [mail] = _messages(smtp_server)
    assert mail["To"] == "anna@example.se" and mail["Subject"] == "Din länk till enkäten Testenkät"
    body = mail.get_content()
    assert f"http://testserver/s/{spec.slug}/r/{token}" in body and "dela den inte med någon" in body
    with session_scope() as session:
        drafts = session.execute(select(ResponseDraft).where(ResponseDraft.token == token)).scalars().all()
        assert "anna@example.se" not in repr([d.answers for d in drafts])


def test_a_bad_address_gets_a_message_beside_the_field_and_nothing_is_sent(client, smtp_server) -> None:  # type: ignore[no-untyped-def]
    spec = store(every_type_survey())
    url, html = start(client, spec.slug)
    token = url.split("/r/")[1].split("/")[0]
    for typed, message in (("", "Ange din e-postadress."), ("anna@", "Ange en e-postadress som namn@exempel.se.")):
        refused = client.post(f"/s/{spec.slug}/r/{token}/lank", data={"csrftoken": csrf(html), "resume-email": typed})
        assert refused.status_code == 422
        assert re.search(r'id="resume-email-error"[^>]*>.*?' + re.escape(message), refused.text, re.S)
        assert 'aria-invalid="true"' in refused.text and '<details class="resume" id="resume" open>' in refused.text
    assert smtp_server == []


def test_without_a_mail_server_there_is_no_mail_form(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CONSULT_SMTP_HOST", raising=False)
    spec = store(every_type_survey())
    url, html = start(client, spec.slug)
    token = url.split("/r/")[1].split("/")[0]
    assert "/lank" not in html and "Eller få länken med e-post" not in html
    refused = client.post(f"/s/{spec.slug}/r/{token}/lank", data={"csrftoken": csrf(html), "resume-email": "a@b.se"})
    assert refused.status_code == 404


def test_an_unreachable_mail_server_says_so_and_keeps_the_address(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CONSULT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CONSULT_SMTP_PORT", "9")  # nothing listens there
    monkeypatch.setenv("CONSULT_SMTP_FROM", "enkat@region.example.se")
    spec = store(every_type_survey())
    url, html = start(client, spec.slug)
    token = url.split("/r/")[1].split("/")[0]
    failed = client.post(f"/s/{spec.slug}/r/{token}/lank", data={"csrftoken": csrf(html), "resume-email": "a@b.se"})
    assert failed.status_code == 503
    assert "E-postmeddelandet kunde inte skickas just nu" in failed.text and 'value="a@b.se"' in failed.text


def test_asking_for_many_links_is_limited(client, smtp_server) -> None:  # type: ignore[no-untyped-def]
    from consult.core import ratelimit

    ratelimit.reset()
    spec = store(every_type_survey())
    url, html = start(client, spec.slug)
    token = url.split("/r/")[1].split("/")[0]
    statuses = [
        client.post(
            f"/s/{spec.slug}/r/{token}/lank",
            data={"csrftoken": csrf(html), "resume-email": f"x{n}@b.se"},
            follow_redirects=False,
        ).status_code
        for n in range(6)
    ]
    assert statuses == [303] * 5 + [429] and len(smtp_server) == 5
    ratelimit.reset()
