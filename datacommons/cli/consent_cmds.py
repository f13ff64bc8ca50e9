"""The consent registry: ``consent verify``, ``rotate-key``, ``rotate-secret``, ``expire``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from datacommons.cli.base import cli, database, settings_of
from datacommons.config import write_secret_file


@cli.group()
def consent() -> None:
    """Consent receipts and the keys that sign them."""


def _read_receipt(value: str) -> str:
    """The compact JWS given on the command line: itself, a file path, or - for stdin."""
    if value == "-":
        text = sys.stdin.read()
    elif "." not in value.strip() or os.path.exists(value):
        try:
            with open(value, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise click.UsageError(f"cannot read receipt file {value}: {exc.strerror}") from exc
    else:
        text = value
    text = text.strip()
    if text.startswith("{"):  # a saved API answer ({"receipt": ...}) is accepted too
        try:
            text = str(json.loads(text)["receipt"])
        except (ValueError, KeyError, TypeError) as exc:
            raise click.UsageError("the JSON given has no 'receipt' field") from exc
    if not text:
        raise click.UsageError("no receipt given")
    return text


@consent.command("verify")
@click.argument("receipt")
@click.option(
    "--jwks",
    "jwks_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Verify with the keys of this JWKS file (e.g. a saved /.well-known/jwks.json) "
    "instead of the keys in the database.",
)
@click.pass_context
def consent_verify(ctx: click.Context, receipt: str, jwks_file: str | None) -> None:
    """Verify a consent receipt offline and print its claims.

    RECEIPT is the compact JWS, a file holding it, or - to read it from standard input. Exit 0 when
    the signature and the claims are valid, 1 when they are not, 2 when RECEIPT is not a receipt.
    """
    from consent import keys, receipts

    token = _read_receipt(receipt)
    keys.header_of(token)  # bad input (exit 2) before anything else
    if jwks_file:
        try:
            with open(jwks_file, encoding="utf-8") as fh:
                key_set = json.load(fh)
        except ValueError as exc:
            raise click.UsageError(f"{jwks_file} is not a JSON key set") from exc
    else:
        with database(settings_of(ctx)) as session:
            key_set = keys.jwks(session)
    claims = receipts.verify(token, key_set)
    click.echo(json.dumps(claims, ensure_ascii=False, indent=2, sort_keys=True))


@consent.command("rotate-key")
@click.pass_context
def consent_rotate_key(ctx: click.Context) -> None:
    """Sign new receipts with a fresh Ed25519 key; print its kid (old receipts stay verifiable)."""
    from consent import keys

    settings = settings_of(ctx)
    with database(settings, immediate=True) as session:
        record = keys.create_key(session, secret=settings.secret_key_bytes())
    click.echo(record.kid)


@consent.command("rotate-secret")
@click.option(
    "--new-secret-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="File holding the new secret (at least 32 characters).",
)
@click.pass_context
def consent_rotate_secret(ctx: click.Context, new_secret_file: Path) -> None:
    """Re-wrap every donor key and signing key under a new instance secret (stop the servers first).

    With DATACOMMONS_SECRET_KEY set, set it to the new secret before starting the servers again;
    without it (development), the generated secret file in the data directory is replaced.
    """
    from consent.rekey import rotate_secret

    settings = settings_of(ctx)
    try:
        new_secret = new_secret_file.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError as exc:
        raise click.UsageError(f"{new_secret_file} is not a text file (UTF-8)") from exc
    with database(settings, immediate=True) as session:
        done = rotate_secret(session, old_secret=settings.secret_key_bytes(), new_secret=new_secret.encode())
    click.echo(f"re-wrapped {done.donor_keys} donor key(s) and {done.signing_keys} signing key(s)")
    if settings.secret_key is None:
        write_secret_file(settings.secret_key_path, new_secret, replace=True)
        click.echo(f"the new secret is now in {settings.secret_key_path}")
    else:
        click.echo("now set DATACOMMONS_SECRET_KEY to the new secret and restart every server process")


@consent.command("expire")
@click.pass_context
def consent_expire(ctx: click.Context) -> None:
    """Record an 'expired' event, with its receipt, for every consent whose duration ended."""
    from consent import ledger
    from consent.receipts import Signer

    settings = settings_of(ctx)
    with database(settings, immediate=True) as session:
        count = ledger.expire_due(session, signer=Signer.of(settings))
    click.echo(f"{count} consent(s) expired")
