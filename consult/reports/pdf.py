"""HTML to PDF with WeasyPrint (a library: no browser, no server rendering itself). It needs the
Pango library of the system (Debian: libpango-1.0-0 libpangoft2-1.0-0); without it the PDF is
reported as unavailable and the HTML report still works."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
STYLESHEET = STATIC_DIR / "report.css"


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs are missing."""


def html_to_pdf(html: str) -> bytes:
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
