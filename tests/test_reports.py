"""The consultation summary ("Sammanställning av inspel", issue 6 section 6) and the organisations'
answers view (section 5): figures as in the workspace, suppression when published, the closing
section saved and audited, publication, the PDF, roles, and the remiss positions and comments."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import review_cycle
from tests.test_workspace import (
    PERSONNUMMER,
    SmallSurvey,
    create_small_survey,
    create_staff,
    csrf_from,
    logged_in_client,
)

DEMO_CYCLE = "oversyn-2025"
DEMO_ROUND = "rus-2025-remiss"


def release_test_cycles() -> None:
    """Move the surveys of this module's review cycles out of them, so that the demo cycle is again
    the newest with a survey: the workspace overview opens that one by default."""
    from sqlalchemy import update

    from consult.db import session_scope
    from consult.strategy.models import ReviewCycle
    from consult.surveys.models import Survey

    with session_scope() as session:
        ours = select(ReviewCycle.id).where(ReviewCycle.key.like("rp-%"))
        session.execute(update(Survey).where(Survey.cycle_id.in_(ours)).values(cycle_id=None))


@pytest.fixture(scope="module")
def tables(migrated: str, demo) -> Iterator[str]:  # type: ignore[no-untyped-def]
    yield migrated
    release_test_cycles()


@pytest.fixture(scope="module")
def staff(tables) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff()


@pytest.fixture(scope="module")
def analyst(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in_client(app, staff["analyst"])


@pytest.fixture(scope="module")
def anonymous(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def new_cycle_with_small_survey() -> str:
    """A review cycle of its own holding the workspace tests' six hand-countable responses."""
    from consult.db import session_scope

    key = f"rp-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        cycle_id = review_cycle(session, key, {"sv": f"Rapportcykel {key}", "en": f"Report cycle {key}"}).id
    create_small_survey(cycle_id=cycle_id, slug=f"{key}-enkat", draft=False)
    return key


@pytest.fixture()
def small_cycle(tables) -> str:  # type: ignore[no-untyped-def]
    return new_cycle_with_small_survey()


def demo_round_key() -> str:
    from consult.db import session_scope
    from consult.remiss.models import RemissRound
    from consult.strategy.models import ReviewCycle

    with session_scope() as session:
        cycle = session.execute(select(ReviewCycle).where(ReviewCycle.key == DEMO_CYCLE)).scalar_one()
        found = session.execute(select(RemissRound).where(RemissRound.cycle_id == cycle.id)).scalars().first()
        assert found is not None, "the demo remiss round belongs to the demo review cycle"
        return found.key


def section_html(page: str, anchor: str) -> str:
    """The HTML of the report section whose heading has this id, up to the next section."""
    start = page.index(f'id="{anchor}"')
    end = page.find('<section class="rp-section', start)
    return page[start : end if end != -1 else len(page)]


def question_html(page: str, question_id: int) -> str:
    start = page.index(f'aria-labelledby="rq-{question_id}"')
    return page[start : page.index("</section>", start)]


def table_cells(fragment: str) -> list[list[str]]:
    """Rows of the first table of a fragment, as the text of their cells."""
    start = fragment.index("<table")
    table = fragment[start : fragment.index("</table>", start)]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def fmt(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


# --- the report --------------------------------------------------------------------------------------


def test_report_has_every_section_with_the_workspaces_figures(analyst: TestClient) -> None:
    from consult.db import session_scope
    from consult.workspace import service as workspace

    page = analyst.get(f"/arbetsyta/rapport/{DEMO_CYCLE}")
    assert page.status_code == 200, page.text[:500]
    text = page.text
    for anchor in ("metod", "resultat", "teman", "tackning", "organisationer", "atgarder"):
        assert f'id="{anchor}"' in text, anchor
    assert "Sammanställning av inspel" in text
    with session_scope() as session:
        cycle = workspace.cycles(session)
        cycle = next(c for c in cycle if c.key == DEMO_CYCLE)
        specs = workspace.surveys_of_cycle(session, cycle_id=cycle.id)
        overview = workspace.overview(session, cycle=cycle, surveys=specs)
        outcome = workspace.results(session, spec=specs[0], filters=workspace.Filters())
    method = section_html(text, "metod")
    channels = {row[0]: row[1] for row in table_cells(method[method.index("Svarande per kanal") :])[1:]}
    assert sum(int(v.replace("\u202f", "")) for v in channels.values()) == overview.total
    results = section_html(text, "resultat")
    checked = 0
    for result in outcome.questions:
        if result.kind not in ("choice", "multiple") or result.code == "consent_quote":
            continue
        rows = {cells[0]: cells[1] for cells in table_cells(question_html(results, result.question.id))[1:]}
        assert rows == {row["label"]: fmt(row["count"]) for row in result.rows}, result.code
        checked += 1
    assert checked >= 3
    assert 'alt="Andel av de svarande per alternativ' in results  # each chart has a text alternative
    assert "data:image/svg+xml;base64," in results


def test_without_a_theme_analysis_the_report_says_so(analyst: TestClient, small_cycle: str) -> None:
    page = analyst.get(f"/arbetsyta/rapport/{small_cycle}").text
    themes = section_html(page, "teman")
    assert "Ingen temaanalys har gjorts ännu" in themes
    assert "Ingen temaanalys har gjorts ännu" in section_html(page, "tackning")


def test_published_version_suppresses_small_cells(analyst: TestClient, small_cycle: str) -> None:
    from consult.db import session_scope
    from consult.surveys.service import load_spec

    with session_scope() as session:
        question_id = load_spec(session, slug=f"{small_cycle}-enkat").question("val").id
    working = analyst.get(f"/arbetsyta/rapport/{small_cycle}").text
    published = analyst.get(f"/arbetsyta/rapport/{small_cycle}?publicera=1").text
    # "Ja eller nej?": 4 yes and 2 no. The working version shows them; the published one must not.
    working_rows = table_cells(question_html(section_html(working, "resultat"), question_id))
    assert working_rows[1][:2] == ["Ja", "4"] and working_rows[2][:2] == ["Nej", "2"]
    published_rows = table_cells(question_html(section_html(published, "resultat"), question_id))
    assert published_rows[1] == ["Ja", "färre än 5"] and published_rows[2] == ["Nej", "färre än 5"]
    # Channels: four on the web are shown as such; one by campaign and one on paper are not.
    method = section_html(published, "metod")
    assert "färre än 5" in method and "Rapportcykel" in published


def test_hidden_groups_are_explained_where_they_appear(analyst: TestClient, small_cycle: str,
                                                       monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A group of 5 or more marked "hidden" (so that a small one cannot be worked out from the total)
    is explained at the top and under its table, with a link to "Things to keep in mind"."""
    from consult.reports import service

    rows = [{"label": "Ånge", "count": None, "share": None, "suppressed": True},
            {"label": "Härnösand", "count": None, "share": None, "suppressed": True, "complement": True},
            {"label": "Sundsvall", "count": 40, "share": 0.85, "suppressed": False}]
    monkeypatch.setattr(service.Report, "municipalities", property(lambda self: rows))
    published = analyst.get(f"/arbetsyta/rapport/{small_cycle}?publicera=1").text
    explanation = "Där ett dolt tal skulle kunna räknas fram ur en summa döljs även det näst minsta"
    header = published.split('id="report-title"')[1].split("</p>")[0]
    assert explanation in header and 'href="#keep-in-mind"' in header
    table = section_html(published, "metod").split("Svarande per kommun</h3>")[1]
    assert ">dolt<" in table
    note = table.split("</table>")[1].split("</p>")[0]
    assert explanation in note and 'href="#keep-in-mind"' in note
    assert 'id="keep-in-mind"' in published
    working = analyst.get(f"/arbetsyta/rapport/{small_cycle}").text
    assert explanation not in working.split('id="report-title"')[1].split("</p>")[0]


def test_closing_section_saves_is_audited_and_shows_after_publishing(
    analyst: TestClient, anonymous: TestClient, small_cycle: str
) -> None:
    from consult.accounts.models import AuditEvent
    from consult.db import session_scope

    url = f"/arbetsyta/rapport/{small_cycle}/atgarder"
    form = analyst.get(url)
    assert form.status_code == 200 and 'for="field-actions-sv"' in form.text
    text = "Vi har läst alla svar.\n\nBussarna får en egen prioritering i strategin."
    sent = analyst.post(url, data={"csrftoken": csrf_from(form.text), "actions-sv": text, "actions-en": ""})
    assert sent.status_code == 303 and sent.headers["location"].startswith(f"/arbetsyta/rapport/{small_cycle}")
    staff_page = analyst.get(f"/arbetsyta/rapport/{small_cycle}").text
    assert "<p>Bussarna får en egen prioritering i strategin.</p>" in section_html(staff_page, "atgarder")
    with session_scope() as session:
        events = (
            session.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "report.actions.save", AuditEvent.target == f"cycle:{small_cycle}"
                )
            )
            .scalars()
            .all()
        )
    assert len(events) == 1 and events[0].details["characters"]["sv"] == len(text)

    assert anonymous.get(f"/rapport/{small_cycle}").status_code == 404  # not published yet
    assert anonymous.get(f"/rapport/{small_cycle}/pdf").status_code == 404
    publish = analyst.post(
        f"/arbetsyta/rapport/{small_cycle}/publicering", data={"csrftoken": csrf_from(staff_page), "publish": "1"}
    )
    assert publish.status_code == 303
    public = anonymous.get(f"/rapport/{small_cycle}")
    assert public.status_code == 200
    assert "Bussarna får en egen prioritering i strategin." in public.text
    assert "färre än 5" in public.text  # always suppressed in public
    assert "/arbetsyta/rapport" not in public.text and "Redigera" not in public.text
    assert PERSONNUMMER not in public.text  # no raw free text
    with session_scope() as session:
        actions = {
            e.action
            for e in session.execute(select(AuditEvent).where(AuditEvent.target == f"cycle:{small_cycle}")).scalars()
        }
    assert {"report.actions.save", "report.publish"} <= actions
    english = anonymous.get(f"/rapport/{small_cycle}?lang=en")
    assert "Bussarna får en egen prioritering" in english.text  # no English text: the Swedish one
    unpublish = analyst.post(
        f"/arbetsyta/rapport/{small_cycle}/publicering", data={"csrftoken": csrf_from(staff_page), "publish": "0"}
    )
    assert unpublish.status_code == 303
    assert anonymous.get(f"/rapport/{small_cycle}").status_code == 404


def test_closing_section_form_reports_errors_beside_the_fields(analyst: TestClient, small_cycle: str) -> None:
    url = f"/arbetsyta/rapport/{small_cycle}/atgarder"
    token = csrf_from(analyst.get(url).text)
    empty = analyst.post(url, data={"csrftoken": token, "actions-sv": "   ", "actions-en": "Only English"})
    assert empty.status_code == 422
    assert 'class="error-summary"' in empty.text and 'href="#field-actions-sv"' in empty.text
    assert 'aria-invalid="true"' in empty.text and "Only English" in empty.text  # what was typed is kept
    long = analyst.post(url, data={"csrftoken": token, "actions-sv": "x" * 20_001})
    assert long.status_code == 422 and "20" in long.text


def test_pdf_download_is_a_pdf(analyst: TestClient) -> None:
    answer = analyst.get(f"/arbetsyta/rapport/{DEMO_CYCLE}/pdf")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-") and len(answer.content) > 20_000
    assert "attachment" in answer.headers["content-disposition"]
    published = analyst.get(f"/arbetsyta/rapport/{DEMO_CYCLE}/pdf?publicera=1")
    assert published.status_code == 200 and published.content.startswith(b"%PDF-")


def test_a_pdf_is_made_once_for_the_same_report(analyst: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """WeasyPrint takes seconds: the same report downloaded again is served from what was made."""
    from consult.reports import pdf

    made: list[str] = []
    monkeypatch.setattr(pdf, "_render", lambda html: made.append(html) or b"%PDF-" + str(len(made)).encode())
    monkeypatch.setattr(pdf, "_made", type(pdf._made)())
    first = analyst.get(f"/arbetsyta/rapport/{DEMO_CYCLE}/pdf")
    again = analyst.get(f"/arbetsyta/rapport/{DEMO_CYCLE}/pdf")
    assert first.content == again.content == b"%PDF-1" and len(made) == 1
    published = analyst.get(f"/arbetsyta/rapport/{DEMO_CYCLE}/pdf?publicera=1")
    assert published.content == b"%PDF-2" and len(made) == 2  # another report, another PDF


def test_the_working_version_pdf_says_on_every_page_that_it_is_not_for_publication(analyst: TestClient,
                                                                                    monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The working version shows groups under five; passed around as a file, it must not look like the
    published summary (a QA pass found nothing in it that told them apart)."""
    from consult.reports import routes

    pages: list[str] = []
    monkeypatch.setattr(routes, "html_to_pdf", lambda html: pages.append(html) or b"%PDF-")
    note = "Arbetsversion för personalen, inte för publicering"
    assert analyst.get(f"/arbetsyta/rapport/{DEMO_CYCLE}/pdf?lang=sv").status_code == 200
    assert analyst.get(f"/arbetsyta/rapport/{DEMO_CYCLE}/pdf?publicera=1&lang=sv").status_code == 200
    assert note in pages[0] and note not in pages[1]
    working = analyst.get(f"/arbetsyta/rapport/{DEMO_CYCLE}?lang=sv").text
    assert "Ladda ned arbetsversionen som pdf" in working


def test_without_the_pdf_library_the_download_says_so(analyst: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from consult.reports import pdf, routes

    def missing(html: str) -> bytes:
        raise pdf.PdfUnavailable("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(routes, "html_to_pdf", missing)
    answer = analyst.get(f"/arbetsyta/rapport/{DEMO_CYCLE}/pdf")
    assert answer.status_code == 503 and "Skriv ut sidan" in answer.text


def test_public_pdf_of_a_published_report(analyst: TestClient, anonymous: TestClient, small_cycle: str) -> None:
    page = analyst.get(f"/arbetsyta/rapport/{small_cycle}").text
    analyst.post(f"/arbetsyta/rapport/{small_cycle}/publicering", data={"csrftoken": csrf_from(page), "publish": "1"})
    answer = anonymous.get(f"/rapport/{small_cycle}/pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-") and len(answer.content) > 5_000


def test_weighted_report_shows_effective_sample_size(analyst: TestClient, small_cycle: str) -> None:
    url = f"/arbetsyta/rapport/{small_cycle}/atgarder"
    token = csrf_from(analyst.get(url).text)
    analyst.post(url, data={"csrftoken": token, "actions-sv": "Text", "weighted": "1"})
    method = section_html(analyst.get(f"/arbetsyta/rapport/{small_cycle}").text, "metod")
    assert "Effektiv urvalsstorlek" in method and "Designeffekt" in method and "kommun" in method


@pytest.mark.parametrize(
    "path",
    [
        "/arbetsyta/rapport",
        "/arbetsyta/rapport/{cycle}",
        "/arbetsyta/rapport/{cycle}/pdf",
        "/arbetsyta/rapport/{cycle}/atgarder",
        "/arbetsyta/remiss",
        "/arbetsyta/remiss/{round}",
    ],
)
def test_interviewers_are_refused_and_visitors_sent_to_login(app, staff, path: str) -> None:  # type: ignore[no-untyped-def]
    url = path.format(cycle=DEMO_CYCLE, round=demo_round_key())
    interviewer = logged_in_client(app, staff["interviewer"])
    assert interviewer.get(url).status_code == 403
    anonymous = TestClient(app, base_url="http://testserver", follow_redirects=False)
    answer = anonymous.get(url)
    assert answer.status_code in (302, 303) and answer.headers["location"].startswith("/login")
    admin = logged_in_client(app, staff["admin"])
    assert admin.get(url).status_code in (200, 303)


def test_interviewer_cannot_publish_or_edit(app, staff, small_cycle: str) -> None:  # type: ignore[no-untyped-def]
    interviewer = logged_in_client(app, staff["interviewer"])
    token = interviewer.cookies.get("csrftoken")
    assert (
        interviewer.post(
            f"/arbetsyta/rapport/{small_cycle}/publicering", data={"csrftoken": token, "publish": "1"}
        ).status_code
        == 403
    )
    assert (
        interviewer.post(
            f"/arbetsyta/rapport/{small_cycle}/atgarder", data={"csrftoken": token, "actions-sv": "x"}
        ).status_code
        == 403
    )


def test_odd_requests_never_give_a_server_error(analyst: TestClient, anonymous: TestClient) -> None:
    for client, url in [
        (analyst, "/arbetsyta/rapport/finns-inte"),
        (analyst, "/arbetsyta/rapport/finns-inte/pdf"),
        (analyst, f"/arbetsyta/rapport/{DEMO_CYCLE}?publicera=x"),
        (analyst, "/arbetsyta/remiss/finns-inte"),
        (anonymous, "/rapport/finns-inte"),
        (anonymous, "/rapport/" + "x" * 300),
    ]:
        assert client.get(url).status_code < 500, url


# --- the organisations' answers ------------------------------------------------------------------------


def test_organisations_page_shows_positions_by_actor_type_as_counted(analyst: TestClient) -> None:
    from consult.db import session_scope
    from consult.remiss import service as remiss

    key = demo_round_key()
    page = analyst.get(f"/arbetsyta/remiss/{key}")
    assert page.status_code == 200
    with session_scope() as session:
        remiss_round = remiss.round_by_key(session, key=key)
        counts = remiss.position_counts(session, round_id=remiss_round.id)
        draft = remiss.load_draft(session, version_id=remiss_round.version_id)
    assert counts, "the demo round has submitted positions"
    positions = ("agree", "partly", "disagree", "abstain")
    for priority in draft.priorities:
        found = counts.get(priority.key)
        if not found:
            continue
        start = page.text.index(f'aria-labelledby="p-{priority.key}"')
        fragment = page.text[start : page.text.index("</section>", start)]
        assert 'src="data:image/svg+xml;base64,' in fragment and 'alt="Ställningstaganden' in fragment
        rows = {cells[0]: cells[1:] for cells in table_cells(fragment)[1:]}
        for actor_type, by_position in found.items():
            expected = [str(by_position.get(p, 0)) for p in positions] + [str(sum(by_position.values()))]
            assert rows[actor_type] == expected, (priority.key, actor_type)
        total = [str(sum(by_actor.get(p, 0) for by_actor in found.values())) for p in positions]
        assert rows["Alla organisationer"][:4] == total


def test_every_comment_is_shown_in_one_place_redacted(analyst: TestClient, tables) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.remiss import service as remiss
    from consult.remiss.models import AnswerStatus, RemissAnswer
    from consult.strategy.service import version_by_key

    key = f"rp-remiss-{uuid.uuid4().hex[:6]}"
    with session_scope() as session:
        version = version_by_key(session, key="rus-2025")
        remiss_round = remiss.create_round(
            session,
            key=key,
            version_id=version.id,
            title={"sv": "Rapportens remiss", "en": "The report's remiss"},
            deadline=datetime.now(UTC) + timedelta(days=5),
        )
        draft = remiss.load_draft(session, version_id=version.id)
        first, second = draft.priorities[0], draft.priorities[1]
        invitation, _token = remiss.register_organisation(
            session,
            remiss_round=remiss_round,
            name=f"Org {key}",
            actor_type="Kommun",
            area="Sundsvall",
            email="a@example.se",
        )
        answer = session.execute(select(RemissAnswer).where(RemissAnswer.invitation_id == invitation.id)).scalar_one()
        answer.content = {
            "positions": {first.key: "partly", second.key: "agree"},
            "comments": {first.key: f"Ring Anna på 070-123 45 67, personnummer {PERSONNUMMER}."},
            "principles": {},
            "overall": "Bra förslag i stort.",
            "anchored": [],
        }
        answer.status, answer.version, answer.submitted_at = AnswerStatus.submitted.value, 2, datetime.now(UTC)
        session.add(answer)
        session.flush()
        remiss.write_answer_rows(session, answer=answer)
    page = analyst.get(f"/arbetsyta/remiss/{key}")
    assert page.status_code == 200
    comments = page.text[page.text.index('id="kommentarer"') :]
    assert PERSONNUMMER not in page.text and "070-123 45 67" not in page.text
    assert "[personnummer]" in comments and "Bra förslag i stort." in comments
    assert first.label("sv") in html.unescape(comments) and "Instämmer delvis" in comments
    assert "Förslaget som helhet" in comments
    english = analyst.get(f"/arbetsyta/remiss/{key}?lang=en").text
    assert "[personal identity number]" in english[english.index('id="kommentarer"') :]
    assert "[personnummer]" not in english and PERSONNUMMER not in english
    analyst.get(f"/arbetsyta/remiss/{key}?lang=sv")


def test_the_comments_section_says_which_names_stay_and_how_to_remove_them(analyst: TestClient, tables) -> None:  # type: ignore[no-untyped-def]
    """Only introduced names are found ("jag heter ..."): the page must not claim that names are removed,
    and it tells the analyst to remove the rest by hand in what is shared, linking to the exports."""
    from consult.db import session_scope
    from consult.remiss import service as remiss
    from consult.remiss.models import AnswerStatus, RemissAnswer
    from consult.strategy.service import version_by_key

    key = f"rp-names-{uuid.uuid4().hex[:6]}"
    with session_scope() as session:
        version = version_by_key(session, key="rus-2025")
        remiss_round = remiss.create_round(session, key=key, version_id=version.id, title={"sv": "Namn", "en": "Names"},
                                           deadline=datetime.now(UTC) + timedelta(days=5))
        invitation, _token = remiss.register_organisation(session, remiss_round=remiss_round, name=f"Org {key}",
                                                          actor_type="Kommun", area="Sollefteå", email="b@example.se")
        answer = session.execute(select(RemissAnswer).where(RemissAnswer.invitation_id == invitation.id)).scalar_one()
        answer.content = {**remiss.empty_content(), "overall": "Kontakta vår ordförande Anna Svensson på "
                          "070-123 45 67 eller anna.svensson@example.se, Storgatan 12 i Sollefteå."}
        answer.status, answer.version, answer.submitted_at = AnswerStatus.submitted.value, 2, datetime.now(UTC)
        session.add(answer)
        session.flush()
        remiss.write_answer_rows(session, answer=answer)
    page = html.unescape(analyst.get(f"/arbetsyta/remiss/{key}").text)
    comments = page[page.index('id="kommentarer"') :]
    assert "ordförande Anna Svensson på [telefon]" in comments  # the name stays, as the page now says
    assert "Namn, telefonnummer" not in page and "personnummer tas bort" not in page
    note = comments[comments.index('id="redaction-note"') : comments.index("</div>", comments.index("redaction-note"))]
    assert "Namn ersätts bara där skribenten presenterar dem" in note and "visas som de skrevs" in note
    assert "ta bort sådana namn för hand" in note
    assert f'href="/admin/remiss/{key}/export.xlsx"' in note and f'href="/admin/remiss/{key}/export.csv"' in note
    english = html.unescape(analyst.get(f"/arbetsyta/remiss/{key}?lang=en").text)
    analyst.get(f"/arbetsyta/remiss/{key}?lang=sv")
    assert "are shown as written" in english and "Names, phone numbers" not in english


def test_invitation_summary_counts_answered_against_invited(tables) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.remiss import service as remiss
    from consult.remiss.models import AnswerStatus, RemissAnswer, RemissInvitation, RemissRound
    from consult.strategy.models import ReviewCycle

    with session_scope() as session:
        cycle = session.execute(select(ReviewCycle).where(ReviewCycle.key == DEMO_CYCLE)).scalar_one()
        summary = remiss.invitation_summary(session, cycle_id=cycle.id)
        rounds = select(RemissRound.id).where(RemissRound.cycle_id == cycle.id)
        invited = session.execute(select(RemissInvitation).where(RemissInvitation.round_id.in_(rounds))).all()
        answered = session.execute(
            select(RemissAnswer).where(
                RemissAnswer.round_id.in_(rounds), RemissAnswer.status == AnswerStatus.submitted.value
            )
        ).all()
    assert summary == {"answered": len(answered), "invited": len(invited)}
    assert 0 < summary["answered"] < summary["invited"]


# --- with a theme analysis -------------------------------------------------------------------------------


def add_themes(spec: Any, question_code: str, themes: dict[str, list[int]], user_id: int | None = None) -> None:
    """An accepted theme analysis without running the engine: a finished run, its selected themes
    and each answer's theme, as the theme explorer stores them."""
    from consult.db import session_scope
    from consult.themes.models import RunStatus, SelectedTheme, ThemeAssignment, ThemeRun

    question = spec.question(question_code)
    with session_scope() as session:
        run = ThemeRun(survey_id=spec.id, question_id=question.id, status=RunStatus.done.value, progress=100)
        session.add(run)
        session.flush()
        for label, response_ids in themes.items():
            theme = SelectedTheme(question_id=question.id, run_id=run.id, label=label)
            session.add(theme)
            session.flush()
            for response_id in response_ids:
                session.add(
                    ThemeAssignment(question_id=question.id, response_id=response_id, theme_id=theme.id, score=1.0)
                )


def test_themes_with_quotes_only_from_those_who_consented(analyst: TestClient, tables) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.responses.models import Response

    key = f"rp-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        cycle_id = review_cycle(session, key, {"sv": f"Temacykel {key}", "en": f"Themes {key}"}).id
    small = create_small_survey(cycle_id=cycle_id, slug=f"{key}-enkat", draft=False)
    first, second = small.response_ids[0], small.response_ids[1]  # the two who wrote something
    with session_scope() as session:
        session.get(Response, first).consent_quote = True  # wrote the personnummer
        session.get(Response, second).consent_quote = False  # "Bättre bussar": may not be quoted
    add_themes(small.spec, "fritt", {"Kontakt": [first], "Kollektivtrafik": [second]})
    page = analyst.get(f"/arbetsyta/rapport/{key}").text
    themes = section_html(page, "teman")
    assert "Kontakt" in themes and "Kollektivtrafik" in themes
    assert "[personnummer]" in themes and PERSONNUMMER not in page
    assert "Bättre bussar" not in themes  # no consent, no quote
    # The report promises only what the automatic redaction does: names are caught where introduced.
    assert "andra namn är borttagna bara där en analytiker har tagit bort dem för hand" in page
    assert "Ingen temaanalys har gjorts ännu för den här frågan" not in themes
    coverage = section_html(page, "tackning")
    uncovered = coverage.split("Teman som ingen prioritering täcker")[1]
    assert "Kontakt" in uncovered and "[personnummer]" in uncovered  # no priority is about being called
    assert "Kollektivtrafik" not in uncovered  # buses: sustainable travel covers it
    published = analyst.get(f"/arbetsyta/rapport/{key}?publicera=1").text
    for anchor in ("teman", "tackning"):  # themes of one or two answers: no size, no quote
        assert "[personnummer]" not in section_html(published, anchor)
    english = analyst.get(f"/arbetsyta/rapport/{key}?lang=en").text  # placeholders in the report's language
    for anchor in ("teman", "tackning"):
        assert "[personal identity number]" in section_html(english, anchor)
    assert "[personnummer]" not in english and PERSONNUMMER not in english
    analyst.get(f"/arbetsyta/rapport/{key}?lang=sv")


def _cycle_with_two_themes(first_theme: str, second_theme: str) -> tuple[str, SmallSurvey]:
    """A review cycle of its own with a small survey whose free text has two themes of one answer
    each (its first two responses'): the cycle's key and the survey."""
    from consult.db import session_scope

    key = f"rp-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        cycle_id = review_cycle(session, key, {"sv": f"Cykel {key}", "en": f"Cycle {key}"}).id
    small = create_small_survey(cycle_id=cycle_id, slug=f"{key}-enkat", draft=False)
    add_themes(small.spec, "fritt", {first_theme: [small.response_ids[0]], second_theme: [small.response_ids[1]]})
    return key, small


def test_the_catch_all_theme_is_named_in_english_in_the_english_report(analyst: TestClient, tables) -> None:  # type: ignore[no-untyped-def]
    """The engine stores its catch-all bucket as "övrigt/oklart"; the English report translates it."""
    key, _small = _cycle_with_two_themes("övrigt/oklart", "Kollektivtrafik")
    english = analyst.get(f"/arbetsyta/rapport/{key}?lang=en").text
    assert "other/unclear" in section_html(english, "teman") and "övrigt/oklart" not in english
    swedish = analyst.get(f"/arbetsyta/rapport/{key}?lang=sv").text
    assert "övrigt/oklart" in section_html(swedish, "teman") and "other/unclear" not in swedish


def test_the_method_says_whether_analysts_checked_the_themes(analyst: TestClient, tables) -> None:  # type: ignore[no-untyped-def]
    """The report used to say the themes were "checked by analysts" when nobody had reviewed an answer."""
    from consult.db import session_scope
    from consult.themes import service as themes

    key, small = _cycle_with_two_themes("Kontakt", "Kollektivtrafik")
    first, second = small.response_ids[0], small.response_ids[1]
    page = analyst.get(f"/arbetsyta/rapport/{key}?lang=sv").text
    assert "ingen analytiker har ännu granskat svarens teman" in page and "granskat temat för" not in page
    with session_scope() as session:
        themes.confirm_answers(session, question_id=small.spec.question("fritt").id, response_ids=[first, second],
                               user_id=None)
    page = analyst.get(f"/arbetsyta/rapport/{key}?lang=sv").text
    assert "analytiker har granskat temat för 2 svar" in page and "ingen analytiker" not in page


def test_the_period_is_the_first_and_last_day_a_response_came(analyst: TestClient, small_cycle: str) -> None:
    """Not the Mondays of the first and last week, which the over-time table groups a long period by."""
    from sqlalchemy import update

    from consult.db import session_scope
    from consult.responses.models import Response
    from consult.surveys.models import Survey

    first, last = datetime(2025, 3, 5, 12, tzinfo=UTC), datetime(2025, 6, 19, 12, tzinfo=UTC)  # a Wednesday, a Thursday
    with session_scope() as session:
        survey_id = session.execute(select(Survey.id).where(Survey.slug == f"{small_cycle}-enkat")).scalar_one()
        ids = (
            session.execute(select(Response.id).where(Response.survey_id == survey_id).order_by(Response.id))
            .scalars()
            .all()
        )
        moments = [first + (last - first) * i / (len(ids) - 1) for i in range(len(ids))]
        for response_id, moment in zip(ids, moments, strict=True):
            session.execute(
                update(Response)
                .where(Response.id == response_id)
                .values(submitted_at=moment, started_at=moment - timedelta(minutes=5))
            )
    page = analyst.get(f"/arbetsyta/rapport/{small_cycle}").text
    assert "Svar från 2025-03-05 till 2025-06-19." in page


def test_position_charts_stay_small_enough_to_inline() -> None:
    """Each remiss position chart is inlined in the page and the PDF; sixteen of them must not make
    a page of megabytes (a dotted hatching drew every dot as a path: 110 KB a chart)."""
    from consult.reports.charts import stacked_bar_chart

    labels = tuple(f"Aktörstyp {n}" for n in range(6))
    series = tuple((name, tuple(range(1, 7))) for name in ("Instämmer", "Delvis", "Instämmer inte", "Avstår"))
    svg = stacked_bar_chart(labels, series, axis_label="Organisationer")
    assert svg.startswith(b"<?xml") and b"Avst" in svg
    assert len(svg) < 40_000, len(svg)
