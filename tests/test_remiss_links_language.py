"""The remiss round's links file speaks the admin's language, and its columns are ones the
organisation import understands, so the file can seed another round."""

from __future__ import annotations

import csv
import io

import pytest

from consult.remiss import service
from tests.staff import create_staff
from tests.staff import logged_in as staff_login
from tests.test_remiss import make_round

PASSWORD = "ett-långt-lösenord-42"


@pytest.fixture(scope="module")
def round_key(migrated: str, demo) -> str:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        service.load_demo_remiss(session)
    key = make_round()
    with session_scope() as session:
        remiss_round = service.round_by_key(session, key=key)
        assert remiss_round is not None
        service.register_organisation(
            session, remiss_round=remiss_round, name=f"Ånge förening {key}", actor_type="Kommun", area="Ånge",
            email=f"{key}@example.se",
        )
    return key


def download(app, round_key: str, lang: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    admin = staff_login(app, create_staff("links-csv", PASSWORD)["admin"], PASSWORD)
    response = admin.get(f"/admin/remiss/{round_key}/lankar.csv", params={"lang": lang})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))


@pytest.mark.parametrize(
    ("lang", "header"),
    [
        ("sv", ["Organisation", "Aktörstyp", "Område", "E-post", "Länk", "Status"]),
        ("en", ["Organisation", "Actor type", "Area", "E-mail", "Link", "Status"]),
    ],
)
def test_the_links_file_has_headers_in_the_admins_language(app, round_key, lang, header) -> None:  # type: ignore[no-untyped-def]
    rows = download(app, round_key, lang)
    assert rows[0] == header
    assert rows[1][:4] == [f"Ånge förening {round_key}", "Kommun", "Ånge", f"{round_key}@example.se"]
    assert rows[1][4].startswith("http://testserver/r/")
    # The import reads these headers back: the same four columns, whichever the language.
    assert set(service._header_map(rows[0])) == {"name", "actor_type", "area", "email"}
