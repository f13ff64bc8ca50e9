"""The consent registry's HTTP routes.

- ``router`` (under ``/api/v1``): donors (self-registration, claim, own record, export, erasure),
  programs and their consent forms, consents and their receipts, the donor's uses;
- ``admin_router`` (under ``/api/v1``): programs and text versions, donors registered by an
  organisation, key rotation, the transparency log's check and the yearly report;
- ``wellknown_router`` (at the root): ``/.well-known/jwks.json``, the receipt-signing public keys.

Donor routes act only on the calling donor (``principal.donor_id``); another donor's consent answers
404, exactly like one that does not exist.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import donors, keys, ledger, programs, receipts, report, transparency
from consent.models import SigningKey
from consent.receipts import Signer
from consent.schemas import (
    ChainStatus,
    ClaimCode,
    ConsentCreate,
    ConsentPublic,
    ConsentRenew,
    ConsentSummary,
    ConsentWithReceipt,
    DonorClaim,
    DonorCreate,
    DonorCreated,
    DonorExport,
    DonorProfile,
    Erased,
    KeyPublic,
    OrgDonorsCreate,
    ProgramPublic,
    ReceiptPublic,
    ReceiptStatus,
    ReleaseIncluding,
    TextPublic,
    UsePublic,
)
from datacommons import redaction
from datacommons.auth import Principal
from datacommons.db import scrub, utcnow
from datacommons.deps import AdminPrincipal, PagingDep, SessionDep, commons_of, require_role
from datacommons.guards import Guard, Rate
from datacommons.schemas import MAX_INT, ListOf, error_responses

log = logging.getLogger("datacommons.consent")
router = APIRouter(tags=["consent"], responses=error_responses(422))
admin_router = APIRouter(prefix="/admin", tags=["admin"], responses=error_responses(401, 403, 422))
wellknown_router = APIRouter(tags=["consent"])
#: Registering and claiming start a session: a guessing attack would try there (per address).
GUARDS = (Guard("/donors", rate=Rate.LOGIN), Guard("/donors/claim", rate=Rate.LOGIN))

DonorPrincipal = Annotated[Principal, Depends(require_role("donor"))]
DONOR_ERRORS = error_responses(401, 403, 404)


def signer_of(request: Request) -> Signer:
    """The receipt signer of this instance."""
    return Signer.of(commons_of(request).settings)


@contextmanager
def writing(request: Request) -> Iterator[Session]:
    """A write transaction that holds the write lock from its start (committed on success)."""
    with commons_of(request).transaction(immediate=True) as session:
        yield session


def _me(principal: Principal) -> str:
    assert principal.donor_id is not None  # donor tokens always carry one
    return principal.donor_id


def _with_receipt(session: Session, consent_id: str, donor_id: str, signer: Signer) -> ConsentWithReceipt:
    consent = ledger.get_consent(session, donor_id=donor_id, consent_id=consent_id)
    body = ConsentPublic.model_validate(donors.consent_public(session, consent, signer=signer))
    return ConsentWithReceipt(consent=body, receipt=body.events[-1].receipt or "")


# --- donors ---------------------------------------------------------------------------------------


@router.post("/donors", response_model=DonorCreated, status_code=201, responses=error_responses(400, 503))
def register(body: DonorCreate, request: Request) -> DonorCreated:
    """Register as a donor (no token needed). The answer holds your donor token, shown only once."""
    with writing(request) as session:
        donor, token = donors.register_self(
            session, kek=signer_of(request).kek, name=body.name, email=body.email
        )
    return DonorCreated(donor_id=donor.id, token=token)


@router.post(
    "/donors/claim", response_model=DonorCreated, status_code=201, responses=error_responses(400, 404, 503)
)
def claim(body: DonorClaim, request: Request) -> DonorCreated:
    """Claim the donor record your organisation registered, with the one-time code it gave you."""
    with writing(request) as session:
        donor, token = donors.claim(
            session,
            donor_id=body.donor_id,
            code=body.code,
            kek=signer_of(request).kek,
            name=body.name,
            email=body.email,
        )
    return DonorCreated(donor_id=donor.id, token=token)


@router.get("/donors/me", response_model=DonorProfile, responses=DONOR_ERRORS)
def me(request: Request, session: SessionDep, principal: DonorPrincipal) -> DonorProfile:
    """Your record: pseudonym, name and e-mail (decrypted for you), datasets and consents."""
    return DonorProfile.model_validate(
        donors.profile(
            session,
            donor_id=_me(principal),
            kek=signer_of(request).kek,
            epsilon_per_person=commons_of(request).settings.privacy_epsilon_per_person,
        )
    )


@router.get("/donors/me/uses", response_model=ListOf[ReleaseIncluding], responses=DONOR_ERRORS)
def my_uses(session: SessionDep, principal: DonorPrincipal, page: PagingDep) -> ListOf[ReleaseIncluding]:
    """The releases and extracts that included your records (who asked, for which purpose, on which
    dataset, and the privacy loss each cost you), newest first, a page of them."""
    return page.of([ReleaseIncluding.model_validate(u) for u in donors.uses_of(session, _me(principal))])


@router.get(
    "/donors/me/export",
    responses={
        **DONOR_ERRORS,
        200: {
            "model": DonorExport,
            "description": "The donor's data as a JSON file (Content-Disposition: attachment)",
        },
    },
)
def my_export(request: Request, session: SessionDep, principal: DonorPrincipal) -> Response:
    """Everything held about you, as one JSON file (with every receipt)."""
    data = donors.export(
        session,
        donor_id=_me(principal),
        signer=signer_of(request),
        epsilon_per_person=commons_of(request).settings.privacy_epsilon_per_person,
    )
    DonorExport.model_validate(data)  # the file is what the description promises, to the letter
    return Response(
        json.dumps(to_jsonable_python(data), ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="donor-{_me(principal)}.json"'},
    )


@router.delete("/donors/me", response_model=Erased, responses={**DONOR_ERRORS, **error_responses(503)})
def erase_me(request: Request, principal: DonorPrincipal) -> Erased:
    """Erase yourself: consents withdrawn, personal data made unreadable, tokens revoked. The answer
    holds the signed receipts of the withdrawals: keep them, your token stops working now."""
    store = commons_of(request).store
    obsolete: list[str] = []
    with writing(request) as session:
        done = donors.erase(session, donor_id=_me(principal), signer=signer_of(request))
        for dataset_id, pseudonym in sorted(done["records"].items()):
            redacted = redaction.redact(
                session, store, dataset_id=dataset_id, units={pseudonym}, reason="erasure of a donor"
            )
            obsolete += redacted.obsolete
        erased = Erased.model_validate(done)
    redaction.drop_files(store, obsolete)  # only now: the versions point at the new files
    if not scrub(commons_of(request).engine):
        log.warning(
            "erasure: the write-ahead log is still read by another connection; the next "
            "checkpoint will drop its old copies"
        )
    return erased


# --- programs -------------------------------------------------------------------------------------


@router.get("/programs", response_model=ListOf[ProgramPublic])
def list_programs(session: SessionDep, page: PagingDep) -> ListOf[ProgramPublic]:
    """The data-altruism programs, a page of them (public: anyone may read what donors are asked)."""
    return page.of(
        [
            ProgramPublic.model_validate(programs.program_public(session, p))
            for p in programs.list_programs(session)
        ]
    )


@router.get("/programs/{program_id}", response_model=ProgramPublic, responses=error_responses(404))
def get_program(program_id: str, session: SessionDep) -> ProgramPublic:
    """One program, with its current consent text."""
    return ProgramPublic.model_validate(
        programs.program_public(session, programs.get_program(session, program_id))
    )


@router.get("/programs/{program_id}/texts", response_model=ListOf[TextPublic], responses=error_responses(404))
def list_texts(program_id: str, session: SessionDep, page: PagingDep) -> ListOf[TextPublic]:
    """The versions of a program's consent text, oldest first, a page of them."""
    program = programs.get_program(session, program_id)
    return page.of(
        [TextPublic.model_validate(programs.text_public(t)) for t in programs.list_texts(session, program)]
    )


@router.get("/programs/{program_id}/form", responses=error_responses(404))
def consent_form(
    program_id: str, session: SessionDep, version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None
) -> dict[str, Any]:
    """The modular consent form (DGA art. 25) as JSON; ``form.html`` is its printable twin."""
    return programs.consent_form(session, programs.get_program(session, program_id), version=version)


@router.get("/programs/{program_id}/form.html", response_class=HTMLResponse, responses=error_responses(404))
def consent_form_html(
    program_id: str,
    request: Request,
    session: SessionDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> HTMLResponse:
    """The consent form as a printable bilingual page."""
    form = programs.consent_form(session, programs.get_program(session, program_id), version=version)
    json_url = str(request.url_for("consent_form", program_id=program_id))
    return HTMLResponse(report.render_form_html(form, json_url=json_url))


# --- consents -------------------------------------------------------------------------------------


@router.get("/consents", response_model=ListOf[ConsentSummary], responses=DONOR_ERRORS)
def my_consents(session: SessionDep, principal: DonorPrincipal) -> ListOf[ConsentSummary]:
    """Your consents and their current state."""
    items = [
        ConsentSummary.model_validate(donors.consent_public(session, c, with_events=False))
        for c in ledger.list_consents(session, _me(principal))
    ]
    return ListOf[ConsentSummary](data=items, count=len(items))


@router.post(
    "/consents",
    response_model=ConsentWithReceipt,
    status_code=201,
    responses={
        **DONOR_ERRORS,
        **error_responses(400, 409, 503),
        200: {
            "model": ConsentWithReceipt,
            "description": "Consent already in force on that version: nothing changed",
        },
    },
)
def give_consent(
    body: ConsentCreate, request: Request, response: Response, principal: DonorPrincipal
) -> ConsentWithReceipt:
    """Give consent to a program on the text version you read; the answer carries the receipt.

    Consent already in force on that version changes nothing (200); a text version that is no longer
    the current one is refused (409), so a new text never binds you without your reading it.
    """
    signer = signer_of(request)
    with writing(request) as session:
        consent, changed = ledger.grant(
            session,
            donor_id=_me(principal),
            program_id=body.program_id,
            text_version=body.text_version,
            duration_days=body.duration_days,
            signer=signer,
        )
        result = _with_receipt(session, consent.id, _me(principal), signer)
    if not changed:
        response.status_code = 200
    return result


@router.get("/consents/{consent_id}", response_model=ConsentPublic, responses=DONOR_ERRORS)
def get_consent(
    consent_id: str, request: Request, session: SessionDep, principal: DonorPrincipal
) -> ConsentPublic:
    """One of your consents, with every event and its receipt."""
    consent = ledger.get_consent(session, donor_id=_me(principal), consent_id=consent_id)
    return ConsentPublic.model_validate(donors.consent_public(session, consent, signer=signer_of(request)))


@router.post(
    "/consents/{consent_id}/withdraw",
    response_model=ConsentWithReceipt,
    responses={**DONOR_ERRORS, **error_responses(409, 503)},
)
def withdraw(consent_id: str, request: Request, principal: DonorPrincipal) -> ConsentWithReceipt:
    """Withdraw a consent, in one call; from now on no query uses your records for it."""
    signer = signer_of(request)
    with writing(request) as session:
        ledger.withdraw(session, donor_id=_me(principal), consent_id=consent_id, signer=signer)
        return _with_receipt(session, consent_id, _me(principal), signer)


@router.post(
    "/consents/{consent_id}/renew",
    response_model=ConsentWithReceipt,
    responses={**DONOR_ERRORS, **error_responses(400, 409, 503)},
)
def renew(
    consent_id: str, body: ConsentRenew, request: Request, principal: DonorPrincipal
) -> ConsentWithReceipt:
    """Renew a consent in force or expired, on the current text version."""
    signer = signer_of(request)
    with writing(request) as session:
        ledger.renew(
            session,
            donor_id=_me(principal),
            consent_id=consent_id,
            text_version=body.text_version,
            duration_days=body.duration_days,
            signer=signer,
        )
        return _with_receipt(session, consent_id, _me(principal), signer)


@router.get("/receipts/{record_id}/status", response_model=ReceiptStatus, responses=error_responses(404))
def receipt_status(
    record_id: Annotated[str, Path(min_length=1, max_length=36)], session: SessionDep
) -> ReceiptStatus:
    """Whether the consent a receipt records is still in force (no token: anyone holding the
    receipt, such as a recipient checking before use, may ask; the answer names no one)."""
    return ReceiptStatus.model_validate(ledger.receipt_status(session, record_id))


@router.get("/consents/{consent_id}/receipt", response_model=ReceiptPublic, responses=DONOR_ERRORS)
def receipt(
    consent_id: str,
    request: Request,
    session: SessionDep,
    principal: DonorPrincipal,
    event_id: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> ReceiptPublic:
    """The signed receipt of a consent's latest event (or of ``event_id``)."""
    consent = ledger.get_consent(session, donor_id=_me(principal), consent_id=consent_id)
    event = ledger.find_event(session, consent=consent, event_id=event_id)
    token = receipts.render(session, event=event, signer=signer_of(request))
    return ReceiptPublic(
        consent_id=consent.id,
        event_id=event.id,
        event=event.event,
        kid=event.kid,
        receipt=token,
        claims=receipts.verify(token, keys.jwks(session)),
    )


@wellknown_router.get("/.well-known/jwks.json")
def jwks(session: SessionDep) -> dict[str, Any]:
    """The public keys that verify consent receipts, current and retired."""
    return keys.jwks(session)


# --- administration -------------------------------------------------------------------------------


@admin_router.post(
    "/programs", response_model=ProgramPublic, status_code=201, responses=error_responses(400, 409, 503)
)
def create_program(body: programs.ProgramSpec, request: Request, admin: AdminPrincipal) -> ProgramPublic:
    """Create a data-altruism program with the first version of its consent text."""
    with writing(request) as session:
        program = programs.create_program(session, spec=body, actor=admin.actor)
        return ProgramPublic.model_validate(programs.program_public(session, program))


@admin_router.post(
    "/programs/{program_id}/texts",
    response_model=TextPublic,
    status_code=201,
    responses=error_responses(400, 404, 503),
)
def new_text(program_id: str, body: programs.TextSpec, request: Request, admin: AdminPrincipal) -> TextPublic:
    """Publish a new version of a program's text; existing consents stay bound to theirs."""
    with writing(request) as session:
        program = programs.get_program(session, program_id)
        text = programs.add_text_version(session, program=program, spec=body, actor=admin.actor)
        return TextPublic.model_validate(programs.text_public(text))


@admin_router.post(
    "/donors", response_model=ListOf[ClaimCode], status_code=201, responses=error_responses(400, 409, 503)
)
def register_donors(body: OrgDonorsCreate, request: Request, _admin: AdminPrincipal) -> ListOf[ClaimCode]:
    """Register the donors whose records an organisation donates; each gets a one-time claim code."""
    with writing(request) as session:
        rows = donors.register_for_organisation(
            session, organisation=body.organisation, donor_ids=body.donor_ids, dataset_ids=body.dataset_ids
        )
    items = [ClaimCode(**row) for row in rows]
    return ListOf[ClaimCode](data=items, count=len(items))


@admin_router.get("/consent/keys", response_model=ListOf[KeyPublic])
def list_keys(session: SessionDep, _admin: AdminPrincipal) -> ListOf[KeyPublic]:
    """The receipt-signing keys, oldest first (the log's keys are at /transparency/keys)."""
    query = (
        select(SigningKey)
        .where(~SigningKey.kid.startswith(keys.LOG_KID_PREFIX))
        .order_by(SigningKey.created_at)
    )
    items = [KeyPublic.model_validate(k, from_attributes=True) for k in session.scalars(query)]
    return ListOf[KeyPublic](data=items, count=len(items))


@admin_router.post(
    "/consent/keys/rotate", response_model=KeyPublic, status_code=201, responses=error_responses(503)
)
def rotate_key(request: Request, _admin: AdminPrincipal) -> KeyPublic:
    """Start signing receipts with a new key; older receipts stay verifiable with the old ones."""
    with writing(request) as session:
        record = keys.create_key(session, secret=signer_of(request).secret)
        return KeyPublic.model_validate(record, from_attributes=True)


@admin_router.get("/audit/verify", response_model=ChainStatus)
def audit_verify(session: SessionDep, _admin: AdminPrincipal) -> ChainStatus:
    """Check the transparency log's hash chain: ``ok`` false names the first bad entry."""
    return ChainStatus(**transparency.verify_chain(session).as_dict())


@admin_router.get("/audit/log", response_model=ListOf[UsePublic])
def audit_log(session: SessionDep, _admin: AdminPrincipal, page: PagingDep) -> ListOf[UsePublic]:
    """The entries of the transparency log, oldest first, a page of them."""
    return page.of(
        [UsePublic.model_validate(transparency.entry_public(e)) for e in transparency.list_entries(session)]
    )


def _report(request: Request, session: Session, year: int | None) -> dict[str, Any]:
    return report.altruism_report(session, year=year or utcnow().year, organisation=report.ORGANISATION)


@admin_router.get("/reports/altruism")
def altruism_report(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:
    """The yearly activity report of DGA art. 20(2), from the registry and the transparency log."""
    return _report(request, session, year)


@admin_router.get("/reports/altruism.html", response_class=HTMLResponse)
def altruism_report_html(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> HTMLResponse:
    """The yearly activity report as a printable page."""
    data = _report(request, session, year)
    json_url = str(request.url_for("altruism_report").include_query_params(year=data["year"]))
    return HTMLResponse(report.render_html(data, json_url=json_url))
