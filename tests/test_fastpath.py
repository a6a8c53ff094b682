"""The fast path (reasoner.fastpath) decides exactly as the reference path.

Every case file under tests/cases/, a seeded sample of ``mtus generate`` cases and spoiled
copies of both are evaluated both ways; every decision, criterion state, fact, label, flag
and rationale must be the same (reasoner/fastpath/compare.py says what is normalised). The
full check, on 10,000 generated cases, runs with ``make bench``. ``MTUS_FASTPATH_SAMPLE`` sets
the size of the generated sample here (default 50). The case-file items (tests/conftest.py) run
on the fast path; this test is what ties every case file's expected outcome to the reference path.
"""

from __future__ import annotations

import os

import pyoxigraph as ox
import pytest
import yaml
from rdflib import Graph

from reasoner import rulebase
from reasoner.fastpath import caseread, differential
from reasoner.fastpath.engine import Engine
from reasoner.fastpath.queries import section_query
from reasoner.fastpath.terms import to_rdflib
from reasoner.intake import _CaseLoader
from tests import casefiles

SAMPLE = int(os.environ.get("MTUS_FASTPATH_SAMPLE", "50"))


@pytest.fixture(scope="module")
def case_files() -> list[casefiles.CaseFile]:
    return casefiles.all_cases()


def test_case_files_and_a_generated_sample_are_decided_alike(case_files: list[casefiles.CaseFile]) -> None:
    cases = [c.data for c in case_files] + list(differential.generated(SAMPLE))
    report = differential.check(cases, workers=2, batch=16, singles=True)
    assert report.cases == len(cases)
    assert not report.differences, report.text()
    assert not report.fallbacks, f"valid cases handed to the reference path: {report.text()}"


def test_spoiled_cases_are_rejected_alike(case_files: list[casefiles.CaseFile]) -> None:
    valid = [c.data for c in case_files[:24]] + list(differential.generated(16, seed=3))
    report = differential.check(list(differential.broken(valid)), workers=2, batch=8)
    assert not report.differences, report.text()
    assert report.rejected > len(valid) // 2


def test_case_files_become_the_same_triples(case_files: list[casefiles.CaseFile]) -> None:
    """Oxigraph's JSON-LD reading (and libyaml) give intake's graph, triple for triple."""
    from reasoner import intake

    rb = rulebase.get()
    for case in case_files[::5]:
        fast = caseread.read(case.path, rb)
        assert fast is not None, case.name
        reference = intake.read(case.path, rb).graph
        ours = Graph()
        for triple in fast.triples:
            ours.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        assert set(ours) == set(reference), case.name


def test_every_section_compiles_to_queries_oxigraph_accepts() -> None:
    rb = rulebase.get()
    store = ox.Store()
    known = set(rb.helper_shapes)
    for iri, section in rb.catalog.sections.items():
        shapes = section.shape_iris()
        query = section_query(rb.shapes_on(section.effective_from), shapes, known | set(shapes))
        for text in query.texts([iri]):
            list(store.query(text))  # parses, and runs


def test_the_engine_falls_back_for_inputs_it_does_not_read() -> None:
    """A date not written YYYY-MM-DD: the case format's reader (reasoner/caseformat/, shared
    by both paths) refuses it in a case file or mapping, alike on both paths; the fast path's
    date-form fallback remains for cases given as triples."""
    rb = rulebase.get()
    engine = Engine(rb)
    seed = casefiles.CASES / "seed" / "seed-imr-case.yaml"
    data = yaml.load(seed.read_text(encoding="utf-8"), Loader=_CaseLoader)
    engine.evaluate(data)
    assert not engine.fallbacks
    data["review_date"] = "2014-11-15T00:00:00"
    report = differential.compare_batch(engine, [data])
    assert not report.differences, report.text()
    assert engine.fallbacks["date-form"] == 0 and report.rejected == 1


def test_the_wording_reads_only_stated_properties() -> None:
    """The fast path runs, after selection, only the rules whose output the chosen sections'
    queries or the wording read; the wording's reads are taken to be the case format's own
    properties (engine.wording_reads). A derived property read by the modules that word a
    determination would be missed: none may be."""
    import re
    from pathlib import Path

    from reasoner.fastpath.startup import wording_reads
    from reasoner.namespaces import MTUS

    rb = rulebase.get()
    stated = wording_reads(rb)
    package = Path(rulebase.__file__).resolve().parent
    modules = ["api.py", "rationale.py", "texts.py", "decisions.py", "determination.py", "fastpath/decide.py"]
    read = {name for module in modules
            for name in re.findall(r"MTUS\.([a-z]\w*)", (package / module).read_text(encoding="utf-8"))}
    assert read, "no property read found: the pattern no longer matches the modules"
    assert {str(MTUS[name]) for name in read} <= stated, sorted(str(MTUS[n]) for n in read if str(MTUS[n]) not in stated)


def test_the_two_passes_run_exactly_what_one_pass_would() -> None:
    engine = Engine(rulebase.get())
    assert engine.two_passes, "a rule run before selection is read by an earlier rule: every rule runs in one pass"
    assert 0 < sum(engine.first_pass) < len(engine.rules)
