"""Rotating the instance secret keeps every donor's data readable and every receipt verifiable."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr

from consent import receipts
from datacommons.app import create_app
from datacommons.config import Settings
from tests.conftest import bearer
from tests.consent.conftest import give, register
from tests.support.cli import run_cli

NEW_SECRET = "n3w-instance-secret-" + "q" * 40


def test_rotation_rewraps_every_key_and_nothing_is_lost(
    client: TestClient,
    program,
    settings: Settings,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    donor_id, token = register(client, name="Ada Rossi", email="ada@example.org")
    receipt = give(client, token, program["id"])["receipt"]
    secret_file = tmp_path / "new.secret"
    secret_file.write_text(NEW_SECRET + "\n")

    done = run_cli(settings, "consent", "rotate-secret", "--new-secret-file", str(secret_file))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "re-wrapped 1 donor key(s) and 2 signing key(s)",  # the receipt key and the log's key
        "now set DATACOMMONS_SECRET_KEY to the new secret and restart every server process",
    ]

    rotated = create_app(settings.model_copy(update={"secret_key": SecretStr(NEW_SECRET)}))
    with TestClient(rotated) as after:
        me = after.get("/api/v1/donors/me", headers=bearer(token)).json()
        assert (me["donor_id"], me["name"], me["email"]) == (donor_id, "Ada Rossi", "ada@example.org")
        jwks = after.get("/.well-known/jwks.json").json()
        assert receipts.verify(receipt, jwks)["sub"] == donor_id  # signed before the rotation
        consent_id = after.get("/api/v1/consents", headers=bearer(token)).json()["data"][0]["id"]
        withdrawn = after.post(f"/api/v1/consents/{consent_id}/withdraw", headers=bearer(token))
        assert withdrawn.status_code == 200  # signing with the re-wrapped key works
        assert receipts.verify(withdrawn.json()["receipt"], jwks)["sub"] == donor_id
    rotated.state.commons.engine.dispose()

    # the old secret no longer opens anything: a second rotation from it is refused, unchanged
    again = run_cli(settings, "consent", "rotate-secret", "--new-secret-file", str(secret_file))
    assert again.returncode == 1
    assert again.stderr.startswith("datacommons: error: the current secret does not open the stored keys")


def test_a_short_new_secret_is_refused(settings: Settings, tmp_path: Path) -> None:
    short = tmp_path / "short.secret"
    short.write_text("too-short")
    answer = run_cli(settings, "consent", "rotate-secret", "--new-secret-file", str(short))
    assert answer.returncode == 2
    assert answer.stderr == ("datacommons: error: the new secret must be at least 32 characters\n")
    binary = tmp_path / "binary.secret"
    binary.write_bytes(b"\xff\xfe" * 40)
    answer = run_cli(settings, "consent", "rotate-secret", "--new-secret-file", str(binary))
    assert answer.returncode == 2
    assert answer.stderr == f"datacommons: error: {binary} is not a text file (UTF-8)\n"


def test_in_development_the_generated_secret_file_is_replaced(settings: Settings, tmp_path: Path) -> None:
    dev = settings.model_copy(update={"secret_key": None, "env": "development"})
    old = dev.secret_key_bytes()
    secret_file = tmp_path / "new.secret"
    secret_file.write_text(NEW_SECRET)
    answer = run_cli(dev, "consent", "rotate-secret", "--new-secret-file", str(secret_file))
    assert answer.returncode == 0, answer.stderr
    assert dev.secret_key_path.read_text() == NEW_SECRET != old.decode()
    assert dev.secret_key_path.stat().st_mode & 0o777 == 0o600
