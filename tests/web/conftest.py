"""Browser journeys: a real server on loopback with the demo data, driven by Debian's headless Chromium.

One server per test module (the demo takes a few seconds); on ``--db=postgresql`` it uses a fresh
database on the session's PostgreSQL server. Screenshots go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.support.live_server import bench_env, seed_demo, server
from tests.support.pgserver import new_database

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@dataclass
class Site:
    """A running demo server: its base URL, its demo tokens and its environment."""

    base: str
    tokens: dict[str, str]
    env: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, pg_url: str | None) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("web")
    with ExitStack() as stack:
        extra: dict[str, str] = {}
        if pg_url is not None:
            extra["DATACOMMONS_DATABASE_URL"] = stack.enter_context(new_database(pg_url, "web"))
        _, tokens = seed_demo(directory, **extra)
        assert set(tokens) == {"admin", "analyst", "researcher", "donor"}
        base = stack.enter_context(server(directory, **extra))
        yield Site(base=base, tokens=tokens, env=bench_env(directory, **extra))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless (missing Chromium is a failure, not a skip)."""
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: run scripts/system-deps.sh"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site: Site) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) on a phone-sized screen, accepting downloads."""
    context = browser.new_context(
        viewport={"width": 412, "height": 900}, accept_downloads=True, base_url=site.base, locale="en-GB"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    # The pages work under their Content-Security-Policy: the browser blocked nothing they use.
    assert not [e for e in errors if "Content Security Policy" in e], errors


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot as a test artifact, and leave the page scrolled where it was."""
    ARTIFACTS.mkdir(exist_ok=True)
    # Chromium's full-page capture moves the page's scroll without a scroll of its own: a click
    # right after it on an element it left in view can miss (no scroll refreshes the hit test).
    scrolled = page.evaluate("() => [window.scrollX, window.scrollY]")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.evaluate("([x, y]) => window.scrollTo(x, y)", scrolled)


def sign_in(page, token: str, next_url: str = "/") -> None:  # type: ignore[no-untyped-def]
    """Sign in through the login form, with the keyboard only."""
    page.goto("/login?" + urlencode({"next": next_url}))
    page.get_by_label(re.compile("Access token|Token di accesso")).fill(token)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == next_url.split("?")[0])
