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
