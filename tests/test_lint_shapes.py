"""``mtus lint`` runs SHACL-SHACL and the house style as SPARQL compiled from the shapes, on
pyoxigraph; pySHACL, the reference validator, gives the same results on planted mistakes."""

from __future__ import annotations

from rdflib import Graph

from reasoner.lint import house_style
from reasoner.lint.reading import owners
from reasoner.namespaces import local_name
from tests.helpers import ROOT

PREFIXES = """@prefix mtus: <https://w3id.org/mtus/ontology#> .
@prefix kb: <https://w3id.org/mtus/kb/> .
@prefix code: <https://w3id.org/mtus/code/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix shape: <https://w3id.org/mtus/shapes/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

#: Shapes that break SHACL's syntax rules, one rule each.
BROKEN_SHAPES = PREFIXES + """
shape:count-not-integer a sh:NodeShape ; sh:property [ sh:path mtus:quantity ; sh:minCount "one" ] .
shape:two-max-counts a sh:NodeShape ; sh:property [ sh:path mtus:quantity ; sh:maxCount 1, 2 ] .
shape:unknown-node-kind a sh:NodeShape ; sh:property [ sh:path mtus:code ; sh:nodeKind sh:Something ] .
shape:no-path a sh:NodeShape ; sh:property [ sh:minCount 1 ] .
shape:two-paths a sh:NodeShape ; sh:property [ sh:path mtus:code, mtus:region ; sh:minCount 1 ] .
shape:in-not-a-list a sh:NodeShape ; sh:property [ sh:path mtus:code ; sh:in code:radiculopathy ] .
shape:or-broken-list a sh:NodeShape ; sh:or [ rdf:first shape:Present ] .
shape:severity-literal a sh:NodeShape ; sh:severity "high" ; sh:property [ sh:path mtus:code ; sh:minCount 1 ] .
shape:class-literal a sh:NodeShape ; sh:property [ sh:path mtus:code ; sh:class "Finding" ] .
shape:deactivated-text a sh:NodeShape ; sh:deactivated "yes" .
shape:alternative-of-one a sh:NodeShape ;
    sh:property [ sh:path [ sh:alternativePath ( mtus:code ) ] ; sh:minCount 1 ] .
shape:fine a sh:NodeShape ; sh:property [ sh:path ( mtus:outcome mtus:reliefWeeks ) ; sh:minCount 1 ] .
"""

#: Rule-base nodes that break the house style (shapes/house-style/).
BROKEN_KB = PREFIXES + """
mtus:Unlabelled a owl:Class ; skos:definition "A class without a label." .
mtus:TwoDefinitions a owl:ObjectProperty ; rdfs:label "two definitions" ;
    skos:definition "One.", "Two." .
kb:no-statement a mtus:Criterion ; mtus:order 1 ; mtus:criterionKind mtus:Requirement ;
    mtus:shortfall "x" ; mtus:metText "x" ; mtus:notMetText "x" ; mtus:confirmation mtus:Maybe ;
    dcterms:source kb:somewhere .
kb:cannot-fail a mtus:Criterion ; mtus:order 2 ; mtus:criterionKind mtus:Limit ; mtus:statement "s" ;
    mtus:shortfall "x" ; mtus:metText "x" ; mtus:confirmation mtus:Confirmed ; dcterms:source kb:somewhere .
kb:threshold a mtus:Threshold ; mtus:value 1 ; dcterms:source kb:somewhere ;
    mtus:values [ mtus:value 1, 2 ; mtus:effectiveFrom "2009" ] .
shape:unnamed a sh:NodeShape ; mtus:criterion kb:cannot-fail ; mtus:role mtus:Support .
"""


def _agree(shapes: Graph, data: Graph) -> list[house_style.Result]:
    compiled = house_style.compiled_results(shapes, list(data))
    reference = house_style.pyshacl_results(shapes, list(data))
    assert compiled is not None, "the compiler translates these shapes"
    assert set(compiled) == set(reference)
    return compiled


def test_shacl_shacl_compiled_agrees_with_pyshacl_on_broken_shapes() -> None:
    data = Graph().parse(data=BROKEN_SHAPES.replace("@prefix xsd:", "@prefix rdf: "
                                                    "<http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n@prefix xsd:"),
                         format="turtle")
    results = _agree(house_style.shacl_shacl_graph(), data)
    owner = owners(data)
    broken = {local_name(owner.get(r.focus, r.focus)) for r in results}
    assert broken == {"count-not-integer", "two-max-counts", "unknown-node-kind", "no-path", "two-paths",
                      "in-not-a-list", "or-broken-list", "severity-literal", "class-literal",
                      "deactivated-text", "alternative-of-one"}


def test_shacl_shacl_compiled_agrees_with_pyshacl_on_real_shapes() -> None:
    data = Graph()
    for name in ("chronic-pain/trigger-point-injections.ttl", "common.ttl"):
        data.parse(ROOT / "shapes" / name, format="turtle")
    assert _agree(house_style.shacl_shacl_graph(), data) == []


def test_house_style_compiled_agrees_with_pyshacl_on_broken_nodes() -> None:
    shapes = Graph().parse(ROOT / "shapes/house-style/house-style.ttl", format="turtle")
    data = Graph().parse(data=BROKEN_KB, format="turtle")
    results = _agree(shapes, data)
    messages = {str(shapes.value(r.source, house_style.SH.message)) for r in results}
    assert {"every term needs an rdfs:label", "every term needs exactly one skos:definition",
            "a criterion needs its mtus:statement (the guideline's words)",
            "a criterion must say whether it was confirmed (mtus:confirmation)",
            "a criterion that can be not met or not documented needs mtus:notMetText or mtus:notDocumentedText",
            ("a threshold's number goes in a dated value (mtus:values [ mtus:effectiveFrom ... ; mtus:value N ]), not on "
            "the threshold"), "a threshold needs its unit (mtus:unitOfMeasure)",
            'a threshold needs its dated values: mtus:values [ mtus:effectiveFrom "YYYY-MM-DD"^^xsd:date ; mtus:value N ]',

            ("a criterion shape needs sh:name, sh:severity, dcterms:source and mtus:role, and no sh:message (the words "
            "a reader sees are the criterion's texts in kb/)")} <= messages
