"""The controlled vocabularies of the commons, with their Italian and English labels.

- The EU Publications Office authority tables the DCAT-AP export points to (data themes, frequencies,
  access rights, file types, languages) and NUTS: each concept is written into the export with its IRI
  and a label in both languages, because DCAT-AP asks every ``skos:Concept`` it meets to carry a
  ``skos:prefLabel``.
- The purposes of the W3C Data Privacy Vocabulary (DPV 2.0) that data-altruism programs may declare:
  DGA art. 2(16) lists the objectives of general interest data altruism serves; these are the DPV
  purposes that name them, labelled for the consent form.

One kernel module, so the catalog, the consent registry and the web front read the same labels.
"""

from __future__ import annotations

import re

from datacommons.errors import InvalidInput

AUTHORITY = "http://publications.europa.eu/resource/authority"
DATA_THEME_SCHEME = f"{AUTHORITY}/data-theme"
FREQUENCY_SCHEME = f"{AUTHORITY}/frequency"
ACCESS_RIGHT_SCHEME = f"{AUTHORITY}/access-right"
FILE_TYPE_SCHEME = f"{AUTHORITY}/file-type"
LANGUAGE_SCHEME = f"{AUTHORITY}/language"
NUTS = "http://data.europa.eu/nuts/code"

#: EU data themes: code -> (Italian, English).
DATA_THEMES: dict[str, tuple[str, str]] = {
    "AGRI": (
        "Agricoltura, pesca, silvicoltura e prodotti alimentari",
        "Agriculture, fisheries, forestry and food",
    ),
    "ECON": ("Economia e finanze", "Economy and finance"),
    "EDUC": ("Istruzione, cultura e sport", "Education, culture and sport"),
    "ENER": ("Energia", "Energy"),
    "ENVI": ("Ambiente", "Environment"),
    "GOVE": ("Governo e settore pubblico", "Government and public sector"),
    "HEAL": ("Salute", "Health"),
    "INTR": ("Tematiche internazionali", "International issues"),
    "JUST": ("Giustizia, sistema giuridico e sicurezza pubblica", "Justice, legal system and public safety"),
    "REGI": ("Regioni e città", "Regions and cities"),
    "SOCI": ("Popolazione e società", "Population and society"),
    "TECH": ("Scienza e tecnologia", "Science and technology"),
    "TRAN": ("Trasporti", "Transport"),
}

#: EU frequencies (the common ones): code -> (Italian, English).
FREQUENCIES: dict[str, tuple[str, str]] = {
    "ANNUAL": ("Annuale", "Annual"),
    "ANNUAL_2": ("Semestrale", "Semiannual"),
    "ANNUAL_3": ("Tre volte all'anno", "Three times a year"),
    "BIENNIAL": ("Biennale", "Biennial"),
    "TRIENNIAL": ("Triennale", "Triennial"),
    "QUADRENNIAL": ("Quadriennale", "Quadrennial"),
    "QUINQUENNIAL": ("Quinquennale", "Quinquennial"),
    "DECENNIAL": ("Decennale", "Decennial"),
    "QUARTERLY": ("Trimestrale", "Quarterly"),
    "BIMONTHLY": ("Bimestrale", "Bimonthly"),
    "MONTHLY": ("Mensile", "Monthly"),
    "MONTHLY_2": ("Bimensile", "Semimonthly"),
    "WEEKLY": ("Settimanale", "Weekly"),
    "DAILY": ("Quotidiano", "Daily"),
    "CONT": ("Continuo", "Continuous"),
    "UPDATE_CONT": ("Aggiornato di continuo", "Continuously updated"),
    "IRREG": ("Irregolare", "Irregular"),
    "NEVER": ("Mai", "Never"),
    "UNKNOWN": ("Sconosciuto", "Unknown"),
    "OTHER": ("Altro", "Other"),
}

#: EU access rights: our access -> (code, Italian, English).
ACCESS_RIGHTS: dict[str, tuple[str, str, str]] = {
    "open": ("PUBLIC", "Pubblico", "Public"),
    "private": ("NON_PUBLIC", "Non pubblico", "Non-public"),
}

#: EU languages of the catalog's metadata: code -> (Italian, English).
LANGUAGES: dict[str, tuple[str, str]] = {"ITA": ("Italiano", "Italian"), "ENG": ("Inglese", "English")}

#: NUTS regions of the catalog's datasets (and their country): code -> (Italian, English).
NUTS_LABELS: dict[str, tuple[str, str]] = {
    "IT": ("Italia", "Italy"),
    "ITC": ("Nord-ovest", "North-West"),
    "ITC1": ("Piemonte", "Piedmont"),
    "ITC11": ("Città metropolitana di Torino", "Metropolitan City of Turin"),
}


def label_of(table: dict[str, tuple[str, str]], code: str, lang: str) -> str | None:
    """The Italian or English label of ``code`` in a vocabulary table (None for an unknown code)."""
    labels = table.get(code.strip().upper()) if code else None
    if labels is None:
        return None
    return labels[1] if lang == "en" else labels[0]


NUTS_CODE = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,3}$")


def code_iri(scheme: str, code: str) -> str:
    """The IRI of ``code`` in an EU authority table (codes are upper case there)."""
    return f"{scheme}/{code.strip().upper()}"


def nuts_iri(code: str) -> str | None:
    """The NUTS IRI of a NUTS code (IT, ITC1, ITC11); None for anything else (e.g. an ISTAT code)."""
    code = code.strip().upper()
    return f"{NUTS}/{code}" if NUTS_CODE.match(code) else None


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
