"""Staff login in Chromium: redirect to login, the error state, the audit log, axe-core on each."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import assert_accessible, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "ett-långt-lösenord-42"


@pytest.fixture(scope="module")
def admin_email(migrated: str) -> str:
    from consult.accounts import service
    from consult.db import session_scope

    email = f"browser-admin-{uuid.uuid4().hex[:6]}@test.se"
    with session_scope() as session:
        service.create_user(session, email=email, password=PASSWORD, role="admin", name="Alva Admin")
    return email


def test_admin_logs_in_and_reads_the_audit_log(page, admin_email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/admin/audit")
    assert re.search(r"/login\?next=%2Fadmin%2Faudit", page.url)
    assert page.get_by_role("heading", level=1).inner_text() == "Inloggning för personal"
    assert_accessible(page)

    page.get_by_label("E-postadress").fill(admin_email)
    page.get_by_label("Lösenord").fill("fel-lösenord")
    page.get_by_role("button", name="Logga in").click()
    error = page.locator("#password-error")
    assert "E-postadressen eller lösenordet är fel" in error.inner_text()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Lösenord").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "accounts-login-error")

    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/admin/audit$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Händelselogg"
    table = page.get_by_role("table")
    assert admin_email in table.inner_text() and "Misslyckad inloggning" in table.inner_text()
    assert_accessible(page)
    screenshot(page, "accounts-audit")

    page.get_by_label("Händelse", exact=True).select_option("login_failed")
    page.get_by_role("button", name="Visa").click()
    page.wait_for_url(re.compile(r"action=login_failed"))
    assert "Inloggad\n" not in table.inner_text()
    assert_accessible(page)

    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_url(re.compile(r"/login\?logged_out=1"))
    assert "Du har loggat ut." in page.locator(".notice").inner_text()


def test_admin_adds_a_person_and_the_pages_are_accessible(page, admin_email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login?next=/admin/konton")
    page.get_by_label("E-postadress").fill(admin_email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/admin/konton$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Personalkonton"
    assert_accessible(page)
    page.get_by_label("Namn", exact=True).fill("Greta Granskare")
    page.get_by_role("radio", name="Analytiker").check()
    page.get_by_role("button", name="Lägg till kontot").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "Ange en giltig e-postadress." in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert_accessible(page)
    page.get_by_label("E-postadress").fill(f"greta-{uuid.uuid4().hex[:6]}@region.se")
    page.get_by_role("button", name="Lägg till kontot").click()
    notice = page.locator("#new-password")
    notice.wait_for()
    assert "Tillfälligt lösenord för Greta Granskare" in notice.inner_text()
    assert_accessible(page)
    screenshot(page, "accounts-new-person")
    page.goto("/personal/losenord")
    page.get_by_role("button", name="Byt lösenordet").click()
    assert "Det nuvarande lösenordet är fel." in page.locator(".error-summary").inner_text()
    assert_accessible(page)


def test_a_new_person_replaces_the_temporary_password_first(page, admin_email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login?next=/admin/konton")
    page.get_by_label("E-postadress").fill(admin_email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/admin/konton$"))
    email = f"hugo-{uuid.uuid4().hex[:6]}@region.se"
    page.get_by_label("Namn", exact=True).fill("Hugo Hansson")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_role("radio", name="Analytiker").check()
    page.get_by_role("button", name="Lägg till kontot").click()
    temporary = page.locator("#new-password code").inner_text()
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_url(re.compile(r"/login\?logged_out=1"))

    page.goto("/login?next=/arbetsyta")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(temporary)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/personal/losenord\?next=%2Farbetsyta$"))
    assert "Du är inloggad med ett tillfälligt lösenord" in page.locator("#temporary-password-notice").inner_text()
    assert_accessible(page)
    screenshot(page, "accounts-temporary-password")
    page.get_by_label("Tillfälligt lösenord").fill(temporary)
    page.get_by_label("Nytt lösenord").fill(temporary)
    page.get_by_label("Det nya lösenordet igen").fill(temporary)
    page.get_by_role("button", name="Byt lösenordet").click()
    assert "Välj ett eget lösenord, inte det tillfälliga." in page.locator(".error-summary").inner_text()
    assert_accessible(page)
    page.get_by_label("Tillfälligt lösenord").fill(temporary)
    page.get_by_label("Nytt lösenord").fill("hugos eget långa lösenord")
    page.get_by_label("Det nya lösenordet igen").fill("hugos eget långa lösenord")
    page.get_by_role("button", name="Byt lösenordet").click()
    assert "Ditt lösenord byttes." in page.locator(".notice").inner_text()
    page.get_by_role("link", name="Fortsätt").click()
    page.wait_for_url(re.compile(r"/arbetsyta$"))
