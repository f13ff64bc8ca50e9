"""The public page of the transparency log, ``/trasparenza``: anyone reads it in Italian or English,
filters it by kind, dataset, organisation and period, pages through it, and finds the latest signed
checkpoint with the key and the commands that verify it; it never shows who carried out a use, nor a
donor's pseudonym."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from consent import tlog, transparency
from consent.transparency import record_use
from datacommons.db import transaction
from tests.consent.conftest import PROGRAM, give, make_program, register
from tests.web.conftest import Site, shot
from tests.web.test_journeys import accessible

ACTOR = "Mario Rossi (token analyst-42)"
ENTRY = re.compile(r'<tr id="entry-(\d+)"')


def shown(client: TestClient, **params: str) -> list[int]:
    """The leaf indices the page shows for ``params``, top to bottom."""
    answer = client.get("/trasparenza", params=params)
    assert answer.status_code == 200, answer.text
    return [int(i) for i in ENTRY.findall(answer.text)]


def found(pattern: str, page: str) -> str:
    """The first group of ``pattern`` in the page, unescaped."""
    match = re.search(pattern, page, re.S)
    assert match, pattern
    return html.unescape(match.group(1))


def link(page: str, rel: str) -> str:
    """The address of the page's ``rel`` link (prev: newer entries, next: older ones)."""
    return found(rf'rel="{rel}" href="([^"]+)"', page)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Entries appended while the list holds a time are written at the last time in it."""
    moments: list[datetime] = []
    real = transparency.utcnow
    monkeypatch.setattr(transparency, "utcnow", lambda: moments[-1] if moments else real())
    return moments


def use(sessions, kind: str, datasets: list[str], organisation: str | None, **details: object) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions, immediate=True) as session:
        record_use(
            session,
            kind=kind,  # type: ignore[arg-type]
            actor=ACTOR,
            purpose="dpv:ScientificResearch",
            datasets=datasets,
            organisation=organisation,
            details={"epsilon": 0.5, "version": 3, **details},
        )


@pytest.fixture
def log(sessions, clock: list[datetime]) -> int:  # type: ignore[no-untyped-def]
    """Five uses of data at known times; the leaf index of the first (the log may hold others before)."""
    start = _size(sessions)
    plan = [
        ("release", ["inserimento-lavorativo"], "Cooperativa Uno", datetime(2026, 1, 10, 9, tzinfo=UTC)),
        ("extract", ["inserimento-lavorativo"], "Università di Torino", datetime(2026, 2, 1, 23, tzinfo=UTC)),
        (
            "release",
            ["percorsi", "inserimento-lavorativo"],
            "Cooperativa Due",
            datetime(2026, 2, 2, tzinfo=UTC),
        ),
        ("publication", ["percorsi"], None, datetime(2026, 3, 15, 12, tzinfo=UTC)),
        ("release", ["inserimento"], "Cooperativa Uno", datetime(2026, 4, 30, 23, 59, tzinfo=UTC)),
    ]
    for kind, datasets, organisation, at in plan:
        clock.append(at)
        use(sessions, kind, datasets, organisation)
    clock.clear()
    return start


def _size(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return tlog.tree_size(session)


def test_anyone_reads_the_page_in_italian_and_english(client: TestClient, log: int) -> None:
    italian = client.get("/trasparenza", headers={"Accept-Language": "it-IT"})
    assert italian.status_code == 200
    assert '<html lang="it">' in italian.text and "<h1>Registro di trasparenza</h1>" in italian.text
    assert '<a href="/trasparenza">Trasparenza</a>' in italian.text  # in the header's menu
    assert (
        "Accedi" in italian.text
        and "Ultimo checkpoint" in italian.text
        and "Come verificarlo" in italian.text
    )
    assert "risposta con privacy differenziale" in italian.text and "Ricerca scientifica" in italian.text
    for english in ("Transparency log", "Latest checkpoint", "inclusion proof", "Newer", "Older", "Filter"):
        assert english not in italian.text
    english = client.get("/trasparenza", params={"lang": "en"})
    assert english.status_code == 200
    assert '<html lang="en">' in english.text and "<h1>Transparency log</h1>" in english.text
    assert "differentially-private answer" in english.text and "How to verify it" in english.text
    assert english.cookies.get("dc_lang") == "en"
    # the English address leads to the same page in English, keeping the filter
    moved = client.get("/transparency", params={"kind": "extract"}, follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"] == "/trasparenza?kind=extract&lang=en"
    followed = client.get("/transparency", params={"kind": "extract"})
    assert "<h1>Transparency log</h1>" in followed.text and len(ENTRY.findall(followed.text)) == 1


def test_a_signed_in_user_sees_the_same_page_with_the_usual_header(
    client: TestClient, tokens: dict[str, str], log: int
) -> None:
    client.cookies.set("dc_token", tokens["analyst"])
    answer = client.get("/trasparenza", params={"lang": "en"})
    assert answer.status_code == 200
    assert "Signed in as test analyst (analyst)" in answer.text and "Sign out" in answer.text
    assert len(ENTRY.findall(answer.text)) >= 5


def test_each_filter_narrows_the_log(client: TestClient, log: int) -> None:
    first = log
    ours = {first + i for i in range(5)}
    assert ours <= set(shown(client))
    assert [i for i in shown(client, kind="release") if i in ours] == [first + 4, first + 2, first]
    assert shown(client, kind="extract") == [first + 1]
    # a dataset is a whole id: "inserimento" is not "inserimento-lavorativo"
    assert shown(client, dataset="inserimento-lavorativo") == [first + 2, first + 1, first]
    assert shown(client, dataset="inserimento") == [first + 4]
    assert shown(client, dataset="percorsi", kind="release") == [first + 2]
    for pattern in ("%", "inserimento%", "_ercorsi", '"percorsi"', "percorsi, inserimento-lavorativo"):
        assert shown(client, dataset=pattern) == []
    assert shown(client, organisation="Cooperativa Uno") == [first + 4, first]
    assert shown(client, organisation=" Università di Torino ") == [first + 1]
    assert shown(client, organisation="Cooperativa") == []
    # a period counts its first and its last day whole (in UTC)
    assert shown(client, **{"from": "2026-02-01", "to": "2026-02-01"}) == [first + 1]
    assert shown(client, **{"from": "2026-02-02"}) == [first + 4, first + 3, first + 2]
    assert [i for i in shown(client, to="2026-04-29") if i in ours] == [
        first + 3,
        first + 2,
        first + 1,
        first,
    ]
    assert [i for i in shown(client, to="2026-04-30") if i in ours] == sorted(ours, reverse=True)
    assert shown(client, **{"from": "2026-01-01", "to": "2026-03-31"}, organisation="Cooperativa Due") == [
        first + 2
    ]
    assert shown(client, **{"from": "2027-01-01"}) == []
    empty = client.get("/trasparenza", params={"kind": "rollback", "lang": "en"})
    assert "No entry matches the filters." in empty.text


def test_bad_filters_say_what_is_wrong(client: TestClient, log: int) -> None:
    cases = {
        (("kind", "nope"),): "Tipo sconosciuto: «nope». Scegli un tipo dall&#39;elenco.",
        (
            ("from", "2026-02-30"),
        ): "Data non valida: «2026-02-30». Scrivila come AAAA-MM-GG (es. 2026-05-04).",
        (("from", "2026-03-01"), ("to", "2026-02-01")): "Il periodo finisce prima di cominciare",
        (("before", "abc"),): "Posizione nel registro non valida: «abc»",
    }
    for params, message in cases.items():
        answer = client.get("/trasparenza", params=dict(params))
        assert answer.status_code == 422
        assert '<p class="error" role="alert">' in answer.text and message in answer.text
        assert ENTRY.findall(answer.text) == []  # no entries that would look filtered
        assert 'id="checkpoint"' in answer.text  # the checkpoint is still there
    english = client.get("/trasparenza", params={"to": "yesterday", "lang": "en"})
    assert english.status_code == 422 and "Invalid date: “yesterday”. Write it as YYYY-MM-DD" in english.text


def test_pages_of_fifty_newest_first_keep_the_filters(client: TestClient, sessions) -> None:  # type: ignore[no-untyped-def]
    start = _size(sessions)
    for n in range(130):
        use(sessions, "release" if n % 2 == 0 else "extract", ["percorsi"], "Cooperativa Uno", n=n)
    releases = [start + n for n in range(130) if n % 2 == 0][::-1]  # 65 of them, newest first
    top = client.get("/trasparenza", params={"kind": "release", "lang": "en"})
    assert [int(i) for i in ENTRY.findall(top.text)] == releases[:50]
    assert 'rel="prev"' not in top.text
    older = link(top.text, "next")
    assert "kind=release" in older and "lang=en" in older
    second = client.get(older)
    assert [int(i) for i in ENTRY.findall(second.text)] == releases[50:]
    assert 'rel="next"' not in second.text
    back = client.get(link(second.text, "prev"))
    assert [int(i) for i in ENTRY.findall(back.text)] == releases[:50]
    assert 'rel="prev"' not in back.text and 'rel="next"' in back.text
    # unfiltered, the last page ends at the first entry of the log
    page, seen = client.get("/trasparenza"), []
    while True:
        seen += [int(i) for i in ENTRY.findall(page.text)]
        if 'rel="next"' not in page.text:
            break
        page = client.get(link(page.text, "next"))
    assert seen == list(range(start + 129, -1, -1))


def test_the_page_never_shows_who_carried_out_a_use(client: TestClient, log: int) -> None:
    for params in ({}, {"lang": "en"}, {"kind": "release"}, {"organisation": "Cooperativa Uno"}):
        answer = client.get("/trasparenza", params=params)
        assert ACTOR not in html.unescape(answer.text) and "Mario Rossi" not in answer.text


def test_a_consent_shows_as_a_commitment_without_the_donor(
    client: TestClient, tokens: dict[str, str]
) -> None:
    make_program(client, tokens["admin"])
    donor_id, token = register(client, name="Lucia Bianchi", email="lucia@example.org")
    given = give(client, token, PROGRAM["id"])
    assert given
    answer = client.get("/trasparenza", params={"kind": "consent"})
    rows = ENTRY.findall(answer.text)
    assert len(rows) == 1
    index = int(rows[0])
    public = client.get("/api/v1/transparency/entries", params={"start": index, "end": index + 1}).json()
    commitment = public["entries"][0]["entry"]["details"]["commitment"]
    assert f'title="{commitment}">{commitment[:12]}…</code>' in answer.text
    assert "Impegno crittografico con sale su un evento di consenso" in answer.text
    for page in (answer.text, client.get("/trasparenza").text, client.get("/trasparenza?lang=en").text):
        for secret in (donor_id, "Lucia Bianchi", "lucia@example.org", "test admin"):
            assert secret not in page


def test_the_checkpoint_on_the_page_verifies_with_the_published_key(client: TestClient, log: int) -> None:
    page = client.get("/trasparenza").text
    note = found(r'<pre class="panel" id="checkpoint"[^>]*>(.*?)</pre>', page)
    vkey = found(r'<code id="verifier-key">(.*?)</code>', page)
    assert vkey == client.get("/api/v1/transparency/key").text.strip()
    checkpoint = tlog.verify_checkpoint(note, vkey)
    assert checkpoint.size == log + 5 == max(int(i) for i in ENTRY.findall(page)) + 1
    assert f'<dd id="tree-size">{checkpoint.size} voci</dd>' in page
    # every entry links to its inclusion proof in the tree of that checkpoint
    proof = f"/api/v1/transparency/proof/inclusion?index={log}&amp;tree_size={checkpoint.size}"
    assert proof in page and client.get(html.unescape(proof)).status_code == 200
    assert "datacommons audit verify --checkpoint checkpoint.txt" in page
    assert f"datacommons audit witness http://127.0.0.1:8000 --state DIR --key '{vkey}'" in html.unescape(
        page
    )
    assert "docs/transparency.md" in page


@pytest.mark.browser
def test_a_visitor_filters_the_log_in_a_browser(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    page.goto("/trasparenza?lang=en")
    accessible(page)
    assert page.title().startswith("Transparency log")
    assert page.locator("#log tbody tr").count() >= 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 412  # fits the phone
    page.locator("select[name=kind]").select_option("publication")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"kind=publication"))
    kinds = page.locator("#log tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.kind)")
    assert kinds and set(kinds) == {"publication"}
    assert page.locator("select[name=kind]").input_value() == "publication"
    assert "/transparency\n" in page.locator("#checkpoint").inner_text()
    shot(page, "transparency-1-filtered")
    page.set_viewport_size({"width": 1200, "height": 900})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1200
    shot(page, "transparency-2-wide")
