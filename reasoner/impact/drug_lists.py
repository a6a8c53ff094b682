"""``mtus impact --drug-lists FROM TO``: the effect of an MTUS Drug List update.

Two answers: what the update changes in the list (per drug code of the case format: its
status, Special Fill and Perioperative Fill days, whether it is listed; read from
kb/formulary/, nothing decided here), and, with a store, which stored medication items decided
under FROM would get another formulary answer had TO's entries been in force: each such case is
evaluated twice on the reference path, under the rule base and under a copy in which FROM reads
TO's entries (``mtus:entriesOf``), and the two formulary answers are compared. The formulary
rules decide both times; the store is never changed.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass
from typing import Any, cast

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS
from rdflib.term import Node

from .. import api
from ..errors import MtusError
from ..namespaces import MTUS, PREFIXES, local_name
from ..rulebase import RuleBase
from ..store.records import Backend, case_graph

_ENTRIES = """
SELECT ?drug ?status ?special ?perioperative ?combination WHERE {
  ?version mtus:entriesOf/mtus:entry ?entry .
  ?entry mtus:listedDrug ?drug ; mtus:listStatus ?status .
  OPTIONAL { ?entry mtus:specialFillDays ?special }
  OPTIONAL { ?entry mtus:perioperativeFillDays ?perioperative }
  OPTIONAL { ?entry mtus:combinationListed ?combination }
}"""

_STORED = """
SELECT DISTINCT ?case ?request WHERE {
  GRAPH ?d {
    ?d prov:wasDerivedFrom ?case ; mtus:itemDecision ?item .
    ?item mtus:aboutRequest ?request ; mtus:formularyAnswer ?answer .
    ?answer mtus:formularyListVersion ?version .
  }
} ORDER BY ?case ?request"""


@dataclass(frozen=True)
class EntryChange:
    """A drug code whose list entry differs between the two versions."""

    drug: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class ItemChange:
    """A stored medication item whose formulary answer would differ."""

    case: str
    request: str
    drug: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class ListImpact:
    before: str
    after: str
    entries: tuple[EntryChange, ...]
    items: tuple[ItemChange, ...]
    items_checked: int
    store: str | None


def version(rb: RuleBase, name: str) -> URIRef:
    """The Drug List version named ``name`` (``v7``, ``kb:drug-list-v7``)."""
    names = {str(v): s for s, v in rb.kb.subject_objects(MTUS.versionName) if isinstance(s, URIRef)}
    local = name.split(":", 1)[-1]
    for text, node in names.items():
        if name == text or local == local_name(node):
            return node
    near = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.5)
    raise MtusError(f"--drug-lists {name}: not a Drug List version of the rule base"
                    + (f" (did you mean: {', '.join(near)}?)" if near else f" (known: {', '.join(sorted(names))})"))


def entries(rb: RuleBase, list_version: URIRef) -> dict[str, dict[str, Any]]:
    """Each listed drug code of a version (through its transcribed entries) with its columns."""
    out: dict[str, dict[str, Any]] = {}
    for row in rb.kb.query(_ENTRIES, initNs=dict(PREFIXES), initBindings={"version": list_version}):
        drug, status, special, perioperative, combination = cast(tuple[Node, Node, Node, Node, Node], row)
        out[local_name(drug)] = {
            "status": _notation(rb, status),
            "special_fill_days": special.toPython() if isinstance(special, Literal) else None,
            "perioperative_fill_days": perioperative.toPython() if isinstance(perioperative, Literal) else None,
            "combination_listed": bool(combination.toPython()) if isinstance(combination, Literal) else False,
        }
    return out


def _notation(rb: RuleBase, node: Any) -> str:
    value = rb.closure.value(node, SKOS.notation)
    return str(value) if value is not None else local_name(node)


def list_changes(rb: RuleBase, before: URIRef, after: URIRef) -> tuple[EntryChange, ...]:
    """Every drug code whose entry differs between the versions (absent: unlisted)."""
    a, b = entries(rb, before), entries(rb, after)
    unlisted = {"status": "unlisted"}
    return tuple(EntryChange(drug, a.get(drug, unlisted), b.get(drug, unlisted))
                 for drug in sorted(set(a) | set(b)) if a.get(drug, unlisted) != b.get(drug, unlisted))


def as_if(rb: RuleBase, before: URIRef, after: URIRef) -> RuleBase:
    """A copy of the rule base in which ``before`` reads the entries ``after`` reads."""
    reading = rb.kb.value(after, MTUS.entriesOf)
    if reading is None:
        raise MtusError(f"{local_name(after)}: a Drug List version without mtus:entriesOf")
    kb, reference = Graph(), Graph()
    kb += rb.kb
    reference += rb.reference
    for graph in (kb, reference):
        graph.remove((before, MTUS.entriesOf, None))
        graph.add((before, MTUS.entriesOf, reading))
    return dataclasses.replace(rb, kb=kb, reference=reference, digest=f"{rb.digest}-as-if", build_id=f"{rb.build_id}-as-if")


def stored_changes(store: Backend, rb: RuleBase, before: URIRef, after: URIRef) -> tuple[tuple[ItemChange, ...], int]:
    """The stored medication items decided under ``before`` whose formulary answer differs under
    ``after``'s entries, and how many items were checked."""
    rows = store.select("\n".join(f"PREFIX {p}: <{ns}>" for p, ns in PREFIXES.items()) + _STORED,
                        {"version": before}).rows
    cases: dict[URIRef, set[str]] = {}
    for case, request in rows:
        cases.setdefault(URIRef(str(case)), set()).add(str(request))
    changed_rb = as_if(rb, before, after)
    changes: list[ItemChange] = []
    for case in sorted(cases):
        graph = case_graph(store, case)
        now, then = api.evaluate(graph, rb), api.evaluate(graph, changed_rb)
        for old, new in zip(now.items, then.items):
            if str(old.request) not in cases[case] or old.formulary is None or new.formulary is None:
                continue
            a, b = old.formulary.as_json(), new.formulary.as_json()
            a.pop("list_version"), b.pop("list_version")
            if a != b:
                drug = graph.value(old.request, MTUS.drug)
                changes.append(ItemChange(now.case_id, old.request_id, local_name(drug) if drug else "", a, b))
    return tuple(changes), sum(len(r) for r in cases.values())


def run(rb: RuleBase, before_name: str, after_name: str, store: Backend | None) -> ListImpact:
    before, after = version(rb, before_name), version(rb, after_name)
    items, checked = stored_changes(store, rb, before, after) if store is not None else ((), 0)
    return ListImpact(str(rb.kb.value(before, MTUS.versionName)), str(rb.kb.value(after, MTUS.versionName)),
                      list_changes(rb, before, after), items, checked,
                      getattr(store, "description", None) if store is not None else None)


def _columns(entry: dict[str, Any]) -> str:
    parts = [entry["status"]]
    if entry.get("special_fill_days"):
        parts.append(f"Special Fill {entry['special_fill_days']} days")
    if entry.get("perioperative_fill_days"):
        parts.append(f"Perioperative Fill {entry['perioperative_fill_days']} days")
    return ", ".join(parts)


def _review(answer: dict[str, Any]) -> str:
    required = answer.get("prospective_review_required")
    return "outside the formulary" if required is None else "review required" if required else "no review required"


def text(impact: ListImpact) -> str:
    lines = [f"MTUS Drug List {impact.before} -> {impact.after}: {len(impact.entries)} drug code(s) change"]
    lines += [f"  {c.drug}: {_columns(c.before)} -> {_columns(c.after)}" for c in impact.entries]
    if impact.store is None:
        lines.append("No store: stored items not checked.")
    else:
        lines.append(f"Stored medication items decided under {impact.before}: {impact.items_checked}; "
                     f"formulary answer changed: {len(impact.items)}")
        for item in impact.items:
            lines.append(f"  case {item.case} request {item.request} ({item.drug}): {item.before['rule']} "
                         f"({_review(item.before)}) -> {item.after['rule']} ({_review(item.after)})")
    return "\n".join(lines) + "\n"


def as_json(impact: ListImpact) -> str:
    return json.dumps(dataclasses.asdict(impact), indent=2) + "\n"


__all__ = ["EntryChange", "ItemChange", "ListImpact", "as_json", "run", "text"]
