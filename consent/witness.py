"""A witness of the transparency log: what ``datacommons audit witness`` runs on a third party's machine.

Each run fetches the log's latest checkpoint, verifies its signature with the log key the witness
trusts, and — when it has seen an earlier checkpoint — fetches and verifies the RFC 9162 consistency
proof from that one. Only then does it store the new checkpoint and cosign it (C2SP
tlog-cosignature, Ed25519 with a timestamp) with the witness's own key, kept in its state
directory. A log that shrank, forked or rewrote anything the witness saw fails the run.

State directory: ``log.vkey`` (the trusted log key, given once with ``--key``), ``checkpoint`` (the
last verified checkpoint), ``witness.key`` (the witness's Ed25519 seed, mode 0600) and
``witness.vkey`` (its public verifier key, to give to whoever checks cosignatures).
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from consent import merkle, tlog
from datacommons.errors import CheckFailed, InvalidInput


@dataclass(frozen=True)
class Witnessed:
    """What a run saw: the checkpoint, the size before it, and the cosigned note."""

    checkpoint: tlog.Checkpoint
    previous_size: int | None
    cosigned: str


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _witness_key(state: Path, name: str) -> Ed25519PrivateKey:
    seed_file = state / "witness.key"
    if seed_file.exists():
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed_file.read_text()))
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes_raw()
    _write(seed_file, base64.b64encode(seed).decode() + "\n", mode=0o600)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = tlog.key_id(name, tlog.COSIGNATURE, public)
    vkey = f"{name}+{kid.hex()}+{base64.b64encode(tlog.COSIGNATURE + public).decode()}"
    _write(state / "witness.vkey", vkey + "\n")
    return key


def cosign(checkpoint: tlog.Checkpoint, key: Ed25519PrivateKey, name: str, at: int) -> str:
    """The C2SP cosignature line of ``checkpoint`` by ``key`` at POSIX time ``at``."""
    message = tlog.cosignature_message(checkpoint.text, at)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    blob = tlog.key_id(name, tlog.COSIGNATURE, public) + at.to_bytes(8, "big") + key.sign(message)
    return f"{tlog.DASH} {name} {base64.b64encode(blob).decode()}"


def submit(base_url: str, cosigned: str, client: httpx.Client | None = None) -> dict[str, object]:
    """Send a cosigned checkpoint to the log, which keeps it if it knows this witness's key; its
    answer. :class:`InvalidInput` when the log refuses it (the reason is the log's)."""
    http = client or httpx.Client(timeout=30)
    url = base_url.rstrip("/") + "/api/v1/transparency/cosignature"
    try:
        answer = http.post(url, content=cosigned.encode(), headers={"Content-Type": "text/plain"})
    except httpx.HTTPError as exc:
        raise InvalidInput(f"cannot send the cosignature to {url}: {exc}") from exc
    finally:
        if client is None:
            http.close()
    if answer.status_code != 200:
        try:
            reason = answer.json().get("error", answer.text)
        except ValueError:
            reason = answer.text
        raise InvalidInput(f"the log refused the cosignature ({answer.status_code}): {reason}")
    return dict(answer.json())


def run(
    base_url: str,
    state: Path,
    *,
    vkey: str | None = None,
    name: str,
    client: httpx.Client | None = None,
) -> Witnessed:
    """One witness run against the commons at ``base_url``; :class:`CheckFailed` if the log lied."""
    state.mkdir(parents=True, exist_ok=True)
    trusted_file = state / "log.vkey"
    trusted = trusted_file.read_text().strip() if trusted_file.exists() else None
    if vkey and trusted and vkey.strip() != trusted:
        raise InvalidInput(f"{state} already trusts another log key; use another state directory")
    key = vkey.strip() if vkey else trusted
    if key is None:
        raise InvalidInput(
            "first run: give the log's verifier key with --key, obtained from the operator over a "
            "channel you trust (the log's own /api/v1/transparency/key is only its claim)"
        )
    tlog.parse_verifier_key(key)
    http = client or httpx.Client(timeout=30)
    api = base_url.rstrip("/") + "/api/v1/transparency"
    saved_file = state / "checkpoint"
    try:
        answer = http.get(f"{api}/checkpoint")
        answer.raise_for_status()
        current = tlog.verify_checkpoint(answer.text, key)
        previous = None
        if saved_file.exists():
            previous = tlog.verify_checkpoint(saved_file.read_text(encoding="utf-8"), key)
            if current.size < previous.size:
                raise CheckFailed(
                    f"the log shrank from {previous.size} to {current.size} entries: it was truncated"
                )
            if current.size == previous.size and current.root != previous.root:
                raise CheckFailed(
                    f"the log shows another tree of {current.size} entries: history was rewritten"
                )
            if current.size > previous.size:
                proof = http.get(
                    f"{api}/proof/consistency", params={"first": previous.size, "second": current.size}
                )
                proof.raise_for_status()
                hashes = [base64.b64decode(h) for h in proof.json()["proof"]]
                if not merkle.verify_consistency(
                    previous.size, current.size, previous.root, current.root, hashes
                ):
                    raise CheckFailed(
                        f"the log of {current.size} entries does not extend the one of {previous.size} "
                        "this witness saw: history was rewritten"
                    )
    except httpx.HTTPError as exc:
        raise InvalidInput(f"cannot read the log at {api}: {exc}") from exc
    finally:
        if client is None:
            http.close()
    if not trusted:
        _write(trusted_file, key + "\n")
    _write(saved_file, answer.text)
    line = cosign(current, _witness_key(state, name), name, int(time.time()))
    cosigned = current.text + "\n" + "".join(s + "\n" for s in current.signatures) + line + "\n"
    return Witnessed(current, previous.size if previous else None, cosigned)
