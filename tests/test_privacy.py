"""GDPR: a respondent sees and deletes their response; retention purges; backup and restore."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from consult.db import get_engine, make_engine, session_scope
from consult.responses.models import Answer, Response
from tests.factories import every_type_survey, store
from tests.test_api import VALID, post


def show_own_response(client, receipt: str, lang: str = "sv"):  # type: ignore[no-untyped-def]
    """The respondent's "see my response" form, posted as the browser posts it."""
    from tests.test_survey_pages import csrf

    form = client.get(f"/mitt-svar?lang={lang}")
    return client.post("/mitt-svar", data={"csrftoken": csrf(form.text), "kvitto": receipt})


def test_respondent_sees_and_deletes_own_response(client) -> None:  # type: ignore[no-untyped-def]
    survey = store(every_type_survey())
    receipt = post(client, survey.slug, {**VALID, "kort": "mitt eget svar"}).json()["receipt"]
    page = show_own_response(client, receipt)
    assert page.status_code == 200 and "mitt eget svar" in page.text and "Härnösand" in page.text
    assert receipt not in str(page.url)
    from tests.test_survey_pages import csrf

    token = csrf(page.text)
    unconfirmed = client.post("/mitt-svar/radera", data={"csrftoken": token, "kvitto": receipt})
    assert unconfirmed.status_code == 422 and "Kryssa i rutan" in unconfirmed.text
    deleted = client.post("/mitt-svar/radera", data={"csrftoken": token, "kvitto": receipt, "confirm": "yes"})
    assert deleted.status_code == 200 and "Ditt svar är raderat" in deleted.text
    with session_scope() as session:
        assert session.execute(select(Response).where(Response.receipt == receipt)).first() is None
    assert show_own_response(client, receipt).status_code == 404


def test_each_option_chosen_is_an_item_of_its_own(client) -> None:  # type: ignore[no-untyped-def]
    """Options' labels may hold commas: joined with commas, nobody could tell where one ends."""
    survey = store(every_type_survey())
    receipt = post(client, survey.slug, {**VALID, "flera": [1, 3], "rang": [3, 1]}).json()["receipt"]
    page = show_own_response(client, receipt).text
    assert "<td><ul><li>A</li><li>C</li></ul></td>" in page  # multiple choice
    assert "<td><ol><li>Z</li><li>X</li></ol></td>" in page  # ranking, in the order given


def test_unknown_receipt_is_a_clear_404(client) -> None:  # type: ignore[no-untyped-def]
    response = show_own_response(client, "FINNSINTE")
    assert response.status_code == 404 and "Det finns inget svar med den kvittokoden" in response.text


def test_the_receipt_code_is_never_in_an_address(client) -> None:  # type: ignore[no-untyped-def]
    """Addresses stay in the browser's history; whoever has the code can see and delete the answers."""
    survey = store(every_type_survey())
    receipt = post(client, survey.slug, VALID).json()["receipt"]
    assert client.get(f"/mitt-svar/{receipt}").status_code in (404, 405)
    assert client.get(f"/mitt-svar?kvitto={receipt}").text.count(receipt) == 0
    form = client.get("/mitt-svar").text
    assert '<form method="post" action="/mitt-svar">' in form


def test_the_page_of_ones_response_reloads_without_the_code_and_closes(client) -> None:  # type: ignore[no-untyped-def]
    """After the code is posted the browser lands on a page of its own: reloading it shows the
    answers again without posting the code, and it closes when asked, after ten minutes, or when
    the response is deleted."""
    from consult.privacy import service
    from consult.privacy.routes import SHOWN_COOKIE
    from tests.test_survey_pages import csrf

    survey = store(every_type_survey())
    receipt = post(client, survey.slug, {**VALID, "kort": "svar att visa igen"}).json()["receipt"]
    page = show_own_response(client, receipt)
    assert page.status_code == 200 and str(page.url).endswith("/mitt-svar/visa")
    assert page.history[0].status_code == 303 and "svar att visa igen" in page.text
    set_cookie = page.history[0].headers["set-cookie"]
    assert "Path=/mitt-svar" in set_cookie and "HttpOnly" in set_cookie and "Max-Age=600" in set_cookie
    assert receipt not in set_cookie  # the cookie names the response, not the code
    assert page.headers["cache-control"] == "no-store"
    reloaded = client.get("/mitt-svar/visa")
    assert reloaded.status_code == 200 and "svar att visa igen" in reloaded.text

    closed = client.post("/mitt-svar/stang", data={"csrftoken": csrf(reloaded.text)})
    assert str(closed.url).endswith("/mitt-svar?stangd=1") and "Sidan med ditt svar är stängd" in closed.text
    assert "svar att visa igen" not in client.get("/mitt-svar/visa").text

    # Ten minutes later, or with a cookie that was not signed here, the page asks for the code again.
    with session_scope() as session:
        stored = session.execute(select(Response).where(Response.receipt == receipt)).scalar_one()
        other = session.execute(select(Response).where(Response.receipt != receipt)).scalars().first()
        assert other is not None
        old = service.shown_response_cookie(response=stored, now=datetime.now(UTC) - timedelta(minutes=11))
        # A cookie made for another response that had this id (SQLite reuses a deleted last id).
        made_for_other = service._shown_serializer().loads(service.shown_response_cookie(response=other))
        reused_id = service._shown_serializer().dumps({**made_for_other, "id": stored.id})
        assert service.shown_response(session, cookie=service.shown_response_cookie(response=stored)) == stored
    for value in (old, reused_id, "eyJpZCI6MX0.forged", "x" * 500):
        client.cookies.set(SHOWN_COOKIE, value, path="/mitt-svar")
        refused = client.get("/mitt-svar/visa")
        assert str(refused.url).endswith("/mitt-svar?stangd=1") and "svar att visa igen" not in refused.text
        client.cookies.clear()

    # Deleting the response closes the page too.
    page = show_own_response(client, receipt)
    client.post("/mitt-svar/radera", data={"csrftoken": csrf(page.text), "kvitto": receipt, "confirm": "yes"})
    assert "svar att visa igen" not in client.get("/mitt-svar/visa").text


def test_delete_without_csrf_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    client.get("/mitt-svar")
    assert client.post("/mitt-svar/radera", data={"kvitto": "ANY", "confirm": "yes"}).status_code == 403
    assert client.post("/mitt-svar", data={"kvitto": "ANY"}).status_code == 403


def test_purge_deletes_only_expired(client) -> None:  # type: ignore[no-untyped-def]
    from consult.privacy.service import purge

    kept = store(every_type_survey(retention_days=365))
    short = store(every_type_survey(retention_days=30))
    for spec in (kept, short):
        assert post(client, spec.slug, VALID).status_code == 201
    with session_scope() as session:
        before_total = session.execute(select(func.count()).select_from(Response)).scalar_one()
        report = purge(session, now=datetime.now(UTC) + timedelta(days=60))
    with session_scope() as session:
        remaining = dict(
            session.execute(
                select(Response.survey_id, func.count())
                .where(Response.survey_id.in_([kept.id, short.id]))
                .group_by(Response.survey_id)
            ).all()
        )
        after_total = session.execute(select(func.count()).select_from(Response)).scalar_one()
    assert remaining == {kept.id: 1}
    assert report.deleted >= 1 and after_total == before_total - report.deleted


def test_backup_and_restore_into_an_empty_database(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from consult.migrate import upgrade
    from consult.ops.service import answers_checksum, backup, restore, table_counts

    survey = store(every_type_survey())
    post(client, survey.slug, {**VALID, "client_uuid": str(uuid.uuid4())})
    source = get_engine()
    file = tmp_path / "backup.db"
    backup(source, file)
    url = os.environ["CONSULT_DATABASE_URL"]
    if url.startswith("postgresql"):
        import psycopg

        name = f"consult_restore_{uuid.uuid4().hex[:8]}"
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        target_url = url.rsplit("/", 1)[0] + "/" + name
    else:
        target_url = f"sqlite:///{tmp_path / 'empty.db'}"
        upgrade(target_url)
    target = make_engine(
        target_url
        if not target_url.startswith("postgresql://")
        else "postgresql+psycopg://" + target_url.removeprefix("postgresql://")
    )
    try:
        restore(target, file)
        assert answers_checksum(target) == answers_checksum(source)
        assert table_counts(target) == table_counts(source)
    finally:
        target.dispose()
        if url.startswith("postgresql"):  # a throwaway database per run; leave none behind
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_answer_table_has_rows(client) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        assert session.execute(select(func.count()).select_from(Answer)).scalar_one() > 0


def test_about_page_says_where_to_report_accessibility_problems(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from consult.config import get_settings

    page = client.get("/om-tjansten").text
    assert 'href="https://www.digg.se/tdosanmalan"' in page  # the supervising agency, always
    assert "mailto:" not in page  # no contact details made up when none are set
    monkeypatch.setenv("CONSULT_CONTACT_EMAIL", "tillganglighet@region.example.se")
    monkeypatch.setenv("CONSULT_CONTACT_PHONE", "+46 (0)611-80 000")
    get_settings.cache_clear()
    try:
        page = client.get("/om-tjansten").text
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert 'href="mailto:tillganglighet@region.example.se"' in page and 'href="tel:+4661180000"' in page
    assert "Rapportera ett problem eller svara på annat sätt" in page
