"""The `consult` command: serve, migrate, load the demo, and the analysis tools."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="consult: consultation and survey platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, max=32, help="Worker processes; a dead worker is restarted."),
    reload: bool = typer.Option(False, help="Restart on code changes (development)."),
) -> None:
    """Serve the web app."""
    import uvicorn

    typer.echo(f"consult is running on http://{host}:{port}/", err=True)
    uvicorn.run(
        "consult.app:app",
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        proxy_headers=True,
        log_level="warning",
        access_log=False,
    )


@app.command()
def migrate(revision: str = typer.Argument("head", help="Alembic revision to upgrade to.")) -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    from consult.config import get_settings
    from consult.migrate import upgrade

    upgrade(revision=revision)
    typer.echo(f"Database is at {revision}: {get_settings().database_url.split('@')[-1]}")


@app.command()
def demo(
    responses: int = typer.Option(2000, min=0, max=2_000_000, help="Generated responses the demo survey should have."),
    themes: bool = typer.Option(True, help="Analyse the open questions' answers into themes (once)."),
) -> None:
    """Load the demo consultation (Västernorrland 2025). Safe to run again."""
    from consult.db import session_scope
    from consult.demo.service import load_full_demo

    result = load_full_demo(session_scope, responses=responses, themes=themes)
    if result["created"] == 0 and result["total"] > 0:
        typer.echo(f"Demo already loaded: {result['total']} responses kept.")
    else:
        typer.echo(f"Demo consultation loaded: {result['created']} new responses, {result['total']} in all.")
    if result["analysed"]:
        typer.echo(f"Themes found in the answers to {result['analysed']} open questions.")


def _register_optional() -> None:
    """Commands that domains add themselves (consult/<domain>/cli.py with register(app))."""
    from consult.domains import domain_modules, optional_module

    for module in domain_modules("cli") + [optional_module("surveys.xlsform_cli")]:
        if module is not None:
            module.register(app)


_register_optional()

if __name__ == "__main__":
    app()
