"""Administrative acts: what an operator did that anyone may later check in the transparency log.

The kernel announces each act — a version staged (ingest), validated or rejected, published or made
current again (rollback), an access policy set, a token issued or revoked — with :func:`record`, in
the transaction that does it. The log lives in a package the kernel may not import, so the
composition roots (``datacommons.app``, ``datacommons.cli``, ``datacommons.demo``) subscribe its
recorder with :func:`on_act`; the act and its entry commit or roll back together.

An act names no person: ``actor`` is kept beside the entry for the operators, never published, and
``details`` hold identifiers, counts and hashes only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session


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
_RECORDERS: list[Recorder] = []


def on_act(recorder: Recorder) -> None:
    """Call ``recorder(session, act)`` for every act from now on; subscribing twice has no effect."""
    if recorder not in _RECORDERS:
        _RECORDERS.append(recorder)


def record(session: Session, act: Act) -> None:
    """Announce ``act`` to every recorder, in the caller's transaction."""
    for recorder in _RECORDERS:
        recorder(session, act)
