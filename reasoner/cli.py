"""The ``mtus`` command: ``mtus evaluate CASE... [--format ...] [--output FILE]``, ``mtus explain CASE``,
``mtus lint`` and ``mtus docs``; for analysts ``mtus batch``, ``mtus query``, ``mtus impact`` and ``mtus generate``;
``mtus serve`` (the HTTP service and web UI)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

from . import engines, exports, letters, rulebase
from .determination import Determination
from .errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, IntakeError, MtusError
from .texts import Texts

FORMATS = ("letter", "markdown", "json", "turtle", "html", "pdf", "fhir")


def _parser(only_evaluate: bool = False) -> argparse.ArgumentParser:
    """The command line; ``only_evaluate``: the evaluate command alone, without importing the
    other commands' modules (a cold ``mtus evaluate`` starts faster)."""
    parser = argparse.ArgumentParser(prog="mtus", description="California MTUS guideline reasoner.")
    parser.add_argument("--rules", type=Path, default=None,
                        help="rule-base folder holding ontology/, kb/, shapes/ (default: the bundled one)")
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="decide every requested item of one or more cases")
    ev.add_argument("cases", nargs="+", type=Path, help="case files (.yaml, .yml, .json, .jsonld, .ttl)")
    ev.add_argument("--format", choices=FORMATS, default="letter")
    ev.add_argument("--output", type=Path, help="write here instead of standard output (only if every case is valid)")
    ev.add_argument("--as-of", dest="as_of", type=_as_of_date, default=None, metavar="DATE",
                    help="decide under the rules in force on DATE (every item's rule date; durations still end "
                         "on the review date)")
    ev.add_argument("--counterfactual", action="store_true",
                    help="add each item's verified counterfactuals (YAML or JSON cases; see mtus explain --counterfactual)")
    ev.add_argument("--engine", choices=[e.value for e in engines.EngineName], default=engines.EngineName.FAST.value,
                    help="fast path (default) or the reference path (rdflib + pySHACL); same decisions")
    ev.add_argument("--verbose", action="store_true",
                    help="with an intake error, also show the value found (messages never show it otherwise)")
    ev.add_argument("--answers", type=Path, default=None, metavar="QR.json",
                    help="a FHIR QuestionnaireResponse to the case's Questionnaire (mtus questionnaire): the "
                         "case completed by its answers is decided (one case)")
    if only_evaluate:
        return parser
    from . import batch, docs, explain, generator, impact, querylib, schemas

    sub.add_parser("sections", help="list the encoded guideline sections with their criteria counts (Markdown)")
    lint = sub.add_parser("lint", help="check the rule base: links, thresholds, derived properties, duplicates, "
                          "sources, SHACL-SHACL, house style, test-case coverage, rule arithmetic, HermiT")
    lint.add_argument("--no-hermit", action="store_true", help="skip the HermiT consistency check (needs Java)")
    lint.add_argument("--section", metavar="ID", default=None,
                      help="check one guideline section (its kb local name, e.g. cpmtg-2009-tpi): its criteria, "
                           "shapes, thresholds, the rules its shapes read and its cases (no HermiT)")
    lint.add_argument("--check", metavar="NAME", action="append", default=[],
                      help="run only this check (repeatable; e.g. --check sources)")
    lint.add_argument("--cases", type=Path, default=None,
                      help="test-case folder for the coverage check (default: tests/cases of the rule base)")
    explain.add_parser(sub)
    docs.add_parser(sub)
    for analyst_command in (batch, querylib, impact, generator, schemas):
        analyst_command.add_parser(sub)
    from .fhir import command as fhir_command

    fhir_command.add_parser(sub)
    _add_serve(sub)
    return parser


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``mtus serve``; the service's modules (FastAPI) load only when it runs."""
    from .service import command

    command.add_parser(sub)


def _render(dets: list[Determination], fmt: str, texts: Texts) -> str:
    if fmt == "json":
        return exports.to_json(dets, texts)
    if fmt == "turtle":
        return exports.to_turtle(dets)
    if fmt == "html":
        from . import letter_html

        return letter_html.html(dets, texts)
    return letters.render(dets, texts, md=fmt == "markdown")


def _as_of_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD; got {text!r}") from None


def _write_atomically(path: Path, text: str) -> None:
    """Write the whole output or nothing: a temporary file in the same folder, then a rename."""
    folder = path.resolve().parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_pdf(dets: list[Determination], output: Path | None, texts: Texts) -> int:
    """The letters as one PDF (WeasyPrint), to ``--output`` only (never to a terminal)."""
    if output is None or not output.resolve().parent.is_dir():
        print("mtus: --format pdf needs --output FILE.pdf in an existing folder", file=sys.stderr)
        return EXIT_INPUT
    from . import letter_html

    data = letter_html.pdf(dets, texts)
    folder = output.resolve().parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return EXIT_OK


def _evaluate(args: argparse.Namespace) -> int:
    rb = rulebase.get(args.rules)
    dets: list[Determination] = []
    failed: list[IntakeError] = []
    if args.answers is not None:  # FHIR: the case completed by a QuestionnaireResponse (reasoner/fhir)
        from .fhir import command as fhir_command

        cases = fhir_command.answered(args, rb)
        if isinstance(cases, int):
            return cases
    else:
        cases = args.cases
    for case in cases:
        try:
            if args.counterfactual:  # the determination with its items' verified counterfactuals
                from . import counterfactuals

                found = counterfactuals.find(case, rb, engine=args.engine).determination
                assert found is not None
                dets.append(found)
            else:
                dets.append(engines.evaluate(case, rb, engine=args.engine, as_of=args.as_of))
        except IntakeError as exc:
            failed.append(exc)
    if failed:
        for problem in failed:
            print(f"mtus: {problem.verbose() if args.verbose else problem}", file=sys.stderr)
        if args.output:
            print(f"mtus: nothing written to {args.output}", file=sys.stderr)
        return EXIT_INPUT
    texts = Texts(rb.kb, rb.closure, rb.catalog.writer)
    if args.format == "pdf":
        return _write_pdf(dets, args.output, texts)
    if args.format == "fhir":
        from .fhir import determination_bundle

        text = json.dumps(determination_bundle(dets, rb, args.engine), indent=2, ensure_ascii=False) + "\n"
    else:
        text = _render(dets, args.format, texts)
    if args.output:
        if not args.output.resolve().parent.is_dir():
            print(f"mtus: cannot write {args.output}: no such folder", file=sys.stderr)
            return EXIT_INPUT
        _write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _utf8_streams() -> None:
    """Output in UTF-8 whatever the locale (intake refuses any text UTF-8 cannot encode)."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")


def _command(argv: list[str]) -> str | None:
    """The command word of ``argv`` (after ``--rules DIR``), if it can be told without parsing."""
    rest = list(argv)
    while rest and rest[0] == "--rules" and len(rest) > 1:
        rest = rest[2:]
    return rest[0] if rest and not rest[0].startswith("-") else None


def main(argv: list[str] | None = None) -> int:
    _utf8_streams()
    argv = sys.argv[1:] if argv is None else argv
    args = _parser(only_evaluate=_command(argv) == "evaluate").parse_args(argv)
    try:
        if args.command == "evaluate":
            return _evaluate(args)
        if hasattr(args, "handler"):
            code: int = args.handler(args)
            return code
        if args.command == "sections":
            from . import sections

            sys.stdout.write(sections.table(rulebase.get(args.rules)))
            return EXIT_OK
        from . import lint

        return lint.run(rulebase.get(args.rules), hermit_check=not args.no_hermit, cases=args.cases,
                        section_id=args.section, checks=tuple(args.check))
    except MtusError as exc:
        print(f"mtus: {exc}", file=sys.stderr)
        return exc.exit_code
    except (KeyboardInterrupt, SystemExit, BrokenPipeError):
        raise
    except Exception as exc:  # noqa: BLE001 - never a traceback that could quote a case
        print(f"mtus: internal error ({type(exc).__name__}); no case content is shown. Please report it "
              "with the command you ran.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
