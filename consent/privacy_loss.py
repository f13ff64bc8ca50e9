"""Every donor's lifetime privacy loss, across all datasets and versions: the per-person ledger.

The donor is the privacy unit of the whole commons. Every DP release or extract charges its epsilon
to each donor it includes. A donor whose lifetime loss would pass the per-person cap is left out of
the release *before* aggregation: an individual privacy filter (Feldman and Zrnic, "Individual
Privacy Accounting via a Rényi Filter", 2021), sound because whether a donor is included depends only
on that donor's own history, never on anyone else's records. Nothing about the donors left out is
released, not even how many there were.

How it is stored, and how it grows. Donors included in exactly the same releases share one
:class:`~consent.models.LossGroup`, which points at the newest :class:`~consent.models.LossNode` of
their common history; a node is one release (dataset, version, organisation, purpose, epsilon, time)
with its parent, the release before it in that history, and the history's running total. So:

- a release that includes every donor of a group adds one node and moves the group's pointer: one row
  written, however many donors the group holds;
- a release that includes only part of a group splits it and moves the *smaller* side to a new group
  (partition refinement): rows are written per donor only where histories diverge;
- a donor's first inclusion ever writes their membership row, once in their lifetime.

The tables grow with releases × groups, not releases × donors. A donor's history is the chain of
nodes from their group's node to the root. Charges are serialised by a lock on the one
:class:`~consent.models.LossState` row, whose ``membership`` counter moves whenever a donor joins,
leaves or changes group, so each process reloads only the membership rows that changed.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, event, select, update
from sqlalchemy.orm import Session, aliased

from consent.models import LossGroup, LossMember, LossNode, LossState
from datacommons.vocabularies import PURPOSES

NANO = 10**9
STATE_ID = 1
#: The group of a donor whose link to their history was erased: never included again.
FORGOTTEN = -1
#: Donors per statement when membership rows are written or moved.
CHUNK = 500


def to_nano(epsilon: float) -> int:
    """Epsilon as an integer amount of nano-epsilon, rounded up: never under-charged.

    The float is first read to a thousandth of a nano-epsilon (so 0.1, which is 0.1000000000000000055
    as a float, is 100,000,000 and ten of them are exactly 1), then rounded up; any positive amount
    costs at least 1 (4e-13 was 0: tiny amounts were free, and so unbounded in number).
    """
    amount = -(-round(epsilon * NANO * 1000) // 1000)  # integer ceiling division
    return max(amount, 1) if epsilon > 0 else amount


class InclusionChanged(Exception):
    """Another release changed who has budget left since this one chose its donors: choose again."""


@dataclass(frozen=True)
class Use:
    """What a release is, as a donor's history records it."""

    release_id: str
    kind: str
    dataset_id: str
    version: int
    organisation: str | None
    purpose: str
    epsilon: float
    at: datetime
    #: The release's leaf in the public transparency log (None for releases before the tree).
    log_index: int | None = None


@dataclass(frozen=True)
class Inclusion:
    """The donors a release includes: the eligible ones with enough of their lifetime budget left."""

    donors: frozenset[str]
    #: Eligible donors per group (None: never included before; FORGOTTEN: erased).
    counts: dict[int | None, int] = field(repr=False)
    left_out_groups: frozenset[int]


@dataclass
class _Members:
    membership: int
    nonce: str
    group_of: dict[str, int]
    members_of: dict[int, set[str]]
    #: The last partition computed: (eligible donors, counts per group).
    last: tuple[frozenset[str], dict[int | None, int]] | None = None


_members: dict[str, _Members] = {}
_lock = threading.Lock()


def _url(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


@dataclass(frozen=True)
class _Version:
    """The membership counter and the random nonce its last move wrote."""

    membership: int
    nonce: str


def _version(session: Session, *, lock: bool = False) -> _Version:
    query = select(LossState.membership, LossState.nonce).where(LossState.id == STATE_ID)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).first()
    if row is None:  # without it there would be no lock and no counter: never carry on
        raise RuntimeError("the privacy-loss ledger has no state row: run the migrations")
    return _Version(int(row[0]), str(row[1]))


def _bump(session: Session, version: _Version) -> _Version:
    moved = _Version(version.membership + 1, secrets.token_hex(8))
    session.execute(
        update(LossState)
        .where(LossState.id == STATE_ID)
        .values(membership=moved.membership, nonce=moved.nonce)
    )
    return moved


def _load(session: Session, version: _Version) -> _Members:
    """This process's copy of the membership table, brought up to ``version`` (call under _lock).

    Only the rows moved since the copy's version are read. A counter that went backwards, or the
    same counter with another nonce (a database restored or made anew under the same URL), means
    the copy is of another history: it is read again whole.
    """
    key = _url(session)
    cached = _members.get(key)
    if cached is not None and (cached.membership, cached.nonce) == (version.membership, version.nonce):
        return cached
    if cached is None or cached.membership >= version.membership:
        cached = _Members(0, "", {}, {})
    rows = (
        session.connection()
        .exec_driver_sql(
            f"SELECT donor_id, group_id FROM privacy_loss_members WHERE moved > {int(cached.membership)}"
        )
        .fetchall()
    )
    for donor_id, group_id in rows:
        _place(cached, donor_id, FORGOTTEN if group_id is None else int(group_id))
    cached.membership, cached.nonce = version.membership, version.nonce
    cached.last = None
    _members[key] = cached
    return cached


def _place(members: _Members, donor_id: str, group_id: int) -> None:
    old = members.group_of.get(donor_id)
    if old is not None:
        members.members_of[old].discard(donor_id)
    members.group_of[donor_id] = group_id
    members.members_of.setdefault(group_id, set()).add(donor_id)


def _counts(members: _Members, donors: frozenset[str]) -> dict[int | None, int]:
    """How many of ``donors`` each group holds (cached: the same eligible set comes back often)."""
    if members.last is not None and members.last[0] is donors:
        return members.last[1]
    group_of = members.group_of
    counts = dict(Counter(group_of.get(d) for d in donors))
    members.last = (donors, counts)
    return counts


def _group_totals(session: Session, group_ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """Per group: (size, node id, spent nano-epsilon, uses)."""
    out: dict[int, tuple[int, int, int, int]] = {}
    for start in range(0, len(group_ids), CHUNK):
        chunk = group_ids[start : start + CHUNK]
        rows = session.execute(
            select(LossGroup.id, LossGroup.size, LossNode.id, LossNode.spent_nano, LossNode.uses)
            .join(LossNode, LossNode.id == LossGroup.node_id)
            .where(LossGroup.id.in_(chunk))
        )
        for group_id, size, node_id, spent, uses in rows:
            out[group_id] = (size, node_id, spent, uses)
    return out


def _inclusion(
    session: Session, *, donors: frozenset[str], epsilon: float, cap: float, version: _Version
) -> tuple[Inclusion, dict[int, tuple[int, int, int, int]]]:
    with _lock:
        members = _load(session, version)
        counts = _counts(members, donors)
        totals = _group_totals(session, [g for g in counts if g is not None and g != FORGOTTEN])
        amount, limit = to_nano(epsilon), to_nano(cap)
        # An erased donor's eligibility may be read from before the erasure: never include them.
        left_out = frozenset(
            [g for g, (_size, _node, spent, _uses) in totals.items() if spent + amount > limit]
            + ([FORGOTTEN] if FORGOTTEN in counts else [])
        )
        included = donors
        if left_out or amount > limit:
            group_of = members.group_of
            included = frozenset(
                d
                for d in donors
                if group_of.get(d) not in left_out and (group_of.get(d) is not None or amount <= limit)
            )
    return Inclusion(included, counts, left_out), totals


def inclusion(session: Session, *, donors: frozenset[str], epsilon: float, cap: float) -> Inclusion:
    """The donors of ``donors`` whose lifetime loss stays within ``cap`` after spending ``epsilon``."""
    return _inclusion(session, donors=donors, epsilon=epsilon, cap=cap, version=_version(session))[0]


def charge(
    session: Session, *, eligible: frozenset[str], chosen: Inclusion, epsilon: float, cap: float, use: Use
) -> None:
    """Charge ``epsilon`` to every donor ``chosen`` includes, in the caller's transaction.

    Takes the ledger's lock and checks that the donors with budget left (and not erased) are still
    exactly those the release was computed over; if a concurrent release or erasure changed that,
    raises :class:`InclusionChanged` (the caller rolls back and computes the release again) — so no
    donor is ever charged past the cap, and no erased donor is included.
    """
    version = _version(session, lock=True)
    fresh, totals = _inclusion(session, donors=eligible, epsilon=epsilon, cap=cap, version=version)
    # (set comparison has no shortcut for one object: 450,000 donors would cost 40 ms)
    if fresh.donors is not chosen.donors and fresh.donors != chosen.donors:
        raise InclusionChanged
    if not fresh.donors:
        return
    amount = to_nano(epsilon)
    moves: dict[int, list[str]] = {}  # group id -> the donors that move (or join) there
    with _lock:
        members = _load(session, version)
        splits = {
            g
            for g, count in fresh.counts.items()
            if g is not None and g not in fresh.left_out_groups and 0 < count <= totals[g][0] - count
        }
        # The included donors of every group whose included side is the smaller: one pass.
        inside: dict[int | None, list[str]] = {g: [] for g in splits}
        if splits or fresh.counts.get(None):
            inside[None] = []
            for donor in fresh.donors:
                group = members.group_of.get(donor)
                if group in inside:
                    inside[group].append(donor)
        for group_id, count in fresh.counts.items():
            if group_id is None or group_id in fresh.left_out_groups:
                continue
            size, node_id, spent, uses = totals[group_id]
            node = _node(session, use, parent=node_id, amount=amount, spent=spent + amount, uses=uses + 1)
            if count == size:  # the whole group: one pointer moves
                session.execute(update(LossGroup).where(LossGroup.id == group_id).values(node_id=node.id))
            elif group_id in splits:  # the included donors are fewer: they take the new history
                moves[_group(session, node_id=node.id, size=count)] = inside[group_id]
                session.execute(update(LossGroup).where(LossGroup.id == group_id).values(size=size - count))
            else:  # the others are fewer: they keep the old history in a new group
                staying = [d for d in members.members_of.get(group_id, ()) if d not in fresh.donors]
                moves[_group(session, node_id=node_id, size=size - count)] = staying
                session.execute(
                    update(LossGroup).where(LossGroup.id == group_id).values(node_id=node.id, size=count)
                )
    if not moves and not fresh.counts.get(None):
        return
    moved = _bump(session, version)
    for target, donors in moves.items():
        for start in range(0, len(donors), CHUNK):
            session.execute(
                update(LossMember)
                .where(LossMember.donor_id.in_(donors[start : start + CHUNK]))
                .values(group_id=target, moved=moved.membership)
                .execution_options(synchronize_session=False)
            )
    newcomers = inside.get(None, [])
    if newcomers:
        node = _node(session, use, parent=None, amount=amount, spent=amount, uses=1)
        group_id = _group(session, node_id=node.id, size=len(newcomers))
        _join(session, group_id, newcomers, moved.membership)
        moves[group_id] = newcomers
    _after_commit(session, version, moved, moves)


def _after_commit(session: Session, version: _Version, moved: _Version, moves: dict[int, list[str]]) -> None:
    """Once the transaction commits, bring this process's copy of the membership to ``moved``
    without reading it back (a first release moves hundreds of thousands of donors)."""
    key = _url(session)

    def apply(_session: Session) -> None:
        with _lock:
            cached = _members.get(key)
            if cached is None or (cached.membership, cached.nonce) != (version.membership, version.nonce):
                return  # another change came in between: the next use reloads what changed
            for group_id, donors in moves.items():
                for donor_id in donors:
                    _place(cached, donor_id, group_id)
            cached.membership, cached.nonce = moved.membership, moved.nonce
            cached.last = None

    event.listen(session, "after_commit", apply, once=True)


def _node(session: Session, use: Use, *, parent: int | None, amount: int, spent: int, uses: int) -> LossNode:
    node = LossNode(
        parent_id=parent,
        release_id=use.release_id,
        kind=use.kind,
        dataset_id=use.dataset_id,
        version=use.version,
        organisation=use.organisation,
        purpose=use.purpose,
        epsilon_nano=amount,
        spent_nano=spent,
        uses=uses,
        at=use.at,
        log_index=use.log_index,
    )
    session.add(node)
    session.flush()
    return node


def _group(session: Session, *, node_id: int, size: int) -> int:
    group = LossGroup(node_id=node_id, size=size)
    session.add(group)
    session.flush()
    return group.id


def _join(session: Session, group_id: int, donors: list[str], moved: int) -> None:
    """Put ``donors``, never included before, in ``group_id``.

    Hundreds of thousands of donors join at a commons' first release: one statement, run by the
    driver's own executemany over plain tuples in key order (SQLAlchemy's per-row processing would
    be ten times slower). A plain insert: a donor already in the ledger (an erased one included)
    can never join again as if new.
    """
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO privacy_loss_members (donor_id, group_id, moved) VALUES ({mark}, {mark}, {mark})",
        [(d, group_id, moved) for d in sorted(donors)],
    )


def forget(session: Session, donor_id: str) -> None:
    """Erase the link between a donor and their history (the donor's account is being erased).

    The donor's row stays, without a group: no release that began before the erasure can include
    them when it commits, and none after.
    """
    version = _version(session, lock=True)
    moved = _bump(session, version)
    member = session.get(LossMember, donor_id)
    if member is None:
        session.add(LossMember(donor_id=donor_id, group_id=None, moved=moved.membership))
    elif member.group_id is not None:
        session.execute(
            update(LossGroup).where(LossGroup.id == member.group_id).values(size=LossGroup.size - 1)
        )
        member.group_id = None
        member.moved = moved.membership
    else:
        return
    session.flush()
    _after_commit(session, version, moved, {FORGOTTEN: [donor_id]})


def _lineage() -> Select[LossNode]:
    """The releases of a loss node and of every node it descends from (the ``top`` parameter), newest
    first; built once, as building the recursive query costs more than running it."""
    anchor = select(LossNode.id, LossNode.parent_id).where(LossNode.id == bindparam("top"))
    chain = anchor.cte("chain", recursive=True)
    parent = aliased(LossNode)
    chain = chain.union_all(select(parent.id, parent.parent_id).join(chain, parent.id == chain.c.parent_id))
    return select(LossNode).join(chain, LossNode.id == chain.c.id).order_by(LossNode.uses.desc())


#: The newest node of a donor's history (one join, not a lookup per table).
_TOP = (
    select(LossNode)
    .join(LossGroup, LossGroup.node_id == LossNode.id)
    .join(LossMember, LossMember.group_id == LossGroup.id)
    .where(LossMember.donor_id == bindparam("donor"))
)
_LINEAGE = _lineage().offset(bindparam("offset"))
_LINEAGE_PAGE = _LINEAGE.limit(bindparam("limit"))


def history(
    session: Session, donor_id: str, *, limit: int | None = None, offset: int = 0
) -> tuple[float, int, list[dict[str, Any]]]:
    """A donor's lifetime loss, how many releases included them, and those releases (newest first)."""
    top = session.scalar(_TOP, {"donor": donor_id})
    if top is None:  # no release included the donor yet
        return 0.0, 0, []
    query = _LINEAGE if limit is None else _LINEAGE_PAGE
    params = {"top": top.id, "limit": limit, "offset": offset}
    releases = [
        {
            "release_id": n.release_id,
            "kind": n.kind,
            "dataset": n.dataset_id,
            "version": n.version,
            "organisation": n.organisation,
            "purpose": n.purpose,
            "purpose_label_it": PURPOSES.get(n.purpose, (n.purpose, n.purpose))[0],
            "purpose_label_en": PURPOSES.get(n.purpose, (n.purpose, n.purpose))[1],
            "epsilon": n.epsilon_nano / NANO,
            "at": n.at,
            "log_index": n.log_index,
        }
        for n in session.scalars(query, params)
    ]
    return top.spent_nano / NANO, top.uses, releases


def clear_cache() -> None:
    """Forget this process's copy of the membership (tests and benchmarks measure cold calls)."""
    with _lock:
        _members.clear()
