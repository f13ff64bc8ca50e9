"""Administrative acts: what an operator did that anyone may later check in the transparency log.

The kernel announces each act — a version staged (ingest), validated or rejected, published or made
current again (rollback), an access policy set, a token issued or revoked — with :func:`record`, in
the transaction that does it; the act and its entry commit or roll back together. The log lives in a
package the kernel may not import, so its recorder is found as a plug-in, by the entry-point group
``datacommons.acts`` (``[project.entry-points."datacommons.acts"]`` in ``pyproject.toml``), the first
time an act is recorded: every path that acts — the server, the command line, a script, a test —
logs, whatever it imported first. A commons installed without any recorder refuses to act.

An act names no person: ``actor`` is kept beside the entry for the operators, never published, and
``details`` hold identifiers, counts and hashes only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy.orm import Session

#: The entry-point group of act recorders.
ENTRY_POINT_GROUP = "datacommons.acts"


@dataclass(frozen=True)
class Act:
    """One administrative act: its kind (a kind of the transparency log), who did it (kept private),
    a one-line description, the datasets and organisation it concerns, and public details."""

    kind: str
    actor: str
    purpose: str
    datasets: tuple[str, ...] = ()
    organisation: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


Recorder = Callable[[Session, Act], None]


@lru_cache(maxsize=1)
def recorders() -> tuple[Recorder, ...]:
    """The installed recorders (loaded once)."""
    found = tuple(
        point.load() for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name)
    )
    if not found:
        raise RuntimeError(
            f"no recorder of administrative acts is installed (entry points {ENTRY_POINT_GROUP!r}): "
            "reinstall the commons (pip install -e .)"
        )
    return found


def record(session: Session, act: Act) -> None:
    """Announce ``act`` to every recorder, in the caller's transaction."""
    for recorder in recorders():
        recorder(session, act)
