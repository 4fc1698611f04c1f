"""An open survey offered in English keeps its English texts: it opened only with all of them
(see test_a_survey_offered_in_english_opens_only_with_its_english_texts), so an edit of a question,
a choice, a page title or the settings that would leave one missing is refused beside the field,
in the editor's language, with nothing stored."""

from __future__ import annotations

import re
from dataclasses import asdict

import pytest
from fastapi.testclient import TestClient

from consult.accounts.models import Role
from tests.staff import create_staff, logged_in
from tests.test_authoring import (
    YES_NO,
    add_question,
    answer_via_api,
    create_survey,
    edit_question,
    error_summary,
    open_survey,
    post_form,
    question_data,
    revision_of,
    spec_of,
)

PASSWORD = "ett-långt-lösenord-för-engelska"


@pytest.fixture(scope="module")
def staff(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff("engelska", PASSWORD)


@pytest.fixture()
def admin(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff[Role.admin.value], PASSWORD)


def field_error(html: str, field: str) -> str:
    """The message shown beside a field (its error paragraph), and the field marked invalid."""
    match = re.search(rf'<p class="error-message" id="{re.escape(field)}-error">(.*?)</p>', html, re.S)
    assert match, f"no error beside {field}"
    assert re.search(rf'id="field-{re.escape(field)}"[^>]*aria-invalid="true"', html), field
    return match.group(1)


SCALE = {"low_sv": "Inte alls", "low_en": "Not at all", "high_sv": "Mycket", "high_en": "Very much"}
HELP = {"help_sv": "Välj ett svar.", "help_en": "Choose one answer."}
CHOICES = [("1", "Ja", "Yes"), ("2", "Nej", "No"), ("3", "Vet inte", "Don't know")]


def english_survey(admin: TestClient) -> str:
    """An open survey offered in English with every text in English: an introduction, a privacy
    notice, a titled page, a choice question with help text and a scale with end labels."""
    slug = create_survey(
        admin, intro_sv="Hjälp oss.", intro_en="Help us.", privacy_sv="Svaren sparas i två år.",
        privacy_en="The answers are kept for two years.", retention_days="730",
    )
    page = post_form(admin, f"/admin/surveys/{slug}/pages/1", {"title_sv": "Om resor", "title_en": "About travel"})
    assert page.status_code == 303
    add_question(admin, slug, question_data("pendlar", "single_choice", "Cyklar du?", choices=CHOICES, **HELP))
    add_question(admin, slug, question_data("nojd", "scale", "Hur nöjd är du?", **SCALE))
    open_survey(admin, slug)
    assert spec_of(slug).status == "open"
    return slug


def settings_of(slug: str, **changes: str) -> dict[str, str]:
    """The settings form as the page fills it in, with `changes`."""
    from consult.authoring.forms import SettingsForm

    values = asdict(SettingsForm.from_spec(spec_of(slug), None))
    values.pop("slug")
    return {**values, **changes}


def _refused_unchanged(slug: str, response, field: str, words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text[:2000]
    assert words in field_error(response.text, field)
    assert f'href="#field-{field}"' in error_summary(response.text)


def test_a_question_keeps_its_english_text_and_help(admin) -> None:  # type: ignore[no-untyped-def]
    slug = english_survey(admin)
    before, revision = spec_of(slug).by_code["pendlar"], revision_of(slug)
    data = question_data("pendlar", "single_choice", "Cyklar du ofta?", choices=CHOICES, **HELP)

    blank_text = edit_question(admin, slug, "pendlar", {**data, "text_en": ""}, expect=422)
    _refused_unchanged(slug, blank_text, "text_en", "Enkäten är öppen och erbjuds på engelska: skriv frågan")
    assert "Cyklar du ofta?" in blank_text.text  # what was typed is shown again

    blank_help = edit_question(admin, slug, "pendlar", {**data, "help_en": ""}, expect=422)
    _refused_unchanged(slug, blank_help, "help_en", "skriv hjälptexten på engelska också, eller ta bort den")
    assert spec_of(slug).by_code["pendlar"] == before and revision_of(slug) == revision

    # Removing the help text in both languages, or changing the English wording, is fine.
    edit_question(admin, slug, "pendlar", {**data, "help_sv": "", "help_en": "", "text_en": "Do you cycle often?"})
    assert spec_of(slug).by_code["pendlar"].help is None
    assert spec_of(slug).by_code["pendlar"].text == {"sv": "Cyklar du ofta?", "en": "Do you cycle often?"}


def test_a_choice_keeps_its_english_label(admin) -> None:  # type: ignore[no-untyped-def]
    slug = english_survey(admin)
    before = spec_of(slug).by_code["pendlar"]
    choices = [("1", "Ja", "Yes"), ("2", "Nej", ""), ("3", "Vet inte", "Don't know")]
    refused = edit_question(admin, slug, "pendlar", question_data("pendlar", "single_choice", "Cyklar du?",
                                                                  choices=choices, **HELP), expect=422)
    _refused_unchanged(slug, refused, "choice-1-en", "skriv svarsalternativet ”Nej” på engelska")
    # A new choice without English is refused too, beside its own row.
    added = [*CHOICES, ("", "Ibland", "")]
    refused = edit_question(admin, slug, "pendlar", question_data("pendlar", "single_choice", "Cyklar du?",
                                                                  choices=added, **HELP), expect=422)
    _refused_unchanged(slug, refused, "choice-3-en", "”Ibland”")
    assert spec_of(slug).by_code["pendlar"] == before


def test_a_scale_keeps_its_english_end_labels(admin) -> None:  # type: ignore[no-untyped-def]
    slug = english_survey(admin)
    before = spec_of(slug).by_code["nojd"]
    refused = edit_question(admin, slug, "nojd", question_data("nojd", "scale", "Hur nöjd är du?",
                                                               **{**SCALE, "high_en": ""}), expect=422)
    _refused_unchanged(slug, refused, "high_en", "skriv etiketten på engelska också")
    assert 'id="low_en-error"' not in refused.text
    assert spec_of(slug).by_code["nojd"] == before


def test_a_new_question_needs_its_english_text(admin) -> None:  # type: ignore[no-untyped-def]
    slug = english_survey(admin)
    refused = add_question(admin, slug, question_data("fritt", "long_text", "Något mer?", text_en=""), expect=422)
    _refused_unchanged(slug, refused, "text_en", "skriv frågan på engelska")
    assert "fritt" not in spec_of(slug).by_code


def test_a_page_keeps_its_english_title(admin) -> None:  # type: ignore[no-untyped-def]
    slug = english_survey(admin)
    refused = post_form(admin, f"/admin/surveys/{slug}/pages/1", {"title_sv": "Om resor", "title_en": ""})
    _refused_unchanged(slug, refused, "title_en", "skriv sidrubriken på engelska också")
    assert spec_of(slug).pages[0].title == {"sv": "Om resor", "en": "About travel"}
    # Without a title in either language the page has nothing to translate.
    assert post_form(admin, f"/admin/surveys/{slug}/pages/1", {"title_sv": "", "title_en": ""}).status_code == 303


def test_the_settings_keep_the_english_introduction_and_privacy_notice(admin) -> None:  # type: ignore[no-untyped-def]
    slug = english_survey(admin)
    revision = revision_of(slug)
    refused = post_form(admin, f"/admin/surveys/{slug}/settings", settings_of(slug, intro_en="", privacy_en=""))
    _refused_unchanged(slug, refused, "intro_en", "skriv inledningen på engelska också")
    _refused_unchanged(slug, refused, "privacy_en", "skriv integritetstexten på engelska också")
    assert spec_of(slug).intro == {"sv": "Hjälp oss.", "en": "Help us."} and revision_of(slug) == revision
    # Clearing the English title offers the survey in Swedish only: that stays possible.
    swedish_only = post_form(admin, f"/admin/surveys/{slug}/settings", settings_of(slug, title_en="", intro_en=""))
    assert swedish_only.status_code == 303
    # Offering it in English again, while the introduction lacks English, is refused at the title.
    again = post_form(admin, f"/admin/surveys/{slug}/settings", settings_of(slug, title_en="Cycling"))
    _refused_unchanged(slug, again, "title_en", "kan erbjudas på engelska bara när alla dess texter")
    assert "Den engelska inledningen saknas" in error_summary(again.text)
    assert spec_of(slug).title == {"sv": "Cykla i Sundsvall"}


def test_the_refusal_is_in_the_editors_language(admin) -> None:  # type: ignore[no-untyped-def]
    slug = english_survey(admin)
    admin.get("/admin/surveys?lang=en")
    try:
        data = question_data("pendlar", "single_choice", "Cyklar du?", choices=CHOICES, **HELP)
        refused = edit_question(admin, slug, "pendlar", {**data, "text_en": ""}, expect=422)
        assert "The survey is open and offered in English: write the question in English too." in field_error(
            refused.text, "text_en")
    finally:
        admin.get("/admin/surveys?lang=sv")


def test_an_answered_survey_keeps_its_english_wording_too(admin, client) -> None:  # type: ignore[no-untyped-def]
    slug = english_survey(admin)
    from consult.surveys.service import survey_cache

    survey_cache.clear()
    answer_via_api(client, slug, {"pendlar": 1})
    data = question_data("pendlar", "single_choice", "Cyklar du?", choices=CHOICES, **HELP)
    refused = edit_question(admin, slug, "pendlar", {**data, "text_en": ""}, expect=422)
    _refused_unchanged(slug, refused, "text_en", "skriv frågan på engelska")
    assert spec_of(slug).by_code["pendlar"].text["en"] == "Question pendlar"


def test_drafts_and_closed_surveys_may_lack_english(admin) -> None:  # type: ignore[no-untyped-def]
    """Only an open survey is held to it: a draft is checked when it opens, a closed one when it reopens."""
    slug = create_survey(admin)
    add_question(admin, slug, question_data("pendlar", "single_choice", "Cyklar du?", choices=YES_NO))
    edit_question(admin, slug, "pendlar", question_data("pendlar", "single_choice", "Cyklar du?", text_en="",
                                                        choices=YES_NO))
    edit_question(admin, slug, "pendlar", question_data("pendlar", "single_choice", "Cyklar du?", choices=YES_NO))
    open_survey(admin, slug)
    post_form(admin, f"/admin/surveys/{slug}/status", {"status": "closed"}, form_page=f"/admin/surveys/{slug}")
    edit_question(admin, slug, "pendlar", question_data("pendlar", "single_choice", "Cyklar du?", text_en="",
                                                        choices=YES_NO))
    assert "en" not in spec_of(slug).by_code["pendlar"].text


def test_the_survey_page_names_the_page_whose_title_lacks_english(admin) -> None:  # type: ignore[no-untyped-def]
    slug = create_survey(admin)
    post_form(admin, f"/admin/surveys/{slug}/pages", {}, form_page=f"/admin/surveys/{slug}")
    assert post_form(admin, f"/admin/surveys/{slug}/pages/2", {"title_sv": "Om dig", "title_en": ""}).status_code == 303
    overview = admin.get(f"/admin/surveys/{slug}").text
    gaps = overview[overview.index('id="gaps"'):]
    assert "Rubriken på sida 2 saknas på engelska." in gaps
    assert f'href="/admin/surveys/{slug}/pages/2"' in gaps[: gaps.index("</section>")]
