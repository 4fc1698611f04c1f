"""Campaign links: creating tagged links, their QR codes, responses counted per tag, roles and CSRF."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from consult.accounts import service as accounts
from consult.accounts.models import Role
from consult.campaigns import service
from consult.campaigns.models import CampaignLink
from consult.responses.models import Channel, Response
from consult.responses.service import NewResponse, store_responses
from tests.factories import every_type_survey, store
from tests.staff import create_staff, csrf_from
from tests.staff import logged_in as staff_login

PASSWORD = "ett-långt-lösenord-42"


def logged_in(app, email: str) -> TestClient:  # type: ignore[no-untyped-def]
    return staff_login(app, email, PASSWORD)


@pytest.fixture(scope="module")
def staff(migrated) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff("campaign", PASSWORD)


@pytest.fixture()
def analyst(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff[Role.analyst])


@pytest.fixture()
def survey():  # type: ignore[no-untyped-def]
    return store(every_type_survey())


def create(client: TestClient, slug: str, name: str, tag: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/admin/surveys/{slug}/campaigns")
    assert page.status_code == 200
    return client.post(
        f"/admin/surveys/{slug}/campaigns", data={"csrftoken": csrf_from(page.text), "name": name, "tag": tag}
    )


def links_of(survey_id: int) -> list[CampaignLink]:
    from consult.db import session_scope

    with session_scope() as session:
        return service.list_links(session, survey_id=survey_id)


def test_create_a_link_and_see_it_with_its_qr_code(analyst, survey, staff) -> None:  # type: ignore[no-untyped-def]
    response = create(analyst, survey.slug, "Affisch i Kramfors", "affisch-kramfors")
    assert response.status_code == 303
    page = analyst.get(response.headers["location"])
    assert "Länken med taggen affisch-kramfors har skapats." in page.text
    url = f"http://testserver/s/{survey.slug}?k=affisch-kramfors"
    assert "Affisch i Kramfors" in page.text and f'href="{url}"' in page.text
    assert f'src="/admin/surveys/{survey.slug}/campaigns/affisch-kramfors/qr.svg"' in page.text
    assert f'alt="QR-kod för {url}"' in page.text
    assert [(link.tag, link.name) for link in links_of(survey.id)] == [("affisch-kramfors", "Affisch i Kramfors")]
    from consult.db import session_scope

    with session_scope() as session:
        events = accounts.list_audit(session, action="campaign.create")
    assert events and events[0].details == {"tag": "affisch-kramfors"}


def test_the_link_leads_to_the_survey_with_its_tag(client, analyst, survey) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope
    from consult.surveys.models import Survey

    with session_scope() as session:  # open surveys only are answered
        session.execute(update(Survey).where(Survey.id == survey.id).values(status="open"))
    create(analyst, survey.slug, "Facebook", "facebook")
    start = client.get(f"/s/{survey.slug}?k=facebook")
    assert start.status_code == 200 and 'value="facebook"' in start.text
    typed = client.get(f"/s/{survey.slug}?k=FaceBook")  # a link retyped by hand still counts with it
    assert 'name="campaign_tag" value="facebook"' in typed.text


@pytest.mark.parametrize(
    ("name", "tag", "field", "message"),
    [
        ("Facebook", "fel tagg!", "tag", "Taggen får bara innehålla"),
        ("Facebook", "", "tag", "Skriv en tagg"),
        ("Facebook", "x" * 65, "tag", "högst 64 tecken"),
        ("", "facebook", "name", "Skriv ett namn på länken"),
        ("Facebook", "åäö", "tag", "Taggen får bara innehålla"),
        # Allowed characters, but nothing anyone could tell apart on a printed poster.
        ("Facebook", "-", "tag", "Taggen måste innehålla minst en bokstav a–z eller siffra."),
        ("Facebook", "__", "tag", "Taggen måste innehålla minst en bokstav a–z eller siffra."),
        ("Facebook", " -_- ", "tag", "Taggen måste innehålla minst en bokstav a–z eller siffra."),
    ],
)
def test_bad_names_and_tags_are_reported_beside_the_field(analyst, survey, name, tag, field, message) -> None:  # type: ignore[no-untyped-def]
    response = create(analyst, survey.slug, name, tag)
    assert response.status_code == 422
    assert 'role="alert"' in response.text and f'href="#field-{field}"' in response.text
    error = re.search(rf'id="{field}-error">(.*?)</p>', response.text, re.S)
    assert error and message in error.group(1)
    assert 'aria-invalid="true"' in response.text
    assert links_of(survey.id) == []


def test_a_tag_is_used_once_per_survey(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    assert create(analyst, survey.slug, "Facebook", "facebook").status_code == 303
    again = create(analyst, survey.slug, "Facebook igen", "facebook")
    assert again.status_code == 422 and "Enkäten har redan en länk med den taggen." in again.text
    # Tags are lower case, as the form asks: "Facebook" is the same link, not a second one.
    upper = create(analyst, survey.slug, "Facebook med versal", "Facebook")
    assert upper.status_code == 422 and "Enkäten har redan en länk med den taggen." in upper.text
    other = store(every_type_survey())
    assert create(analyst, other.slug, "Facebook", "facebook").status_code == 303
    assert len(links_of(survey.id)) == 1


def test_qr_codes_as_png_and_svg(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    create(analyst, survey.slug, "Instagram", "instagram")
    base = f"/admin/surveys/{survey.slug}/campaigns/instagram"
    url = f"http://testserver/s/{survey.slug}?k=instagram"
    png = analyst.get(base + "/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content == service.qr_png(url)  # the code holds exactly the link's address
    assert "content-disposition" not in png.headers
    svg = analyst.get(base + "/qr.svg?download=1")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.content.lstrip().startswith((b"<?xml", b"<svg")) and b"<path" in svg.content
    assert svg.content == service.qr_svg(url, title=url)
    assert svg.headers["content-disposition"] == f'attachment; filename="qr-{survey.slug}-instagram.svg"'
    assert analyst.get(f"/admin/surveys/{survey.slug}/campaigns/finns-inte/qr.png").status_code == 404
    assert analyst.get(f"/admin/surveys/{survey.slug}/campaigns/{'x' * 70}/qr.svg").status_code == 404


def _respond(spec, tags: list[str | None], status: str = "submitted") -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    items = [
        NewResponse(
            spec=spec,
            client_uuid=str(uuid.uuid4()),
            values={"kommun": 1, "val": 1},
            campaign_tag=tag,
            channel=Channel.campaign if tag else Channel.web,
        )
        for tag in tags
    ]
    with session_scope() as session:
        stored = store_responses(session, items)
        if status != "submitted":
            ids = [s.response_id for s in stored]
            session.execute(update(Response).where(Response.id.in_(ids)).values(status=status))


def test_responses_are_counted_per_tag(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    create(analyst, survey.slug, "Facebook", "facebook")
    create(analyst, survey.slug, "Affisch i Kramfors", "affisch-kramfors")
    _respond(survey, ["facebook"] * 3 + ["handskriven"] + [None] * 2)
    _respond(survey, ["facebook"], status="withdrawn")  # withdrawn responses are not counted
    page = analyst.get(f"/admin/surveys/{survey.slug}/campaigns").text
    counts = dict(re.findall(r'<td data-tag="([^"]*)">(\d+)</td>', page))
    assert counts == {"facebook": "3", "affisch-kramfors": "0", "handskriven": "1", "": "2"}
    assert "inte en länk som skapats här" in page
    from consult.db import session_scope

    with session_scope() as session:
        assert service.responses_per_tag(session, survey_id=survey.id) == {"facebook": 3, "handskriven": 1, None: 2}
        total = session.execute(select(func.count()).select_from(Response).where(Response.survey_id == survey.id))
        assert total.scalar() == 7


def test_tag_table_orders_links_then_other_tags_then_untagged() -> None:
    links = [CampaignLink(survey_id=1, tag="b", name="B"), CampaignLink(survey_id=1, tag="a", name="A")]
    rows = service.tag_table(links, {"a": 2, None: 5, "z": 1, "c": 4})
    assert [(r.tag, r.name, r.count) for r in rows] == [
        ("b", "B", 0),
        ("a", "A", 2),
        ("c", None, 4),
        ("z", None, 1),
        (None, None, 5),
    ]


def test_interviewer_gets_403_and_anonymous_goes_to_login(app, staff, survey) -> None:  # type: ignore[no-untyped-def]
    interviewer = logged_in(app, staff[Role.interviewer])
    for path in ("/admin/campaigns", f"/admin/surveys/{survey.slug}/campaigns"):
        assert interviewer.get(path).status_code == 403
    token = csrf_from(interviewer.get("/personal").text)
    posted = interviewer.post(
        f"/admin/surveys/{survey.slug}/campaigns", data={"csrftoken": token, "name": "X", "tag": "x"}
    )
    assert posted.status_code == 403 and links_of(survey.id) == []
    anonymous = TestClient(app, base_url="http://testserver", follow_redirects=False)
    response = anonymous.get(f"/admin/surveys/{survey.slug}/campaigns/x/qr.png")
    assert response.status_code == 303 and urlsplit(response.headers["location"]).path == "/login"
    assert parse_qs(urlsplit(response.headers["location"]).query)["next"] == [
        f"/admin/surveys/{survey.slug}/campaigns/x/qr.png"
    ]


def test_create_without_csrf_token_is_refused(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    response = analyst.post(f"/admin/surveys/{survey.slug}/campaigns", data={"name": "Facebook", "tag": "facebook"})
    assert response.status_code == 403 and links_of(survey.id) == []


def test_campaigns_menu_and_survey_list(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/admin/campaigns"' in analyst.get("/personal").text
    listing = analyst.get("/admin/campaigns").text
    assert f'href="/admin/surveys/{survey.slug}/campaigns"' in listing
    assert analyst.get("/admin/surveys/finns-inte/campaigns").status_code == 404


def test_links_and_qr_codes_use_the_sites_public_address(analyst, survey, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Staff often work through an internal address; the poster must carry the one residents reach,
    # as the remiss links do.
    monkeypatch.setenv("CONSULT_BASE_URL", "https://dialog.example.se")
    create(analyst, survey.slug, "Affisch", "affisch")
    public = f"https://dialog.example.se/s/{survey.slug}?k=affisch"
    page = analyst.get(f"/admin/surveys/{survey.slug}/campaigns").text
    assert f'href="{public}"' in page and "http://testserver/s/" not in page
    png = analyst.get(f"/admin/surveys/{survey.slug}/campaigns/affisch/qr.png")
    assert png.content == service.qr_png(public)
    svg = analyst.get(f"/admin/surveys/{survey.slug}/campaigns/affisch/qr.svg")
    assert f"<title>{public}</title>".encode() in svg.content


def test_responses_rejected_in_review_are_not_counted_as_in_the_workspace(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    create(analyst, survey.slug, "Facebook", "facebook")
    _respond(survey, ["facebook"] * 3)
    with session_scope() as session:
        spam = session.execute(select(Response.id).where(Response.survey_id == survey.id)).scalars().first()
        session.execute(update(Response).where(Response.id == spam).values(review_state="rejected"))
    page = analyst.get(f"/admin/surveys/{survey.slug}/campaigns").text
    counts = dict(re.findall(r'<td data-tag="([^"]*)">(\d+)</td>', page))
    assert counts == {"facebook": "2"}
    assert "Svar som avvisats vid granskningen räknas inte" in page
    from consult.workspace.service import eligible

    with session_scope() as session:
        counted = session.execute(select(func.count()).select_from(Response).where(eligible([survey.id])))
        assert counted.scalar() == 2  # what the workspace's figures count


@pytest.mark.parametrize(
    ("fields", "said", "resident_status"),
    [
        ({"status": "draft"}, "Enkäten är inte publicerad än", 404),
        ({"opens_at": datetime.now(UTC) + timedelta(days=5)}, "Enkäten har inte öppnat än: tills den öppnar", 403),
        ({"status": "closed"}, "Enkäten är stängd: länkarna leder till en sida", 410),
        ({}, None, 200),
    ],
)
def test_the_page_says_what_residents_meet_when_the_survey_is_not_open(analyst, fields, said, resident_status) -> None:  # type: ignore[no-untyped-def]
    spec = store(every_type_survey(**fields))
    assert create(analyst, spec.slug, "Affisch", "affisch").status_code == 303
    page = analyst.get(f"/admin/surveys/{spec.slug}/campaigns").text
    resident = TestClient(analyst.app, base_url="http://testserver").get(f"/s/{spec.slug}?k=affisch")
    assert resident.status_code == resident_status
    if said is None:
        assert 'id="survey-state"' not in page
    else:
        assert said in re.sub(r"\s+", " ", page)


def test_the_page_says_an_invited_only_survey_asks_for_a_code(analyst) -> None:  # type: ignore[no-untyped-def]
    spec = store(every_type_survey(access="invitation"))
    page = analyst.get(f"/admin/surveys/{spec.slug}/campaigns").text
    assert "Bara inbjudna svarar på enkäten" in page


def test_what_a_kiosk_or_an_event_brought_in_is_counted_per_event(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    page = analyst.get(f"/admin/surveys/{survey.slug}/campaigns").text
    assert "Inga svar har lämnats på en namngiven plats eller ett evenemang än." in page
    day = "Framtidsdag i Härnösand 🎉"
    made = [(Channel.kiosk, day)] * 4 + [(Channel.event, day)] * 2 + [(Channel.kiosk, "Mässa i Sundsvall")]
    made += [(Channel.web, None)]
    items = [
        NewResponse(spec=survey, client_uuid=str(uuid.uuid4()), values={"kommun": 1, "val": 1}, channel=channel,
                    event_name=event)
        for channel, event in made
    ]
    with session_scope() as session:
        stored = store_responses(session, items)
        rejected = stored[0].response_id
        session.execute(update(Response).where(Response.id == rejected).values(review_state="rejected"))
    page = analyst.get(f"/admin/surveys/{survey.slug}/campaigns").text
    assert "Svar per plats eller evenemang" in page
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td data-event=\"[^\"]*\">(\d+)</td></tr>", page)
    assert rows == [(day, "Kiosk", "3"), (day, "Evenemang", "2"), ("Mässa i Sundsvall", "Kiosk", "1")]
    # Untagged, they are among the other channels of the tag table, which adds up to the same total.
    counts = dict(re.findall(r'<td data-tag="([^"]*)">(\d+)</td>', page))
    assert counts == {"": "7"}


def test_a_tag_typed_with_capitals_and_spaces_is_confirmed_as_stored(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    response = create(analyst, survey.slug, "Affisch i Sollefteå", "  Affisch-Solleftea ")
    assert response.status_code == 303
    page = analyst.get(response.headers["location"]).text
    assert "Länken med taggen affisch-solleftea har skapats." in page


def test_the_svg_qr_code_scales_to_any_print_size(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    create(analyst, survey.slug, "Affisch", "affisch")
    svg = analyst.get(f"/admin/surveys/{survey.slug}/campaigns/affisch/qr.svg").text
    root = re.search(r"<svg [^>]*>", svg)
    assert root and re.search(r'viewBox="0 0 (\d+) \1"', root.group(0)), root


def test_an_event_typed_with_other_case_or_spaces_is_counted_as_one(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    made = [(Channel.kiosk, "Framtidsdag i Härnösand")] * 3 + [(Channel.kiosk, "framtidsdag  i härnösand")]
    made += [(Channel.event, "FRAMTIDSDAG I HÄRNÖSAND"), (Channel.event, "Mässa i Sundsvall")]
    items = [
        NewResponse(spec=survey, client_uuid=str(uuid.uuid4()), values={"kommun": 1, "val": 1}, channel=channel,
                    event_name=event)
        for channel, event in made
    ]
    with session_scope() as session:
        store_responses(session, items)
    page = analyst.get(f"/admin/surveys/{survey.slug}/campaigns").text
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td data-event=\"[^\"]*\">(\d+)</td></tr>", page)
    # One event, in the spelling most of its responses carry.
    assert rows == [("Framtidsdag i Härnösand", "Kiosk", "4"), ("Framtidsdag i Härnösand", "Evenemang", "1"),
                    ("Mässa i Sundsvall", "Evenemang", "1")]


def test_a_link_is_renamed_and_keeps_its_tag(analyst, survey, staff) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    create(analyst, survey.slug, "Affisch Sollef", "affisch-solleftea")
    page = analyst.get(f"/admin/surveys/{survey.slug}/campaigns").text
    assert f'href="/admin/surveys/{survey.slug}/campaigns/affisch-solleftea/namn">Byt namn' in page
    form = analyst.get(f"/admin/surveys/{survey.slug}/campaigns/affisch-solleftea/namn")
    assert form.status_code == 200 and 'value="Affisch Sollef"' in form.text
    assert "Taggen affisch-solleftea är kvar som den är" in form.text
    url = f"/admin/surveys/{survey.slug}/campaigns/affisch-solleftea/namn"
    # A blank name is said beside the field, and nothing changes.
    blank = analyst.post(url, data={"csrftoken": csrf_from(form.text), "name": "  "})
    assert blank.status_code == 422 and 'href="#field-name"' in blank.text
    error = re.search(r'id="name-error">(.*?)</p>', blank.text, re.S)
    assert error and "Skriv ett namn på länken" in error.group(1)
    assert [link.name for link in links_of(survey.id)] == ["Affisch Sollef"]
    too_long = analyst.post(url, data={"csrftoken": csrf_from(form.text), "name": "x" * 201})
    assert too_long.status_code == 422 and "högst 200 tecken" in too_long.text
    # Without the form's token nothing changes.
    assert analyst.post(url, data={"name": "Ny"}).status_code == 403

    # A name is one line: control characters (a NUL byte, which PostgreSQL cannot store) become spaces.
    done = analyst.post(url, data={"csrftoken": csrf_from(form.text), "name": " Affisch\x00 i\tSollefteå "})
    assert done.status_code == 303
    page = analyst.get(done.headers["location"]).text
    assert "Länken med taggen affisch-solleftea har fått ett nytt namn." in page
    assert "<h3>Affisch i Sollefteå</h3>" in page and "Affisch Sollef<" not in page
    assert f"/s/{survey.slug}?k=affisch-solleftea" in page  # the printed address is the same
    assert [(link.tag, link.name) for link in links_of(survey.id)] == [("affisch-solleftea", "Affisch i Sollefteå")]
    with session_scope() as session:
        events = accounts.list_audit(session, action="campaign.rename")
    assert events[0].details == {"tag": "affisch-solleftea", "from": "Affisch Sollef", "to": "Affisch i Sollefteå"}
    assert "campaign.rename" in accounts.ACTION_LABELS and "campaign.delete" in accounts.ACTION_LABELS
    assert analyst.get(f"/admin/surveys/{survey.slug}/campaigns/finns-inte/namn").status_code == 404


def test_a_link_no_response_carries_is_removed_after_confirmation(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    create(analyst, survey.slug, "Fel länk", "fel-lank")
    create(analyst, survey.slug, "Facebook", "facebook")
    page = analyst.get(f"/admin/surveys/{survey.slug}/campaigns").text
    assert f'href="/admin/surveys/{survey.slug}/campaigns/fel-lank/ta-bort">Ta bort' in page
    confirm = analyst.get(f"/admin/surveys/{survey.slug}/campaigns/fel-lank/ta-bort")
    assert confirm.status_code == 200 and "Inget svar har taggen fel-lank" in confirm.text
    assert [link.tag for link in links_of(survey.id)] == ["fel-lank", "facebook"]  # asking removes nothing
    url = f"/admin/surveys/{survey.slug}/campaigns/fel-lank/ta-bort"
    assert analyst.post(url).status_code == 403  # no token
    removed = analyst.post(url, data={"csrftoken": csrf_from(confirm.text)})
    assert removed.status_code == 303
    page = analyst.get(removed.headers["location"]).text
    assert "Länken med taggen fel-lank har tagits bort." in page and "Fel länk" not in page
    assert [link.tag for link in links_of(survey.id)] == ["facebook"]
    with session_scope() as session:
        events = accounts.list_audit(session, action="campaign.delete")
    assert events[0].details == {"tag": "fel-lank", "name": "Fel länk"}
    assert analyst.post(url, data={"csrftoken": csrf_from(confirm.text)}).status_code == 404


def test_a_link_that_responses_carry_cannot_be_removed(analyst, survey) -> None:  # type: ignore[no-untyped-def]
    create(analyst, survey.slug, "Facebook", "facebook")
    _respond(survey, ["facebook"] * 2)
    _respond(survey, ["facebook"], status="withdrawn")  # not counted on the page, but it carries the tag
    confirm = analyst.get(f"/admin/surveys/{survey.slug}/campaigns/facebook/ta-bort")
    assert confirm.status_code == 200
    refused = re.search(r'<p class="notice" id="remove-refused">(.*?)</p>', confirm.text, re.S)
    assert refused and "Länken kan inte tas bort: 3 svar har dess tagg facebook" in refused.group(1)
    assert 'action="/admin/surveys/' not in confirm.text.split('id="remove-refused"')[1]  # no remove button
    # A form sent anyway (kept from before the responses came) is refused the same way.
    token = csrf_from(analyst.get(f"/admin/surveys/{survey.slug}/campaigns").text)
    posted = analyst.post(f"/admin/surveys/{survey.slug}/campaigns/facebook/ta-bort", data={"csrftoken": token})
    assert posted.status_code == 409 and "Länken kan inte tas bort" in posted.text
    assert [link.tag for link in links_of(survey.id)] == ["facebook"]


def test_only_analysts_and_admins_rename_or_remove_links(app, staff, analyst, survey) -> None:  # type: ignore[no-untyped-def]
    create(analyst, survey.slug, "Facebook", "facebook")
    interviewer = logged_in(app, staff[Role.interviewer])
    token = csrf_from(interviewer.get("/personal").text)
    for path in ("namn", "ta-bort"):
        url = f"/admin/surveys/{survey.slug}/campaigns/facebook/{path}"
        assert interviewer.get(url).status_code == 403
        assert interviewer.post(url, data={"csrftoken": token, "name": "X"}).status_code == 403
    admin = logged_in(app, staff[Role.admin])
    assert admin.get(f"/admin/surveys/{survey.slug}/campaigns/facebook/ta-bort").status_code == 200
    assert [(link.tag, link.name) for link in links_of(survey.id)] == [("facebook", "Facebook")]
