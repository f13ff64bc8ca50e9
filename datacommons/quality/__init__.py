"""The quality gate: every new dataset version is validated with Great Expectations before it is
published.

- :mod:`.suite` derives the expectation suite from a dataset's declared
  :class:`~datacommons.specs.SchemaSpec`;
- :mod:`.engine` runs it with Great Expectations (pandas) and turns the results into plain JSON;
- :mod:`.drift` compares a version with the dataset's current published one (warnings only);
- :mod:`.gate` validates a version, stores the report and moves the version to validated or
  rejected; it also publishes (only validated versions) through
  :func:`datacommons.registry.publish`;
- :mod:`.report` renders a stored report as an HTML page for administrators;
- :mod:`.api` is the admin router.

Part of the kernel: it imports only other kernel modules.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ValidationReport", "publish_version", "validate_version"]


def __getattr__(name: str) -> Any:
    # Lazy, because importing Great Expectations takes seconds: the migrations (which need only the
    # table) and the commands that never validate should not pay for it.
    if name == "ValidationReport":
        from datacommons.quality.models import ValidationReport

        return ValidationReport
    if name in ("publish_version", "validate_version"):
        from datacommons.quality import gate

        return getattr(gate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
