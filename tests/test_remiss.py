"""The remiss: organisations answer the draft through their personal links (drafts, conflicts,
anchored comments, attachments, submit, late answers), admins register organisations and send
invitations, analysts publish, count and export."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import select

from consult.accounts import service as accounts
from consult.core.fields import safe_cell
from consult.remiss import service
from consult.remiss.models import RemissAnswer, RemissInvitation, RemissRound
from tests.staff import csrf_from
from tests.staff import logged_in as staff_login

PASSWORD = "ett-långt-lösenord-42"


def logged_in(app, email: str) -> TestClient:  # type: ignore[no-untyped-def]
    return staff_login(app, email, PASSWORD)
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\n"
    b"endobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \ntrailer\n"
    b"<< /Size 3 /Root 1 0 R >>\nstartxref\n110\n%%EOF\n"
)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def remiss_db(migrated: str, demo) -> str:  # type: ignore[no-untyped-def]
    """The migrated test database with the remiss tables and the demo remiss round."""
    from consult.db import session_scope

    with session_scope() as session:
        service.load_demo_remiss(session)
    return migrated


def make_round(*, deadline: datetime | None = None, closes_at: datetime | None = None,
               opens_at: datetime | None = None) -> str:
    from consult.db import session_scope
    from consult.strategy.service import version_by_key

    key = f"test-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        version = version_by_key(session, key="rus-2025")
        assert version is not None and version.id is not None
        service.create_round(
            session,
            key=key,
            version_id=version.id,
            title={"sv": f"Testremiss {key}", "en": f"Test consultation {key}"},
            deadline=deadline or datetime.now(UTC) + timedelta(days=30),
            closes_at=closes_at,
            opens_at=opens_at,
        )
    return key


def add_organisation(round_key: str, *, actor_type: str = "Kommun", name: str | None = None) -> str:
    """Register an organisation for the round; returns its link token."""
    from consult.db import session_scope

    with session_scope() as session:
        remiss_round = service.round_by_key(session, key=round_key)
        assert remiss_round is not None
        _invitation, token = service.register_organisation(
            session,
            remiss_round=remiss_round,
            name=name or f"Organisation {uuid.uuid4().hex[:6]}",
            actor_type=actor_type,
            area="Sundsvall",
            email=f"{uuid.uuid4().hex[:6]}@example.se",
        )
    return token


@pytest.fixture()
def round_key(remiss_db) -> str:  # type: ignore[no-untyped-def]
    return make_round()


@pytest.fixture()
def token(round_key: str) -> str:
    return add_organisation(round_key)


@pytest.fixture()
def web(app) -> TestClient:  # type: ignore[no-untyped-def]
    accounts.reset_login_limits()
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


@pytest.fixture(scope="module")
def staff(remiss_db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    suffix = uuid.uuid4().hex[:8]
    emails = {role: f"remiss-{role}-{suffix}@test.se" for role in ("admin", "analyst", "interviewer")}
    with session_scope() as session:
        for role, address in emails.items():
            accounts.create_user(session, email=address, password=PASSWORD, role=role)
    return emails






def post_answer(client: TestClient, token: str, fields: dict, *, file: tuple | None = None, csrf: str | None = None):  # type: ignore[no-untyped-def]
    """POST the answer form as a browser would: multipart, csrftoken first."""
    if csrf is None:
        csrf = csrf_from(client.get(f"/r/{token}").text)
    data = {"csrftoken": csrf, **fields}
    files = {"attachment": file or ("", b"", "application/octet-stream")}
    return client.post(f"/r/{token}", data=data, files=files)


def stored_answer(token: str) -> RemissAnswer:
    from consult.db import session_scope

    with session_scope() as session:
        context = service.context_for_token(session, token=token)
        assert context is not None
        return context.answer


# --- the link ----------------------------------------------------------------------------------


def test_unknown_link_gives_a_404_page_that_says_what_to_do(web: TestClient, remiss_db) -> None:  # type: ignore[no-untyped-def]
    for bad in ("x" * 32, "kort", "a" * 200):
        response = web.get(f"/r/{bad}")
        assert response.status_code == 404
        if len(bad) == 32:
            assert "Länken fungerar inte" in response.text
            assert "be Region Västernorrland om en ny" in response.text


def test_link_of_a_closed_round_has_expired(web: TestClient, remiss_db) -> None:  # type: ignore[no-untyped-def]
    past = datetime.now(UTC) - timedelta(days=1)
    token = add_organisation(make_round(deadline=past - timedelta(days=5), closes_at=past))
    response = web.get(f"/r/{token}")
    assert response.status_code == 404
    assert "Remissen stängdes" in response.text and "länken fungerar inte längre" in response.text


def test_token_has_at_least_128_bits_and_only_its_hash_is_stored(token: str) -> None:
    assert len(token) >= 22  # base64url: 6 bits a character
    from consult.db import session_scope

    with session_scope() as session:
        rows = session.exec(select(RemissInvitation.token_hash, RemissInvitation.token_nonce)).all()
    assert all(token not in (row[0], row[1]) for row in rows)
    assert service.token_hash(token) in {row[0] for row in rows}


def test_form_shows_the_draft_with_every_priority_and_principle(web: TestClient, token: str) -> None:
    html = web.get(f"/r/{token}").text
    assert "Samordnat påverkansarbete gentemot nationell och internationell nivå" in html
    assert "Stärkt folkhälsoarbete för god och jämlik hälsa" in html
    assert "Jämställdhet" in html and "Flernivåstyre betyder att berörda aktörer" in html
    for label in ("Instämmer", "Instämmer delvis", "Instämmer inte", "Avstår"):
        assert f">{label}</label>" in html
    assert html.index('name="csrftoken"') < html.index('name="version"')  # csrftoken is the first field
    assert 'enctype="multipart/form-data"' in html


# --- draft, resume, conflict -------------------------------------------------------------------


def test_draft_is_saved_and_resumed_through_the_same_link(web: TestClient, token: str) -> None:
    fields = {
        "version": "0",
        "position__folkhalsa": "agree",
        "comment__folkhalsa": "Bra att folkhälsan kommit med.",
        "principle__jamstalldhet": "Jämställdheten behöver mätbara mål.",
        "overall": "Vi stöder förslaget i stort.",
        "action": "save",
    }
    response = post_answer(web, token, fields)
    assert response.status_code == 303
    assert response.headers["location"] == f"/r/{token}?saved=1"
    other_browser = TestClient(web.app, base_url="http://testserver", follow_redirects=False)
    html = other_browser.get(f"/r/{token}").text
    assert 'name="version" value="1"' in html and "Sista svarsdagen har passerat" not in html
    assert 'id="position__folkhalsa-agree" name="position__folkhalsa" value="agree" checked' in html
    assert "Bra att folkhälsan kommit med." in html and "Jämställdheten behöver mätbara mål." in html
    assert "Vi stöder förslaget i stort." in html
    assert "Utkast, version 1" in html


def test_an_empty_form_sent_before_anyone_saved_leaves_the_answer_not_started(web: TestClient, token: str) -> None:
    from consult.db import session_scope
    from consult.remiss import service

    refused = post_answer(web, token, {"version": "0", "action": "submit"})
    assert refused.status_code == 422 and 'class="error-summary"' in refused.text
    with session_scope() as session:
        answer = service.context_for_token(session, token=token).answer  # type: ignore[union-attr]
        assert service.answer_state(answer) == "not_started" and answer.version == 0


def test_a_position_that_is_none_of_the_choices_is_refused_and_the_rest_kept(web: TestClient, token: str) -> None:
    fields = {"version": "0", "position__folkhalsa": "bogus", "overall": "Vi stöder förslaget.", "action": "save"}
    refused = post_answer(web, token, fields)
    assert refused.status_code == 422
    assert 'href="#field-position__folkhalsa">Välj ett av ställningstagandena.' in refused.text
    assert "Vi stöder förslaget." in refused.text


def test_second_writer_is_warned_and_nothing_is_overwritten(web: TestClient, token: str) -> None:
    first = post_answer(web, token, {"version": "0", "overall": "Anna skrev detta först.", "action": "save"})
    assert first.status_code == 303
    second = post_answer(web, token, {"version": "0", "overall": "Bertil skrev detta samtidigt.", "action": "save"})
    assert second.status_code == 409
    assert "Någon annan har sparat svaret medan du arbetade" in second.text
    assert "Anna skrev detta först." in second.text  # theirs, shown
    assert "Bertil skrev detta samtidigt." in second.text  # mine, kept in the form
    assert 'name="version" value="1"' in second.text  # saving again now replaces theirs deliberately
    assert stored_answer(token).content["overall"] == "Anna skrev detta först."
    third = post_answer(web, token, {"version": "1", "overall": "Bertil skrev detta samtidigt.", "action": "save"})
    assert third.status_code == 303
    assert stored_answer(token).content["overall"] == "Bertil skrev detta samtidigt."


# --- anchored comments -------------------------------------------------------------------------


def test_comment_anchored_to_a_section_with_the_picker(web: TestClient, token: str) -> None:
    fields = {
        "version": "0",
        "new_section": "leva-insatser",
        "new_quote": "snabb, robust och säker digital infrastruktur",
        "new_text": "Bredbandet på landsbygden måste byggas ut.",
        "action": "add_comment",
    }
    response = post_answer(web, token, fields)
    assert response.status_code == 303
    anchored = stored_answer(token).content["anchored"]
    assert len(anchored) == 1
    comment = anchored[0]
    assert comment["section"] == "leva-insatser" and comment["text"] == "Bredbandet på landsbygden måste byggas ut."
    from consult.db import session_scope

    with session_scope() as session:
        remiss_round = session.get(RemissRound, stored_answer(token).round_id)
        draft = service.load_draft(session, version_id=remiss_round.version_id)
    text = draft.by_key["leva-insatser"].anchor_text("sv")
    assert text[comment["start"] : comment["end"]] == "snabb, robust och säker digital infrastruktur"
    html = web.get(f"/r/{token}").text
    assert (
        "Bredbandet på landsbygden måste byggas ut." in html
        and 'name="anchored_0_section" value="leva-insatser"' in html
    )


def test_comment_on_a_section_that_does_not_exist_is_refused_and_nothing_is_lost(web: TestClient, token: str) -> None:
    fields = {
        "version": "0",
        "overall": "Helhetskommentar som inte får försvinna.",
        "comment__jarnvagar": "Ostkustbanan först!",
        "new_section": "finns-inte",
        "new_text": "Kommentar på ett påhittat avsnitt.",
        "action": "add_comment",
    }
    response = post_answer(web, token, fields)
    assert response.status_code == 422
    assert "Den delen av förslaget finns inte" in response.text
    assert 'href="#field-new_section"' in response.text
    assert "Kommentar på ett påhittat avsnitt." in response.text  # re-shown to fix
    assert "Helhetskommentar som inte får försvinna." in response.text
    assert "Ostkustbanan först!" in response.text
    assert stored_answer(token).content["overall"] == "Helhetskommentar som inte får försvinna."


def test_quote_that_is_not_in_the_section_is_refused(web: TestClient, token: str) -> None:
    fields = {
        "version": "0",
        "new_section": "plats-2030",
        "new_quote": "Denna mening står inte i förslaget.",
        "new_text": "Min kommentar.",
        "action": "add_comment",
    }
    response = post_answer(web, token, fields)
    assert response.status_code == 422
    assert "Det citerade stycket finns inte i den delen av förslaget" in response.text
    assert "Denna mening står inte i förslaget." in response.text and "Min kommentar." in response.text


# --- attachments -------------------------------------------------------------------------------


def test_pdf_attachment_is_stored_with_its_sha256(web: TestClient, token: str) -> None:
    import hashlib

    from consult.config import get_settings

    response = post_answer(
        web, token, {"version": "0", "action": "save"}, file=("yttrande.pdf", MINIMAL_PDF, "application/pdf")
    )
    assert response.status_code == 303
    answer = stored_answer(token)
    assert answer.attachment_sha256 == hashlib.sha256(MINIMAL_PDF).hexdigest()
    assert answer.attachment_name == "yttrande.pdf" and answer.attachment_size == len(MINIMAL_PDF)
    stored = get_settings().var_dir / "remiss" / "attachments" / f"{answer.attachment_sha256}.pdf"
    assert stored.read_bytes() == MINIMAL_PDF
    assert "yttrande.pdf" in web.get(f"/r/{token}").text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 this is a zip file renamed to pdf", "Filen är inte en PDF"),
        (b"%PDF-1.7\nbut cut off before the end", "Filen är inte en PDF"),
        (MINIMAL_PDF + b"\0" * (10 * 1024 * 1024), "Filen är för stor"),
    ],
)
def test_bad_attachment_is_refused_and_the_answer_is_kept(
    web: TestClient, token: str, content: bytes, message: str
) -> None:
    fields = {"version": "0", "overall": "Texten finns kvar.", "action": "save"}
    response = post_answer(web, token, fields, file=("svar.pdf", content, "application/pdf"))
    assert response.status_code == 422
    assert message in response.text
    assert 'href="#field-attachment"' in response.text
    assert "Texten finns kvar." in response.text
    answer = stored_answer(token)
    assert answer.attachment_sha256 is None and answer.content["overall"] == "Texten finns kvar."


# --- submit, receipt, late ---------------------------------------------------------------------


def submit(web: TestClient, token: str, version: int = 0, **extra: str):  # type: ignore[no-untyped-def]
    # One position of seventeen, sent on purpose: the "no position on 16 priorities" step is confirmed.
    fields = {"version": str(version), "position__jarnvagar": "agree", "consent": "yes", "action": "submit",
              "confirm_incomplete": "1", **extra}
    return post_answer(web, token, fields)


def test_submitting_with_priorities_left_out_asks_once_and_keeps_the_draft(web: TestClient, token: str) -> None:
    fields = {"version": "0", "position__jarnvagar": "agree", "position__folkhalsa": "disagree",
              "consent": "yes", "action": "submit"}
    asked = post_answer(web, token, fields)
    assert asked.status_code == 200
    assert "Ert svar tar inte ställning till 15 prioriteringar" in asked.text
    assert 'href="#section-paverkansarbete"' in asked.text  # each gap links to its priority, title first
    assert 'name="confirm_incomplete" value="1"' in asked.text
    answer = stored_answer(token)
    assert answer.status != "submitted" and answer.content["positions"] == {"jarnvagar": "agree",
                                                                            "folkhalsa": "disagree"}
    sent = post_answer(web, token, {**fields, "version": str(answer.version), "confirm_incomplete": "1"})
    assert sent.status_code == 303 and sent.headers["location"].endswith("/kvitto")
    assert stored_answer(token).status == "submitted"


def test_submit_gives_a_read_only_receipt_and_printable_copy(web: TestClient, token: str) -> None:
    response = submit(web, token, comment__jarnvagar="Mittbanan är viktigast.")
    assert response.status_code == 303 and response.headers["location"] == f"/r/{token}/kvitto"
    receipt = web.get(f"/r/{token}/kvitto")
    assert receipt.status_code == 200
    assert "Ert svar har tagits emot" in receipt.text
    answer = stored_answer(token)
    assert answer.status == "submitted" and answer.receipt and answer.receipt in receipt.text
    assert "Mittbanan är viktigast." in receipt.text and "Instämmer" in receipt.text
    assert "<textarea" not in receipt.text and '<form method="post" action="/r/' not in receipt.text
    assert "/static/app/remiss.css" in receipt.text  # print rules live there
    assert not answer.late and "efter sista svarsdag" not in receipt.text
    # the link now leads to the receipt
    assert web.get(f"/r/{token}").headers["location"] == f"/r/{token}/kvitto"


def test_submit_needs_the_consent_choice(web: TestClient, token: str) -> None:
    response = post_answer(web, token, {"version": "0", "overall": "Synpunkt.", "action": "submit"})
    assert response.status_code == 422
    assert "Ange om ert svar får publiceras" in response.text
    assert stored_answer(token).status == "draft"
    assert "Synpunkt." in response.text


def test_submitting_again_after_submit_is_refused_and_the_text_is_kept(web: TestClient, token: str) -> None:
    csrf = csrf_from(web.get(f"/r/{token}").text)  # a second tab, opened before the first submitted
    assert submit(web, token).status_code == 303
    again = post_answer(
        web, token, {"version": "0", "overall": "Sent tillägg.", "consent": "yes", "action": "submit"}, csrf=csrf
    )
    assert again.status_code == 409
    assert "har redan lämnat sitt svar" in again.text
    assert "Sent tillägg." in again.text
    assert stored_answer(token).content.get("overall") == ""


def test_answer_after_the_deadline_is_accepted_and_marked_late(web: TestClient, remiss_db) -> None:  # type: ignore[no-untyped-def]
    token = add_organisation(make_round(deadline=datetime.now(UTC) - timedelta(hours=1)))
    form = web.get(f"/r/{token}").text  # the form says so before anything is sent
    assert "Sista svarsdagen har passerat." in form and "markeras som sent" in form
    assert submit(web, token).status_code == 303
    answer = stored_answer(token)
    assert answer.status == "submitted" and answer.late
    assert "Inskickat efter sista svarsdagen" in web.get(f"/r/{token}/kvitto").text


# --- admin: organisations, links, invitations ----------------------------------------------


def test_invitations_and_reminders_are_mailed_with_working_links(app, staff, round_key, smtp_server) -> None:  # type: ignore[no-untyped-def]
    add_organisation(round_key, name=f"Kramfors kommun {round_key}")
    add_organisation(round_key, name=f"Timrå kommun {round_key}")
    admin = logged_in(app, staff["admin"])
    page = admin.get(f"/admin/remiss/{round_key}/organisationer")
    assert "Skicka inbjudningar" in page.text
    response = admin.post(
        f"/admin/remiss/{round_key}/utskick", data={"csrftoken": csrf_from(page.text), "action": "invite"}
    )
    assert response.status_code == 200
    assert "Skickade e-postmeddelanden: 2." in response.text
    assert len(smtp_server) == 2
    messages = [email.message_from_bytes(raw, policy=email.policy.default) for raw in smtp_server]
    assert {m["From"] for m in messages} == {"remiss@region.example.se"}
    body = messages[0].get_body().get_content()
    assert "sista svarsdag" in body.lower() or "svara senast" in body.lower()
    link = re.search(r"http://testserver(/r/[A-Za-z0-9_-]+)", body)
    assert link, body
    assert admin.get(link.group(1)).status_code == 200  # the mailed link opens the form
    # a second round of invitations sends nothing new; reminders go to those who have not answered
    again = admin.post(
        f"/admin/remiss/{round_key}/utskick", data={"csrftoken": csrf_from(page.text), "action": "invite"}
    )
    assert "Skickade e-postmeddelanden: 0." in again.text
    token = urlsplit(link.group(1)).path.split("/")[-1]
    web = TestClient(app, base_url="http://testserver", follow_redirects=False)
    assert submit(web, token).status_code == 303
    admin.post(f"/admin/remiss/{round_key}/utskick", data={"csrftoken": csrf_from(page.text), "action": "remind"})
    assert len(smtp_server) == 3
    reminder = email.message_from_bytes(smtp_server[-1], policy=email.policy.default)
    assert reminder["Subject"].startswith("Påminnelse")


def test_no_invitation_to_those_who_answered_and_none_after_the_deadline(app, staff, smtp_server) -> None:  # type: ignore[no-untyped-def]
    key = make_round()
    answered = add_organisation(key, name=f"Sollefteå kommun {key}")
    add_organisation(key, name=f"Ånge kommun {key}")
    web = TestClient(app, base_url="http://testserver", follow_redirects=False)
    assert submit(web, answered).status_code == 303  # answered through a link sent some other way
    admin = logged_in(app, staff["admin"])
    page = admin.get(f"/admin/remiss/{key}/organisationer")
    sent = admin.post(f"/admin/remiss/{key}/utskick", data={"csrftoken": csrf_from(page.text), "action": "invite"})
    assert "Skickade e-postmeddelanden: 1." in sent.text
    [mail] = [email.message_from_bytes(raw, policy=email.policy.default) for raw in smtp_server]
    assert f"Ånge kommun {key}" in mail.get_body().get_content()

    late = make_round(deadline=datetime.now(UTC) - timedelta(hours=1))
    add_organisation(late, name=f"Timrå kommun {late}")
    page = admin.get(f"/admin/remiss/{late}/organisationer")
    refused = admin.post(f"/admin/remiss/{late}/utskick", data={"csrftoken": csrf_from(page.text), "action": "invite"})
    assert refused.status_code == 409 and "har passerat" in refused.text
    assert len(smtp_server) == 1


def test_without_smtp_the_admin_downloads_the_links(app, staff, round_key, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CONSULT_SMTP_HOST", raising=False)
    token = add_organisation(round_key, name=f"Ånge kommun {round_key}")
    admin = logged_in(app, staff["admin"])
    page = admin.get(f"/admin/remiss/{round_key}/organisationer")
    assert "E-post är inte inställd" in page.text
    response = admin.get(f"/admin/remiss/{round_key}/lankar.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert [r["Länk"] for r in rows] == [f"http://testserver/r/{token}"]
    assert rows[0]["Status"] == "Inte påbörjat"  # in words, as on the page
    refused = admin.post(
        f"/admin/remiss/{round_key}/utskick", data={"csrftoken": csrf_from(page.text), "action": "invite"}
    )
    assert refused.status_code == 409 and "Ladda ner länkarna" in refused.text


def test_csv_import_adds_the_good_rows_and_reports_the_bad_ones(app, staff, round_key) -> None:  # type: ignore[no-untyped-def]
    suffix = round_key[-8:]
    data = (
        "namn;aktörstyp;område;e-post\n"
        f"Härnösands kommun {suffix};Kommun;Härnösand;kommun@harnosand.example.se\n"
        f"Okänd typ {suffix};Rymdstyrelse;Kiruna;info@rymd.example.se\n"
        f"Fel adress {suffix};Näringsliv;Sundsvall;inte-en-adress\n"
        f"Mittuniversitetet {suffix};universitet eller högskola;Sundsvall;registrator@miun.example.se\n"
    ).encode()
    admin = logged_in(app, staff["admin"])
    page = admin.get(f"/admin/remiss/{round_key}/organisationer")
    response = admin.post(
        f"/admin/remiss/{round_key}/organisationer/import",
        data={"csrftoken": csrf_from(page.text)},
        files={"file": ("organisationer.csv", data, "text/csv")},
    )
    assert response.status_code == 200
    assert "Tillagda organisationer: 2." in response.text
    problems = re.findall(r"<li>(Rad \d+: [^<]+)</li>", response.text)
    assert len(problems) == 2, response.text
    assert problems[0].startswith("Rad 3: Välj en av aktörstyperna")
    assert problems[1].startswith("Rad 4: Ange en giltig e-postadress")
    from consult.db import session_scope

    with session_scope() as session:
        rows = service.invitation_rows(session, round_id=service.round_by_key(session, key=round_key).id)
    assert {r.organisation.name: r.organisation.actor_type for r in rows} == {
        f"Härnösands kommun {suffix}": "Kommun",
        f"Mittuniversitetet {suffix}": "Universitet eller högskola",
    }


def test_one_organisation_added_by_hand_with_errors_shown_beside_the_fields(app, staff, round_key) -> None:  # type: ignore[no-untyped-def]
    admin = logged_in(app, staff["admin"])
    page = admin.get(f"/admin/remiss/{round_key}/organisationer")
    form = {"csrftoken": csrf_from(page.text), "name": "Sollefteå kommun", "actor_type": "", "area": "", "email": "x"}
    bad = admin.post(f"/admin/remiss/{round_key}/organisationer", data=form)
    assert bad.status_code == 422
    assert 'id="actor_type-error"' in bad.text and 'id="email-error"' in bad.text
    assert 'value="Sollefteå kommun"' in bad.text
    name = f"Sollefteå kommun {round_key}"
    good = admin.post(
        f"/admin/remiss/{round_key}/organisationer",
        data={**form, "name": name, "actor_type": "Kommun", "email": "kommun@solleftea.example.se"},
    )
    assert good.status_code == 303
    assert name in admin.get(good.headers["location"]).text


# --- roles -------------------------------------------------------------------------------------


def test_staff_pages_follow_the_roles(app, staff, round_key) -> None:  # type: ignore[no-untyped-def]
    analyst_pages = [f"/admin/remiss/{round_key}/svar", f"/admin/remiss/{round_key}/export.csv", "/admin/remiss"]
    admin_pages = [f"/admin/remiss/{round_key}/organisationer", f"/admin/remiss/{round_key}/lankar.csv"]
    anonymous = TestClient(app, base_url="http://testserver", follow_redirects=False)
    for path in analyst_pages + admin_pages:
        response = anonymous.get(path)
        assert response.status_code == 303 and urlsplit(response.headers["location"]).path == "/login", path
    interviewer = logged_in(app, staff["interviewer"])
    for path in analyst_pages + admin_pages:
        assert interviewer.get(path).status_code == 403, path
    analyst = logged_in(app, staff["analyst"])
    for path in analyst_pages:
        assert analyst.get(path).status_code == 200, path
    for path in admin_pages:
        assert analyst.get(path).status_code == 403, path
    admin = logged_in(app, staff["admin"])
    for path in analyst_pages + admin_pages:
        assert admin.get(path).status_code == 200, path
    assert 'href="/admin/remiss"' in analyst.get("/personal").text


def test_attachment_is_served_only_to_staff_and_never_inline(app, staff, web, token, round_key) -> None:  # type: ignore[no-untyped-def]
    post_answer(web, token, {"version": "0", "action": "save"}, file=("yttrande.pdf", MINIMAL_PDF, "application/pdf"))
    assert submit(web, token, version=1).status_code == 303
    answer_id = stored_answer(token).id
    path = f"/admin/remiss/{round_key}/bilaga/{answer_id}"
    assert web.get(path).status_code == 303  # to the login page
    assert logged_in(app, staff["interviewer"]).get(path).status_code == 403
    response = logged_in(app, staff["analyst"]).get(path)
    assert response.status_code == 200 and response.content == MINIMAL_PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "yttrande.pdf" in response.headers["content-disposition"]


# --- publication and the public page ---------------------------------------------------------


def test_public_page_lists_answers_and_shows_only_published_ones(app, staff, web, round_key) -> None:  # type: ignore[no-untyped-def]
    consenting = add_organisation(round_key, name=f"Publicerbar {round_key}")
    refusing = add_organisation(round_key, name=f"Hemlig {round_key}")
    not_answered = add_organisation(round_key, name=f"Tyst {round_key}")
    assert submit(web, consenting, overall="Publicera gärna detta.").status_code == 303
    assert submit(web, refusing, consent="no", overall="Detta får inte publiceras.").status_code == 303
    del not_answered
    public = web.get(f"/remiss/{round_key}")
    assert f"Publicerbar {round_key}" in public.text and f"Hemlig {round_key}" in public.text
    assert f"Tyst {round_key}" not in public.text
    assert "Läs svaret" not in public.text  # nothing published yet
    # The consenting organisation's answer is waiting for the review team, which the list says.
    assert public.text.count("Publiceras efter granskning") == 1 and "Inte publicerat" in public.text
    consenting_id, refusing_id = stored_answer(consenting).id, stored_answer(refusing).id
    assert web.get(f"/remiss/{round_key}/svar/{consenting_id}").status_code == 404

    analyst = logged_in(app, staff["analyst"])
    overview = analyst.get(f"/admin/remiss/{round_key}/svar")
    csrf = csrf_from(overview.text)
    assert f"/svar/{refusing_id}/publicering" not in overview.text  # no consent, no button
    refused = analyst.post(
        f"/admin/remiss/{round_key}/svar/{refusing_id}/publicering", data={"csrftoken": csrf, "published": "1"}
    )
    assert refused.status_code == 409
    published = analyst.post(
        f"/admin/remiss/{round_key}/svar/{consenting_id}/publicering", data={"csrftoken": csrf, "published": "1"}
    )
    assert published.status_code == 303
    public = web.get(f"/remiss/{round_key}")
    assert public.text.count("Läs svaret") == 1
    shown = web.get(f"/remiss/{round_key}/svar/{consenting_id}")
    assert shown.status_code == 200 and "Publicera gärna detta." in shown.text
    assert web.get(f"/remiss/{round_key}/svar/{refusing_id}").status_code == 404
    assert "Detta får inte publiceras." not in web.get(f"/remiss/{round_key}").text


def test_the_front_page_links_to_the_rounds_that_have_opened(web: TestClient, remiss_db) -> None:  # type: ignore[no-untyped-def]
    opened = make_round()
    coming = make_round(opens_at=datetime.now(UTC) + timedelta(days=3))
    front = web.get("/").text
    assert "Remissvar från organisationer" in front
    assert f'href="/remiss/{opened}"' in front and f"Testremiss {opened}" in front
    assert f"/remiss/{coming}" not in front


def test_demo_round_has_a_public_page(web: TestClient, remiss_db) -> None:  # type: ignore[no-untyped-def]
    page = web.get("/remiss/rus-2025")
    assert page.status_code == 200
    assert "Sundsvalls kommun" in page.text and "Mittuniversitetet" in page.text
    assert "Hela Sverige ska leva Västernorrland" not in page.text  # only a draft so far


# --- the review team's counts, comments and exports --------------------------------------------


def test_positions_are_counted_per_actor_type(app, staff, web, remiss_db) -> None:  # type: ignore[no-untyped-def]
    key = make_round()
    answers = [("Kommun", "agree"), ("Kommun", "agree"), ("Kommun", "disagree"), ("Näringsliv", "partly")]
    for actor_type, position in answers:
        token = add_organisation(key, actor_type=actor_type)
        assert (
            submit(web, token, **{"position__jarnvagar": position, "position__folkhalsa": "abstain"}).status_code == 303
        )
    draft_only = add_organisation(key, actor_type="Kommun")
    post_answer(web, draft_only, {"version": "0", "position__jarnvagar": "disagree", "action": "save"})
    from consult.db import session_scope

    with session_scope() as session:
        counts = service.position_counts(session, round_id=service.round_by_key(session, key=key).id)
    assert counts["jarnvagar"] == {"Kommun": {"agree": 2, "disagree": 1}, "Näringsliv": {"partly": 1}}
    assert counts["folkhalsa"] == {"Kommun": {"abstain": 3}, "Näringsliv": {"abstain": 1}}
    page = logged_in(app, staff["analyst"]).get(f"/admin/remiss/{key}/svar").text
    railways = page[page.index("<summary>Finansieringsbeslut tagna") :]
    row = re.search(r'<th scope="row">Kommun</th>(.*?)</tr>', railways, re.S)
    assert row and re.findall(r">(\d+)<", row.group(1)) == ["2", "0", "1", "0", "3"]


def test_all_comments_on_a_section_in_one_place_redacted(app, staff, web, round_key) -> None:  # type: ignore[no-untyped-def]
    first = add_organisation(round_key, name=f"Första {round_key}")
    second = add_organisation(round_key, name=f"Andra {round_key}")
    submit(web, first, **{"comment__hallbart-resande": "Ring mig på 070-123 45 67."})
    submit(
        web,
        second,
        new_section="hallbart-resande",
        new_quote="",
        new_text="Bussarna i Ånge går för sällan.",
    )
    page = logged_in(app, staff["analyst"]).get(f"/admin/remiss/{round_key}/kommentarer/hallbart-resande")
    assert page.status_code == 200
    assert f"Första {round_key}" in page.text and f"Andra {round_key}" in page.text
    assert "Bussarna i Ånge går för sällan." in page.text
    assert "070-123 45 67" not in page.text and "[telefon]" in page.text
    english = logged_in(app, staff["analyst"]).get(f"/admin/remiss/{round_key}/kommentarer/hallbart-resande?lang=en")
    assert "070-123 45 67" not in english.text and "Ring mig på [phone]." in english.text
    assert "[telefon]" not in english.text
    missing = logged_in(app, staff["analyst"]).get(f"/admin/remiss/{round_key}/kommentarer/finns-inte")
    assert missing.status_code == 404


def test_exports_in_csv_and_xlsx_are_redacted(app, staff, web, round_key) -> None:  # type: ignore[no-untyped-def]
    token = add_organisation(round_key, name=f"Exportören {round_key}", actor_type="Civilsamhälle")
    submit(web, token, overall="Kontakta mig på anna.andersson@example.se.", **{"comment__jarnvagar": "Bygg nu."})
    analyst = logged_in(app, staff["analyst"])
    response = analyst.get(f"/admin/remiss/{round_key}/export.csv")
    assert response.status_code == 200 and response.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    mine = [r for r in rows if r["organisation"] == f"Exportören {round_key}"]
    kinds = {r["kind"]: r for r in mine}
    assert kinds["priority"]["section_key"] == "jarnvagar" and kinds["priority"]["position"] == "agree"
    assert kinds["priority"]["comment"] == "Bygg nu."
    assert "anna.andersson@example.se" not in response.text and "[e-post]" in kinds["overall"]["comment"]
    english = logged_in(app, staff["analyst"]).get(f"/admin/remiss/{round_key}/export.csv?lang=en").text
    assert "Kontakta mig på [email]." in english and "anna.andersson" not in english and "[e-post]" not in english
    workbook = load_workbook(io.BytesIO(analyst.get(f"/admin/remiss/{round_key}/export.xlsx").content))
    assert workbook.sheetnames == ["Svar", "Ställningstaganden"]
    values = [[c.value for c in row] for row in workbook["Svar"].iter_rows()]
    assert values[0][:3] == ["organisation", "actor_type", "area"]
    assert all("anna.andersson@example.se" not in str(v) for row in values for v in row)
    counts = [[c.value for c in row] for row in workbook["Ställningstaganden"].iter_rows()]
    assert counts[0][:3] == ["priority_key", "priority", "actor_type"]
    assert ["jarnvagar", "Civilsamhälle", 1, 0, 0, 0, 1] in [[r[0], *r[2:]] for r in counts]


def test_formula_like_text_is_neutralised_in_exports() -> None:
    assert safe_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert safe_cell("Vanlig text") == "Vanlig text"


def test_demo_loader_can_run_twice(remiss_db) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        again = service.load_demo_remiss(session)
    assert again == {"sections": 0, "organisations": 0, "answers": 0}
    with session_scope() as session:
        remiss_round = service.round_by_key(session, key="rus-2025")
        rows = service.invitation_rows(session, round_id=remiss_round.id)
        counts = service.position_counts(session, round_id=remiss_round.id)
    assert len(rows) == 8
    assert sum(1 for r in rows if r.answer.status == "submitted") == 5
    assert counts["jarnvagar"]["Kommun"] == {"agree": 2}


def test_links_command_prints_the_links(round_key: str) -> None:
    from typer.testing import CliRunner

    from consult.cli import app as cli_app

    token = add_organisation(round_key, name=f"Kommandorad {round_key}")
    result = CliRunner().invoke(cli_app, ["remiss-links", round_key, "--base-url", "https://remiss.example.se"])
    assert result.exit_code == 0, result.output
    assert f"https://remiss.example.se/r/{token}" in result.output
    assert CliRunner().invoke(cli_app, ["remiss-links", "finns-inte"]).exit_code == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"version": "99999999999999999999999", "overall": "x", "action": "save"},
        {"version": "-5", "anchored_count": "100000", "anchored_0_start": "9" * 30, "action": "save"},
        {
            "version": "0",
            "new_section": "plats-2030",
            "new_quote": "Påverkansarbetet",
            "new_start": "-1",
            "new_end": "999999999999",
            "new_text": "x",
            "action": "add_comment",
        },
        {"version": "0", "position__jarnvagar": "kanske", "consent": "kanske", "action": "submit"},
        {"version": "abc", "action": "radera-allt"},
    ],
)
def test_odd_form_values_never_give_a_500(web: TestClient, token: str, fields: dict) -> None:
    response = post_answer(web, token, fields)
    assert response.status_code in (303, 409, 422), response.text[:300]


def test_odd_addresses_never_give_a_500(web: TestClient, round_key: str) -> None:
    for path in (
        f"/remiss/{round_key}/svar/99999999999999999999",
        f"/remiss/{round_key}/svar/-1",
        "/remiss/" + "x" * 300,
        f"/r/{'a' * 40}/kvitto",
        f"/r/{'a' * 40}?saved=99999999999999999999",
    ):
        assert web.get(path).status_code in (400, 404, 422), path


def test_the_form_in_english(web: TestClient, token: str) -> None:
    html = web.get(f"/r/{token}?lang=en").text
    assert "Answer from Organisation" in html and ">Partly agree</label>" in html
    assert "In 2030 Västernorrland offers an innovative climate" in html  # the draft's English summary
    web.get("/?lang=sv")


def test_actor_types_read_in_the_readers_language(app, staff, round_key) -> None:  # type: ignore[no-untyped-def]
    """Actor types are stored as the strategy names them (Swedish); the English interface shows
    them in English, in the list and in the form's choices, and the form still posts the stored name."""
    add_organisation(round_key, name=f"Timrå kommun {round_key}", actor_type="Kommun")
    admin = logged_in(app, staff["admin"])
    swedish = admin.get(f"/admin/remiss/{round_key}/organisationer?lang=sv").text
    assert "<td>Kommun</td>" in swedish and '<option value="Kommun">Kommun</option>' in swedish
    english = admin.get(f"/admin/remiss/{round_key}/organisationer?lang=en").text
    assert "<td>Municipality</td>" in english and "<td>Kommun</td>" not in english
    assert '<option value="Kommun">Municipality</option>' in english
    assert '<option value="Civilsamhälle">Civil society</option>' in english
    admin.get("/?lang=sv")


# --- long text and line breaks -----------------------------------------------------------------


def test_text_at_the_limit_with_line_breaks_is_stored_whole_with_lf(web: TestClient, token: str) -> None:
    """Browsers send a line break as CRLF but count it as one character against maxlength: a text
    the browser let in is stored whole, its line breaks as LF."""
    lines = ["x" * 99] * 100  # 100 lines: 9,900 characters and 99 line breaks, 9,999 as the browser counts
    typed = "\r\n".join(lines) + "y"
    assert len(typed.replace("\r\n", "\n")) == 10_000
    response = post_answer(web, token, {"version": "0", "overall": typed, "comment__folkhalsa": "a\r\nb\rc",
                                        "action": "save"})
    assert response.status_code == 303
    stored = stored_answer(token).content
    assert stored["overall"] == "\n".join(lines) + "y" and "\r" not in stored["overall"]
    assert stored["comments"]["folkhalsa"] == "a\nb\nc"


def test_text_over_the_limit_is_refused_whole_and_nothing_is_stored(web: TestClient, token: str) -> None:
    assert post_answer(web, token, {"version": "0", "overall": "Första utkastet.", "action": "save"}).status_code == 303
    too_long = "Inledning.\r\n" + "z" * 9_990  # 10,001 characters as the browser counts them
    fields = {"version": "1", "overall": too_long, "principle__jamstalldhet": "Ny synpunkt på principen.",
              "action": "save"}
    refused = post_answer(web, token, fields)
    assert refused.status_code == 422
    assert 'href="#field-overall">Korta texten till högst 10000 tecken (nu 10001).' in refused.text
    assert 'id="overall-error"' in refused.text and 'aria-describedby="overall-error"' in refused.text
    assert "Ingenting sparades" in refused.text
    assert "z" * 9_990 in refused.text and "Ny synpunkt på principen." in refused.text  # kept in the form, whole
    answer = stored_answer(token)
    assert answer.version == 1 and answer.content["overall"] == "Första utkastet."
    assert answer.content["principles"] == {}


def test_a_long_priority_comment_gets_its_error_in_english(web: TestClient, token: str) -> None:
    web.get(f"/r/{token}?lang=en")
    refused = post_answer(web, token, {"version": "0", "comment__folkhalsa": "w" * 10_001, "action": "submit",
                                       "consent": "yes", "position__folkhalsa": "agree"})
    web.get("/?lang=sv")
    assert refused.status_code == 422
    assert 'href="#field-comment__folkhalsa">Shorten the text to at most 10000 characters (now 10001).' in refused.text
    assert 'id="comment__folkhalsa-error"' in refused.text
    answer = stored_answer(token)
    assert answer.version == 0 and answer.status == "draft"


def test_a_long_new_comment_stays_in_the_new_comment_field(web: TestClient, token: str) -> None:
    fields = {"version": "0", "new_section": "plats-2030", "new_text": "v" * 10_001, "action": "add_comment"}
    refused = post_answer(web, token, fields)
    assert refused.status_code == 422
    assert 'href="#field-new_text">Korta texten' in refused.text
    assert 'name="anchored_count" value="0"' in refused.text and "v" * 10_001 in refused.text
    assert stored_answer(token).content == {}


# --- the language switch ------------------------------------------------------------------------


def test_the_language_switch_saves_what_was_typed(web: TestClient, token: str) -> None:
    form = web.get(f"/r/{token}").text
    header = form[form.index('class="lang-switch"') : form.index("</nav>")]
    switch = re.search(r'<button type="submit" form="answer-form" formaction="([^"]+)" name="action" value="(\w+)"',
                       header)
    assert switch and switch.groups() == (f"/r/{token}?lang=en", "switch")
    untouched = web.post(f"/r/{token}?lang=en", data={"csrftoken": csrf_from(form), "version": "0", "action": "switch"},
                         files={"attachment": ("", b"", "application/octet-stream")})
    assert untouched.status_code == 303 and untouched.headers["location"] == f"/r/{token}"  # no "nothing saved"
    assert stored_answer(token).version == 0
    assert 'href="?lang=en"' not in header and "<a " not in header  # no plain link that drops the form
    # Enter in a field must not switch the language: a hidden Save button is the form's first submit button.
    assert header.index('value="save" hidden') < header.index("formaction=")
    csrf = csrf_from(form)
    fields = {"csrftoken": csrf, "version": "0", "position__folkhalsa": "partly",
              "overall": "Skrivet före bytet av språk.", "action": "switch"}
    switched = web.post(f"/r/{token}?lang=en", data=fields, files={"attachment": ("", b"", "application/octet-stream")})
    assert switched.status_code == 303 and switched.headers["location"] == f"/r/{token}?saved=1"
    english = web.get(switched.headers["location"]).text
    web.get("/?lang=sv")
    assert "Your draft is saved (version 1)" in english and "Skrivet före bytet av språk." in english
    assert 'value="partly" checked' in english
    assert 'formaction="/r/' + token + '?lang=sv"' in english and ">På svenska</button>" in english


def test_the_language_switch_after_a_conflict_overwrites_nothing(web: TestClient, token: str) -> None:
    assert post_answer(web, token, {"version": "0", "overall": "Annas text.", "action": "save"}).status_code == 303
    conflict = post_answer(web, token, {"version": "0", "overall": "Bertils text.", "action": "save"})
    assert conflict.status_code == 409
    header = conflict.text[conflict.text.index('class="lang-switch"') : conflict.text.index("</nav>")]
    assert f'formaction="/r/{token}?lang=en" name="action" value="show"' in header
    fields = {"csrftoken": csrf_from(conflict.text), "version": "1", "overall": "Bertils text.", "action": "show"}
    shown = web.post(f"/r/{token}?lang=en", data=fields, files={"attachment": ("", b"", "application/octet-stream")})
    web.get("/?lang=sv")
    assert shown.status_code == 200
    assert "Someone else saved the answer while you were working" in shown.text
    assert "Annas text." in shown.text and "Bertils text." in shown.text
    assert stored_answer(token).content["overall"] == "Annas text." and stored_answer(token).version == 1


# --- a window left open while a colleague submits ---------------------------------------------


def test_saving_in_a_stale_window_after_a_colleague_submitted(web: TestClient, token: str) -> None:
    saved = post_answer(web, token, {"version": "0", "overall": "Första versionen.", "action": "save"})
    assert saved.status_code == 303
    stale_csrf = csrf_from(web.get(f"/r/{token}").text)  # colleague A's window, at version 1
    assert submit(web, token, version=1, overall="Första versionen.").status_code == 303  # colleague B submits
    receipt = stored_answer(token).receipt
    fields = {"version": "1", "overall": "A:s nya text som inte får försvinna.\r\nAndra raden.",
              "position__folkhalsa": "partly", "comment__folkhalsa": "Folkhälsan behöver mer.", "action": "save"}
    stale = post_answer(web, token, fields, csrf=stale_csrf)
    assert stale.status_code == 409
    html = stale.text
    assert "Svaret har redan skickats in" in html and "har redan lämnat sitt svar" in html
    assert "Utkast, version" not in html and "Allt annat ni skrev finns kvar" not in html
    assert "Det du skrev i det här fönstret har inte sparats." in html
    assert f'href="/r/{token}/kvitto"' in html and receipt and receipt in html
    assert 'name="action"' not in html and "Spara utkast" not in html and "Skicka in svaret" not in html
    copy = html[html.index('<textarea id="typed-text" readonly') : html.index("</textarea>")]
    assert "A:s nya text som inte får försvinna.\nAndra raden." in copy
    assert "Instämmer delvis" in copy and "Folkhälsan behöver mer." in copy
    assert stored_answer(token).content["overall"] == "Första versionen."


# --- versions only for something new ------------------------------------------------------------


def test_saving_an_empty_form_keeps_the_answer_not_started(web: TestClient, token: str) -> None:
    saved = post_answer(web, token, {"version": "0", "action": "save"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/r/{token}?empty=1"
    page = web.get(saved.headers["location"]).text
    assert "Ingenting sparades: formuläret är fortfarande tomt." in page and "Inte sparat än" in page
    assert post_answer(web, token, {"version": "0", "action": "submit"}).status_code == 422
    answer = stored_answer(token)
    assert answer.version == 0 and service.answer_state(answer) == "not_started"


def test_saving_or_failing_to_submit_the_same_draft_makes_no_new_version(web: TestClient, token: str) -> None:
    draft = {"position__folkhalsa": "agree", "overall": "Vårt svar.\r\nRad två.", "comment__folkhalsa": "Bra."}
    assert post_answer(web, token, {"version": "0", **draft, "action": "save"}).status_code == 303
    again = post_answer(web, token, {"version": "1", **draft, "action": "save"})
    assert again.status_code == 303 and again.headers["location"] == f"/r/{token}?saved=1"
    for _attempt in range(2):  # no consent choice: refused, and the draft stays version 1
        refused = post_answer(web, token, {"version": "1", **draft, "action": "submit"})
        assert refused.status_code == 422 and 'name="version" value="1"' in refused.text
    assert stored_answer(token).version == 1
    changed = post_answer(web, token, {"version": "1", **draft, "consent": "no", "action": "save"})
    assert changed.headers["location"] == f"/r/{token}?saved=2"
    assert stored_answer(token).version == 2 and stored_answer(token).consent_publish is False


# --- exports in the reader's language ------------------------------------------------------------


def test_exports_follow_the_language_and_the_draft_and_agree_on_line_breaks(app, staff, web, remiss_db) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    round_key = make_round(deadline=datetime.now(UTC) - timedelta(hours=1))  # every answer is late
    token = add_organisation(round_key, name=f"Radbrytarna {round_key}", actor_type="Civilsamhälle")
    other = add_organisation(round_key, name=f"Kommunen {round_key}", actor_type="Kommun")
    positions = {"position__jarnvagar": "agree", "position__folkhalsa": "partly", "position__paverkansarbete": "agree"}
    assert submit(web, token, **positions).status_code == 303
    assert submit(web, other, **positions).status_code == 303
    with session_scope() as session:  # stored before line breaks were normalised on saving
        answer = session.get(RemissAnswer, stored_answer(token).id)
        answer.content = {**answer.content, "overall": "Första raden.\r\nAndra raden."}
        session.add(answer)
    analyst = logged_in(app, staff["analyst"])

    swedish = list(csv.DictReader(io.StringIO(analyst.get(f"/admin/remiss/{round_key}/export.csv").text
                                              .lstrip("\ufeff")), delimiter=";"))
    mine = [r for r in swedish if r["organisation"] == f"Radbrytarna {round_key}"]
    assert {(r["late"], r["published"], r["actor_type"]) for r in mine} == {("ja", "nej", "Civilsamhälle")}
    overall = next(r for r in mine if r["kind"] == "overall")["comment"]
    assert overall == "Första raden.\nAndra raden."

    english_csv = analyst.get(f"/admin/remiss/{round_key}/export.csv?lang=en").text
    english = list(csv.DictReader(io.StringIO(english_csv.lstrip("\ufeff")), delimiter=";"))
    assert {r["actor_type"] for r in english} == {"Civil society", "Municipality"}
    assert {(r["late"], r["published"]) for r in english} == {("yes", "no")}

    workbook = load_workbook(io.BytesIO(analyst.get(f"/admin/remiss/{round_key}/export.xlsx?lang=en").content))
    analyst.get("/?lang=sv")
    rows = [[c.value for c in row] for row in workbook["Svar"].iter_rows()][1:]
    assert "Första raden.\nAndra raden." in [row[-1] for row in rows]
    counts = [[c.value for c in row] for row in workbook["Ställningstaganden"].iter_rows()][1:]
    with session_scope() as session:
        remiss_round = service.round_by_key(session, key=round_key)
        draft = service.load_draft(session, version_id=remiss_round.version_id)
    in_draft_order = [p.key for p in draft.priorities if p.key in ("jarnvagar", "folkhalsa", "paverkansarbete")]
    assert in_draft_order != sorted(in_draft_order)  # the test would prove nothing otherwise
    assert list(dict.fromkeys(row[0] for row in counts)) == in_draft_order
    assert [row[2] for row in counts if row[0] == "jarnvagar"] == ["Municipality", "Civil society"]  # strategy order
    summary = analyst.get(f"/admin/remiss/{round_key}/svar?lang=en").text
    analyst.get("/?lang=sv")
    assert summary.index('<th scope="row">Municipality</th>') < summary.index('<th scope="row">Civil society</th>')
