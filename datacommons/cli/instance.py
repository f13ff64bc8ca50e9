"""Setting an instance up and serving it: ``init``, ``serve``, ``demo``."""

from __future__ import annotations

import logging

import click

from datacommons.cli.base import cli, settings_of
from datacommons.db import make_engine
from datacommons.logs import log_config
from datacommons.migrations import current_revision, upgrade


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
