"""Data-use agreements: who may use donors' records, as their consent text names it.

A consent text version names its **recipients**: organisations by name, or classes of them
(``class:researchers`` for research organisations, ``class:social-enterprises`` for the social
enterprises that query as analysts). An organisation may query a dataset only under a program one of
whose text versions covers the dataset and names it, or its class, as a recipient; and only the
donors who consented to such a version count (:mod:`consent.eligibility`). A query names its program,
or a purpose that resolves to exactly one such program; anything else is refused with what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.models import ConsentText, Program, TextDataset
from datacommons.errors import Forbidden, InvalidInput, NotFound

#: The recipient classes, and the role whose callers belong to each.
CLASSES: dict[str, str] = {"class:researchers": "researcher", "class:social-enterprises": "analyst"}

#: The special categories of personal data a text may declare: GDPR art. 9(1), and art. 10.
SPECIAL_CATEGORIES: dict[str, tuple[str, str]] = {
    "racial-or-ethnic-origin": ("origine razziale o etnica", "racial or ethnic origin"),
    "political-opinions": ("opinioni politiche", "political opinions"),
    "religious-or-philosophical-beliefs": (
        "convinzioni religiose o filosofiche",
        "religious or philosophical beliefs",
    ),
    "trade-union-membership": ("appartenenza sindacale", "trade union membership"),
    "genetic": ("dati genetici", "genetic data"),
    "biometric": ("dati biometrici", "biometric data"),
    "health": ("dati relativi alla salute", "data concerning health"),
    "sex-life-or-orientation": ("vita od orientamento sessuale", "sex life or sexual orientation"),
    "criminal-convictions": (
        "condanne penali e reati (art. 10)",
        "criminal convictions and offences (art. 10)",
    ),
}


#: The classes' names on consent forms.
CLASS_LABELS: dict[str, tuple[str, str]] = {
    "class:researchers": ("enti di ricerca", "research organisations"),
    "class:social-enterprises": ("imprese sociali e cooperative", "social enterprises and cooperatives"),
}


def recipient_label(value: str) -> dict[str, str]:
    """A recipient as a consent form shows it, in both languages."""
    label_it, label_en = CLASS_LABELS.get(value, (value, value))
    return {"id": value, "label_it": label_it, "label_en": label_en}


def check_recipients(values: list[str]) -> list[str]:
    """Recipients as given, deduplicated and sorted; a ``class:`` entry must be a known class."""
    out = set()
    for value in values:
        value = value.strip()
        if not value or len(value) > 200:
            raise InvalidInput(f"invalid recipient {value!r}: an organisation name or a class")
        if value.startswith("class:") and value not in CLASSES:
            raise InvalidInput(f"unknown recipient class {value!r}: choose one of {', '.join(CLASSES)}")
        out.add(value)
    return sorted(out)


def check_special_categories(values: list[str]) -> list[str]:
    """Special categories as given, deduplicated and sorted; each must be a known one."""
    for value in values:
        if value not in SPECIAL_CATEGORIES:
            raise InvalidInput(
                f"unknown special category {value!r}: choose among {', '.join(SPECIAL_CATEGORIES)}"
            )
    return sorted(set(values))


@dataclass(frozen=True)
class Recipient:
    """Who asks to use the data: the caller's organisation and the class its role belongs to."""

    organisation: str
    role: str

    @property
    def names(self) -> frozenset[str]:
        """The recipient entries that name this caller."""
        classes = {name for name, role in CLASSES.items() if role == self.role}
        return frozenset({self.organisation, *classes})

    def named_by(self, recipients: list[str]) -> bool:
        """Whether a text version naming ``recipients`` names this caller."""
        return not self.names.isdisjoint(recipients)


def _texts(session: Session, dataset_id: str, program_id: str | None, purpose: str) -> list[ConsentText]:
    query = (
        select(ConsentText)
        .join(TextDataset, TextDataset.text_id == ConsentText.id)
        .join(Program, Program.id == ConsentText.program_id)
        .where(TextDataset.dataset_id == dataset_id, Program.purpose == purpose)
        .order_by(ConsentText.program_id, ConsentText.version)
    )
    if program_id is not None:
        query = query.where(ConsentText.program_id == program_id)
    return list(session.scalars(query))


def resolve(
    session: Session, *, dataset_id: str, purpose: str, program_id: str | None, recipient: Recipient
) -> str:
    """The program a query over ``dataset_id`` runs under, or :class:`Forbidden` saying what is missing.

    With ``program_id``, that program must have the query's purpose and a text version covering the
    dataset that names the caller; without it, exactly one program with the purpose must.
    """
    if program_id is not None:
        program = session.get(Program, program_id)
        if program is None:
            raise NotFound(f"no program {program_id!r}")
        if program.purpose != purpose:
            raise InvalidInput(
                f"program {program_id!r} is for {program.purpose}, not {purpose}: ask with its purpose"
            )
    texts = _texts(session, dataset_id, program_id, purpose)
    held = sorted({t.program_id for t in texts if recipient.named_by(list(t.recipients))})
    if len(held) == 1:
        return held[0]
    if not held:
        where = f"program {program_id!r}" if program_id else f"any program for {purpose} on {dataset_id}"
        named = " or ".join(
            [repr(recipient.organisation), *sorted(recipient.names - {recipient.organisation})]
        )
        raise Forbidden(
            f"your organisation holds no data-use agreement under {where}: no consent text "
            f"covering {dataset_id} names {named} as a recipient"
        )
    raise InvalidInput(
        f"several programs for {purpose} cover {dataset_id} and name your organisation: "
        f'say which with "program" ({", ".join(held)})'
    )
