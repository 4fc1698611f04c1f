"""Staff sessions for tests: the login form is used as a person would, with its CSRF token."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient

CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no csrftoken field"
    return match.group(1)


def new_client(app: Any) -> TestClient:
    """A client with a cookie jar of its own, so one test's login never leaks into another."""
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def logged_in(app: Any, email: str, password: str) -> TestClient:
    from consult.accounts import service

    service.reset_login_limits()
    client = new_client(app)
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"csrftoken": token, "email": email, "password": password})
    assert response.status_code == 303, response.text[:500]
    return client


def create_staff(prefix: str, password: str) -> dict[str, str]:
    """One user per role with addresses no other test uses; returns role -> e-mail."""
    from consult.accounts import service
    from consult.accounts.models import Role
    from consult.db import session_scope

    suffix = uuid.uuid4().hex[:8]
    emails = {role.value: f"{prefix}-{role.value}-{suffix}@test.se" for role in Role}
    with session_scope() as session:
        for role, email in emails.items():
            service.create_user(session, email=email, password=password, role=role)
    return emails
