"""An admin names the organisation and corrects a refused municipality list, in Chromium with axe-core."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import assert_accessible, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "ett-långt-lösenord-42"


@pytest.fixture(scope="module")
def admin_email(demo: dict) -> str:
    from consult.accounts import service
    from consult.db import session_scope

    email = f"browser-organisation-{uuid.uuid4().hex[:6]}@test.se"
    with session_scope() as session:
        service.create_user(session, email=email, password=PASSWORD, role="admin", name="Olle Organisation")
    return email


def test_admin_sees_the_settings_and_a_refused_list_with_its_errors(page, admin_email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login?next=/admin/organisation")
    page.get_by_label("E-postadress").fill(admin_email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/admin/organisation$"))
    assert page.get_by_label("Namn på svenska").input_value() == "Region Västernorrland"
    assert_accessible(page)
    page.get_by_label("Listan").fill("2281;Sundsvall;99400\n2281;Sundsvall igen;1\n")
    page.get_by_role("button", name="Spara kommunerna").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "Rad 2: koden 2281 finns redan på rad 1." in summary.inner_text()
    assert page.get_by_label("Listan").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "organisation-municipalities-error")
