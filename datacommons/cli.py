"""The ``datacommons`` command: the composition root of the command line.

Exit codes: 0 success, 1 a check failed, 2 bad input — always with a one-line reason on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from sqlalchemy.orm import Session

from catalog.schemas import DatasetPublic
from consent.transparency import log_act
from datacommons import __version__, acts, auth, registry
from datacommons.config import Settings, get_settings, write_secret_file
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.errors import CheckFailed, DataCommonsError
from datacommons.logs import configure_logging, log_config
from datacommons.migrations import current_revision, upgrade

acts.on_act(log_act)


def operator() -> str:
    """Who runs this command, as acts record it (kept beside the log, never published)."""
    return f"cli:{os.environ.get('USER', 'operator')}"


def settings_of(ctx: click.Context) -> Settings:
    """The settings of this invocation (read once, on first use)."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = get_settings()
        configure_logging(obj["settings"].log_level)
    return obj["settings"]


@contextmanager
def database(settings: Settings, *, immediate: bool = False) -> Iterator[Session]:
    """A migrated database and one transaction on it, for one command."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url_resolved)
    try:
        upgrade(engine)
        with transaction(make_sessionmaker(engine), immediate=immediate) as session:
            yield session
    finally:
        engine.dispose()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="datacommons")
def cli() -> None:
    """Data commons for the social economy of the Metropolitan City of Turin.

    Settings come from DATACOMMONS_* environment variables (see docs/configuration.md).
    """


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the data directory and apply the database migrations."""
    settings = settings_of(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url_resolved)
    try:
        upgrade(engine)
        revision = current_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"database ready at revision {revision} ({engine.url.render_as_string()})")


#: How long a worker may take to answer the supervisor before it is deemed hung and replaced.
WORKER_HEALTHCHECK_SECONDS = 60


@cli.command()
@click.option("--host", help="Address to listen on (default: DATACOMMONS_HOST).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: DATACOMMONS_PORT).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Serve the API and the web front (migrating the database first)."""
    import uvicorn

    settings = settings_of(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url_resolved)
    try:
        upgrade(engine)  # once here, so that workers do not race to migrate
    finally:
        engine.dispose()
    logging.getLogger("datacommons").info(
        "serving on http://%s:%s/", host or settings.host, port or settings.port
    )
    # Trust X-Forwarded-For only from the configured proxies: it sets the address rate limits key on.
    # Each worker is a fresh interpreter that imports the whole commons before it answers the
    # supervisor's health pings; on a small machine starting several at once takes longer than
    # uvicorn's default 5 s, and it would kill and restart them over and over.
    uvicorn.run(
        "datacommons.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=log_config(settings.log_level),
        access_log=False,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Seed the demo datasets and one token per role, and print them (idempotent)."""
    from datacommons.demo import run_demo

    settings = settings_of(ctx)
    result = run_demo(settings)
    base = settings.public_url.rstrip("/")
    click.echo("Demo data ready:")
    for dataset_id, number in result.datasets.items():
        click.echo(f"  {dataset_id:<24} version {number} published")
    click.echo("\nDemo tokens (development only — anyone who reads them can use them):")
    for role, token in result.tokens.items():
        click.echo(f"  {role:<11} {token}")
    click.echo(f"\nOpen {base}/docs for the API, {base}/api/v1/health to check it is up.")
    click.echo(f'Try: curl -H "Authorization: Bearer {result.tokens["analyst"]}" {base}/api/v1/datasets')


def _log_backup_act(settings: Settings, kind: str, purpose: str, manifest: dict[str, Any]) -> None:
    """Log a backup or a restore: when the backup was made and how many log entries it holds (a
    restore that takes the log back shows as a shorter tree to every witness)."""
    from datacommons.backup import Summary

    summary = Summary.of(manifest)
    with database(settings, immediate=True) as session:
        acts.record(
            session,
            acts.Act(
                kind=kind,
                actor=operator(),
                purpose=purpose,
                details={
                    "backup_created_at": manifest["created_at"],
                    "tables": len(summary.tables),
                    "dataset_files": summary.objects,
                    "log_entries_in_backup": summary.tables.get("transparency_log", 0),
                },
            ),
        )


@cli.command()
@click.argument("dataset")
@click.option("--version", "number", type=click.IntRange(1), help="The version (default: the newest).")
@click.pass_context
def validate(ctx: click.Context, dataset: str, number: int | None) -> None:
    """Validate a dataset version with its expectation suite (exit 1 if it fails).

    The report is stored, the version becomes validated or rejected, and a summary is printed with
    the failing expectations named and the address of the report page.
    """
    from datacommons.quality.gate import failure_error, summary_lines, validate_version
    from datacommons.storage import ParquetStore

    settings = settings_of(ctx)
    with database(settings, immediate=True) as session:
        version = registry.get_version(session, dataset, number)
        report = validate_version(
            session,
            store=ParquetStore(settings.store_dir),
            version=version,
            actor=operator(),
        )
        lines = summary_lines(report)
        error = None if report.success else failure_error(report)
        report_id = report.id
    for line in lines:
        click.echo(line)
    click.echo(f"report: {settings.public_url.rstrip('/')}/api/v1/admin/reports/{report_id}.html")
    if error is not None:
        raise error


@cli.command()
@click.argument("dataset")
@click.option(
    "--version",
    "number",
    type=click.IntRange(1),
    required=True,
    help="The version to publish (or to make current again).",
)
@click.pass_context
def publish(ctx: click.Context, dataset: str, number: int) -> None:
    """Publish a validated version, or make an older published version current again."""
    from datacommons.quality.gate import publish_version

    with database(settings_of(ctx), immediate=True) as session:
        version = publish_version(session, dataset_id=dataset, number=number, actor=operator())
        number = version.number
    click.echo(f"{dataset} version {number} is published and current")


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    """``k=v`` pairs as a dict; ``k=@path`` reads the value from a file (e.g. a JSON declaration)."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--param {pair!r}: expected KEY=VALUE")
        if value.startswith("@"):
            try:
                value = Path(value[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                raise click.UsageError(f"--param {key}: cannot read {value[1:]} ({exc.strerror})") from exc
        params[key.strip()] = value
    return params


@cli.command()
@click.argument("connector")
@click.option(
    "--file",
    "file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A local copy of the source, or the donated file.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A connector parameter (repeatable); KEY=@FILE reads the value from FILE.",
)
@click.pass_context
def ingest(ctx: click.Context, connector: str, file: Path | None, params: tuple[str, ...]) -> None:
    """Pull data with CONNECTOR and stage it as new dataset versions.

    Built-in connectors: eurostat, istat, istat-comuni, ckan, file, plan2030 (see
    docs/connectors/). The same content or an unchanged source stages nothing new.
    """
    from connectors.ingest import extract, stage
    from connectors.progress import terminal_progress
    from datacommons.storage import ParquetStore

    settings = settings_of(ctx)
    values = parse_params(params)
    store = ParquetStore(settings.store_dir)
    progress = terminal_progress()
    # Read and check everything first, without the write lock (a download may take minutes)...
    with database(settings) as session:
        items = extract(
            session, store=store, connector_name=connector, file=file, params=values, progress=progress
        )
    # ...then stage it all in one short write transaction.
    with database(settings, immediate=True) as session:
        result = stage(
            session, store=store, connector_name=connector, items=items, actor="cli:ingest", progress=progress
        )
    for item in result.staged:
        if item.created:
            gate = item.gate_note or item.status
            click.echo(f"staged {item.dataset_id} version {item.version} ({item.rows} rows): {gate}")
        else:
            click.echo(
                f"unchanged {item.dataset_id}: version {item.version} ({item.status}) "
                "already holds this content"
            )
    for skipped in result.unchanged:
        click.echo(f"unchanged {skipped.dataset_id}: {skipped.reason}")
    rejected = [i for i in result.staged if i.created and i.status == "rejected"]
    if rejected:
        raise CheckFailed(
            "; ".join(
                f"{i.dataset_id} version {i.version} was rejected by the quality gate: "
                + ", ".join(i.failures)
                for i in rejected
            )
        )


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


@cli.group()
def datasets() -> None:
    """Look at the catalog's datasets."""


@datasets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON ({data, count}) instead of a table.")
@click.pass_context
def datasets_list(ctx: click.Context, as_json: bool) -> None:
    """List every dataset with its current version."""
    with database(settings_of(ctx)) as session:
        records = registry.list_datasets(session)
        items = [DatasetPublic.of(d) for d in records]
        # The operator sees every row count; the JSON is the API's view (private counts withheld).
        rows = {d.id: d.current_version.rows if d.current_version else "-" for d in records}
    if as_json:
        payload = {"data": [i.model_dump(mode="json") for i in items], "count": len(items)}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo("no datasets yet (try: datacommons demo)")
        return
    click.echo(f"{'ID':<28} {'ACCESS':<8} {'VERSION':>7} {'ROWS':>10}  TITLE")
    for item in items:
        cur = item.current_version
        click.echo(
            f"{item.id:<28} {item.access:<8} {cur.number if cur else '-':>7} "
            f"{rows[item.id]:>10}  {item.title_en}"
        )


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


@cli.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_context
def backup(ctx: click.Context, dest: Path) -> None:
    """Back up the database, the Parquet store and the instance secret to DEST.

    DEST is a new directory, or a file name ending in .tar for one archive. Safe while the server
    runs: the database is read in one snapshot. A backup holds token hashes, encrypted donor data
    and (outside production) the instance secret: keep it as safe as the server itself. See
    docs/operations.md.
    """
    from connectors.progress import terminal_progress
    from datacommons.backup import Summary, make_backup

    settings = settings_of(ctx)
    manifest = make_backup(settings=settings, dest=dest, progress=terminal_progress())
    summary = Summary.of(manifest)
    _log_backup_act(settings, "backup", "backup made", manifest)
    click.echo(f"backup written to {dest}: {summary.describe()}")


@cli.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace a target database that already holds data (and a different "
    "secret.key, kept aside as secret.key.replaced-TIME).",
)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Only check the backup (every file's size and SHA-256); restore nothing.",
)
@click.pass_context
def restore(ctx: click.Context, src: Path, force: bool, check_only: bool) -> None:
    """Restore the backup SRC (a directory or .tar) into the configured database and data dir.

    The whole backup is checked before anything is touched; the database is replaced in one
    transaction. Exit 2 when the target database already holds data (unless --force) or its
    instance secret differs from the backup's, 1 when the backup is damaged. Stop the server first.
    """
    from connectors.progress import terminal_progress
    from datacommons.backup import Summary, restore_backup, verify_backup

    settings = settings_of(ctx)
    if check_only:
        manifest = verify_backup(src, progress=terminal_progress())
        click.echo(f"backup {src} is intact: {Summary.of(manifest).describe()}")
        return
    manifest = restore_backup(settings=settings, src=src, force=force, progress=terminal_progress())
    summary = Summary.of(manifest)
    _log_backup_act(settings, "restore", "backup restored", manifest)
    click.echo(f"restored {src} (made {manifest['created_at']}): {summary.describe()}")


def one_line(text: str) -> str:
    """Fold a message to one line for stderr."""
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every error into an exit code and a one-line reason."""
    code: Any
    try:
        code = cli.main(args=argv, prog_name="datacommons", standalone_mode=False)
    except click.UsageError as exc:
        click.echo(f"datacommons: error: {one_line(exc.format_message())}", err=True)
        code = 2
    except click.Abort:
        click.echo("datacommons: aborted", err=True)
        code = 1
    except ValidationError as exc:  # settings from the environment
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        click.echo(f"datacommons: error: invalid setting {where}: {one_line(first['msg'])}", err=True)
        code = 2
    except DataCommonsError as exc:
        click.echo(f"datacommons: error: {one_line(exc.message)}", err=True)
        code = exc.exit_code
    except Exception as exc:  # an unexpected failure: one line, the traceback only when debugging
        if os.environ.get("DATACOMMONS_LOG_LEVEL", "").upper() == "DEBUG":
            raise
        click.echo(
            f"datacommons: internal error: {type(exc).__name__}: {one_line(str(exc))} "
            "(set DATACOMMONS_LOG_LEVEL=DEBUG for the traceback)",
            err=True,
        )
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
