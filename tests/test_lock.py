"""The environment the suite runs in is the locked one: every installed distribution is pinned in
constraints.txt at the version installed (so `make run` and `make test` install the same versions on
every machine, and a new dependency cannot float unpinned)."""

from __future__ import annotations

import re
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Distributions a virtual environment holds that no requirement brings in.
NOT_LOCKED = {"datacommons", "pip", "setuptools", "wheel"}


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt pins every line with '==': {line!r}"
            pins[normalized(name)] = version
    return pins


def test_every_installed_distribution_is_locked_at_its_version() -> None:
    pins = locked()
    installed = {normalized(d.metadata["Name"]): d.version for d in distributions()}
    unpinned = sorted(set(installed) - set(pins) - NOT_LOCKED)
    drifted = sorted(
        f"{n} {installed[n]} (locked {pins[n]})" for n in installed if n in pins and installed[n] != pins[n]
    )
    assert not unpinned, f"installed but not in constraints.txt: {unpinned}"
    assert not drifted, f"installed at another version than constraints.txt: {drifted}"
    assert "datacommons" in installed and "opendp" in installed  # the check saw the real environment
