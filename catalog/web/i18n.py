"""The web front's two languages. Pages pick Italian or English from ``?lang=``, then the ``dc_lang``
cookie, then the browser's Accept-Language, defaulting to Italian."""

from __future__ import annotations

from fastapi import Request

LANGS = ("it", "en")

TEXTS: dict[str, dict[str, str]] = {
    "site": {"it": "Data commons dell'economia sociale — Torino",
             "en": "Social economy data commons — Turin"},
    "catalog": {"it": "Catalogo", "en": "Catalog"},
    "donor": {"it": "Donatori", "en": "Donors"},
    "admin": {"it": "Amministrazione", "en": "Administration"},
    "login": {"it": "Accedi", "en": "Sign in"},
    "logout": {"it": "Esci", "en": "Sign out"},
    "forbidden_title": {"it": "Accesso non consentito", "en": "Not allowed"},
    "forbidden_admin": {"it": "Questa pagina è riservata agli amministratori. Il tuo token non ha "
                              "questo ruolo.",
                        "en": "This page is for administrators. Your token does not have that role."},
    "forbidden_query": {"it": "Le interrogazioni sono riservate ad analisti e ricercatori.",
                        "en": "Queries are for analysts and researchers."},
    "back_to_catalog": {"it": "Torna al catalogo", "en": "Back to the catalog"},
    "login_other": {"it": "Accedi con un altro token", "en": "Sign in with another token"},
    "token": {"it": "Token di accesso", "en": "Access token"},
    "token_help": {"it": "Incolla il token che ti è stato consegnato (lo trovi anche nell'output di "
                         "«make run» per i token dimostrativi).",
                   "en": "Paste the token you were given (the demo tokens are printed by "
                         "“make run”)."},
    "search": {"it": "Cerca", "en": "Search"},
    "search_label": {"it": "Cerca nel catalogo", "en": "Search the catalog"},
    "search_placeholder": {"it": "es. disoccupazione, NEET, cooperative",
                           "en": "e.g. unemployment, NEET, cooperatives"},
    "results": {"it": "risultati", "en": "results"},
    "no_results": {"it": "Nessun dataset corrisponde alla ricerca.",
                   "en": "No dataset matches the search."},
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
    "versions": {"it": "Versioni", "en": "Versions"},
    "version": {"it": "Versione", "en": "Version"},
    "status": {"it": "Stato", "en": "Status"},
    "rows": {"it": "Righe", "en": "Rows"},
    "created": {"it": "Creata", "en": "Created"},
    "downloads": {"it": "Scarica", "en": "Download"},
    "chart": {"it": "Grafico", "en": "Chart"},
    "no_version": {"it": "Nessuna versione pubblicata.", "en": "No published version yet."},
    "private_note": {"it": "Questo dataset contiene microdati privati donati: non si scarica. Si "
                           "possono porre domande aggregate con privacy differenziale.",
                     "en": "This dataset holds donated private microdata: it cannot be downloaded. "
                           "You can ask aggregate questions under differential privacy."},
    "ask": {"it": "Fai una domanda", "en": "Ask a question"},
    "signed_in_as": {"it": "Accesso come", "en": "Signed in as"},
    "bad_token": {"it": "Token non valido.", "en": "Invalid token."},
    "language": {"it": "Lingua", "en": "Language"},
    "skip": {"it": "Vai al contenuto", "en": "Skip to content"},
    # query builder
    "query_title": {"it": "Domanda con privacy differenziale", "en": "Differentially-private query"},
    "query_help": {"it": "Scegli finalità, dimensioni, misure ed epsilon. L'anteprima mostra l'accuratezza "
                         "e il budget rimasto senza spendere nulla; «Esegui» spende epsilon.",
                   "en": "Pick the purpose, dimensions, measures and epsilon. The preview shows the "
                         "accuracy and the budget left without spending anything; “Run” spends epsilon."},
    "purpose": {"it": "Finalità", "en": "Purpose"},
    "group_by": {"it": "Raggruppa per", "en": "Group by"},
    "measures": {"it": "Misure", "en": "Measures"},
    "measure": {"it": "Misura", "en": "Measure"},
    "count": {"it": "Conteggio", "en": "Count"},
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
    "budget_total": {"it": "totale della versione", "en": "version total"},
    "budget_org": {"it": "della tua organizzazione", "en": "your organisation"},
    "budget_query": {"it": "per domanda", "en": "per query"},
    "left": {"it": "rimasto", "en": "left"},
    "of": {"it": "su", "en": "of"},
    "spent": {"it": "Speso", "en": "Spent"},
    "repeat": {"it": "domanda ripetuta, nessun costo", "en": "repeated question, no cost"},
    "not_affordable": {"it": "Budget insufficiente per questa domanda.",
                       "en": "Not enough budget left for this query."},
    "result": {"it": "Risultato", "en": "Result"},
    # donor portal
    "donor_portal": {"it": "Portale dei donatori", "en": "Donor portal"},
    "donor_intro": {"it": "Dona i tuoi dati per la ricerca e le politiche sociali: scegli a quali "
                          "programmi, ritira il consenso quando vuoi, vedi ogni uso.",
                    "en": "Donate your data to research and social policy: choose the programs, "
                          "withdraw consent whenever you like, see every use."},
    "register": {"it": "Registrati come donatore", "en": "Register as a donor"},
    "name_optional": {"it": "Nome (facoltativo)", "en": "Name (optional)"},
    "email_optional": {"it": "E-mail (facoltativa)", "en": "E-mail (optional)"},
    "have_token": {"it": "Hai già un token da donatore?", "en": "Already have a donor token?"},
    "your_token": {"it": "Il tuo token", "en": "Your token"},
    "your_token_help": {"it": "Conservalo: è mostrato solo ora e serve per accedere di nuovo.",
                        "en": "Keep it: it is shown only now and you need it to sign in again."},
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
    "uses": {"it": "Usi dei tuoi dati", "en": "Uses of your data"},
    "no_uses": {"it": "Nessun uso registrato.", "en": "No recorded use."},
    "when": {"it": "Quando", "en": "When"},
    "kind": {"it": "Tipo", "en": "Kind"},
    "who": {"it": "Chi", "en": "Who"},
    "your_data": {"it": "I tuoi dati", "en": "Your data"},
    "export": {"it": "Esporta i miei dati (JSON)", "en": "Export my data (JSON)"},
    "erase": {"it": "Cancellami", "en": "Erase me"},
    "erase_confirm": {"it": "Cancellare davvero i tuoi dati? I consensi saranno ritirati e il token "
                            "revocato.",
                      "en": "Really erase your data? Your consents will be withdrawn and your token "
                            "revoked."},
    "erased": {"it": "I tuoi dati sono stati cancellati.", "en": "Your data has been erased."},
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


def pick_lang(request: Request) -> str:
    """The language of this request's page."""
    asked = request.query_params.get("lang") or request.cookies.get("dc_lang")
    if asked in LANGS:
        return str(asked)
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "it"


def translator(lang: str):  # type: ignore[no-untyped-def]
    """``t(key)``: the text of ``key`` in ``lang``."""

    def t(key: str) -> str:
        entry = TEXTS.get(key)
        return entry[lang] if entry else key

    return t
