"""Test fixtures: a real database (SQLite by default, PostgreSQL when CONSULT_DATABASE_URL says
so), the app over real HTTP, and Chromium driven by Playwright with axe-core."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.mail import smtp_server  # noqa: F401 - a fixture for every test module

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="consult-test-"))
_BASE_URL = os.environ.get("CONSULT_DATABASE_URL", "")
_PG_DB_NAME = f"consult_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def _test_database_url() -> str:
    """A fresh database for this test run: a temp SQLite file, or a new PostgreSQL database
    on the server CONSULT_DATABASE_URL points to."""
    if not _BASE_URL.startswith("postgresql"):
        return f"sqlite:///{_TMP / 'test.db'}"
    import psycopg

    admin_url = _BASE_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{_PG_DB_NAME}"')
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{_PG_DB_NAME}"


# Settings are read once per process, so the environment is set before consult is imported.
os.environ["CONSULT_DATABASE_URL"] = _test_database_url()
os.environ["CONSULT_VAR_DIR"] = str(_TMP / "var")
os.environ["CONSULT_SECRET_KEY"] = "test-secret-key-not-for-production"
os.environ.setdefault("CONSULT_LOGIN_RATE", "1000/minute")
os.environ.setdefault("CONSULT_SUBMIT_RATE", "1000000/minute")
SCREENSHOT_DIR = Path(os.environ.get("CONSULT_SCREENSHOTS", ROOT / "var" / "screenshots"))

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_sessionfinish(session, exitstatus) -> None:  # type: ignore[no-untyped-def]
    from consult.db import get_engine
    from consult.themes.jobs import stop_worker

    stop_worker(timeout=10)  # before its database goes away under it
    get_engine().dispose()
    if _BASE_URL.startswith("postgresql"):
        import psycopg

        admin_url = _BASE_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{_PG_DB_NAME}" WITH (FORCE)')
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url() -> str:
    return os.environ["CONSULT_DATABASE_URL"]


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    from consult.migrate import upgrade

    upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
def demo(migrated: str) -> dict:
    """The demo consultation with a small number of responses."""
    from consult.db import session_scope
    from consult.demo.service import load_full_demo

    return load_full_demo(session_scope, responses=60)


@pytest.fixture(scope="session")
def app(migrated: str):  # type: ignore[no-untyped-def]
    from consult.app import app as asgi_app

    return asgi_app


@pytest.fixture(scope="session")
def client(app, demo) -> Iterator:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture()
def db(migrated: str) -> Iterator:
    from consult.db import session_scope

    with session_scope() as session:
        yield session


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(extra_env: dict[str, str] | None = None, log_name: str = "server.log") -> Iterator[str]:
    """The app served by uvicorn in its own process, as users reach it; its base URL."""
    port = _free_port()
    log_path = _TMP / log_name
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "consult", "serve", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env={**os.environ, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        import httpx

        for _ in range(100):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            process.kill()
            raise RuntimeError("server did not start: " + log_path.read_text())
        try:
            yield url
        finally:
            process.terminate()
            process.wait(10)


@pytest.fixture(scope="session")
def live_server(demo) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve() as url:
        yield url


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator:  # type: ignore[no-untyped-def]
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture()
def page_no_js(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(scope="module")
def mail_server(request, demo) -> Iterator[tuple[str, list[bytes]]]:  # type: ignore[no-untyped-def]
    """A server process of the test module's own, with a mail server, and the messages it sends."""
    from tests.mail import smtp_environment, smtp_sink

    log_name = f"server-{request.module.__name__.rsplit('.', 1)[-1]}.log"
    with smtp_sink() as (port, messages), serve(smtp_environment(port), log_name) as url:
        yield url, messages


@pytest.fixture()
def mail_page(browser, mail_server):  # type: ignore[no-untyped-def]
    """A page browsing the mail_server's process."""
    context = browser.new_context(base_url=mail_server[0], locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """Run axe-core (installed from npm, served by the app) on the page's current state."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe.min.js")
    return page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        AXE_TAGS,
    )


def assert_accessible(page) -> None:  # type: ignore[no-untyped-def]
    violations = axe_violations(page)
    summary = [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes'][:3]]}" for v in violations]
    assert not violations, f"axe-core found violations on {page.url}:\n" + "\n".join(summary)


def press_back(page, forward: bool = False) -> None:  # type: ignore[no-untyped-def]
    """The browser's Back (or Forward) button. A survey page reached this way reloads itself from the
    server (htmx keeps no history snapshots), so one navigation follows another, and Playwright's
    go_back can lose the page between the two: the history moves from the page itself, and the
    caller waits for where it lands."""
    from playwright.sync_api import Error

    for _attempt in range(3):
        try:
            with page.expect_event("framenavigated"):
                page.evaluate("setTimeout(() => history.%s(), 0)" % ("forward" if forward else "back"))
            return
        except Error as exc:  # a reload still committing took the script's page away: press again
            if "Execution context was destroyed" not in str(exc):
                raise
            page.wait_for_load_state()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if SCREENSHOT_DIR.exists() and any(SCREENSHOT_DIR.glob("*.png")):
        terminalreporter.write_line(f"Screenshots of the browser tests: {SCREENSHOT_DIR}")
