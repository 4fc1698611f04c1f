"""Staff accounts managed in the browser: an admin adds people with a temporary password shown once,
changes roles, deactivates (ending open sessions) and reactivates, resets passwords; everyone changes
their own password, and a temporary one must be replaced before anything else. No one can lock
themselves out, and the audit log never holds a password."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from consult.accounts.models import AuditEvent, User
from tests.staff import create_staff, csrf_from, logged_in, new_client

PASSWORD = "staff-accounts-2025"


@pytest.fixture(scope="module")
def staff(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return create_staff("accounts-page", PASSWORD)


@pytest.fixture()
def admin(app, staff):  # type: ignore[no-untyped-def]
    return logged_in(app, staff["admin"], PASSWORD)


def _user(email: str) -> User:
    from consult.db import session_scope

    with session_scope() as session:
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        session.expunge(user)
        return user


def _temporary_password(html: str) -> str:
    match = re.search(r'<code class="receipt">([^<]+)</code>', html)
    assert match, "no temporary password on the page"
    return match.group(1)


def _can_log_in(app, email: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    from consult.accounts import service

    service.reset_login_limits()
    client = new_client(app)
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"csrftoken": token, "email": email, "password": password}).status_code == 303


def _replace_password(client, current: str, new: str, repeated: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/personal/losenord").text)
    form = {"csrftoken": token, "current": current, "new": new, "repeated": new if repeated is None else repeated}
    return client.post("/personal/losenord", data=form)


def _person_with_own_password(app, admin, *, name: str, role: str):  # type: ignore[no-untyped-def]
    """A new person added by the admin, logged in, who has replaced the temporary password:
    their client, e-mail address and password."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@region.se"
    temporary = _temporary_password(_add(admin, email=email, name=name, role=role).text)
    client = logged_in(app, email, temporary)
    password = f"{name.lower()}s eget långa lösenord"
    assert _replace_password(client, temporary, password).status_code == 200
    return client, email, password


def _add(admin, **form: str):  # type: ignore[no-untyped-def]
    token = csrf_from(admin.get("/admin/konton").text)
    return admin.post("/admin/konton", data={"csrftoken": token, **form})


def test_only_admins_manage_accounts_and_find_the_page(app, staff, admin) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/admin/konton"' in admin.get("/personal").text
    assert admin.get("/admin/konton").status_code == 200
    analyst = logged_in(app, staff["analyst"], PASSWORD)
    assert 'href="/admin/konton"' not in analyst.get("/personal").text
    assert analyst.get("/admin/konton").status_code == 403
    token = csrf_from(analyst.get("/personal/losenord").text)
    refused = analyst.post("/admin/konton", data={"csrftoken": token, "email": "x@y.se", "role": "admin"})
    assert refused.status_code == 403


def test_an_admin_adds_a_person_who_logs_in_with_the_temporary_password(app, admin) -> None:  # type: ignore[no-untyped-def]
    bad = _add(admin, email="inte en adress", name="Ada", role="analyst")
    assert bad.status_code == 422 and 'href="#field-email"' in bad.text and 'value="Ada"' in bad.text
    no_role = _add(admin, email="ada@example.se", name="Ada", role="chef")
    assert no_role.status_code == 422 and "Välj en roll." in no_role.text

    email = f"ada-{uuid.uuid4().hex[:6]}@region.se"
    added = _add(admin, email=email, name="Ada Lind", role="analyst")
    assert added.status_code == 200 and added.headers["cache-control"] == "no-store"
    assert "Tillfälligt lösenord för Ada Lind" in added.text
    password = _temporary_password(added.text)
    assert _can_log_in(app, email, password)
    again = _add(admin, email=email.upper(), name="Ada igen", role="analyst")
    assert again.status_code == 422 and "Det finns redan en användare" in again.text

    from consult.db import session_scope

    with session_scope() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "user.create", AuditEvent.target == f"user:{_user(email).id}")
        ).scalar_one()
        assert event.details == {"role": "analyst"} and password not in str(event.details)


def test_deactivating_ends_the_persons_session_and_reactivating_restores_it(app, admin) -> None:  # type: ignore[no-untyped-def]
    bo, email, password = _person_with_own_password(app, admin, name="Bo", role="interviewer")
    assert bo.get("/intervju").status_code == 200
    user_id = _user(email).id
    token = csrf_from(admin.get("/admin/konton").text)
    done = admin.post(f"/admin/konton/{user_id}/atkomst", data={"csrftoken": token, "active": "0"})
    assert done.status_code == 303 and "Kontot ändrades." in admin.get(done.headers["location"]).text
    assert bo.get("/intervju").status_code == 303  # sent to the login page
    assert not _can_log_in(app, email, password)
    admin.post(f"/admin/konton/{user_id}/atkomst", data={"csrftoken": token, "active": "1"})
    assert _can_log_in(app, email, password)

    admin.post(f"/admin/konton/{user_id}/roll", data={"csrftoken": token, "role": "analyst"})
    assert _user(email).role == "analyst"
    bad_role = admin.post(f"/admin/konton/{user_id}/roll", data={"csrftoken": token, "role": "kung"})
    assert bad_role.status_code == 422 and _user(email).role == "analyst"

    reset = admin.post(f"/admin/konton/{user_id}/losenord", data={"csrftoken": token})
    new_password = _temporary_password(reset.text)
    assert new_password != password and _can_log_in(app, email, new_password) and not _can_log_in(app, email, password)


def test_no_admin_can_lock_themselves_out(staff, admin) -> None:  # type: ignore[no-untyped-def]
    me = _user(staff["admin"])
    page = admin.get("/admin/konton").text
    own_row = page.split(f'id="account-{me.id}"')[1].split("</tr>")[0]
    assert "/atkomst" not in own_row and 'href="/personal/losenord"' in own_row
    token = csrf_from(page)
    for path, form in (
        (f"/admin/konton/{me.id}/atkomst", {"active": "0"}),
        (f"/admin/konton/{me.id}/roll", {"role": "analyst"}),
    ):
        refused = admin.post(path, data={"csrftoken": token, **form})
        assert refused.status_code == 422 and "Du kan inte ändra din egen roll eller åtkomst" in refused.text
    assert _user(staff["admin"]).active and _user(staff["admin"]).role == "admin"


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app) -> None:  # type: ignore[no-untyped-def]
    from consult.accounts import staff as accounts_staff
    from consult.db import session_scope

    with session_scope() as session:
        others = session.execute(select(User).where(User.role == "admin", User.active)).scalars().all()
        keep = others[0]
        for other in others[1:]:
            other.active = False  # rolled back below: only this transaction sees one admin
        session.flush()
        helper = User(email=f"helper-{uuid.uuid4().hex[:6]}@x.se", role="admin", password_hash="x", active=True)
        session.add(helper)
        session.flush()
        with pytest.raises(accounts_staff.StaffProblem):
            accounts_staff.set_active(session, user_id=keep.id, active=False, actor_id=keep.id)
        accounts_staff.set_active(session, user_id=helper.id, active=False, actor_id=keep.id)
        with pytest.raises(accounts_staff.StaffProblem) as last:
            accounts_staff.set_role(session, user_id=keep.id, role="analyst", actor_id=helper.id)
        assert "last active admin" in last.value.message
        session.rollback()


def test_everyone_changes_their_own_password(app, staff) -> None:  # type: ignore[no-untyped-def]
    email = staff["interviewer"]
    me = logged_in(app, email, PASSWORD)
    token = csrf_from(me.get("/personal/losenord").text)
    for form, field in (
        (
            {"current": "fel-lösenord-1", "new": "ett nytt långt lösenord", "repeated": "ett nytt långt lösenord"},
            "current",
        ),
        ({"current": PASSWORD, "new": "kort", "repeated": "kort"}, "new"),
        ({"current": PASSWORD, "new": "ett nytt långt lösenord", "repeated": "ett annat långt lösenord"}, "repeated"),
    ):
        refused = me.post("/personal/losenord", data={"csrftoken": token, **form})
        assert refused.status_code == 422 and f'href="#field-{field}"' in refused.text
        assert 'value="' + form["current"] not in refused.text  # passwords are never echoed
    new = "tre ord som inte hör ihop"
    done = me.post("/personal/losenord", data={"csrftoken": token, "current": PASSWORD, "new": new, "repeated": new})
    assert done.status_code == 200 and "Ditt lösenord byttes." in done.text
    # The page says the change is done, not that it is still to do.
    assert re.search(r"<h1[^>]*>Lösenordet är bytt</h1>", done.text) and "Byt ditt lösenord" not in done.text
    assert "<title>Lösenordet är bytt" in done.text and 'type="password"' not in done.text
    assert _can_log_in(app, email, new) and not _can_log_in(app, email, PASSWORD)


# --- a temporary password must be replaced first ---------------------------------------------------


def _sent_to_change_password(response, back: str) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 303 and response.headers["location"] == f"/personal/losenord?next={back}"


def test_a_new_account_must_replace_its_temporary_password_before_anything_else(app, admin) -> None:  # type: ignore[no-untyped-def]
    email = f"cai-{uuid.uuid4().hex[:6]}@region.se"
    temporary = _temporary_password(_add(admin, email=email, name="Cai", role="analyst").text)
    assert "Tillfälligt lösenord ännu inte bytt" in admin.get("/admin/konton").text.split(email)[1].split("</tr>")[0]
    cai = logged_in(app, email, temporary)

    workspace = cai.get("/arbetsyta")
    assert _sent_to_change_password(workspace, "%2Farbetsyta")
    assert _sent_to_change_password(cai.get("/personal"), "%2Fpersonal")
    htmx = cai.get("/arbetsyta", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["hx-redirect"] == "/personal/losenord?next=%2Farbetsyta"
    page = cai.get(workspace.headers["location"])
    assert page.status_code == 200
    assert "Du är inloggad med ett tillfälligt lösenord. Välj ett eget lösenord innan du fortsätter" in page.text
    assert 'href="/arbetsyta"' not in page.text and 'action="/logout"' in page.text  # no menu leads nowhere
    english = cai.get(workspace.headers["location"] + "&lang=en").text
    assert "You are logged in with a temporary password. Choose a password of your own" in english
    cai.get("/personal?lang=sv")

    # A form sent to another staff page is turned away too.
    token = csrf_from(page.text)
    refused = cai.post("/arbetsyta/strategi/plan/mal/nyckelord", data={"csrftoken": token, "keywords": "smyg"})
    assert refused.status_code == 303 and refused.headers["location"] == "/personal/losenord"

    again = _replace_password(cai, temporary, temporary)
    assert again.status_code == 422 and 'href="#field-new"' in again.text
    assert "Välj ett eget lösenord, inte det tillfälliga." in again.text
    assert _sent_to_change_password(cai.get("/arbetsyta"), "%2Farbetsyta")

    own = "cais eget långa lösenord"
    token = csrf_from(page.text)
    form = {"csrftoken": token, "current": temporary, "new": own, "repeated": own, "next": "/arbetsyta"}
    done = cai.post("/personal/losenord", data=form)
    assert done.status_code == 200 and "Ditt lösenord byttes." in done.text and 'href="/arbetsyta"' in done.text
    assert re.search(r"<h1[^>]*>Lösenordet är bytt</h1>", done.text) and "Byt ditt lösenord" not in done.text
    assert cai.get("/arbetsyta").status_code == 200
    assert cai.get("/personal").status_code == 200
    assert not _user(email).password_temporary

    audit = admin.get("/admin/audit", params={"action": "user.password_replaced"}).text
    assert "Tillfälligt lösenord ersatt av kontots innehavare" in audit and email in audit


def test_an_admin_reset_forces_a_new_password_again(app, admin) -> None:  # type: ignore[no-untyped-def]
    dan, email, _ = _person_with_own_password(app, admin, name="Dan", role="analyst")
    assert dan.get("/arbetsyta").status_code == 200

    token = csrf_from(admin.get("/admin/konton").text)
    reset = admin.post(f"/admin/konton/{_user(email).id}/losenord", data={"csrftoken": token})
    new_temporary = _temporary_password(reset.text)
    assert _sent_to_change_password(dan.get("/arbetsyta"), "%2Farbetsyta")  # the open session too
    token = csrf_from(dan.get("/personal/losenord").text)
    logged_out = dan.post("/logout", data={"csrftoken": token})  # logging out stays possible
    assert logged_out.status_code == 303 and logged_out.headers["location"] == "/login?logged_out=1"
    fresh = logged_in(app, email, new_temporary)
    assert _sent_to_change_password(fresh.get("/arbetsyta"), "%2Farbetsyta")
    assert _replace_password(fresh, new_temporary, "ännu ett eget lösenord").status_code == 200
    assert fresh.get("/arbetsyta").status_code == 200

    # Changing one's own password again never makes it temporary.
    assert _replace_password(fresh, "ännu ett eget lösenord", "ett tredje eget lösenord").status_code == 200
    assert fresh.get("/arbetsyta").status_code == 200 and not _user(email).password_temporary


def test_the_staff_api_answers_403_json_until_the_temporary_password_is_replaced(app, admin) -> None:  # type: ignore[no-untyped-def]
    email = f"eva-{uuid.uuid4().hex[:6]}@region.se"
    temporary = _temporary_password(_add(admin, email=email, name="Eva", role="interviewer").text)
    eva = logged_in(app, email, temporary)
    headers = {"X-Requested-With": "XMLHttpRequest"}
    refused = eva.post("/api/intervju/responses", json={}, headers=headers)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/json")
    assert refused.json()["code"] == "password_change_required"
    assert refused.json()["detail"] == "Ditt lösenord är tillfälligt. Välj ett eget lösenord innan du fortsätter."
    assert _replace_password(eva, temporary, "evas eget långa lösenord").status_code == 200
    body_wrong = eva.post("/api/intervju/responses", json={}, headers=headers)
    assert body_wrong.status_code == 422  # past the password: only the empty body is refused now


def test_accounts_made_by_the_cli_or_the_demo_are_not_temporary(app) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from consult.accounts import service
    from consult.cli import app as cli
    from consult.db import session_scope

    email = f"cli-{uuid.uuid4().hex[:6]}@region.se"
    made = CliRunner().invoke(cli, ["create-user", email, "--role", "analyst"], input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    assert logged_in(app, email, PASSWORD).get("/arbetsyta").status_code == 200
    with session_scope() as session:
        service.ensure_demo_users(session)
        # Those still on their demo password: another test may have had an admin reset one.
        demo = [service.get_user_by_email(session, email) for email, *_rest in service.demo_logins(session)]
        assert demo and not any(user.password_temporary for user in demo if user is not None)
