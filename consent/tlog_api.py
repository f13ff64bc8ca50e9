"""The public transparency log over HTTP, without a token: checkpoint, verifier key, entries and the
RFC 9162 inclusion and consistency proofs (hashes in base64)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from consent import cosignatures, log_keys, merkle, tlog
from consent.models import TransparencyEntry
from datacommons.deps import SessionDep, commons_of
from datacommons.errors import InvalidInput, NotFound
from datacommons.schemas import error_responses

router = APIRouter(prefix="/transparency", tags=["transparency"], responses=error_responses(422))

#: The most entries one page of ``/transparency/entries`` returns.
PAGE = 1000
MAX_INDEX = 2**62


def log_key(request: Request, session: Session) -> tlog.LogKeys:
    """The keys that sign this instance's checkpoints."""
    settings = commons_of(request).settings
    return log_keys.load(session, settings.secret_key_bytes(), settings.public_url)


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class LogEntry(BaseModel):
    """One leaf of the log: its index, its leaf hash and the entry it encodes."""

    index: int
    leaf_hash: str = Field(description="base64 of SHA-256(0x00 || canonical entry bytes)")
    entry: dict[str, object] = Field(description="The entry; its canonical JSON encoding is the leaf input")


class LogEntries(BaseModel):
    """Entries [start, end) of the log."""

    tree_size: int
    start: int
    end: int
    entries: list[LogEntry]


class InclusionProof(BaseModel):
    """RFC 9162 2.1.3 inclusion proof of leaf ``index`` in the tree of size ``tree_size``."""

    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str] = Field(description="base64 hashes, from the leaf's sibling up")


class ConsistencyProof(BaseModel):
    """RFC 9162 2.1.4 consistency proof between the trees of sizes ``first`` and ``second``."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str] = Field(description="base64 hashes")


def _tree(session: SessionDep, size: int | None = None) -> tlog.Tree:
    current = tlog.tree_size(session)
    if size is not None and size > current:
        raise InvalidInput(f"the log has {current} entries: no tree of size {size} yet")
    return tlog.Tree(session, current if size is None else size)


@router.get("/checkpoint", response_class=PlainTextResponse)
def get_checkpoint(request: Request, session: SessionDep) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint: origin, tree size, base64 root hash, and
    the log's Ed25519 signature line), with the witnesses' cosignatures of that size if any have
    come yet. No token needed."""
    return PlainTextResponse(
        cosignatures.with_cosignatures(session, log_key(request, session)),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/checkpoint/cosigned", response_class=PlainTextResponse, responses=error_responses(404))
def get_cosigned(request: Request, session: SessionDep) -> PlainTextResponse:
    """The latest checkpoint that witnesses cosigned, with all their cosignatures (C2SP
    tlog-cosignature lines after the log's signature)."""
    size = cosignatures.latest_cosigned_size(session)
    if size is None:
        raise NotFound("no witness has cosigned a checkpoint of this log yet")
    return PlainTextResponse(
        cosignatures.with_cosignatures(session, log_key(request, session), size),
        headers={"Cache-Control": "no-store"},
    )


class Cosigned(BaseModel):
    """The cosignatures kept from a submitted note."""

    tree_size: int
    witnesses: list[str] = Field(description="The known witnesses whose cosignatures were kept")


#: The largest note a witness may submit.
MAX_NOTE = 16_384


@router.post(
    "/cosignature",
    response_model=Cosigned,
    responses=error_responses(403, 409),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "The checkpoint as the log signed it, with the witness's cosignature line "
            "added (what `datacommons audit witness` prints).",
        }
    },
)
async def post_cosignature(request: Request) -> Cosigned:
    """A witness sends its cosignature of a checkpoint (no token: the signature is the credential;
    only witnesses listed in DATACOMMONS_WITNESS_KEYS are kept)."""
    raw = await request.body()
    if len(raw) > MAX_NOTE:
        raise InvalidInput(f"a cosigned checkpoint is at most {MAX_NOTE} bytes")
    try:
        note = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the note is not UTF-8 text") from exc
    settings = commons_of(request).settings

    def keep() -> tuple[int, list[str]]:
        with commons_of(request).transaction() as session:
            return cosignatures.accept(session, note, log_key(request, session), settings.witness_keys)

    size, kept = await run_in_threadpool(keep)
    return Cosigned(tree_size=size, witnesses=kept)


@router.get("/key", response_class=PlainTextResponse)
def get_key(request: Request, session: SessionDep) -> PlainTextResponse:
    """The log's newest verifier key (C2SP signed-note vkey: ``name+keyid+base64(0x01 || Ed25519
    key)``). Every key in ``/keys`` not retired signs each checkpoint."""
    return PlainTextResponse(log_key(request, session).verifier_key + "\n")


class LogKeyPublic(BaseModel):
    """A key of the log: its id (also in the JWKS), its C2SP verifier key and whether it still signs."""

    kid: str
    verifier_key: str
    signing: bool
    created_at: datetime
    retired_at: datetime | None


@router.get("/keys", response_model=list[LogKeyPublic])
def get_keys(request: Request, session: SessionDep) -> list[LogKeyPublic]:
    """Every key the log has signed with, newest first: rotated keys stay listed, so checkpoints
    they signed still verify (the same keys are in /.well-known/jwks.json)."""
    settings = commons_of(request).settings
    infos = log_keys.published(session, settings.secret_key_bytes(), settings.public_url)
    return [LogKeyPublic.model_validate(info, from_attributes=True) for info in infos]


@router.get("/entries", response_model=LogEntries)
def get_entries(
    session: SessionDep,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0,
    end: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None,
) -> LogEntries:
    """Entries [start, end) of the log, at most 1000 (no token needed)."""
    size = tlog.tree_size(session)
    stop = min(size, end if end is not None else size, start + PAGE)
    if end is not None and end <= start:
        raise InvalidInput("end must be greater than start")
    rows = session.scalars(
        select(TransparencyEntry)
        .where(TransparencyEntry.id > start, TransparencyEntry.id <= stop)
        .order_by(TransparencyEntry.id)
    )
    entries = [
        LogEntry(
            index=e.id - 1, leaf_hash=b64(merkle.leaf_hash(tlog.entry_bytes(e))), entry=tlog.entry_public(e)
        )
        for e in rows
    ]
    return LogEntries(tree_size=size, start=start, end=max(start, stop), entries=entries)


@router.get("/proof/inclusion", response_model=InclusionProof)
def get_inclusion(
    session: SessionDep,
    index: Annotated[int, Query(ge=0, le=MAX_INDEX)],
    tree_size: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None,
) -> InclusionProof:
    """The proof that leaf ``index`` is in the tree of size ``tree_size`` (the latest by default)."""
    tree = _tree(session, tree_size)
    if index >= tree.size:
        raise InvalidInput(f"leaf {index} is not in a tree of size {tree.size}")
    proof = tree.inclusion_proofs([index])[index]
    return InclusionProof(
        index=index,
        tree_size=tree.size,
        leaf_hash=b64(tree.subtree(index, index + 1)),
        root_hash=b64(tree.root()),
        proof=[b64(p) for p in proof],
    )


@router.get("/proof/consistency", response_model=ConsistencyProof)
def get_consistency(
    session: SessionDep,
    first: Annotated[int, Query(ge=1, le=MAX_INDEX)],
    second: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None,
) -> ConsistencyProof:
    """The proof that the tree of size ``second`` (the latest by default) extends that of size
    ``first``."""
    tree = _tree(session, second)
    if first > tree.size:
        raise InvalidInput(f"first ({first}) is larger than the tree ({tree.size})")
    older = tlog.Tree(session, first)
    return ConsistencyProof(
        first=first,
        second=tree.size,
        first_root=b64(older.root()),
        second_root=b64(tree.root()),
        proof=[b64(p) for p in merkle.consistency_proof(first, tree.size, tree.subtree)],
    )
