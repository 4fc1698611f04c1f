"""Surveys for invited people only (a sample, a panel): staff make a mailing's codes and get them
once as a file; a code opens the survey once, on the web and through the API; a used code is
refused, the response rate per mailing is shown, and no code is ever linked to its response."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from sqlalchemy import func, select

from consult.accounts.models import AuditEvent
from consult.campaigns.models import SurveyInvitation
from consult.responses.models import Response, ResponseDraft
from tests.factories import every_type_survey, store
from tests.staff import create_staff, csrf_from, logged_in, new_client
from tests.test_api import VALID, post
from tests.test_survey_pages import csrf

PASSWORD = "invitation-codes-2025"


@pytest.fixture(scope="module")
def staff(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff("invitations", PASSWORD)


@pytest.fixture(scope="module")
def sample(client):  # type: ignore[no-untyped-def]
    return store(every_type_survey(access="invitation"))


def _make_codes(app, staff, slug: str, count: int, batch: str = "Brev 1, mars") -> list[str]:  # type: ignore[no-untyped-def]
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    token = csrf_from(analyst.get(f"/admin/surveys/{slug}/inbjudningar").text)
    made = analyst.post(
        f"/admin/surveys/{slug}/inbjudningar", data={"csrftoken": token, "batch": batch, "count": str(count)}
    )
    assert made.status_code == 200 and made.headers["content-type"].startswith("text/csv")
    assert "attachment" in made.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(made.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == count
    for row in rows:
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", row["code"]) and row["batch"] == batch
        assert row["link"].endswith(f"/s/{slug}?kod={row['code']}")
    return [row["code"] for row in rows]


def _used(sample) -> int:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        return session.execute(
            select(func.count(SurveyInvitation.used_at)).where(SurveyInvitation.survey_id == sample.id)
        ).scalar_one()


def _responses(sample) -> int:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        return session.execute(
            select(func.count()).select_from(Response).where(Response.survey_id == sample.id)
        ).scalar_one()


def _start(browser, slug: str, code: str):  # type: ignore[no-untyped-def]
    page = browser.get(f"/s/{slug}")
    return browser.post(f"/s/{slug}/start", data={"csrftoken": csrf(page.text), "code": code})


def _finish(browser, first_url: str):  # type: ignore[no-untyped-def]
    first = browser.post(
        first_url, data={"csrftoken": csrf(browser.get(first_url).text), "kommun": "1", "val": "1", "action": "next"}
    )
    assert first.status_code == 303
    second_url = first.headers["location"]
    return browser.post(
        second_url, data={"csrftoken": csrf(browser.get(second_url).text), "lang": "Fler bussar", "action": "next"}
    )


def test_staff_make_codes_as_a_file_and_only_fingerprints_are_kept(app, staff, sample) -> None:  # type: ignore[no-untyped-def]
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    page = analyst.get(f"/admin/surveys/{sample.slug}/inbjudningar")
    assert page.status_code == 200 and "Inga koder har skapats" in page.text
    token = csrf_from(page.text)
    for form, field, message in (
        ({"batch": "", "count": "10"}, "batch", "Namnge utskicket"),
        ({"batch": "Brev", "count": "0"}, "count", "Skriv ett heltal från 1 till 20000."),
        ({"batch": "Brev", "count": "20001"}, "count", "Skriv ett heltal från 1 till 20000."),
        ({"batch": "Brev", "count": "tio"}, "count", "Skriv ett heltal från 1 till 20000."),
    ):
        refused = analyst.post(f"/admin/surveys/{sample.slug}/inbjudningar", data={"csrftoken": token, **form})
        assert refused.status_code == 422 and f'href="#field-{field}"' in refused.text and message in refused.text
        assert f'value="{form["batch"]}"' in refused.text  # what was typed is kept
    assert (
        analyst.post(f"/admin/surveys/{sample.slug}/inbjudningar", data={"batch": "B", "count": "1"}).status_code == 403
    )

    codes = _make_codes(app, staff, sample.slug, 5)
    assert len(set(codes)) == 5
    from consult.db import session_scope

    with session_scope() as session:
        stored = (
            session.execute(select(SurveyInvitation).where(SurveyInvitation.survey_id == sample.id)).scalars().all()
        )
        assert len(stored) >= 5
        kept = " ".join(row.code_hash for row in stored)
        assert not any(code.replace("-", "") in kept or code in kept for code in codes)
        audit = (
            session.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "invitations.create", AuditEvent.target == f"survey:{sample.id}"
                )
            )
            .scalars()
            .all()
        )
        assert audit and audit[-1].details == {"batch": "Brev 1, mars", "count": 5}
    interviewer = logged_in(app, staff["interviewer"], PASSWORD)
    assert interviewer.get(f"/admin/surveys/{sample.slug}/inbjudningar").status_code == 403


def test_a_code_opens_the_survey_once_and_is_not_linked_to_the_answers(app, staff, sample) -> None:  # type: ignore[no-untyped-def]
    code = _make_codes(app, staff, sample.slug, 1)[0]
    resident = new_client(app)
    start_page = resident.get(f"/s/{sample.slug}?kod={code}")
    assert "Din inbjudningskod" in start_page.text and f'value="{code}"' in start_page.text

    missing = _start(resident, sample.slug, " ")
    assert missing.status_code == 422 and "Skriv koden från din inbjudan." in missing.text
    wrong = _start(resident, sample.slug, "AAAA-AAAA")
    assert wrong.status_code == 422 and "Koden gäller inte den här enkäten" in wrong.text
    assert 'value="AAAA-AAAA"' in wrong.text and 'href="#field-code"' in wrong.text

    used_before = _used(sample)
    started = _start(resident, sample.slug, code.lower().replace("-", " "))  # as read aloud over the phone
    assert started.status_code == 303
    done = _finish(resident, started.headers["location"])
    assert done.status_code == 303 and done.headers["location"].endswith("/kvitto")
    assert _used(sample) == used_before + 1

    again = _start(new_client(app), sample.slug, code)
    assert again.status_code == 422 and "redan använts" in again.text
    # A household's second invited person may use the same browser: no "already answered" page.
    assert "Din inbjudningskod" in resident.get(f"/s/{sample.slug}").text
    # Nothing joins a code to a response: the invitation table keeps no response id.
    assert "response_id" not in SurveyInvitation.__table__.columns


def test_the_second_device_with_the_same_code_keeps_its_answers_but_is_not_stored(app, staff, sample) -> None:  # type: ignore[no-untyped-def]
    code = _make_codes(app, staff, sample.slug, 1)[0]
    first, second = new_client(app), new_client(app)
    first_start, second_start = _start(first, sample.slug, code), _start(second, sample.slug, code)
    assert first_start.status_code == second_start.status_code == 303
    assert _finish(first, first_start.headers["location"]).status_code == 303
    before = _responses(sample)
    refused = _finish(second, second_start.headers["location"])
    assert refused.status_code == 409 and "Inbjudningskoden har redan använts" in refused.text
    assert _responses(sample) == before
    from consult.db import session_scope

    token = second_start.headers["location"].split("/r/")[1].split("/")[0]
    with session_scope() as session:
        draft = session.execute(select(ResponseDraft).where(ResponseDraft.token == token)).scalar_one()
        assert draft.answers.get("lang") == "Fler bussar"


def test_the_api_takes_the_code_once_and_answers_a_resend_as_before(app, staff, sample, client) -> None:  # type: ignore[no-untyped-def]
    structure = client.get(f"/api/surveys/{sample.slug}").json()
    assert structure["access"] == "invitation"
    code = _make_codes(app, staff, sample.slug, 1)[0]
    missing = post(client, sample.slug, VALID)
    assert missing.status_code == 422
    assert {"field": "invitation_code", "code": "required"}.items() <= missing.json()["errors"][-1].items()
    wrong = post(client, sample.slug, VALID, invitation_code="ZZZZ-ZZZZ")
    assert wrong.status_code == 422 and wrong.json()["errors"][-1]["code"] == "invalid"
    client_uuid = str(uuid.uuid4())
    first = post(client, sample.slug, VALID, client_uuid=client_uuid, invitation_code=code)
    assert first.status_code == 201
    resend = post(client, sample.slug, VALID, client_uuid=client_uuid, invitation_code=code)
    assert resend.status_code == 200 and resend.json() == first.json()
    other = post(client, sample.slug, VALID, invitation_code=code)
    assert other.status_code == 409 and "inbjudningskoden" in other.json()["detail"].lower()

    open_survey = store(every_type_survey())
    refused = post(client, open_survey.slug, VALID, invitation_code=code)
    assert refused.status_code == 422 and refused.json()["errors"][-1] == {
        "field": "invitation_code",
        "code": "not_allowed",
        "message": "Enkäten är öppen för alla: den tar inte emot någon inbjudningskod.",
    }
    assert client.get(f"/api/surveys/{open_survey.slug}").json()["access"] == "open"


def test_the_response_rate_per_mailing_is_shown(app, staff, client) -> None:  # type: ignore[no-untyped-def]
    panel = store(every_type_survey(access="invitation"))
    codes = _make_codes(app, staff, panel.slug, 4, batch="Panel höst")
    _make_codes(app, staff, panel.slug, 2, batch="Påminnelse")
    assert post(client, panel.slug, VALID, invitation_code=codes[0]).status_code == 201
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    page = analyst.get(f"/admin/surveys/{panel.slug}/inbjudningar").text
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>"
        r"<td class=\"num\">([^<]+)</td></tr>",
        page,
    )
    assert rows == [("Panel höst", "4", "1", "25\xa0%"), ("Påminnelse", "2", "0", "0\xa0%")]
    assert "Alla utskick" in page
    # A code stays used when its respondent deletes the response (nothing links the two): the page says so.
    assert 'aria-describedby="answered-hint"' in page
    hint = re.search(r'<p class="hint" id="answered-hint">([^<]+)</p>', page)
    assert hint and "även när den som svarade senare har raderat sitt svar" in hint.group(1)


def test_the_survey_settings_choose_who_may_answer(app, staff) -> None:  # type: ignore[no-untyped-def]
    survey = store(every_type_survey())
    admin = logged_in(app, staff["admin"], PASSWORD)
    settings_url = f"/admin/surveys/{survey.slug}/settings"
    form = admin.get(settings_url).text
    assert "Vilka som får svara" in form and 'value="invitation"' in form
    base = {
        "csrftoken": csrf_from(form),
        "title_sv": "Urvalsenkät",
        "audience": "residents",
        "identity_mode": "anonymous",
    }
    bad = admin.post(settings_url, data={**base, "access": "alla"})
    assert bad.status_code == 422 and "Välj vilka som får svara." in bad.text
    assert admin.post(settings_url, data={**base, "access": "invitation"}).status_code == 303
    from consult.db import session_scope
    from consult.surveys.service import load_spec

    with session_scope() as session:
        spec = load_spec(session, slug=survey.slug)
        assert spec is not None and spec.access == "invitation"
    codes_page = admin.get(f"/admin/surveys/{survey.slug}/inbjudningar").text
    assert "Enkäten är öppen för alla som har länken" not in codes_page


def test_codes_are_mailed_as_personal_links_and_the_addresses_are_not_kept(app, staff, smtp_server) -> None:  # type: ignore[no-untyped-def]
    import email
    import email.policy

    from consult.db import session_scope

    panel = store(every_type_survey(access="invitation"))
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    url = f"/admin/surveys/{panel.slug}/inbjudningar"
    token = csrf_from(analyst.get(url).text)
    refused = analyst.post(
        f"{url}/epost", data={"csrftoken": token, "mail_batch": "Panel", "addresses": "anna@example.se\ninte-en-adress"}
    )
    assert refused.status_code == 422 and "Det här är inte e-postadresser: inte-en-adress" in refused.text
    assert "anna@example.se" in refused.text and smtp_server == []  # what was pasted is kept, nothing sent
    sent = analyst.post(
        f"{url}/epost",
        data={
            "csrftoken": token,
            "mail_batch": "Panel, e-post",
            "addresses": "anna@example.se; BO@example.se\nanna@example.se",
        },
    )
    assert sent.status_code == 200 and "2 inbjudningar skickades." in sent.text
    messages = [email.message_from_bytes(raw, policy=email.policy.default) for raw in smtp_server]
    assert sorted(m["To"] for m in messages) == ["anna@example.se", "bo@example.se"]
    links = [re.search(r"http://testserver(/s/[^\s]+)", m.get_body().get_content()).group(1) for m in messages]  # type: ignore[union-attr]
    resident = new_client(app)
    start_page = resident.get(links[0])
    assert 'name="code"' in start_page.text and re.search(r'value="[A-Z2-9]{4}-[A-Z2-9]{4}"', start_page.text)
    with session_scope() as session:
        rows = session.execute(select(SurveyInvitation).where(SurveyInvitation.survey_id == panel.id)).scalars().all()
        assert len(rows) == 2 and {r.batch for r in rows} == {"Panel, e-post"}
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "invitations.mail", AuditEvent.target == f"survey:{panel.id}")
        ).scalar_one()
        assert audit.details == {"batch": "Panel, e-post", "sent": 2, "failed": 0}
        assert "example.se" not in str([r.model_dump() for r in rows]) + str(audit.details)


def test_without_mail_set_up_the_page_says_to_use_the_file(app, staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CONSULT_SMTP_HOST", raising=False)
    panel = store(every_type_survey(access="invitation"))
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    page = analyst.get(f"/admin/surveys/{panel.slug}/inbjudningar").text
    assert "E-post är inte inställd på den här servern" in page and 'name="addresses"' not in page
    refused = analyst.post(
        f"/admin/surveys/{panel.slug}/inbjudningar/epost",
        data={"csrftoken": csrf_from(page), "mail_batch": "P", "addresses": "a@example.se"},
    )
    assert refused.status_code == 422


def test_an_unreachable_mail_server_sends_nothing_and_makes_no_codes(app, staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CONSULT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CONSULT_SMTP_PORT", str(port))
    monkeypatch.setenv("CONSULT_SMTP_FROM", "enkat@region.example.se")
    panel = store(every_type_survey(access="invitation"))
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    url = f"/admin/surveys/{panel.slug}/inbjudningar"
    token = csrf_from(analyst.get(url).text)
    refused = analyst.post(f"{url}/epost", data={"csrftoken": token, "mail_batch": "P", "addresses": "a@example.se"})
    assert refused.status_code == 502 and "E-postservern gick inte att nå" in refused.text
    assert "a@example.se" in refused.text and _used_and_made(panel) == (0, 0)


def _used_and_made(survey) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        rows = session.execute(select(SurveyInvitation).where(SurveyInvitation.survey_id == survey.id)).scalars().all()
        return sum(1 for r in rows if r.used_at), len(rows)


def test_personal_links_use_the_sites_public_address(app, staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A mail merge made from an internal address must still send residents to the public site.
    monkeypatch.setenv("CONSULT_BASE_URL", "https://dialog.example.se")
    survey = store(every_type_survey(access="invitation"))
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    token = csrf_from(analyst.get(f"/admin/surveys/{survey.slug}/inbjudningar").text)
    made = analyst.post(
        f"/admin/surveys/{survey.slug}/inbjudningar", data={"csrftoken": token, "batch": "Brev 1", "count": "2"}
    )
    rows = list(csv.DictReader(io.StringIO(made.content.decode("utf-8-sig")), delimiter=";"))
    assert [row["link"] for row in rows] == [
        f"https://dialog.example.se/s/{survey.slug}?kod={row['code']}" for row in rows
    ]


def test_a_pasted_personal_link_opens_the_survey_with_its_code(app, staff, sample) -> None:  # type: ignore[no-untyped-def]
    """A resident who pastes the whole personal link of their e-mail into the code field gets in:
    the code is taken from the link."""
    link_code, text_code = _make_codes(app, staff, sample.slug, 2)
    resident = new_client(app)
    page = resident.get(f"/s/{sample.slug}").text
    field = re.search(r'<input[^>]*id="field-code"[^>]*>', page)
    link = f"https://dialog.example.se/s/{sample.slug}?kod={link_code}"
    assert field and int(re.search(r'maxlength="(\d+)"', field.group(0)).group(1)) >= len(link)  # type: ignore[union-attr]
    assert _start(resident, sample.slug, f"  {link}\n").status_code == 303
    # Any text that holds kod=CODE will do, whatever follows it.
    other = new_client(app)
    pasted = f"Min länk: http://testserver/s/{sample.slug}?kod={text_code.lower()}&utm_source=mail"
    assert _start(other, sample.slug, pasted).status_code == 303
    # A link with a wrong code gets the usual message beside the field, with what was pasted.
    wrong = f"https://dialog.example.se/s/{sample.slug}?kod=AAAA-AAAA"
    refused = _start(new_client(app), sample.slug, wrong)
    assert refused.status_code == 422 and "Koden gäller inte den här enkäten" in refused.text
    assert f'value="{wrong}"' in refused.text


def test_a_code_longer_than_the_server_takes_is_said_beside_the_field(app, staff, sample) -> None:  # type: ignore[no-untyped-def]
    """Posted without the browser's maxlength: the start page with the error beside the field,
    not the bare "the form could not be read" page."""
    resident = new_client(app)
    refused = _start(resident, sample.slug, "ABCD-EFGH " * 60)
    assert refused.status_code == 422
    assert 'href="#field-code"' in refused.text
    error = re.search(r'id="code-error">(.*?)</p>', refused.text, re.S)
    assert error and "för långt för att vara en kod" in error.group(1)
    assert "Formuläret kunde inte läsas" not in refused.text
