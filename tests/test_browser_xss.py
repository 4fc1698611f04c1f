"""Cross-site scripting: hostile text submitted by residents is shown to staff on every staff
page without running. The browser context bypasses the Content-Security-Policy on purpose, so
this tests the escaping itself; the CSP is a second wall (tests/test_security.py)."""

from __future__ import annotations

import uuid

import pytest

from tests.test_security import concrete_path, required_roles, routes

PAYLOADS = [
    "<script>alert('xss-script')</script>",
    '"><img src=x onerror="alert(\'xss-attr\')">',
    "<svg onload=alert('xss-svg')>",
    "javascript:alert('xss-url')",
    "<a href=\"javascript:alert('xss-href')\">klicka</a>",
    "{{ 7*7 }} {% raw %}${7*7}{% endraw %} <iframe srcdoc=\"<script>alert('xss-iframe')</script>\">",
    "</textarea><script>alert('xss-textarea')</script>",
    "<details open ontoggle=alert('xss-toggle')>",
]


def plant_hostile_text_elsewhere() -> None:
    """Organisation comments, an attachment's file name and theme labels (themes exist when the
    theme tests ran earlier in the session) get payloads too, written directly as stored data."""
    from sqlalchemy import update

    from consult.db import session_scope
    from consult.remiss.models import RemissAnswer, RemissComment
    from consult.themes.models import CandidateTheme, SelectedTheme

    with session_scope() as session:
        session.execute(update(RemissComment).values(text=PAYLOADS[0] + " " + PAYLOADS[1]))
        session.execute(update(RemissAnswer).values(attachment_name=PAYLOADS[2] + ".pdf"))
        session.execute(update(SelectedTheme).values(label=PAYLOADS[1]))
        session.execute(update(CandidateTheme).values(label=PAYLOADS[4]))


@pytest.fixture(scope="module")
def hostile_answers(client) -> None:  # type: ignore[no-untyped-def]
    for payload in PAYLOADS:
        body = {
            "client_uuid": str(uuid.uuid4()),
            "language": "sv",
            "answers": {
                "kommun": 2281,
                "alder": 3,
                "kon": 1,
                "mal_plats": 3,
                "mal_leva": 3,
                "mal_vaxa": 3,
                "prioriteringar": [1],
                "bo_kvar": 1,
                "consent_quote": 1,
                "forandra": f"Bussarna {payload}",
                "attraktivt": payload,
            },
        }
        assert client.post("/api/surveys/vasternorrland-2030/responses", json=body).status_code == 201
    plant_hostile_text_elsewhere()


def staff_pages() -> list[str]:
    pages = []
    for route in routes():
        if required_roles(route) is None or "GET" not in route.methods:
            continue
        params = set(route.param_convertors) if hasattr(route, "param_convertors") else set()
        if params - {"slug"}:
            continue  # pages about one object are reached through the lists below
        if route.path.endswith((".csv", ".xlsx", ".sav", ".json", ".svg", ".png", ".pdf")):
            continue
        pages.append(concrete_path(route))
    return sorted(set(pages))


def visit(page, path: str):  # type: ignore[no-untyped-def]
    """Open a page; downloads (exports, templates) are not pages and are skipped."""
    from playwright.sync_api import Error

    try:
        return page.goto(path)
    except Error as exc:
        if "Download is starting" in str(exc):
            return None
        raise


def test_nothing_executes_on_staff_pages(browser, live_server, hostile_answers) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    fired: list[str] = []
    page.on("dialog", lambda dialog: (fired.append(f"{page.url}: {dialog.message}"), dialog.dismiss()))
    page.goto("/login")
    page.fill("input[name=email]", "admin@example.se")
    page.fill("input[name=password]", "demo-admin-2025")
    page.click("button[type=submit]")
    visited: list[str] = []
    queue = staff_pages()
    seen = set(queue)
    # Breadth-first through staff pages and the links on them, two levels down, so pages about
    # single answers, organisations, themes and the report are reached too.
    for depth in range(3):
        next_queue: list[str] = []
        for path in queue:
            if len(visited) >= 160:
                break
            response = visit(page, path)
            if response is None or response.status >= 400:
                continue
            visited.append(path)
            if depth == 2:
                continue
            links = page.locator("main a[href^='/']").evaluate_all("els => els.map(e => e.getAttribute('href'))")
            for link in links[:12]:
                if link in seen or any(word in link for word in ("logout", "radera", "pdf", "export")):
                    continue
                if link.endswith((".csv", ".xlsx", ".sav", ".json", ".png", ".svg")):
                    continue
                seen.add(link)
                next_queue.append(link)
        queue = next_queue
    context.close()
    assert len(visited) >= 5, visited
    assert not fired, "script ran: " + "; ".join(fired)
