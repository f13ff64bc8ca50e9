"""Purposes from the W3C Data Privacy Vocabulary (DPV 2.0) that data-altruism programs may declare.

DGA art. 2(16) lists the objectives of general interest data altruism serves; these are the DPV purposes
that name them. Each has an Italian and an English label for the consent form.
"""

from __future__ import annotations

from datacommons.errors import InvalidInput

DPV_NS = "https://w3id.org/dpv#"

#: purpose CURIE → (Italian label, English label)
PURPOSES: dict[str, tuple[str, str]] = {
    "dpv:ScientificResearch": ("Ricerca scientifica", "Scientific research"),
    "dpv:AcademicResearch": ("Ricerca accademica", "Academic research"),
    "dpv:NonCommercialResearch": ("Ricerca non commerciale", "Non-commercial research"),
    "dpv:ProvideOfficialStatistics": ("Produzione di statistiche ufficiali", "Provide official statistics"),
    "dpv:PublicPolicyMaking": ("Definizione di politiche pubbliche", "Public policy making"),
    "dpv:ImprovePublicServices": ("Miglioramento dei servizi pubblici", "Improve public services"),
    "dpv:PublicBenefit": ("Interesse pubblico", "Public benefit"),
    "dpv:ResearchAndDevelopment": ("Ricerca e sviluppo", "Research and development"),
}


def check_purpose(purpose: str) -> str:
    """``purpose`` if it is a DPV purpose a program may declare, else :class:`InvalidInput`."""
    if purpose not in PURPOSES:
        raise InvalidInput(f"unknown purpose {purpose!r}: choose one of {', '.join(PURPOSES)}")
    return purpose


def purpose_iri(purpose: str) -> str:
    """The full IRI of a ``dpv:`` purpose."""
    return DPV_NS + purpose.split(":", 1)[1]
