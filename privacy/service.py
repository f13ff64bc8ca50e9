"""Answering DP queries and extracts: purpose, eligible donors, budget, OpenDP noise, stored release.

A release covers only donors whose consent covers its purpose and whose lifetime privacy loss stays
within the per-person cap (:mod:`consent.privacy_loss`). It is all-or-nothing: the budget reservation,
the per-person charges, the stored release and its transparency-log entry are one transaction,
committed before the answer leaves. The exact aggregation runs before that
transaction (outside the write lock); if the budget is refused, the noisy answer is thrown away unseen.
The same query from the same organisation on the same version returns the stored release and spends
nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, Literal, TypeVar

import polars as pl
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from consent import agreements, privacy_loss
from consent.agreements import Recipient
from consent.eligibility import Eligible, eligible
from consent.transparency import record_use
from datacommons import registry
from datacommons.auth import Organisation, Principal
from datacommons.datasets import AccessPolicy, Dataset, DatasetVersion
from datacommons.db import transaction, utcnow
from datacommons.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from datacommons.storage import ParquetStore
from privacy import ledger
from privacy.engine import Plan, describe, plan_query, release_cells, restate
from privacy.frames import load_frame
from privacy.models import Release
from privacy.query import Query, check_query
from privacy.schemas import ExtractAnswer, QueryAnswer


@dataclass(frozen=True)
class Target:
    """What a query runs on: a private dataset's current version and its policy."""

    dataset: Dataset
    version: DatasetVersion
    policy: AccessPolicy
    schema: dict[str, str]


def target(session: Session, dataset_id: str) -> Target:
    """The private dataset's current published version and policy, or a clear error."""
    dataset = registry.get_dataset(session, dataset_id)
    if dataset.access != "private":
        raise InvalidInput(
            f"dataset {dataset_id} is open: download it "
            f"(/api/v1/datasets/{dataset_id}/download); DP queries are for private data"
        )
    version = dataset.current_version
    if version is None:
        raise Conflict(f"dataset {dataset_id} has no published version yet")
    policy = dataset.policy
    if policy is None:
        raise Conflict(f"dataset {dataset_id} has no access policy: an administrator must set one")
    schema = {f["name"]: f["type"] for f in version.arrow_schema}
    return Target(dataset, version, policy, schema)


def organisation_of(principal: Principal) -> int:
    """The organisation a query is charged to (donor tokens never query)."""
    if principal.organisation_id is None:
        raise Forbidden("queries are charged to an organisation; this token has none")
    return principal.organisation_id


def _plan(session: Session, dataset_id: str, query: Query) -> tuple[Target, Plan]:
    tgt = target(session, dataset_id)
    check_query(query, policy=tgt.policy, schema=tgt.schema)
    return tgt, plan_query(query, policy=tgt.policy, schema=tgt.schema)


def budget_body(session: Session, tgt: Target, organisation_id: int) -> dict[str, Any]:
    current = ledger.budgets(
        session, dataset_id=tgt.dataset.id, organisation_id=organisation_id, policy=tgt.policy
    )
    return {key: b.as_dict() for key, b in current.items()}


def preview(
    session: Session, *, dataset_id: str, query: Query, principal: Principal, epsilon_per_person: float
) -> dict[str, Any]:
    """What the query would cost and how accurate it would be; spends nothing."""
    org = organisation_of(principal)
    tgt, plan = _plan(session, dataset_id, query)
    program = agreements.resolve(
        session,
        dataset_id=dataset_id,
        purpose=query.purpose,
        program_id=query.program,
        recipient=recipient_of(session, principal, org),
    )
    budget = budget_body(session, tgt, org)
    affordable = all(
        budget[k]["remaining"] + 1e-12 >= query.epsilon for k in ("dataset_total", "organisation")
    )
    return {
        "dataset": tgt.dataset.id,
        "version": tgt.version.number,
        "purpose": query.purpose,
        "program": program,
        "epsilon": query.epsilon,
        "epsilon_spent": 0.0,
        "cells": len(plan.keys),
        "affordable": affordable,
        "measures": describe(plan),
        "budget": budget,
        "coverage": coverage(epsilon_per_person),
    }


def find_release(
    session: Session, *, kind: str, version_id: int, organisation_id: int, query_hash: str
) -> Release | None:
    return session.scalars(
        select(Release).where(
            Release.kind == kind,
            Release.version_id == version_id,
            Release.organisation_id == organisation_id,
            Release.query_hash == query_hash,
        )
    ).first()


Answer = TypeVar("Answer", QueryAnswer, ExtractAnswer)


def answer_of(
    release: Release,
    *,
    repeat: bool,
    budget: dict[str, Any],
    answer: type[Answer],
    result: dict[str, Any] | None = None,
) -> Answer:
    """A stored release as the typed answer of its kind (``result``: its result stated again)."""
    return answer.model_validate(
        {
            "release_id": release.id,
            **(result if result is not None else release.result),
            "repeat": repeat,
            "epsilon_spent": 0.0 if repeat else release.epsilon,
            "created_at": release.created_at.isoformat(),
            "budget": budget,
        }
    )


#: How many times a release is computed again when a concurrent one changed who has budget left.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Ask(Generic[Answer]):
    """A query or an extract, as the release pipeline runs it."""

    kind: Literal["query", "extract"]
    #: The typed answer of this kind.
    answer: type[Answer]
    dataset_id: str
    purpose: str
    program: str | None
    epsilon: float
    query_hash: str
    query: dict[str, Any]
    #: Raises InvalidInput when the request breaks the dataset's policy.
    check: Callable[[Target], None]
    #: The released result over the frame, restricted to the included donors.
    compute: Callable[[Target, pl.DataFrame, frozenset[str]], dict[str, Any]]
    #: The alpha the answer's intervals are asked at (not part of the repeat key).
    alpha: float
    #: A stored result stated at ``alpha`` from its stored noisy values (no new noise).
    restate: Callable[[Target, dict[str, Any]], dict[str, Any]]


def coverage(cap: float) -> dict[str, Any]:
    """What every answer says about whose records it covers (the rule, never who it left out)."""
    return {
        "epsilon_per_person": cap,
        "rule": (
            "Only donors whose consent covers this purpose and whose lifetime privacy loss, "
            "with this release, stays within the per-person cap are included; nothing is "
            "computed from anyone else's records."
        ),
    }


def recipient_of(session: Session, principal: Principal, organisation_id: int) -> Recipient:
    """The caller as a recipient of donors' data: their organisation and their role's class."""
    org = session.get(Organisation, organisation_id)
    return Recipient(organisation=org.name if org else "", role=principal.role)


def under_agreement(session: Session, ask: Ask, recipient: Recipient) -> Ask:
    """``ask`` bound to the program whose data-use agreement covers the caller (:class:`Forbidden`
    when none does); its repeat key names the program, so asking with or without it is one question."""
    program = agreements.resolve(
        session, dataset_id=ask.dataset_id, purpose=ask.purpose, program_id=ask.program, recipient=recipient
    )
    key = hashlib.sha256(f"{ask.query_hash}:{program}".encode()).hexdigest()
    return replace(ask, program=program, query_hash=key)


def stored(session: Session, ask: Ask[Answer], tgt: Target, organisation_id: int) -> Answer | None:
    """The stored release of the same request by the same organisation on this version, as a repeat."""
    existing = find_release(
        session,
        kind=ask.kind,
        version_id=tgt.version.id,
        organisation_id=organisation_id,
        query_hash=ask.query_hash,
    )
    if existing is None:
        return None
    budget = budget_body(session, tgt, organisation_id)
    result = existing.result
    if result.get("alpha") != ask.alpha:
        try:
            result = ask.restate(tgt, result)
        except (KeyError, ValueError):  # made before releases kept their noisy values: as it was
            result = existing.result
    return answer_of(existing, repeat=True, budget=budget, answer=ask.answer, result=result)


def run(
    factory: sessionmaker[Session],
    *,
    store: ParquetStore,
    ask: Ask[Answer],
    principal: Principal,
    epsilon_per_person: float,
) -> Answer:
    """The one release pipeline of queries and extracts.

    Plan and check → a stored repeat is answered as it is → budgets checked → eligible donors, less
    those past the per-person cap → exact aggregates and OpenDP noise (outside the write lock) →
    budgets, per-person charges, the release and its log entry in one transaction. If a concurrent
    release changed who has budget left in between, the release is computed again from the start.
    """
    org = organisation_of(principal)
    for _attempt in range(MAX_ATTEMPTS):
        with factory() as session:
            tgt = target(session, ask.dataset_id)
            ask.check(tgt)
            recipient = recipient_of(session, principal, org)
            ask = under_agreement(session, ask, recipient)
            if ask.epsilon > epsilon_per_person:
                raise InvalidInput(
                    f"invalid {ask.kind}: epsilon: {ask.epsilon:g} is over each "
                    f"donor's lifetime cap of {epsilon_per_person:g}: no donor "
                    "could be included"
                )
            repeat = stored(session, ask, tgt, org)
            if repeat is not None:
                return repeat
            ledger.check_available(
                session,
                dataset_id=tgt.dataset.id,
                organisation_id=org,
                policy=tgt.policy,
                epsilon=ask.epsilon,
            )
            allowed = eligible(
                session,
                dataset_id=ask.dataset_id,
                purpose=ask.purpose,
                program=ask.program,
                recipient=recipient,
                at=utcnow(),
            )
            chosen = privacy_loss.inclusion(
                session, donors=allowed.donors, epsilon=ask.epsilon, cap=epsilon_per_person
            )
        frame = load_frame(store, tgt.version.content_hash, tgt.policy.privacy_unit)
        records = allowed.records_of(chosen.donors)
        result = {
            **ask.compute(tgt, frame, records),
            "program": ask.program,
            "coverage": coverage(epsilon_per_person),
        }
        try:
            return _commit(
                factory,
                ask=ask,
                tgt=tgt,
                principal=principal,
                organisation_id=org,
                result=result,
                eligible=allowed,
                chosen=chosen,
                epsilon_per_person=epsilon_per_person,
            )
        except privacy_loss.InclusionChanged:
            continue
    raise Unavailable(
        "the commons is busy with other releases over the same donors: try again",
        headers={"Retry-After": "1"},
    )


def _commit(
    factory: sessionmaker[Session],
    *,
    ask: Ask[Answer],
    tgt: Target,
    principal: Principal,
    organisation_id: int,
    result: dict[str, Any],
    eligible: Eligible,
    chosen: privacy_loss.Inclusion,
    epsilon_per_person: float,
) -> Answer:
    """Reserve the budgets, charge each included donor, store the release and log its use."""
    kind = ask.kind
    try:
        with transaction(factory, immediate=True) as session:
            repeat = stored(session, ask, tgt, organisation_id)
            if repeat is not None:
                return repeat
            ledger.reserve(
                session,
                dataset_id=tgt.dataset.id,
                organisation_id=organisation_id,
                policy=tgt.policy,
                epsilon=ask.epsilon,
            )
            org = session.get(Organisation, organisation_id)
            now = utcnow()
            release = Release(
                id=uuid.uuid4().hex,
                kind=kind,
                dataset_id=tgt.dataset.id,
                version_id=tgt.version.id,
                organisation_id=organisation_id,
                actor=principal.actor,
                purpose=ask.purpose,
                query_hash=ask.query_hash,
                query=ask.query,
                result=result,
                epsilon=ask.epsilon,
                donors=len(chosen.donors),
                created_at=now,
            )
            session.add(release)
            session.flush()
            entry = record_use(
                session,
                kind="release" if kind == "query" else "extract",
                actor=principal.actor,
                purpose=ask.purpose,
                datasets=[tgt.dataset.id],
                organisation=org.name if org else None,
                details={
                    "release_id": release.id,
                    "program": ask.program,
                    "epsilon": ask.epsilon,
                    "version": tgt.version.number,
                },
            )
            privacy_loss.charge(
                session,
                eligible=eligible.donors,
                chosen=chosen,
                epsilon=ask.epsilon,
                cap=epsilon_per_person,
                use=privacy_loss.Use(
                    release_id=release.id,
                    kind="release" if kind == "query" else "extract",
                    dataset_id=tgt.dataset.id,
                    version=tgt.version.number,
                    organisation=org.name if org else None,
                    purpose=ask.purpose,
                    epsilon=ask.epsilon,
                    at=now,
                    log_index=entry.id - 1,
                ),
            )
            budget = budget_body(session, tgt, organisation_id)
            return answer_of(release, repeat=False, budget=budget, answer=ask.answer)
    except IntegrityError:
        # the same request from the same organisation was committed a moment before: answer with it
        with factory() as session:
            repeat = stored(session, ask, tgt, organisation_id)
            if repeat is None:
                raise
            return repeat


def release(
    factory: sessionmaker[Session],
    *,
    store: ParquetStore,
    dataset_id: str,
    query: Query,
    principal: Principal,
    epsilon_per_person: float,
) -> QueryAnswer:
    """Answer a DP query over the donors whose consent covers its purpose now and who have budget
    left."""

    def check(tgt: Target) -> None:
        check_query(query, policy=tgt.policy, schema=tgt.schema)

    def compute(tgt: Target, frame: pl.DataFrame, donors: frozenset[str]) -> dict[str, Any]:
        plan = plan_query(query, policy=tgt.policy, schema=tgt.schema)
        cells = release_cells(frame, plan, policy=tgt.policy, eligible=donors)
        return {
            "dataset": tgt.dataset.id,
            "version": tgt.version.number,
            "purpose": query.purpose,
            "epsilon": query.epsilon,
            "alpha": query.alpha,
            "group_by": plan.group_by,
            **cells,
        }

    ask = Ask(
        kind="query",
        answer=QueryAnswer,
        dataset_id=dataset_id,
        purpose=query.purpose,
        program=query.program,
        epsilon=query.epsilon,
        query_hash=query.canonical_hash(),
        query=query.model_dump(mode="json"),
        check=check,
        compute=compute,
        alpha=query.alpha,
        restate=lambda tgt, result: {
            **result,
            "alpha": query.alpha,
            **restate(query, result, policy=tgt.policy, schema=tgt.schema),
        },
    )
    return run(factory, store=store, ask=ask, principal=principal, epsilon_per_person=epsilon_per_person)


def get_release(session: Session, *, release_id: str, kind: str, principal: Principal) -> Release:
    """A stored release of the caller's organisation (404 for anyone else's)."""
    found = session.get(Release, release_id)
    if found is None or found.kind != kind or found.organisation_id != principal.organisation_id:
        raise NotFound(f"no {kind} {release_id}")
    return found
