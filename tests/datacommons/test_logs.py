"""The logs of a whole demo run are structured, carry request ids, and hold no secret or personal data.

The demo is seeded and served at DEBUG level (the most a log can say), then driven through every
kind of user: sign-in, donor registration with a name and an e-mail, an organisation's claim code,
consent, the donor's export, a DP query, token creation, a wrong token. Every secret and every piece of
personal data seen on the way is then searched for in everything the processes wrote to stderr.
"""

from __future__ import annotations

import json
import logging
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx

from tests.support.live_server import seed_demo, server
from tests.support.pgserver import new_database

NAME = "Giulia Logtest-Rossi"
EMAIL = "giulia.logtest@example.org"


def test_a_demo_run_logs_json_lines_without_secrets(tmp_path: Path, pg_url: str | None) -> None:
    extra = {"DATACOMMONS_LOG_LEVEL": "DEBUG", "DATACOMMONS_SECRET_KEY": "s3cret-" + uuid.uuid4().hex * 2}
    with ExitStack() as stack:
        if pg_url is not None:
            extra["DATACOMMONS_DATABASE_URL"] = stack.enter_context(new_database(pg_url, "logs"))
        run_the_demo(tmp_path, extra)


def run_the_demo(tmp_path: Path, extra: dict[str, str]) -> None:
    """Seed, serve and drive the demo at DEBUG level; search everything logged for secrets."""
    demo, tokens = seed_demo(tmp_path, **extra)
    secrets = [*tokens.values(), extra["DATACOMMONS_SECRET_KEY"], NAME, EMAIL]

    log_path = tmp_path / "server.log"
    request_ids: list[str] = []
    with server(tmp_path, log_path=log_path, **extra) as base, httpx.Client(base_url=base) as http:

        def call(method: str, path: str, token: str | None = None, **kw: object) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            answer = http.request(method, path, headers=headers, **kw)  # type: ignore[arg-type]
            request_ids.append(answer.headers["x-request-id"])
            return answer

        assert call("POST", "/login", data={"token": tokens["analyst"]}).status_code == 303
        registered = call("POST", "/api/v1/donors", json={"name": NAME, "email": EMAIL})
        assert registered.status_code == 201
        secrets.append(registered.json()["token"])
        codes = call(
            "POST",
            "/api/v1/admin/donors",
            tokens["admin"],
            json={
                "organisation": "Cooperativa Logtest",
                "donor_ids": ["LOGTEST-1"],
                "dataset_ids": ["inserimento-lavorativo"],
            },
        )
        assert codes.status_code == 201, codes.text
        [row] = codes.json()["data"]
        claimed = call(
            "POST",
            "/api/v1/donors/claim",
            json={"donor_id": row["donor_id"], "code": row["claim_code"], "name": NAME, "email": EMAIL},
        )
        assert claimed.status_code == 201, claimed.text
        donor_token = claimed.json()["token"]
        program = call("GET", "/api/v1/programs", donor_token).json()["data"][0]
        given = call(
            "POST",
            "/api/v1/consents",
            donor_token,
            json={"program_id": program["id"], "text_version": program["current_text"]["version"]},
        )
        assert given.status_code == 201, given.text
        assert call("GET", "/api/v1/donors/me/export", donor_token).status_code == 200
        query = {"purpose": program["purpose"], "measures": [{"op": "count"}], "epsilon": 0.1}
        assert (
            call(
                "POST", "/api/v1/datasets/inserimento-lavorativo/queries", tokens["analyst"], json=query
            ).status_code
            == 200
        )
        created = call(
            "POST",
            "/api/v1/admin/tokens",
            tokens["admin"],
            json={"role": "analyst", "name": "logtest", "organisation": "org-logtest"},
        )
        assert created.status_code == 201, created.text
        wrong = "dc_" + "W" * 43
        assert call("GET", "/api/v1/datasets", wrong).status_code == 401
        secrets += [donor_token, row["claim_code"], created.json()["token"], wrong]

    server_log = log_path.read_text()
    records = [json.loads(line) for line in server_log.splitlines()]  # every line is one JSON object
    assert records, "the server wrote no log"
    for record in records:
        assert {"time", "level", "logger", "message", "request_id"} <= set(record)
    access = [r for r in records if r["logger"] == "datacommons.access"]
    assert [r["request_id"] for r in access if r["path"] != "/api/v1/health"] == request_ids
    assert all(set(r) >= {"method", "path", "status", "duration_ms"} for r in access)
    assert [r["status"] for r in access if r["request_id"] == request_ids[-1]] == [401]

    everything = demo.stdout.split("Demo tokens")[0] + demo.stderr + server_log
    for secret in secrets:
        assert secret not in everything, f"a secret or personal datum reached the logs: {secret[:6]}…"


def test_a_token_in_a_message_is_masked_whatever_code_logs_it() -> None:
    from datacommons.logs import Redact

    token = "dc_" + "A1b2" * 11
    record = logging.LogRecord(
        "x",
        logging.WARNING,
        __file__,
        1,
        "refused %s with %s",
        (token, "Authorization: Bearer abcdefgh12345678"),
        None,
    )
    assert Redact().filter(record)
    assert record.getMessage() == "refused [redacted] with Authorization: [redacted]"


def test_a_token_in_a_traceback_is_masked() -> None:
    import sys

    from pythonjsonlogger.json import JsonFormatter

    from datacommons.logs import Redact

    token = "dc_" + "Z9y8" * 11
    try:
        raise ValueError(f"bad header value {token}")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "unexpected error", None, sys.exc_info())
    assert Redact().filter(record)
    line = json.loads(JsonFormatter("%(levelname)s %(message)s").format(record))
    assert token not in json.dumps(line)
    assert "ValueError: bad header value [redacted]" in line["exc_info"]
