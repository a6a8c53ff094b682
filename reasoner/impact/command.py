"""``mtus impact``: its arguments, their checks, and the run.

    mtus impact [--store PATH | --endpoint URL] [--rules DIR] [--against REV] [--as-of DATE]
                [--section ID] [--service CODE] [--from DATE] [--to DATE]
                [--format text|json] [--wording] [--jobs N] [--engine fast|reference]
    mtus impact --drug-lists FROM TO [--store PATH | --endpoint URL] [--format text|json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import sys
import tempfile
from pathlib import Path

from rdflib import URIRef
from rdflib.namespace import RDF

from .. import rulebase
from ..errors import EXIT_INPUT, EXIT_OK, MtusError
from ..namespaces import CODE, KB, MTUS, local_name
from ..rulebase import RuleBase
from ..store import open_store
from . import report, revision
from .evaluation import ENGINES
from .stored import Filters


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD; got {text!r}") from None


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..batch import add_store_arguments, jobs_count

    parser = sub.add_parser("impact", help="which stored determinations would change under the current rule base "
                                           "(or another date), against the stored ones or a git revision")
    add_store_arguments(parser)
    parser.add_argument("--rules", dest="new_rules", type=Path, default=None, metavar="DIR",
                        help="the rule base to evaluate (a folder with ontology/, kb/, shapes/; default: the "
                             "checkout's or the bundled one)")
    parser.add_argument("--against", metavar="REV",
                        help="compare with the rule base of this git revision of the checkout (HEAD, main~3, a "
                             "commit) instead of the stored determinations")
    parser.add_argument("--as-of", type=_date, default=None, metavar="DATE",
                        help="decide the cases under the rules in force on DATE: every item's rule date is DATE (its "
                             "edition the one DATE falls under); durations still end on the stored review date")
    parser.add_argument("--section", metavar="ID", help="only items that apply this section (kb id), before or after")
    parser.add_argument("--service", metavar="CODE", help="only items requesting this service (code)")
    parser.add_argument("--from", dest="date_from", type=_date, metavar="DATE",
                        help="only cases reviewed on or after DATE (the stored review date)")
    parser.add_argument("--to", dest="date_to", type=_date, metavar="DATE",
                        help="only cases reviewed on or before DATE (the stored review date)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--wording", action="store_true",
                        help="also list the items whose wording changes without a decision flip")
    parser.add_argument("--jobs", type=jobs_count, default=1, metavar="N", help="worker processes (default 1)")
    parser.add_argument("--engine", choices=ENGINES, default="fast",
                        help="fast (default): the fast path, in rounds of up to 128 cases; reference: rdflib "
                             "and pySHACL, one case at a time (the same results, slower)")
    parser.add_argument("--drug-lists", nargs=2, metavar=("FROM", "TO"), default=None,
                        help="the effect of an MTUS Drug List update: the drug codes whose entry differs between "
                             "two list versions (v6 v7), and, with a store, the stored medication items decided "
                             "under FROM whose formulary answer TO's entries would change")
    parser.set_defaults(handler=main)


def _nearest(word: str, known: set[str]) -> str:
    near = difflib.get_close_matches(word, sorted(known), n=3, cutoff=0.5)
    return f" (did you mean: {', '.join(near)}?)" if near else ""


def _local(text: str, prefix: str) -> str:
    return text[len(prefix) + 1:] if text.startswith(prefix + ":") else text


def filters(args: argparse.Namespace, rules: tuple[RuleBase, ...]) -> Filters:
    """The filters of the arguments, checked against the rule bases compared."""
    service = section = None
    around: set[URIRef] = set()
    if args.service is not None:
        service = CODE[_local(args.service, "code")]
        known = {s for rb in rules for s in rb.closure.subjects(RDF.type, MTUS.Service) if isinstance(s, URIRef)}
        if service not in known:
            raise MtusError(f"--service {args.service}: not a service code of the rule base"
                            + _nearest(args.service, {local_name(s) for s in known}))
    if args.section is not None:
        section = KB[_local(args.section, "kb")]
        found = [(rb, rb.catalog.sections[section]) for rb in rules if section in rb.catalog.sections]
        if not found:
            names = {local_name(s) for rb in rules for s in rb.catalog.sections}
            raise MtusError(f"--section {args.section}: not a guideline section of the rule base"
                            + _nearest(_local(args.section, "kb"), names))
        for rb, known_section in found:
            for addressed in known_section.services:
                around.add(addressed)
                around |= {s for s in rb.closure.subjects(MTUS.broader, addressed) if isinstance(s, URIRef)}
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise MtusError(f"--from {args.date_from} is after --to {args.date_to}")
    return Filters(service, section, tuple(sorted(around)), args.date_from, args.date_to)


def _rules_root(args: argparse.Namespace) -> Path | None:
    root: Path | None = args.new_rules if args.new_rules is not None else args.rules
    if root is not None and not (root / "kb").is_dir():
        raise MtusError(f"--rules {root}: expected a rule-base folder holding ontology/, kb/ and shapes/")
    return root


def _drug_lists(args: argparse.Namespace, root: Path | None) -> int:
    from . import drug_lists

    rb = rulebase.get(root)
    try:
        store = open_store(args.store, args.endpoint, args.update_endpoint, create=False)
    except MtusError:
        store = None  # no store yet: the list's changes only
    try:
        impact = drug_lists.run(rb, args.drug_lists[0], args.drug_lists[1], store)
    finally:
        if store is not None:
            store.close()
    sys.stdout.write(drug_lists.as_json(impact) if args.format == "json" else drug_lists.text(impact))
    return EXIT_OK


def main(args: argparse.Namespace) -> int:
    root = _rules_root(args)
    if args.drug_lists is not None:
        return _drug_lists(args, root)
    with tempfile.TemporaryDirectory(prefix="mtus-impact-") as tmp:
        against = baseline = None
        if args.against is not None:  # the revision first: a bad one is reported before any loading
            rev = revision.extract((root or rulebase.default_root()).resolve(), args.against, Path(tmp))
            against = rulebase.get(rev.root)
            baseline = f"rule base {against.version} at {rev.name} ({rev.commit[:12]})"
        rb = rulebase.get(root)
        chosen = filters(args, (rb,) if against is None else (rb, against))
        store = open_store(args.store, args.endpoint, args.update_endpoint, create=False)
        try:
            from . import run

            impact = run(store, rb, args.as_of, args.jobs, against=against, baseline=baseline, filters=chosen,
                         engine=args.engine)
        finally:
            store.close()
    sys.stdout.write(report.as_json(impact) if args.format == "json" else report.text(impact, args.wording))
    return EXIT_INPUT if impact.failures else EXIT_OK
