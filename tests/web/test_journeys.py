"""One end-to-end journey per kind of user, in headless Chromium against a real server.

Each journey asserts what its user sees (texts, numbers, downloaded files) and saves screenshots to
``test-artifacts/``; the first also refreshes the README's screenshots in ``docs/screenshots/``.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import ARTIFACTS, Site, shot, sign_in

pytestmark = pytest.mark.browser
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PRIVATE = "inserimento-lavorativo"


def accessible(page) -> None:  # type: ignore[no-untyped-def]
    """Basic accessibility: language set, a meaningful title, every form field labelled."""
    assert page.locator("html").get_attribute("lang") in ("it", "en")
    assert len(page.title()) > len(" · ") + 10
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')].filter(
        (f) => !(f.labels && f.labels.length) && !f.getAttribute('aria-label')).map((f) => f.name)""")
    assert unlabelled == []
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")  # the first stop of the keyboard is the skip link
    assert page.evaluate("() => document.activeElement.className") == "skip"


def wide_shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """A desktop-sized screenshot for the README: in test-artifacts/, and in docs/screenshots/ too
    when ``DATACOMMONS_UPDATE_SCREENSHOTS=1`` (so a test run does not rewrite tracked files)."""
    page.set_viewport_size({"width": 1200, "height": 900})
    targets = [ARTIFACTS / f"readme-{name}.png"]
    if os.environ.get("DATACOMMONS_UPDATE_SCREENSHOTS") == "1":
        targets.append(DOCS_SHOTS / f"{name}.png")
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target))
    page.set_viewport_size({"width": 412, "height": 900})


def smallest_dimension(page) -> str:  # type: ignore[no-untyped-def]
    """The public dimension with the fewest values (a short table and chart)."""
    boxes = page.locator("input[name=group_by]")
    sizes = {
        boxes.nth(i).get_attribute("value"): int(boxes.nth(i).get_attribute("data-values"))
        for i in range(boxes.count())
    }
    return min(sizes, key=lambda name: sizes[name])


def test_analyst_previews_runs_and_sees_a_chart(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, site.tokens["analyst"], "/?lang=en")
    wide_shot(page, "catalog")
    accessible(page)
    shot(page, "analyst-1-catalog")
    page.locator(f"main a[href^='/datasets/{PRIVATE}']").first.click()
    page.get_by_role("link", name="Ask a question").click()
    page.wait_for_url(re.compile(f"/query/{PRIVATE}"))
    accessible(page)
    assert "Differentially-private query" in page.title()
    page.get_by_label("Purpose").select_option(index=0)
    dimension_name = smallest_dimension(page)
    page.locator(f"input[name=group_by][value={dimension_name}]").check()
    page.get_by_label("Epsilon (privacy loss)").fill("0.5")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview-out")
    preview.wait_for(state="visible")
    assert "count" in preview.inner_text() and "±" in preview.inner_text()
    org_left = page.locator("[data-budget=organisation]").inner_text()
    assert org_left.startswith("3.00 left of 3") or org_left.startswith("3 left of 3"), org_left
    shot(page, "analyst-2-preview")
    page.get_by_role("button", name="Run").click()
    page.locator("#result-out").wait_for(state="visible")
    header = page.locator("#result-out thead").inner_text()
    assert dimension_name in header and "count" in header
    assert page.locator("#result-out tbody tr").count() >= 2
    assert page.locator("#chart svg rect").count() == page.locator("#result-out tbody tr").count()
    assert "Spent: ε 0.50" in page.locator("#message").inner_text()
    assert page.locator("[data-budget=organisation]").inner_text().startswith("2.50 left of 3")
    assert page.locator("#extract").count() == 0  # analysts do not get extracts
    shot(page, "analyst-3-result")


def test_researcher_downloads_an_extract(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, site.tokens["researcher"], f"/query/{PRIVATE}?lang=it")
    accessible(page)
    assert page.locator("html").get_attribute("lang") == "it"
    dimension = smallest_dimension(page)
    page.locator(f"input[name=group_by][value={dimension}]").check()
    page.get_by_label("Epsilon (perdita di privacy)").fill("0.4")
    page.get_by_role("button", name="Anteprima").click()
    page.locator("#budget-out").wait_for(state="visible")
    page.get_by_role("button", name="Scarica un estratto").click()
    link = page.locator("#extract-csv")
    link.wait_for(state="visible")
    shot(page, "researcher-1-extract")
    with page.expect_download() as info:
        link.click()
    data = Path(info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        names = bundle.namelist()
        metadata = json.loads(bundle.read("metadata.json"))
        table = bundle.read("table_1.csv").decode()
    assert sorted(names) == ["metadata.json", "table_1.csv"]
    assert metadata["dataset"] == PRIVATE and metadata["differential_privacy"]["epsilon"] == 0.4
    assert metadata["tables"][0]["group_by"] == [dimension]
    assert table.splitlines()[0].startswith(f'"{dimension}","count"')
    assert len(table.splitlines()) == metadata["tables"][0]["cells"] + 1


def test_donor_claims_grants_withdraws_exports_and_erases(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    # The cooperative registers the person's records and hands over the donor id and code.
    registered = httpx.post(
        f"{site.base}/api/v1/admin/donors",
        headers={"Authorization": f"Bearer {site.tokens['admin']}"},
        json={
            "organisation": "Cooperativa Il Ponte",
            "donor_ids": ["PONTE-0042"],
            "dataset_ids": ["inserimento-lavorativo"],
        },
    )
    assert registered.status_code == 201, registered.text
    [row] = registered.json()["data"]
    page.goto("/donor?lang=en")
    accessible(page)
    assert page.title().startswith("Donor portal")
    page.get_by_label("Donor id").fill(row["donor_id"])
    page.get_by_label("Activation code").fill("wrong-code")
    page.get_by_role("button", name="Activate my profile").click()
    assert "unknown donor id or claim code" in page.locator("#message").inner_text()
    page.get_by_label("Donor id").fill(row["donor_id"])
    page.get_by_label("Activation code").fill(row["claim_code"])
    page.get_by_role("button", name="Activate my profile").click()
    token = page.get_by_label("Access token").input_value()
    assert token.startswith("dc_")
    pseudonym = page.locator("#pseudonym").inner_text()
    assert pseudonym == row["donor_id"]
    program = page.locator("article.program").first
    program.locator("summary").click()
    assert len(program.locator(".consent-text").inner_text()) > 40
    assert program.locator(".consent-status").inner_text() == "no consent"
    wide_shot(page, "donor")
    shot(page, "donor-1-registered")
    program.get_by_role("button", name="Give consent").click()
    page.wait_for_load_state("load")
    program = page.locator("article.program").first
    program.locator(".consent-status", has_text="consent given").wait_for()
    with page.expect_download() as info:
        program.get_by_role("button", name="Download the signed receipt").click()
    receipt = Path(info.value.path()).read_text()
    assert info.value.suggested_filename.endswith(".jws") and receipt.count(".") == 2
    jwks = httpx.get(f"{site.base}/.well-known/jwks.json").json()
    assert jwks["keys"]
    shot(page, "donor-2-consent")
    program.get_by_role("button", name="Withdraw consent").click()
    page.locator("article.program").first.locator(".consent-status", has_text="consent withdrawn").wait_for()
    with page.expect_download() as info:
        page.get_by_role("link", name="Export my data (JSON)").click()
    export = json.loads(Path(info.value.path()).read_text())
    assert pseudonym in json.dumps(export) and export["linked"] == ["inserimento-lavorativo"]
    shot(page, "donor-3-withdrawn")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_download() as erasure:  # the withdrawals' receipts, saved before the token goes
        page.get_by_role("button", name="Erase me").click()
    assert erasure.value.suggested_filename == "erasure-receipts.json"
    saved = json.loads(Path(erasure.value.path()).read_text())
    assert saved["donor_id"] == pseudonym and saved["receipts"] == []  # withdrawn before
    page.locator("#erased").wait_for()
    assert "Activate my profile" in page.locator("main").inner_text()
    revoked = httpx.get(f"{site.base}/api/v1/donors/me", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    shot(page, "donor-4-erased")


def test_admin_publishes_rolls_back_and_checks_the_chain(page, site: Site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    admin = {"Authorization": f"Bearer {site.tokens['admin']}"}
    sample = (Path(__file__).resolve().parents[2] / "connectors/samples/istat_151_914.csv").read_text()
    changed = sample.replace(",2019,8.4,", ",2019,8.5,", 1)
    assert changed != sample
    staged = httpx.post(
        f"{site.base}/api/v1/admin/ingest/istat",
        headers=admin,
        timeout=60,
        files={"file": ("istat_151_914.csv", changed.encode(), "text/csv")},
    )
    assert staged.status_code == 200, staged.text
    item = staged.json()["staged"][0]
    dataset_id, number = item["dataset_id"], item["version"]
    assert item["status"] == "validated" and number == 2
    sign_in(page, site.tokens["admin"], "/admin?lang=en")
    accessible(page)
    assert page.locator("#chain").inner_text().startswith("Chain intact")
    row = page.locator(f"#v-{dataset_id}-2")
    assert "validated" in row.inner_text() and "passed" in row.inner_text()
    shot(page, "admin-1-staged")
    row.get_by_role("button", name="Publish v2").click()
    page.locator(f"#v-{dataset_id}-2", has_text="current").wait_for()
    assert "published" in page.locator(f"#v-{dataset_id}-2").inner_text()
    current = httpx.get(f"{site.base}/api/v1/datasets/{dataset_id}", headers=admin).json()
    assert current["current_version"]["number"] == 2
    page.locator(f"#v-{dataset_id}-1").get_by_role("button", name="Roll back to v1").click()
    page.locator(f"#v-{dataset_id}-1", has_text="current").wait_for()
    current = httpx.get(f"{site.base}/api/v1/datasets/{dataset_id}", headers=admin).json()
    assert current["current_version"]["number"] == 1
    assert PRIVATE in page.locator("#budgets").inner_text()
    assert page.locator("#programs tbody tr").count() >= 1
    shot(page, "admin-2-rolled-back")
    with page.expect_navigation():
        page.locator(f"#v-{dataset_id}-2").get_by_role("link", name=re.compile("passed")).click()
    assert "expect" in page.content()
    page.goto("/admin")
    page.get_by_role("link", name="Yearly report").click()
    assert page.locator("html").inner_text()
    shot(page, "admin-3-yearly-report")
    assert (ARTIFACTS / "admin-3-yearly-report.png").exists()
