"""The rule base: it loads something, the ontology is consistent (HermiT) and closed, every
criterion is covered by cases, and lint catches a broken rule file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib.namespace import RDF

from reasoner import lint, rulebase
from reasoner.coverage import collect
from reasoner.errors import RuleBaseError
from reasoner.lint import cases, hermit, house_style, links
from reasoner.lint.problems import Problem
from reasoner.namespaces import CODE, MTUS
from tests.helpers import ROOT


def test_something_is_loaded() -> None:
    rb = rulebase.get()
    assert len(rb.catalog.sections) >= 1
    assert len(rb.catalog.criteria) >= 8
    assert len(rb.shapes) > 100
    assert len(rb.rules) >= 5
    assert links.structure(rb, lint.whole(rb)) == []


def test_hermit_finds_the_ontology_consistent() -> None:
    rb = rulebase.get()
    assert hermit.hermit(rb, lint.whole(rb)) == []


def test_ontology_closure() -> None:
    closure = rulebase.get().closure
    assert (CODE["L4-L5"], MTUS.partOf, CODE.lumbar_spine) in closure
    assert (CODE["C5-C6"], MTUS.partOf, CODE.whole_body) in closure
    assert (CODE.hydrocodone_acetaminophen, RDF.type, MTUS.Opioid) in closure
    assert (CODE.naproxen, RDF.type, MTUS.NSAID) in closure
    assert (CODE.naproxen, RDF.type, MTUS.Drug) in closure
    assert (CODE.electroacupuncture, MTUS.broader, CODE.acupuncture) in closure


def test_every_criterion_has_a_meeting_and_a_failing_case() -> None:
    rb = rulebase.get()
    cov = collect(ROOT / "tests" / "cases")
    assert cov.cases > 0
    assert cov.gaps(rb) == []


def test_shapes_and_house_style_pass_lint() -> None:
    rb = rulebase.get()
    assert house_style.shacl_shacl(rb, lint.whole(rb)) == []
    assert house_style.house_style(rb, lint.whole(rb)) == []


@pytest.fixture
def rule_copy(tmp_path: Path) -> Path:
    for top in ("ontology", "kb", "shapes"):
        shutil.copytree(ROOT / top, tmp_path / top)
    shutil.copytree(ROOT / "tests" / "cases", tmp_path / "tests" / "cases")
    return tmp_path


def test_lint_names_file_and_node_of_a_criterion_without_statement(rule_copy: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = rule_copy / "kb" / "sections" / "chronic-pain" / "trigger-point-injections.ttl"
    text = path.read_text(encoding="utf-8")
    assert 'mtus:statement "Frequency should not' in text
    path.write_text(text.replace('mtus:statement "Frequency should not be at an interval less than {cpmtg-2009-tpi-min-interval:words}." ;', ""),
                    encoding="utf-8")
    with pytest.raises(RuleBaseError, match=r"trigger-point-injections.ttl: .*cpmtg-2009-tpi-7.*mtus:statement"):
        rulebase.load(rule_copy)


def test_lint_fails_on_house_style_and_inconsistency(rule_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = rule_copy / "ontology" / "drugs.ttl"
    path.write_text(path.read_text(encoding="utf-8") + """
mtus:Drug owl:disjointWith mtus:Region .
code:naproxen a mtus:Region .
mtus:UndefinedThing a owl:Class .
""", encoding="utf-8")
    rb = rulebase.load(rule_copy)
    assert lint.run(rb, hermit_check=True) == 1
    out = capsys.readouterr().out
    assert "HermiT consistency: 1 problem(s)" in out
    assert "ontology/drugs.ttl: mtus:UndefinedThing: [house style] every term needs an rdfs:label" in out


def test_lint_fails_when_a_criterion_has_no_failing_case(rule_copy: Path) -> None:
    for case in (rule_copy / "tests" / "cases").rglob("*.yaml"):
        text = case.read_text(encoding="utf-8")
        case.write_text(text.replace("cpmtg-2009-tpi-8: not_met", "cpmtg-2009-tpi-8: met"), encoding="utf-8")
    rb = rulebase.load(rule_copy)
    gaps = [p.line("test-case coverage") for p in cases.case_coverage(rb, lint.whole(rb))]
    assert any(g.startswith("kb/sections/chronic-pain/trigger-point-injections.ttl: kb:cpmtg-2009-tpi-8: [test-case "
                            "coverage] cpmtg-2009-tpi-8 (exclusion) has no case in which it is not met") for g in gaps)


def test_lint_fails_with_no_cases(tmp_path: Path) -> None:
    rb = rulebase.get()
    assert cases.case_coverage(rb, lint.whole(rb, tmp_path)) == [Problem(str(tmp_path), "(folder)", "no case files found")]
