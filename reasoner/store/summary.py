"""The analysts' summary: per item decision, the facts the named queries join on, in one graph.

Every query of queries/ that counts or lists determinations reads the summary graph
``<https://w3id.org/mtus/store/summary>`` instead of joining each determination graph to its
case graph: a fixed graph, so the store answers from its indexes without visiting 100,000 named
graphs. Its subjects are the IRIs of the determination graph (the item decision, its criterion
results, its formulary answer), each with ``mtus:summaryOf`` the determination; the item (an ``mtus:ItemSummary``) carries
the case and request identifiers, service, region (as stated), review date, decision, the
section and search step applied, the rule date and edition, the guideline as the decision cites
it and as the claims administrator cited it, the mismatch flag, drug, prospective review,
derived morphine-equivalent dose, the rule-base version and the determination's edition.

The summary is derived by one SPARQL CONSTRUCT (``WHERE`` below) from the case graph and the
determination graph, and written with them: ``records.put_cases`` builds it for a round from the
round's own quads (an in-memory store) and writes it in the same load or update as the graphs;
re-storing a case deletes its old summary with its old determination. ``rebuild`` derives it
inside a store that predates it (or after a bulk load of graphs, as the tests' fixed dataset);
``mtus query`` on an embedded store calls ``ensure``, which rebuilds it when it is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyoxigraph as ox

from . import tally

if TYPE_CHECKING:
    from .records import Backend

GRAPH = "https://w3id.org/mtus/store/summary"

PROLOGUE = ("PREFIX mtus: <https://w3id.org/mtus/ontology#>\n"
            "PREFIX prov: <http://www.w3.org/ns/prov#>\n"
            "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n")

TEMPLATE = """
  ?item a mtus:ItemSummary ; mtus:summaryOf ?d ; mtus:rulebaseVersion ?version ; mtus:edition ?edition ;
        mtus:caseIdentifier ?case_id ; mtus:requestIdentifier ?request_id ; mtus:caseReviewDate ?review ;
        mtus:service ?service ; mtus:region ?region ; mtus:drug ?drug ; mtus:requestProspectiveReview ?review_obtained ;
        mtus:urGuidelineCited ?ur_cited ; mtus:decision ?decision ; mtus:urGuidelineMismatch ?mismatch ;
        mtus:citedGuideline ?cited_as ; mtus:appliedSection ?section ; mtus:searchStep ?step ;
        mtus:appliedRuleDate ?rule_date ; mtus:appliedEdition ?applied_edition ;
        mtus:morphineEquivalentDailyDose ?morphine ; mtus:criterionResult ?result ; mtus:formularyAnswer ?answer .
  ?result mtus:summaryOf ?d ; mtus:criterion ?criterion ; mtus:criterionStatus ?status .
  ?answer mtus:summaryOf ?d ; mtus:formularyRule ?rule ; mtus:formularyStatus ?formulary_status ;
          mtus:prospectiveReviewRequired ?required ; mtus:formularyListVersion ?list_version .
"""

# One UNION branch per kind of subject (no cross product of results and answers), each whole
# (no variable bound from outside it); every optional fact in its own OPTIONAL, so a missing one
# leaves the others.
WHERE = """
  {
    GRAPH ?d { ?d a mtus:Determination ; prov:wasDerivedFrom ?case ; mtus:rulebaseVersion ?version ;
                  mtus:itemDecision ?item . ?item mtus:aboutRequest ?request ; mtus:decision ?decision
               OPTIONAL { ?d mtus:edition ?edition }
               OPTIONAL { ?item mtus:urGuidelineMismatch ?mismatch }
               OPTIONAL { ?item mtus:citedGuideline ?cited_as }
               OPTIONAL { ?item mtus:appliedSection ?section }
               OPTIONAL { ?item mtus:searchStep ?step }
               OPTIONAL { ?item mtus:appliedRuleDate ?rule_date }
               OPTIONAL { ?item mtus:appliedEdition ?applied_edition }
               OPTIONAL { ?request mtus:morphineEquivalentDailyDose ?morphine } }
    GRAPH ?case {
      ?case a mtus:Case
      OPTIONAL { ?case mtus:identifier ?case_id }
      OPTIONAL { ?case mtus:reviewDate ?review }
      OPTIONAL { ?request mtus:identifier ?request_id }
      OPTIONAL { ?request mtus:service ?service }
      OPTIONAL { ?request mtus:region ?region }
      OPTIONAL { ?request mtus:drug ?drug }
      OPTIONAL { ?request mtus:prospectiveReview ?review_obtained }
      OPTIONAL { ?request mtus:utilizationReview/mtus:guidelineCited ?ur_cited }
    }
  } UNION {
    GRAPH ?d { ?d a mtus:Determination ; mtus:itemDecision ?item .
               ?item mtus:criterionResult ?result . ?result mtus:criterion ?criterion ; mtus:criterionStatus ?status }
  } UNION {
    GRAPH ?d { ?d a mtus:Determination ; mtus:itemDecision ?item . ?item mtus:formularyAnswer ?answer
               OPTIONAL { ?answer mtus:formularyRule ?rule }
               OPTIONAL { ?answer mtus:formularyStatus ?formulary_status }
               OPTIONAL { ?answer mtus:prospectiveReviewRequired ?required }
               OPTIONAL { ?answer mtus:formularyListVersion ?list_version } }
  }
"""


MARKER = f"<{GRAPH}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/mtus/ontology#SummaryGraph>"


def _values(determinations: Iterable[str]) -> str:
    names = " ".join(f"<{d}>" for d in determinations)
    return f"VALUES ?d {{ {names} }}\n" if names else ""


def summary_nquads(graphs_nquads: str) -> str:
    """The summary quads (in the summary graph) of the case and determination graphs given as
    N-Quads (a round of records), computed on an in-memory store of those quads alone."""
    scratch = ox.Store()
    scratch.load(graphs_nquads, ox.RdfFormat.N_QUADS)
    triples = scratch.query(PROLOGUE + f"CONSTRUCT {{{TEMPLATE}}} WHERE {{{WHERE}}}")
    assert isinstance(triples, ox.QueryTriples)
    text = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8") + f"{MARKER} .\n"
    return text.replace(" .\n", f" <{GRAPH}> .\n")


def summary_ntriples(graphs_nquads: str) -> str:
    """The same summary as N-Triples (for an INSERT DATA into the summary graph)."""
    return summary_nquads(graphs_nquads).replace(f" <{GRAPH}> .\n", " .\n")


def delete_update(determinations: Iterable[str]) -> str:
    """A SPARQL update deleting the summary of the given determinations (by IRI)."""
    values = _values(determinations)
    if not values:
        return ""
    return (f"DELETE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ {values}"
            f"GRAPH <{GRAPH}> {{ ?s mtus:summaryOf ?d ; ?p ?o }} }}")


def delete_of_case_update(case_iri: str) -> str:
    """A SPARQL update deleting the summary of every stored determination of a case."""
    return (f"DELETE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?d {{ ?d a mtus:Determination ; "
            f"prov:wasDerivedFrom <{case_iri}> }} GRAPH <{GRAPH}> {{ ?s mtus:summaryOf ?d ; ?p ?o }} }}")


def rebuild_update() -> str:
    """A SPARQL update that drops the summary graph and derives it again from every stored
    case and determination (a store written before the summary existed, or bulk-loaded)."""
    return (PROLOGUE + f"DROP SILENT GRAPH <{GRAPH}> ;\n"
            f"INSERT {{ GRAPH <{GRAPH}> {{{TEMPLATE}}} }} WHERE {{{WHERE}}} ;\n"
            f"INSERT DATA {{ GRAPH <{GRAPH}> {{ {MARKER} }} }} ;\n" + tally.bump_update())


def rebuild(store: Backend) -> None:
    """Derive the summary graph of ``store`` from its stored graphs (one update)."""
    store.update(rebuild_update())


def ensure(store: Backend) -> bool:
    """Rebuild the summary of a store that holds determinations but was written without it
    (by an earlier version, or bulk-loaded); True if it was rebuilt. The summary graph's marker
    (``mtus:SummaryGraph``) is written with every summary."""
    if store.select(f"ASK {{ GRAPH <{GRAPH}> {{ {MARKER} }} }}").boolean:
        return False
    if not store.select(PROLOGUE + "ASK { GRAPH ?d { ?d a mtus:Determination } }").boolean:
        return False
    rebuild(store)
    return True
