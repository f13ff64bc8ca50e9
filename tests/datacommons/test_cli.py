"""The ``datacommons`` command, run as a user runs it."""

from __future__ import annotations

import json

import pytest

from datacommons.config import Settings
from tests.support.cli import run_cli

COMMANDS = ("datasets", "demo", "init", "serve", "token")


def test_help_lists_the_commands(settings: Settings) -> None:
    result = run_cli(settings, "--help")
    assert result.returncode == 0
    listed = result.stdout.split("Commands:")[1]
    for command in COMMANDS:
        assert f"\n  {command} " in listed


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("bogus",), "No such command 'bogus'."),
        (
            ("token", "create", "--role", "root", "--name", "x"),
            "Invalid value for '--role': 'root' is not one of 'admin', 'analyst', 'researcher'.",
        ),
        # a donor's token comes only from the donor's own registration or claim code
        (
            ("token", "create", "--role", "donor", "--name", "x"),
            "Invalid value for '--role': 'donor' is not one of 'admin', 'analyst', 'researcher'.",
        ),
        (
            ("token", "create", "--name", "x"),
            "Missing option '--role'. Choose from: admin, analyst, researcher",
        ),
        (("serve", "--port", "70000"), "Invalid value for '--port': 70000 is not in the range 1<=x<=65535."),
    ],
)
def test_bad_arguments_exit_2_with_one_line(settings: Settings, args: tuple[str, ...], reason: str) -> None:
    result = run_cli(settings, *args)
    assert result.returncode == 2
    assert result.stderr == f"datacommons: error: {reason}\n"


def test_bad_setting_exits_2_with_one_line(settings: Settings) -> None:
    result = run_cli(settings, "init", env={"DATACOMMONS_PORT": "eighty"})
    assert result.returncode == 2
    assert result.stderr.startswith("datacommons: error: invalid setting port:")
    assert result.stderr.count("\n") == 1


def test_init_migrates(settings: Settings) -> None:
    result = run_cli(settings, "init")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("database ready at revision ")


def test_token_create_prints_a_working_token(settings: Settings) -> None:
    result = run_cli(settings, "token", "create", "--role", "researcher", "--name", "Ricerca UniTo")
    assert result.returncode == 0, result.stderr
    clear = result.stdout.strip()
    assert clear.startswith("dc_") and len(clear) > 40
    from fastapi.testclient import TestClient

    from datacommons.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        response = client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {clear}"})
    app.state.commons.engine.dispose()
    assert response.status_code == 200


def test_demo_twice_leaves_the_same_catalog(settings: Settings) -> None:
    first = run_cli(settings, "demo")
    assert first.returncode == 0, first.stderr
    listing_1 = json.loads(run_cli(settings, "datasets", "list", "--json").stdout)
    second = run_cli(settings, "demo")
    assert second.returncode == 0, second.stderr
    listing_2 = json.loads(run_cli(settings, "datasets", "list", "--json").stdout)
    assert listing_1 == listing_2
    assert listing_1["count"] == len(listing_1["data"]) >= 1
    comuni = next(d for d in listing_1["data"] if d["id"] == "comuni-torino")
    assert comuni["current_version"]["number"] == 1
    assert comuni["current_version"]["rows"] == 312
    assert comuni["current_version"]["status"] == "published"
    # the same tokens are printed both times, one per role, with the URLs to open
    for role in ("admin", "analyst", "researcher", "donor"):
        line = next(ln for ln in first.stdout.splitlines() if ln.strip().startswith(role + " "))
        assert line in second.stdout
    assert "http://127.0.0.1:8000/docs" in first.stdout


def test_datasets_list_table(settings: Settings) -> None:
    assert run_cli(settings, "datasets", "list").stdout == "no datasets yet (try: datacommons demo)\n"
    run_cli(settings, "demo")
    table = run_cli(settings, "datasets", "list").stdout.splitlines()
    assert table[0].split() == ["ID", "ACCESS", "VERSION", "ROWS", "TITLE"]
    assert any(row.split()[:4] == ["comuni-torino", "open", "1", "312"] for row in table[1:])


def test_demo_is_refused_in_production(settings: Settings) -> None:
    result = run_cli(
        settings,
        "demo",
        env={
            "DATACOMMONS_ENV": "production",
            "DATACOMMONS_SECRET_KEY": "p" * 40,
            "DATACOMMONS_PUBLIC_URL": "https://dati.example.it",
        },
    )
    assert result.returncode == 2
    assert result.stderr == (
        "datacommons: error: the demo seeds well-known tokens and is refused in production\n"
    )
