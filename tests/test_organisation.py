"""The organisation's settings page: its name in every page's header and footer, and its own list
of municipalities for the municipality question and the weighting targets."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.staff import create_staff, csrf_from, logged_in, new_client
from tests.test_authoring import add_question, create_survey, open_survey, question_data
from tests.test_survey_pages import start

PASSWORD = "ett-långt-lösenord-42"
PAGE = "/admin/organisation"
# Region Jämtland Härjedalen's eight municipalities (SCB codes), with semicolons as Excel writes them.
JAMTLAND = """code;name;population
2303;Ragunda;5 300
2305;Bräcke;6 300
2309;Krokom;15 400
2313;Strömsund;11 500
2321;Åre;12 300
2326;Berg;7 000
2361;Härjedalen;10 000
2380;Östersund;64 500
"""
# The demo's answers hold Västernorrland's codes, and those may not be removed.
DEMO_KEPT = "2280;Härnösand;24400\n2282;Kramfors;17900\n2283;Sollefteå;18900\n2281;Sundsvall;99400\n" \
            "2262;Timrå;18000\n2260;Ånge;9100\n2284;Örnsköldsvik;56100\n"


@pytest.fixture(scope="module")
def staff(demo: dict) -> dict[str, str]:
    return create_staff("organisation", PASSWORD)


@pytest.fixture(scope="module")
def admin(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff["admin"], PASSWORD)


@pytest.fixture(autouse=True)
def restored(demo: dict) -> Iterator[None]:  # type: ignore[type-arg]
    """Other tests read the demo's municipalities and name: put them back after each test."""
    from sqlmodel import select

    from consult.db import session_scope
    from consult.organisation import service as organisation
    from consult.organisation.models import OrganisationSettings
    from consult.strategy import service as strategy
    from consult.strategy.models import Municipality

    with session_scope() as session:
        kept = [(m.code, m.name, m.region, m.population) for m in session.exec(select(Municipality)).all()]
        row = organisation.settings(session)
        name = dict(row.name) if row else None
    yield
    with session_scope() as session:
        for municipality in session.exec(select(Municipality)).all():
            session.delete(municipality)
        session.flush()
        for code, mname, region, population in kept:
            session.add(Municipality(code=code, name=mname, region=region, population=population))
        session.flush()
        strategy._offer_in_unanswered_surveys(session)  # other tests' surveys get the demo's list back
        row = session.exec(select(OrganisationSettings)).first()
        if name is None and row is not None:
            session.delete(row)
        elif name is not None:
            organisation.set_name(session, sv=name["sv"], en=name.get("en", ""))
    organisation.name_cache.forget()


def _post(client: TestClient, path: str, data: dict, files: dict | None = None):  # type: ignore[no-untyped-def,type-arg]
    token = csrf_from(client.get(PAGE).text)
    return client.post(path, data={"csrftoken": token, **data}, files=files)


def _brand(html: str) -> str:
    match = re.search(r'<a class="brand" href="/">(.*?) <span', html, re.S)
    assert match, "no brand in the header"
    return match.group(1).strip()


def test_the_demo_name_is_shown_until_an_admin_renames_the_organisation(admin: TestClient, client) -> None:  # type: ignore[no-untyped-def]
    resident = new_client(client.app)
    before = resident.get("/s/vasternorrland-2030")  # a cached resident page
    assert _brand(before.text) == "Region Västernorrland"
    assert "Region Västernorrland – regional utvecklingsstrategi" in before.text

    response = _post(admin, f"{PAGE}/namn", {"name_sv": "Region Jämtland Härjedalen",
                                             "name_en": "Region Jämtland Härjedalen (Jamtland)"})
    assert response.status_code == 303
    assert "Organisationens namn sparades" in admin.get(response.headers["location"]).text

    after = resident.get("/s/vasternorrland-2030")
    assert _brand(after.text) == "Region Jämtland Härjedalen"
    assert "Region Jämtland Härjedalen – regional utvecklingsstrategi" in after.text
    assert "Västernorrland –" not in after.text
    english = resident.get("/s/vasternorrland-2030?lang=en")
    assert _brand(english.text) == "Region Jämtland Härjedalen (Jamtland)"
    assert "Region Jämtland Härjedalen (Jamtland) – regional development strategy" in english.text
    about = resident.get("/om-tjansten?lang=sv").text
    assert _brand(about) == "Region Jämtland Härjedalen"
    assert "Region Jämtland Härjedalen använder tjänsten" in about
    front = resident.get("/?lang=sv").text
    assert "Region Jämtland Härjedalen ser över sin regionala utvecklingsstrategi." in front
    assert "Region Västernorrland" not in front


def test_a_name_is_required_and_a_refused_name_changes_nothing(admin: TestClient) -> None:
    response = _post(admin, f"{PAGE}/namn", {"name_sv": "  ", "name_en": "Somewhere"})
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    assert "Skriv organisationens namn på svenska." in response.text
    assert 'aria-invalid="true"' in response.text
    assert _brand(new_client(admin.app).get("/om-tjansten").text) == "Region Västernorrland"


def test_without_any_name_the_pages_say_consult(admin: TestClient) -> None:
    from sqlmodel import delete

    from consult.db import session_scope
    from consult.organisation import service as organisation
    from consult.organisation.models import OrganisationSettings

    with session_scope() as session:
        session.exec(delete(OrganisationSettings))  # type: ignore[call-overload]
    organisation.name_cache.forget()
    html = new_client(admin.app).get("/om-tjansten").text
    assert _brand(html) == "Consult"
    assert "regional utvecklingsstrategi" not in html.split('<footer', 1)[1]
    assert "Tjänsten frågar invånare" in html and "Västernorrland" not in html
    front = new_client(admin.app).get("/?lang=sv").text
    assert "Den regionala utvecklingsstrategin ses över." in front and "Region Västernorrland" not in front


def test_only_admins_reach_the_settings(app, staff) -> None:  # type: ignore[no-untyped-def]
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    assert analyst.get(PAGE).status_code == 403
    assert new_client(app).get(PAGE).status_code in (303, 401)


def test_an_uploaded_list_is_what_the_municipality_question_offers(admin: TestClient) -> None:
    earlier = create_survey(admin)  # made before the upload, nobody has answered it yet
    add_question(admin, earlier, question_data("kommun", "municipality", "Var bor du?", required="1"))
    open_survey(admin, earlier)
    page = admin.get(PAGE)
    assert page.status_code == 200 and "2281;Sundsvall;99400" in page.text
    data = (JAMTLAND + DEMO_KEPT).encode("utf-8")
    response = _post(admin, f"{PAGE}/kommuner", {}, files={"file": ("jamtland.csv", data, "text/csv")})
    assert response.status_code == 303, response.text[:2000]
    assert "Kommunlistan sparades" in admin.get(response.headers["location"]).text

    later = create_survey(admin)
    add_question(admin, later, question_data("kommun", "municipality", "Var bor du?", required="1"))
    open_survey(admin, later)
    for slug in (earlier, later):
        _, first_page = start(new_client(admin.app), slug)
        for name in ("Östersund", "Åre", "Krokom", "Härjedalen", "Sundsvall"):
            assert f">{name}<" in first_page or f"{name}</label>" in first_page, (slug, name)
    assert "Östersund" in admin.get(f"/arbetsyta/enkater/{later}/viktning").text
    # The demo's survey has answers: it keeps the list they were given under.
    _, demo_page = start(new_client(admin.app), "vasternorrland-2030")
    assert "Sundsvall" in demo_page and "Östersund" not in demo_page


def test_the_list_can_be_edited_in_the_text_field_with_commas(admin: TestClient) -> None:
    text = (JAMTLAND + DEMO_KEPT).replace(";", ",").replace("5 300", "5300").replace("64 500", "64500")
    text = text.replace("2326,Berg,7 000", "2326,Bergs kommun,7000")
    response = _post(admin, f"{PAGE}/kommuner", {"municipalities": text})
    assert response.status_code == 303, response.text[:2000]
    assert "2326;Bergs kommun;7000" in admin.get(PAGE).text


def test_bad_rows_are_each_named_and_nothing_is_stored(admin: TestClient) -> None:
    bad = DEMO_KEPT + "2380;Östersund;64500\n2380;Östersund igen;1\n2321;;12300\n2309;Krokom;många\n"
    response = _post(admin, f"{PAGE}/kommuner", {"municipalities": bad})
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.S)
    assert summary
    text = summary.group(0)
    assert "Inget sparades" in text
    assert "Rad 9: koden 2380 finns redan på rad 8." in text
    assert "Rad 10: namnet saknas." in text
    assert "Rad 11: folkmängden ”många” är inget heltal." in text
    assert "2380;Östersund igen;1" in response.text  # the typed list is kept for correcting
    assert "Östersund" not in admin.get(PAGE).text.split("<textarea", 1)[1].split("</textarea>", 1)[0]


def test_a_municipality_that_answers_hold_cannot_be_removed(admin: TestClient) -> None:
    response = _post(admin, f"{PAGE}/kommuner", {"municipalities": JAMTLAND})
    assert response.status_code == 422
    assert "Sundsvall (kod 2281) kan inte tas bort eller få en annan kod" in response.text
    assert "svar har redan den koden" in response.text
    assert "2281;Sundsvall;99400" in admin.get(PAGE).text.split("<textarea", 1)[1]

    renumbered = DEMO_KEPT.replace("2281;Sundsvall", "9999;Sundsvall")
    response = _post(admin, f"{PAGE}/kommuner", {"municipalities": renumbered})
    assert response.status_code == 422 and "Sundsvall (kod 2281)" in response.text

    renamed = DEMO_KEPT.replace("2281;Sundsvall;99400", "2281;Sundsvalls kommun;99500")
    assert _post(admin, f"{PAGE}/kommuner", {"municipalities": renamed}).status_code == 303
    assert "2281;Sundsvalls kommun;99500" in admin.get(PAGE).text
