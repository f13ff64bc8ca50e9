"""The web front's two languages. Pages pick Italian or English from ``?lang=``, then the ``dc_lang``
cookie, then the browser's Accept-Language, defaulting to Italian."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal
from fastapi import Request
from jinja2 import Environment, pass_context
from markupsafe import Markup, escape

from catalog.vocabularies import DATA_THEMES, FREQUENCIES, NUTS_LABELS, label_of
from consent.dpv import PURPOSES

TEXTS: dict[str, dict[str, str]] = {
    "site": {
        "it": "Data commons dell'economia sociale — Torino",
        "en": "Social economy data commons — Turin",
    },
    "catalog": {"it": "Catalogo", "en": "Catalog"},
    "donor": {"it": "Donatori", "en": "Donors"},
    "admin": {"it": "Amministrazione", "en": "Administration"},
    "login": {"it": "Accedi", "en": "Sign in"},
    "logout": {"it": "Esci", "en": "Sign out"},
    "forbidden_title": {"it": "Accesso non consentito", "en": "Not allowed"},
    "forbidden_admin": {
        "it": "Questa pagina è riservata agli amministratori. Il tuo token non ha questo ruolo.",
        "en": "This page is for administrators. Your token does not have that role.",
    },
    "forbidden_query": {
        "it": "Le interrogazioni sono riservate ad analisti e ricercatori.",
        "en": "Queries are for analysts and researchers.",
    },
    "back_to_catalog": {"it": "Torna al catalogo", "en": "Back to the catalog"},
    "login_other": {"it": "Accedi con un altro token", "en": "Sign in with another token"},
    "token": {"it": "Token di accesso", "en": "Access token"},
    "token_help": {
        "it": "Incolla il token che ti è stato consegnato (lo trovi anche nell'output di "
        "«make run» per i token dimostrativi).",
        "en": "Paste the token you were given (the demo tokens are printed by “make run”).",
    },
    "search": {"it": "Cerca", "en": "Search"},
    "search_label": {"it": "Cerca nel catalogo", "en": "Search the catalog"},
    "search_placeholder": {
        "it": "es. disoccupazione, cooperative, inserimento lavorativo",
        "en": "e.g. unemployment, cooperatives, work integration",
    },
    "results": {"it": "risultati", "en": "results"},
    "no_results": {"it": "Nessun dataset corrisponde alla ricerca.", "en": "No dataset matches the search."},
    "filters": {"it": "Filtri", "en": "Filters"},
    "clear_filters": {"it": "Togli i filtri", "en": "Clear filters"},
    "facet_theme": {"it": "Tema", "en": "Theme"},
    "facet_publisher": {"it": "Editore", "en": "Publisher"},
    "facet_access": {"it": "Accesso", "en": "Access"},
    "facet_format": {"it": "Formato", "en": "Format"},
    "facet_geography": {"it": "Territorio", "en": "Area"},
    "facet_year": {"it": "Anno", "en": "Year"},
    "open": {"it": "aperto", "en": "open"},
    "private": {"it": "privato", "en": "private"},
    "active_filters": {"it": "attivi", "en": "active"},
    "result_pages": {"it": "Pagine dei risultati", "en": "Result pages"},
    "format_DP-API": {"it": "Domande con privacy differenziale", "en": "Differentially-private queries"},
    "format_CSV": {"it": "CSV", "en": "CSV"},
    "format_PARQUET": {"it": "Parquet", "en": "Parquet"},
    "previous": {"it": "Precedenti", "en": "Previous"},
    "next": {"it": "Successivi", "en": "Next"},
    "json_twin": {"it": "Questa pagina in JSON", "en": "This page as JSON"},
    "metadata": {"it": "Metadati", "en": "Metadata"},
    "publisher": {"it": "Editore", "en": "Publisher"},
    "theme": {"it": "Tema", "en": "Theme"},
    "access": {"it": "Accesso", "en": "Access"},
    "geography": {"it": "Territorio", "en": "Area"},
    "licence": {"it": "Licenza", "en": "Licence"},
    "keywords": {"it": "Parole chiave", "en": "Keywords"},
    "frequency": {"it": "Aggiornamento", "en": "Update frequency"},
    "modified": {"it": "Ultima modifica", "en": "Last modified"},
    "provenance": {"it": "Provenienza", "en": "Provenance"},
    "prov_source_url": {"it": "Fonte", "en": "Source"},
    "prov_source_page": {"it": "Pagina della fonte", "en": "Source page"},
    "prov_sources": {"it": "Fonti", "en": "Sources"},
    "prov_attribution": {"it": "Attribuzione", "en": "Attribution"},
    "prov_dataflow": {"it": "Flusso SDMX", "en": "SDMX dataflow"},
    "prov_source_file": {"it": "File d'origine", "en": "Source file"},
    "prov_filter": {"it": "Filtro", "en": "Filter"},
    "prov_retrieved_at": {"it": "Scaricato il", "en": "Retrieved at"},
    "prov_upstream_last_update": {"it": "Ultimo aggiornamento della fonte", "en": "Upstream last update"},
    "prov_connector": {"it": "Connettore", "en": "Connector"},
    "prov_sha256": {"it": "Impronta SHA-256 del file d'origine", "en": "SHA-256 checksum of the source"},
    "prov_dropped_columns": {"it": "Colonne scartate", "en": "Dropped columns"},
    "prov_more": {"it": "Altri dettagli tecnici", "en": "More technical details"},
    "version_word": {"it": "versione", "en": "version"},
    "status_staged": {"it": "in attesa di validazione", "en": "staged"},
    "status_validated": {"it": "validata", "en": "validated"},
    "status_published": {"it": "pubblicata", "en": "published"},
    "status_rejected": {"it": "respinta", "en": "rejected"},
    "chart_slice": {"it": "Serie mostrata", "en": "Series shown"},
    "chart_total": {"it": "totale", "en": "total"},
    "chart_axes": {
        "it": "asse verticale: {y}; asse orizzontale: {x}",
        "en": "vertical axis: {y}; horizontal axis: {x}",
    },
    # column names of statistical tables (chart captions)
    "col_value": {"it": "valore", "en": "value"},
    "col_obs_value": {"it": "valore", "en": "value"},
    "col_valore": {"it": "valore", "en": "value"},
    "col_time": {"it": "periodo", "en": "period"},
    "col_time_period": {"it": "periodo", "en": "period"},
    "col_year": {"it": "anno", "en": "year"},
    "col_anno": {"it": "anno", "en": "year"},
    "col_sex": {"it": "sesso", "en": "sex"},
    "col_age": {"it": "età", "en": "age"},
    "col_isced11": {"it": "istruzione (ISCED 2011)", "en": "education (ISCED 2011)"},
    "col_geo": {"it": "territorio", "en": "area"},
    "col_ref_area": {"it": "territorio", "en": "area"},
    "col_comune": {"it": "comune", "en": "municipality"},
    "footer_source": {"it": "Fonte dei comuni: ISTAT", "en": "Source of the municipalities: ISTAT"},
    "ask_not_for_you": {
        "it": "Le domande sui dati privati sono riservate ad analisti e ricercatori.",
        "en": "Questions on private data are for analysts and researchers.",
    },
    # error pages
    "error_title": {"it": "Errore", "en": "Error"},
    "error_help": {"it": "La richiesta non è andata a buon fine.", "en": "The request did not succeed."},
    "error_title_404": {"it": "Pagina non trovata", "en": "Page not found"},
    "error_help_404": {
        "it": "La pagina o il dataset cercato non esiste (o non esiste più).",
        "en": "The page or dataset you asked for does not exist (or no longer does).",
    },
    "error_title_405": {"it": "Operazione non consentita", "en": "Method not allowed"},
    "error_help_405": {
        "it": "Questa pagina non accetta questo tipo di richiesta.",
        "en": "This page does not accept this kind of request.",
    },
    "error_title_422": {"it": "Richiesta non valida", "en": "Invalid request"},
    "error_help_422": {
        "it": "Un valore dell'indirizzo o del modulo non è valido: controllalo e riprova.",
        "en": "A value in the address or the form is not valid: check it and try again.",
    },
    "error_title_500": {"it": "Errore interno", "en": "Internal error"},
    "error_help_500": {
        "it": "Il servizio non è riuscito a completare la richiesta. Riprova più tardi.",
        "en": "The service could not complete the request. Try again later.",
    },
    "error_title_503": {
        "it": "Servizio momentaneamente non disponibile",
        "en": "Service temporarily unavailable",
    },
    "error_help_503": {"it": "Riprova tra qualche istante.", "en": "Try again in a moment."},
    "error_detail": {"it": "Dettaglio tecnico", "en": "Technical detail"},
    "versions": {"it": "Versioni", "en": "Versions"},
    "version": {"it": "Versione", "en": "Version"},
    "status": {"it": "Stato", "en": "Status"},
    "rows": {"it": "Righe", "en": "Rows"},
    "created": {"it": "Creata", "en": "Created"},
    "downloads": {"it": "Scarica", "en": "Download"},
    "chart": {"it": "Grafico", "en": "Chart"},
    "no_version": {"it": "Nessuna versione pubblicata.", "en": "No published version yet."},
    "private_note": {
        "it": "Questo dataset contiene microdati privati donati: non si scarica. Si "
        "possono porre domande aggregate con privacy differenziale.",
        "en": "This dataset holds donated private microdata: it cannot be downloaded. "
        "You can ask aggregate questions under differential privacy.",
    },
    "ask": {"it": "Fai una domanda", "en": "Ask a question"},
    "role_admin": {"it": "amministratore", "en": "administrator"},
    "role_analyst": {"it": "analista", "en": "analyst"},
    "role_researcher": {"it": "ricercatore", "en": "researcher"},
    "role_donor": {"it": "donatore", "en": "donor"},
    "signed_in_as": {"it": "Accesso come", "en": "Signed in as"},
    "bad_token": {"it": "Token non valido.", "en": "Invalid token."},
    "language": {"it": "Lingua", "en": "Language"},
    "skip": {"it": "Vai al contenuto", "en": "Skip to content"},
    # query builder
    "query_title": {"it": "Domanda con privacy differenziale", "en": "Differentially-private query"},
    "query_help": {
        "it": "Scegli finalità, dimensioni, misure ed epsilon. L'anteprima mostra l'accuratezza "
        "e il budget rimasto senza spendere nulla; «Esegui» spende epsilon.",
        "en": "Pick the purpose, dimensions, measures and epsilon. The preview shows the "
        "accuracy and the budget left without spending anything; “Run” spends epsilon.",
    },
    "purpose": {"it": "Finalità", "en": "Purpose"},
    "group_by": {"it": "Raggruppa per", "en": "Group by"},
    "measures": {"it": "Misure", "en": "Measures"},
    "measure": {"it": "Misura", "en": "Measure"},
    "count": {"it": "Conteggio", "en": "Count"},
    "count_persons": {"it": "Numero di persone", "en": "Number of people"},
    "count_persons_help": {"it": "persone distinte in ogni cella", "en": "distinct people in each cell"},
    "count_rows": {"it": "Numero di record", "en": "Number of records"},
    "count_rows_help": {
        "it": "una persona può averne più d'uno (es. un record per percorso)",
        "en": "a person may have several (e.g. one record per pathway)",
    },
    "mean": {"it": "Media di", "en": "Mean of"},
    "sum": {"it": "Somma di", "en": "Sum of"},
    "epsilon": {"it": "Epsilon (perdita di privacy)", "en": "Epsilon (privacy loss)"},
    "epsilon_help": {"it": "massimo per domanda:", "en": "at most per query:"},
    "preview": {"it": "Anteprima", "en": "Preview"},
    "run": {"it": "Esegui", "en": "Run"},
    "extract": {"it": "Scarica un estratto", "en": "Download extract"},
    "extract_ready": {"it": "Estratto pronto:", "en": "Extract ready:"},
    "scale": {"it": "Scala del rumore", "en": "Noise scale"},
    "ci": {"it": "Semiampiezza IC 95%", "en": "95% CI half-width"},
    "budget_left": {"it": "Budget rimasto", "en": "Budget left"},
    "budget_total": {"it": "totale del dataset", "en": "dataset total"},
    "budget_org": {"it": "della tua organizzazione", "en": "your organisation"},
    "budget_query": {"it": "per domanda", "en": "per query"},
    "budget_per_org": {"it": "per organizzazione", "en": "per organisation"},
    "left": {"it": "rimasto", "en": "left"},
    "of": {"it": "su", "en": "of"},
    "spent": {"it": "Speso", "en": "Spent"},
    "repeat": {"it": "domanda ripetuta, nessun costo", "en": "repeated question, no cost"},
    "not_affordable": {
        "it": "Budget insufficiente per questa domanda.",
        "en": "Not enough budget left for this query.",
    },
    "result": {"it": "Risultato", "en": "Result"},
    # donor portal
    "donor_portal": {"it": "Portale dei donatori", "en": "Donor portal"},
    "donor_intro": {
        "it": "Dona i tuoi dati per la ricerca e le politiche sociali: scegli a quali "
        "programmi, ritira il consenso quando vuoi, vedi ogni uso.",
        "en": "Donate your data to research and social policy: choose the programs, "
        "withdraw consent whenever you like, see every use.",
    },
    "register": {"it": "Registrati come donatore", "en": "Register as a donor"},
    "claim": {"it": "Ho un codice dalla mia cooperativa", "en": "I have a code from my cooperative"},
    "claim_intro": {
        "it": "Se una cooperativa ha donato i dati del tuo percorso, ti ha dato un codice donatore e "
        "un codice di attivazione: con questi puoi decidere tu sull'uso dei tuoi dati.",
        "en": "If a cooperative donated the data of your pathway, it gave you a donor id and an "
        "activation code: with them you decide how your data are used.",
    },
    "claim_button": {"it": "Attiva il mio profilo", "en": "Activate my profile"},
    "donor_id_label": {"it": "Codice donatore", "en": "Donor id"},
    "claim_code_label": {"it": "Codice di attivazione", "en": "Activation code"},
    "register_intro": {
        "it": "Senza codice puoi registrarti: potrai dare il consenso quando una cooperativa avrà "
        "collegato i tuoi dati al tuo profilo.",
        "en": "Without a code you can register: you can consent once a cooperative has linked your "
        "records to your profile.",
    },
    "not_your_records": {
        "it": "Questo programma non riguarda dati tuoi: nessuno dei suoi dataset contiene tuoi dati.",
        "en": "This program does not concern you: none of its datasets holds your records.",
    },
    "recipients": {"it": "Destinatari", "en": "Recipients"},
    "name_optional": {"it": "Nome (facoltativo)", "en": "Name (optional)"},
    "email_optional": {"it": "E-mail (facoltativa)", "en": "E-mail (optional)"},
    "have_token": {"it": "Hai già un token da donatore?", "en": "Already have a donor token?"},
    "your_token": {"it": "Il tuo token", "en": "Your token"},
    "your_token_help": {
        "it": "Conservalo: è mostrato solo ora e serve per accedere di nuovo.",
        "en": "Keep it: it is shown only now and you need it to sign in again.",
    },
    "pseudonym": {"it": "Pseudonimo", "en": "Pseudonym"},
    "programs": {"it": "Programmi", "en": "Programs"},
    "controller": {"it": "Titolare", "en": "Controller"},
    "consent_text": {"it": "Testo del consenso", "en": "Consent text"},
    "datasets": {"it": "Dataset", "en": "Datasets"},
    "consent_active": {"it": "consenso attivo", "en": "consent given"},
    "consent_withdrawn": {"it": "consenso ritirato", "en": "consent withdrawn"},
    "consent_expired": {"it": "consenso scaduto", "en": "consent expired"},
    "consent_none": {"it": "nessun consenso", "en": "no consent"},
    "grant": {"it": "Do il consenso", "en": "Give consent"},
    "withdraw": {"it": "Ritira il consenso", "en": "Withdraw consent"},
    "renew": {"it": "Rinnova il consenso", "en": "Renew consent"},
    "renew_new_text": {"it": "Rinnova sul nuovo testo", "en": "Renew on the new text"},
    "valid_until": {"it": "valido fino al", "en": "valid until"},
    "receipt": {"it": "Scarica la ricevuta firmata", "en": "Download the signed receipt"},
    "privacy_loss": {"it": "La tua perdita di privacy", "en": "Your privacy loss"},
    "privacy_loss_summary": {
        "it": "I tuoi dati sono stati inclusi in {n} risposte; perdita di privacy ε {spent} su {cap}.",
        "en": "Your data were included in {n} answers; privacy loss ε {spent} of {cap}.",
    },
    "privacy_loss_summary_one": {
        "it": "I tuoi dati sono stati inclusi in 1 risposta; perdita di privacy ε {spent} su {cap}.",
        "en": "Your data were included in 1 answer; privacy loss ε {spent} of {cap}.",
    },
    "privacy_loss_help": {
        "it": "Ogni risposta statistica che include i tuoi dati rivela un poco di te, misurato da ε. "
        "Il totale, su tutti i dataset e tutte le versioni, non supera mai il limite: "
        "raggiunto il limite, nessuna risposta ti includerà più.",
        "en": "Every statistical answer that includes your data reveals a little about you, "
        "measured by ε. The total, across every dataset and version, never passes the cap: "
        "once it is reached, no answer will include you again.",
    },
    "uses": {"it": "Usi dei tuoi dati", "en": "Uses of your data"},
    "no_uses": {
        "it": "Nessuna risposta ha ancora incluso i tuoi dati.",
        "en": "No answer has included your data yet.",
    },
    "uses_help": {
        "it": "Solo le risposte e gli estratti che hanno incluso i tuoi dati: chi ha "
        "chiesto, per quale finalità, e quanto ti è costato in privacy (ε).",
        "en": "Only the answers and extracts that included your data: who asked, for "
        "which purpose, and what it cost you in privacy (ε).",
    },
    "when": {"it": "Quando", "en": "When"},
    "kind": {"it": "Tipo", "en": "Kind"},
    "who": {"it": "Chi", "en": "Who"},
    "use_release": {"it": "aggregati con privacy differenziale", "en": "differentially-private release"},
    "use_consent": {"it": "registrazione di un consenso", "en": "consent record"},
    "use_extract": {"it": "estratto per la ricerca", "en": "research extract"},
    "use_publication": {"it": "pubblicazione nel catalogo", "en": "publication in the catalog"},
    "your_data": {"it": "I tuoi dati", "en": "Your data"},
    "export": {"it": "Esporta i miei dati (JSON)", "en": "Export my data (JSON)"},
    "erase": {"it": "Cancellami", "en": "Erase me"},
    "erase_confirm": {
        "it": "Cancellare davvero i tuoi dati? I consensi saranno ritirati e il token "
        "revocato. Le ricevute dei ritiri saranno scaricate "
        "(erasure-receipts.json).",
        "en": "Really erase your data? Your consents will be withdrawn and your token "
        "revoked. The receipts of the withdrawals will be downloaded "
        "(erasure-receipts.json).",
    },
    "erased": {
        "it": "I tuoi dati sono stati cancellati. Le ricevute firmate dei ritiri sono nel "
        "file erasure-receipts.json appena scaricato: conservalo.",
        "en": "Your data has been erased. The signed receipts of the withdrawals are in the "
        "file erasure-receipts.json just downloaded: keep it.",
    },
    # administration
    "audit_chain": {"it": "Registro di trasparenza", "en": "Transparency log"},
    "chain_ok": {"it": "Catena integra", "en": "Chain intact"},
    "chain_bad": {"it": "Catena ROTTA", "en": "Chain BROKEN"},
    "entries": {"it": "voci", "en": "entries"},
    "audit_log": {"it": "Registro", "en": "Log"},
    "yearly_report": {"it": "Relazione annuale", "en": "Yearly report"},
    "report": {"it": "Rapporto di validazione", "en": "Validation report"},
    "report_ok": {"it": "superata", "en": "passed"},
    "report_failed": {"it": "fallita", "en": "failed"},
    "actions": {"it": "Azioni", "en": "Actions"},
    "current": {"it": "corrente", "en": "current"},
    "validate": {"it": "Valida", "en": "Validate"},
    "publish": {"it": "Pubblica", "en": "Publish"},
    "rollback": {"it": "Ripristina", "en": "Roll back to"},
    "title": {"it": "Titolo", "en": "Title"},
    "text_version": {"it": "Testo", "en": "Text"},
    "budgets": {"it": "Budget di privacy", "en": "Privacy budgets"},
    "privacy_unit": {"it": "Unità di privacy", "en": "Privacy unit"},
}


def pick_lang(request: Request) -> Literal["it", "en"]:
    """The language of this request's page."""
    asked = request.query_params.get("lang") or request.cookies.get("dc_lang")
    if asked == "it":
        return "it"
    if asked == "en":
        return "en"
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "it"


def translator(lang: str):  # type: ignore[no-untyped-def]
    """``t(key)``: the text of ``key`` in ``lang``."""

    def t(key: str) -> str:
        entry = TEXTS.get(key)
        return entry[lang] if entry else key

    return t


def format_number(value: Any, lang: str, digits: int | None = None) -> str:
    """A number as a reader of ``lang`` writes it (7.901 and 6,5 in Italian; 7,901 and 6.5 in
    English), with ``digits`` decimals when given; None is nothing."""
    if value is None or value == "":
        return ""
    if digits is None:
        return format_decimal(value, locale=lang)
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(float(value), format=pattern, locale=lang)


#: How a moment is written: day/month/year in Italian, "4 May 2026" in English (CLDR patterns).
DATETIME_PATTERNS = {"it": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy HH:mm"}


def as_utc(value: Any) -> datetime | None:
    """A datetime (or an ISO 8601 text) in UTC; naive times are the database's UTC; None if none."""
    if value is None or value == "" or value == "None":
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_datetime(value: Any, lang: str, *, naive_is_utc: bool = True) -> Markup:
    """A ``<time>`` element: the moment in UTC, marked as UTC (01/12/2026 07:18 UTC in Italian,
    1 Dec 2026 07:18 UTC in English). A text that is no time is shown as it is. A naive time is
    ours (UTC) unless ``naive_is_utc`` is false (a source's own clock): then it has no zone mark."""
    zoned = isinstance(value, datetime) and value.tzinfo is not None
    if isinstance(value, str) and value not in ("", "None"):
        try:
            zoned = datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return escape(value)
    moment = as_utc(value)
    if moment is None:
        return Markup("") if value in (None, "", "None") else escape(str(value))
    zone = " UTC" if zoned or naive_is_utc else ""
    shown = (
        babel_datetime(moment, DATETIME_PATTERNS.get(lang, DATETIME_PATTERNS["it"]), tzinfo=UTC, locale=lang)
        + zone
    )
    stamp = moment.isoformat() if zone else moment.replace(tzinfo=None).isoformat()
    return Markup('<time datetime="{}">{}</time>').format(stamp, shown)


def code_label(kind: str, code: str, lang: str) -> str:
    """The label of a code the catalog uses (theme, frequency, geography, access, format, status,
    purpose, use, column of a statistical table), in ``lang``; the code itself when it has none."""
    code = str(code or "")
    found: str | None = None
    if kind == "theme":
        found = label_of(DATA_THEMES, code, lang)
    elif kind == "frequency":
        found = label_of(FREQUENCIES, code, lang)
    elif kind == "geography":
        found = label_of(NUTS_LABELS, code, lang)
    elif kind == "purpose" and code in PURPOSES:
        found = PURPOSES[code][1 if lang == "en" else 0]
    elif kind in ("access", "format", "status", "use", "column"):
        key = {"access": code, "column": f"col_{code.lower()}"}.get(kind, f"{kind}_{code}")
        entry = TEXTS.get(key)
        found = entry[lang] if entry else None
    return found or code


def install(env: Environment) -> None:
    """Give the templates the filters and functions that depend on the page's language:
    ``num``, ``when``, ``label(kind, code)`` and ``coded(kind, code)`` (the label, with the code as
    a tooltip and as small secondary text)."""

    @pass_context
    def num(context: Any, value: Any, digits: int | None = None) -> str:
        return format_number(value, context.get("lang", "it"), digits)

    @pass_context
    def when(context: Any, value: Any, naive_is_utc: bool = True) -> Markup:
        return format_datetime(value, context.get("lang", "it"), naive_is_utc=naive_is_utc)

    @pass_context
    def label(context: Any, kind: str, code: str) -> str:
        return code_label(kind, code, context.get("lang", "it"))

    @pass_context
    def coded(context: Any, kind: str, code: str) -> Markup:
        text = code_label(kind, code, context.get("lang", "it"))
        if text == code:
            return escape(code)
        return Markup('<span title="{0}">{1}</span> <small class="code">{0}</small>').format(code, text)

    env.filters["num"] = num
    env.filters["when"] = when
    env.globals["label"] = label
    env.globals["coded"] = coded
