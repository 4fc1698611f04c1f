"""Defects found by walking through consult as its users do, each pinned by what the user sees."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from consult.accounts import service as accounts
from consult.remiss import service as remiss
from tests.factories import every_type_survey, store
from tests.staff import create_staff, logged_in
from tests.test_api import VALID, post
from tests.test_privacy import show_own_response
from tests.test_remiss import make_round

PASSWORD = "qa-walkthrough-lösenord-7"


def test_own_response_says_dont_know_instead_of_a_dash(client) -> None:  # type: ignore[no-untyped-def]
    survey = store(every_type_survey())
    receipt = post(client, survey.slug, {**VALID, "skala": None}).json()["receipt"]
    swedish = show_own_response(client, receipt, "sv").text
    assert re.search(r'<th scope="row">skala</th><td>Vet ej</td>', swedish)
    english = show_own_response(client, receipt, "en").text
    assert re.search(r"<th scope=\"row\">skala</th><td>Don't know</td>", english.replace("&#39;", "'"))
    client.get("/?lang=sv")


def test_remiss_deadline_in_swedish_time_reads_back_as_written(demo) -> None:  # type: ignore[no-untyped-def]
    """A deadline of 23:59 Swedish time must not be shown as 01:59 the next day (SQLite keeps
    timestamps without their zone)."""
    from consult.db import session_scope

    key = make_round(deadline=datetime.fromisoformat("2025-08-31T23:59:00+02:00"))
    with session_scope() as session:
        stored = remiss.round_by_key(session, key=key)
        assert stored is not None
        assert remiss.format_date(stored.deadline, "sv") == "31 augusti 2025 23:59"
        assert remiss.as_utc(stored.deadline) == datetime(2025, 8, 31, 21, 59, tzinfo=UTC)


def test_the_demo_remiss_is_open_on_the_day_the_demo_is_loaded(client) -> None:  # type: ignore[no-untyped-def]
    """The demo round's dates are counted from the day of loading: it opened 45 days before and its
    deadline is 30 days after, at 23:59 Swedish time, so the demo shows the normal, on-time path. Its
    submitted answers lie between the opening and the day of loading, none late."""
    from consult.core.formatting import local
    from consult.db import session_scope

    with session_scope() as session:
        remiss.load_demo_remiss(session)
        demo_round = remiss.round_by_key(session, key="rus-2025")
        assert demo_round is not None
        rows = remiss.submitted_answers(session, round_id=demo_round.id)
    deadline, opens = local(demo_round.deadline), local(demo_round.opens_at)
    now = datetime.now(UTC)
    assert opens < now < remiss.as_utc(demo_round.deadline)
    assert (deadline.hour, deadline.minute) == (23, 59) and (opens.hour, opens.minute) == (8, 0)
    if demo_round.created_at and (now - remiss.as_utc(demo_round.created_at)).days == 0:
        assert (deadline.date() - local(now).date()).days == 30
    assert len(rows) == 5
    assert all(opens < local(r.answer.submitted_at) < local(now) and not r.answer.late for r in rows)
    with session_scope() as session:
        waiting = next(row for row in remiss.invitation_rows(session, round_id=demo_round.id)
                       if remiss.answer_state(row.answer) == "not_started")
        token = remiss.link_token(waiting.invitation.token_nonce)
    form = client.get(f"/r/{token}")
    assert form.status_code == 200 and "Sista svarsdagen har passerat" not in form.text


def test_links_csv_does_not_call_an_unopened_answer_a_draft(demo) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    key = make_round(deadline=datetime.now(UTC))
    with session_scope() as session:
        new_round = remiss.round_by_key(session, key=key)
        assert new_round is not None
        remiss.register_organisation(
            session,
            remiss_round=new_round,
            name="Orörd förening",
            actor_type="Civilsamhälle",
            area="Ånge",
            email="orord@example.se",
        )
        assert new_round.id is not None
        lines = remiss.links_csv(session, round_id=new_round.id, base_url="http://x").splitlines()
    assert lines[1].startswith("Orörd förening;") and lines[1].endswith(";Inte påbörjat")


def test_audit_log_names_every_action_and_shows_no_python_notation(app) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    emails = create_staff("qa-audit", PASSWORD)
    with session_scope() as session:
        admin = accounts.get_user_by_email(session, emails["admin"])
        assert admin is not None
        for action, details in (
            ("export", {"format": "csv", "raw": True, "filters": {}}),
            ("remiss.links", {}),
            ("themes.run.start", {"run": 7, "k": None}),
            ("weighting.save", {"variables": ["alder", "kon"], "design_effect": 1.2}),
        ):
            accounts.record_audit(session, user_id=admin.id, action=action, target="survey:1", details=details)
    page = logged_in(app, emails["admin"], PASSWORD).get(f"/admin/audit?user={admin.id}&lang=sv").text
    for label in ("Remiss: länkar nedladdade", "Teman: analys startad", "Viktningsmål sparade"):
        assert label in page
    assert "Format: csv; Rådata: ja" in page
    assert "Variabler: alder, kon" in page and "Designeffekt: 1.2" in page
    cells = re.findall(r"<td>(.*?)</td>", page)
    assert not [cell for cell in cells if re.search(r"\bTrue\b|\bFalse\b|\bNone\b|\{\}|\[", cell)]
    assert "remiss.links" not in "".join(cells) and "themes.run.start" not in "".join(cells)


def test_every_action_the_domains_record_has_a_label() -> None:
    """The audit page shows an action's label; a raw code such as remiss.links means one is missing."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "consult"
    recorded: set[str] = set()
    for source in root.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        recorded.update(re.findall(r'action="([a-z_.]+)"', text))
        recorded.update(f"themes.{name}" for name in re.findall(r'_audit\(session, request, user, "([a-z_.]+)"', text))
    recorded.update({"report.unpublish", "themes.confirm"})  # the other branch of a conditional expression
    missing = sorted(code for code in recorded if code not in accounts.ACTION_LABELS)
    assert len(recorded) > 20 and not missing, missing


def test_every_detail_key_the_domains_record_has_a_label() -> None:
    """A detail written as a literal dict (details={"rows": ...}) is shown with a translated label;
    the audit page would otherwise show the code ("design_effect")."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "consult"
    keys: set[str] = set()
    for source in root.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "details" and isinstance(node.value, ast.Dict):
                keys.update(k.value for k in node.value.keys if isinstance(k, ast.Constant))
    missing = sorted(key for key in keys if key not in accounts.DETAIL_LABELS)
    assert len(keys) > 20 and not missing, missing


def test_the_resume_notice_states_how_long_the_link_lasts(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The page says how many days the resume link lasts, and the draft lasts exactly that long."""
    import dataclasses

    from consult import config
    from consult.responses.drafts import get_draft

    settings = dataclasses.replace(config.get_settings(), resume_days=3)
    monkeypatch.setattr("consult.surveys.routes.get_settings", lambda: settings)
    survey = store(every_type_survey())
    start = client.get(f"/s/{survey.slug}")
    token = re.search(r'name="csrftoken" value="([^"]+)"', start.text).group(1)  # type: ignore[union-attr]
    page = client.post(f"/s/{survey.slug}/start", data={"csrftoken": token}, follow_redirects=True)
    assert "fortsätta inom 3 dagar" in page.text
    resume = re.search(r"/r/([A-Z2-7]+)", page.text).group(1)  # type: ignore[union-attr]
    draft = get_draft(token=resume, survey_id=survey.id)
    assert draft is not None and draft.expires_at is not None and draft.started_at is not None
    assert round((draft.expires_at - draft.started_at).total_seconds() / 86400) == 3


def test_loading_the_demo_again_repairs_a_deadline_stored_before_timestamps_were_utc(demo) -> None:  # type: ignore[no-untyped-def]
    """A demo round stored by the older code holds 23:59 as if it were UTC; loading the demo again
    gives it the fixture's deadline. A deadline an admin changed is left alone."""
    from sqlalchemy import update

    from consult.db import session_scope
    from consult.remiss.models import RemissRound

    key = remiss.read_draft_fixture()["round"]["key"]
    with session_scope() as session:
        remiss.load_demo_remiss(session)
        original = remiss.round_by_key(session, key=key).deadline  # type: ignore[union-attr]
        session.execute(update(RemissRound).where(RemissRound.key == key)
                        .values(deadline=datetime(2025, 8, 31, 23, 59, tzinfo=UTC)))
    with session_scope() as session:
        remiss.load_demo_remiss(session)
    with session_scope() as session:
        stored = remiss.round_by_key(session, key=key)
        assert stored is not None and remiss.format_date(stored.deadline, "sv") == "31 augusti 2025 23:59"
        stored.deadline = datetime(2025, 9, 15, 10, 0, tzinfo=UTC)  # an admin's own choice
    with session_scope() as session:
        remiss.load_demo_remiss(session)
    with session_scope() as session:
        stored = remiss.round_by_key(session, key=key)
        assert stored is not None and remiss.as_utc(stored.deadline) == datetime(2025, 9, 15, 10, 0, tzinfo=UTC)
        stored.deadline = original  # as the demo has it
