"""`consult remiss-demo` and `consult remiss-links ROUND`."""

from __future__ import annotations

import typer


def remiss_demo_command() -> None:
    """Load the demo remiss: draft sections of rus-2025, its round and demo organisations."""
    from consult.db import session_scope
    from consult.remiss.service import load_demo_remiss

    with session_scope() as session:
        created = load_demo_remiss(session)
    typer.echo(
        f"Remiss demo: {created['sections']} sections, {created['organisations']} organisations and "
        f"{created['answers']} answers added. Public page: /remiss/rus-2025"
    )


def remiss_links_command(
    round_key: str = typer.Argument(..., help="The round's key, as in /remiss/{key}."),
    base_url: str = typer.Option(
        "http://127.0.0.1:8000", "--base-url", envvar="CONSULT_BASE_URL", help="The site's address for the links."
    ),
) -> None:
    """Print the organisations' personal links as CSV (they open answer forms: keep them private)."""
    from consult.db import session_scope
    from consult.remiss.service import links_csv, round_by_key

    with session_scope() as session:
        remiss_round = round_by_key(session, key=round_key)
        if remiss_round is None or remiss_round.id is None:
            typer.echo(f"No remiss round {round_key!r}.", err=True)
            raise typer.Exit(1)
        typer.echo(links_csv(session, round_id=remiss_round.id, base_url=base_url).lstrip("\ufeff"), nl=False)


def register(app: typer.Typer) -> None:
    app.command("remiss-demo")(remiss_demo_command)
    app.command("remiss-links")(remiss_links_command)
