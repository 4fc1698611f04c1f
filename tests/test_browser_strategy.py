"""An analyst reads the strategy, edits a priority's keywords and compares versions, in Chromium with axe-core."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import assert_accessible, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "ett-långt-lösenord-42"
VERSION = "/arbetsyta/strategi/rus-2025"


@pytest.fixture(scope="module")
def analyst_email(demo: dict) -> str:
    from consult.accounts import service
    from consult.db import session_scope

    email = f"browser-strategi-{uuid.uuid4().hex[:6]}@test.se"
    with session_scope() as session:
        service.create_user(session, email=email, password=PASSWORD, role="analyst", name="Sara Strateg")
    return email


def test_analyst_edits_keywords_and_compares_versions(page, analyst_email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login?next=/arbetsyta/strategi")
    page.get_by_label("E-postadress").fill(analyst_email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/arbetsyta/strategi$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Strategi och nyckelord"
    assert_accessible(page)

    page.get_by_role(
        "link", name="Regional utvecklingsstrategi för Västernorrland, uppdaterad 2025", exact=True
    ).click()
    page.wait_for_url(re.compile(VERSION + "$"))
    assert_accessible(page)
    screenshot(page, "strategy-version")
    page.get_by_role("link", name=re.compile(r"Ändra nyckelord\s*: Ökad upplevd närhet till omvärlden")).click()
    page.wait_for_url(re.compile(r"/narhet-omvarlden/nyckelord$"))
    field = page.get_by_label("Nyckelord", exact=True)
    original = field.input_value()
    try:
        field.fill("bredband, fiber, <b>")
        page.get_by_role("button", name="Spara nyckelorden").click()
        summary = page.locator(".error-summary")
        summary.wait_for()
        assert "kan inte vara ett nyckelord" in summary.inner_text()
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        assert field.get_attribute("aria-invalid") == "true"
        assert field.input_value() == "bredband, fiber, <b>"  # nothing typed is lost
        assert_accessible(page)
        screenshot(page, "strategy-keywords-error")

        field.fill("bredband\nfiber\nmobiltäckning")
        page.get_by_role("button", name="Spara nyckelorden").click()
        page.wait_for_url(re.compile(r"sparat=narhet-omvarlden#item-narhet-omvarlden$"))
        item = page.locator("#item-narhet-omvarlden")
        assert "bredband, fiber, mobiltäckning" in item.inner_text()
        assert "Nyckelord ändrade av analytiker (3)" in item.inner_text()
        assert item.get_by_role("status").is_visible()  # the notice where the page lands, at the item
        assert_accessible(page)
    finally:
        page.goto(f"{VERSION}/narhet-omvarlden/nyckelord")
        if page.get_by_role("button", name="Använd de förvalda nyckelorden").count():
            page.get_by_role("button", name="Använd de förvalda nyckelorden").click()
            page.wait_for_url(re.compile(r"#item-narhet-omvarlden$"))
    page.goto(f"{VERSION}/narhet-omvarlden/nyckelord")
    assert page.get_by_label("Nyckelord", exact=True).input_value() == original

    page.goto("/arbetsyta/strategi/jamfor?fran=rus-2020&till=rus-2025")
    changed = page.get_by_role("table", name="Vad som ändrats")
    assert "Stärkt folkhälsoarbete för god och jämlik hälsa" in changed.inner_text()
    page.get_by_text("Visa de 25 oförändrade delarna").click()
    assert page.get_by_role("table", name="Oförändrad").is_visible()
    assert_accessible(page)
    screenshot(page, "strategy-compare")


def test_front_page_phases_and_the_admin_form_are_accessible(page) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import service
    from consult.db import session_scope

    page.goto("/")
    assert page.get_by_role("heading", name="Så går översynen till").is_visible()
    assert page.locator("ol.phases li").count() >= 5
    assert_accessible(page)
    screenshot(page, "front-page-phases")

    email = f"browser-faser-{uuid.uuid4().hex[:6]}@test.se"
    with session_scope() as session:
        service.create_user(session, email=email, password=PASSWORD, role="admin", name="Fia Faser")
    page.goto("/login?next=/admin/oversyn")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/admin/oversyn$"))
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"Ändra datumen\s*: Översyn av RUS 2025")).click()
    page.wait_for_url(re.compile(r"/admin/oversyn/oversyn-2025$"))
    first_day = page.locator("#field-start-remiss")
    first_day.fill("2025-09-01")  # after its last day, 31 August
    page.get_by_role("button", name="Spara faserna").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "Remiss av förslaget: Fasen kan inte sluta innan den börjar." in summary.inner_text()
    assert page.locator("#field-end-remiss").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "phases-error")


def test_an_admin_imports_a_strategy_and_creates_a_review(page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import service
    from consult.db import session_scope
    from tests.test_strategy_setup import PREFIX, remove_test_setup

    email = f"browser-oversyn-{uuid.uuid4().hex[:6]}@test.se"
    with session_scope() as session:
        service.create_user(session, email=email, password=PASSWORD, role="admin", name="Nils Ny")
    key = PREFIX + uuid.uuid4().hex[:6]
    bad = tmp_path / "jamtland.yaml"
    bad.write_text("name: Strategi för Jämtland\nyear: 2031\nvision: Ett Jämtland\ngoal_areas:\n"
                   "  - title: Resor\n    priorities: [Fler tåg]\n  - priorities: [Bussar]\n", encoding="utf-8")
    good = tmp_path / "jamtland-ok.yaml"
    good.write_text(bad.read_text(encoding="utf-8").replace("  - priorities", "  - title: Arbete\n    priorities"),
                    encoding="utf-8")
    try:
        page.goto("/login?next=/arbetsyta/strategi")
        page.get_by_label("E-postadress").fill(email)
        page.get_by_label("Lösenord").fill(PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        page.wait_for_url(re.compile(r"/arbetsyta/strategi$"))
        page.get_by_label("Nyckel").fill(key)
        page.get_by_label("Fil (.yaml, .yml eller .json)").set_input_files(str(bad))
        page.get_by_role("button", name="Importera versionen").click()
        page.locator(".error-summary").wait_for()
        assert "Målområde 2 saknar titel." in page.locator("#file-error").inner_text()
        assert page.locator("#field-file").get_attribute("aria-invalid") == "true"
        assert_accessible(page)
        screenshot(page, "strategy-import-error")
        page.get_by_label("Fil (.yaml, .yml eller .json)").set_input_files(str(good))
        page.get_by_role("button", name="Importera versionen").click()
        page.wait_for_url(re.compile(r"importerad="))
        assert "Strategiversionen Strategi för Jämtland är importerad." in page.locator(".notice").inner_text()

        page.goto("/admin/oversyn")
        page.get_by_role("link", name="Ny översyn").click()
        page.wait_for_url(re.compile(r"/admin/oversyn/ny$"))
        assert_accessible(page)
        page.get_by_label("Namn på svenska").fill("Översyn för Jämtland")
        page.get_by_label("Nyckel").fill(key)
        page.get_by_label("Mandatperiod").fill("2031–2027")
        page.get_by_label("Strategiversion som ses över").select_option(label="Strategi för Jämtland (2031)")
        page.get_by_role("button", name="Skapa översynen").click()
        page.locator(".error-summary").wait_for()
        assert "Mandatperioden kan inte sluta innan den börjar." in page.locator("#mandate_period-error").inner_text()
        assert_accessible(page)
        screenshot(page, "new-review-error")
        page.get_by_label("Mandatperiod").fill("2027–2030")
        page.get_by_role("button", name="Skapa översynen").click()
        page.wait_for_url(re.compile(rf"/admin/oversyn/{key}\?skapad=1$"))
        assert page.locator("legend").count() == 5
        assert_accessible(page)

        # A typo in the name is corrected; then the review and the version, unused, are deleted.
        page.goto("/admin/oversyn")
        page.get_by_role("link", name=re.compile(r"Ändra namn, period och versioner\s*: Översyn för Jämtland")).click()
        page.get_by_label("Namn på svenska").fill("")
        page.get_by_role("button", name="Spara översynen").click()
        page.locator(".error-summary").wait_for()
        assert_accessible(page)
        page.get_by_label("Namn på svenska").fill("Översyn av strategin för Jämtland")
        page.get_by_role("button", name="Spara översynen").click()
        page.wait_for_url(re.compile(r"andrad="))
        assert "Översynen Översyn av strategin för Jämtland är sparad." in page.locator(".notice").inner_text()
        page.get_by_role("link", name=re.compile(r"Radera översynen\s*: Översyn av strategin för Jämtland")).click()
        assert_accessible(page)
        screenshot(page, "delete-review")
        page.get_by_role("button", name="Radera översynen Översyn av strategin för Jämtland").click()
        page.wait_for_url(re.compile(r"raderad="))
        assert f"Översynen {key} är raderad." in page.locator(".notice").inner_text()
        page.goto(f"/arbetsyta/strategi/{key}")
        page.get_by_role("link", name="Radera den här strategiversionen").click()
        assert_accessible(page)
        page.get_by_role("button", name="Radera strategiversionen Strategi för Jämtland").click()
        page.wait_for_url(re.compile(r"raderad="))
        assert f"Strategiversionen {key} är raderad." in page.locator(".notice").inner_text()
    finally:
        remove_test_setup()
