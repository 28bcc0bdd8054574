"""``actionwave user``: create organizer accounts and API tokens from the command line."""

from __future__ import annotations

import sys

import click

from actionwave.accounts import ROLES
from actionwave.cli import example
from actionwave.config import Settings


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
    from actionwave.services import Services

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    services = Services(settings)
    try:
        with services.session() as session:
            created = create_user(session, email, password, role)
            click.echo(f"created {created.role} {created.email}")
    except (AccountError, WeakPassword) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        services.close()


@user.command("token", epilog=example("actionwave user token --name 'partner site' --role viewer"))
@click.option("--name", required=True, help="who or what uses the token")
@click.option("--role", type=click.Choice(ROLES), default="organizer", show_default=True)
@click.pass_obj
def user_token(settings: Settings, name: str, role: str) -> None:
    """Create an API token for /api/v1 and print it once (only its digest is kept)."""
    from actionwave.accounts.services import AccountError, create_api_token
    from actionwave.services import Services

    services = Services(settings)
    try:
        with services.session() as session:
            _token, secret = create_api_token(session, name, role)
            click.echo(secret)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        services.close()
