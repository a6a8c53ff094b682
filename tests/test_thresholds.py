"""Every number once: a threshold's value decides and is stated from one place, by date.

For every threshold of kb/: changing its value changes every sentence that names it and the
decision of some case file that exercises it; a dated change applies from its date on, in the
shapes, the rules and the words, on both engines; record values are never rounded onto or
across the bound they were compared with.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from reasoner import api, rulebase
from reasoner.fastpath.engine import Engine
from reasoner.fastpath.rules import writes
from reasoner.lint.reading import shape_paths
from reasoner.namespaces import KB, MTUS, local_name
from reasoner.rulebase import RuleBase
from reasoner.texts import number
from reasoner.thresholds import Threshold, Writer, in_words, named, placeholders
from tests.helpers import ROOT

RB = rulebase.get()
CASES = ROOT / "tests" / "cases"


def _with_value(rb: RuleBase, iri: URIRef, value: Literal) -> RuleBase:
    """The rule base as if every dated value of the threshold were ``value``."""
    threshold = rb.catalog.thresholds[iri]
    changed = replace(threshold, values=tuple(replace(v, value=value) for v in threshold.values))
    limits = {**rb.catalog.thresholds, iri: changed}
    catalog = replace(rb.catalog, thresholds=limits, writer=Writer(limits, rb.ontology), _in_force={})
    reference = rb.reference
    dated = [node for node in rb.kb.objects(iri, MTUS["values"])]
    if any((node, MTUS.value, None) in reference for node in dated):  # a rule reads it
        reference = Graph()
        reference += rb.reference
        for node in dated:
            reference.remove((node, MTUS.value, None))
            reference.add((node, MTUS.value, value))
    return replace(rb, catalog=catalog, reference=reference, _bounded={}, build_id=f"{rb.build_id}-changed")


def _read_by(rb: RuleBase, iri: URIRef) -> set[str]:
    """The predicates derived by the rules that read the threshold: by its name, or through a
    kb node the rule reaches (an instance of a class it names, as the morphine-equivalence rule
    reads every factor and the period-count rule every count's period)."""
    derived: set[str] = set()
    for rule in rb.rules:
        body = rule.path.read_text(encoding="utf-8").partition("WHERE")[2]
        named = {KB[n] for n in re.findall(r"kb:([\w.-]+)", body)}
        for cls in re.findall(r"mtus:([A-Z]\w+)", body):
            named |= {s for s in rb.kb.subjects(RDF.type, MTUS[cls]) if isinstance(s, URIRef)}
        if iri in named or any((n, None, iri) in rb.kb for n in named):
            derived |= {local_name(URIRef(w)) for w in writes(rule.query.algebra)}
    return derived


def _sections_using(rb: RuleBase, iri: URIRef) -> list[URIRef]:
    """Sections whose shapes or texts use the threshold, or whose shapes read what a rule
    derives from it."""
    derived = _read_by(rb, iri)
    out = []
    for section in rb.catalog.sections.values():
        paths = {local_name(p) for s in section.shape_iris() for p in shape_paths(rb.shapes, s)}
        if iri in section.thresholds() or derived & paths:
            out.append(section.iri)
    return out


def _case_files(rb: RuleBase, sections: list[URIRef]) -> list[Path]:
    """The case files beside each section (tests/cases/<document>/<section file>/)."""
    out: list[Path] = []
    for iri in sections:
        source = Path(rb.source_files[iri])
        folder = CASES / source.parent.name / source.stem
        if not folder.is_dir():  # a document with one file: its cases lie in the document's folder
            folder = CASES / source.parent.name
        out += [p for p in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.json")) if p not in out]
    return out


def _formulary_case_files(rb: RuleBase, iri: URIRef) -> list[Path]:
    """The formulary's case files (tests/cases/formulary/) when a formulary rule names the
    threshold (kb/formulary/rules.ttl): they are decided by the formulary answer, not a section."""
    if not any((rule, RDF.type, MTUS.FormularyRule) in rb.kb for rule in rb.kb.subjects(MTUS.threshold, iri)):
        return []
    return sorted((CASES / "formulary").rglob("*.yaml"))


_BEFORE: dict[Path, list[tuple[str, str, str, bool]]] = {}


def _before(path: Path) -> list[tuple[str, str, str, bool]]:
    """The states of a case file under the rule base as it is (kept for the other thresholds)."""
    if path not in _BEFORE:
        _BEFORE[path] = _states(RB, path)
    return _BEFORE[path]


def _states(rb: RuleBase, path: Path) -> list[tuple[str, str, str, bool]]:
    det = api.evaluate(path, rb)
    return [(item.request_id, local_name(r.criterion.iri), r.status, r.applicable)
            for item in det.items for top in item.criteria for r in top.walk()] + \
           [(item.request_id, "decision", item.decision, True) for item in det.items] + \
           [(item.request_id, "formulary", local_name(item.formulary.rule_iri), item.formulary.prospective_review_required is True)
            for item in det.items if item.formulary is not None]


def _extremes(value: Literal) -> list[Literal]:
    python = value.toPython()
    if isinstance(python, dt.date):
        return [Literal(dt.date(1900, 1, 1), datatype=XSD.date), Literal(dt.date(2100, 1, 1), datatype=XSD.date)]
    return [Literal(0), Literal(int(Decimal(str(python)) * 100) + 1000)]


def _changed(value: Literal) -> Literal:
    """Another value that every format can write (a whole number for words)."""
    python = value.toPython()
    if isinstance(python, dt.date):
        return Literal(python.replace(year=python.year + 3), datatype=XSD.date)
    return Literal(int(Decimal(str(python))) + 7)


THRESHOLDS = sorted(RB.catalog.thresholds)


@pytest.mark.parametrize("iri", THRESHOLDS, ids=[local_name(t) for t in THRESHOLDS])
def test_changing_a_threshold_changes_every_sentence_naming_it(iri: URIRef) -> None:
    threshold = RB.catalog.thresholds[iri]
    day = threshold.values[-1].start
    changed = _with_value(RB, iri, _changed(threshold.values[-1].value))
    for section_iri in RB.catalog.sections:
        template = RB.catalog.sections[section_iri]
        if not (template.effective_from <= day and (template.effective_until is None or day <= template.effective_until)):
            continue
        before, after = RB.catalog.in_force(section_iri, day), changed.catalog.in_force(section_iri, day)
        pairs = [(template.summary, before.summary, after.summary)]
        for t, b, a in zip(template.all_criteria(), before.all_criteria(), after.all_criteria()):
            pairs += [(getattr(t, f), getattr(b, f), getattr(a, f)) for f in ("statement", "shortfall", "met_text",
                      "not_met_text", "not_documented_text", "not_applicable_text", "documentation_needed")]
        for source, old, new in pairs:
            if iri in named(source):
                assert old != new, f"{local_name(section_iri)}: {source!r} reads the same with another value"
    for rule, why in RB.kb.subject_objects(MTUS.why):  # the formulary rules' sentences
        if iri in named(str(why)):
            old = RB.catalog.writer.fill(str(why), day, "test")
            assert old != changed.catalog.writer.fill(str(why), day, "test"), f"{local_name(rule)}: {old!r}"


@pytest.mark.parametrize("iri", THRESHOLDS, ids=[local_name(t) for t in THRESHOLDS])
def test_changing_a_threshold_changes_a_decision(iri: URIRef) -> None:
    if RB.catalog.thresholds[iri].stated_only:
        assert not _read_by(RB, iri), f"kb:{local_name(iri)} is mtus:statedOnly, but a rule reads it"
        assert not any(iri in c.compared for c in RB.catalog.criteria.values()), \
            f"kb:{local_name(iri)} is mtus:statedOnly, but a shape compares with it"
        assert any(iri in named(s.summary) or any(iri in c.named for c in s.all_criteria())
                   for s in RB.catalog.sections.values()), f"kb:{local_name(iri)} is mtus:statedOnly, but no text states it"
        return
    latest = RB.catalog.thresholds[iri].values[-1]
    # the sections in force while the changed (latest) value is come first: only their cases can
    # read it (a factor given a later value would otherwise re-decide every earlier case first)
    sections = sorted(_sections_using(RB, iri), key=lambda s: not (
        RB.catalog.sections[s].effective_until is None or RB.catalog.sections[s].effective_until >= latest.start))
    files = _case_files(RB, sections) + _formulary_case_files(RB, iri)
    assert files, f"no case file exercises a section that uses kb:{local_name(iri)}"
    # first the files that declare a criterion comparing with it: the likeliest to change
    using = {local_name(c.iri) for c in RB.catalog.criteria.values() if iri in c.compared}
    files.sort(key=lambda p: not any(name in p.read_text(encoding="utf-8") for name in using))  # stable: keeps the period order
    for value in _extremes(RB.catalog.thresholds[iri].values[-1].value):
        changed = _with_value(RB, iri, value)
        if any(_states(changed, path) != _before(path) for path in files):
            return
    pytest.fail(f"kb:{local_name(iri)} decides nothing in {len(files)} case file(s): "
                + ", ".join(p.name for p in files))


# --- writing numbers ----------------------------------------------------------------------

TPI_LIMIT = KB["cpmtg-2009-tpi-max-injections-per-session"]


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("{cpmtg-2009-tpi-max-injections-per-session}", "4 injections", id="number-and-unit"),
    pytest.param("{cpmtg-2009-tpi-max-injections-per-session:number}", "4", id="number"),
    pytest.param("{cpmtg-2009-tpi-max-injections-per-session:words}", "four injections", id="words"),
    pytest.param("{cpmtg-2009-tpi-max-injections-per-session:word}", "four", id="word"),
    pytest.param("{cpmtg-2009-tpi-max-injections-per-session:range}", "3-4 injections", id="range"),
    pytest.param("{cpmtg-2009-tpi-max-injections-per-session:range-number}", "3-4", id="range-number"),
    pytest.param("{cpmtg-2009-tpi-repeat-relief-percent}", "50%", id="percent"),
    pytest.param("{cpmtg-2009-tpi-repeat-relief-percent:words}", "fifty percent", id="percent-in-words"),
    pytest.param("{lc-4604-5-cap-injury-date}", "January 1, 2004", id="date"),
])
def test_a_placeholder_writes_the_value_in_force(text: str, expected: str) -> None:
    assert RB.catalog.writer.fill(text, dt.date(2014, 11, 15), "test") == expected


def test_one_is_written_in_the_singular() -> None:
    changed = _with_value(RB, TPI_LIMIT, Literal(1))
    writer = changed.catalog.writer
    assert writer.fill("{cpmtg-2009-tpi-max-injections-per-session:words}", dt.date(2014, 1, 1), "t") == "one injection"
    assert writer.fill("{cpmtg-2009-tpi-max-injections-per-session:range}", dt.date(2014, 1, 1), "t") == "1-3 injections"


def test_numbers_in_words() -> None:
    assert [in_words(n) for n in (0, 3, 12, 20, 24, 35, 100, 120)] == [
        "zero", "three", "twelve", "twenty", "twenty-four", "thirty-five", "one hundred", "one hundred twenty"]


@pytest.mark.parametrize(("text", "problem"), [
    pytest.param("{no-such-threshold}", "names no threshold", id="unknown"),
    pytest.param("{cpmtg-2009-tpi-max-injections-per-session:roman}", "unknown format", id="format"),
    pytest.param("{cpmtg-2009-tpi-repeat-relief-percent}", "no value in force", id="not-in-force"),
])
def test_a_broken_placeholder_names_the_text(text: str, problem: str) -> None:
    day = dt.date(2014, 1, 1) if "no-such" in text or "roman" in text else dt.date(2001, 1, 1)
    with pytest.raises(Exception, match=problem) as info:
        RB.catalog.writer.fill(text, day, "kb/sections/x.ttl: kb:x")
    assert "kb/sections/x.ttl: kb:x" in str(info.value)


def test_placeholders_are_read_with_their_format() -> None:
    assert placeholders("within {a-b:range} per session, {c}") == [("a-b", "range"), ("c", "")]


@pytest.mark.parametrize(("value", "bounds", "shown"), [
    pytest.param("3.0226", (3,), "3.02", id="92-days-are-more-than-3-months"),
    pytest.param("2.9671", (3,), "2.97", id="just-under-the-bound"),
    pytest.param("3.0000", (3,), "3", id="on-the-bound"),
    pytest.param("5.4321", (3, 6), "5.4", id="far-from-the-bounds"),
    pytest.param("1.96", (), "2", id="no-bound"),
    pytest.param("119.99", (120,), "119.99", id="just-under-the-ceiling"),
])
def test_a_record_value_keeps_its_side_of_the_bound(value: str, bounds: tuple[int, ...], shown: str) -> None:
    assert number(Decimal(value), bounds) == shown


def test_ninety_two_days_of_symptoms_read_as_more_than_three_months() -> None:
    case: dict[str, object] = {}
    case["id"] = "tpi-92-days"
    case["review_date"] = "2014-11-15"
    case["injury"] = {"date": "2014-08-15", "work_related": True, "body_regions": ["cervical_spine"]}
    case["findings"] = [{"code": "radiculopathy", "region": "cervical_spine", "present": False, "source": "physical_exam"}]
    case["requests"] = [{"id": "1", "service": "trigger_point_injection", "region": "cervical_spine", "quantity": 2}]
    item = api.evaluate(case).items[0]
    duration = next(r for r in item.criteria if local_name(r.criterion.iri) == "cpmtg-2009-tpi-2")
    assert duration.status == "met"
    assert "3.02" in " ".join(item.fact_text[f] for f in duration.supporting)


# --- a dated change ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def dated_change(tmp_path_factory: pytest.TempPathFactory) -> RuleBase:
    """A copy of the rule base in which the trigger point injection limit becomes 2 per
    session from 2014-01-01 (a new dated value beside the old one, as an amendment would be
    written)."""
    root = tmp_path_factory.mktemp("dated-rules")
    for top in ("ontology", "kb", "shapes"):
        shutil.copytree(ROOT / top, root / top)
    path = root / "kb" / "sections" / "chronic-pain" / "trigger-point-injections.ttl"
    text = path.read_text(encoding="utf-8")
    old = 'mtus:values [ mtus:effectiveFrom "2009-07-18"^^xsd:date ; mtus:value 4 ; mtus:otherFigure 3 ]'
    assert old in text
    path.write_text(text.replace(old, old + ', [ mtus:effectiveFrom "2014-01-01"^^xsd:date ; mtus:value 2 ]'),
                    encoding="utf-8")
    return rulebase.load(root)


def _tpi_case(review: dt.date) -> dict[str, object]:
    case: dict[str, object] = {}
    case["id"] = f"tpi-{review}"
    case["review_date"] = review.isoformat()
    case["injury"] = {"date": "2012-01-10", "work_related": True, "body_regions": ["cervical_spine"]}
    case["findings"] = [{"code": "trigger_point", "region": "cervical_spine", "source": "physical_exam"},
                        {"code": "twitch_response", "region": "cervical_spine", "source": "physical_exam"},
                        {"code": "referred_pain", "region": "cervical_spine", "source": "physical_exam"}]
    case["treatments"] = [{"service": "physical_therapy", "region": "cervical_spine", "start": "2012-03-01",
                           "end": "2012-06-01", "status": "failed"}]
    case["requests"] = [{"id": "1", "service": "trigger_point_injection", "region": "cervical_spine",
                         "quantity": 3, "unit": "injections", "injectate": ["local_anesthetic"]}]
    return case


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_a_dated_value_applies_from_its_date_in_shapes_and_words(dated_change: RuleBase, engine: str) -> None:
    evaluate = api.evaluate if engine == "reference" else Engine(dated_change).evaluate
    before = (evaluate(_tpi_case(dt.date(2013, 12, 31)), dated_change) if engine == "reference"  # type: ignore[call-arg]
              else evaluate(_tpi_case(dt.date(2013, 12, 31)))).items[0]
    after = (evaluate(_tpi_case(dt.date(2014, 1, 1)), dated_change) if engine == "reference"  # type: ignore[call-arg]
             else evaluate(_tpi_case(dt.date(2014, 1, 1)))).items[0]
    limit = {local_name(r.criterion.iri): r for r in before.criteria}["cpmtg-2009-tpi-5"]
    assert (before.decision, limit.status) == ("overturned", "met")
    assert limit.criterion.statement == "Not more than 3-4 injections per session."
    limit = {local_name(r.criterion.iri): r for r in after.criteria}["cpmtg-2009-tpi-5"]
    assert (after.decision, limit.status) == ("upheld", "not_met")
    assert limit.criterion.statement == "Not more than 2 injections per session."
    assert limit.criterion.shortfall == "more than 2 injections requested for one session"
    assert "exceeds 2 injections per session" in after.rationale


def test_the_threshold_values_are_read_with_their_implied_end(dated_change: RuleBase) -> None:
    threshold: Threshold = dated_change.catalog.thresholds[TPI_LIMIT]
    assert [(v.start, v.end, v.value.toPython()) for v in threshold.values] == [
        (dt.date(2009, 7, 18), dt.date(2013, 12, 31), 4), (dt.date(2014, 1, 1), None, 2)]
