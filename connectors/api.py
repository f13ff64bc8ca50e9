"""Administration of ingests over HTTP: ``POST /api/v1/admin/ingest/{connector}`` and the list.

Send JSON ``{"params": {...}}``, or a multipart form with a ``file`` part (a donated file, a local
copy of a source) and an optional ``params`` part holding the same JSON object.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from connectors.catalogue import available
from connectors.ingest import IngestResult, run
from datacommons.auth import Principal
from datacommons.deps import AdminPrincipal, commons_of
from datacommons.errors import InvalidInput, PayloadTooLarge
from datacommons.guards import Guard
from datacommons.schemas import ListOf, error_responses

#: The largest file an administrator may upload (a donation of the metropolitan scale is ~60 MB).
MAX_UPLOAD_BYTES = 1 << 30

router = APIRouter(prefix="/admin", tags=["admin"], responses=error_responses(401, 403, 422))
#: Ingest takes file uploads: the larger body limit.
GUARDS = (Guard("/admin/ingest/{connector}", upload=True),)


class ConnectorPublic(BaseModel):
    """A connector: its name, version, what it pulls, whether it takes a file, its parameters."""

    name: str
    version: str
    summary: str
    accepts_file: bool
    requires_file: bool
    params: dict[str, Any]


class StagedPublic(BaseModel):
    """A version an ingest staged (``created`` false: the same content was already there)."""

    dataset_id: str
    version: int
    created: bool
    rows: int
    status: str
    content_hash: str
    failures: list[str] = []
    gate_note: str = ""


class UnchangedPublic(BaseModel):
    """A dataset not fetched again because its source has not changed."""

    dataset_id: str
    reason: str


class IngestPublic(BaseModel):
    """What an ingest did."""

    connector: str
    staged: list[StagedPublic]
    unchanged: list[UnchangedPublic] = Field(default_factory=list)

    @classmethod
    def of(cls, result: IngestResult) -> IngestPublic:
        """The public view of an ingest result."""
        return cls(
            connector=result.connector,
            staged=[StagedPublic(**vars(s)) for s in result.staged],
            unchanged=[UnchangedPublic(dataset_id=u.dataset_id, reason=u.reason) for u in result.unchanged],
        )


@router.get("/connectors", response_model=ListOf[ConnectorPublic])
def list_connectors(_admin: AdminPrincipal) -> ListOf[ConnectorPublic]:
    """Every connector the commons can ingest with, and the JSON schema of its parameters."""
    items = [
        ConnectorPublic(
            name=name,
            version=cls.version,
            summary=cls.summary,
            accepts_file=cls.accepts_file,
            requires_file=cls.requires_file,
            params=cls.config_type.model_json_schema(),
        )
        for name, cls in sorted(available().items())
    ]
    return ListOf[ConnectorPublic](data=items, count=len(items))


def _safe_name(name: str | None) -> str:
    base = Path(name or "upload").name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", base)[:120] or "upload"


def _params(raw: Any) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise InvalidInput(f"params: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise InvalidInput("params: expected a JSON object")
    return raw


@router.post("/ingest/{connector}", response_model=IngestPublic, responses=error_responses(413, 503))
async def run_ingest(connector: str, request: Request, admin: AdminPrincipal) -> IngestPublic:
    """Run a connector and stage what it yields (JSON ``{"params": {}}`` or a multipart upload)."""
    kind = request.headers.get("content-type", "")
    upload: UploadFile | None = None
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        params = _params(form.get("params"))
        part = form.get("file")
        if part is not None and not isinstance(part, UploadFile):
            raise InvalidInput("file: expected an uploaded file")
        upload = part
    else:
        body = await request.body()
        payload = _params(body.decode("utf-8", "replace")) if body.strip() else {}
        unknown = sorted(set(payload) - {"params"})
        if unknown:  # a parameter outside "params" would otherwise be silently ignored
            raise InvalidInput(f'unknown field {", ".join(unknown)}: put connector parameters under "params"')
        params = _params(payload.get("params", {}))
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        path: Path | None = None
        if upload is not None:
            path = Path(tmp) / _safe_name(upload.filename)
            await run_in_threadpool(_save, upload, path)
        result = await run_in_threadpool(_ingest, request, admin, connector, path, params)
    return IngestPublic.of(result)


def _save(upload: UploadFile, path: Path) -> None:
    size = 0
    with path.open("wb") as fh:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise PayloadTooLarge(f"{path.name}: larger than {MAX_UPLOAD_BYTES >> 20} MB")
            fh.write(chunk)


def _ingest(
    request: Request, admin: Principal, connector: str, path: Path | None, params: dict[str, Any]
) -> IngestResult:
    return run(commons_of(request), connector_name=connector, file=path, params=params, actor=admin.actor)
