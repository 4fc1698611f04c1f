"""A region sets up its own consultation: it imports its strategy version from a file (web form or
command line) and creates a review cycle with the standard phases. Afterwards an admin corrects a
review's name, period and versions, and removes a review or a strategy version made by mistake, but
never one that surveys, a remiss or another review still use."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import col, delete, func, select
from typer.testing import CliRunner

from consult.strategy import service
from consult.strategy.models import CyclePhase, ReviewCycle, StrategyItem, StrategyVersion
from tests.shared import STRATEGY
from tests.staff import create_staff, csrf_from, logged_in

PASSWORD = "ett-långt-lösenord-42"
INDEX = "/arbetsyta/strategi"
IMPORT = "/arbetsyta/strategi/importera"
PREFIX = "test-setup-"

needs_seed = pytest.mark.skipif(not STRATEGY.exists(), reason="shared seed strategy not available")


@pytest.fixture(scope="module")
def staff(demo: dict) -> dict[str, str]:
    return create_staff("setup", PASSWORD)


@pytest.fixture(scope="module")
def admin(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff["admin"], PASSWORD)


@pytest.fixture(scope="module")
def analyst(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff["analyst"], PASSWORD)


@pytest.fixture(autouse=True, scope="module")
def _remove_what_the_tests_made(demo: dict) -> Iterator[None]:
    yield
    remove_test_setup()


def remove_test_setup() -> None:
    """The demo's other tests count versions and cycles: what these tests create goes again."""
    from consult.db import session_scope

    with session_scope() as session:
        cycles = session.exec(select(ReviewCycle).where(col(ReviewCycle.key).startswith(PREFIX))).all()
        for cycle in cycles:
            session.exec(delete(CyclePhase).where(col(CyclePhase.cycle_id) == cycle.id))  # type: ignore[call-overload]
            session.delete(cycle)
        session.flush()
        versions = session.exec(select(StrategyVersion).where(col(StrategyVersion.key).startswith(PREFIX))).all()
        for version in versions:
            session.exec(delete(StrategyItem).where(col(StrategyItem.version_id) == version.id))  # type: ignore[call-overload]
            session.delete(version)


def _key() -> str:
    return PREFIX + uuid.uuid4().hex[:8]


def _version_keys() -> set[str]:
    from consult.db import session_scope

    with session_scope() as session:
        return {v.key for v in service.versions(session)}


def _upload(client: TestClient, key: str, name: str, data: bytes, lang: str = ""):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(INDEX).text)
    return client.post(
        IMPORT + (f"?lang={lang}" if lang else ""),
        data={"csrftoken": token, "key": key},
        files={"file": (name, data, "application/octet-stream")},
    )


@needs_seed
def test_an_admin_imports_the_seed_strategy_from_a_file(admin: TestClient) -> None:
    from consult.accounts.models import AuditEvent
    from consult.db import session_scope

    form = admin.get(INDEX).text
    assert "Importera en strategiversion" in form and 'enctype="multipart/form-data"' in form
    key = _key()
    done = _upload(admin, key, "strategy.yaml", STRATEGY.read_bytes())
    assert done.status_code == 303, done.text[:2000]
    assert done.headers["location"] == f"{INDEX}?importerad={key}"
    page = admin.get(done.headers["location"]).text
    assert "Strategiversionen Regional utvecklingsstrategi för Västernorrland är importerad." in page
    assert f'href="/arbetsyta/strategi/{key}"' in page
    row = page.split(f'href="/arbetsyta/strategi/{key}"')[1].split("</tr>")[0]
    assert [cell.split("<")[0] for cell in row.split('<td class="num">')[1:]] == ["2020", "3", "17", "6"]
    version_page = admin.get(f"/arbetsyta/strategi/{key}").text
    assert "Stärkt folkhälsoarbete för god och jämlik hälsa" in version_page
    assert "Låt aktörer gå före, alla behöver inte vara med på allt" in version_page
    with session_scope() as session:
        version = service.version_by_key(session, key=key)
        assert version is not None and version.region == "Västernorrland"
        assert version.vision == {"sv": "Ett Västernorrland"}
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "strategy.import")).all()
        assert any(e.target == f"strategy_version:{version.id}" for e in events)


def test_titles_in_two_languages_and_given_keys_are_kept(admin: TestClient) -> None:
    key = _key()
    data = {
        "name": {"sv": "Regional utvecklingsstrategi för Jämtland", "en": "Regional development strategy for Jämtland"},
        "year": 2031,
        "region": "Jämtland",
        "vision": {"sv": "Ett Jämtland", "en": "One Jämtland"},
        "goal_areas": [
            {
                "key": "resa",
                "title": {"sv": "Resor", "en": "Travel"},
                "priorities": [{"key": "tag", "sv": "Fler tåg", "en": "More trains", "keywords": ["tåg"]}, "Bussar"],
            }
        ],
        "principles": [{"sv": "Jämställdhet", "en": "Gender equality"}],
    }
    done = _upload(admin, key, "jamtland.json", json.dumps(data).encode())
    assert done.status_code == 303, done.text[:2000]
    english = admin.get(f"/arbetsyta/strategi/{key}?lang=en").text
    assert "Regional development strategy for Jämtland" in english and "More trains" in english
    assert "Bussar" in english  # a title without English shows in Swedish
    admin.get(f"{INDEX}?lang=sv")
    from consult.db import session_scope

    with session_scope() as session:
        found = service.item_by_key(session, version_key=key, item_key="tag")
        assert found is not None and found[1].keywords == ["tåg"]


@pytest.mark.parametrize(
    ("name", "data", "field", "message"),
    [
        ("broken.yaml", b"name: [unclosed\nyear: 2031\n", "file", "Filen kunde inte läsas som YAML (rad "),
        ("binary.yaml", b"\xff\xfe\x00\x01garbage\x80", "file", "Filen är inte text i UTF-8"),
        ("broken.json", b'{"name": "X",\n "year": }', "file", "Filen kunde inte läsas som JSON (rad 2)."),
        ("list.yaml", b"- a\n- b\n", "file", "Filen beskriver ingen strategi"),
        (
            "no-title.yaml",
            b"name: X\nyear: 2031\nvision: V\ngoal_areas:\n  - title: A\n    priorities: [p]\n  - priorities: [q]\n",
            "file",
            "Målområde 2 saknar titel.",
        ),
        (
            "no-priority-title.yaml",
            b"name: X\nyear: 2031\nvision: V\ngoal_areas:\n  - title: A\n    priorities: [p, {en: Only English}]\n",
            "file",
            "Prioritering 2 i målområde 1 saknar titel.",
        ),
        ("no-vision.yaml", b"name: X\nyear: 2031\ngoal_areas: []\n", "file", "Filen saknar vision."),
        ("no-year.yaml", b"name: X\nvision: V\n", "file", "Filen saknar år"),
        ("empty.yaml", b"", "file", "Välj en YAML- eller JSON-fil att ladda upp."),
    ],
)
def test_a_file_that_cannot_be_imported_is_named_beside_the_field_and_nothing_is_stored(
    admin: TestClient, name: str, data: bytes, field: str, message: str
) -> None:
    before = _version_keys()
    refused = _upload(admin, _key(), name, data)
    assert refused.status_code == 422
    assert message in refused.text
    assert f'id="{field}-error"' in refused.text and 'class="error-summary"' in refused.text
    assert f'href="#field-{field}"' in refused.text
    assert _version_keys() == before


def test_a_key_in_use_or_malformed_is_refused_and_nothing_is_stored(admin: TestClient) -> None:
    good = b"name: X\nyear: 2031\nvision: V\ngoal_areas:\n  - title: A\n    priorities: [p]\n"
    before = _version_keys()
    taken = _upload(admin, "rus-2025", "x.yaml", good)
    assert taken.status_code == 422
    assert "Nyckeln rus-2025 används redan av en annan strategiversion." in taken.text
    assert 'id="key-error"' in taken.text and 'value="rus-2025"' in taken.text
    for bad in ("Stor Nyckel", "jamfor", ""):
        refused = _upload(admin, bad, "x.yaml", good)
        assert refused.status_code == 422 and 'id="key-error"' in refused.text
    # Both problems at once: each beside its own field.
    both = _upload(admin, "rus-2025", "x.yaml", b"name: X\n")
    assert 'id="key-error"' in both.text and 'id="file-error"' in both.text
    english = _upload(admin, "rus-2025", "x.yaml", good, lang="en")
    assert "The key rus-2025 is already used by another strategy version." in english.text
    admin.get(f"{INDEX}?lang=sv")
    assert _version_keys() == before


def test_only_admins_import(analyst: TestClient) -> None:
    page = analyst.get(INDEX)
    assert page.status_code == 200 and "Importera en strategiversion" not in page.text
    token = csrf_from(page.text) if 'name="csrftoken"' in page.text else ""
    refused = analyst.post(IMPORT, data={"csrftoken": token, "key": _key()}, files={"file": ("x.yaml", b"x")})
    assert refused.status_code == 403


@needs_seed
def test_the_command_line_imports_the_same_way(demo: dict, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from consult.cli import app as cli

    key = _key()
    done = CliRunner().invoke(cli, ["import-strategy", str(STRATEGY), "--key", key])
    assert done.exit_code == 0, done.output
    assert "3 goal areas, 17 priorities, 6 principles" in done.output
    assert key in _version_keys()
    again = CliRunner().invoke(cli, ["import-strategy", str(STRATEGY), "--key", key])
    assert again.exit_code == 1 and f"The key {key} is already used" in again.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"name": "X", "year": 2031, "vision": "V", "goal_areas": [{"title": "A",
                                   "priorities": ["p"]}, {"priorities": []}]}), encoding="utf-8")
    before = _version_keys()
    refused = CliRunner().invoke(cli, ["import-strategy", str(bad), "--key", _key()])
    assert refused.exit_code == 1 and "Goal area 2 has no title." in refused.output
    assert _version_keys() == before


# --- review cycles ---------------------------------------------------------------------------------

NEW_CYCLE = "/admin/oversyn/ny"


def _version_ids() -> dict[str, int]:
    from consult.db import session_scope

    with session_scope() as session:
        return {v.key: v.id or 0 for v in service.versions(session)}


def _cycle_keys() -> set[str]:
    from consult.db import session_scope

    with session_scope() as session:
        return {c.key for c in service.cycles(session)}


def _create(client: TestClient, lang: str = "", **fields: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(NEW_CYCLE).text)
    return client.post(NEW_CYCLE + (f"?lang={lang}" if lang else ""), data={"csrftoken": token, **fields})


def test_an_admin_creates_a_review_with_the_standard_phases_and_dates_them(admin: TestClient) -> None:
    from consult.accounts.models import AuditEvent
    from consult.db import session_scope

    listing = admin.get("/admin/oversyn").text
    assert f'href="{NEW_CYCLE}"' in listing and "Ny översyn" in listing
    form = admin.get(NEW_CYCLE)
    assert form.status_code == 200
    ids = _version_ids()
    assert f'<option value="{ids["rus-2025"]}"' in form.text and "Ingen föreslagen version ännu" in form.text
    assert "Inspel från invånare och aktörer" in form.text
    key = _key()
    done = _create(
        admin,
        key=key,
        name_sv="Översyn av RUS för Jämtland",
        name_en="Review of Jämtland's strategy",
        mandate_period="2027-2030",
        current_version=str(ids["rus-2020"]),
        proposed_version=str(ids["rus-2025"]),
    )
    assert done.status_code == 303, done.text[:2000]
    assert done.headers["location"] == f"/admin/oversyn/{key}?skapad=1"
    phases_page = admin.get(done.headers["location"]).text
    assert "Översynen är skapad med sina faser." in phases_page
    for name in ("Inspel från invånare och aktörer", "Framtidsdag", "Remiss av förslaget",
                 "Sammanställning av inspel", "Beslut i regionfullmäktige"):
        assert name in phases_page
    with session_scope() as session:
        cycle = service.cycle_by_key(session, key=key)
        assert cycle is not None
        assert cycle.name == {"sv": "Översyn av RUS för Jämtland", "en": "Review of Jämtland's strategy"}
        assert cycle.mandate_period == "2027–2030"
        assert (cycle.current_version_id, cycle.proposed_version_id) == (ids["rus-2020"], ids["rus-2025"])
        steps = service.phases(session, cycle_id=cycle.id or 0)
        assert [p.key for p in steps] == ["inspel", "framtidsdag", "remiss", "sammanstallning", "beslut"]
        assert all(p.starts_on is None and p.ends_on is None for p in steps)
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "cycle.create")).all()
        assert any(e.target == f"cycle:{cycle.id}" for e in events)
    # The existing phase-dates form works on it.
    token = csrf_from(phases_page)
    dated = admin.post(
        f"/admin/oversyn/{key}", data={"csrftoken": token, "start-inspel": "2027-02-01", "end-inspel": "2027-04-30"}
    )
    assert dated.status_code == 303
    listing = admin.get("/admin/oversyn").text
    section = listing.split(f'id="cycle-{key}"')[1].split("</section>")[0]
    assert "Översyn av RUS för Jämtland (2027–2030)" in section and "1 februari 2027" in section
    # A survey can now belong to it.
    assert "Översyn av RUS för Jämtland" in admin.get("/admin/surveys/new").text


def test_a_review_without_a_proposed_version_or_english_name(admin: TestClient) -> None:
    key = _key()
    done = _create(admin, key=key, name_sv="Översyn 2031", name_en="", mandate_period="2031–2034",
                   current_version=str(_version_ids()["rus-2025"]), proposed_version="")
    assert done.status_code == 303, done.text[:2000]
    english = admin.get("/admin/oversyn?lang=en").text
    assert "Översyn 2031 (2031–2034)" in english
    admin.get("/admin/oversyn?lang=sv")


def test_a_review_form_with_mistakes_names_each_beside_its_field_and_creates_nothing(admin: TestClient) -> None:
    ids = _version_ids()
    before = _cycle_keys()
    empty = _create(admin, key="", name_sv="", name_en="", mandate_period="", current_version="", proposed_version="")
    assert empty.status_code == 422
    for field, message in (
        ("name_sv", "Ange översynens namn på svenska."),
        ("key", "Ge översynen en nyckel, till exempel oversyn-2029."),
        ("mandate_period", "Ange mandatperioden som två årtal, till exempel 2027–2030."),
        ("current_version", "Välj den strategiversion som översynen utgår från."),
    ):
        assert f'id="{field}-error"' in empty.text and message in empty.text
        assert f'href="#field-{field}"' in empty.text
    wrong = _create(admin, key="oversyn-2025", name_sv="Ny", name_en="", mandate_period="2030–2027",
                    current_version=str(ids["rus-2025"]), proposed_version=str(ids["rus-2025"]))
    assert wrong.status_code == 422
    assert "Nyckeln oversyn-2025 används redan av en annan översyn." in wrong.text
    assert "Mandatperioden kan inte sluta innan den börjar." in wrong.text
    assert "Välj en annan föreslagen version än den som ses över." in wrong.text
    assert 'value="Ny"' in wrong.text and 'value="2030–2027"' in wrong.text  # what was typed is kept
    for bad_key in ("Stor Nyckel", "ny"):
        refused = _create(admin, key=bad_key, name_sv="X", name_en="", mandate_period="2027–2030",
                          current_version=str(ids["rus-2025"]), proposed_version="")
        assert refused.status_code == 422 and 'id="key-error"' in refused.text
    unknown = _create(admin, key=_key(), name_sv="X", name_en="", mandate_period="2027–2030",
                      current_version="999999", proposed_version="abc")
    assert 'id="current_version-error"' in unknown.text and 'id="proposed_version-error"' in unknown.text
    english = _create(admin, lang="en", key="", name_sv="", name_en="", mandate_period="x",
                      current_version=str(ids["rus-2025"]), proposed_version="")
    assert "Give the review&#39;s name in Swedish." in english.text
    admin.get("/admin/oversyn?lang=sv")
    assert _cycle_keys() == before


def test_only_admins_create_reviews(analyst: TestClient) -> None:
    assert analyst.get(NEW_CYCLE).status_code == 403
    token = csrf_from(analyst.get(INDEX).text)
    assert analyst.post(NEW_CYCLE, data={"csrftoken": token, "key": _key(), "name_sv": "X"}).status_code == 403


def test_the_standard_phases_are_named_as_the_demo_names_them() -> None:
    from consult.demo.service import read_fixture

    demo_phases = [{k: p[k] for k in ("key", "sv", "en")} for p in read_fixture()["cycle"]["phases"]]
    assert demo_phases == service.STANDARD_PHASES


def test_the_command_line_creates_a_review(demo: dict) -> None:
    from consult.cli import app as cli

    key = _key()
    args = ["create-review", key, "--name", "Översyn 2031", "--mandate-period", "2031-2034", "--version", "rus-2025"]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 0, done.output
    assert f"Created the review {key} (2031–2034) with 5 phases." in done.output
    before = _cycle_keys()
    assert key in before
    refused = CliRunner().invoke(cli, [*args[:-1], "rus-1999", "--proposed", "rus-2025"])
    assert refused.exit_code == 1
    assert f"The key {key} is already used by another review." in refused.output
    assert "Error (--version): Choose the strategy version the review starts from." in refused.output
    assert _cycle_keys() == before


# --- correcting and removing what was set up ---------------------------------------------------


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
