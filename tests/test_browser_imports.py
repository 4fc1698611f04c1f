"""Import and campaign pages in Chromium: upload, a preview with rejected rows, confirm, campaign
links with their QR codes; axe-core on each state."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import assert_accessible, screenshot
from tests.factories import every_type_survey, store

pytestmark = pytest.mark.browser

PASSWORD = "ett-långt-lösenord-42"


@pytest.fixture(scope="module")
def analyst_email(migrated: str) -> str:
    from consult.accounts import service
    from consult.db import session_scope

    email = f"browser-analyst-{uuid.uuid4().hex[:6]}@test.se"
    with session_scope() as session:
        service.create_user(session, email=email, password=PASSWORD, role="analyst", name="Ana Analytiker")
    return email


def log_in(page, email: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(path)
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_import_with_rejected_rows_then_confirm(page, analyst_email: str) -> None:  # type: ignore[no-untyped-def]
    survey = store(every_type_survey())
    path = f"/admin/surveys/{survey.slug}/import"
    log_in(page, analyst_email, path)
    assert page.get_by_role("heading", level=1).inner_text() == "Importera svar"
    assert_accessible(page)

    page.get_by_role("button", name="Ladda upp och förhandsgranska").click()
    assert "Välj en fil att importera." in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Fil (XLSX eller CSV)").get_attribute("aria-invalid") == "true"
    assert_accessible(page)

    header = "row_id;kommun;val;flera;antal;kort;varfor_nej;channel"
    # Row 3 is a phone interview: its blank required answer is a mistake (on paper it would stay blank).
    rows = ["1;1;1;1;12,5;Bättre bussar;;", "2;9;1;;;;;", "3;1;;;tolv;;;interview_phone",
            "4;2;1;1;0;Ring 070-123 45 67;;"]
    content = ("\ufeff" + "\r\n".join([header, *rows]) + "\r\n").encode()
    page.get_by_label("Fil (XLSX eller CSV)").set_input_files(
        files=[{"name": "pappersenkater.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Ladda upp och förhandsgranska").click()
    page.wait_for_url(re.compile(re.escape(path) + "/[A-Z0-9]{26}$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Kontrollera importen"
    assert "2 rader kan inte importeras" in page.get_by_role("alert").inner_text()
    problems = page.get_by_role("table", name="Problem").inner_text()
    assert "9 är inte en svarskod för den här frågan" in problems
    assert "Frågan är obligatorisk, men cellen är tom." in problems
    sample = page.get_by_role("table", name="Rader som importeras").inner_text()
    assert "[telefon]" in sample and "070-123" not in sample
    assert_accessible(page)
    screenshot(page, "imports-preview-errors")

    page.get_by_role("button", name="Importera de 2 nya raderna").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Importen är klar"
    assert page.locator("#count-created").inner_text() == "2"
    assert_accessible(page)
    screenshot(page, "imports-done")


def test_campaign_links_page(page, analyst_email: str) -> None:  # type: ignore[no-untyped-def]
    survey = store(every_type_survey())
    path = f"/admin/surveys/{survey.slug}/campaigns"
    log_in(page, analyst_email, path)
    assert page.get_by_role("heading", level=1).inner_text() == "Kampanjlänkar"
    assert_accessible(page)

    page.get_by_label("Namn").fill("Affisch i Kramfors")
    page.get_by_label("Tagg", exact=True).fill("affisch kramfors")
    page.get_by_role("button", name="Skapa länken").click()
    assert "Taggen får bara innehålla" in page.get_by_role("alert").inner_text()
    assert_accessible(page)

    page.get_by_label("Tagg", exact=True).fill("affisch-kramfors")
    page.get_by_role("button", name="Skapa länken").click()
    page.wait_for_url(re.compile(r"created=affisch-kramfors$"))
    image = page.get_by_role("img", name=re.compile("QR-kod för"))
    image.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", image.element_handle())
    assert f"/s/{survey.slug}?k=affisch-kramfors" in page.get_by_role("link", name=re.compile("k=affisch")).inner_text()
    assert_accessible(page)
    screenshot(page, "campaigns")
