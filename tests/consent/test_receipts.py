"""A donor registers, reads a program, consents, and gets a receipt anyone can verify offline."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import jwt
from fastapi.testclient import TestClient
from jwcrypto import jwk, jws

from datacommons.config import Settings
from tests.conftest import bearer
from tests.consent.conftest import DATASET, PROGRAM, give, register
from tests.support.cli import run_cli


def alter_one_char(token: str) -> str:
    """The token with one character of its payload replaced by another base64url character."""
    header, payload, signature = token.split(".")
    i = len(payload) // 2
    swapped = "A" if payload[i] != "A" else "B"
    return ".".join([header, payload[:i] + swapped + payload[i + 1 :], signature])


def pyjwt_decode(token: str, jwks: dict) -> dict:  # type: ignore[type-arg]
    """Verify with PyJWT (a second, independent JOSE implementation) and the published JWKS."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dict(jwt.decode(token, key.key, algorithms=["EdDSA"], options={"verify_iat": False}))


def jwcrypto_decode(token: str, jwks: dict) -> dict:  # type: ignore[type-arg]
    """Verify with jwcrypto (a third JOSE implementation) and the published JWKS alone."""
    key_set = jwk.JWKSet.from_json(json.dumps(jwks))
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(key_set.get_key(signed.jose_header["kid"]), alg="EdDSA")
    return dict(json.loads(signed.payload))


def test_donor_journey_receipt_verifies_everywhere(
    client: TestClient, program, settings: Settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    donor_id, token = register(client, name="Giulia Esempio", email="giulia@example.org")
    listed = client.get("/api/v1/programs").json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == PROGRAM["id"]
    read = client.get(f"/api/v1/programs/{PROGRAM['id']}").json()
    version = read["current_text"]["version"]

    answer = give(client, token, PROGRAM["id"], version)
    receipt = answer["receipt"]
    consent = answer["consent"]
    assert consent["status"] == "active" and consent["text_version"] == 1
    assert [e["event"] for e in consent["events"]] == ["given"]

    jwks = client.get("/.well-known/jwks.json").json()
    claims = pyjwt_decode(receipt, jwks)
    assert claims["sub"] == donor_id
    assert claims["event"] == "given"
    assert claims["consent_id"] == consent["id"]
    assert claims["program"]["id"] == PROGRAM["id"]
    assert claims["purpose"] == {
        "id": "dpv:ScientificResearch",
        "iri": "https://w3id.org/dpv#ScientificResearch",
    }
    assert claims["iss"] == settings.public_url.rstrip("/")
    assert claims["notice"] == {
        "version": 1,
        "sha256": read["current_text"]["sha256"],
        "languages": ["it", "en"],
        "url": f"{claims['iss']}/api/v1/programs/{PROGRAM['id']}/form.html?version=1",
    }
    assert client.get(claims["notice"]["url"].removeprefix(claims["iss"])).status_code == 200
    assert claims["controller"] == {
        "name": PROGRAM["controller"],
        "contact": PROGRAM["controller_contact"],
        "address": None,
    }
    assert claims["datasets"] == [DATASET]
    assert claims["record_id"] == claims["jti"] == consent["events"][0]["record_id"]
    assert claims["schema_version"] == "datacommons-consent-receipt/2"
    # what ISO/IEC TS 27560 and Kantara CR 1.1 ask for
    assert claims["jurisdiction"] == "IT"
    assert claims["collection"] == {"method": "donor-self-service", "actor": f"donor:{donor_id}"}
    assert (claims["sensitive"], claims["special_categories"]) == (True, ["health"])
    assert claims["legal_basis"].startswith("GDPR art. 6(1)(a) and 9(2)(a): consent")
    assert claims["recipients"] == ["class:researchers", "class:social-enterprises"]
    assert claims["ends_record_id"] is None
    assert jwcrypto_decode(receipt, jwks) == claims

    ok = run_cli(settings, "consent", "verify", receipt)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == claims

    tampered = alter_one_char(receipt)
    bad = run_cli(settings, "consent", "verify", tampered)
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and "does not verify" in bad.stderr
    try:
        pyjwt_decode(tampered, jwks)
    except jwt.PyJWTError:
        pass
    else:  # pragma: no cover - the assertion is the point
        raise AssertionError("PyJWT accepted a tampered receipt")

    # Offline, against a saved JWKS instead of the database; from a file and from stdin.
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks))
    receipt_file = tmp_path / "receipt.jws"
    receipt_file.write_text(receipt + "\n")
    offline = run_cli(
        settings,
        "consent",
        "verify",
        str(receipt_file),
        "--jwks",
        str(jwks_file),
        env={"DATACOMMONS_DATABASE_URL": "sqlite:////nonexistent/dir/x.db"},
    )
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout)["record_id"] == claims["record_id"]


def test_receipt_endpoint_and_bad_input(client: TestClient, program, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _donor, token = register(client)
    consent = give(client, token, PROGRAM["id"])["consent"]
    got = client.get(f"/api/v1/consents/{consent['id']}/receipt", headers=bearer(token))
    assert got.status_code == 200
    body = got.json()
    assert body["event"] == "given" and body["receipt"] == consent["events"][0]["receipt"]
    assert body["claims"]["consent_id"] == consent["id"]

    garbage = run_cli(settings, "consent", "verify", "not-a-receipt")
    assert garbage.returncode == 2 and "cannot read receipt file" in garbage.stderr
    two_parts = run_cli(settings, "consent", "verify", "abc.def")
    assert two_parts.returncode == 2 and "not a compact JWS" in two_parts.stderr


def test_old_receipts_verify_after_key_rotation(
    client: TestClient, program, tokens, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    _donor, token = register(client)
    first = give(client, token, PROGRAM["id"])
    old_receipt = first["receipt"]
    old_kid = jwt.get_unverified_header(old_receipt)["kid"]

    rotated = run_cli(settings, "consent", "rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = rotated.stdout.strip()
    assert new_kid and new_kid != old_kid

    withdrawn = client.post(
        f"/api/v1/consents/{first['consent']['id']}/withdraw", headers=bearer(token)
    ).json()
    new_receipt = withdrawn["receipt"]
    assert jwt.get_unverified_header(new_receipt)["kid"] == new_kid

    jwks = client.get("/.well-known/jwks.json").json()
    # the receipt keys, old and new, and the transparency log's key
    assert [k["kid"] for k in jwks["keys"] if not k["kid"].startswith("tlog-")] == [old_kid, new_kid]
    assert [k["kid"] for k in jwks["keys"] if k["kid"].startswith("tlog-")] == ["tlog-genesis"]
    assert all(set(k) == {"kty", "crv", "x", "kid", "alg", "use"} for k in jwks["keys"])
    assert pyjwt_decode(old_receipt, jwks)["event"] == "given"
    assert pyjwt_decode(new_receipt, jwks)["event"] == "withdrawn"
    for receipt in (old_receipt, new_receipt):
        assert run_cli(settings, "consent", "verify", receipt).returncode == 0

    listed = client.get("/api/v1/admin/consent/keys", headers=bearer(tokens["admin"])).json()
    assert [(k["kid"], k["active"]) for k in listed["data"]] == [(old_kid, False), (new_kid, True)]


def test_a_withdrawal_names_the_record_it_ends_and_anyone_can_check_a_receipts_status(  # type: ignore[no-untyped-def]
    client: TestClient, program
) -> None:
    donor_id, token = register(client)
    given = give(client, token, PROGRAM["id"])
    given_record = given["consent"]["events"][0]["record_id"]
    status = client.get(f"/api/v1/receipts/{given_record}/status")  # no token
    assert status.status_code == 200
    assert (status.json()["active"], status.json()["consent_status"], status.json()["superseded"]) == (
        True,
        "active",
        False,
    )
    assert donor_id not in status.text  # the answer names no one
    withdrawn = client.post(
        f"/api/v1/consents/{given['consent']['id']}/withdraw", headers=bearer(token)
    ).json()
    jwks = client.get("/.well-known/jwks.json").json()
    claims = jwcrypto_decode(withdrawn["receipt"], jwks)
    assert (claims["event"], claims["ends_record_id"]) == ("withdrawn", given_record)
    assert claims["collection"] == {"method": "donor-self-service", "actor": f"donor:{donor_id}"}
    after = client.get(f"/api/v1/receipts/{given_record}/status").json()
    assert (after["active"], after["consent_status"], after["superseded"]) == (False, "withdrawn", True)
    assert client.get("/api/v1/receipts/00000000-0000-0000-0000-000000000000/status").status_code == 404
    # the events the donor sees say who acted and how, too
    events = client.get(f"/api/v1/consents/{given['consent']['id']}", headers=bearer(token)).json()["events"]
    assert [(e["method"], e["actor"], e["ends_record_id"]) for e in events] == [
        ("donor-self-service", f"donor:{donor_id}", None),
        ("donor-self-service", f"donor:{donor_id}", given_record),
    ]


def test_the_withdrawals_of_an_erasure_say_so(client: TestClient, program) -> None:  # type: ignore[no-untyped-def]
    donor_id, token = register(client)
    give(client, token, PROGRAM["id"])
    erased = client.delete("/api/v1/donors/me", headers=bearer(token)).json()
    [withdrawal] = erased["receipts"]
    claims = jwcrypto_decode(withdrawal["receipt"], client.get("/.well-known/jwks.json").json())
    assert claims["collection"] == {"method": "erasure", "actor": f"donor:{donor_id}"}
    status = client.get(f"/api/v1/receipts/{withdrawal['record_id']}/status").json()
    assert (status["event"], status["active"]) == ("withdrawn", False)
