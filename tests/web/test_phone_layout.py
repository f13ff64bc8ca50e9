"""On a 390 px phone screen nothing overflows sideways, the catalog's results come before its facets,
and the dataset chart's axis text stays readable (headless Chromium, against the demo server)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.web.conftest import Site, shot

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, site: Site) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A phone-sized browser signed in as the demo analyst (the session cookie set directly)."""
    context = browser.new_context(viewport=PHONE, base_url=site.base, locale="it-IT")
    context.add_cookies([{"name": "dc_token", "value": site.tokens["analyst"], "url": site.base}])
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def dataset_ids(site: Site) -> list[str]:
    answer = httpx.get(
        f"{site.base}/api/v1/datasets",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {site.tokens['analyst']}"},
    )
    return [d["id"] for d in answer.json()["data"]]


def scroll_width(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def test_the_catalog_fits_and_shows_results_first(phone, site: Site) -> None:  # type: ignore[no-untyped-def]
    for lang in ("it", "en"):
        phone.goto(f"/?lang={lang}")
        assert scroll_width(phone) <= PHONE["width"]
        facets = phone.locator("details#facets")
        assert facets.get_attribute("open") is None  # collapsed on a phone
        first = phone.locator(".results li").first.bounding_box()
        assert first is not None and first["y"] < PHONE["height"] * 0.7, first
    shot(phone, "phone-catalog")
    phone.locator("details#facets summary").click()
    assert phone.locator("details#facets").get_attribute("open") is not None
    phone.locator("details#facets summary").click()
    phone.set_viewport_size({"width": 1200, "height": 900})  # a window made wider: they open
    phone.locator("details#facets[open]").wait_for()
    phone.goto("/?lang=it")
    assert phone.locator("details#facets").get_attribute("open") is not None  # beside the results


def test_every_dataset_page_fits_a_phone(phone, site: Site) -> None:  # type: ignore[no-untyped-def]
    ids = dataset_ids(site)
    assert "inserimento-lavorativo" in ids and "eurostat-lfst-r-lfu3rt" in ids
    for dataset_id in ids:
        phone.goto(f"/datasets/{dataset_id}?lang=it")
        width = scroll_width(phone)
        assert width <= PHONE["width"], f"/datasets/{dataset_id} is {width} px wide"
    for path in ("/datasets/nope", "/query/inserimento-lavorativo", "/donor", "/?offset=abc"):
        phone.goto(path)
        assert scroll_width(phone) <= PHONE["width"], path


def test_the_chart_axis_text_is_readable_on_a_phone(phone, site: Site) -> None:  # type: ignore[no-untyped-def]
    phone.goto("/datasets/eurostat-lfst-r-lfu3rt?lang=it")
    chart = phone.locator("figure.chart svg.chart")
    chart.wait_for()
    shot(phone, "phone-dataset-chart")
    sizes = phone.evaluate("""() => [...document.querySelectorAll('figure.chart svg.chart text')].map(
        (t) => parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a)""")
    assert sizes and min(sizes) >= 10, sizes  # CSS pixels on the screen
    inside = phone.evaluate("""() => { const box = document.querySelector('figure.chart svg.chart')
        .getBoundingClientRect(); return [...document.querySelectorAll('figure.chart svg.chart text')]
        .every((t) => { const r = t.getBoundingClientRect();
                        return r.left >= box.left - 1 && r.right <= box.right + 1; }); }""")
    assert inside  # no tick label is cut off at the edge
    caption = phone.locator("figure.chart figcaption").inner_text()
    assert "Serie mostrata" in caption and "sesso = T (totale)" in caption
