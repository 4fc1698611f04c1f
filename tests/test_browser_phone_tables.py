"""Staff pages on a phone (375 px): a wide table scrolls inside its own box, which keyboard users can
focus and which is named, and a select as wide as its longest option shrinks; the page itself never
gets wider than the screen. axe-core checks every page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.conftest import assert_accessible, screenshot
from tests.test_browser_workspace import log_in
from tests.test_workspace import create_staff

PHONE = {"width": 375, "height": 740}
DEMO_SURVEY = "vasternorrland-2030"
DEMO_CYCLE = "oversyn-2025"


@pytest.fixture(scope="module")
def round_key(migrated: str, demo) -> str:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.remiss.models import RemissRound

    with session_scope() as session:
        key = session.execute(select(RemissRound.key).order_by(RemissRound.id)).scalars().first()
    assert key is not None, "the demo loads a remiss round"
    return key


@pytest.fixture(scope="module")
def admin_phone(browser, live_server, demo) -> Iterator:  # type: ignore[no-untyped-def]
    """One admin session on a phone-sized screen for the whole module."""
    context = browser.new_context(base_url=live_server, locale="sv-SE", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, create_staff()["admin"], "/personal")
    yield page
    context.close()


def page_width(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth")


def scroll_boxes(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """Each .table-scroll box in main: its name (aria-label, or the text of what labels it), whether it can be
    focused from the keyboard, and whether its table is wider than the box."""
    return page.evaluate(
        """() => [...document.querySelectorAll('main .table-scroll')].map(box => ({
            role: box.getAttribute('role'),
            name: (box.getAttribute('aria-label') || (box.getAttribute('aria-labelledby') || '').split(' ')
                .map(id => (document.getElementById(id) || {}).textContent || '').join(' ')).trim(),
            tabindex: box.tabIndex,
            scrolls: box.scrollWidth > box.clientWidth,
        }))"""
    )


def check_fits(page, path: str, shot: str, lang: str = "sv") -> list[dict]:  # type: ignore[no-untyped-def]
    page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")  # ?lang= is remembered: every page names it
    assert page.locator("main h1").count() == 1, f"{path} did not open"
    assert page_width(page) <= PHONE["width"], f"{path} is wider than the phone"
    boxes = scroll_boxes(page)
    for box in boxes:
        assert box["role"] == "region" and box["name"] and box["tabindex"] == 0, (path, box)
    screenshot(page, shot)
    assert_accessible(page)
    return boxes


@pytest.mark.parametrize(
    ("path", "shot"),
    [
        ("/admin/audit", "phone-audit-log"),
        ("/granskning", "phone-review-list"),
        ("/arbetsyta", "phone-workspace-overview"),
        ("/admin/surveys", "phone-admin-surveys"),
    ],
)
def test_wide_staff_tables_scroll_in_their_box(admin_phone, path: str, shot: str) -> None:  # type: ignore[no-untyped-def]
    boxes = check_fits(admin_phone, path, shot)
    assert boxes, f"{path}: its table is not in a scroll box"
    assert any(box["scrolls"] for box in boxes), f"{path}: nothing needed scrolling, so this checks nothing"


def test_remiss_staff_pages_fit_a_phone(admin_phone, round_key: str) -> None:  # type: ignore[no-untyped-def]
    page = admin_phone
    answers = check_fits(page, f"/admin/remiss/{round_key}/svar", "phone-remiss-answers")
    assert len(answers) >= 2  # the organisations' answers, and positions per priority
    assert any(box["scrolls"] for box in answers)
    region = page.get_by_role("region", name="Organisationer och deras svar")
    assert region.evaluate("box => box.scrollWidth > box.clientWidth")
    region.focus()  # the keyboard reaches the box and scrolls it
    page.keyboard.press("ArrowRight")
    page.wait_for_function("box => box.scrollLeft > 0", arg=region.element_handle())

    comments = page.locator("details.counts[open] a").first.get_attribute("href")
    assert comments, "no priority has positions in the demo"
    assert check_fits(page, comments, "phone-remiss-comments")
    organisations = check_fits(page, f"/admin/remiss/{round_key}/organisationer", "phone-remiss-organisations")
    assert any(box["scrolls"] for box in organisations)


def test_long_select_on_the_coverage_page_shrinks(admin_phone) -> None:  # type: ignore[no-untyped-def]
    page = admin_phone
    check_fits(page, f"/arbetsyta/enkater/{DEMO_SURVEY}/teman/forandra/tackning", "phone-theme-coverage")
    version = page.get_by_label("Version av strategin")  # its options name whole strategies: a long select
    assert version.evaluate("select => select.getBoundingClientRect().right") <= PHONE["width"]


def test_results_and_report_fit_a_phone(admin_phone) -> None:  # type: ignore[no-untyped-def]
    page = admin_phone
    check_fits(page, f"/arbetsyta/enkater/{DEMO_SURVEY}", "phone-workspace-results")
    assert page.locator("main table th[scope=row]", has_text="Mycket viktigt").count() >= 1  # a scale's end
    check_fits(page, f"/arbetsyta/rapport/{DEMO_CYCLE}", "phone-summary-report")


def test_weighting_targets_fit_a_phone_in_english(admin_phone) -> None:  # type: ignore[no-untyped-def]
    # The English column headings are the wider ones.
    page = admin_phone
    boxes = check_fits(page, f"/arbetsyta/enkater/{DEMO_SURVEY}/viktning", "phone-weighting-en", lang="en")
    assert boxes and boxes[0]["name"] == "Targets for municipality"


def test_a_response_with_long_compound_words_fits_a_phone(admin_phone) -> None:  # type: ignore[no-untyped-def]
    """The review page of the demo answer with the longest word: a Swedish compound used to push the
    answers table past the screen's edge."""
    from consult.db import session_scope
    from consult.responses.models import Answer

    with session_scope() as session:
        texts = session.execute(select(Answer.response_id, Answer.text).where(Answer.text.is_not(None))).all()
    response_id, _text = max(texts, key=lambda row: max(len(word) for word in row[1].split() or [""]))
    admin_phone.set_viewport_size({"width": 320, "height": 740})  # the narrowest phones still in use
    try:
        admin_phone.goto(f"/granskning/{response_id}")
        assert page_width(admin_phone) <= 320
        assert_accessible(admin_phone)
        screenshot(admin_phone, "phone-review-response")
    finally:
        admin_phone.set_viewport_size(PHONE)
