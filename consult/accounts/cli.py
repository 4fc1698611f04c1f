"""`consult create-user` and `consult accounts-info`."""

from __future__ import annotations

import sys

import typer

from consult.accounts.models import Role


def _read_password() -> str:
    """A hidden prompt with confirmation at a terminal; the first line of stdin otherwise
    (for scripts: `printf '%s\\n' "$PASSWORD" | consult create-user ...`)."""
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def create_user_command(
    email: str = typer.Argument(..., help="The user's email address; it is the login name."),
    role: Role = typer.Option(..., "--role", help="admin, analyst or interviewer.", case_sensitive=False),
    name: str = typer.Option("", "--name", help="The name shown in the staff menu and the audit log."),
) -> None:
    """Create a staff user. The password is read from a hidden prompt, or from stdin when piped."""
    from consult.accounts.service import AccountError, create_user
    from consult.db import session_scope

    password = _read_password()
    try:
        with session_scope() as session:
            user = create_user(session, email=email, password=password, role=role.value, name=name)
            created = (user.email, user.role)
    except AccountError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Created {created[1]} {created[0]}.")


def accounts_info_command() -> None:
    """Print the demo logins, if the demo users exist and still have their demo passwords."""
    from consult.accounts.service import demo_logins
    from consult.db import session_scope

    with session_scope() as session:
        logins = demo_logins(session)
    if not logins:
        typer.echo("No demo users. Create users with: consult create-user EMAIL --role ROLE")
        return
    typer.echo("Demo logins (log in at /login):")
    for email, password, role in logins:
        typer.echo(f"  {role:<12} {email:<26} password: {password}")


def register(app: typer.Typer) -> None:
    app.command("create-user")(create_user_command)
    app.command("accounts-info")(accounts_info_command)
