"""Survey authoring in the browser (issue 7, section 1) and XLSForm upload and download on the
admin pages (section 2), driven through the forms as an administrator would use them."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from consult.accounts import service as accounts
from consult.accounts.models import Role
from consult.surveys.models import QuestionType
from consult.surveys.schema import SurveySpec
from consult.surveys.service import survey_cache
from consult.surveys.standard import AGE_BANDS, GENDERS

PASSWORD = "ett-långt-lösenord-för-enkäter"
CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')


# --- Helpers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def staff(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An admin and an analyst of this module's own (the demo consultation is loaded by `client`)."""
    from consult.db import session_scope

    suffix = uuid.uuid4().hex[:8]
    emails = {role: f"author-{role}-{suffix}@test.se" for role in (Role.admin.value, Role.analyst.value)}
    with session_scope() as session:
        for role, email in emails.items():
            accounts.create_user(session, email=email, password=PASSWORD, role=role)
    return emails


def _logged_in(app, email: str) -> TestClient:  # type: ignore[no-untyped-def]
    accounts.reset_login_limits()
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"csrftoken": token, "email": email, "password": PASSWORD})
    assert response.status_code == 303
    return client


@pytest.fixture()
def admin(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return _logged_in(app, staff[Role.admin.value])


@pytest.fixture()
def analyst(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return _logged_in(app, staff[Role.analyst.value])


def csrf(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no csrftoken field"
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict[str, Any], *, form_page: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf(client.get(form_page or path).text)
    return client.post(path, data={"csrftoken": token, **data})


def spec_of(slug: str) -> SurveySpec:
    from consult.db import session_scope
    from consult.surveys.service import load_spec

    with session_scope() as session:
        spec = load_spec(session, slug=slug)
    assert spec is not None
    return spec


def revision_of(slug: str) -> int:
    return spec_of(slug).revision


def new_slug() -> str:
    return f"enkat-{uuid.uuid4().hex[:8]}"


def create_survey(client: TestClient, slug: str | None = None, **fields: str) -> str:
    slug = slug or new_slug()
    data = {"slug": slug, "title_sv": "Cykla i Sundsvall", "title_en": "Cycling in Sundsvall", "cycle": "none"}
    data.update(fields)
    response = post_form(client, "/admin/surveys/new", data)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(f"/admin/surveys/{slug}")
    return slug


def question_data(code: str, qtype: str, text_sv: str = "", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": code,
        "type": qtype,
        "page": "1",
        "text_sv": text_sv or f"Fråga {code}",
        "text_en": f"Question {code}",
        "action": "save",
    }
    choices = fields.pop("choices", None)
    if choices is not None:
        data["choice_count"] = str(len(choices))
        for index, (code_value, sv, en) in enumerate(choices):
            data.update({f"choice-{index}-code": code_value, f"choice-{index}-sv": sv, f"choice-{index}-en": en})
    data.update(fields)
    return data


def add_question(client: TestClient, slug: str, data: dict[str, Any], expect: int = 303):  # type: ignore[no-untyped-def]
    page = data.get("page", "1")
    form_page = f"/admin/surveys/{slug}/questions/new?page={page}&type={data['type']}"
    response = post_form(client, f"/admin/surveys/{slug}/questions/new", data, form_page=form_page)
    assert response.status_code == expect, response.text[:3000]
    return response


def edit_question(client: TestClient, slug: str, code: str, data: dict[str, Any], expect: int = 303):  # type: ignore[no-untyped-def]
    path = f"/admin/surveys/{slug}/questions/{code}/edit"
    response = post_form(client, path, data)
    assert response.status_code == expect, response.text[:3000]
    return response


def codes(slug: str) -> list[list[str]]:
    return [[q.code for q in page.questions] for page in spec_of(slug).pages]


YES_NO = [("1", "Ja", "Yes"), ("2", "Nej", "No")]


def simple_survey(client: TestClient) -> str:
    """A survey with three questions on one page: pendlar (yes/no), varfor (shown on no), fritt."""
    slug = create_survey(client)
    add_question(client, slug, question_data("pendlar", "single_choice", "Cyklar du?", required="1", choices=YES_NO))
    add_question(
        client,
        slug,
        question_data("varfor", "short_text", "Varför inte?", condition_op="equals", condition_target="pendlar:2"),
    )
    add_question(client, slug, question_data("fritt", "long_text", "Något mer?"))
    return slug


def open_survey(client: TestClient, slug: str) -> None:
    response = post_form(
        client, f"/admin/surveys/{slug}/status", {"status": "open"}, form_page=f"/admin/surveys/{slug}"
    )
    assert response.status_code == 303, response.text[:2000]


def move(client: TestClient, slug: str, code: str, direction: str):  # type: ignore[no-untyped-def]
    path = f"/admin/surveys/{slug}/questions/{code}/move"
    return post_form(client, path, {"direction": direction}, form_page=f"/admin/surveys/{slug}")


def answer_via_api(client: TestClient, slug: str, answers: dict[str, Any]) -> None:
    body = {"client_uuid": str(uuid.uuid4()), "language": "sv", "answers": answers}
    response = client.post(f"/api/surveys/{slug}/responses", json=body)
    assert response.status_code == 201, response.text


def error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


# --- Creating and editing -----------------------------------------------------------------


def test_create_a_survey_with_every_question_type(admin, client) -> None:  # type: ignore[no-untyped-def]
    slug = create_survey(
        admin,
        intro_sv="Hjälp oss planera cykelvägar.",
        privacy_sv="Svaren sparas i två år.",
        retention_days="730",
        audience="residents",
        identity_mode="anonymous",
    )
    assert "Cykla i Sundsvall" in admin.get("/admin/surveys").text
    type_page = admin.get(f"/admin/surveys/{slug}/questions/new?page=1")
    assert type_page.status_code == 200 and 'name="type"' in type_page.text

    add_question(admin, slug, question_data("kommun", "municipality", "Var bor du?", required="1"))
    add_question(admin, slug, question_data("alder", "age_band", "Hur gammal är du?"))
    add_question(admin, slug, question_data("kon", "gender", "Kön"))
    add_question(admin, slug, question_data("cyklar", "single_choice", "Cyklar du?", choices=YES_NO))
    add_page = post_form(admin, f"/admin/surveys/{slug}/pages", {}, form_page=f"/admin/surveys/{slug}")
    assert add_page.status_code == 303
    data = question_data(
        "hinder",
        "multiple_choice",
        "Vad hindrar dig?",
        page="2",
        max_choices="2",
        choices=[("", "Backar", "Hills"), ("", "Vädret", "Weather"), ("7", "Trafiken", "Traffic")],
        condition_op="equals",
        condition_target="cyklar:2",
        help_sv="Välj högst två.",
    )
    add_question(admin, slug, data)
    add_question(
        admin,
        slug,
        question_data(
            "nojd", "scale", "Hur nöjd är du?", page="2", min_value="1", max_value="7",
            low_sv="Inte alls", high_sv="Mycket", low_en="Not at all", high_en="Very", allow_dont_know="1",
        ),
    )  # fmt: skip
    add_question(
        admin,
        slug,
        question_data("rangordna", "ranking", "Rangordna", page="2", choices=[("", "A", "A"), ("", "B", "B")]),
    )
    add_question(admin, slug, question_data("km", "number", "Hur långt?", page="2", min_value="0", max_value="200"))
    too_long = add_question(
        admin, slug, question_data("kort", "short_text", "Kort", page="2", max_length="99999999"), expect=422
    )
    assert "Ett svar kan ha högst 5000 tecken." in error_summary(too_long.text)
    add_question(admin, slug, question_data("kort", "short_text", "Kort", page="2", max_length="100"))
    add_question(admin, slug, question_data("lang", "long_text", "Långt", page="2"))

    spec = spec_of(slug)
    assert {q.type for q in spec.questions} == set(QuestionType)
    assert codes(slug) == [["kommun", "alder", "kon", "cyklar"], ["hinder", "nojd", "rangordna", "km", "kort", "lang"]]
    by = spec.by_code
    assert [c.code for c in by["alder"].choices] == [code for code, _sv, _en in AGE_BANDS]
    assert [c.label["sv"] for c in by["kon"].choices] == [sv for _c, sv, _en in GENDERS]
    assert len(by["kommun"].choices) >= 7 and by["kommun"].required  # Västernorrland's municipalities
    # Empty codes get the next free numbers after the highest one typed.
    assert [(c.code, c.label) for c in by["hinder"].choices] == [
        (8, {"sv": "Backar", "en": "Hills"}),
        (9, {"sv": "Vädret", "en": "Weather"}),
        (7, {"sv": "Trafiken", "en": "Traffic"}),
    ]
    assert by["hinder"].max_choices == 2 and by["hinder"].help == {"sv": "Välj högst två."}
    assert by["hinder"].condition is not None and by["hinder"].condition.value == 2
    assert (by["nojd"].min_value, by["nojd"].max_value, by["nojd"].allow_dont_know) == (1, 7, True)
    assert by["nojd"].low_label == {"sv": "Inte alls", "en": "Not at all"}
    assert (by["km"].min_value, by["km"].max_value, by["kort"].max_length) == (0, 200, 100)
    assert spec.intro == {"sv": "Hjälp oss planera cykelvägar."} and spec.retention_days == 730
    assert spec.status == "draft"

    # The preview shows a page as respondents see it, marked, and starts no response.
    from consult.db import session_scope
    from consult.responses.models import ResponseDraft

    with session_scope() as session:
        drafts_before = session.execute(select(func.count()).select_from(ResponseDraft)).scalar_one()
    preview = admin.get(f"/admin/surveys/{slug}/preview?page=2")
    assert preview.status_code == 200
    assert "Förhandsvisning" in preview.text and "Vad hindrar dig?" in preview.text and "Inte alls" in preview.text
    assert "Visas bara när" in preview.text  # the condition is explained
    assert "Var bor du?" in admin.get(f"/admin/surveys/{slug}/preview?page=1").text
    assert "Hjälp oss planera" in admin.get(f"/admin/surveys/{slug}/preview").text
    with session_scope() as session:
        assert session.execute(select(func.count()).select_from(ResponseDraft)).scalar_one() == drafts_before


def test_a_number_question_can_take_whole_numbers_only(admin, client) -> None:  # type: ignore[no-untyped-def]
    """The "Endast heltal" box is saved, shown back, respected by the preview, and locked with the
    rest of the structure once the survey has answers."""
    slug = create_survey(admin)
    add_question(admin, slug, question_data("ar", "number", "Hur många år?", min_value="0", whole_numbers="1"))
    add_question(admin, slug, question_data("km", "number", "Hur långt?"))
    by = spec_of(slug).by_code
    assert by["ar"].whole_numbers is True and by["km"].whole_numbers is False
    form = admin.get(f"/admin/surveys/{slug}/questions/ar/edit").text
    assert "Endast heltal" in form
    assert re.search(r'name="whole_numbers" value="1" checked', form)
    other = admin.get(f"/admin/surveys/{slug}/questions/km/edit").text
    assert 'name="whole_numbers"' in other and not re.search(r'name="whole_numbers" value="1" checked', other)
    preview = admin.get(f"/admin/surveys/{slug}/preview?page=1").text
    assert 'name="ar" type="text" inputmode="numeric"' in preview
    assert 'name="km" type="text" inputmode="decimal"' in preview
    edit_question(admin, slug, "km", question_data("km", "number", "Hur långt?", whole_numbers="1"))
    edit_question(admin, slug, "km", question_data("km", "number", "Hur långt?"))  # an unticked box turns it off
    assert spec_of(slug).by_code["km"].whole_numbers is False

    open_survey(admin, slug)
    answer_via_api(client, slug, {"ar": 12, "km": 2.5})
    locked = admin.get(f"/admin/surveys/{slug}/questions/ar/edit").text
    assert "Endast heltal: ja" in locked and 'name="whole_numbers"' not in locked
    edit_question(admin, slug, "km", question_data("km", "number", "Hur långt?", whole_numbers="1"))
    assert spec_of(slug).by_code["km"].whole_numbers is False  # 2.5 is already stored


def test_wording_edit_and_keyboard_move_buttons(admin) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    before = revision_of(slug)
    data = question_data("pendlar", "single_choice", "Cyklar du till jobbet?", required="1", choices=YES_NO)
    edit_question(admin, slug, "pendlar", data)
    assert spec_of(slug).by_code["pendlar"].text == {"sv": "Cyklar du till jobbet?", "en": "Question pendlar"}
    assert revision_of(slug) == before + 1  # caches in every worker renew

    moved = move(admin, slug, "fritt", "up")
    assert moved.status_code == 303 and "focus=move-fritt-up" in moved.headers["location"]
    assert codes(slug) == [["pendlar", "fritt", "varfor"]]
    page = admin.get(moved.headers["location"])
    assert re.search(r'id="move-fritt-up"\s+autofocus', page.text)  # focus stays on the button pressed

    # val may move below fritt (still before varfor, which depends on it) ...
    moved = move(admin, slug, "pendlar", "down")
    assert moved.status_code == 303 and codes(slug) == [["fritt", "pendlar", "varfor"]]
    # ... but not below varfor: the condition would refer to a later question.
    refused = move(admin, slug, "pendlar", "down")
    assert refused.status_code == 422
    assert "kommer senare" in error_summary(refused.text)
    assert codes(slug) == [["fritt", "pendlar", "varfor"]]

    # Choices move with their codes, so stored answers keep their meaning.
    data = question_data("pendlar", "single_choice", "Cyklar du till jobbet?", required="1", choices=YES_NO)
    data["action"] = "choice-down-0"
    response = edit_question(admin, slug, "pendlar", data)
    assert "focus=choice-down-1" in response.headers["location"]
    assert [(c.code, c.label["sv"]) for c in spec_of(slug).by_code["pendlar"].choices] == [(2, "Nej"), (1, "Ja")]

    # Pages move too; a question at the end of a page moves on to the next page.
    post_form(admin, f"/admin/surveys/{slug}/pages", {}, form_page=f"/admin/surveys/{slug}")
    move(admin, slug, "varfor", "down")
    assert codes(slug) == [["fritt", "pendlar"], ["varfor"]]
    post_form(admin, f"/admin/surveys/{slug}/pages/2", {"title_sv": "Mer", "title_en": "More"})
    assert spec_of(slug).pages[1].title == {"sv": "Mer", "en": "More"}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (question_data("pendlar", "short_text", "Dubblett"), "code", "Another question already has the code pendlar"),
        (question_data("2fel", "short_text", "Fel kod"), "code", "Give the question a code"),
        (question_data("tom", "single_choice", "Inga val", choices=[]), "choices", "Add at least one choice"),
        (
            question_data("dubbel", "single_choice", "Dubbla koder", choices=[("1", "A", ""), ("1", "B", "")]),
            "choice-1-code",
            "Another choice already has the code 1",
        ),
        (
            question_data("villkor", "short_text", "Villkor", condition_op="equals", condition_target="saknas:1"),
            "condition_target",
            "does not exist",
        ),
        # Codes that are no whole number: words, other scripts, and digits int() cannot read.
        (question_data("ord", "single_choice", "Ord", choices=[("xxx", "A", "")]), "choice-0-code", "whole number"),
        (
            question_data("kina", "ranking", "Kina", choices=[("中文", "A", ""), ("2", "B", "")]),
            "choice-0-code",
            "whole number",
        ),
        (question_data("upph", "single_choice", "Upphöjt", choices=[("²", "A", "")]), "choice-0-code", "whole number"),
    ],
)
def test_invalid_questions_are_refused_next_to_the_field_and_nothing_is_stored(  # type: ignore[no-untyped-def]
    admin, data, field, message
) -> None:
    slug = simple_survey(admin)
    before, revision = codes(slug), revision_of(slug)
    response = admin.post(
        f"/admin/surveys/{slug}/questions/new?lang=en",
        data={"csrftoken": csrf(admin.get(f"/admin/surveys/{slug}/questions/new?type=short_text").text), **data},
    )
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert message in summary and f'href="#field-{field}"' in summary
    assert f'id="{field}-error"' in response.text  # the message beside the field
    assert f'id="field-{field}"' in response.text
    assert codes(slug) == before and revision_of(slug) == revision


def test_a_condition_on_a_later_question_is_refused(admin) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    data = question_data(
        "pendlar", "single_choice", "Cyklar du?", choices=YES_NO, condition_op="equals", condition_target="pendlar:1"
    )
    response = edit_question(admin, slug, "pendlar", data, expect=422)
    assert "sitt eget svar" in error_summary(response.text)
    # fritt (third) made dependent on a question added after it is refused as well
    add_question(admin, slug, question_data("sist", "single_choice", "Sist", choices=YES_NO))
    data = question_data("fritt", "long_text", "Något mer?", condition_op="equals", condition_target="sist:1")
    response = edit_question(admin, slug, "fritt", data, expect=422)
    assert "kommer senare" in error_summary(response.text)
    assert spec_of(slug).by_code["fritt"].condition is None


def test_a_survey_with_answers_is_locked_but_its_wording_can_be_corrected(admin, client, staff) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    open_survey(admin, slug)
    answer_via_api(client, slug, {"pendlar": 2, "varfor": "Det är för långt"})
    overview = admin.get(f"/admin/surveys/{slug}")
    assert "låst" in overview.text and "move-fritt-up" not in overview.text

    # Wording: saved in place and audited with the old and the new text.
    data = question_data(
        "pendlar",
        "single_choice",
        "Cyklar du någon gång?",
        required="1",
        choices=[("1", "Ja", "Yes"), ("2", "Nej, aldrig", "No, never")],
    )
    edit_question(admin, slug, "pendlar", data)
    spec = spec_of(slug)
    assert spec.by_code["pendlar"].text["sv"] == "Cyklar du någon gång?"
    assert spec.by_code["pendlar"].choice(2).label["sv"] == "Nej, aldrig"  # type: ignore[union-attr]
    from consult.db import session_scope
    from consult.responses.models import Answer

    with session_scope() as session:
        events = accounts.list_audit(session, action="survey.edit")
        event = next(e for e in events if e.target == slug)
        stored = session.execute(
            select(func.count()).select_from(Answer).where(Answer.question_id == spec.by_code["pendlar"].id)
        ).scalar_one()
    changes = {c["where"]: c for c in event.details["changes"]}
    assert (
        changes["pendlar.text"]["old"]["sv"] == "Cyklar du?"
        and changes["pendlar.text"]["new"]["sv"] == "Cyklar du någon gång?"
    )
    assert changes["pendlar.choice 2"]["new"]["sv"] == "Nej, aldrig"
    assert stored == 1  # the answer still points at the same question

    # Structure: removing, adding or recoding is refused with a clear message.
    refused = post_form(admin, f"/admin/surveys/{slug}/questions/fritt/delete", {}, form_page=f"/admin/surveys/{slug}")
    assert refused.status_code == 422 and "kan inte tas bort" in error_summary(refused.text)
    refused = move(admin, slug, "pendlar", "down")
    assert refused.status_code == 422
    refused = admin.get(f"/admin/surveys/{slug}/questions/new?type=short_text")
    assert refused.status_code == 422 and "Kopiera enkäten" in refused.text
    forged = question_data("ny", "short_text", "Ny fråga")
    refused = admin.post(f"/admin/surveys/{slug}/questions/new", data={"csrftoken": csrf(overview.text), **forged})
    assert refused.status_code == 422
    # A forged edit trying to recode a choice keeps the codes: only wording is taken from the form.
    data = question_data(
        "pendlar", "single_choice", "Cyklar du någon gång?", choices=[("5", "Ja", "Yes"), ("2", "Nej", "No")]
    )
    edit_question(admin, slug, "pendlar", data)
    assert [c.code for c in spec_of(slug).by_code["pendlar"].choices] == [1, 2]
    assert codes(slug) == [["pendlar", "varfor", "fritt"]]


def test_whether_respondents_say_who_they_are_is_locked_once_answered(admin, client) -> None:  # type: ignore[no-untyped-def]
    """Answers given anonymously must not become answers of a survey that says it knows who answered,
    nor names given become "anonymous" while they are kept. Other settings may change, and the
    audit log says from what to what."""
    slug = simple_survey(admin)
    open_survey(admin, slug)
    answer_via_api(client, slug, {"pendlar": 2, "varfor": "Det är för långt"})
    settings = {"title_sv": "Cykla i Sundsvall", "audience": "residents", "identity_mode": "identified"}
    refused = post_form(admin, f"/admin/surveys/{slug}/settings", settings)
    assert refused.status_code == 422 and "Om de svarande uppger vem de är" in error_summary(refused.text)
    assert spec_of(slug).identity_mode == "anonymous"
    changed = post_form(admin, f"/admin/surveys/{slug}/settings", {**settings, "identity_mode": "anonymous",
                                                                   "access": "invitation"})
    assert changed.status_code == 303
    from consult.db import session_scope

    with session_scope() as session:
        event = next(e for e in accounts.list_audit(session, action="survey.edit") if e.target == slug)
    assert {"where": "access", "old": "open", "new": "invitation"} in event.details["changes"]


def test_copy_from_an_earlier_cycle_makes_a_draft(admin) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    open_survey(admin, slug)
    form = admin.get(f"/admin/surveys/{slug}/copy")
    assert form.status_code == 200 and f"{slug}-kopia" in form.text
    copy_slug = new_slug()
    response = post_form(
        admin, f"/admin/surveys/{slug}/copy", {"slug": copy_slug, "title_sv": "Cykla 2030", "title_en": "", "cycle": ""}
    )
    assert response.status_code == 303
    original, copy = spec_of(slug), spec_of(copy_slug)
    assert copy.status == "draft" and copy.title == {"sv": "Cykla 2030"}
    assert [q.model_dump(exclude={"id"}) for q in copy.questions] == [
        q.model_dump(exclude={"id"}) for q in original.questions
    ]
    taken = post_form(admin, f"/admin/surveys/{slug}/copy", {"slug": copy_slug, "title_sv": "X"})
    assert taken.status_code == 422 and "finns redan" in taken.text


def test_scheduled_opening_keeps_the_public_page_closed_until_then(admin, client) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    opens = (datetime.now(UTC) + timedelta(days=3)).astimezone(UTC)
    local = opens.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%dT%H:%M")
    settings = {
        "title_sv": "Cykla i Sundsvall",
        "audience": "residents",
        "identity_mode": "anonymous",
        "opens_at": local,
    }
    response = post_form(admin, f"/admin/surveys/{slug}/settings", settings)
    assert response.status_code == 303, response.text[:2000]
    open_survey(admin, slug)
    assert "schemalagd" in admin.get(f"/admin/surveys/{slug}").text
    public = client.get(f"/s/{slug}")
    assert public.status_code == 403 and "inte öppnat" in public.text
    bad = post_form(admin, f"/admin/surveys/{slug}/settings", {**settings, "closes_at": "2020-01-01T10:00"})
    assert bad.status_code == 422 and "stänga efter" in error_summary(bad.text)
    # Clearing the opening time opens it at once (this process's cached copy renews within
    # its two-second check; clearing it spares the test the wait).
    post_form(admin, f"/admin/surveys/{slug}/settings", {**settings, "opens_at": ""})
    survey_cache.clear()
    assert client.get(f"/s/{slug}").status_code == 200
    closed = post_form(admin, f"/admin/surveys/{slug}/status", {"status": "closed"}, form_page=f"/admin/surveys/{slug}")
    survey_cache.clear()
    assert closed.status_code == 303 and client.get(f"/s/{slug}").status_code == 410


def test_a_survey_offered_in_english_opens_only_with_its_english_texts(admin) -> None:  # type: ignore[no-untyped-def]
    """A resident who chooses English would read the missing texts in Swedish. The refusal names
    each gap, links to it, and says the two ways on; both work."""
    slug = create_survey(admin)  # with an English title: offered in English
    add_question(admin, slug, question_data("pendlar", "single_choice", "Cyklar du?", text_en="",
                                            choices=[("1", "Ja", "Yes"), ("2", "Nej", "")]))
    refused = post_form(admin, f"/admin/surveys/{slug}/status", {"status": "open"}, form_page=f"/admin/surveys/{slug}")
    assert refused.status_code == 422
    summary = error_summary(refused.text)
    assert "Enkäten erbjuds på engelska" in summary and "töm den engelska titeln" in summary
    assert 'href="#question-pendlar">pendlar saknar engelska: frågetext, svarsalternativ.' in summary
    assert 'id="gaps"' in refused.text and f'href="/admin/surveys/{slug}/questions/pendlar/edit"' in refused.text
    assert spec_of(slug).status == "draft"
    # Offered in Swedish only: it opens as it is.
    settings = {"title_sv": "Cykla i Sundsvall", "title_en": "", "audience": "residents", "identity_mode": "anonymous"}
    assert post_form(admin, f"/admin/surveys/{slug}/settings", settings).status_code == 303
    open_survey(admin, slug)
    assert spec_of(slug).status == "open"
    post_form(admin, f"/admin/surveys/{slug}/status", {"status": "closed"}, form_page=f"/admin/surveys/{slug}")
    # Offered in English again, it reopens once the texts are written.
    assert post_form(admin, f"/admin/surveys/{slug}/settings",
                     {**settings, "title_en": "Cycling in Sundsvall"}).status_code == 303
    again = post_form(admin, f"/admin/surveys/{slug}/status", {"status": "open"}, form_page=f"/admin/surveys/{slug}")
    assert again.status_code == 422 and "pendlar saknar engelska" in error_summary(again.text)
    assert 'id="gaps"' in again.text  # shown on a closed survey too, when it is what keeps it from opening
    edit_question(admin, slug, "pendlar", question_data("pendlar", "single_choice", "Cyklar du?",
                                                        choices=[("1", "Ja", "Yes"), ("2", "Nej", "No")]))
    open_survey(admin, slug)
    assert spec_of(slug).status == "open"


def test_add_a_choice_gives_one_more_row_keeps_what_was_typed_and_stores_nothing(admin) -> None:  # type: ignore[no-untyped-def]
    slug = create_survey(admin)
    form_page = admin.get(f"/admin/surveys/{slug}/questions/new?page=1&type=multiple_choice").text
    assert 'name="choice-2-code"' in form_page and 'name="choice-3-code"' not in form_page
    assert 'value="add-choice"' in form_page and "Lägg till alternativ" in form_page
    choices = [("", "Buss", "Bus"), ("", "Tåg", "Train"), ("", "Bil", "Car")]
    data = question_data("resor", "multiple_choice", "Hur reser du?", choices=choices, action="add-choice")
    response = post_form(admin, f"/admin/surveys/{slug}/questions/new", data,
                         form_page=f"/admin/surveys/{slug}/questions/new?page=1&type=multiple_choice")
    assert response.status_code == 200
    page = response.text
    assert ">Hur reser du?<" in page and 'value="resor"' in page
    for value in ("Buss", "Tåg", "Bil", "Train"):
        assert f'value="{value}"' in page
    # The new fourth row, with the keyboard focus in its first field; no more rows than that.
    assert re.search(r'<input id="field-choice-3-code"[^>]*autofocus', page)
    assert 'name="choice-4-code"' not in page and 'name="choice_count" value="4"' in page
    assert codes(slug) == [[]]
    data = question_data("resor", "multiple_choice", "Hur reser du?", choices=[*choices, ("", "Cykel", "Bike")])
    add_question(admin, slug, data)
    assert [c.text("sv") for c in spec_of(slug).by_code["resor"].choices] == ["Buss", "Tåg", "Bil", "Cykel"]


def test_new_survey_form_reports_errors_per_field(admin) -> None:  # type: ignore[no-untyped-def]
    taken = simple_survey(admin)
    response = post_form(admin, "/admin/surveys/new", {"slug": "Fel Adress", "title_sv": "", "retention_days": "x"})
    assert response.status_code == 422
    summary = error_summary(response.text)
    for field in ("slug", "title_sv", "retention_days"):
        assert f'href="#field-{field}"' in summary
    response = post_form(admin, "/admin/surveys/new", {"slug": taken, "title_sv": "Samma"})
    assert response.status_code == 422 and "finns redan" in response.text


def test_a_new_survey_gets_a_review_cycle_only_when_the_admin_chooses_one(admin) -> None:  # type: ignore[no-untyped-def]
    """With several review cycles none is preselected, and leaving the choice empty is an error
    next to the field: a new region's answers must not fall into another cycle's report."""
    from consult.db import session_scope
    from consult.strategy.models import ReviewCycle
    from consult.strategy.service import cycles as review_cycles
    from consult.surveys.models import Survey

    with session_scope() as session:
        existing = review_cycles(session)
    assert len(existing) == 1  # the demo's: preselected, as the only one
    page = admin.get("/admin/surveys/new").text
    assert re.search(rf'<option value="{existing[0].id}" selected>', page)
    with session_scope() as session:
        extra = ReviewCycle(key=f"jamtland-{uuid.uuid4().hex[:6]}", name={"sv": "Jämtlands översyn"},
                            mandate_period="2027–2030")
        session.add(extra)
        session.flush()
        extra_id = extra.id
    try:
        page = admin.get("/admin/surveys/new").text
        select_html = page.split('id="field-cycle"')[1].split("</select>")[0]
        assert re.findall(r'<option value="([^"]*)" selected>', select_html) == [""]
        assert "Välj en revideringsomgång" in select_html
        assert "Enkätens svar räknas in i omgångens översikt och sammanställning" in page
        slug = new_slug()
        response = post_form(admin, "/admin/surveys/new", {"slug": slug, "title_sv": "Jämtland", "cycle": ""})
        assert response.status_code == 422
        assert 'href="#field-cycle"' in error_summary(response.text)
        assert "Välj den revideringsomgång enkäten hör till" in response.text
        with session_scope() as session:
            assert session.execute(select(Survey).where(Survey.slug == slug)).first() is None
        create_survey(admin, slug, cycle=str(extra_id))
        with session_scope() as session:
            assert session.execute(select(Survey.cycle_id).where(Survey.slug == slug)).scalar_one() == extra_id
        # The XLSForm upload asks the same.
        import_page = admin.get("/admin/surveys/import").text
        select_html = import_page.split('id="field-cycle"')[1].split("</select>")[0]
        assert re.findall(r'<option value="([^"]*)" selected>', select_html) == [""]
        data = workbook({"survey": [["type", "name", "label::Svenska (sv)"], ["text", "fritt", "Något mer?"]],
                         "settings": [["form_title"], ["Jämtland"]]})
        refused = upload(admin, data, slug=new_slug(), cycle="")
        assert refused.status_code == 422 and "Välj den revideringsomgång enkäten hör till" in refused.text
        other = create_survey(admin, cycle="none")
        with session_scope() as session:
            assert session.execute(select(Survey.cycle_id).where(Survey.slug == other)).scalar_one() is None
        settings = admin.get(f"/admin/surveys/{other}/settings").text
        assert '<option value="none" selected>' in settings
    finally:
        with session_scope() as session:
            for survey in session.execute(select(Survey).where(Survey.cycle_id == extra_id)).scalars():
                survey.cycle_id = None
            session.flush()
            session.delete(session.get(ReviewCycle, extra_id))


# --- XLSForm ------------------------------------------------------------------------------


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client: TestClient, data: bytes, slug: str = "", cycle: str = "none"):  # type: ignore[no-untyped-def]
    token = csrf(client.get("/admin/surveys/import").text)
    # The CSRF token must be the first field of a multipart body.
    return client.post(
        "/admin/surveys/import",
        data={"csrftoken": token, "slug": slug, "cycle": cycle},
        files={"file": ("enkat.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    )


def test_a_surveys_own_export_imports_as_a_draft(admin) -> None:  # type: ignore[no-untyped-def]
    """Closed: a new survey without answers is not "closed". Open: it would be public at once, beside
    the survey it was copied from."""
    from consult.db import session_scope
    from consult.surveys.service import load_spec
    from consult.surveys.xlsform import write_xlsform
    from tests.factories import every_type_survey, store

    for status in ("closed", "open"):
        source = store(every_type_survey(status=status))
        slug = new_slug()
        assert upload(admin, write_xlsform(source), slug=slug).status_code == 303
        with session_scope() as session:
            imported = load_spec(session, slug=slug)
        assert imported is not None and imported.status == "draft", status


def test_xlsform_upload_with_problems_shows_them_cell_by_cell_and_creates_nothing(admin) -> None:  # type: ignore[no-untyped-def]
    slug = new_slug()
    data = workbook(
        {
            "survey": [
                ["type", "name", "label::Svenska (sv)"],
                ["text", "namn", "Vad heter du?"],
                ["geopoint", "plats", "Var är du?"],
                ["select_one saknas", "pendlar", "Välj"],
            ],
            "settings": [["form_title", "form_id"], ["Fel", slug]],
        }
    )
    response = upload(admin, data)
    assert response.status_code == 422
    assert "Inget importerades" in response.text
    table = re.search(r'<table id="problem-list">.*?</table>', response.text, re.S)
    assert table and "survey" in table.group(0) and ">3<" in table.group(0) and ">4<" in table.group(0)
    assert "A3" in table.group(0)  # the cell of the unsupported type
    from consult.db import session_scope
    from consult.surveys.service import load_spec

    with session_scope() as session:
        assert load_spec(session, slug=slug) is None
    not_a_workbook = upload(admin, b"not a spreadsheet")
    assert not_a_workbook.status_code == 422 and "problem-list" in not_a_workbook.text


def test_xlsform_upload_problems_are_listed_as_the_workbook_reads(admin) -> None:  # type: ignore[no-untyped-def]
    """Sheet by sheet in the order of the workbook's tabs, row by row: not in the order they were found
    (settings and choices are read first; an open group is found at the end)."""
    data = workbook(
        {
            "survey": [
                ["type", "name", "label::Svenska (sv)"],
                ["begin_group", "om_dig", "Om dig"],
                ["geopoint", "plats", "Var är du?"],
            ],
            "choices": [["list_name", "name", "label::Svenska (sv)"], ["ja_nej", "ja", ""]],
            "settings": [["form_title", "form_id"], ["Fel", new_slug()], ["Annan", "annan"]],
        }
    )
    response = upload(admin, data)
    assert response.status_code == 422
    table = re.search(r'<table id="problem-list">.*?</table>', response.text, re.S)
    assert table
    rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">([^<]*)</td>", table.group(0))
    assert rows == [("survey", "–"), ("survey", "2"), ("survey", "3"), ("choices", "2"), ("settings", "3")]


def test_a_valid_xlsform_upload_creates_the_survey_and_downloads_again(admin, analyst) -> None:  # type: ignore[no-untyped-def]
    slug = new_slug()
    data = workbook(
        {
            "survey": [
                ["type", "name", "label::Svenska (sv)", "label::English (en)", "required", "relevant"],
                ["begin_group", "sida1", "Om dig", "About you"],
                ["select_one janej", "cyklar", "Cyklar du?", "Do you cycle?", "yes", ""],
                ["text", "varfor", "Varför inte?", "Why not?", "", "${cyklar} = '2'"],
                ["end_group", "", "", "", "", ""],
            ],
            "choices": [
                ["list_name", "name", "label::Svenska (sv)", "label::English (en)"],
                ["janej", "1", "Ja", "Yes"],
                ["janej", "2", "Nej", "No"],
            ],
            "settings": [["form_title", "form_id"], ["Cykelenkät", "cykel"]],
        }
    )
    response = upload(admin, data, slug=slug)
    assert response.status_code == 303, response.text[:3000]
    assert response.headers["location"].startswith(f"/admin/surveys/{slug}")
    spec = spec_of(slug)
    assert [q.code for q in spec.questions] == ["cyklar", "varfor"]
    assert spec.by_code["varfor"].condition is not None and spec.status == "draft"

    # Analysts may download it; the workbook reads back to the same survey.
    download = analyst.get(f"/admin/surveys/{slug}/xlsform")
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/vnd.openxml")
    assert "survey" in load_workbook(io.BytesIO(download.content)).sheetnames
    from consult.surveys.xlsform import read_xlsform

    again = read_xlsform(download.content)
    assert again.ok and again.spec is not None
    assert [q.model_dump(exclude={"id"}) for q in again.spec.questions] == [
        q.model_dump(exclude={"id"}) for q in spec.questions
    ]
    # The same address twice is refused, nothing overwritten.
    duplicate = upload(admin, data, slug=slug)
    assert duplicate.status_code == 422 and "finns redan" in duplicate.text


# --- Roles --------------------------------------------------------------------------------


def test_analysts_may_look_but_not_edit(admin, analyst) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    listing = analyst.get("/admin/surveys")
    assert listing.status_code == 200 and slug in listing.text and "/admin/surveys/new" not in listing.text
    overview = analyst.get(f"/admin/surveys/{slug}")
    assert overview.status_code == 200 and "/move" not in overview.text
    assert analyst.get(f"/admin/surveys/{slug}/preview?page=1").status_code == 200
    for path in (
        "/admin/surveys/new",
        f"/admin/surveys/{slug}/settings",
        f"/admin/surveys/{slug}/questions/pendlar/edit",
    ):
        assert analyst.get(path).status_code == 403
    token = csrf(overview.text)
    for path in (f"/admin/surveys/{slug}/questions/pendlar/delete", f"/admin/surveys/{slug}/pages"):
        assert analyst.post(path, data={"csrftoken": token}).status_code == 403
    assert codes(slug) == [["pendlar", "varfor", "fritt"]]


def test_anonymous_visitors_are_sent_to_login(app, admin) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    anonymous = TestClient(app, base_url="http://testserver", follow_redirects=False)
    for path in ("/admin/surveys", f"/admin/surveys/{slug}", f"/admin/surveys/{slug}/preview"):
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_unknown_survey_and_question_give_404(admin) -> None:  # type: ignore[no-untyped-def]
    assert admin.get("/admin/surveys/finns-inte").status_code == 404
    slug = simple_survey(admin)
    assert admin.get(f"/admin/surveys/{slug}/questions/finns_inte/edit").status_code == 404
    assert admin.get(f"/admin/surveys/{slug}/pages/9").status_code == 404


def form_fields(html: str) -> dict[str, Any]:
    """The values a browser would send for the question form as shown (no button pressed)."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.values: dict[str, Any] = {}
            self.select: str | None = None
            self.textarea: str | None = None
            self.in_form = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "form" and "/questions/" in (a.get("action") or "") and "/delete" not in (a.get("action") or ""):
                self.in_form = True
            if not self.in_form:
                return
            name = a.get("name")
            if tag == "input" and name and a.get("type") not in ("checkbox", "radio", "submit"):
                self.values[name] = a.get("value") or ""
            elif tag == "input" and name and a.get("type") == "checkbox" and "checked" in a:
                self.values[name] = a.get("value") or "1"
            elif tag == "select" and name:
                self.select = name
                self.values.setdefault(name, "")
            elif tag == "option" and self.select and "selected" in a:
                self.values[self.select] = a.get("value") or ""
            elif tag == "textarea" and name:
                self.textarea = name
                self.values[name] = ""

        def handle_endtag(self, tag: str) -> None:
            if tag == "form":
                self.in_form = False
            elif tag == "select":
                self.select = None
            elif tag == "textarea":
                self.textarea = None

        def handle_data(self, data: str) -> None:
            if self.textarea:
                self.values[self.textarea] += data

    parser = Fields()
    parser.feed(html)
    return parser.values


@pytest.mark.parametrize("locked", [False, True])
def test_saving_every_question_unchanged_keeps_the_survey_as_it_was(admin, locked) -> None:  # type: ignore[no-untyped-def]
    """The forms round-trip every question of (a copy of) the demo survey, with its strategy
    links: without answers (the structure is rewritten) and with answers (wording in place)."""
    from consult.db import session_scope
    from consult.responses.models import Response
    from consult.surveys.models import Survey

    with session_scope() as session:
        demo = session.execute(select(Survey).where(Survey.slug == "vasternorrland-2030")).scalar_one()
        cycle_id = demo.cycle_id
    slug = new_slug()
    data = {"slug": slug, "title_sv": "Kopia", "cycle": str(cycle_id)}
    assert post_form(admin, "/admin/surveys/vasternorrland-2030/copy", data).status_code == 303
    before = spec_of(slug)
    assert any(q.priority_key for q in before.questions)
    if locked:
        with session_scope() as session:
            token = uuid.uuid4().hex
            session.add(
                Response(survey_id=before.id, client_uuid=str(uuid.uuid4()), content_hash=token, receipt=token[:20])
            )
    for question in before.questions:
        page = admin.get(f"/admin/surveys/{slug}/questions/{question.code}/edit")
        assert page.status_code == 200
        assert ("Bara formuleringen" in page.text or "bara formuleringen" in page.text) == locked
        fields = form_fields(page.text)
        fields["action"] = "save"
        response = admin.post(f"/admin/surveys/{slug}/questions/{question.code}/edit", data=fields)
        assert response.status_code == 303, (question.code, response.text[:3000])
    after = spec_of(slug)
    # With answers, a save that changes nothing writes and logs nothing (the audit log listed
    # "Enkät ändrad" for every unchanged save).
    assert after.revision == before.revision + (0 if locked else len(before.questions))
    if locked:
        with session_scope() as session:
            assert not [e for e in accounts.list_audit(session, action="survey.edit") if e.target == slug]
    assert [q.model_dump(exclude={"id"}) for q in after.questions] == [
        q.model_dump(exclude={"id"}) for q in before.questions
    ]


# --- Combined display conditions (and / or / not) ------------------------------------------

COMBINED = "${ort} = 'sundsvall' and (selected(${prio}, 'p3') or not(${kon} = 'k'))"


def combined_condition_survey(admin: TestClient) -> str:
    """Imported from XLSForm, with named choices and a combined condition on `mer`."""
    slug = new_slug()
    data = workbook(
        {
            "survey": [
                ["type", "name", "label::Svenska (sv)", "label::English (en)", "relevant"],
                ["select_one ort", "ort", "Var bor du?", "Where do you live?", ""],
                ["select_one kon", "kon", "Kön", "Gender", ""],
                ["select_multiple prio", "prio", "Vad är viktigast?", "What matters most?", ""],
                ["text", "mer", "Berätta mer", "Tell us more", COMBINED],
                ["text", "sist", "Något mer?", "Anything else?", ""],
            ],
            "choices": [
                ["list_name", "name", "label::Svenska (sv)", "label::English (en)"],
                ["ort", "sundsvall", "Sundsvall", "Sundsvall"],
                ["ort", "timra", "Timrå", "Timrå"],
                ["kon", "k", "Kvinna", "Woman"],
                ["kon", "m", "Man", "Man"],
                ["prio", "p1", "Buss", "Bus"],
                ["prio", "p3", "Cykel", "Bike"],
            ],
            "settings": [["form_title", "form_id"], ["Villkor", "villkor"]],
        }
    )
    assert upload(admin, data, slug=slug).status_code == 303
    return slug


def test_a_condition_names_its_question_and_offers_the_operators_of_its_type(admin) -> None:  # type: ignore[no-untyped-def]
    slug = create_survey(admin)
    long_text = "Pendlar du till arbetet eller skolan minst en gång i veckan under vinterhalvåret?"
    add_question(admin, slug, question_data("pendlar", "single_choice", long_text, choices=YES_NO))
    add_question(admin, slug, question_data("resor", "multiple_choice", "Hur reser du?",
                                            choices=[("1", "Buss", "Bus"), ("2", "Tåg", "Train")]))
    # "includes" sent for a single-choice question is stored as "is"; "is" for a multiple-choice one as "includes".
    add_question(admin, slug, question_data("varfor", "short_text", "Varför?", condition_op="includes",
                                            condition_target="pendlar:1"))
    add_question(admin, slug, question_data("tag", "short_text", "Vilket tåg?", condition_op="equals",
                                            condition_target="resor:2"))
    spec = spec_of(slug)
    assert spec.by_code["varfor"].condition.op == "equals" and spec.by_code["tag"].condition.op == "includes"
    overview = admin.get(f"/admin/surveys/{slug}").text
    assert "Visas när ”Pendlar du till arbetet eller skolan…” är ”Ja”" in overview
    assert "Visas när ”Hur reser du?” innehåller ”Tåg”" in overview
    assert "Visas när pendlar" not in overview

    def offered(code: str) -> list[str]:
        page = admin.get(f"/admin/surveys/{slug}/questions/{code}/edit").text
        select_html = page.split('id="field-condition_op"')[1].split("</select>")[0]
        return re.findall(r">([^<]+)</option>", select_html)

    assert offered("varfor") == ["är", "är inte"]
    assert offered("tag") == ["innehåller", "innehåller inte"]


def test_a_combined_condition_is_shown_in_words_and_kept_when_other_fields_change(admin) -> None:  # type: ignore[no-untyped-def]
    slug = combined_condition_survey(admin)
    condition = spec_of(slug).by_code["mer"].condition
    assert condition is not None and not hasattr(condition, "question")  # a tree, not one test

    # The survey page names the questions by their (shortened) text; the question page, whose
    # expression uses the codes, by their codes. The operator reads as the question's type asks.
    named = "”Var bor du?” är ”Sundsvall” och (”Vad är viktigast?” innehåller ”Cykel” eller ”Kön” är inte ”Kvinna”)"
    assert f"Visas när {named}" in admin.get(f"/admin/surveys/{slug}").text
    words = "ort är ”Sundsvall” och (prio innehåller ”Cykel” eller kon är inte ”Kvinna”)"
    assert "Visas bara när ”Var bor du?” är ”Sundsvall” och" in admin.get(f"/admin/surveys/{slug}/preview?page=1").text
    page = admin.get(f"/admin/surveys/{slug}/questions/mer/edit").text
    assert f"Visas när {words}" in page
    field = re.search(r'<input id="field-condition_expression" name="condition_expression" type="text"[^>]*>', page)
    assert field and 'value="${ort} = &#39;sundsvall&#39; and (selected(${prio}, &#39;p3&#39;)' in field.group(0)

    # Saving the form as shown, with new wording, changes the wording only.
    edit_question(
        admin, slug, "mer", question_data("mer", "short_text", "Berätta gärna mer", condition_expression=COMBINED)
    )
    question = spec_of(slug).by_code["mer"]
    assert question.text["sv"] == "Berätta gärna mer" and question.condition == condition


def test_a_combined_condition_can_be_typed_and_is_checked(admin) -> None:  # type: ignore[no-untyped-def]
    slug = combined_condition_survey(admin)
    typed = "${ort} = 'timra' or selected(${prio}, 'p1')"
    edit_question(admin, slug, "sist", question_data("sist", "short_text", "Något mer?", condition_expression=typed))
    condition = spec_of(slug).by_code["sist"].condition
    assert condition is not None and condition.model_dump(mode="json") == {
        "any": [{"question": "ort", "op": "equals", "value": 2}, {"question": "prio", "op": "includes", "value": 1}]
    }

    bad = {
        "${ort} = 'timra' or": "tar slut för tidigt",
        "${ort} = 'goteborg' and ${kon} = 'k'": "ort har inget svarsalternativ som heter goteborg",
        "${ort} = 'timra' or ${sist} = 'x'": "Villkor kan bara gälla frågor med svarsalternativ; sist är ingen sådan",
    }
    for expression, reason in bad.items():
        data = question_data("mer", "short_text", "Berätta mer", condition_expression=expression)
        response = edit_question(admin, slug, "mer", data, expect=422)
        assert reason in error_summary(response.text), expression
        assert 'href="#field-condition_expression"' in error_summary(response.text)
    # A test on a later question is refused as for a single condition.
    later = "${ort} = 'timra' or selected(${prio}, 'p1')"
    choices = [("1", "Kvinna", "Woman"), ("2", "Man", "Man")]
    data = question_data("kon", "single_choice", "Kön", choices=choices, condition_expression=later)
    response = edit_question(admin, slug, "kon", data, expect=422)
    assert "visas beroende på svaret på prio, som kommer senare" in error_summary(response.text)
    assert spec_of(slug).by_code["kon"].condition is None


def test_a_survey_closed_by_its_schedule_says_so_to_staff(admin, client) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    open_survey(admin, slug)
    settings = {
        "title_sv": "Cykla i Sundsvall",
        "audience": "residents",
        "identity_mode": "anonymous",
        "access": "open",
        "closes_at": "2024-01-01T10:00",
    }
    assert post_form(admin, f"/admin/surveys/{slug}/settings", settings).status_code == 303
    survey_cache.clear()
    assert client.get(f"/s/{slug}").status_code == 410
    page = admin.get(f"/admin/surveys/{slug}").text
    status = page.split('id="survey-status">')[1].split("</dd>")[0]
    assert "Öppen" in status and "stängd enligt schemat" in status


def test_the_survey_page_lists_what_is_missing_before_residents_answer(admin) -> None:  # type: ignore[no-untyped-def]
    from consult.surveys.schema import ChoiceSpec, PageSpec, QuestionSpec
    from tests.factories import store

    spec = store(
        SurveySpec(
            slug=f"luckor-{uuid.uuid4().hex[:8]}",
            title={"sv": "Luckor", "en": "Gaps"},
            pages=(
                PageSpec(
                    questions=(
                        QuestionSpec(code="trafik", type="long_text", text={"sv": "Vad behövs?"}),
                        QuestionSpec(
                            code="val",
                            type="single_choice",
                            text={"sv": "Välj", "en": "Choose"},
                            choices=(
                                ChoiceSpec(code=1, label={"sv": "Ja", "en": "Yes"}),
                                ChoiceSpec(code=2, label={"sv": "Nej"}),
                            ),
                        ),
                        QuestionSpec(code="klar", type="short_text", text={"sv": "Klar", "en": "Done"}),
                    )
                ),
            ),
        )
    )
    page = admin.get(f"/admin/surveys/{spec.slug}").text
    gaps = page.split('id="gaps-heading"')[1].split("</section>")[0]
    assert "Det finns ingen integritetstext." in gaps and "Ingen gallringstid är satt" in gaps
    assert "trafik saknar engelska: frågetext." in gaps and "val saknar engelska: svarsalternativ." in gaps
    assert "klar saknar" not in gaps
    assert f'href="/admin/surveys/{spec.slug}/questions/trafik/edit"' in gaps
    swedish_only = store(
        SurveySpec(
            slug=f"svensk-{uuid.uuid4().hex[:8]}",
            title={"sv": "Bara svenska"},
            pages=(PageSpec(questions=(QuestionSpec(code="a", type="short_text", text={"sv": "A"}),)),),
        )
    )
    gaps = admin.get(f"/admin/surveys/{swedish_only.slug}").text.split('id="gaps-heading"')[1].split("</section>")[0]
    assert "erbjuds bara på svenska" in gaps and "saknar engelska" not in gaps


def test_untypeable_characters_are_dropped_and_a_long_title_is_refused(admin) -> None:  # type: ignore[no-untyped-def]
    """A NUL byte was stored (PostgreSQL refuses it in text) and broke the XLSForm download; a title
    of 5,000 characters filled every list."""
    from consult.authoring.forms import SettingsForm

    form = SettingsForm.from_form({"title_sv": "T\x00itel\x07 ", "title_en": "x" * 201})
    assert form.title_sv == "Titel"
    _fields, _cycle, errors = form.parse(set())
    assert [(e.field, e.params) for e in errors] == [("title_en", {"max": 200})]


def test_an_opening_time_the_clocks_skip_is_refused_with_a_reason() -> None:
    from consult.authoring.forms import SettingsForm

    form = SettingsForm.from_form({"title_sv": "Titel", "opens_at": "2026-03-29 02:30"})
    _fields, _cycle, errors = form.parse(set())
    assert [(e.field, e.message.split(":")[0]) for e in errors] == [("opens_at", "That time does not exist in Sweden")]
