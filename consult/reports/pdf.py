"""HTML to PDF with WeasyPrint (a library: no browser, no server rendering itself). It needs the
Pango library of the system (Debian: libpango-1.0-0 libpangoft2-1.0-0); without it the PDF is
reported as unavailable and the HTML report still works."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
STYLESHEET = STATIC_DIR / "report.css"


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs are missing."""


# The same report gives the same HTML (its date is the day's), so a PDF made from it serves every
# download until the figures change: WeasyPrint takes seconds for a report with charts.
PDF_CACHE_SIZE = 8
_made: OrderedDict[str, bytes] = OrderedDict()
_made_lock = threading.Lock()


def html_to_pdf(html: str) -> bytes:
    key = hashlib.sha256(html.encode()).hexdigest()
    with _made_lock:
        if key in _made:
            _made.move_to_end(key)
            return _made[key]
    pdf = _render(html)
    with _made_lock:
        _made[key] = pdf
        while len(_made) > PDF_CACHE_SIZE:
            _made.popitem(last=False)
    return pdf


def _render(html: str) -> bytes:
    try:
        from weasyprint import CSS, HTML
    except (ImportError, OSError) as error:  # OSError: the Pango library is not installed
        log.warning("PDF unavailable: %s", error)
        raise PdfUnavailable(str(error)) from error
    from weasyprint.urls import URLFetcher

    # The charts are embedded as data: URIs; nothing else is fetched (no file or network access).
    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=("data",)))
    pdf = document.write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])
    assert pdf is not None
    return pdf
