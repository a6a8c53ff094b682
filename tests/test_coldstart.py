"""Cold start (issue 15 part 5): what a new process reads back from the rule-base cache is what
was written, read when first used, and the fast path of one case needs neither rdflib's SPARQL
parser nor pySHACL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from reasoner import engines, rulebase, rulebase_cache
from tests.helpers import ROOT


def test_terms_are_read_back_as_they_were_written() -> None:
    terms = [URIRef("https://w3id.org/mtus/kb/x"), BNode("b0"), Literal("text"), Literal("texte", lang="fr"),
             Literal("1.50", datatype=XSD.decimal), Literal("2024-02-29", datatype=XSD.date),
             Literal("12", datatype=XSD.integer), Literal("not a date", datatype=XSD.date),
             Literal("true", datatype=XSD.boolean), Literal("P3M", datatype=XSD.duration)]
    back = pickle.loads(rulebase_cache.dumps(terms))
    for before, after in zip(terms, back, strict=True):
        assert type(after) is type(before) and after == before and str(after) == str(before)
        if isinstance(before, Literal):
            assert (after.language, after.datatype, after.ill_typed) == (before.language, before.datatype, before.ill_typed)
            assert after.value == before.value and type(after.value) is type(before.value)
    assert back[4].value == Decimal("1.50") and back[5].value == dt.date(2024, 2, 29) and back[7].ill_typed


def test_each_term_is_written_once() -> None:
    """Equal terms (distinct objects) come back as one object, so a graph read back makes each
    term once, not once per triple."""
    first, second = URIRef("https://w3id.org/mtus/kb/" + "y"), URIRef("https://w3id.org/mtus/kb/" + "y")
    assert first is not second
    back = pickle.loads(rulebase_cache.dumps([first, second, Literal("3", datatype=XSD.integer),
                                              Literal("3", datatype=XSD.integer)]))
    assert back[0] is back[1] and back[2] is back[3]


def test_the_large_parts_of_a_cached_rule_base_are_read_when_first_used() -> None:
    rb = rulebase.get()
    back = pickle.loads(rulebase_cache.dumps(rb))
    assert not set(rulebase.DEFERRED) & set(vars(back))  # none read yet
    assert (back.version, back.digest, back.build_id, back.root) == (rb.version, rb.digest, rb.build_id, rb.root)
    assert set(back.catalog.sections) == set(rb.catalog.sections)
    assert set(back.kb) == set(rb.kb)
    assert "kb" in vars(back) and "shapes" not in vars(back)
    assert set(back.shapes) == set(rb.shapes) and [r.name for r in back.rules] == [r.name for r in rb.rules]
    again = pickle.loads(rulebase_cache.dumps(back))  # partly read: the rest still comes along
    assert set(again.closure) == set(rb.closure) and set(again.reference) == set(rb.reference)


def test_one_case_on_the_fast_path_imports_neither_the_sparql_parser_nor_pyshacl() -> None:
    """A new process (as ``mtus evaluate``) with the cache written: the seed case is decided
    without rdflib's SPARQL parser (the rules' algebra stays pickled) or pySHACL, and gives the
    determination this process gives."""
    rb = rulebase.get()
    engines.fast_engine(rb)  # writes the cache files the new process reads, if missing
    seed = ROOT / "examples" / "seed-imr-case.yaml"
    code = ("import json, sys, reasoner\n"
            f"d = reasoner.evaluate({str(seed)!r})\n"
            "print(json.dumps({'modules': sorted(m for m in sys.modules if m.startswith("
            "('rdflib.plugins.sparql', 'pyshacl', 'reasoner.counterfactuals'))), "
            "'decisions': [str(i.decision) for i in d.items]}))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(2):  # a second time if the first wrote the cache (this process saw other sources)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300,
                              check=True)
        found = json.loads(done.stdout)
        if not found["modules"]:
            break
    assert found["modules"] == []
    assert found["decisions"] == [str(i.decision) for i in engines.evaluate(seed, rb).items]


def _digest_as_before(root: Path) -> str:
    """The rule-base digest as first written (pathlib): a determination reports it, so the
    faster walk must give the same value."""
    sha = hashlib.sha256()
    for top in ("ontology", "kb", "shapes"):
        for path in sorted((root / top).rglob("*")):
            if path.is_file():
                sha.update(str(path.relative_to(root)).encode())
                sha.update(path.read_bytes())
    return sha.hexdigest()


def test_the_digest_is_the_one_determinations_always_reported(tmp_path: Path) -> None:
    assert rulebase._digest(rulebase.default_root().resolve()) == _digest_as_before(rulebase.default_root().resolve())
    for name in ("kb/a-c.ttl", "kb/a/b.ttl", "kb/a.ttl", "kb/B.ttl", "shapes/x/y/z.ttl", "ontology/o.ttl"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name, encoding="utf-8")
    assert rulebase._digest(tmp_path) == _digest_as_before(tmp_path)
