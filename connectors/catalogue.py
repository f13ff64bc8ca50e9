"""The connectors the commons knows: the built-ins, and plug-ins from the ``datacommons.connectors``
entry-point group (``[project.entry-points."datacommons.connectors"] my-source = "pkg.mod:MyConnector"``).
"""

from __future__ import annotations

from importlib.metadata import entry_points

from connectors.base import Connector
from connectors.ckan import CkanConnector
from connectors.eurostat import EurostatConnector
from connectors.file import FileConnector
from connectors.istat import IstatConnector
from connectors.istat_comuni import IstatComuniConnector
from connectors.plan2030 import Plan2030Connector
from datacommons.errors import InvalidInput

ENTRY_POINT_GROUP = "datacommons.connectors"

#: The built-in connectors, by name.
BUILTINS: dict[str, type[Connector]] = {  # type: ignore[type-arg]
    c.name: c
    for c in (
        EurostatConnector,
        IstatConnector,
        IstatComuniConnector,
        CkanConnector,
        FileConnector,
        Plan2030Connector,
    )
}


def plugins() -> dict[str, type[Connector]]:  # type: ignore[type-arg]
    """Connectors installed by other packages through the entry-point group."""
    found: dict[str, type[Connector]] = {}  # type: ignore[type-arg]
    for point in entry_points(group=ENTRY_POINT_GROUP):
        cls = point.load()
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise InvalidInput(f"entry point {point.name} = {point.value} is not a Connector class")
        found[point.name] = cls
    return found


def available() -> dict[str, type[Connector]]:  # type: ignore[type-arg]
    """Every connector by name: plug-ins, then built-ins (a built-in name cannot be taken over)."""
    return {**plugins(), **BUILTINS}


def get_connector(name: str) -> type[Connector]:  # type: ignore[type-arg]
    """The connector class called ``name``, or :class:`InvalidInput` listing the known ones."""
    known = available()
    if name not in known:
        raise InvalidInput(f"unknown connector {name!r}; known: {', '.join(sorted(known))}")
    return known[name]
