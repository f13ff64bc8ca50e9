"""Hostile input: schemathesis fuzzes every operation of the app's own OpenAPI description.

Each generated request is sent five times: without a token and with an administrator's, an
analyst's, a researcher's and a donor's token, against the seeded demo commons (so ids that exist
lead the requests into the services' deep paths). Every answer must be no server error (a 503 only
where the operation documents it: a source the offline test cannot reach) and must conform to the
description: a documented status code, the documented content type, a body of the documented schema.

The 5xx check is schemathesis' ``not_a_server_error`` made exact: a 503 passes only where documented.
The run is bounded and reproducible: few examples per operation, derandomized (a larger random run,
40 examples per operation, passed on both databases before this was committed).
"""

from __future__ import annotations

import tempfile
import zlib
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from datacommons.app import create_app
from tests.conftest import bearer
from tests.security.conftest import World, make_settings

CALLERS = ("anonymous", "admin", "analyst", "researcher", "donor")
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def openapi_of_app() -> dict[str, Any]:
    """The app's own OpenAPI description, as ``/openapi.json`` serves it.

    It does not depend on the database, so an app built on a never-opened SQLite file describes the
    same API as the seeded one the requests go to. (schemathesis' ``from_fixture`` loader would
    build it from the fixture instead, but it does not run on pytest 9.)
    """
    with tempfile.TemporaryDirectory(prefix="openapi-") as tmp:
        app = create_app(make_settings(Path(tmp) / "var", f"sqlite:///{tmp}/unused.sqlite3"))
        try:
            return app.openapi()
        finally:
            app.state.commons.engine.dispose()


#: The coverage phase probes each path with methods it does not answer (405); one such method is
#: enough, the router answers them all alike.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"unexpected-methods": ["patch"]}}})
schema = schemathesis.openapi.from_dict(openapi_of_app(), config=CONFIG)


def caller_headers(world: World, caller: str, case: Any) -> dict[str, str]:
    """The caller's Authorization header; erasure uses a fresh donor so the seeded one survives."""
    if caller == "anonymous":
        return {}
    if caller == "donor" and case.method == "DELETE" and case.path == "/api/v1/donors/me":
        return bearer(world.new_donor()["token"])
    return bearer(world.tokens[caller])


def real_ids(world: World, case: Any) -> dict[str, Any]:
    """Path parameters naming records that exist, so the generated query and body reach the services."""
    ids = world.ids
    dataset = ids["open_dataset"] if case.path.endswith("/download") else ids["dataset"]
    known = {
        "dataset_id": dataset,
        "program_id": ids["program"],
        "consent_id": ids["consent"],
        "extract_id": ids["extract"],
        "report_id": ids["report"],
        "number": ids["number"],
        "connector": "plan2030",
    }
    if "token_id" in (case.path_parameters or {}):
        known["token_id"] = world.new_token("analyst")[0]  # a throwaway: the revoke may succeed
    return {name: known[name] for name in case.path_parameters or {} if name in known}


@schema.parametrize()
@settings(
    max_examples=6, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_api_holds_against_generated_requests(case: Any, world: World) -> None:
    documented = {str(code) for code in case.operation.definition.raw.get("responses", {})}
    generated = case.path_parameters or {}
    # The documented examples name real records; so does about every other generated case.
    examples = case.meta is not None and case.meta.phase.name == "examples"
    if generated and (examples or zlib.crc32(repr(sorted(generated.items())).encode()) % 2):
        case.path_parameters = {**generated, **real_ids(world, case)}
    check(world, case, documented)
    if case.path.endswith("/revoke"):
        world.restore_tokens()


def check(world: World, case: Any, documented: set[str]) -> None:
    """Send ``case`` as each caller; every answer must be no server error and as documented."""
    for caller in CALLERS:
        headers = caller_headers(world, caller, case)
        response = case.call(headers=headers, app=world.app)
        assert response.status_code < 500 or (response.status_code == 503 and "503" in documented), (
            f"{caller}: {case.method} {case.formatted_path} answered {response.status_code}: "
            f"{response.text[:500]}"
        )
        case.validate_response(response, checks=CHECKS, headers=headers, transport_kwargs={"app": world.app})
