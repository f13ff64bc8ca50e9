"""Request and response bodies of the consent registry's routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from datacommons.schemas import MAX_INT


class DonorCreate(BaseModel):
    """Self-registration: name and e-mail are optional and stored only encrypted."""

    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320)


class DonorClaim(BaseModel):
    """Claiming the donor record an organisation registered, with its one-time code."""

    donor_id: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=100)
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320)


class DonorCreated(BaseModel):
    """A donor and their token: the token is shown this once only."""

    donor_id: str
    token: str


class ConsentSummary(BaseModel):
    """A consent and its state, derived from its events."""

    id: str
    program_id: str
    purpose: str
    status: str
    since: datetime | None
    valid_until: datetime | None
    text_version: int | None
    text_sha256: str | None
    created_at: datetime


class EventPublic(BaseModel):
    """One event of a consent."""

    id: int
    record_id: str
    event: str
    at: datetime
    text_version: int | None
    valid_until: datetime | None
    reason: str | None
    actor: str | None = Field(None, description="Who acted: donor:<id>, or system:expiry")
    method: str = Field(
        "unrecorded", description="How it was collected: donor-self-service, erasure, expiry, demo-seed"
    )
    ends_record_id: str | None = Field(None, description="For a withdrawal or expiry: the record it ends")
    kid: str
    receipt: str | None = None


class ReceiptStatus(BaseModel):
    """Whether the consent a receipt records is in force now (public: the record id is the key)."""

    record_id: str
    event: str = Field(description="What the receipt records: given, renewed, withdrawn or expired")
    consent_status: str = Field(description="The consent's state now: active, withdrawn or expired")
    active: bool = Field(description="Whether the consent is in force now")
    since: datetime | None = Field(description="Since when the consent has been in this state")
    valid_until: datetime | None
    superseded: bool = Field(
        description="Whether a later event of the same consent (a renewal, a withdrawal) came after it"
    )
    checked_at: datetime


class ConsentPublic(ConsentSummary):
    """A consent with its events."""

    events: list[EventPublic]


class ReleaseIncluding(BaseModel):
    """A DP release or extract that included the donor's records."""

    release_id: str
    kind: str = Field(description="release (a query's answer) or extract")
    dataset: str
    version: int
    organisation: str | None = Field(description="The organisation that asked")
    purpose: str = Field(description="The purpose declared, a DPV term")
    purpose_label_it: str
    purpose_label_en: str
    epsilon: float = Field(description="The privacy loss this release cost the donor")
    at: datetime
    log_index: int | None = Field(None, description="The release's leaf in the public transparency log")
    tree_size: int | None = Field(None, description="The tree the inclusion proof is against (the latest)")
    inclusion_proof: list[str] | None = Field(
        None,
        description="RFC 9162 inclusion proof of the leaf (base64 hashes): check it against a checkpoint",
    )


class PrivacyLoss(BaseModel):
    """The donor's lifetime privacy loss across the whole commons, and what it came from."""

    epsilon_spent: float = Field(description="The donor's privacy loss so far (epsilon)")
    epsilon_cap: float = Field(description="The lifetime cap: past it, no release includes the donor")
    epsilon_remaining: float
    releases: int = Field(description="How many releases and extracts included the donor")
    recent: list[ReleaseIncluding] = Field(
        description="Those releases, newest first (the newest 100 here; the export lists them all)"
    )


class WithdrawalReceipt(BaseModel):
    """The signed receipt of a consent withdrawn by an erasure."""

    consent_id: str
    program_id: str
    record_id: str
    event: str
    receipt: str = Field(description="The signed receipt (compact JWS)")


class Erased(BaseModel):
    """What an erasure answers: when, and the receipts of the consents it withdrew (the donor's
    token stops working, so this is the one moment to keep them)."""

    donor_id: str
    erased_at: datetime
    receipts: list[WithdrawalReceipt]


class DonorProfile(BaseModel):
    """What the registry holds about the calling donor."""

    donor_id: str
    source: str
    organisation: str | None
    registered_at: datetime
    claimed_at: datetime | None
    name: str | None
    email: str | None
    datasets: list[str]
    linked: list[str] = Field(
        default_factory=list, description="The datasets your organisation linked your records in"
    )
    consents: list[ConsentSummary]
    privacy_loss: PrivacyLoss


class ConsentCreate(BaseModel):
    """Giving consent: the program and the version of its text the donor read."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"program_id": "inserimento-lavorativo-ricerca", "text_version": 1}]}
    )

    program_id: str = Field(min_length=1, max_length=64)
    text_version: int = Field(ge=1, le=MAX_INT)
    duration_days: int | None = Field(
        None, ge=1, le=3650, description="A shorter duration than the program's, if wanted"
    )


class ConsentRenew(BaseModel):
    """Renewing consent on the current text version."""

    text_version: int = Field(ge=1, le=MAX_INT)
    duration_days: int | None = Field(None, ge=1, le=3650)


class ConsentWithReceipt(BaseModel):
    """A consent after an event, with the receipt of that event."""

    consent: ConsentPublic
    receipt: str


class ReceiptPublic(BaseModel):
    """A signed receipt (compact JWS) and its claims."""

    consent_id: str
    event_id: int
    event: str
    kid: str
    receipt: str
    claims: dict[str, Any]


class UsePublic(BaseModel):
    """An entry of the transparency log."""

    id: int
    at: datetime
    kind: str
    actor: str
    organisation: str | None
    purpose: str
    datasets: list[str]
    fee_eur: float | None
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str


class TextPublic(BaseModel):
    """A version of a program's consent text."""

    version: int
    sha256: str
    text_it: str
    text_en: str
    datasets: list[str]
    data_categories: list[str]
    recipients: list[str] = Field(default_factory=list)
    special_categories: list[str] = Field(default_factory=list)
    duration_days: int | None
    published_at: datetime


class TokenHint(BaseModel):
    """One of the donor's tokens, as the export shows it: never the token itself."""

    hint: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class DonorExport(DonorProfile):
    """Everything held about a donor (GDPR arts. 15 and 20): profile, consents with every receipt,
    every use of the datasets they contributed to, their tokens."""

    model_config = ConfigDict(extra="forbid")

    consents: list[ConsentPublic]  # type: ignore[assignment]
    uses: list[ReleaseIncluding] = Field(
        description="Every release and extract that included the donor's records, newest first"
    )
    tokens: list[TokenHint]
    exported_at: str
    format: str = Field(description="datacommons-donor-export/1")


class ProgramPublic(BaseModel):
    """A data-altruism program and its current text."""

    id: str
    title_it: str
    title_en: str
    purpose: str
    purpose_iri: str
    purpose_label_it: str
    purpose_label_en: str
    controller: str
    controller_contact: str
    controller_address: str = ""
    retention_days: int
    created_at: datetime
    current_text: TextPublic


class OrgDonorsCreate(BaseModel):
    """An organisation registers the donors whose records it donates to some datasets."""

    organisation: str = Field(min_length=1, max_length=200)
    dataset_ids: list[str] = Field(min_length=1, max_length=100)
    donor_ids: list[str] = Field(min_length=1, max_length=10000)


class ClaimCode(BaseModel):
    """A registered donor: the commons' donor id, the organisation's pseudonym, and the one-time
    claim code to hand to the person (None once claimed)."""

    donor_id: str
    pseudonym: str
    claim_code: str | None


class ChainStatus(BaseModel):
    """The result of checking the transparency log's hash chain."""

    ok: bool
    count: int
    first_bad_id: int | None
    reason: str | None


class KeyPublic(BaseModel):
    """A receipt-signing key (its public half)."""

    kid: str
    active: bool
    created_at: datetime
    retired_at: datetime | None
    public_jwk: dict[str, Any]
