"""The transparency log: ``audit verify``, ``witness``, ``rotate-key``, ``retire-key``, ``report``."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import click

from datacommons.cli.base import cli, database, operator, settings_of
from datacommons.errors import CheckFailed


@cli.group()
def audit() -> None:
    """The transparency log of every use of data (DGA art. 20)."""


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A checkpoint saved earlier: check that the log still extends it.",
)
@click.option("--key", "vkey", help="The log's verifier key (default: this instance's).")
@click.pass_context
def audit_verify(ctx: click.Context, checkpoint_file: Path | None, vkey: str | None) -> None:
    """Check the log: its hash chain, and with --checkpoint that it extends a saved checkpoint
    (exit 0 if so, 1 saying how it does not)."""
    from consent import log_keys, tlog, transparency

    settings = settings_of(ctx)
    with database(settings) as session:
        if checkpoint_file is not None:
            note = checkpoint_file.read_text(encoding="utf-8")
            if vkey is None:  # whichever of the log's keys, old or new, signed it
                known = log_keys.published(session, settings.secret_key_bytes(), settings.public_url)
                saved = tlog.verify_checkpoint_by_any(note, [k.verifier_key for k in known])
            else:
                saved = tlog.verify_checkpoint(note, vkey)
            click.echo(tlog.verify_against(session, saved))
        result = transparency.verify_chain(session)
    if not result.ok:
        raise CheckFailed(f"transparency log broken at entry {result.first_bad_id}: {result.reason}")
    click.echo(f"transparency log intact: {result.count} entries")


@audit.command("witness")
@click.argument("url")
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The witness's own directory: the trusted key, the last checkpoint, the witness key.",
)
@click.option("--key", "vkey", help="The log's verifier key (required the first time).")
@click.option(
    "--name",
    default=lambda: f"{socket.gethostname()}/datacommons-witness",
    show_default="HOSTNAME/datacommons-witness",
    help="The witness's name in its cosignatures.",
)
@click.option(
    "--submit",
    is_flag=True,
    help="Also send the cosignature to the log, which serves it with its checkpoint (if its operator "
    "listed this witness's key, witness.vkey, in DATACOMMONS_WITNESS_KEYS).",
)
def audit_witness(url: str, state_dir: Path, vkey: str | None, name: str, submit: bool) -> None:
    """Witness the transparency log at URL: verify its checkpoint and its consistency with the last
    one seen, store it, and print it cosigned (exit 1 if the log shrank, forked or was rewritten).

    Run it from cron on your own machine (a cooperative, the Metropolitan City, a university); the
    commons needs nothing from you. See docs/transparency.md.
    """
    from consent import witness

    seen = witness.run(url, state_dir, vkey=vkey, name=name)
    before = "first checkpoint" if seen.previous_size is None else f"consistent with {seen.previous_size}"
    click.echo(f"log {seen.checkpoint.origin}: {seen.checkpoint.size} entries, {before}", err=True)
    click.echo(seen.cosigned, nl=False)
    if submit:
        kept = witness.submit(url, seen.cosigned)
        click.echo(f"cosignature of {kept['tree_size']} entries kept by the log", err=True)


@audit.command("rotate-key")
@click.pass_context
def audit_rotate_key(ctx: click.Context) -> None:
    """Add a new key to sign the log's checkpoints and print its verifier key. The old keys go on
    signing too until retired: give the new key to the witnesses, then run audit retire-key."""
    from consent import log_keys

    settings = settings_of(ctx)
    with database(settings, immediate=True) as session:
        info = log_keys.rotate(session, settings.secret_key_bytes(), settings.public_url, actor=operator())
    click.echo(f"{info.kid} {info.verifier_key}")


@audit.command("retire-key")
@click.argument("kid")
@click.pass_context
def audit_retire_key(ctx: click.Context, kid: str) -> None:
    """Stop signing checkpoints with the log key KID (it stays published: what it signed verifies)."""
    from consent import log_keys

    settings = settings_of(ctx)
    with database(settings, immediate=True) as session:
        info = log_keys.retire(
            session, settings.secret_key_bytes(), settings.public_url, kid, actor=operator()
        )
    click.echo(f"{info.kid} retired; it signed checkpoints until {info.retired_at:%Y-%m-%d %H:%M} UTC")


@audit.command("report")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="The year reported.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "html"]),
    default="json",
    show_default=True,
    help="Output format.",
)
@click.pass_context
def audit_report(ctx: click.Context, year: int, fmt: str) -> None:
    """Print the yearly data-altruism activity report (DGA art. 20(2))."""
    from pydantic_core import to_jsonable_python

    from consent import report

    with database(settings_of(ctx)) as session:
        data = report.altruism_report(session, year=year, organisation=report.ORGANISATION)
    if fmt == "html":
        click.echo(report.render_html(data, json_url=f"altruism-{year}.json"))
    else:
        click.echo(json.dumps(to_jsonable_python(data), ensure_ascii=False, indent=2))
