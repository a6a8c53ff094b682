"""``mtus docs``: every generated block of the documentation is current; a stale or missing block
is named, and rewritten in place; the author's guide's worked example is the repository's own
files (each Turtle block is contained in the file it names, as triples; each case file is the
file itself)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from rdflib import BNode, Graph
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from reasoner import docs, lint, rulebase
from reasoner.cli import main
from reasoner.docs import markers
from reasoner.errors import EXIT_LINT, EXIT_OK
from reasoner.intake import _CaseLoader
from reasoner.namespaces import PREFIXES
from tests.helpers import ROOT

RB = rulebase.get()
GUIDE = ROOT / "docs" / "authoring.md"
_BLOCK = re.compile(r"^```(turtle|yaml)\n# file: (\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_every_generated_block_is_current() -> None:
    stale = [o.line() for o in docs.outcomes(RB, ROOT) if o.state != "current"]
    assert not stale, "run `mtus docs` to rewrite the generated blocks: " + "; ".join(stale)


def _checkout(tmp: Path) -> Path:
    for block in docs.BLOCKS:
        (tmp / block.file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / block.file, tmp / block.file)
    return tmp


def test_a_stale_block_is_named_then_rewritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _checkout(tmp_path)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(markers.replace(text, "sections", "| an old table |\n"), encoding="utf-8")
    assert docs.run(RB, root, check=True) == EXIT_LINT
    out = capsys.readouterr()
    assert "README.md: sections: stale" in out.out and "docs/authoring.md: kinds: current" in out.out
    assert "run `mtus docs`" in out.err
    assert "| an old table |" in readme.read_text(encoding="utf-8")  # --check changes nothing
    assert docs.run(RB, root, check=False) == EXIT_OK
    assert "README.md: sections: rewritten" in capsys.readouterr().out
    assert readme.read_text(encoding="utf-8") == text
    assert docs.run(RB, root, check=True) == EXIT_OK


def test_a_missing_block_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _checkout(tmp_path)
    guide = root / "docs" / "authoring.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace("<!-- derived:end -->", ""), encoding="utf-8")
    assert docs.run(RB, root, check=False) == EXIT_LINT
    assert "docs/authoring.md: derived: no block (add <!-- derived:begin" in capsys.readouterr().out


def test_the_command_checks_the_checkout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "--check"]) == EXIT_OK
    assert "docs/case-format.md: codes: current" in capsys.readouterr().out


def test_every_lint_check_says_what_it_checks_and_how_to_fix_it() -> None:
    for check in lint.CHECKS:
        doc = check.function.__doc__ or ""
        assert "Fix:" in doc, f"lint check {check.name!r}: its docstring (the guide's table) needs a 'Fix:' sentence"


# --- the worked example ---------------------------------------------------------------------

def _described(graph: Graph) -> set[str]:
    """Each triple about a named node, a blank-node object written out with its content (so
    that two graphs compare as triples whatever their blank-node labels)."""
    def term(node: Node, depth: int = 0) -> str:
        if isinstance(node, BNode) and depth < 20:
            return "[" + " ; ".join(sorted(f"{p.n3()} {term(o, depth + 1)}" for p, o in graph.predicate_objects(node))) + "]"
        return node.n3()

    return {f"{s.n3()} {p.n3()} {term(o)}" for s, p, o in graph if not isinstance(s, BNode)}


_STANDARD = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL), "xsd": str(XSD)}


def _turtle(text: str) -> Graph:
    """A block of the guide (which leaves out the usual @prefix lines) or a file, as a graph."""
    known = {**_STANDARD, **{p: str(ns) for p, ns in PREFIXES.items()}}
    prefixes = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in known.items())
    return Graph().parse(data=prefixes + text, format="turtle")


EXAMPLE = [(m.group(1), m.group(2), m.group(3)) for m in _BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))]


def test_the_worked_example_names_every_file_it_adds() -> None:
    files = {path for _, path, _ in EXAMPLE}
    assert {"ontology/drugs.ttl", "kb/sections/chronic-pain/barbiturate-containing-analgesics.ttl",
            "shapes/chronic-pain/barbiturate-containing-analgesics.ttl"} <= files
    assert any(path.startswith("tests/cases/chronic-pain/barbiturate-containing-analgesics/") for path in files)


@pytest.mark.parametrize(("kind", "path", "text"), EXAMPLE, ids=[f"{i}-{p.rsplit('/', 1)[-1]}" for i, (_, p, _) in enumerate(EXAMPLE)])
def test_a_block_of_the_worked_example_is_in_the_file_it_names(kind: str, path: str, text: str) -> None:
    target = ROOT / path
    assert target.is_file(), f"docs/authoring.md names {path}, which is not a file of the repository"
    if kind == "yaml":
        shown = yaml.load(text, Loader=_CaseLoader)
        assert shown == yaml.load(target.read_text(encoding="utf-8"), Loader=_CaseLoader), \
            f"the case file shown in docs/authoring.md differs from {path}"
        return
    missing = _described(_turtle(text)) - _described(_turtle(target.read_text(encoding="utf-8")))
    assert not missing, f"docs/authoring.md shows triples that {path} does not hold: {sorted(missing)[:3]}"
