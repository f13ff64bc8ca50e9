"""A donor checks that a release that included them is in the public log: their uses point at the
release's leaf with an inclusion proof against the latest checkpoint (verified here independently)."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient

from datacommons import auth
from datacommons.db import transaction
from tests.conftest import bearer
from tests.privacy.test_api import QUERY, URL, publish_private
from tests.transparency.test_tree import decode, h_leaf, root_from_path


def test_a_donors_use_comes_with_a_proof_against_the_checkpoint(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings
) -> None:
    private = publish_private(sessions, settings)
    released = client.post(URL, json=QUERY, headers=bearer(tokens["analyst"]))
    assert released.status_code == 200
    donor = private[0]
    with transaction(sessions) as session:  # the donor's own session (test setup)
        _token, token = auth.create_token(session, role="donor", name="d", donor_id=donor)
    uses = client.get("/api/v1/donors/me/uses", headers=bearer(token)).json()["data"]
    assert uses, "the release included this consenting donor"
    [use] = [u for u in uses if u["release_id"] == released.json()["release_id"]]
    checkpoint = client.get("/api/v1/transparency/checkpoint").text
    _origin, size, root = checkpoint.split("\n\n")[0].split("\n")
    assert use["tree_size"] == int(size)
    entry = client.get(
        "/api/v1/transparency/entries", params={"start": use["log_index"], "end": use["log_index"] + 1}
    ).json()["entries"][0]["entry"]
    # the leaf is the release, by what it says: nothing in it names the donor
    assert entry["details"]["release_id"] == use["release_id"] and entry["kind"] == "release"
    assert donor not in json.dumps(entry)
    leaf = h_leaf(json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode())
    got = root_from_path(use["log_index"], use["tree_size"], leaf, decode(use["inclusion_proof"]))
    assert got == base64.b64decode(root)
    export = client.get("/api/v1/donors/me/export", headers=bearer(token)).json()
    assert [u["inclusion_proof"] for u in export["uses"] if u["release_id"] == use["release_id"]] == [
        use["inclusion_proof"]
    ]
