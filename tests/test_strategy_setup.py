"""A region sets up its own consultation: it imports its strategy version from a file (web form or
command line) and creates a review cycle with the standard phases."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import col, delete, select
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
    """The demo's other tests count versions and cycles: what these tests create goes again."""
    yield
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
