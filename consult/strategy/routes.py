"""The strategy under review, for analysts: its versions side by side, and the keywords that decide
which answers and themes speak to each priority and principle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.datastructures import UploadFile

from consult.accounts.deps import require_role
from consult.accounts.models import Role, User
from consult.accounts.service import record_audit, register_staff_link
from consult.core.fields import pick
from consult.core.formatting import long_date
from consult.core.i18n import N_, _, current_language
from consult.core.templating import render, templates
from consult.db import session_scope
from consult.strategy import importing, removal, service
from consult.strategy.models import CyclePhase, ReviewCycle, StrategyItem, StrategyVersion

router = APIRouter(include_in_schema=False)
# The theme pages and the report name priorities by their Swedish titles: shown in the page's language.
templates.env.globals["strategy_title"] = lambda title: service.localized_title(title or "", current_language.get())
templates.env.globals["version_name"] = lambda version: service.version_name(version, current_language.get())
analyst = require_role(Role.analyst.value)
admin = require_role(Role.admin.value)
register_staff_link("/arbetsyta/strategi", N_("Strategy and keywords"), {Role.analyst.value})

Key = Annotated[str, Path(max_length=64)]
INDEX = "/arbetsyta/strategi"
# Longer than the service allows, so an over-long list gets its message beside the field.
MAX_KEYWORDS_FORM = 100_000


@router.get("/arbetsyta/strategi")
def versions_page(
    request: Request,
    user: User = Depends(analyst),
    importerad: Annotated[str, Query(max_length=64)] = "",
    raderad: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return _versions_page(request, user, imported=importerad, deleted=raderad)


def _versions_page(
    request: Request,
    user: User,
    *,
    imported: str = "",
    deleted: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    with session_scope() as session:
        every = service.versions(session)
        counts = {v.key: _counts(service.outline(session, version=v)) for v in every}
    context = {
        "versions": every,
        "counts": counts,
        # The notice names a version that exists: an address with any other value shows none.
        "imported": next((v for v in every if v.key == imported), None) if imported else None,
        "deleted": deleted if deleted and all(v.key != deleted for v in every) else "",
        "can_import": user.role == Role.admin.value,
        "values": values or {"key": ""},
        "errors": errors or {},
        "max_mb": importing.MAX_FILE_BYTES // 1_000_000,
    }
    return render(request, "strategy/index.html", context, 422 if errors else 200)


@router.post("/arbetsyta/strategi/importera")
async def import_version(request: Request, user: User = Depends(admin)) -> Response:
    form = await request.form()
    key = form.get("key")
    key = key.strip()[:64] if isinstance(key, str) else ""
    upload = form.get("file")
    data = await upload.read(importing.MAX_FILE_BYTES + 1) if isinstance(upload, UploadFile) else b""
    try:
        with session_scope() as session:
            try:
                version = importing.import_strategy(session, key=key, data=data)
            except importing.ImportRefused as refused:
                errors = {problem.field: problem.text(_) for problem in refused.problems}
                return _versions_page(request, user, values={"key": key}, errors=errors)
            record_audit(
                session,
                user_id=user.id,
                action="strategy.import",
                target=f"strategy_version:{version.id}",
                details={"key": version.key, "file": getattr(upload, "filename", "") or ""},
                request=request,
            )
    except IntegrityError:
        # Another admin imported a version with the same key between our check and our commit.
        errors = {"key": _(importing.KEY_IN_USE) % {"key": key}}
        return _versions_page(request, user, values={"key": key}, errors=errors)
    return RedirectResponse(f"/arbetsyta/strategi?importerad={key}", status_code=303)


def _counts(outline: service.Outline) -> dict[str, int]:
    return {
        "goal_areas": len(outline.goal_areas),
        "priorities": sum(len(priorities) for _, priorities in outline.goal_areas),
        "principles": len(outline.principles),
    }


@router.get("/arbetsyta/strategi/jamfor")
def compare_page(
    request: Request,
    user: User = Depends(analyst),
    fran: Annotated[str, Query(max_length=64)] = "",
    till: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    with session_scope() as session:
        every = service.versions(session)
        by_key = {v.key: v for v in every}
        old = by_key.get(fran) or (every[-2] if len(every) > 1 else None)
        new = by_key.get(till) or (every[-1] if every else None)
        errors = {
            field: _("Choose a strategy version from the list.")
            for field, value in (("fran", fran), ("till", till))
            if value and value not in by_key
        }
        if not errors and old is not None and new is not None and old.key == new.key:
            errors["till"] = _("Choose two different versions.")
        changes = service.compare_versions(session, old=old, new=new) if old and new and not errors else []
    context = {
        "versions": every,
        "old": old,
        "new": new,
        "changes": changes,
        "errors": errors,
        "Change": service.Change,
    }
    return render(request, "strategy/compare.html", context, 422 if errors else 200)


@router.get("/arbetsyta/strategi/{key}")
def version_page(
    request: Request, key: Key, user: User = Depends(analyst), sparat: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    with session_scope() as session:
        version = _version_or_404(session, key)
        outline = service.outline(session, version=version)
        keywords = {item.id: service.effective_keywords(item) for item in outline.items()}
    # The notice names a real item: an address with any other value shows none.
    saved = sparat if any(item.key == sparat for item in outline.items()) else ""
    context = {"outline": outline, "keywords": keywords, "saved": saved, "can_delete": user.role == Role.admin.value}
    return render(request, "strategy/version.html", context)


@router.get("/arbetsyta/strategi/{key}/radera")
def delete_version_form(request: Request, key: Key, user: User = Depends(admin)) -> Response:
    return _ask_before_removing(request, lambda session: _version_or_404(session, key))


@router.post("/arbetsyta/strategi/{key}/radera")
def delete_version(request: Request, key: Key, user: User = Depends(admin)) -> Response:
    return _remove(request, user, lambda session: _version_or_404(session, key), done=f"{INDEX}?raderad={key}")


def _version_or_404(session: Session, key: str) -> StrategyVersion:
    version = service.version_by_key(session, key=key)
    if version is None:
        raise HTTPException(404, _("There is no such strategy version."))
    return version


def _item_or_404(session: Session, version_key: str, item_key: str) -> tuple[StrategyVersion, StrategyItem]:
    found = service.item_by_key(session, version_key=version_key, item_key=item_key)
    if found is None:
        raise HTTPException(404, _("There is no such priority or principle."))
    return found


def _keywords_page(
    request: Request,
    version: StrategyVersion,
    item: StrategyItem,
    *,
    text: str,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "version": version,
        "item": item,
        "text": text,
        "errors": errors or {},
        "defaults": service.default_keywords(item),
        "max_keywords": service.MAX_KEYWORDS,
        "max_text": service.MAX_KEYWORDS_TEXT,
    }
    return render(request, "strategy/keywords.html", context, status_code)


@router.get("/arbetsyta/strategi/{key}/{item_key}/nyckelord")
def keywords_form(request: Request, key: Key, item_key: Key, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        version, item = _item_or_404(session, key, item_key)
        return _keywords_page(request, version, item, text="\n".join(service.effective_keywords(item)))


@router.post("/arbetsyta/strategi/{key}/{item_key}/nyckelord")
def save_keywords(
    request: Request,
    key: Key,
    item_key: Key,
    keywords: Annotated[str, Form(max_length=MAX_KEYWORDS_FORM)] = "",
    user: User = Depends(analyst),
) -> Response:
    with session_scope() as session:
        version, item = _item_or_404(session, key, item_key)
        try:
            words = service.set_keywords(session, item=item, raw=keywords)
        except service.KeywordProblem as problem:
            return _keywords_page(
                request, version, item, text=keywords, errors={problem.field: problem.text(_)}, status_code=422
            )
        record_audit(
            session,
            user_id=user.id,
            action="strategy.keywords",
            target=f"strategy_item:{item.id}",
            details={"version": version.key, "item": item.key, "count": len(words)},
            request=request,
        )
    return RedirectResponse(f"/arbetsyta/strategi/{key}?sparat={item_key}#item-{item_key}", status_code=303)


@router.post("/arbetsyta/strategi/{key}/{item_key}/nyckelord/aterstall")
def reset_keywords(request: Request, key: Key, item_key: Key, user: User = Depends(analyst)) -> Response:
    with session_scope() as session:
        version, item = _item_or_404(session, key, item_key)
        service.reset_keywords(session, item=item)
        record_audit(
            session,
            user_id=user.id,
            action="strategy.keywords_reset",
            target=f"strategy_item:{item.id}",
            details={"version": version.key, "item": item.key},
            request=request,
        )
    return RedirectResponse(f"/arbetsyta/strategi/{key}?sparat={item_key}#item-{item_key}", status_code=303)


# --- the review cycles' phases (admins: they are on the public front page) ----------------------

register_staff_link("/admin/oversyn", N_("Review phases"), {Role.admin.value})


@router.get("/admin/oversyn")
def cycles_page(
    request: Request,
    user: User = Depends(admin),
    sparat: Annotated[str, Query(max_length=64)] = "",
    andrad: Annotated[str, Query(max_length=64)] = "",
    raderad: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    with session_scope() as session:
        rows = [(cycle, service.phases(session, cycle_id=cycle.id or 0)) for cycle in service.cycles(session)]
    # A removed review's notice names only a key that is really gone.
    deleted = raderad if raderad and all(cycle.key != raderad for cycle, _ in rows) else ""
    changed = next((cycle for cycle, _ in rows if cycle.key == andrad), None) if andrad else None
    context = {"rows": rows, "saved": sparat, "changed": changed, "deleted": deleted, "long_date": long_date}
    return render(request, "strategy/cycles.html", context)


CYCLE_FIELDS = ("key", "name_sv", "name_en", "mandate_period", "current_version", "proposed_version")


def _cycle_form_page(
    request: Request,
    *,
    form: service.NewCycle,
    cycle: ReviewCycle | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The form that creates a review, or (with `cycle`) changes one's name, period and versions."""
    with session_scope() as session:
        every = service.versions(session)
    context = {
        "versions": every,
        "form": form,
        "cycle": cycle,
        "errors": errors or {},
        "phases": service.STANDARD_PHASES,
    }
    return render(request, "strategy/new_cycle.html", context, status_code)


async def _posted_cycle_form(request: Request) -> service.NewCycle:
    raw = await request.form()
    return service.NewCycle(**{name: str(raw.get(name, "") or "")[:500] for name in CYCLE_FIELDS})


def _cycle_errors(refused: service.CycleRefused) -> dict[str, str]:
    """Each field's problem in the page's language, in the form's order."""
    errors = {}
    for field, (message, params) in refused.errors.items():
        values = {name: removal.describe_uses(v) if isinstance(v, dict) else v for name, v in params.items()}
        errors[field] = _(message) % values if values else _(message)
    return {name: errors[name] for name in CYCLE_FIELDS if name in errors}


@router.get("/admin/oversyn/ny")
def new_cycle_form(request: Request, user: User = Depends(admin)) -> Response:
    with session_scope() as session:
        every = service.versions(session)
    # The newest version is most often the one a new review starts from.
    return _cycle_form_page(request, form=service.NewCycle(current_version=str(every[-1].id) if every else ""))


@router.post("/admin/oversyn/ny")
async def create_cycle(request: Request, user: User = Depends(admin)) -> Response:
    form = await _posted_cycle_form(request)
    with session_scope() as session:
        try:
            cycle = service.create_cycle_from_form(session, form=form)
        except service.CycleRefused as refused:
            return _cycle_form_page(request, form=form, errors=_cycle_errors(refused), status_code=422)
        record_audit(
            session,
            user_id=user.id,
            action="cycle.create",
            target=f"cycle:{cycle.id}",
            details={"key": cycle.key, "mandate_period": cycle.mandate_period},
            request=request,
        )
        key = cycle.key
    return RedirectResponse(f"/admin/oversyn/{key}?skapad=1", status_code=303)


@router.get("/admin/oversyn/{key}/uppgifter")
def edit_cycle_form(request: Request, key: Key, user: User = Depends(admin)) -> Response:
    with session_scope() as session:
        cycle = _cycle_or_404(session, key)
    form = service.NewCycle(
        key=cycle.key,
        name_sv=cycle.name.get("sv", ""),
        name_en=cycle.name.get("en", ""),
        mandate_period=cycle.mandate_period,
        current_version=str(cycle.current_version_id or ""),
        proposed_version=str(cycle.proposed_version_id or ""),
    )
    return _cycle_form_page(request, form=form, cycle=cycle)


@router.post("/admin/oversyn/{key}/uppgifter")
async def update_cycle(request: Request, key: Key, user: User = Depends(admin)) -> Response:
    form = await _posted_cycle_form(request)
    with session_scope() as session:
        cycle = _cycle_or_404(session, key)
        try:
            changed = service.update_cycle_from_form(session, cycle=cycle, form=form)
        except service.CycleRefused as refused:
            return _cycle_form_page(request, form=form, cycle=cycle, errors=_cycle_errors(refused), status_code=422)
        if changed:
            record_audit(
                session,
                user_id=user.id,
                action="cycle.update",
                target=f"cycle:{cycle.id}",
                details={"key": cycle.key, "changed": changed},
                request=request,
            )
    return RedirectResponse(f"/admin/oversyn?andrad={key}", status_code=303)


@router.get("/admin/oversyn/{key}/radera")
def delete_cycle_form(request: Request, key: Key, user: User = Depends(admin)) -> Response:
    return _ask_before_removing(request, lambda session: _cycle_or_404(session, key))


@router.post("/admin/oversyn/{key}/radera")
def delete_cycle(request: Request, key: Key, user: User = Depends(admin)) -> Response:
    return _remove(request, user, lambda session: _cycle_or_404(session, key), done=f"/admin/oversyn?raderad={key}")


Removable = ReviewCycle | StrategyVersion


def _ask_before_removing(request: Request, load: Callable[[Session], Removable]) -> Response:
    with session_scope() as session:
        subject = load(session)
        found = removal.uses_of(session, subject)
    return _delete_page(request, subject=subject, found=found)


def _remove(request: Request, user: User, load: Callable[[Session], Removable], *, done: str) -> Response:
    with session_scope() as session:
        subject = load(session)
        try:
            removal.remove(session, subject)
        except removal.InUse as in_use:
            return _delete_page(request, subject=subject, found=in_use.uses, status_code=409)
        is_cycle = isinstance(subject, ReviewCycle)
        record_audit(
            session,
            user_id=user.id,
            action="cycle.delete" if is_cycle else "strategy.delete",
            target=f"cycle:{subject.id}" if is_cycle else f"strategy_version:{subject.id}",
            details={"key": subject.key},
            request=request,
        )
    return RedirectResponse(done, status_code=303)


def _delete_page(request: Request, *, subject: Removable, found: dict[str, int], status_code: int = 200) -> Response:
    """Asks before removing a review or a strategy version, or says what still uses it."""
    is_cycle = isinstance(subject, ReviewCycle)
    context = {
        "is_cycle": is_cycle,
        "subject": subject,
        "uses": removal.describe_uses(found) if found else "",
        "action": f"/admin/oversyn/{subject.key}/radera" if is_cycle else f"/arbetsyta/strategi/{subject.key}/radera",
        "back": "/admin/oversyn" if is_cycle else f"/arbetsyta/strategi/{subject.key}",
    }
    return render(request, "strategy/delete.html", context, status_code)


@router.get("/admin/oversyn/{key}")
def phases_form(
    request: Request, key: Key, user: User = Depends(admin), skapad: Annotated[str, Query(max_length=8)] = ""
) -> Response:
    with session_scope() as session:
        cycle = _cycle_or_404(session, key)
        steps = service.phases(session, cycle_id=cycle.id or 0)
        values = {p.key: (_iso(p.starts_on), _iso(p.ends_on)) for p in steps}
        return _phases_page(request, cycle, steps, values=values, created=skapad == "1")


@router.post("/admin/oversyn/{key}")
async def save_phases(request: Request, key: Key, user: User = Depends(admin)) -> Response:
    form = await request.form()
    with session_scope() as session:
        cycle = _cycle_or_404(session, key)
        steps = service.phases(session, cycle_id=cycle.id or 0)
        values = {
            p.key: (str(form.get(f"start-{p.key}", ""))[:20], str(form.get(f"end-{p.key}", ""))[:20]) for p in steps
        }
        dates, errors = service.parse_phase_dates(values)
        if errors:
            # The summary at the top lists errors from several phases: each says which.
            names = {p.key: pick(p.name, current_language.get()) for p in steps}
            translated = {field: f"{names[field.split('-', 1)[1]]}: {_(message)}" for field, message in errors.items()}
            return _phases_page(request, cycle, steps, values=values, errors=translated, status_code=422)
        changed = service.set_phase_dates(session, cycle_id=cycle.id or 0, dates=dates)
        record_audit(
            session,
            user_id=user.id,
            action="cycle.phases",
            target=f"cycle:{cycle.id}",
            details={"changed": changed},
            request=request,
        )
    return RedirectResponse(f"/admin/oversyn?sparat={key}", status_code=303)


def _cycle_or_404(session: Session, key: str) -> ReviewCycle:
    cycle = service.cycle_by_key(session, key=key)
    if cycle is None:
        raise HTTPException(404, _("There is no such review cycle."))
    return cycle


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _phases_page(
    request: Request,
    cycle: ReviewCycle,
    steps: list[CyclePhase],
    *,
    values: dict[str, tuple[str, str]],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    created: bool = False,
) -> Response:
    context = {"cycle": cycle, "steps": steps, "values": values, "errors": errors or {}, "created": created}
    return render(request, "strategy/phases.html", context, status_code)
