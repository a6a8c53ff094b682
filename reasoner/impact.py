"""Impact of a rule change: ``mtus impact --store PATH --rules DIR [--as-of DATE]``.

Every case in the store is evaluated again, from its stored case graph, against another rule
base (a changed copy of ontology/, kb/ and shapes/), or as if reviewed on another date (so under
the edition then in force); its item decisions are compared with the stored determination, and
each decision that would flip is listed with the criteria whose state changed (the criteria
responsible), or the change of section when another section (or none) would apply. The store
is not changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rdflib import Graph, Literal
from rdflib.namespace import XSD

from . import api, rulebase
from .decisions import MET
from .errors import EXIT_INPUT, EXIT_OK, IntakeError, MtusError
from .namespaces import MTUS, local_name
from .rulebase import RuleBase
from .store import open_store, records
from .store.records import PROLOGUE, Backend

Statuses = dict[str, str]


@dataclass(frozen=True)
class ItemOutcome:
    service: str
    decision: str
    section: str | None
    criteria: tuple[tuple[str, str], ...]  # top-level criterion id and status


@dataclass(frozen=True)
class Flip:
    case_id: str
    request_id: str
    service: str
    before: str
    after: str
    section_before: str | None
    section_after: str | None
    responsible: tuple[tuple[str, str, str], ...]  # criterion id, status before, status after

    def reason(self) -> str:
        if self.section_before != self.section_after:
            return f"section {self.section_before or '(none)'} -> {self.section_after or '(none)'}"
        return "; ".join(f"{c}: {b} -> {a}" for c, b, a in self.responsible) or "(no criterion state changed)"


@dataclass
class Impact:
    cases: int = 0
    flips: list[Flip] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


_OUTCOMES = PROLOGUE + """SELECT ?case ?request_id ?service ?decision ?section ?criterion ?status WHERE {
  GRAPH ?d { ?d a mtus:Determination ; prov:wasDerivedFrom ?case ; mtus:itemDecision ?item .
             ?item mtus:aboutRequest ?request ; mtus:decision ?decision .
             OPTIONAL { ?item mtus:appliedSection ?section }
             OPTIONAL { ?item mtus:criterionResult ?result . ?result mtus:criterion ?criterion ;
                        mtus:criterionStatus ?status } }
  GRAPH ?case { ?request mtus:identifier ?request_id ; mtus:service ?service }
}"""


def stored_outcomes(store: Backend) -> dict[str, dict[str, ItemOutcome]]:
    """Per case IRI and request id, the stored decision and the states of its top-level criteria."""
    raw: dict[str, dict[str, tuple[str, str, str | None, dict[str, str]]]] = {}
    for case, request_id, service, decision, section, criterion, status in store.select(_OUTCOMES).rows:
        items = raw.setdefault(str(case), {})
        entry = items.setdefault(str(request_id), (local_name(service), local_name(decision),
                                                   local_name(section) if section is not None else None, {}))
        if criterion is not None and status is not None:
            entry[3][local_name(criterion)] = local_name(status)
    return {case: {rid: ItemOutcome(s, d, sec, tuple(sorted(crit.items()))) for rid, (s, d, sec, crit) in items.items()}
            for case, items in raw.items()}


def outcomes(graph: Graph, rb: RuleBase, as_of: dt.date | None = None) -> dict[str, ItemOutcome]:
    """Evaluate a stored case graph (optionally as if reviewed on ``as_of``)."""
    if as_of is not None:
        for case in list(graph.subjects(MTUS.reviewDate, None)):
            graph.set((case, MTUS.reviewDate, Literal(as_of.isoformat(), datatype=XSD.date)))
    det = api.evaluate(graph, rb)
    return {item.request_id: ItemOutcome(local_name(item.service), item.decision,
                                         local_name(item.section.iri) if item.section else None,
                                         tuple(sorted((local_name(r.criterion.iri), r.status) for r in item.criteria)))
            for item in det.items}


def compare(case_id: str, before: dict[str, ItemOutcome], after: dict[str, ItemOutcome]) -> list[Flip]:
    flips = []
    for request_id in sorted(before, key=lambda r: (len(r), r)):
        old, new = before[request_id], after.get(request_id)
        if new is None or old.decision == new.decision:
            continue
        old_states, new_states = dict(old.criteria), dict(new.criteria)
        changed = tuple((c, old_states.get(c, "absent"), new_states.get(c, "absent"))
                        for c in sorted(set(old_states) | set(new_states))
                        if old_states.get(c) != new_states.get(c)
                        and (old_states.get(c, MET) != MET or new_states.get(c, MET) != MET))
        flips.append(Flip(case_id, request_id, old.service, old.decision, new.decision,
                          old.section, new.section, changed))
    return flips


_RULES: RuleBase | None = None


def _init(root: Path) -> None:
    global _RULES
    _RULES = rulebase.get(root)


def _work(job: tuple[str, str, dt.date | None], rb: RuleBase | None = None
          ) -> tuple[str, dict[str, ItemOutcome] | None, str | None]:
    case_iri, ntriples, as_of = job
    rules = rb or _RULES
    assert rules is not None
    try:
        return case_iri, outcomes(Graph().parse(data=ntriples, format="nt"), rules, as_of), None
    except IntakeError as exc:
        return case_iri, None, str(exc)


def _evaluate(jobs: list[tuple[str, str, dt.date | None]], rb: RuleBase, workers: int
              ) -> Iterator[tuple[str, dict[str, ItemOutcome] | None, str | None]]:
    if workers <= 1 or len(jobs) <= 1:
        yield from (_work(job, rb) for job in jobs)
        return
    from .batch import worker_pool

    with worker_pool(rb, workers, _init) as pool:
        yield from pool.map(_work, jobs, chunksize=4)


def run(store: Backend, rb: RuleBase, as_of: dt.date | None = None, workers: int = 1) -> Impact:
    """Re-evaluate every stored case against ``rb``; the decisions that would flip."""
    before = stored_outcomes(store)
    stored = records.stored_cases(store)
    names = {str(c.case_iri): c.case_id for c in stored}
    jobs = [(str(c.case_iri), records.case_graph(store, c.case_iri).serialize(format="nt"), as_of) for c in stored]
    impact = Impact(cases=len(jobs))
    for case_iri, after, error in _evaluate(jobs, rb, workers):
        case_id = names.get(case_iri, case_iri)
        if after is None:
            impact.failures.append((case_id, error or "failed"))
            continue
        impact.flips += compare(case_id, before.get(case_iri, {}), after)
    impact.flips.sort(key=lambda f: (f.case_id, len(f.request_id), f.request_id))
    return impact


def render(impact: Impact, fmt: str, rb: RuleBase) -> str:
    if fmt == "json":
        return json.dumps({"cases": impact.cases, "rulebase_version": rb.version,
                           "flips": [asdict(f) | {"reason": f.reason()} for f in impact.flips],
                           "failures": [{"case": c, "error": e} for c, e in impact.failures]}, indent=2) + "\n"
    rows = [(f.case_id, f.request_id, f.service, f.before, f.after, f.reason()) for f in impact.flips]
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["case", "request", "service", "before", "after", "responsible"])
        writer.writerows(rows)
        return out.getvalue()
    header = ("case", "request", "service", "before", "after", "responsible")
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    way = {(b, a): sum(1 for f in impact.flips if (f.before, f.after) == (b, a))
           for b, a in {(f.before, f.after) for f in impact.flips}}
    ways = ", ".join(f"{n} {b} -> {a}" for (b, a), n in sorted(way.items()))
    lines.append(f"mtus impact: {impact.cases} stored case(s) re-evaluated against rule base {rb.version} "
                 f"({rb.root}): {len(impact.flips)} item decision(s) would flip" + (f" ({ways})" if ways else ""))
    lines += [f"  failed: {c}: {e}" for c, e in impact.failures]
    return "\n".join(lines) + "\n"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD; got {text!r}") from None


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .batch import add_store_arguments, jobs_count

    parser = sub.add_parser("impact", help="which stored determinations would flip under another rule base or date")
    add_store_arguments(parser)
    parser.add_argument("--rules", dest="new_rules", type=Path, default=None, metavar="DIR",
                        help="the changed rule base (a folder with ontology/, kb/, shapes/; default: the bundled one)")
    parser.add_argument("--as-of", type=_date, default=None, metavar="DATE",
                        help="re-evaluate as if reviewed on DATE (the edition in force then; durations to DATE)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--jobs", type=jobs_count, default=1, metavar="N", help="worker processes (default 1)")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    if args.new_rules is not None and not (args.new_rules / "kb").is_dir():
        raise MtusError(f"--rules {args.new_rules}: expected a rule-base folder holding ontology/, kb/ and shapes/")
    rb = rulebase.get(args.new_rules)
    store = open_store(args.store, args.endpoint, args.update_endpoint, create=False)
    try:
        impact = run(store, rb, args.as_of, args.jobs)
    finally:
        store.close()
    sys.stdout.write(render(impact, args.format, rb))
    return EXIT_INPUT if impact.failures else EXIT_OK
