"""Reading a backup (a directory or a .tar) and checking every file against its manifest."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from datacommons import __version__
from datacommons.backup.format import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    SECRET_FILE,
    Progress,
    _safe_relative,
    _Silent,
)
from datacommons.errors import CheckFailed, InvalidInput
from datacommons.storage import HASH_CHUNK

# --- reading a backup -------------------------------------------------------------------------------


class _Source:
    """The files of a backup, in a directory or in a .tar (read in place, never extracted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tar: tarfile.TarFile | None = None
        self.members: dict[str, tarfile.TarInfo] = {}
        if path.is_file():
            try:
                self.tar = tarfile.open(path, "r:")  # noqa: SIM115 - closed by close()
            except (tarfile.TarError, OSError) as exc:
                raise InvalidInput(
                    f"{path} is not a backup: neither a directory nor a readable .tar file"
                ) from exc
            try:
                self.members = {m.name: m for m in self.tar.getmembers()}
            except (tarfile.TarError, OSError) as exc:
                self.tar.close()
                raise CheckFailed(f"the backup archive {path} is truncated or damaged") from exc
        elif not path.is_dir():
            raise InvalidInput(f"no backup at {path}")

    def close(self) -> None:
        if self.tar is not None:
            self.tar.close()

    def size(self, name: str) -> int | None:
        """The size of a file of the backup, or None if it is not there."""
        if self.tar is None:
            path = self.path / name
            return path.stat().st_size if path.is_file() and not path.is_symlink() else None
        member = self.members.get(name)
        return member.size if member is not None and member.isfile() else None

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """A file of the backup, for reading."""
        if self.tar is None:
            with (self.path / name).open("rb") as fh:
                yield fh
            return
        member = self.tar.extractfile(self.members[name])
        assert member is not None  # size() has checked it is a regular file
        with member:
            yield member


@contextmanager
def _opened(path: Path) -> Iterator[_Source]:
    source = _Source(Path(path))
    try:
        yield source
    finally:
        source.close()


def _read_manifest(source: _Source) -> dict[str, Any]:
    if source.size(MANIFEST) is None:
        raise InvalidInput(
            f"{source.path} has no {MANIFEST}: it is not a backup, or a backup that did not finish"
        )
    try:
        with source.open(MANIFEST) as fh:
            manifest = json.loads(fh.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckFailed(f"the backup's {MANIFEST} is damaged (not valid JSON)") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{source.path} is not a datacommons backup")
    if not isinstance(manifest.get("format_version"), int) or manifest["format_version"] > FORMAT_VERSION:
        raise InvalidInput(
            f"the backup's format {manifest.get('format_version')!r} is newer than "
            f"this datacommons ({__version__}) reads: restore it with a newer version"
        )
    try:
        for key in ("database", "tables", "store", "secret", "files"):
            manifest[key]  # noqa: B018 - presence check
        manifest["files"] = {_safe_relative(k): v for k, v in manifest["files"].items()}
        for table in manifest["tables"]:
            if table["file"] not in manifest["files"]:
                raise KeyError(table["file"])
        for content_hash, name in manifest["store"].items():
            if name not in manifest["files"] or manifest["files"][name]["sha256"] != content_hash:
                raise KeyError(name)
        if manifest["secret"]["included"] and SECRET_FILE not in manifest["files"]:
            raise KeyError(SECRET_FILE)
    except (KeyError, TypeError, AttributeError) as exc:
        raise CheckFailed(f"the backup's {MANIFEST} is damaged (it lacks {exc})") from exc
    return manifest


def _verify(source: _Source, progress: Progress) -> dict[str, Any]:
    """The manifest, once every file it lists has its recorded size, hash and row count."""
    manifest = _read_manifest(source)
    rows_of = {t["file"]: t["rows"] for t in manifest["tables"]}
    total = sum(entry["bytes"] for entry in manifest["files"].values())
    with progress.task("checking the backup (bytes)", total=total) as advance:
        for name, entry in sorted(manifest["files"].items()):
            size = source.size(name)
            if size is None:
                raise CheckFailed(f"the backup is incomplete: {name} is missing")
            if size != entry["bytes"]:
                raise CheckFailed(
                    f"the backup is damaged: {name} has {size} bytes, the manifest says {entry['bytes']}"
                )
            digest, lines = hashlib.sha256(), 0
            try:
                with source.open(name) as fh:
                    while chunk := fh.read(HASH_CHUNK):
                        digest.update(chunk)
                        lines += chunk.count(b"\n")
                        advance(len(chunk))
            except (tarfile.TarError, OSError) as exc:
                raise CheckFailed(f"the backup is damaged: {name} cannot be read ({exc})") from exc
            if digest.hexdigest() != entry["sha256"]:
                raise CheckFailed(f"the backup is damaged: {name} does not match its SHA-256")
            if name in rows_of and lines != rows_of[name]:
                raise CheckFailed(
                    f"the backup is damaged: {name} has {lines} rows, the manifest says {rows_of[name]}"
                )
    return manifest


def verify_backup(path: Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Check a backup without restoring it; its manifest, or an error naming the first bad file."""
    with _opened(path) as source:
        return _verify(source, progress or _Silent())
