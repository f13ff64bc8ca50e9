"""Datasets: ``ingest``, ``validate``, ``publish`` and ``datasets list``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from catalog.schemas import DatasetPublic
from datacommons import registry
from datacommons.cli.base import cli, database, opened, operator, settings_of
from datacommons.errors import CheckFailed


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
    from connectors.ingest import run
    from connectors.progress import terminal_progress

    values = parse_params(params)
    with opened(settings_of(ctx)) as commons:
        result = run(
            commons,
            connector_name=connector,
            file=file,
            params=values,
            actor="cli:ingest",
            progress=terminal_progress(),
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
