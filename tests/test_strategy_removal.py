"""After setting up: an admin corrects a review's name, period and versions, and removes a review or a
strategy version made by mistake, but never one that surveys, a remiss or another review still use."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from consult.strategy import service
from consult.strategy.models import CyclePhase, StrategyItem
from tests.shared import STRATEGY
from tests.staff import create_staff, csrf_from, logged_in
from tests.test_strategy_setup import (
    INDEX,
    PASSWORD,
    _create,
    _key,
    _upload,
    _version_ids,
    remove_test_setup,
)

needs_seed = pytest.mark.skipif(not STRATEGY.exists(), reason="shared seed strategy not available")


@pytest.fixture(scope="module")
def staff(demo: dict) -> dict[str, str]:
    return create_staff("removal", PASSWORD)


@pytest.fixture(scope="module")
def admin(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff["admin"], PASSWORD)


@pytest.fixture(scope="module")
def analyst(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff["analyst"], PASSWORD)


@pytest.fixture(autouse=True, scope="module")
def _remove_what_the_tests_made(demo: dict):  # type: ignore[no-untyped-def]
    yield
    remove_test_setup()


def _new_cycle(client: TestClient, **fields: str) -> str:
    key = _key()
    ids = _version_ids()
    values = {"name_sv": "Översyn för test", "name_en": "", "mandate_period": "2027–2030",
              "current_version": str(ids["rus-2025"]), "proposed_version": ""}  # fmt: skip
    done = _create(client, key=key, **{**values, **fields})
    assert done.status_code == 303, done.text[:2000]
    return key


def _post(client: TestClient, path: str, **fields: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(path).text)
    return client.post(path, data={"csrftoken": token, **fields})


def _audited(action: str, target: str) -> bool:
    from consult.accounts.models import AuditEvent
    from consult.db import session_scope

    with session_scope() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()
        return any(event.target == target for event in events)


def test_an_admin_corrects_a_reviews_name_period_and_versions(admin: TestClient) -> None:
    from consult.db import session_scope

    key = _new_cycle(admin, name_sv="Översyn med stavfel")
    ids = _version_ids()
    listing = admin.get("/admin/oversyn").text
    assert f'href="/admin/oversyn/{key}/uppgifter"' in listing and f'href="/admin/oversyn/{key}/radera"' in listing
    form = admin.get(f"/admin/oversyn/{key}/uppgifter").text
    assert 'value="Översyn med stavfel"' in form and 'name="key"' not in form and key in form
    done = _post(admin, f"/admin/oversyn/{key}/uppgifter", name_sv="Översyn utan stavfel", name_en="A review",
                 mandate_period="2028-2031", current_version=str(ids["rus-2020"]),
                 proposed_version=str(ids["rus-2025"]))  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == f"/admin/oversyn?andrad={key}"
    assert "Översynen Översyn utan stavfel är sparad." in admin.get(done.headers["location"]).text
    with session_scope() as session:
        cycle = service.cycle_by_key(session, key=key)
        assert cycle is not None and cycle.name == {"sv": "Översyn utan stavfel", "en": "A review"}
        assert cycle.mandate_period == "2028–2031"
        assert (cycle.current_version_id, cycle.proposed_version_id) == (ids["rus-2020"], ids["rus-2025"])
        assert _audited("cycle.update", f"cycle:{cycle.id}")


def test_a_correction_with_mistakes_is_refused_beside_each_field_and_changes_nothing(admin: TestClient) -> None:
    from consult.db import session_scope

    key = _new_cycle(admin, name_sv="Oförändrad översyn")
    refused = _post(admin, f"/admin/oversyn/{key}/uppgifter", name_sv="", name_en="", mandate_period="2031–2027",
                    current_version="", proposed_version="")  # fmt: skip
    assert refused.status_code == 422
    assert 'id="name_sv-error"' in refused.text and "Ange översynens namn på svenska." in refused.text
    assert "Mandatperioden kan inte sluta innan den börjar." in refused.text
    assert 'href="#field-current_version"' in refused.text
    with session_scope() as session:
        cycle = service.cycle_by_key(session, key=key)
        assert cycle is not None and cycle.name == {"sv": "Oförändrad översyn"} and cycle.mandate_period == "2027–2030"


def test_a_version_the_reviews_surveys_or_remiss_use_is_not_replaced(admin: TestClient) -> None:
    """The demo's review has questions tied to its versions' priorities and a remiss round on the
    proposed version: switching either would leave them pointing at another strategy."""
    from consult.db import session_scope

    with session_scope() as session:
        cycle = service.cycle_by_key(session, key="oversyn-2025")
        assert cycle is not None and cycle.proposed_version_id is not None
        before = (cycle.name, cycle.mandate_period, cycle.current_version_id, cycle.proposed_version_id)
    refused = _post(admin, "/admin/oversyn/oversyn-2025/uppgifter", name_sv="Nytt namn", name_en="",
                    mandate_period="2023–2026", current_version=str(before[2]), proposed_version="")  # fmt: skip
    assert refused.status_code == 422
    error = refused.text.split('id="proposed_version-error"')[1].split("</p>")[0]
    assert "Översynens enkäter eller remiss använder redan den här versionen" in error
    assert re.search(r"\d+ remissomgång(ar)?", error)
    with session_scope() as session:
        cycle = service.cycle_by_key(session, key="oversyn-2025")
        assert cycle is not None
        assert (cycle.name, cycle.mandate_period, cycle.current_version_id, cycle.proposed_version_id) == before


def test_an_unused_review_is_deleted_with_its_phases(admin: TestClient) -> None:
    from consult.db import session_scope

    key = _new_cycle(admin)
    with session_scope() as session:
        cycle = service.cycle_by_key(session, key=key)
        assert cycle is not None
        cycle_id = cycle.id
    confirm = admin.get(f"/admin/oversyn/{key}/radera")
    assert confirm.status_code == 200 and "Radera översynen Översyn för test" in confirm.text
    assert "Det går inte att ångra." in confirm.text
    done = _post(admin, f"/admin/oversyn/{key}/radera")
    assert done.status_code == 303 and done.headers["location"] == f"/admin/oversyn?raderad={key}"
    assert f"Översynen {key} är raderad." in admin.get(done.headers["location"]).text
    with session_scope() as session:
        assert service.cycle_by_key(session, key=key) is None
        left = session.exec(select(func.count()).where(CyclePhase.cycle_id == cycle_id)).one()
        assert left == 0
    assert _audited("cycle.delete", f"cycle:{cycle_id}")
    assert admin.get(f"/admin/oversyn/{key}/radera").status_code == 404


def test_a_review_with_surveys_and_a_remiss_is_not_deleted(admin: TestClient) -> None:
    from consult.db import session_scope

    page = admin.get("/admin/oversyn/oversyn-2025/radera")
    assert page.status_code == 200
    assert "Den går inte att radera" in page.text
    assert re.search(r"\d+ remissomgång(ar)?, \d+ enkät(er)?", page.text)
    assert 'action="/admin/oversyn/oversyn-2025/radera"' not in page.text  # no button to press
    token = csrf_from(admin.get("/admin/oversyn/ny").text)
    refused = admin.post("/admin/oversyn/oversyn-2025/radera", data={"csrftoken": token})
    assert refused.status_code == 409 and "Den går inte att radera" in refused.text
    with session_scope() as session:
        assert service.cycle_by_key(session, key="oversyn-2025") is not None


@needs_seed
def test_an_unused_strategy_version_is_deleted_with_its_parts(admin: TestClient) -> None:
    from consult.db import session_scope

    key = _key()
    assert _upload(admin, key, "strategy.yaml", STRATEGY.read_bytes()).status_code == 303
    with session_scope() as session:
        version = service.version_by_key(session, key=key)
        assert version is not None
        version_id = version.id
    assert f'href="/arbetsyta/strategi/{key}/radera"' in admin.get(f"/arbetsyta/strategi/{key}").text
    confirm = admin.get(f"/arbetsyta/strategi/{key}/radera").text
    assert "Radera strategiversionen" in confirm and "Det går inte att ångra." in confirm
    done = _post(admin, f"/arbetsyta/strategi/{key}/radera")
    assert done.status_code == 303 and done.headers["location"] == f"{INDEX}?raderad={key}"
    assert f"Strategiversionen {key} är raderad." in admin.get(done.headers["location"]).text
    with session_scope() as session:
        assert service.version_by_key(session, key=key) is None
        assert session.exec(select(func.count()).where(StrategyItem.version_id == version_id)).one() == 0
    assert _audited("strategy.delete", f"strategy_version:{version_id}")


def test_a_version_that_reviews_remiss_or_questions_use_is_not_deleted(admin: TestClient) -> None:
    from consult.db import session_scope

    page = admin.get("/arbetsyta/strategi/rus-2025/radera")
    assert page.status_code == 200 and "Den går inte att radera" in page.text
    assert re.search(r"\d+ översyn(er)?", page.text) and re.search(r"\d+ remissomgång(ar)?", page.text)
    token = csrf_from(admin.get(INDEX).text)
    refused = admin.post("/arbetsyta/strategi/rus-2025/radera", data={"csrftoken": token})
    assert refused.status_code == 409
    with session_scope() as session:
        assert service.version_by_key(session, key="rus-2025") is not None


def test_only_admins_change_or_delete(analyst: TestClient) -> None:
    assert analyst.get("/arbetsyta/strategi/rus-2025").status_code == 200
    assert "/radera" not in analyst.get("/arbetsyta/strategi/rus-2025").text
    token = csrf_from(analyst.get(INDEX).text)
    for path in ("/admin/oversyn/oversyn-2025/uppgifter", "/admin/oversyn/oversyn-2025/radera",
                 "/arbetsyta/strategi/rus-2020/radera"):  # fmt: skip
        assert analyst.get(path).status_code == 403
        assert analyst.post(path, data={"csrftoken": token, "name_sv": "X"}).status_code == 403


@needs_seed
def test_a_key_taken_between_the_check_and_the_commit_gets_the_form_message(admin: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two admins importing under the same new key at once: the second one's check saw no version,
    and the database's unique key refuses the row. The form says so instead of failing."""
    from consult.strategy import importing

    monkeypatch.setattr(importing, "version_by_key", lambda session, key: None)  # the check sees nothing yet
    before = set(_version_ids())
    refused = _upload(admin, "rus-2025", "strategy.yaml", STRATEGY.read_bytes())
    assert refused.status_code == 422
    assert "Nyckeln rus-2025 används redan av en annan strategiversion." in refused.text
    assert 'id="key-error"' in refused.text
    assert set(_version_ids()) == before
