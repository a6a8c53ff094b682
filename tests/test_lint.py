"""``mtus lint``: each check finds a mistake planted in a copy of the rule base and names the
file and the node; the rule base itself passes (but for the findings listed as known)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reasoner import lint, rulebase
from reasoner.cli import main
from reasoner.errors import EXIT_INPUT, EXIT_LINT, RuleBaseError
from reasoner.lint import arithmetic, sources
from reasoner.rulebase import _load_rules
from tests.helpers import ROOT

TPI_SHAPES = "shapes/chronic-pain/trigger-point-injections.ttl"
TPI_KB = "kb/sections/chronic-pain/trigger-point-injections.ttl"
DOCS = "https://w3id.org/mtus/docs/sources/"
#: GitHub's anchor of the heading "## 1. Acupuncture (criteria.md 2.1) — 8 CCR 9792.24.1
#: (2009–2017), earlier 9792.21(a)(2) (2007)" of docs/sources/seed-sections.md: lower case,
#: punctuation and dashes dropped, each space a hyphen.
ACUPUNCTURE_ANCHOR = "1-acupuncture-criteriamd-21--8-ccr-9792241-20092017-earlier-979221a2-2007"

#: Findings of the rule base as it is that are accepted (none).
KNOWN: set[tuple[str, str, str]] = set()
#: checks left out of the test below (HermiT has its own test in tests/test_rulebase.py)
PENDING: tuple[str, ...] = ()


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{rel}: the text to replace is not there once: {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _copy(target: Path) -> Path:
    for top in ("ontology", "kb", "shapes", "queries", "docs/sources"):
        shutil.copytree(ROOT / top, target / top)
    shutil.copytree(ROOT / "tests" / "cases", target / "tests" / "cases")
    return target


def _plant(root: Path) -> None:
    """One mistake per check, each in a place of its own."""
    # shape links: a typo in a shape's link (the criterion keeps its other shape, so it loads)
    _edit(root, TPI_SHAPES, "mtus:criterion kb:cpmtg-2009-tpi-2 ; mtus:role mtus:Contradiction",
          "mtus:criterion kb:cpmtg-2009-tpi-20 ; mtus:role mtus:Contradiction")
    # criterion lists: dropped from its section; listed as criterion and branch; listed by a
    # second section that its source does not name
    _edit(root, TPI_KB, " kb:cpmtg-2009-tpi-4,\n", "\n")
    _edit(root, "kb/sections/acoem-low-back/surgery-referral.ttl",
          "mtus:branch kb:acoem-2004-ch12-surgery-2a, kb:acoem-2004-ch12-surgery-2b ;",
          "mtus:branch kb:acoem-2004-ch12-surgery-2a, kb:acoem-2004-ch12-surgery-2b, kb:acoem-2004-ch12-surgery-4 ;")
    _edit(root, "kb/sections/chronic-pain/epidural-steroid-injections.ttl", "mtus:criterion kb:cpmtg-2009-esi-1,",
          "mtus:criterion kb:cpmtg-2009-tpi-1, kb:cpmtg-2009-esi-1,")
    # thresholds: a criterion's mtus:threshold misspelt (a shape's bound naming no threshold does
    # not even load: test_a_shape_bound_naming_no_threshold_does_not_load)
    _edit(root, TPI_KB, "mtus:threshold kb:cpmtg-2009-tpi-min-symptom-duration ;",
          "mtus:threshold kb:cpmtg-2009-tpi-min-symptom-durations ;")
    # rule kb terms: a rule names a kb node that does not exist
    _edit(root, "kb/rules/41-opioids-9-udt-frequency.rq", "kb:odg-udt-period mtus:value", "kb:odg-udt-periods mtus:value")
    # derived properties: a misspelt predicate inside a sequence path of a qualified value shape
    _edit(root, TPI_SHAPES, "sh:path ( mtus:outcome mtus:reliefWeeks ) ; sh:minCount 1 ;",
          "sh:path ( mtus:outcome mtus:reliefWeek ) ; sh:minCount 1 ;")
    # rule outputs: a rule whose output nothing reads
    (root / "kb/rules/99-planted-unread.rq").write_text(
        "CONSTRUCT { ?request mtus:plantedNobodyReads ?q . } WHERE { ?request mtus:quantity ?q . }\n", encoding="utf-8")
    # duplicate shapes: a copy of a shape under another name and other words
    text = (root / TPI_SHAPES).read_text(encoding="utf-8")
    original = re.search(r"^shape:cpmtg-2009-tpi-1-contradiction a sh:NodeShape ;.*?\.\n", text, re.DOTALL | re.MULTILINE)
    assert original is not None
    copy = (original.group(0).replace("shape:cpmtg-2009-tpi-1-contradiction", "shape:tpi-1-contradiction-again")
            .replace('sh:name "', 'sh:name "again: ').replace('sh:message "', 'sh:message "Again: '))
    (root / TPI_SHAPES).write_text(text + "\n" + copy, encoding="utf-8")
    # duplicate rules: a copy of a rule with other variable names and another code
    rule = (ROOT / "kb/rules/33-procedures-relief-months.rq").read_text(encoding="utf-8")
    rule = re.sub(r"\?(\w+)", r"?renamed_\1", rule).replace("code:weeks", "code:days")
    (root / "kb/rules/98-planted-copy.rq").write_text(rule, encoding="utf-8")
    # sources: a string; not a kb node; a missing anchor; a missing file (and four that resolve)
    _edit(root, TPI_KB, "dcterms:source kb:cpmtg-2009, <https://w3id.org/mtus/docs/sources/seed-sections.md#cpmtg-2009-tpi>,",
          'dcterms:source "CPMTG (May 2009) p.122, as quoted in an IMR letter", kb:cpmtg-2009, '
          '<https://w3id.org/mtus/docs/sources/seed-sections.md#cpmtg-2009-tpi>,')
    _edit(root, TPI_SHAPES, "mtus:criterion kb:cpmtg-2009-tpi-3 ; mtus:role mtus:Support ; dcterms:source kb:cpmtg-2009-tpi ;",
          "mtus:criterion kb:cpmtg-2009-tpi-3 ; mtus:role mtus:Support ; dcterms:source kb:cpmtg-2009-tpii ;")
    for shape, source in (("cpmtg-2009-tpi-5-support", f"<{DOCS}seed-sections.md#no-such-part>"),
                          ("cpmtg-2009-tpi-8-contradiction", f"<{DOCS}nowhere.md#x>"),
                          ("cpmtg-2009-tpi-5-contradiction", f"<{DOCS}seed-sections.md#{ACUPUNCTURE_ANCHOR}>"),
                          ("cpmtg-2009-tpi-1-support", f"<{DOCS}seed-sections.md#tpi-wording>"),
                          ("cpmtg-2009-tpi-4-contradiction", "<https://www.dir.ca.gov/t8/9792_24_1.html>"),
                          ("cpmtg-2009-tpi-7-contradiction", "kb:cpmtg-2009")):
        text = (root / TPI_SHAPES).read_text(encoding="utf-8")
        text, count = re.subn(rf"(shape:{shape} a sh:NodeShape ;\n.*?dcterms:source )kb:cpmtg-2009-tpi ;",
                              rf"\g<1>{source} ;", text, count=1, flags=re.DOTALL)
        assert count == 1, shape
        (root / TPI_SHAPES).write_text(text, encoding="utf-8")
    with (root / "docs/sources/seed-sections.md").open("a", encoding="utf-8") as handle:
        handle.write('\n<a id="tpi-wording"></a>\nThe wording of the trigger point criteria.\n')
    # SHACL-SHACL: a count that is not an integer; house style: a criterion shape with a message of its own
    _edit(root, TPI_SHAPES, "sh:property [ sh:path mtus:conservativeCareFailed ; sh:minCount 1 ] .",
          'sh:property [ sh:path mtus:conservativeCareFailed ; sh:minCount "one" ] .')
    _edit(root, TPI_SHAPES, 'sh:name "radiculopathy present" ;',
          'sh:name "radiculopathy present" ; sh:message "Radiculopathy is documented." ;')
    # house style: a section of the ACOEM-based MTUS (from 2017-12-01), all criteria unconfirmed,
    # that does not declare its coverage
    _edit(root, "kb/sections/odg/epidural-steroid-injections.ttl", "    mtus:coverage mtus:Partial ;\n", "")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> rulebase.RuleBase:
    root = _copy(tmp_path_factory.mktemp("planted"))
    _plant(root)
    return rulebase.load(root)


@pytest.fixture(scope="module")
def found(planted: rulebase.RuleBase) -> dict[str, list[str]]:
    scope = lint.whole(planted)
    return {name: [p.line(name) for p in problems]
            for name, problems in lint.findings(planted, scope, lint.selected(scope, hermit_check=False)).items()}


def _lines(found: dict[str, list[str]], check: str, file: str) -> list[str]:
    return [line for line in found[check] if line.startswith(file + ": ")]


def test_a_shape_linked_to_no_criterion(found: dict[str, list[str]]) -> None:
    assert found["shape links"] == [
        (f"{TPI_SHAPES}: shape:cpmtg-2009-tpi-2-contradiction: [shape links] mtus:criterion kb:cpmtg-2009-tpi-20 is not a "
        "criterion of kb/ (no `a mtus:Criterion` or mtus:criterionKind there): correct the link")]


def test_a_criterion_listed_nowhere_or_twice(found: dict[str, list[str]]) -> None:
    planted = [line for line in found["criterion lists"] if "cpmtg-2009-opioids-" not in line]
    assert len(planted) == 3
    assert f"{TPI_KB}: kb:cpmtg-2009-tpi-4: [criterion lists] no section lists it" in planted[2]
    assert ("kb/sections/acoem-low-back/surgery-referral.ttl: kb:acoem-2004-ch12-surgery-4: [criterion lists] listed "
            "more than once (kb:acoem-2004-ch12-surgery, kb:acoem-2004-ch12-surgery-2)") in planted[0]
    assert (f"{TPI_KB}: kb:cpmtg-2009-tpi-1: [criterion lists] listed by kb:cpmtg-2009-esi, kb:cpmtg-2009-tpi: "
            "a criterion shared by sections must name each in its dcterms:source (missing: kb:cpmtg-2009-esi)") in planted[1]


def test_a_threshold_cited_but_not_defined(found: dict[str, list[str]]) -> None:
    assert found["thresholds"] == [
        (f"{TPI_KB}: kb:cpmtg-2009-tpi-2: [thresholds] mtus:threshold kb:cpmtg-2009-tpi-min-symptom-durations: no such "
        "threshold in kb/ (define `kb:cpmtg-2009-tpi-min-symptom-durations a mtus:Threshold`, or correct the name)")]


def test_a_shape_bound_naming_no_threshold_does_not_load(tmp_path: Path) -> None:
    """A bound from no threshold would compare with nothing: the rule base is broken (exit 3),
    and the error names the file and the shape."""
    root = _copy(tmp_path)
    _edit(root, TPI_SHAPES, "mtus:maxInclusiveFrom kb:cpmtg-2009-tpi-max-injections-per-session",
          "mtus:maxInclusiveFrom kb:cpmtg-2009-tpi-max-injection-per-session")
    with pytest.raises(RuleBaseError, match=r"shapes/chronic-pain/trigger-point-injections.ttl: .*tpi-5-contradiction: "
                                            r"mtus:maxInclusiveFrom names .*max-injection-per-session, which is not a threshold"):
        rulebase.load(root)


def test_a_rule_naming_a_kb_node_that_does_not_exist(found: dict[str, list[str]]) -> None:
    assert found["rule kb terms"] == [
        ("kb/rules/41-opioids-9-udt-frequency.rq: 41-opioids-9-udt-frequency: [rule kb terms] names "
        "kb:odg-udt-periods, which kb/ does not define (correct the name, or define it in kb/)")]


def test_a_shape_reading_a_property_nothing_produces(found: dict[str, list[str]]) -> None:
    assert found["derived properties"] == [
        (f"{TPI_SHAPES}: shape:cpmtg-2009-tpi-6-support: [derived properties] reads mtus:reliefWeek, which neither the case "
        "format, intake, a rule of kb/rules/ nor the ontology and kb produce: correct the name, or write the rule "
        "that derives it")]


def test_a_rule_whose_output_nothing_reads(found: dict[str, list[str]]) -> None:
    planted = [line for line in found["rule outputs"] if "41-opioids-9" not in line]
    assert planted == [
        ("kb/rules/99-planted-unread.rq: 99-planted-unread: [rule outputs] derives mtus:plantedNobodyReads, which no "
        "shape, other rule, selection, wording, analyst fact or query of queries/ reads: remove it, or correct the "
        "name where it is read")]


def test_duplicated_shapes_and_rules_are_reported_as_groups(found: dict[str, list[str]]) -> None:
    assert [line.split(": [")[0] for line in found["duplicate shapes"]] == [
        f"{TPI_SHAPES}: shape:cpmtg-2009-tpi-1-contradiction", f"{TPI_SHAPES}: shape:tpi-1-contradiction-again"]
    assert "the same constraints as shape:tpi-1-contradiction-again" in found["duplicate shapes"][0]
    planted = [line for line in found["duplicate rules"] if "relief-months" in line or "planted-copy" in line]
    assert [line.split(": [")[0] for line in planted] == [
        "kb/rules/33-procedures-relief-months.rq: 33-procedures-relief-months",
        "kb/rules/98-planted-copy.rq: 98-planted-copy"]
    assert "computes what 98-planted-copy computes" in planted[0]


def test_a_source_that_does_not_resolve(found: dict[str, list[str]]) -> None:
    assert _lines(found, "sources", TPI_SHAPES) == [
        (f"{TPI_SHAPES}: shape:cpmtg-2009-tpi-3-support: [sources] dcterms:source kb:cpmtg-2009-tpii is not a node of kb/ with "
        "an rdfs:label"),
        (f"{TPI_SHAPES}: shape:cpmtg-2009-tpi-5-support: [sources] dcterms:source <{DOCS}seed-sections.md#no-such-part>: "
        "docs/sources/seed-sections.md has no heading or <a id> with the anchor #no-such-part (GitHub's slug of a "
        "heading: lower case, punctuation left out, spaces as hyphens)"),
        (f"{TPI_SHAPES}: shape:cpmtg-2009-tpi-8-contradiction: [sources] dcterms:source <{DOCS}nowhere.md#x>: "
        "docs/sources/nowhere.md is not a file of the repository")]
    section = _lines(found, "sources", TPI_KB)
    assert len(section) == 1
    assert section[0].startswith(f'{TPI_KB}: kb:cpmtg-2009-tpi: [sources] dcterms:source "CPMTG (May 2009) p.122')
    assert "is a string, not an IRI" in section[0]


def test_shapes_that_are_not_well_formed_or_not_in_house_style(found: dict[str, list[str]]) -> None:
    assert found["SHACL-SHACL"] == [
        (f"{TPI_SHAPES}: shape:cpmtg-2009-tpi-3-support: [SHACL-SHACL] breaks shsh:ShapeShape's rule [ sh:datatype xsd:integer ; "
        'sh:maxCount 1 ] (on sh:minCount, value "one", in its property shape on mtus:conservativeCareFailed)')]
    assert sorted(found["house style"]) == sorted([
        (f"{TPI_SHAPES}: shape:cpmtg-2009-tpi-4-contradiction: [house style] a criterion shape needs sh:name, sh:severity, "
        "dcterms:source and mtus:role, and no sh:message (the words a reader sees are the criterion's texts in kb/)"),
        ("kb/sections/odg/epidural-steroid-injections.ttl: kb:odg-esi: [house style] a section in force from 2017-12-01 "
         "whose criteria are all unconfirmed must declare its coverage: mtus:coverage mtus:Partial with a "
         "mtus:coverageNote (what it does not encode and why), or mtus:Complete")])


def test_one_section_is_checked_alone(planted: rulebase.RuleBase, capsys: pytest.CaptureFixture[str]) -> None:
    assert lint.run(planted, hermit_check=False, section_id="cpmtg-2009-tpi") == EXIT_LINT
    out = capsys.readouterr().out
    assert f"{TPI_SHAPES}: shape:cpmtg-2009-tpi-2-contradiction: [shape links]" in out
    assert f"{TPI_SHAPES}: shape:cpmtg-2009-tpi-6-support: [derived properties]" in out
    assert f"{TPI_KB}: kb:cpmtg-2009-tpi-4: [criterion lists]" in out  # unlisted, but in the section's file
    assert "41-opioids-9" not in out and "surgery-referral" not in out and "99-planted-unread" not in out
    assert "HermiT" not in out and "structure:" not in out
    assert out.rstrip().endswith("problem(s) in section kb:cpmtg-2009-tpi")


def test_an_unknown_section_is_a_bad_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--section", "cpmtg-2009-tpl"]) == EXIT_INPUT
    assert "kb/ has no guideline section kb:cpmtg-2009-tpl (did you mean: cpmtg-2009-tpi" in capsys.readouterr().err


def test_the_rule_base_passes_lint() -> None:
    """Every check but HermiT (tests/test_rulebase.py) and sources (134 sources are strings
    until the kb content is converted; then this test covers it too)."""
    rb = rulebase.get()
    scope = lint.whole(rb)
    checks = [c for c in lint.selected(scope, hermit_check=False) if c.name not in PENDING]
    found = {(name, p.file, p.node) for name, problems in lint.findings(rb, scope, checks).items() for p in problems}
    assert found == KNOWN


def test_a_section_checked_alone_keeps_the_kind_contract() -> None:
    """``--section`` runs the house style on the section's triples; the kinds' roles, which the
    ontology states, come with them (without them every criterion shape's role was reported as
    one its kind does not allow)."""
    rb = rulebase.get()
    checks = [c for c in lint.CHECKS if c.name == "house style"]
    assert lint.findings(rb, lint.section(rb, "cpmtg-2009-tpi", None), checks) == {"house style": []}


def test_github_heading_anchors() -> None:
    assert sources.slug("Guideline authors") == "guideline-authors"
    assert sources.slug("1. Acupuncture (criteria.md 2.1) — 8 CCR 9792.24.1 (2009–2017), earlier 9792.21(a)(2) "
                        "(2007)") == ACUPUNCTURE_ANCHOR
    assert sources.slug("[Open](https://example.org) `questions`") == "open-questions"


def test_markdown_anchors(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text('# Notes\n## Open questions\n```\n# not a heading\n```\n## Open questions\n'
                    '<a id="by-hand"></a>\n', encoding="utf-8")
    assert sources.anchors(path) == {"notes", "open-questions", "open-questions-1", "by-hand"}


RULE = """CONSTRUCT {{ ?request <https://w3id.org/mtus/ontology#symptomMonths> ?months . }}
WHERE {{
  ?request <https://w3id.org/mtus/ontology#symptomDays> ?days .
  code:months mtus:daysPerUnit ?perMonth .
  BIND({expression} AS ?months)
}}
"""


def _divisions(tmp_path: Path, expression: str) -> list[str]:
    folder = tmp_path / "kb" / "rules"
    folder.mkdir(parents=True)
    (folder / "99-example.rq").write_text(RULE.format(expression=expression), encoding="utf-8")
    return [message for rule in _load_rules(folder) for message in arithmetic.divisions(rule)]


@pytest.mark.parametrize("expression", [
    "?days / ?perMonth",  # neither rounded nor guarded
    "ROUND(?days * 10000 / ?perMonth) / 10000",  # rounded, but 0 / 30.436875 is an error on Oxigraph
    "IF(?days = 0, 0, ?days / ?perMonth)",  # guarded, but a later product may need 19 decimals
])
def test_a_division_the_engines_compute_differently_is_reported(tmp_path: Path, expression: str) -> None:
    problems = _divisions(tmp_path, expression)
    assert len(problems) == 1
    assert problems[0].startswith("a division by ?perMonth")
    assert "IF(x = 0, 0, ROUND(x * 10000 / d) / 10000)" in problems[0] and "docs/rule-arithmetic.md" in problems[0]


@pytest.mark.parametrize("expression", [
    "IF(?days = 0, 0, ROUND(?days * 10000 / ?perMonth) / 10000)",
    "?days / 7",  # a whole-number divisor: 0 / 7 is 0 on both
])
def test_a_division_written_as_the_convention_says_passes(tmp_path: Path, expression: str) -> None:
    assert _divisions(tmp_path, expression) == []
