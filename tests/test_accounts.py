"""Staff accounts: login and logout, roles, expired sessions, rate limit, CSRF, passwords,
the audit log page and the create-user command."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from typer.testing import CliRunner

from consult.accounts import service
from consult.accounts.deps import SESSION_COOKIE, SESSION_MAX_AGE, session_secret
from consult.accounts.models import AuditEvent, Role
from consult.accounts.routes import safe_next

PASSWORD = "ett-långt-lösenord-42"
CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def accounts_tables(migrated: str) -> str:
    """The migrated test database, which has the staff_user and audit_event tables."""
    return migrated


@pytest.fixture(scope="module")
def staff(accounts_tables) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One user per role, with addresses of this module's own; returns role -> email."""
    from consult.db import session_scope

    suffix = uuid.uuid4().hex[:8]
    emails = {role.value: f"{role.value}-{suffix}@test.se" for role in Role}
    with session_scope() as session:
        for role, email in emails.items():
            service.create_user(session, email=email, password=PASSWORD, role=role, name=f"Test {role}")
    return emails


@pytest.fixture()
def browser_client(app) -> TestClient:  # type: ignore[no-untyped-def]
    """A client with a cookie jar of its own, so a login never leaks into other tests."""
    service.reset_login_limits()
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no csrftoken field"
    return match.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD, next_path: str = ""):  # type: ignore[no-untyped-def]
    form_page = client.get("/login" + (f"?next={next_path}" if next_path else ""))
    token = csrf_from(form_page.text)
    return client.post("/login", data={"csrftoken": token, "email": email, "password": password, "next": next_path})


def audit_events(action: str, user_email: str | None = None) -> list[AuditEvent]:
    from consult.db import session_scope

    with session_scope() as session:
        user = service.get_user_by_email(session, user_email) if user_email else None
        return service.list_audit(session, action=action, user_id=user.id if user else None)


def forged_session(payload: dict) -> str:
    """A session cookie as the app would sign it, with contents the test chooses."""
    from consult.config import get_settings

    data = base64.b64encode(json.dumps(payload).encode())
    return TimestampSigner(session_secret(get_settings().secret_key)).sign(data).decode()


# --- who may see what ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/personal", "/admin/audit", "/admin/audit?action=login"])
def test_anonymous_visitor_is_sent_to_login_and_back(browser_client, accounts_tables, path) -> None:  # type: ignore[no-untyped-def]
    response = browser_client.get(path)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [path]


def test_interviewer_and_analyst_get_403_on_audit_log(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    for role in (Role.interviewer, Role.analyst):
        client = TestClient(browser_client.app, follow_redirects=False)
        assert log_in(client, staff[role]).status_code == 303
        response = client.get("/admin/audit")
        assert response.status_code == 403
        assert "Du har inte behörighet till den här sidan" in response.text
        assert "Logga ut" in response.text  # the error page still shows who is logged in


def test_admin_sees_audit_log(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    assert log_in(browser_client, staff[Role.admin]).status_code == 303
    response = browser_client.get("/admin/audit")
    assert response.status_code == 200
    assert "<h1" in response.text and "Händelselogg" in response.text
    assert staff[Role.admin] in response.text  # its own login is in the log


def test_staff_menu_follows_the_role(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    log_in(browser_client, staff[Role.interviewer])
    page = browser_client.get("/personal")
    assert page.status_code == 200
    assert "Intervjuare" in page.text and 'href="/intervju"' in page.text
    assert 'href="/admin/audit"' not in page.text
    admin = TestClient(browser_client.app, follow_redirects=False)
    log_in(admin, staff[Role.admin])
    assert 'href="/admin/audit"' in admin.get("/personal").text


def test_admin_passes_every_role_check() -> None:
    assert service.role_allows("admin", {"analyst"})
    assert service.role_allows("analyst", {"analyst", "interviewer"})
    assert not service.role_allows("interviewer", {"analyst"})
    assert service.role_allows("interviewer", set())  # no roles listed: any staff user


# --- logging in and out ------------------------------------------------------------------------


def test_login_goes_to_the_page_asked_for(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    response = log_in(browser_client, staff[Role.admin], next_path="/admin/audit?action=login")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/audit?action=login"
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=lax" in response.headers["set-cookie"].lower()
    assert f"{SESSION_COOKIE}=" in response.headers["set-cookie"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/admin/audit?x=1", "/admin/audit?x=1"),
        ("//evil.example/", "/personal"),
        ("/\\evil.example", "/personal"),
        ("https://evil.example/", "/personal"),
        ("javascript:alert(1)", "/personal"),
        ("/login", "/personal"),
        ("", "/personal"),
    ],
)
def test_only_local_paths_are_redirect_targets(value: str, expected: str) -> None:
    assert safe_next(value) == expected


def test_login_refuses_to_redirect_elsewhere(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    response = log_in(browser_client, staff[Role.analyst], next_path="//evil.example/")
    assert response.headers["location"] == "/personal"


def test_wrong_password_shows_swedish_error_beside_the_field(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    response = log_in(browser_client, staff[Role.analyst], password="fel-lösenord")
    assert response.status_code == 422
    html = response.text
    assert 'href="#field-password"' in html  # the error summary links to the field
    beside = re.search(r'id="password-error">(.*?)</p>', html, re.S)
    assert beside and "E-postadressen eller lösenordet är fel" in beside.group(1)
    assert 'aria-describedby="password-error"' in html
    assert f'value="{staff[Role.analyst]}"' in html  # the email is kept, the password is not
    assert "fel-lösenord" not in html
    assert browser_client.get("/personal").status_code == 303  # not logged in
    assert audit_events("login_failed", staff[Role.analyst])


def test_empty_fields_are_reported_per_field(browser_client, accounts_tables) -> None:  # type: ignore[no-untyped-def]
    token = csrf_from(browser_client.get("/login").text)
    html = browser_client.post("/login", data={"csrftoken": token, "email": "", "password": ""}).text
    assert "Ange din e-postadress." in html and "Ange ditt lösenord." in html


def test_login_page_in_english(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    form_page = browser_client.get("/login?lang=en")
    assert "Log in for staff" in form_page.text
    response = browser_client.post(
        "/login", data={"csrftoken": csrf_from(form_page.text), "email": staff[Role.admin], "password": "nope-nope"}
    )
    assert "The email address or password is wrong." in response.text


def test_unknown_and_inactive_users_cannot_log_in(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    assert log_in(browser_client, "nobody@test.se").status_code == 422
    email = f"former-{uuid.uuid4().hex[:6]}@test.se"
    with session_scope() as session:
        user = service.create_user(session, email=email, password=PASSWORD, role="analyst")
        user.active = False
    assert log_in(browser_client, email).status_code == 422


def test_deactivating_a_user_ends_the_session(browser_client, accounts_tables) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    email = f"leaving-{uuid.uuid4().hex[:6]}@test.se"
    with session_scope() as session:
        service.create_user(session, email=email, password=PASSWORD, role="analyst")
    log_in(browser_client, email)
    assert browser_client.get("/personal").status_code == 200
    with session_scope() as session:
        service.get_user_by_email(session, email).active = False  # type: ignore[union-attr]
    assert browser_client.get("/personal").status_code == 303


def test_logout_ends_the_session(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    log_in(browser_client, staff[Role.interviewer])
    page = browser_client.get("/personal")
    response = browser_client.post("/logout", data={"csrftoken": csrf_from(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/login?logged_out=1"
    assert "Du har loggat ut." in browser_client.get("/login?logged_out=1").text
    assert browser_client.get("/personal").status_code == 303
    assert audit_events("logout", staff[Role.interviewer])


def test_expired_session_goes_to_login_and_back(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        admin_id = service.get_user_by_email(session, staff[Role.admin]).id  # type: ignore[union-attr]
    nine_hours_ago = int(time.time()) - SESSION_MAX_AGE - 3600
    browser_client.cookies.set(SESSION_COOKIE, forged_session({"user_id": admin_id, "login_at": nine_hours_ago}))
    response = browser_client.get("/admin/audit?action=logout")
    assert response.status_code == 303
    location = response.headers["location"]
    assert parse_qs(urlsplit(location).query) == {"next": ["/admin/audit?action=logout"], "expired": ["1"]}
    login_page = browser_client.get(location)
    assert "Din inloggning har gått ut" in login_page.text
    again = browser_client.post(
        "/login",
        data={
            "csrftoken": csrf_from(login_page.text),
            "email": staff[Role.admin],
            "password": PASSWORD,
            "next": "/admin/audit?action=logout",
        },
    )
    assert again.headers["location"] == "/admin/audit?action=logout"
    assert browser_client.get(again.headers["location"]).status_code == 200


def test_a_fresh_forged_login_time_is_accepted_but_a_forged_signature_is_not(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        admin_id = service.get_user_by_email(session, staff[Role.admin]).id  # type: ignore[union-attr]
    cookie = forged_session({"user_id": admin_id, "login_at": int(time.time()) - 60})
    browser_client.cookies.set(SESSION_COOKIE, cookie)
    assert browser_client.get("/admin/audit").status_code == 200
    browser_client.cookies.set(SESSION_COOKIE, cookie[:-3] + "abc")
    assert browser_client.get("/admin/audit").status_code == 303


# --- rate limit and CSRF -----------------------------------------------------------------------


def test_login_attempts_are_rate_limited(browser_client, staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CONSULT_LOGIN_RATE", "3/minute")
    email = staff[Role.analyst]
    statuses = [log_in(browser_client, email, password="wrong-wrong").status_code for _ in range(3)]
    assert statuses == [422, 422, 422]
    blocked = log_in(browser_client, email)  # even the right password waits
    assert blocked.status_code == 429
    assert "För många inloggningsförsök" in blocked.text and "Du kan försöka igen om" in blocked.text
    assert 0 < int(blocked.headers["retry-after"]) <= 60
    assert audit_events("login_blocked", email)
    # Another account from the same address is still allowed (the address limit is higher).
    assert log_in(browser_client, staff[Role.admin]).status_code == 303


def test_only_failed_logins_count_against_the_limit(browser_client, staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Staff in one office share an address; logging in correctly all day must not lock them out.
    monkeypatch.setenv("CONSULT_LOGIN_RATE", "2/minute")
    email = staff[Role.analyst]

    def attempt(password: str = PASSWORD) -> int:
        browser_client.cookies.clear()  # another colleague's browser at the same address
        return log_in(browser_client, email, password=password).status_code

    assert [attempt() for _ in range(4)] == [303] * 4
    assert attempt("wrong-wrong") == 422
    assert attempt() == 303  # one failure is under the limit
    assert attempt("wrong-wrong") == 422
    assert attempt() == 429  # two failures reach it


def test_login_without_csrf_token_is_refused(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    no_cookie = browser_client.post("/login", data={"email": staff[Role.admin], "password": PASSWORD})
    assert no_cookie.status_code == 403
    browser_client.get("/login")  # now the CSRF cookie is set, but the form field is missing
    no_field = browser_client.post("/login", data={"email": staff[Role.admin], "password": PASSWORD})
    assert no_field.status_code == 403
    assert SESSION_COOKIE not in no_field.headers.get("set-cookie", "")


def test_login_form_has_token_first_and_autocomplete(browser_client, accounts_tables) -> None:  # type: ignore[no-untyped-def]
    html = browser_client.get("/login").text
    form = html[html.index('<form method="post" action="/login"') :]
    first_input = re.search(r"<input[^>]*>", form)
    assert first_input and 'name="csrftoken"' in first_input.group(0)
    assert 'autocomplete="username"' in form and 'autocomplete="current-password"' in form
    assert '<label class="question-label" for="field-email">' in form
    assert '<label class="question-label" for="field-password">' in form


# --- passwords ---------------------------------------------------------------------------------


def test_password_is_stored_as_argon2_hash(staff) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        user = service.get_user_by_email(session, staff[Role.admin])
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        PasswordHasher().verify(user.password_hash, PASSWORD)


def test_hash_is_renewed_when_parameters_change(accounts_tables, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    email = f"old-hash-{uuid.uuid4().hex[:6]}@test.se"
    monkeypatch.setattr(service, "password_hasher", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    with session_scope() as session:
        old_hash = service.create_user(session, email=email, password=PASSWORD, role="analyst").password_hash
    monkeypatch.setattr(service, "password_hasher", PasswordHasher())
    with session_scope() as session:
        assert service.authenticate(session, email=email, password="not it at all") is None
        assert service.get_user_by_email(session, email).password_hash == old_hash  # type: ignore[union-attr]
        assert service.authenticate(session, email=email.upper(), password=PASSWORD) is not None
    with session_scope() as session:
        new_hash = service.get_user_by_email(session, email).password_hash  # type: ignore[union-attr]
    assert new_hash != old_hash and "m=65536" in new_hash and "m=8192" in old_hash


@pytest.mark.parametrize(
    ("email", "password", "role"),
    [("not-an-email", PASSWORD, "admin"), ("a@b.se", "short", "admin"), ("a@b.se", PASSWORD, "superuser")],
)
def test_bad_new_users_are_refused(accounts_tables, email: str, password: str, role: str) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with pytest.raises(service.AccountError), session_scope() as session:
        service.create_user(session, email=email, password=password, role=role)


def test_email_is_unique_whatever_the_case(staff) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with pytest.raises(service.AccountError), session_scope() as session:
        service.create_user(session, email=staff[Role.admin].upper(), password=PASSWORD, role="admin")


# --- command line ------------------------------------------------------------------------------


def test_create_user_reads_password_from_stdin(accounts_tables) -> None:  # type: ignore[no-untyped-def]
    from consult.cli import app as cli
    from consult.db import session_scope

    email = f"Cli-{uuid.uuid4().hex[:6]}@Test.se"
    result = CliRunner().invoke(
        cli, ["create-user", email, "--role", "interviewer", "--name", "Kim"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    with session_scope() as session:
        user = service.authenticate(session, email=email, password=PASSWORD)
        assert user is not None and user.role == "interviewer" and user.name == "Kim"
        assert user.email == email.lower()
    again = CliRunner().invoke(cli, ["create-user", email, "--role", "admin"], input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already" in again.output
    short = CliRunner().invoke(cli, ["create-user", "x@test.se", "--role", "admin"], input="kort\n")
    assert short.exit_code == 1 and "at least 10" in short.output


def test_demo_users_and_accounts_info(accounts_tables) -> None:  # type: ignore[no-untyped-def]
    from consult.cli import app as cli
    from consult.db import session_scope

    with session_scope() as session:
        service.ensure_demo_users(session)
    with session_scope() as session:
        assert service.ensure_demo_users(session) == []  # safe to run again
        roles = {service.get_user_by_email(session, email).role for email, *_ in service.DEMO_USERS}  # type: ignore[union-attr]
    assert roles == {"admin", "analyst", "interviewer"}
    output = CliRunner().invoke(cli, ["accounts-info"]).output
    for email, password, _role, _name in service.DEMO_USERS:
        assert email in output and password in output


# --- audit log ---------------------------------------------------------------------------------


def test_audit_log_filters(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    marker = f"survey:{uuid.uuid4().hex[:6]}"
    with session_scope() as session:
        analyst = service.get_user_by_email(session, staff[Role.analyst])
        service.record_audit(session, user_id=analyst.id, action="survey.edit", target=marker)  # type: ignore[union-attr]
    log_in(browser_client, staff[Role.admin])
    everything = browser_client.get("/admin/audit")
    assert marker in everything.text
    only_logins = browser_client.get("/admin/audit?action=login")
    assert marker not in only_logins.text and "Inloggad" in only_logins.text
    by_action = browser_client.get("/admin/audit?action=survey.edit").text
    assert marker in by_action and "Enkät ändrad" in by_action
    by_other_user = browser_client.get(f"/admin/audit?action=survey.edit&user={analyst.id + 1000}").text  # type: ignore[union-attr]
    assert marker not in by_other_user and "Inga händelser" in by_other_user
    assert marker not in browser_client.get("/admin/audit?from=2999-01-01").text
    assert marker in browser_client.get("/admin/audit?from=2000-01-01&to=2999-12-31").text


def test_audit_log_reports_a_bad_date(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    log_in(browser_client, staff[Role.admin])
    response = browser_client.get("/admin/audit?from=31/12/2025")
    assert response.status_code == 422
    assert re.search(r'id="from-error">.*Skriv datumet som ÅÅÅÅ-MM-DD', response.text, re.S)
    assert 'href="#field-from"' in response.text


def test_audit_log_pages(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    action = f"test.{uuid.uuid4().hex[:6]}"
    with session_scope() as session:
        for number in range(55):
            service.record_audit(session, user_id=None, action=action, target=f"item:{number}")
    log_in(browser_client, staff[Role.admin])
    first = browser_client.get(f"/admin/audit?action={action}").text
    assert "55 händelser" in first and "item:54<" in first and "item:4<" not in first
    assert f"/admin/audit?action={action}&amp;page=2" in first
    second = browser_client.get(f"/admin/audit?action={action}&page=2").text
    assert "item:4<" in second and "item:54<" not in second


def test_audit_keeps_no_clear_ip(browser_client, staff) -> None:  # type: ignore[no-untyped-def]
    log_in(browser_client, staff[Role.interviewer], password="wrong-wrong")
    event = audit_events("login_failed", staff[Role.interviewer])[0]
    assert event.ip_hash and "testclient" not in event.ip_hash and len(event.ip_hash) == 32


def test_htmx_request_is_sent_to_login_by_header(browser_client, accounts_tables) -> None:  # type: ignore[no-untyped-def]
    response = browser_client.get("/personal", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["hx-redirect"] == "/login?next=%2Fpersonal"


def test_session_may_not_authorise_a_form_post_to_the_api() -> None:
    """/api/ has no CSRF token, so a staff session there only counts for requests a cross-site
    form cannot make."""
    from fastapi import HTTPException
    from starlette.requests import Request

    from consult.accounts.deps import require_role
    from consult.accounts.models import User

    check = require_role("analyst")
    analyst = User(email="a@test.se", role="analyst", password_hash="-")

    def request(content_type: str) -> Request:
        headers = [(b"content-type", content_type.encode())]
        return Request(
            {"type": "http", "method": "POST", "path": "/api/x", "headers": headers, "state": {"user": analyst}}
        )

    assert check(request("application/json")) is analyst
    with pytest.raises(HTTPException) as refused:
        check(request("application/x-www-form-urlencoded"))
    assert refused.value.status_code == 403
