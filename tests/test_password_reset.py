"""Staff who forgot their password get a link by e-mail and choose a new one: the request answers
the same for every address, the link works once for an hour and only the newest one works, the
token is only in the mail (the table keeps its hash), the new password follows the change-password
page's rules, and the account's logins end."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.accounts.models import AuditEvent, PasswordResetToken, User
from tests.staff import csrf_from, logged_in, new_client

OLD_PASSWORD = "gammalt-lösenord-2025"
NEW_PASSWORD = "ett helt nytt lösenord"
LINK = re.compile(r"http://testserver/losenord/nytt/([A-Za-z0-9_-]+)")
NEUTRAL = "Om adressen hör till ett konto har vi skickat en länk till den."


@pytest.fixture(autouse=True)
def _fresh_limits(client) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import service

    service.reset_login_limits()


def _person(*, active: bool = True, temporary: bool = False) -> str:
    from consult.accounts import service
    from consult.db import session_scope

    address = f"glomsk-{uuid.uuid4().hex[:8]}@region.se"
    with session_scope() as session:
        user = service.create_user(session, email=address, password=OLD_PASSWORD, role="analyst", temporary=temporary)
        user.active = active
    return address


def _user(address: str) -> User:
    from consult.db import session_scope

    with session_scope() as session:
        user = session.execute(select(User).where(User.email == address)).scalar_one()
        session.expunge(user)
        return user


def _ask(client, address: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/losenord/glomt").text)
    return client.post("/losenord/glomt", data={"csrftoken": token, "email": address})


def _mails(raw: list[bytes]) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(item, policy=email.policy.default) for item in raw]  # type: ignore[misc]


def _link_token(raw: list[bytes]) -> str:
    [mail] = _mails(raw)
    match = LINK.search(mail.get_content())
    assert match, mail.get_content()
    return match.group(1)


def _choose(client, token: str, new: str, repeated: str | None = None):  # type: ignore[no-untyped-def]
    csrf = csrf_from(client.get("/login").text)
    form = {"csrftoken": csrf, "new": new, "repeated": new if repeated is None else repeated}
    return client.post(f"/losenord/nytt/{token}", data=form)


def _can_log_in(app, address: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    from consult.accounts import service

    service.reset_login_limits()
    client = new_client(app)
    csrf = csrf_from(client.get("/login").text)
    return client.post("/login", data={"csrftoken": csrf, "email": address, "password": password}).status_code == 303


def _events(address: str, action: str) -> list[AuditEvent]:
    from consult.db import session_scope

    user_id = _user(address).id
    with session_scope() as session:
        events = session.execute(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.target == f"user:{user_id}")
        ).scalars().all()
        for event in events:
            session.expunge(event)
        return list(events)


def test_the_whole_way_from_the_login_page_to_logging_in_with_the_new_password(app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    address = _person(temporary=True)
    other_browser = logged_in(app, address, OLD_PASSWORD)
    assert other_browser.get("/personal/losenord").status_code == 200

    client = new_client(app)
    login = client.get("/login").text
    assert '<a href="/losenord/glomt">Glömt lösenordet?</a>' in login
    form = client.get("/losenord/glomt")
    assert form.status_code == 200 and 'action="/losenord/glomt"' in form.text
    asked = _ask(client, "  " + address.upper() + " ")
    assert asked.status_code == 303 and asked.headers["location"] == "/losenord/glomt?skickat=1"
    assert NEUTRAL in client.get(asked.headers["location"]).text

    [mail] = _mails(smtp_server)
    assert mail["To"] == address and mail["Subject"] == "Välj ett nytt lösenord"
    assert "inom en timme" in mail.get_content()
    token = _link_token(smtp_server)

    page = client.get(f"/losenord/nytt/{token}")
    assert page.status_code == 200 and address in page.text and page.headers["cache-control"] == "no-store"
    assert 'autocomplete="new-password"' in page.text
    done = _choose(client, token, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/login?nytt_losenord=1"
    assert "Ditt nya lösenord är sparat. Logga in med det." in client.get(done.headers["location"]).text

    assert _can_log_in(app, address, NEW_PASSWORD)
    assert not _can_log_in(app, address, OLD_PASSWORD)
    assert _user(address).password_temporary is False
    # The login made with the old password has ended.
    ended = other_browser.get("/personal")
    assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
    # The link worked once.
    again = client.get(f"/losenord/nytt/{token}")
    assert again.status_code == 410 and "Länken har redan använts" in again.text
    assert 'href="/losenord/glomt"' in again.text
    reused = _choose(client, token, "ännu ett nytt lösenord")
    assert reused.status_code == 410 and _can_log_in(app, address, NEW_PASSWORD)

    [requested] = _events(address, "user.password_reset_requested")
    [completed] = _events(address, "user.password_reset_done")
    assert requested.user_id == completed.user_id == _user(address).id
    assert token not in repr((requested.details, completed.details, requested.target, completed.target))


def test_an_address_without_an_account_gets_the_same_answer_and_no_mail(app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts.routes import RESET_ANSWER_SECONDS
    from consult.db import session_scope

    known, unknown = _person(), f"ingen-{uuid.uuid4().hex[:8]}@region.se"
    client = new_client(app)
    started = time.monotonic()
    answer_unknown = _ask(client, unknown)
    took_unknown = time.monotonic() - started
    assert smtp_server == []
    started = time.monotonic()
    answer_known = _ask(client, known)
    took_known = time.monotonic() - started
    assert len(smtp_server) == 1

    assert answer_unknown.status_code == answer_known.status_code == 303
    assert answer_unknown.headers["location"] == answer_known.headers["location"]
    assert answer_unknown.text == answer_known.text
    # Neither answer is quicker than the floor every request waits for, so timing tells nothing.
    assert took_unknown >= RESET_ANSWER_SECONDS and took_known >= RESET_ANSWER_SECONDS
    with session_scope() as session:
        logged = session.execute(select(AuditEvent).where(AuditEvent.action == "user.password_reset_requested"))
        assert all(unknown not in repr(event.details) for event in logged.scalars())


def test_a_deactivated_account_gets_no_mail(app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    address = _person(active=False)
    answer = _ask(new_client(app), address)
    assert answer.status_code == 303 and answer.headers["location"] == "/losenord/glomt?skickat=1"
    assert smtp_server == []
    [event] = _events(address, "user.password_reset_requested")
    assert event.details == {"sent": False}


def test_the_token_is_stored_only_as_its_hash(app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    address = _person()
    _ask(new_client(app), address)
    token = _link_token(smtp_server)
    with session_scope() as session:
        [row] = session.execute(
            select(PasswordResetToken).where(PasswordResetToken.user_id == _user(address).id)
        ).scalars().all()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in repr(row.model_dump())
        lifetime = row.expires_at - row.created_at
        assert timedelta(minutes=59) < lifetime <= timedelta(hours=1)


def test_a_new_request_replaces_the_older_link(app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    address = _person()
    client = new_client(app)
    _ask(client, address)
    _ask(client, address)
    first, second = (LINK.search(mail.get_content()).group(1) for mail in _mails(smtp_server))  # type: ignore[union-attr]
    replaced = client.get(f"/losenord/nytt/{first}")
    assert replaced.status_code == 404 and "Länken är inte giltig" in replaced.text
    assert _choose(client, first, NEW_PASSWORD).status_code == 404
    assert client.get(f"/losenord/nytt/{second}").status_code == 200
    assert _can_log_in(app, address, OLD_PASSWORD)


def test_an_expired_link_is_refused_with_a_way_to_ask_again(app) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import reset
    from consult.core.fields import utcnow
    from consult.db import session_scope

    address = _person()
    with session_scope() as session:
        token = reset.request_link(session, email=address, now=utcnow() - timedelta(minutes=61))
    assert token is not None
    client = new_client(app)
    page = client.get(f"/losenord/nytt/{token}")
    assert page.status_code == 410 and "Länken har gått ut" in page.text
    assert '<a class="button button-primary" href="/losenord/glomt">Be om en ny länk</a>' in page.text
    refused = _choose(client, token, NEW_PASSWORD)
    assert refused.status_code == 410 and "Länken har gått ut" in refused.text
    assert _can_log_in(app, address, OLD_PASSWORD)


@pytest.mark.parametrize("token", ["X" * 26, "A" * 43, "ä" * 43, "a" * 300])
def test_an_unknown_link_gets_a_clear_page(app, token: str) -> None:  # type: ignore[no-untyped-def]
    client = new_client(app)
    page = client.get(f"/losenord/nytt/{token}")
    assert page.status_code == 404 and "Länken fungerar inte" in page.text and 'href="/losenord/glomt"' in page.text
    assert _choose(client, token, NEW_PASSWORD).status_code == 404


def test_a_weak_or_mistyped_password_is_refused_beside_the_field(app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    address = _person()
    client = new_client(app)
    _ask(client, address)
    token = _link_token(smtp_server)
    before = _user(address).password_hash
    cases = (
        ("kort", "kort", "new", "Lösenordet måste vara minst 10 tecken långt."),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "repeated", "De två nya lösenorden är inte likadana."),
    )
    for new, repeated, field, message in cases:
        refused = _choose(client, token, new, repeated)
        assert refused.status_code == 422
        assert re.search(rf'id="{field}-error"[^>]*>.*?{re.escape(message)}', refused.text, re.S), refused.text
        assert f'id="field-{field}"' in refused.text and 'aria-invalid="true"' in refused.text
        assert 'class="error-summary"' in refused.text and f'href="#field-{field}"' in refused.text
    assert _user(address).password_hash == before
    assert client.get(f"/losenord/nytt/{token}").status_code == 200  # the link still works
    assert _events(address, "user.password_reset_done") == []


def test_a_bad_address_is_answered_beside_the_field(app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    client = new_client(app)
    for typed, message in (("", "Ange din e-postadress."), ("anna@", "Ange en e-postadress som namn@exempel.se.")):
        refused = _ask(client, typed)
        assert refused.status_code == 422
        assert re.search(r'id="email-error"[^>]*>.*?' + re.escape(message), refused.text, re.S)
        assert 'aria-invalid="true"' in refused.text
    assert smtp_server == []


def test_one_address_or_one_client_cannot_ask_for_endless_mails(app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import reset, service

    address = _person()
    client = new_client(app)
    per_address = reset._limits_for(reset.reset_rate())[0].amount
    for _ in range(per_address):
        assert _ask(client, address).status_code == 303
    refused = _ask(client, address)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "För många begäranden om länk" in refused.text
    assert len(smtp_server) == per_address
    # An address without an account is limited the same way: the limit tells nothing.
    unknown = f"ingen-{uuid.uuid4().hex[:8]}@region.se"
    for _ in range(per_address):
        assert _ask(client, unknown).status_code == 303
    assert _ask(client, unknown).status_code == 429

    # One client asking for many addresses is stopped too.
    service.reset_login_limits()
    per_client = per_address * reset.CLIENT_LIMIT_FACTOR
    for n in range(per_client):
        assert _ask(client, f"person{n}-{uuid.uuid4().hex[:6]}@region.se").status_code == 303
    assert _ask(client, f"en-till-{uuid.uuid4().hex[:6]}@region.se").status_code == 429


def test_the_forms_refuse_a_missing_csrf_token(app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    address = _person()
    client = new_client(app)
    client.get("/losenord/glomt")  # the browser has its CSRF cookie; the form's token is left out
    assert client.post("/losenord/glomt", data={"email": address}).status_code == 403
    assert smtp_server == []
    _ask(client, address)
    token = _link_token(smtp_server)
    refused = client.post(f"/losenord/nytt/{token}", data={"new": NEW_PASSWORD, "repeated": NEW_PASSWORD})
    assert refused.status_code == 403
    assert _can_log_in(app, address, OLD_PASSWORD)
    assert client.get(f"/losenord/nytt/{token}").status_code == 200


def test_without_a_mail_server_the_page_says_to_ask_an_admin(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CONSULT_SMTP_HOST", raising=False)
    client = new_client(app)
    page = client.get("/losenord/glomt")
    assert page.status_code == 200
    assert "Tjänsten kan inte skicka e-post" in page.text and "Be en administratör" in page.text
    assert 'action="/losenord/glomt"' not in page.text
    csrf = csrf_from(client.get("/login").text)
    refused = client.post("/losenord/glomt", data={"csrftoken": csrf, "email": _person()})
    assert refused.status_code == 404 and "Be en administratör" in refused.text


def test_a_password_changed_otherwise_ends_the_open_links(app, smtp_server) -> None:  # type: ignore[no-untyped-def]
    """A link asked for before the person changed their password (or an admin reset it) must not
    undo the change."""
    address = _person()
    client = new_client(app)
    _ask(client, address)
    token = _link_token(smtp_server)
    own = logged_in(app, address, OLD_PASSWORD)
    csrf = csrf_from(own.get("/personal/losenord").text)
    changed = own.post("/personal/losenord", data={"csrftoken": csrf, "current": OLD_PASSWORD,
                                                    "new": NEW_PASSWORD, "repeated": NEW_PASSWORD})
    assert changed.status_code == 200
    assert client.get(f"/losenord/nytt/{token}").status_code == 404
