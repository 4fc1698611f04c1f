"""Deleting a survey nobody has answered ("Radera enkäten"): a confirmation page, then everything
that hung on the survey goes in one transaction; a survey with any stored response is refused
with nothing removed; only administrators may do it, and only with the form's CSRF token."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consult.accounts.models import AuditEvent, Role
from consult.campaigns.models import CampaignLink, SurveyInvitation
from consult.imports.models import ImportBatch
from consult.responses.models import Response, ResponseDraft
from consult.surveys.models import Choice, Question, Survey, SurveyPage
from consult.surveys.service import survey_cache
from consult.themes.models import CandidateTheme, SelectedTheme, ThemeRun
from consult.workspace.models import ExportJob, ResponseWeight, WeightTarget
from tests.staff import create_staff, logged_in
from tests.test_authoring import (
    YES_NO,
    add_question,
    answer_via_api,
    create_survey,
    csrf,
    error_summary,
    new_slug,
    open_survey,
    post_form,
    question_data,
    simple_survey,
    spec_of,
)

PASSWORD = "ett-långt-lösenord-för-radering"


@pytest.fixture(scope="module")
def staff(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One account per role (the demo consultation is loaded by `client`)."""
    return create_staff("radera", PASSWORD)


@pytest.fixture()
def admin(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff[Role.admin.value], PASSWORD)


@pytest.fixture()
def analyst(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff[Role.analyst.value], PASSWORD)


@pytest.fixture()
def interviewer(app, staff) -> TestClient:  # type: ignore[no-untyped-def]
    return logged_in(app, staff[Role.interviewer.value], PASSWORD)


def _survey_id(slug: str) -> int:
    survey_id = spec_of(slug).id
    assert survey_id is not None
    return survey_id


def _rows(model, survey_id: int) -> int:  # type: ignore[no-untyped-def]
    from consult.db import session_scope

    with session_scope() as session:
        return session.execute(select(func.count()).select_from(model).where(model.survey_id == survey_id)).scalar_one()


def _choices(survey_id: int) -> int:
    from consult.db import session_scope

    with session_scope() as session:
        questions = select(Question.id).where(Question.survey_id == survey_id)
        counted = select(func.count()).select_from(Choice).where(Choice.question_id.in_(questions))
        return session.execute(counted).scalar_one()


def _hang_things_on(slug: str) -> None:
    """What a survey collects before anyone submits: a campaign link, invitation codes, a
    respondent's unfinished draft (opened with one of the codes) and weighting targets."""
    from consult.campaigns import invitations
    from consult.campaigns.service import create_link
    from consult.db import session_scope
    from consult.responses.drafts import start_draft

    survey_id = _survey_id(slug)
    with session_scope() as session:
        create_link(session, survey_id=survey_id, name="Affisch i Kramfors", tag="affisch", user_id=None)
        invitations.create_codes(session, survey_id=survey_id, count=3, batch="Brev 1", user_id=None)
        invitation_id = session.execute(
            select(SurveyInvitation.id).where(SurveyInvitation.survey_id == survey_id)
        ).scalars().first()
        start_draft(session, survey_id=survey_id, language="sv", invitation_id=invitation_id)
        session.add(WeightTarget(survey_id=survey_id, variable="gender", code=1, share=1.0))


def _hang_analysis_on(slug: str, owner_email: str) -> None:
    """What staff may leave on a survey whose responses are all gone (deleted by their
    respondents or purged): a theme run with its candidates and an accepted theme, an export, a
    pending import and computed weights (kept without a foreign key)."""
    from datetime import timedelta

    from consult.accounts.models import User
    from consult.core.fields import utcnow
    from consult.db import session_scope

    spec = spec_of(slug)
    question_id = spec.by_code["fritt"].id
    with session_scope() as session:
        owner = session.execute(select(User.id).where(User.email == owner_email)).scalar_one()
        run = ThemeRun(survey_id=spec.id, question_id=question_id, status="done")
        session.add(run)
        session.flush()
        session.add(CandidateTheme(run_id=run.id, number=1, label="Cykelvägar"))
        session.add(SelectedTheme(question_id=question_id, run_id=run.id, label="Cykelvägar"))
        session.add(ExportJob(owner_id=owner, survey_id=spec.id, format="csv"))
        session.add(ImportBatch(token=uuid.uuid4().hex, survey_id=spec.id, survey_revision=spec.revision,
                                owner_id=owner, expires_at=utcnow() + timedelta(days=1)))
        session.add(ResponseWeight(response_id=10**9 + (spec.id or 0), survey_id=spec.id))


def _delete(client, slug: str):  # type: ignore[no-untyped-def]
    return post_form(client, f"/admin/surveys/{slug}/delete", {})


def test_an_unanswered_survey_is_deleted_with_everything_that_hung_on_it(admin, client, staff) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    open_survey(admin, slug)
    _hang_things_on(slug)
    _hang_analysis_on(slug, staff[Role.admin.value])
    survey_id = _survey_id(slug)
    question_id = spec_of(slug).by_code["fritt"].id or 0
    assert _choices(survey_id) == 2 and _themes_of(question_id) == 1

    overview = admin.get(f"/admin/surveys/{slug}")
    assert f'href="/admin/surveys/{slug}/delete"' in overview.text and "Radera enkäten" in overview.text
    confirm = admin.get(f"/admin/surveys/{slug}/delete")
    assert confirm.status_code == 200
    assert 'name="csrftoken"' in confirm.text and f'action="/admin/surveys/{slug}/delete"' in confirm.text
    listed = confirm.text[confirm.text.index('id="delete-summary"'):]
    removed_parts = ("1 sida", "3 frågor med sina svarsalternativ", "1 påbörjat svar", "1 kampanjlänk",
                     "3 inbjudningskoder")
    for removed in removed_parts:
        assert removed in listed, removed
    assert "kan inte ångras" in confirm.text

    done = _delete(admin, slug)
    assert done.status_code == 303 and done.headers["location"] == "/admin/surveys?done=removed"
    listing = admin.get(done.headers["location"])
    assert "Enkäten är raderad" in listing.text and f"/admin/surveys/{slug}\"" not in listing.text
    assert admin.get(f"/admin/surveys/{slug}").status_code == 404
    survey_cache.clear()
    assert client.get(f"/s/{slug}").status_code == 404
    hung = (SurveyPage, Question, ResponseDraft, CampaignLink, SurveyInvitation, WeightTarget, ThemeRun, ExportJob,
            ImportBatch, ResponseWeight)
    assert _themes_of(question_id) == 0
    for model in (Survey, *hung):
        counted = _rows(model, survey_id) if model is not Survey else _surveys_at(slug)
        assert counted == 0, model.__name__
    assert _choices(survey_id) == 0

    from consult.db import session_scope

    with session_scope() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "survey.delete", AuditEvent.target == slug)
        ).scalars().one()
        assert event.details["name"] == "Cykla i Sundsvall" and event.details["questions"] == 3
    log = admin.get("/admin/audit")
    assert "Enkät raderad" in log.text


def _themes_of(question_id: int) -> int:
    from consult.db import session_scope

    with session_scope() as session:
        counted = select(func.count()).select_from(SelectedTheme).where(SelectedTheme.question_id == question_id)
        return session.execute(counted).scalar_one()


def _surveys_at(slug: str) -> int:
    from consult.db import session_scope

    with session_scope() as session:
        return session.execute(select(func.count()).select_from(Survey).where(Survey.slug == slug)).scalar_one()


def test_a_survey_made_again_at_a_deleted_address_is_not_taken_for_the_old_one(admin, client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Workers cache definitions and public pages by address and revision: a new survey at a
    deleted one's address, made the same way, must not be served as the old one."""
    monkeypatch.setattr(survey_cache, "ttl", 0.0)  # every request checks the revision, as after two seconds

    reused = new_slug()

    def made(title_sv: str, title_en: str) -> str:
        slug = create_survey(admin, reused, title_sv=title_sv, title_en=title_en)
        add_question(admin, slug, question_data("pendlar", "single_choice", "Cyklar du?", choices=YES_NO))
        open_survey(admin, slug)
        return slug

    slug = made("Cykla i Sundsvall", "Cycling in Sundsvall")
    assert "Cykla i Sundsvall" in client.get(f"/s/{slug}").text
    assert _delete(admin, slug).status_code == 303
    made("Gå i Härnösand", "Walking in Härnösand")
    public = client.get(f"/s/{slug}")
    assert "Gå i Härnösand" in public.text and "Cykla i Sundsvall" not in public.text


def test_a_survey_with_a_response_is_not_deleted(admin, client) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    open_survey(admin, slug)
    _hang_things_on(slug)
    survey_cache.clear()
    answer_via_api(client, slug, {"pendlar": 1})
    survey_id = _survey_id(slug)
    before = {model: _rows(model, survey_id) for model in (SurveyPage, Question, ResponseDraft, CampaignLink,
                                                          SurveyInvitation, WeightTarget, Response)}

    confirm = admin.get(f"/admin/surveys/{slug}/delete")
    assert confirm.status_code == 200
    assert "kan inte raderas" in confirm.text and "Stäng enkäten" in confirm.text
    assert f'action="/admin/surveys/{slug}/delete"' not in confirm.text  # no button that would fail

    refused = _delete(admin, slug)
    assert refused.status_code == 422
    summary = error_summary(refused.text)
    assert "kan inte raderas" in summary and "Stäng enkäten i stället" in summary
    assert {model: _rows(model, survey_id) for model in before} == before
    assert _surveys_at(slug) == 1 and _choices(survey_id) == 2

    from consult.db import session_scope

    with session_scope() as session:
        assert not session.execute(
            select(AuditEvent).where(AuditEvent.action == "survey.delete", AuditEvent.target == slug)
        ).first()

    # A withdrawn response is a stored response too.
    with session_scope() as session:
        response = session.execute(select(Response).where(Response.survey_id == survey_id)).scalars().one()
        response.status = "withdrawn"
        session.add(response)
    assert _delete(admin, slug).status_code == 422 and _surveys_at(slug) == 1


def test_only_administrators_delete_surveys(admin, analyst, interviewer) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    path = f"/admin/surveys/{slug}/delete"
    token = csrf(analyst.get(f"/admin/surveys/{slug}").text)
    assert f'href="{path}"' not in analyst.get(f"/admin/surveys/{slug}").text
    assert analyst.get(path).status_code == 403
    assert analyst.post(path, data={"csrftoken": token}).status_code == 403
    interviewer_token = csrf(interviewer.get("/personal").text)
    assert interviewer.get(path).status_code == 403
    assert interviewer.post(path, data={"csrftoken": interviewer_token}).status_code == 403
    assert _surveys_at(slug) == 1


def test_deleting_without_the_csrf_token_is_refused(admin) -> None:  # type: ignore[no-untyped-def]
    slug = simple_survey(admin)
    admin.get(f"/admin/surveys/{slug}/delete")
    response = admin.post(f"/admin/surveys/{slug}/delete", data={})
    assert response.status_code == 403
    forged = admin.post(f"/admin/surveys/{slug}/delete", data={"csrftoken": "not-the-token"})
    assert forged.status_code == 403
    assert _surveys_at(slug) == 1


def test_a_response_stored_after_the_check_stops_the_deletion(admin, client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A respondent may send the last page between the check and the deletion: the response is
    never deleted with the survey, so the deletion fails on it and nothing at all is removed."""
    from consult.authoring import service
    from consult.responses.models import Answer

    slug = simple_survey(admin)
    open_survey(admin, slug)
    survey_cache.clear()
    answer_via_api(client, slug, {"pendlar": 2, "varfor": "För långt"})
    survey_id = _survey_id(slug)
    monkeypatch.setattr(service, "deletion_refusal", lambda session, survey: None)  # as if checked before it came

    refused = _delete(admin, slug)
    assert refused.status_code == 422 and "kan inte raderas" in error_summary(refused.text)
    assert _surveys_at(slug) == 1 and _rows(Response, survey_id) == 1 and _rows(Question, survey_id) == 3

    from consult.db import session_scope

    with session_scope() as session:
        response_id = session.execute(select(Response.id).where(Response.survey_id == survey_id)).scalar_one()
        answers = session.execute(select(func.count()).select_from(Answer).where(Answer.response_id == response_id))
        assert answers.scalar_one() == 2
