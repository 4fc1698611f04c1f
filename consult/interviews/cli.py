"""`consult purge-source-hashes` and `consult flag-bursts`: the repeat-answer safeguards, for cron."""

from __future__ import annotations

import typer


def purge_source_hashes_command(
    days: int = typer.Option(30, "--days", min=1, help="Keep source hashes this many days."),
) -> None:
    """Forget the salted source hash of responses older than --days."""
    from consult.db import session_scope
    from consult.responses.review import purge_source_hashes

    with session_scope() as session:
        purged = purge_source_hashes(session, older_than_days=days)
    typer.echo(f"Forgot the source of {purged} responses older than {days} days.")


def flag_bursts_command(
    window: int = typer.Option(10, "--window", min=1, help="Window in minutes."),
    threshold: int = typer.Option(20, "--threshold", min=1, help="More answers than this from one source is a burst."),
) -> None:
    """Mark bursts of answers from one source in every survey, for the analysts (nothing is removed)."""
    from sqlmodel import select

    from consult.db import session_scope
    from consult.responses.review import flag_bursts
    from consult.surveys.models import Survey

    with session_scope() as session:
        survey_ids = list(session.exec(select(Survey.id)))
        flagged = sum(flag_bursts(session, sid, window, threshold) for sid in survey_ids if sid is not None)
    typer.echo(f"Marked {flagged} responses as bursts.")


def register(app: typer.Typer) -> None:
    app.command("purge-source-hashes")(purge_source_hashes_command)
    app.command("flag-bursts")(flag_bursts_command)
