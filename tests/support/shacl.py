"""The DCAT-AP 3.0.1 shapes, ready for pyshacl; run as a module to validate a JSON-LD file.

``python -m tests.support.shacl catalog.jsonld`` prints the validation report and exits 0 when the
file conforms, 1 when it does not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyshacl
import rdflib
from rdflib.namespace import SH

SHAPES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "dcat-ap-3.0.1"

#: Property shapes the release's files refer to without defining them here (they belong to its
#: controlled-vocabulary file, which is not in the shared data).
KNOWN_DANGLING = 5


def load_shapes() -> rdflib.Graph:
    """``dcat-ap-SHACL.ttl`` with the range checks of ``ranges.ttl``.

    pyshacl refuses a reference to a property shape that is not defined, and the release's two files
    together leave five such references (controlled-vocabulary checks on theme, format, media type…):
    they are dropped, and callers check those vocabulary IRIs themselves.
    """
    graph = rdflib.Graph()
    for name in ("dcat-ap-SHACL.ttl", "ranges.ttl"):
        graph.parse(SHAPES_DIR / name, format="turtle")
    dangling = [(s, o) for s, o in graph.subject_objects(SH.property) if graph.value(o, SH.path) is None]
    if len(dangling) != KNOWN_DANGLING:
        raise AssertionError(f"expected {KNOWN_DANGLING} undefined property shapes, found {dangling}")
    for subject, shape in dangling:
        graph.remove((subject, SH.property, shape))
    return graph


def validate(data: rdflib.Graph, shapes: rdflib.Graph) -> tuple[bool, str]:
    """Whether ``data`` conforms to ``shapes``, and the report as text."""
    conforms, _graph, text = pyshacl.validate(data, shacl_graph=shapes)
    return bool(conforms), str(text)


def main(argv: list[str]) -> int:
    """Validate each JSON-LD file named on the command line."""
    shapes = load_shapes()
    ok = True
    for name in argv:
        conforms, text = validate(rdflib.Graph().parse(name, format="json-ld"), shapes)
        print(f"{name}: {'conforms' if conforms else 'does NOT conform'}")
        if not conforms:
            print(text)
        ok = ok and conforms
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
