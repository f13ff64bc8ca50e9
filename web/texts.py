"""Every string of the web front, in Italian and English, by key (:func:`web.i18n.translator`)."""

from __future__ import annotations

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
    "records_word": {"it": "record", "en": "records"},
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
    # the public transparency log (/trasparenza)
    "transparency": {"it": "Trasparenza", "en": "Transparency"},
    "tlog_title": {"it": "Registro di trasparenza", "en": "Transparency log"},
    "tlog_intro": {
        "it": "Ogni uso dei dati del commons (una risposta con privacy differenziale, un estratto, una "
        "pubblicazione), ogni consenso e ogni atto amministrativo è scritto in questo registro pubblico "
        "(Data Governance Act, artt. 20–21). Le voci non contengono dati personali: né nomi, né "
        "pseudonimi, né chi ha eseguito l'operazione.",
        "en": "Every use of the commons' data (a differentially-private answer, an extract, a "
        "publication), every consent and every administrative act is written to this public log "
        "(Data Governance Act, arts. 20–21). Entries hold no personal data: no names, no pseudonyms, "
        "not who carried out the operation.",
    },
    "tlog_filters": {"it": "Filtra il registro", "en": "Filter the log"},
    "tlog_any_kind": {"it": "tutti i tipi", "en": "every kind"},
    "tlog_dataset_help": {
        "it": "identificativo, es. inserimento-lavorativo",
        "en": "id, e.g. inserimento-lavorativo",
    },
    "tlog_organisation": {"it": "Organizzazione", "en": "Organisation"},
    "tlog_from": {"it": "Dal", "en": "From"},
    "tlog_to": {"it": "Al (compreso)", "en": "To (included)"},
    "tlog_apply": {"it": "Filtra", "en": "Filter"},
    "tlog_filter_this": {"it": "Mostra solo questa organizzazione", "en": "Show this organisation only"},
    "tlog_index": {"it": "N.", "en": "No."},
    "tlog_details": {"it": "Dettagli", "en": "Details"},
    "tlog_proof": {"it": "Verifica", "en": "Check"},
    "tlog_proof_link": {"it": "prova di inclusione", "en": "inclusion proof"},
    "tlog_entry_json": {"it": "voce (JSON)", "en": "entry (JSON)"},
    "tlog_none": {"it": "nessuna", "en": "none"},
    "tlog_shown": {
        "it": "Voci dalla più recente, {n} per pagina, fino alla n. {last} (quella coperta dal checkpoint "
        "qui sotto).",
        "en": "Newest entries first, {n} a page, up to no. {last} (the last one the checkpoint below "
        "covers).",
    },
    "tlog_empty": {"it": "Il registro non ha ancora voci.", "en": "The log has no entries yet."},
    "tlog_no_match": {"it": "Nessuna voce corrisponde ai filtri.", "en": "No entry matches the filters."},
    "tlog_newer": {"it": "Più recenti", "en": "Newer"},
    "tlog_older": {"it": "Meno recenti", "en": "Older"},
    "tlog_newest": {"it": "Le più recenti", "en": "Newest"},
    "tlog_pages": {"it": "Pagine del registro", "en": "Pages of the log"},
    "tlog_commitment": {
        "it": "Impegno crittografico con sale su un evento di consenso: non rivela chi ha acconsentito "
        "né a cosa; solo la ricevuta di chi dona lo apre.",
        "en": "Salted commitment to a consent event: it does not tell who consented nor to what; only "
        "the donor's receipt opens it.",
    },
    "tlog_fee": {"it": "compenso", "en": "fee"},
    "tlog_yes": {"it": "sì", "en": "yes"},
    "tlog_no": {"it": "no", "en": "no"},
    "tlog_bad_kind": {
        "it": "Tipo sconosciuto: «{value}». Scegli un tipo dall'elenco.",
        "en": "Unknown kind: “{value}”. Pick a kind from the list.",
    },
    "tlog_bad_date": {
        "it": "Data non valida: «{value}». Scrivila come AAAA-MM-GG (es. 2026-05-04).",
        "en": "Invalid date: “{value}”. Write it as YYYY-MM-DD (e.g. 2026-05-04).",
    },
    "tlog_bad_period": {
        "it": "Il periodo finisce prima di cominciare: la data «al» precede la data «dal».",
        "en": "The period ends before it starts: the “to” date is before the “from” date.",
    },
    "tlog_bad_position": {
        "it": "Posizione nel registro non valida: «{value}». Torna alle voci più recenti.",
        "en": "Invalid position in the log: “{value}”. Go back to the newest entries.",
    },
    "tlog_checkpoint": {"it": "Ultimo checkpoint", "en": "Latest checkpoint"},
    "tlog_checkpoint_help": {
        "it": "Il checkpoint riassume l'intero registro: il numero di voci e la radice del suo albero di "
        "Merkle (RFC 9162), firmati con la chiave del registro (nota firmata C2SP). Cambiare, togliere o "
        "riordinare una voce passata cambia la radice: chi conserva un checkpoint se ne accorge.",
        "en": "The checkpoint sums up the whole log: its number of entries and the root of its Merkle "
        "tree (RFC 9162), signed with the log's key (a C2SP signed note). Changing, removing or "
        "reordering a past entry changes the root: whoever keeps a checkpoint notices.",
    },
    "tlog_tree_size": {"it": "Dimensione dell'albero", "en": "Tree size"},
    "tlog_origin": {"it": "Nome del registro", "en": "Log name"},
    "tlog_key": {"it": "Chiave di verifica", "en": "Verifier key"},
    "tlog_key_help": {
        "it": "la chiave più recente; tutte quelle con cui il registro ha firmato sono in "
        "/api/v1/transparency/keys",
        "en": "the newest key; every key the log has signed with is at /api/v1/transparency/keys",
    },
    "tlog_cosignatures": {"it": "Cofirme dei testimoni", "en": "Witness cosignatures"},
    "tlog_cosigned": {
        "it": "ultimo checkpoint cofirmato: {n} voci",
        "en": "latest cosigned checkpoint: {n} entries",
    },
    "tlog_download_checkpoint": {"it": "Scarica il checkpoint", "en": "Download the checkpoint"},
    "tlog_download_key": {"it": "Scarica la chiave", "en": "Download the key"},
    "tlog_verify": {"it": "Come verificarlo", "en": "How to verify it"},
    "tlog_verify_save": {
        "it": "Salva il checkpoint (il testo qui sopra, o il file scaricato) e conservalo: in seguito "
        "dimostrerà che il registro ne è la continuazione e non è stato riscritto.",
        "en": "Save the checkpoint (the text above, or the downloaded file) and keep it: later it proves "
        "that the log goes on from it and was not rewritten.",
    },
    "tlog_verify_operator": {
        "it": "Chi gestisce il commons controlla che il registro nel database estenda un checkpoint salvato "
        "(esce con 0 se sì, 1 se no, 2 se il file non è un checkpoint):",
        "en": "The operator of the commons checks that the log in the database extends a saved checkpoint "
        "(exit 0 if it does, 1 if not, 2 if the file is not a checkpoint):",
    },
    "tlog_verify_witness": {
        "it": "Un testimone (una cooperativa, la Città metropolitana, un'università) lo verifica dalla "
        "propria macchina, ad esempio da cron: firma, e coerenza con l'ultimo checkpoint visto. La prima "
        "volta indica la chiave di verifica, ricevuta per un canale di cui ti fidi; poi basta l'indirizzo "
        "(con --submit invia anche la sua cofirma, che il registro pubblica con il checkpoint se chi lo "
        "gestisce ha elencato il testimone):",
        "en": "A witness (a cooperative, the Metropolitan City, a university) checks it from its own "
        "machine, from cron for instance: the signature, and consistency with the last checkpoint it "
        "saw. The first time, give the verifier key, received over a channel you trust; then the address "
        "is enough (with --submit it also sends its cosignature, which the log serves with the "
        "checkpoint if its operator lists the witness):",
    },
    "tlog_verify_donor": {
        "it": "Chi dona trova, per ogni uso dei propri dati, il numero della voce e la sua prova di "
        "inclusione nell'esportazione dei propri dati (e in GET /api/v1/donors/me/uses).",
        "en": "Donors find, for every use of their data, the entry's number and its inclusion proof in "
        "the export of their data (and in GET /api/v1/donors/me/uses).",
    },
    "tlog_api": {"it": "API pubblica, senza token", "en": "Public API, no token needed"},
    "tlog_api_checkpoint": {"it": "l'ultimo checkpoint firmato", "en": "the latest signed checkpoint"},
    "tlog_api_key": {"it": "la chiave di verifica", "en": "the verifier key"},
    "tlog_api_keys": {
        "it": "tutte le chiavi del registro, anche quelle sostituite",
        "en": "every key of the log, rotated ones included",
    },
    "tlog_api_cosigned": {
        "it": "l'ultimo checkpoint cofirmato dai testimoni",
        "en": "the latest checkpoint witnesses cosigned",
    },
    "tlog_api_entries": {
        "it": "le voci [start, end), al massimo 1000, con l'hash di ogni foglia",
        "en": "entries [start, end), at most 1000, each with its leaf hash",
    },
    "tlog_api_inclusion": {
        "it": "la prova che la voce index è nell'albero di dimensione tree_size",
        "en": "the proof that entry index is in the tree of size tree_size",
    },
    "tlog_api_consistency": {
        "it": "la prova che l'albero di dimensione second estende quello di dimensione first",
        "en": "the proof that the tree of size second extends the tree of size first",
    },
    "tlog_docs": {
        "it": "Il formato delle voci e dei checkpoint, le prove e il lavoro del testimone sono descritti "
        "per intero nel documento docs/transparency.md del progetto.",
        "en": "The format of entries and checkpoints, the proofs and the witness's job are described in "
        "full in the project's document docs/transparency.md.",
    },
    # kinds of entries of the log
    "kind_release": {"it": "risposta con privacy differenziale", "en": "differentially-private answer"},
    "kind_extract": {"it": "estratto per la ricerca", "en": "research extract"},
    "kind_publication": {"it": "pubblicazione", "en": "publication"},
    "kind_consent": {"it": "consenso", "en": "consent"},
    "kind_ingest": {"it": "nuova versione caricata", "en": "new version staged"},
    "kind_validation": {"it": "validazione", "en": "validation"},
    "kind_rollback": {"it": "ritorno a una versione precedente", "en": "rollback"},
    "kind_budget": {"it": "budget di privacy", "en": "privacy budget"},
    "kind_policy": {"it": "politica di accesso", "en": "access policy"},
    "kind_token": {"it": "token di accesso", "en": "access token"},
    "kind_program": {"it": "programma di altruismo", "en": "altruism program"},
    "kind_backup": {"it": "copia di sicurezza", "en": "backup"},
    "kind_restore": {"it": "ripristino da copia", "en": "restore"},
    # the fixed purposes of the log's own entries (the others are DPV purposes)
    "tlog_p_publication in the catalog": {
        "it": "pubblicazione nel catalogo",
        "en": "publication in the catalog",
    },
    "tlog_p_consent record": {"it": "registrazione di un consenso", "en": "consent record"},
    "tlog_p_new version staged": {
        "it": "nuova versione in attesa di validazione",
        "en": "new version staged",
    },
    "tlog_p_quality gate passed": {"it": "controllo di qualità superato", "en": "quality gate passed"},
    "tlog_p_quality gate failed": {"it": "controllo di qualità fallito", "en": "quality gate failed"},
    "tlog_p_earlier version made current again": {
        "it": "una versione precedente torna corrente",
        "en": "earlier version made current again",
    },
    "tlog_p_budget change": {"it": "modifica del budget", "en": "budget change"},
    "tlog_p_access policy set": {"it": "politica di accesso impostata", "en": "access policy set"},
    "tlog_p_token issued": {"it": "token emesso", "en": "token issued"},
    "tlog_p_token revoked": {"it": "token revocato", "en": "token revoked"},
    "tlog_p_program created": {"it": "programma creato", "en": "program created"},
    "tlog_p_new consent text published": {
        "it": "nuovo testo del consenso pubblicato",
        "en": "new consent text published",
    },
    "tlog_p_backup made": {"it": "copia di sicurezza eseguita", "en": "backup made"},
    "tlog_p_backup restored": {"it": "copia di sicurezza ripristinata", "en": "backup restored"},
    # the details of the log's entries
    "tlog_d_release_id": {"it": "risposta", "en": "release"},
    "tlog_d_program": {"it": "programma", "en": "program"},
    "tlog_d_epsilon": {"it": "ε", "en": "ε"},
    "tlog_d_version": {"it": "versione", "en": "version"},
    "tlog_d_replaces_version": {"it": "sostituisce la versione", "en": "replaces version"},
    "tlog_d_content_hash": {"it": "impronta del contenuto", "en": "content hash"},
    "tlog_d_rows": {"it": "righe", "en": "rows"},
    "tlog_d_connector": {"it": "connettore", "en": "connector"},
    "tlog_d_report": {"it": "rapporto", "en": "report"},
    "tlog_d_success": {"it": "superata", "en": "passed"},
    "tlog_d_status": {"it": "stato", "en": "status"},
    "tlog_d_expectations_failed": {"it": "controlli falliti", "en": "failed expectations"},
    "tlog_d_token_id": {"it": "token", "en": "token"},
    "tlog_d_role": {"it": "ruolo", "en": "role"},
    "tlog_d_expires_at": {"it": "scade il", "en": "expires"},
    "tlog_d_purpose": {"it": "finalità", "en": "purpose"},
    "tlog_d_text_version": {"it": "versione del testo", "en": "text version"},
    "tlog_d_text_sha256": {"it": "impronta del testo", "en": "text hash"},
    "tlog_d_recipients": {"it": "destinatari", "en": "recipients"},
    "tlog_d_duration_days": {"it": "durata (giorni)", "en": "duration (days)"},
    "tlog_d_backup_created_at": {"it": "copia del", "en": "backup of"},
    "tlog_d_tables": {"it": "tabelle", "en": "tables"},
    "tlog_d_dataset_files": {"it": "file di dati", "en": "data files"},
    "tlog_d_log_entries_in_backup": {
        "it": "voci del registro nella copia",
        "en": "log entries in the backup",
    },
    "tlog_d_epsilon_total": {"it": "ε totale", "en": "ε total"},
    "tlog_d_epsilon_per_organisation": {"it": "ε per organizzazione", "en": "ε per organisation"},
    "tlog_d_epsilon_per_query": {"it": "ε per domanda", "en": "ε per query"},
    "tlog_d_privacy_unit": {"it": "unità di privacy", "en": "privacy unit"},
    "tlog_d_max_rows_per_unit": {"it": "righe massime per unità", "en": "most rows per unit"},
    "tlog_d_public_dimensions": {"it": "dimensioni pubbliche", "en": "public dimensions"},
}
