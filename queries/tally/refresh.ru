# The analysts' tally: counts of the summary graph, pre-aggregated for the library's counting
# queries (reasoner/store/tally.py runs this update; docs/analysts.md, "The tally graph").
# Each block below computes one kind of tally row from <https://w3id.org/mtus/store/summary>
# with the aggregates of the library query that reads it, grouped by that query's keys (and by
# the rule-base version where the query joins the rule base, so the join stays in the query).
# A key the summary leaves unbound (no region stated, no edition) is left out of the row.
# The last block stamps the tally with the store generation it was computed at; the whole
# update is one transaction.
PREFIX mtus: <https://w3id.org/mtus/ontology#>
PREFIX code: <https://w3id.org/mtus/code/>

DROP SILENT GRAPH <https://w3id.org/mtus/store/tally> ;

# determinations-by-rule-base-version-and-edition
INSERT { GRAPH <https://w3id.org/mtus/store/tally> {
  _:row a mtus:EditionTally ; mtus:rulebaseVersion ?version ; mtus:edition ?edition ;
        mtus:determinationCount ?determinations ; mtus:itemCount ?items ; mtus:overturnedCount ?overturned } }
WHERE {
  SELECT ?version ?edition (COUNT(DISTINCT ?d) AS ?determinations) (COUNT(?item) AS ?items)
         (SUM(IF(?decision = code:overturned, 1, 0)) AS ?overturned)
  WHERE {
    GRAPH <https://w3id.org/mtus/store/summary> {
      ?item mtus:summaryOf ?d ; mtus:rulebaseVersion ?version ; mtus:decision ?decision .
      OPTIONAL { ?item mtus:edition ?edition }
    }
  }
  GROUP BY ?version ?edition
} ;

# overturn-rate-by-service-region-and-period (by review date, so that any period can be summed)
INSERT { GRAPH <https://w3id.org/mtus/store/tally> {
  _:row a mtus:OverturnTally ; mtus:service ?service ; mtus:region ?stated ; mtus:caseReviewDate ?review ;
        mtus:decision ?decision ; mtus:itemCount ?items } }
WHERE {
  SELECT ?service ?stated ?review ?decision (COUNT(?item) AS ?items)
  WHERE {
    GRAPH <https://w3id.org/mtus/store/summary> {
      ?item mtus:decision ?decision ; mtus:caseReviewDate ?review ; mtus:service ?service .
      OPTIONAL { ?item mtus:region ?stated }
      FILTER(?decision != code:not_addressed)
    }
  }
  GROUP BY ?service ?stated ?review ?decision
} ;

# how-many-decisions-each-criterion-decided
INSERT { GRAPH <https://w3id.org/mtus/store/tally> {
  _:row a mtus:CriterionTally ; mtus:appliedSection ?section ; mtus:criterion ?criterion ;
        mtus:evaluatedCount ?evaluated ; mtus:heldBackCount ?upheld_items ; mtus:onlyReasonCount ?only_reason } }
WHERE {
  SELECT ?section ?criterion (COUNT(?result) AS ?evaluated) (SUM(?unmet) AS ?upheld_items) (SUM(?only) AS ?only_reason)
  WHERE {
    GRAPH <https://w3id.org/mtus/store/summary> {
      ?item mtus:appliedSection ?section ; mtus:criterionResult ?result .
      ?result mtus:criterion ?criterion ; mtus:criterionStatus ?status .
    }
    OPTIONAL {
      SELECT ?item (COUNT(?unmet_result) AS ?unmet_count)
      WHERE { GRAPH <https://w3id.org/mtus/store/summary> {
        ?item mtus:criterionResult ?unmet_result . ?unmet_result mtus:criterionStatus ?unmet_status .
        FILTER(?unmet_status IN (code:not_met, code:not_documented)) } }
      GROUP BY ?item
    }
    BIND(IF(?status IN (code:not_met, code:not_documented), 1, 0) AS ?unmet)
    BIND(IF(?unmet = 1 && ?unmet_count = 1, 1, 0) AS ?only)
  }
  GROUP BY ?section ?criterion
} ;

# most-frequent-unmet-criteria-per-service (per version: the query joins the shortfall)
INSERT { GRAPH <https://w3id.org/mtus/store/tally> {
  _:row a mtus:UnmetCriterionTally ; mtus:service ?service ; mtus:rulebaseVersion ?version ; mtus:criterion ?criterion ;
        mtus:itemCount ?items ; mtus:notMetCount ?not_met ; mtus:notDocumentedCount ?not_documented } }
WHERE {
  SELECT ?service ?version ?criterion (COUNT(DISTINCT ?item) AS ?items)
         (SUM(IF(?status = code:not_met, 1, 0)) AS ?not_met)
         (SUM(IF(?status = code:not_documented, 1, 0)) AS ?not_documented)
  WHERE {
    GRAPH <https://w3id.org/mtus/store/summary> {
      ?item mtus:service ?service ; mtus:rulebaseVersion ?version ; mtus:criterionResult ?result .
      ?result mtus:criterion ?criterion ; mtus:criterionStatus ?status .
      FILTER(?status != code:met)
    }
  }
  GROUP BY ?service ?version ?criterion
} ;

# medication-items-dispensed-without-review-by-formulary-rule
INSERT { GRAPH <https://w3id.org/mtus/store/tally> {
  _:row a mtus:FormularyRuleTally ; mtus:formularyRule ?rule ; mtus:formularyStatus ?status ;
        mtus:prospectiveReviewRequired ?required ; mtus:itemCount ?items } }
WHERE {
  SELECT ?rule ?status ?required (COUNT(DISTINCT ?item) AS ?items)
  WHERE {
    GRAPH <https://w3id.org/mtus/store/summary> {
      ?item mtus:formularyAnswer ?answer .
      ?answer mtus:formularyRule ?rule ; mtus:formularyStatus ?status ; mtus:prospectiveReviewRequired ?required .
    }
  }
  GROUP BY ?rule ?status ?required
} ;

# medication-items-needing-review-by-drug-list-version
INSERT { GRAPH <https://w3id.org/mtus/store/tally> {
  _:row a mtus:DrugListTally ; mtus:formularyListVersion ?list_version ; mtus:formularyRule ?rule ;
        mtus:prospectiveReviewRequired ?required ; mtus:itemCount ?items } }
WHERE {
  SELECT ?list_version ?rule ?required (COUNT(DISTINCT ?item) AS ?items)
  WHERE {
    GRAPH <https://w3id.org/mtus/store/summary> {
      ?item mtus:formularyAnswer ?answer .
      ?answer mtus:formularyRule ?rule ; mtus:prospectiveReviewRequired ?required .
      OPTIONAL { ?answer mtus:formularyListVersion ?list_version }
    }
  }
  GROUP BY ?list_version ?rule ?required
} ;

# the stamp: the store generation these counts were computed at (0 for a store that has none)
INSERT { GRAPH <https://w3id.org/mtus/store/tally> {
  <https://w3id.org/mtus/store/tally> a mtus:TallyGraph ; mtus:storeGeneration ?generation } }
WHERE {
  OPTIONAL { GRAPH <https://w3id.org/mtus/store/state> { <https://w3id.org/mtus/store> mtus:storeGeneration ?stated } }
  BIND(COALESCE(?stated, 0) AS ?generation)
}
