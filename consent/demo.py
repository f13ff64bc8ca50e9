"""Demo consent data: programs for the private dataset, its donors, their consents (idempotent).

Called by ``datacommons demo`` (:mod:`datacommons.demo`). Donors registered by the organisation are
written in bulk (the demo and the benchmarks have up to ~500k of them); their receipts are signed
when first asked for, with the key recorded on each event.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from consent import donors, eligibility, keys, ledger, programs
from consent.models import Consent, ConsentEvent, ConsentPeriod, Donor, DonorDataset, Program
from consent.receipts import Signer
from datacommons import auth
from datacommons.config import Settings, get_settings
from datacommons.db import Base, utcnow

DEMO_DONOR = "demo-donor-0001"
ACTOR = "system:demo"
CONTROLLER = "Città metropolitana di Torino — Direzione Sviluppo economico e sociale (demo)"
CONTACT = "dati.altruismo@example.org"
ADDRESS = "Corso Inghilterra 7, 10138 Torino"
#: The datasets' special categories: disability and addiction (health), former detention (art. 10).
SPECIAL = ["criminal-convictions", "health"]
BATCH = 20_000


def demo_programs(dataset_id: str) -> list[programs.ProgramSpec]:
    """The two demo programs on the private dataset: research and public policy."""
    categories = [
        "dati anagrafici pseudonimizzati / pseudonymised demographics",
        "percorso di inserimento lavorativo / job-placement pathway",
        "retribuzione mensile / monthly wage",
    ]
    return [
        programs.ProgramSpec(
            id=f"{dataset_id}-ricerca",
            purpose="dpv:ScientificResearch",
            title_it="Ricerca sull'inserimento lavorativo delle persone svantaggiate",
            title_en="Research on the job placement of disadvantaged people",
            controller=CONTROLLER,
            controller_contact=CONTACT,
            controller_address=ADDRESS,
            retention_days=3650,
            text=programs.TextSpec(
                text_it="Acconsento che i dati pseudonimizzati del mio percorso di inserimento "
                "lavorativo siano usati, solo in forma aggregata e con privacy differenziale, "
                "per ricerca scientifica sull'economia sociale del territorio torinese.",
                text_en="I agree that pseudonymised data about my job-placement pathway be used, "
                "only in aggregate form and under differential privacy, for scientific "
                "research on the social economy of the Turin area.",
                datasets=[dataset_id],
                data_categories=categories,
                recipients=["class:researchers", "class:social-enterprises"],
                special_categories=SPECIAL,
                duration_days=1095,
            ),
        ),
        programs.ProgramSpec(
            id=f"{dataset_id}-politiche",
            purpose="dpv:PublicPolicyMaking",
            title_it="Politiche pubbliche per l'inclusione lavorativa",
            title_en="Public policies for labour inclusion",
            controller=CONTROLLER,
            controller_contact=CONTACT,
            controller_address=ADDRESS,
            retention_days=1825,
            text=programs.TextSpec(
                text_it="Acconsento che i dati pseudonimizzati del mio percorso di inserimento "
                "lavorativo siano usati, solo in forma aggregata, per progettare e valutare "
                "le politiche pubbliche di inclusione della Città metropolitana di Torino.",
                text_en="I agree that pseudonymised data about my job-placement pathway be used, "
                "only in aggregate form, to design and evaluate the labour-inclusion "
                "policies of the Metropolitan City of Turin.",
                datasets=[dataset_id],
                data_categories=categories,
                recipients=["Città metropolitana di Torino", "class:social-enterprises"],
                special_categories=SPECIAL,
                duration_days=None,
            ),
        ),
    ]


@dataclass
class SeedResult:
    """What seeding did: the programs, and how many donors and consents it added."""

    programs: list[str] = field(default_factory=list)
    donors_added: int = 0
    consents_given: int = 0
    consents_withdrawn: int = 0


def _draw(donor_id: str, salt: str) -> int:
    """A deterministic number 0-99 for a donor (which demo consents they give)."""
    return hashlib.sha256(f"{salt}:{donor_id}".encode()).digest()[0] % 100


def seed_consent(
    session: Session,
    *,
    dataset_id: str,
    donor_ids: list[str],
    organisation: str,
    settings: Settings | None = None,
) -> SeedResult:
    """Seed the demo programs, register ``donor_ids`` as ``organisation``'s donors with consents.

    About 90% consent to research and 70% to public policy; of those, about 5% and 10% withdrew.
    Donors already registered are left alone, so running it again changes nothing. The demo's donors
    keep their pseudonyms as their donor ids (as donors registered before namespaces did). The demo donor
    ``demo-donor-0001`` becomes a real donor with personal data and a consent, so the donor
    journey (export, receipts, withdrawal) works with the demo donor token.
    """
    signer = Signer.of(settings or get_settings())
    result = SeedResult()
    texts = {}
    for spec in demo_programs(dataset_id):
        program = session.get(Program, spec.id) or programs.create_program(session, spec=spec, actor=ACTOR)
        texts[program.id] = programs.current_text(session, program)
        result.programs.append(program.id)
    research, policy = result.programs
    org = auth.get_or_create_organisation(session, organisation)
    key = keys.active_key(session, secret=signer.secret)
    known = set(session.scalars(select(Donor.id)))
    new_ids = [d for d in dict.fromkeys(donor_ids) if d not in known]
    now = utcnow()
    given_at, withdrawn_at = now - timedelta(days=2), now - timedelta(days=1)
    rows: dict[str, list[dict[str, object]]] = {
        "donors": [],
        "links": [],
        "consents": [],
        "events": [],
        "periods": [],
    }
    for donor_id in new_ids:
        rows["donors"].append(
            {
                "id": donor_id,
                "source": "organisation",
                "organisation_id": org.id,
                "pseudonym": donor_id,
                "created_at": given_at,
            }
        )
        rows["links"].append(
            {"donor_id": donor_id, "dataset_id": dataset_id, "pseudonym": donor_id, "created_at": given_at}
        )
        for program_id, share, withdrawn_share in ((research, 90, 5), (policy, 70, 10)):
            if _draw(donor_id, program_id) >= share:
                continue
            text = texts[program_id]
            until = given_at + timedelta(days=text.duration_days) if text.duration_days else None
            withdrawn = _draw(donor_id, program_id + ":withdrawn") < withdrawn_share
            consent_id = str(uuid.uuid4())
            rows["consents"].append(
                {"id": consent_id, "donor_id": donor_id, "program_id": program_id, "created_at": given_at}
            )
            base = {
                "consent_id": consent_id,
                "text_id": text.id,
                "kid": key.kid,
                "receipt": None,
                "actor": ACTOR,
                "method": "demo-seed",
            }
            given_record = str(uuid.uuid4())
            rows["events"].append(
                {
                    **base,
                    "record_id": given_record,
                    "ends_record_id": None,
                    "event": "given",
                    "at": given_at,
                    "valid_until": until,
                    "reason": "",
                }
            )
            if withdrawn:
                rows["events"].append(
                    {
                        **base,
                        "record_id": str(uuid.uuid4()),
                        "ends_record_id": given_record,
                        "event": "withdrawn",
                        "at": withdrawn_at,
                        "valid_until": None,
                        "reason": "withdrawn by the donor",
                    }
                )
                result.consents_withdrawn += 1
            rows["periods"].append(
                {
                    "consent_id": consent_id,
                    "donor_id": donor_id,
                    "text_id": text.id,
                    "valid_from": given_at,
                    "valid_until": until,
                    "ended_at": withdrawn_at if withdrawn else None,
                    "void": False,
                }
            )
            result.consents_given += 1
    if new_ids and session.get_bind().dialect.name == "sqlite":
        # A bigger page cache for this connection: inserting into the uuid indexes of hundreds of
        # thousands of rows otherwise thrashes SQLite's default 2 MB cache.
        session.connection().exec_driver_sql("PRAGMA cache_size = -262144")
    for table, name in (
        (Donor, "donors"),
        (DonorDataset, "links"),
        (Consent, "consents"),
        (ConsentEvent, "events"),
        (ConsentPeriod, "periods"),
    ):
        for start in range(0, len(rows[name]), BATCH):
            # Core executemany on the table: the ORM's bulk path would insert row by row here.
            session.execute(
                insert(Base.metadata.tables[table.__tablename__]), rows[name][start : start + BATCH]
            )
    result.donors_added = len(new_ids)
    if new_ids:
        eligibility.bump(session)
    _seed_demo_donor(session, dataset_id=dataset_id, program_id=research, signer=signer)
    session.flush()
    return result


def _seed_demo_donor(session: Session, *, dataset_id: str, program_id: str, signer: Signer) -> None:
    """The demo donor: a registered donor with personal data and one consent with its receipt."""
    if session.get(Donor, DEMO_DONOR) is not None:
        return
    donor = Donor(id=DEMO_DONOR, source="self")
    session.add(donor)
    session.flush()
    donors.set_personal_data(
        session, donor=donor, kek=signer.kek, name="Donatrice Demo", email="donatrice.demo@example.org"
    )
    session.add(DonorDataset(donor_id=DEMO_DONOR, dataset_id=dataset_id, pseudonym=DEMO_DONOR))
    text = programs.current_text(session, programs.get_program(session, program_id))
    ledger.grant(
        session,
        donor_id=DEMO_DONOR,
        program_id=program_id,
        text_version=text.version,
        signer=signer,
        collection=ledger.Collection(ACTOR, "demo-seed"),
    )
