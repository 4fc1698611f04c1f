"""`consult import-xlsform` and `consult export-xlsform`: surveys to and from XLSForm workbooks."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from sqlmodel import Session, select

from consult.surveys.models import Survey, SurveyStatus
from consult.surveys.schema import SurveySpec


def register(app: typer.Typer) -> None:
    app.command("import-xlsform")(import_xlsform)
    app.command("export-xlsform")(export_xlsform)


def import_xlsform(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The XLSForm workbook (.xlsx)."),
    slug: str | None = typer.Option(None, help="The survey's address; overrides the form's form_id."),
    status: SurveyStatus | None = typer.Option(None, help="Overrides the form's consult_status (default draft)."),
    strategy_version: str | None = typer.Option(
        None, "--strategy-version", help="Key of the strategy version that consult_priority columns refer to."
    ),
) -> None:
    """Create a survey from an XLSForm workbook. Nothing is stored if the form has any problem."""
    from consult.db import session_scope
    from consult.surveys.service import save_survey
    from consult.surveys.xlsform import read_xlsform

    result = read_xlsform(file, slug=slug)
    for problem in result.problems:
        typer.echo(str(problem), err=True)
    if result.problems or result.spec is None:
        typer.echo(f"Nothing imported: {len(result.problems)} problem(s) in {file.name}.", err=True)
        raise typer.Exit(1)
    spec = result.spec.model_copy(update={"status": status}) if status else result.spec
    with session_scope() as session:
        if session.exec(select(Survey.id).where(Survey.slug == spec.slug)).first() is not None:
            _fail(f"A survey with the address {spec.slug} exists already; choose another with --slug.")
        version_id = _strategy_version_id(session, spec, strategy_version)
        save_survey(session, spec=spec, strategy_version_id=version_id)
    typer.echo(
        f"Imported survey {spec.slug} ({spec.status.value}): {len(spec.pages)} pages, {len(spec.questions)} questions."
    )


def _priority_keys(spec: SurveySpec) -> set[str]:
    keys = {q.priority_key for q in spec.questions if q.priority_key}
    keys |= {c.priority_key for q in spec.questions for c in q.choices if c.priority_key}
    return keys


def _strategy_version_id(session: Session, spec: SurveySpec, version_key: str | None) -> int | None:
    """The version whose items consult_priority names; unresolved keys would be lost, so they stop the import."""
    from consult.strategy import service as strategy

    keys = _priority_keys(spec)
    if version_key is None:
        if keys:
            _fail(f"The form links to strategy items ({', '.join(sorted(keys))}); give --strategy-version.")
        return None
    version = strategy.version_by_key(session, key=version_key)
    if version is None or version.id is None:
        _fail(f"No strategy version {version_key}.")
    known = {item.key for item in strategy.items(session, version_id=version.id)}
    missing = keys - known
    if missing:
        _fail(f"Strategy version {version_key} has no item {', '.join(sorted(missing))}.")
    return version.id


def export_xlsform(
    survey: str = typer.Argument(..., help="The survey's address (slug)."),
    file: Path = typer.Argument(..., dir_okay=False, help="Where to write the workbook (.xlsx)."),
) -> None:
    """Write a survey as an XLSForm workbook."""
    from consult.db import session_scope
    from consult.surveys.service import load_spec
    from consult.surveys.xlsform import write_xlsform

    with session_scope() as session:
        spec = load_spec(session, slug=survey)
    if spec is None:
        _fail(f"No survey {survey}.")
    file.write_bytes(write_xlsform(spec))
    typer.echo(f"Wrote {survey} to {file}: {len(spec.pages)} pages, {len(spec.questions)} questions.")


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)
