"""Data-altruism programs, their versioned consent texts, and the modular consent form (DGA art. 25).

A program fixes a purpose (a DPV purpose), a controller and a retention. What donors are asked to
agree to — the bilingual text, the datasets, the data categories and the consent's duration — is a
:class:`ConsentText` version; publishing a new version leaves every consent given on an older one
bound to it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent.agreements import (
    CLASSES,
    SPECIAL_CATEGORIES,
    check_recipients,
    check_special_categories,
    recipient_label,
)
from consent.models import ConsentText, Program, TextDataset
from datacommons.acts import Act
from datacommons.acts import record as record_act
from datacommons.errors import Conflict, InvalidInput, NotFound, validated_by
from datacommons.specs import Slug, check_slug
from datacommons.vocabularies import PURPOSES, check_purpose, purpose_iri

#: What a consent form says about the donor's rights, in both languages.
RIGHTS = {
    "it": "Puoi revocare il consenso in qualsiasi momento, con la stessa facilità con cui lo hai dato "
    "(GDPR art. 7(3)); la revoca non pregiudica gli usi fatti prima. Puoi scaricare tutti i dati "
    "che ti riguardano e chiederne la cancellazione. Ogni uso dei dati è registrato in un "
    "registro pubblico (DGA art. 20) che puoi consultare.",
    "en": "You can withdraw consent at any time, as easily as you gave it (GDPR art. 7(3)); withdrawal "
    "does not affect uses made before it. You can download everything held about you and ask "
    "for its erasure. Every use of the data is recorded in a public log (DGA art. 20) you can "
    "consult.",
}


class TextSpec(BaseModel):
    """A version of a program's consent text and the scope it asks consent for."""

    text_it: str = Field(min_length=20)
    text_en: str = Field(min_length=20)
    datasets: list[str] = Field(min_length=1)
    data_categories: list[str] = Field(min_length=1)
    recipients: Annotated[list[str], validated_by(check_recipients)] = Field(
        min_length=1,
        description="Who may use the data: organisation names, or classes "
        f"({', '.join(CLASSES)}). Only they may query under this version (the data-use agreement).",
    )
    special_categories: Annotated[list[str], validated_by(check_special_categories)] = Field(
        default_factory=list,
        description="Special categories of personal data the datasets hold (GDPR art. 9, and art. 10): "
        + ", ".join(SPECIAL_CATEGORIES),
    )
    duration_days: int | None = Field(
        None, ge=1, le=3650, description="How long a consent lasts; None: until withdrawn"
    )

    @field_validator("datasets")
    @classmethod
    def _slugs(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                check_slug(item)
            except InvalidInput as exc:
                raise ValueError(exc.message) from exc
        return sorted(set(value))


class ProgramSpec(BaseModel):
    """A new program, with the first version of its text."""

    id: Slug
    title_it: str = Field(min_length=1, max_length=300)
    title_en: str = Field(min_length=1, max_length=300)
    purpose: Annotated[str, validated_by(check_purpose)]
    controller: str = Field(min_length=1, max_length=300)
    controller_contact: str = Field("", max_length=300)
    controller_address: str = Field("", max_length=300, description="The controller's postal address")
    retention_days: int = Field(ge=1, le=36500)
    text: TextSpec


def text_hash(program: Program, version: int, spec: TextSpec) -> str:
    """SHA-256 of everything a donor is shown for this version, canonically serialised."""
    shown = {
        "program": program.id,
        "version": version,
        "purpose": program.purpose,
        "controller": program.controller,
        "controller_address": program.controller_address,
        "retention_days": program.retention_days,
        "text_it": spec.text_it,
        "text_en": spec.text_en,
        "datasets": spec.datasets,
        "data_categories": spec.data_categories,
        "recipients": spec.recipients,
        "special_categories": spec.special_categories,
        "duration_days": spec.duration_days,
    }
    canonical = json.dumps(shown, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def add_text_version(session: Session, *, program: Program, spec: TextSpec, actor: str) -> ConsentText:
    """Publish a new version of the program's text; consents given on older versions keep theirs.

    The new text is logged in the transparency log (kind ``program``) with its hash, so anyone can
    check which text a consent was given to."""
    number = (
        session.scalar(select(func.max(ConsentText.version)).where(ConsentText.program_id == program.id)) or 0
    ) + 1
    text = ConsentText(
        program_id=program.id,
        version=number,
        text_it=spec.text_it,
        text_en=spec.text_en,
        datasets=spec.datasets,
        data_categories=spec.data_categories,
        recipients=spec.recipients,
        special_categories=spec.special_categories,
        duration_days=spec.duration_days,
        sha256=text_hash(program, number, spec),
    )
    session.add(text)
    session.flush()
    session.add_all(TextDataset(text_id=text.id, dataset_id=d) for d in spec.datasets)
    program.current_text_id = text.id
    session.flush()
    record_act(
        session,
        Act(
            kind="program",
            actor=actor,
            purpose="program created" if number == 1 else "new consent text published",
            datasets=tuple(spec.datasets),
            details={
                "program": program.id,
                "purpose": program.purpose,
                "text_version": number,
                "text_sha256": text.sha256,
                "recipients": list(spec.recipients),
                "duration_days": spec.duration_days,
            },
        ),
    )
    return text


def create_program(session: Session, *, spec: ProgramSpec, actor: str) -> Program:
    """Create a program with the first version of its text (:class:`Conflict` if the id is taken)."""
    if session.get(Program, spec.id) is not None:
        raise Conflict(f"a program {spec.id!r} already exists: publish a new text version instead")
    program = Program(
        id=spec.id,
        title_it=spec.title_it,
        title_en=spec.title_en,
        purpose=spec.purpose,
        controller=spec.controller,
        controller_contact=spec.controller_contact,
        controller_address=spec.controller_address,
        retention_days=spec.retention_days,
        created_by=actor,
    )
    session.add(program)
    session.flush()
    add_text_version(session, program=program, spec=spec.text, actor=actor)
    return program


def get_program(session: Session, program_id: str) -> Program:
    """The program with this id, or :class:`NotFound`."""
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound(f"no program {program_id!r}")
    return program


def list_programs(session: Session) -> list[Program]:
    """Every program, by id."""
    return list(session.scalars(select(Program).order_by(Program.id)))


def current_text(session: Session, program: Program) -> ConsentText:
    """The text version new consents to ``program`` bind to."""
    text = session.get(ConsentText, program.current_text_id)
    if text is None:  # pragma: no cover - create_program always adds one
        raise NotFound(f"program {program.id!r} has no consent text")
    return text


def get_text(session: Session, program: Program, version: int) -> ConsentText:
    """Version ``version`` of the program's text, or :class:`NotFound`."""
    text = session.scalars(
        select(ConsentText).where(ConsentText.program_id == program.id, ConsentText.version == version)
    ).first()
    if text is None:
        raise NotFound(f"program {program.id!r} has no text version {version}")
    return text


def list_texts(session: Session, program: Program) -> list[ConsentText]:
    """Every version of the program's text, oldest first."""
    return list(
        session.scalars(
            select(ConsentText).where(ConsentText.program_id == program.id).order_by(ConsentText.version)
        )
    )


def text_public(text: ConsentText) -> dict[str, Any]:
    """A text version as shown to donors and administrators."""
    return {
        "version": text.version,
        "sha256": text.sha256,
        "text_it": text.text_it,
        "text_en": text.text_en,
        "datasets": list(text.datasets),
        "data_categories": list(text.data_categories),
        "recipients": list(text.recipients),
        "special_categories": list(text.special_categories),
        "duration_days": text.duration_days,
        "published_at": text.created_at,
    }


def program_public(session: Session, program: Program) -> dict[str, Any]:
    """A program with its purpose, controller, retention and current text."""
    label_it, label_en = PURPOSES.get(program.purpose, (program.purpose, program.purpose))
    return {
        "id": program.id,
        "title_it": program.title_it,
        "title_en": program.title_en,
        "purpose": program.purpose,
        "purpose_iri": purpose_iri(program.purpose),
        "purpose_label_it": label_it,
        "purpose_label_en": label_en,
        "controller": program.controller,
        "controller_contact": program.controller_contact,
        "controller_address": program.controller_address,
        "retention_days": program.retention_days,
        "created_at": program.created_at,
        "current_text": text_public(current_text(session, program)),
    }


def consent_form(
    session: Session, program: Program, *, version: int | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """The modular consent form of a program (DGA art. 25): one module per thing agreed to.

    JSON and the printable page both render this.
    """
    text = get_text(session, program, version) if version else current_text(session, program)
    label_it, label_en = PURPOSES.get(program.purpose, (program.purpose, program.purpose))
    return {
        "form_version": "dga-art25-modular-1",
        "program": {"id": program.id, "title_it": program.title_it, "title_en": program.title_en},
        "modules": {
            "controller": {
                "name": program.controller,
                "contact": program.controller_contact,
                "address": program.controller_address,
            },
            "recipients": [recipient_label(r) for r in text.recipients],
            "special_categories": [
                {"id": c, "label_it": SPECIAL_CATEGORIES[c][0], "label_en": SPECIAL_CATEGORIES[c][1]}
                for c in text.special_categories
                if c in SPECIAL_CATEGORIES
            ],
            "purpose": {
                "id": program.purpose,
                "iri": purpose_iri(program.purpose),
                "label_it": label_it,
                "label_en": label_en,
            },
            "datasets": list(text.datasets),
            "data_categories": list(text.data_categories),
            "duration": {
                "days": text.duration_days,
                "label_it": f"{text.duration_days} giorni" if text.duration_days else "fino alla revoca",
                "label_en": f"{text.duration_days} days" if text.duration_days else "until withdrawn",
            },
            "retention": {"days": program.retention_days},
            "rights": RIGHTS,
        },
        "text": {"version": text.version, "sha256": text.sha256, "it": text.text_it, "en": text.text_en},
        "how_to_consent": {
            "method": "POST",
            "path": "/api/v1/consents",
            "body": {"program_id": program.id, "text_version": text.version},
        },
    }
