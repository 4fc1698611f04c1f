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


def register(app: typer.Typer) -> None:
    app.command("import-strategy")(import_strategy_command)
