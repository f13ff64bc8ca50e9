"""API tokens: ``token create``."""

from __future__ import annotations

from datetime import timedelta

import click

from datacommons import auth
from datacommons.cli.base import cli, database, operator, settings_of


@cli.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option(
    "--role",
    required=True,
    type=click.Choice(auth.ISSUED_ROLES),
    help="The token's role (a donor's token comes only from the donor's own registration or claim code).",
)
@click.option("--name", required=True, help="Who or what the token is for.")
@click.option("--organisation", help="The organisation it belongs to (default: the token's name).")
@click.option(
    "--ttl-days",
    type=click.IntRange(1, 3650),
    help="Days until it expires (default: DATACOMMONS_TOKEN_TTL_DAYS).",
)
@click.pass_context
def token_create(
    ctx: click.Context, role: str, name: str, organisation: str | None, ttl_days: int | None
) -> None:
    """Create a token and print it once (it is stored only as a hash)."""
    settings = settings_of(ctx)
    with database(settings) as session:
        org = auth.get_or_create_organisation(session, organisation or name)
        ttl = timedelta(days=ttl_days or settings.token_ttl_days)
        _record, clear = auth.create_token(
            session, role=role, name=name, organisation=org, ttl=ttl, actor=operator()
        )
    click.echo(clear)
