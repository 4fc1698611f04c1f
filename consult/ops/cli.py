"""Operations commands: purge by retention, backup and restore."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def purge(
        anonymise: bool = typer.Option(False, help="Keep coded answers for statistics; remove free text and metadata."),
    ) -> None:
        """Delete (or anonymise) responses past their survey's retention date, expired drafts, and
        source hashes older than 30 days."""
        from consult.db import session_scope
        from consult.privacy.service import purge as run_purge

        with session_scope() as session:
            report = run_purge(session, anonymise=anonymise)
        typer.echo(
            f"Deleted {report.deleted}, anonymised {report.anonymised} responses; "
            f"removed {report.drafts} expired drafts and {report.source_hashes} old source hashes."
        )

    @app.command()
    def backup(file: Path = typer.Argument(..., help="Where to write the backup.")) -> None:
        """Back up the database while it runs (SQLite online backup, or pg_dump)."""
        from consult.db import get_engine
        from consult.ops.service import BackupError, answers_checksum
        from consult.ops.service import backup as run_backup

        try:
            run_backup(get_engine(), file)
        except BackupError as exc:
            typer.echo(f"Backup failed: {exc}", err=True)
            raise typer.Exit(1) from exc
        count, digest = answers_checksum(get_engine())
        typer.echo(f"Backed up to {file}: {count} answers, checksum {digest[:16]}")

    @app.command()
    def restore(file: Path = typer.Argument(..., exists=False, help="A backup made by `consult backup`.")) -> None:
        """Restore the database from a backup, replacing what is there."""
        from consult.db import get_engine
        from consult.ops.service import BackupError, answers_checksum
        from consult.ops.service import restore as run_restore

        try:
            run_restore(get_engine(), file)
        except BackupError as exc:
            typer.echo(f"Restore failed: {exc}", err=True)
            raise typer.Exit(1) from exc
        count, digest = answers_checksum(get_engine())
        typer.echo(f"Restored from {file}: {count} answers, checksum {digest[:16]}")
