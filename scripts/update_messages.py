"""Keep the gettext catalogues in step with the code: extract every marked string, add new
ones to each language's messages.po, and fill English with the English source text.
Swedish translations are written by hand in consult/locales/sv/LC_MESSAGES/*.po.

Run with `make messages`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "consult" / "locales"
KEYWORDS = ["-k", "_", "-k", "N_", "-k", "gettext_for:2", "-k", "ngettext:1,2"]


def extract() -> Path:
    pot = LOCALES / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            *KEYWORDS,
            "--no-location",
            "--omit-header",
            "--sort-output",
            "-o",
            str(pot),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    return pot


def update(language: str, template_path: Path) -> list[str]:
    """Add new msgids to the language's messages.po; return those still untranslated anywhere."""
    from consult.core.i18n import read_catalog

    with template_path.open("rb") as handle:
        template = read_po(handle)
    known = read_catalog(language)
    po_path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    po_path.parent.mkdir(parents=True, exist_ok=True)
    if po_path.exists():
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
    else:
        from babel.messages.catalog import Catalog

        catalog = Catalog(locale=language)
    missing = []
    for message in template:
        if not message.id or known.get(message.id) is not None:
            continue
        if language == "en":
            catalog.add(message.id, message.id)
        else:
            catalog.add(message.id, "")
            missing.append(str(message.id))
    with po_path.open("wb") as handle:
        write_po(handle, catalog, sort_output=True, omit_header=False, width=100)
    return missing


if __name__ == "__main__":
    pot = extract()
    for lang in ("en", "sv"):
        missing = update(lang, pot)
        if missing:
            print(f"{lang}: {len(missing)} strings need a translation in consult/locales/{lang}/LC_MESSAGES/:")
            for msgid in missing:
                print("  ", msgid)
