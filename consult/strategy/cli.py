"""`consult import-strategy`: a region's own strategy version from a YAML or JSON file."""

from __future__ import annotations

from pathlib import Path

import typer


def import_strategy_command(
    file: Path = typer.Argument(..., help="A YAML or JSON file in the shape of the seed's strategy.yaml."),
    key: str = typer.Option(..., "--key", help="The version's key, e.g. rus-2031 (used in addresses)."),
) -> None:
    """Import a strategy version (vision, goal areas with priorities, principles). Nothing is stored
    unless the whole file can be read."""
    from consult.accounts.service import record_audit
    from consult.db import session_scope
    from consult.strategy import importing

    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"Error: cannot read {file}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from exc
    try:
        with session_scope() as session:
            version = importing.import_strategy(session, key=key, data=data)
            counts = importing.parse_strategy(importing.read_file(data)).count()
            record_audit(
                session,
                user_id=None,
                action="strategy.import",
                target=f"strategy_version:{version.id}",
                details={"key": version.key, "file": file.name, "via": "cli"},
            )
            name, key = version.name, version.key
    except importing.ImportRefused as refused:
        for problem in refused.problems:
            typer.echo(f"Error ({'--key' if problem.field == 'key' else file.name}): {problem.text(str)}", err=True)
        raise typer.Exit(1) from refused
    typer.echo(
        f"Imported {name} as {key}: {counts['goal_areas']} goal areas, "
        f"{counts['priorities']} priorities, {counts['principles']} principles."
    )


def create_review_command(
    key: str = typer.Argument(..., help="The review's key, e.g. oversyn-2029 (used in addresses)."),
    name: str = typer.Option(..., "--name", help="The review's name in Swedish."),
    name_en: str = typer.Option("", "--name-en", help="The review's name in English."),
    mandate_period: str = typer.Option(..., "--mandate-period", help="First and last year, e.g. 2027-2030."),
    version: str = typer.Option(..., "--version", help="Key of the strategy version under review."),
    proposed: str = typer.Option("", "--proposed", help="Key of the proposed strategy version, if any."),
) -> None:
    """Create a review cycle with the standard phases (no dates yet: set them at /admin/oversyn)."""
    from consult.accounts.service import record_audit
    from consult.db import session_scope
    from consult.strategy import service

    try:
        with session_scope() as session:
            ids = {v.key: str(v.id) for v in service.versions(session)}
            form = service.NewCycle(
                key=key,
                name_sv=name,
                name_en=name_en,
                mandate_period=mandate_period,
                # An unknown key is passed on as it is, so the check names the option.
                current_version=ids.get(version, f"unknown:{version}"),
                proposed_version=ids.get(proposed, f"unknown:{proposed}") if proposed else "",
            )
            cycle = service.create_cycle_from_form(session, form=form)
            record_audit(
                session,
                user_id=None,
                action="cycle.create",
                target=f"cycle:{cycle.id}",
                details={"key": cycle.key, "mandate_period": cycle.mandate_period, "via": "cli"},
            )
            created = (cycle.key, cycle.mandate_period)
    except service.CycleRefused as refused:
        options = {"name_sv": "--name", "name_en": "--name-en", "mandate_period": "--mandate-period",
                   "current_version": "--version", "proposed_version": "--proposed", "key": "KEY"}
        for field_name, (message, params) in refused.errors.items():
            typer.echo(f"Error ({options.get(field_name, field_name)}): {message % params if params else message}",
                       err=True)
        raise typer.Exit(1) from refused
    typer.echo(f"Created the review {created[0]} ({created[1]}) with {len(service.STANDARD_PHASES)} phases.")


def register(app: typer.Typer) -> None:
    app.command("import-strategy")(import_strategy_command)
    app.command("create-review")(create_review_command)
