"""Every interface string has a Swedish and an English translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from consult.core.i18n import read_catalog

ROOT = Path(__file__).resolve().parent.parent


def extracted_messages(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
         "-k", "_", "-k", "N_", "-k", "gettext_for:2", "-k", "ngettext:1,2", "--no-location",
         "-o", str(pot), str(ROOT)],
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {str(m.id) if not isinstance(m.id, tuple) else m.id[0] for m in read_po(handle) if m.id}


def test_every_string_is_translated(tmp_path: Path) -> None:
    messages = extracted_messages(tmp_path)
    assert len(messages) > 50
    for language in ("sv", "en"):
        catalog = read_catalog(language)
        missing = sorted(m for m in messages if catalog.get(m) is None or not catalog.get(m).string)
        assert not missing, f"{language}: {len(missing)} strings lack a translation, e.g. {missing[:5]}"


def test_swedish_is_the_default(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/", headers={"accept-language": "en-US"}).text
    assert '<html lang="sv">' in html or "lang=" in html
    assert "Tyck till om framtiden i Västernorrland" in client.get("/?lang=sv").text
    assert "Have your say on the future of Västernorrland" in client.get("/?lang=en").text
    client.get("/?lang=sv")


def test_a_language_the_interface_lacks_keeps_the_one_chosen(client) -> None:  # type: ignore[no-untyped-def]
    client.get("/?lang=en")
    assert "Have your say on the future of Västernorrland" in client.get("/?lang=de").text
    assert "Have your say on the future of Västernorrland" in client.get("/").text
    client.get("/?lang=sv")


def test_names_typed_by_staff_lose_control_and_direction_characters() -> None:
    from consult.interviews.service import clean_place

    assert clean_place(" Torget\u202e i Timrå\x00 ") == "Torget  i Timrå"
