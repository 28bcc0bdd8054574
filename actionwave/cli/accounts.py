"""``actionwave user``: create organizer accounts and API tokens from the command line."""

from __future__ import annotations

import sys

import click

from actionwave.accounts import ROLES
from actionwave.cli import example
from actionwave.platform.config import Settings


@click.group(epilog=example("actionwave user create --email you@example.org --role admin"))
def user() -> None:
    """Organizer accounts and API tokens."""


@user.command("create", epilog=example(
    "actionwave user create --email you@example.org --role admin",
    "echo 'a long passphrase' | actionwave user create --email viewer@example.org --role viewer "
    "--password-stdin"))
@click.option("--email", required=True, help="the account's sign-in address")
@click.option("--role", type=click.Choice(ROLES), default="organizer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.pass_obj
def user_create(settings: Settings, email: str, role: str, password_stdin: bool) -> None:
    """Create an organizer account (the first one with --role admin)."""
    from actionwave.accounts.passwords import WeakPassword
    from actionwave.accounts.services import AccountError, create_user
    from actionwave.system.services import Services

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with Services(settings) as services:
        try:
            with services.session() as session:
                created = create_user(session, email, password, role)
                click.echo(f"created {created.role} {created.email}")
        except (AccountError, WeakPassword) as exc:
            raise click.ClickException(str(exc)) from exc


@user.command("token", epilog=example("actionwave user token --name 'partner site' --role viewer"))
@click.option("--name", required=True, help="who or what uses the token")
@click.option("--role", type=click.Choice(ROLES), default="organizer", show_default=True)
@click.option("--scope", "scopes", multiple=True, type=click.Choice(("read", "write", "admin")),
              help="repeat for several; default: all the role allows")
@click.option("--expires-days", type=click.IntRange(min=1), default=None,
              help="the token stops working after this many days")
@click.pass_obj
def user_token(settings: Settings, name: str, role: str, scopes: tuple[str, ...],
               expires_days: int | None) -> None:
    """Create an API token for /api/v1 and print it once (only its digest is kept)."""
    from datetime import UTC, datetime, timedelta

    from actionwave.accounts.services import AccountError, create_api_token
    from actionwave.system.services import Services

    with Services(settings) as services:
        try:
            with services.session() as session:
                expires = ((datetime.now(UTC) + timedelta(days=expires_days)) if expires_days
                           else None)
                _token, secret = create_api_token(session, name, role, scopes=scopes or None,
                                                  expires_at=expires)
                click.echo(secret)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc


@user.command("disable", epilog=example("actionwave user disable someone@example.org"))
@click.argument("email")
@click.pass_obj
def user_disable(settings: Settings, email: str) -> None:
    """Disable an account: its console sessions end and its API tokens are revoked."""
    from actionwave.accounts.services import AccountError, disable_user
    from actionwave.system.services import Services

    with Services(settings) as services:
        try:
            with services.session() as session:
                changed = disable_user(session, email)
                click.echo(f"disabled {email}" if changed else f"{email} was already disabled")
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
