"""The one reader of case files (reasoner/caseformat/, issue 16): every reproduction of the
issue is an intake error with the field path in well under a second (or a correct
determination); messages never quote a value; ``mtus evaluate`` and ``mtus batch`` accept and
refuse the same files with the same messages; no case file opens a connection or a file."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from reasoner import batch, caseformat, cli, engines, intake, rulebase
from reasoner.errors import IntakeError

from .fuzz import Listener
from .fuzzcorpus import MARKER
from .helpers import seed

# --- the issue's reproductions ----------------------------------------------------------------

BOMB = "\n".join(["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                 + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 7)]) \
    + "\nid: x\nreview_date: 2014-01-01\nrequests: *a6\n"


def _case_text(**request: Any) -> str:
    data = seed()
    data["requests"][0].update(request)
    return json.dumps(data)


_ONE_REQUEST = ("id: x\nreview_date: 2014-01-01\nrequests:\n"
                "- {{id: '1', service: acupuncture, region: lumbar_spine, quantity: {quantity}}}\n")

REPRODUCTIONS: list[tuple[str, str, str, str]] = [
    # (name, suffix, text, what the message must say)
    ("yaml-key-not-text", ".yaml", "2014: x\nid: x\nreview_date: 2014-01-01\nrequests: []\n",
     "(top level) (file, line 1, column 1): a field name must be text"),
    ("json-nesting-986", ".json", '{"id": "x", "requests": ' + "[" * 986 + "]" * 986 + "}",
     "(file): nesting deeper than 12 levels"),
    ("yaml-nesting-500", ".yaml", "id: x\nnote: " + "[" * 500 + "]" * 500 + "\n", "nesting deeper than 12 levels"),
    ("yaml-self-alias", ".yaml", "id: x\nreview_date: 2014-01-01\nrequests: &a [*a]\n",
     "(file, line 3, column 11): YAML anchors and aliases (&name, *name) are not read"),
    ("yaml-alias-bomb", ".yaml", BOMB, "YAML anchors and aliases"),
    ("duration-1e28", ".json", _case_text(duration_weeks=1e28),
     "requests[0].duration_weeks: expected a number of weeks, more than 0 and at most 520"),
    ("days-supply-1e28", ".json", _case_text(service="medication", drug="tramadol", days_supply=1e28),
     "requests[0].days_supply: expected a number of days, more than 0 and at most 365"),
    ("quantity-inf", ".yaml", _ONE_REQUEST.format(quantity=".inf"), "requests[0].quantity: expected"),
    ("quantity-nan", ".yaml", _ONE_REQUEST.format(quantity=".nan"), "requests[0].quantity: expected"),
    ("lone-surrogate-id", ".json", '{"id": "x\\ud800", "review_date": "2014-01-01", "requests": []}',
     "id: text that is not valid Unicode (a lone surrogate code point)"),
    ("json-duplicate-key", ".json", '{"id": "x", "id": "y", "review_date": "2014-01-01", "requests": []}',
     "id: this field is given twice"),
    ("yaml-duplicate-key", ".yaml", "id: x\nreview_date: 2014-01-01\nid: y\nrequests: []\n",
     "id (file, line 3, column 1): this field is given twice"),
    ("yaml-set", ".yaml", "id: x\nreview_date: 2014-01-01\nrequests: !!set {a, b}\n", "a tagged one (such as !!set"),
    ("yaml-binary", ".yaml", "id: !!binary aGVsbG8=\nreview_date: 2014-01-01\nrequests: []\n",
     "a tagged value (such as !!binary"),
    ("language-on-request", ".json", _case_text(**{"@language": "en"}),
     "requests[0].@language: unknown field '@language': JSON-LD keywords are not fields"),
    ("value-at-top", ".json", json.dumps({**seed(), "@value": "x"}), "@value: unknown field '@value'"),
    ("nested-context", ".json", _case_text(**{"@context": "http://127.0.0.1:9/c.jsonld"}),
     "requests[0].@context: unknown field '@context'"),
    ("code-with-space", ".json", _case_text(region="lumbar spine"),
     "requests[0].region: unknown code: expected a region code (did you mean: lumbar_spine"),
    ("yaml-syntax", ".yaml", f"id: x\nnote: [{MARKER}\n  - : {{\n", "(file): not valid YAML at line"),
    ("json-syntax", ".json", f'{{"id": "{MARKER}",, }}', "(file): not valid JSON at line 1, column"),
    ("turtle-syntax", ".ttl", f'<urn:c> <urn:p> "{MARKER}" \n <urn:q> ] .\n', "(file): not valid Turtle"),
    ("big-int", ".json", '{"id": "x", "review_date": "2014-01-01", "requests": [], "n": ' + "9" * 5000 + "}",
     "(file): expected a number that can be read"),
    ("two-yaml-documents", ".yaml", "id: x\n---\nid: y\n", "expected one YAML document"),
    ("too-large", ".yaml", "# padding\n" * 300000, "larger than 2097152 bytes"),
    ("bad-date-no-echo", ".json", json.dumps({**seed(), "review_date": MARKER}),
     "review_date: expected the review date, a date YYYY-MM-DD (required)"),
]


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    engines.fast_engine(rulebase.get())


def _evaluate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, float]:
    start = time.perf_counter()
    code = cli.main(["evaluate", str(path), "--format", "json"])
    took = time.perf_counter() - start
    out, err = capsys.readouterr()
    return code, out, err, took


@pytest.mark.parametrize(("name", "suffix", "text", "says"), REPRODUCTIONS, ids=[r[0] for r in REPRODUCTIONS])
def test_each_reproduction_is_an_intake_error_naming_the_field(name: str, suffix: str, text: str, says: str,
                                                                tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{name}{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    code, out, err, took = _evaluate(path, capsys)
    assert code == 2, err
    assert says in err, err
    assert out == "" and "Traceback" not in err
    assert MARKER not in err and "Zebulon" not in err
    assert took < 1.0, f"{name}: {took:.2f} s"
    # mtus batch (its fast rounds) refuses it with the same message
    ((_, record, error),) = batch._work_fast([batch.CaseRef(str(path))], rulebase.get())
    assert record is None and error is not None and f"mtus: {error}" in err


def test_a_superscript_digit_request_id_is_decided(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 16: the request id "²" crashed the ordering of items (str.isdigit is true for it)."""
    data = seed()
    data["requests"] = data["requests"][:2]
    data["requests"][0]["id"] = "\u00b2"
    path = tmp_path / "superscript.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, err, _ = _evaluate(path, capsys)
    assert code == 0, err
    assert [item["request"] for item in json.loads(out)[0]["items"]] == ["2", "\u00b2"]


def test_messages_never_quote_a_value() -> None:
    """A wrong value, an unknown code and a bad expected decision: the field and what was expected,
    never what was found."""
    data = seed()
    data["review_date"] = MARKER
    data["requests"][0]["service"] = MARKER
    data["requests"][1]["quantity"] = MARKER
    data["expected"] = {"1": {"decision": MARKER}}
    with pytest.raises(IntakeError) as caught:
        engines.evaluate(data)
    text = str(caught.value)
    assert MARKER not in text and "Zebulon" not in text
    assert "review_date:" in text and "requests[0].service: unknown code" in text
    assert "requests[1].quantity:" in text and "expected.1.decision" in text


def test_the_limits_are_documented() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for name, value in caseformat.limits_table().items():
        assert f"`{name}`" in readme and f"{value:,}" in readme, name


def test_a_thousand_requests_are_accepted_and_a_thousand_and_one_are_not() -> None:
    data = seed()
    template = data["requests"][0]
    data["requests"] = [{**template, "id": str(i)} for i in range(1, caseformat.LIMITS.requests + 1)]
    caseformat.check(data, rulebase.get(), "(mapping)")
    data["requests"].append({**template, "id": "extra"})
    with pytest.raises(IntakeError, match=r"requests: more than 1000 entries"):
        caseformat.check(data, rulebase.get(), "(mapping)")


def test_a_mapping_and_a_file_are_read_alike(tmp_path: Path) -> None:
    """The API's mapping goes through the same checks as a file."""
    data = seed()
    data["requests"][0]["@type"] = "x"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    messages = []
    for case in (data, path):
        with pytest.raises(IntakeError) as caught:
            engines.evaluate(case)
        messages.append([str(p) for p in caught.value.problems])
    expected = "requests[0].@type: unknown field '@type': JSON-LD keywords are not fields of a YAML or JSON case"
    assert messages[0] == messages[1] == [expected]


# --- no connection, no file opened --------------------------------------------------------------


class _Probe:
    """A listener on 127.0.0.1 counting connections, and an audit hook counting opens of the
    sentinel file and socket connections while active."""

    hooked = False
    active = False
    seen: ClassVar[list[str]] = []

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel
        self.listener = Listener()  # the one of `make fuzz` (tests/fuzz.py)
        self.port = self.listener.port
        if not _Probe.hooked:
            sys.addaudithook(_Probe._hook)
            _Probe.hooked = True
        _Probe.seen = []

    @staticmethod
    def _hook(event: str, args: tuple[Any, ...]) -> None:
        if not _Probe.active:
            return
        if event == "open" and args and "sentinel" in str(args[0]):
            _Probe.seen.append(f"open {args[0]}")
        elif event == "socket.connect":
            _Probe.seen.append(f"connect {args[1]}")

    @property
    def connections(self) -> int:
        return self.listener.connections

    def close(self) -> None:
        self.listener.close()


def _contexts(url: str, file_url: str, relative: str) -> list[tuple[str, Any]]:
    """Every place a JSON-LD context may point elsewhere: top level, nested, scoped, imported, in a list."""
    ours = intake.CONTEXT_IRI
    out = []
    for target in (url, file_url, relative):
        out += [
            ("top", target),
            ("list", [ours, target]),
            ("import", [ours, {"@import": target}]),
            ("scoped", [ours, {"requests": {"@id": "https://w3id.org/mtus/ontology#request", "@context": target}}]),
            ("nested", ours),
        ]
    return out


def test_no_case_file_makes_a_connection_or_opens_a_file(tmp_path: Path) -> None:
    sentinel = tmp_path / "sentinel.jsonld"
    sentinel.write_text(json.dumps({"@context": {"service": "https://example.org/stolen"}}), encoding="utf-8")
    probe = _Probe(sentinel)
    url = f"http://127.0.0.1:{probe.port}/sentinel.jsonld"
    cases: list[Path] = []
    for i, (kind, context) in enumerate(_contexts(url, sentinel.as_uri(), "sentinel.jsonld")):
        doc: dict[str, Any] = {"@context": context, "@id": "https://example.org/case/x", "@type": "Case",
                               "review_date": "2014-01-01", "id": "x"}
        if kind == "nested":
            doc["requests"] = [{"@context": [url, sentinel.as_uri(), "sentinel.jsonld"][i // 5], "id": "1"}]
        path = tmp_path / f"{i:02d}-{kind}.jsonld"
        path.write_text(json.dumps(doc), encoding="utf-8")
        cases.append(path)
    for i, target in enumerate((url, sentinel.as_uri(), "sentinel.jsonld")):
        data = seed()
        data["requests"][0]["@context"] = target
        data["claimant"]["@context"] = {"@import": target}
        for suffix in (".json", ".yaml"):
            path = tmp_path / f"mapping-{i}{suffix}"
            path.write_text(json.dumps(data), encoding="utf-8")
            cases.append(path)
    turtle = tmp_path / "base.ttl"
    turtle.write_text(f"@base <{url}> .\n@prefix mtus: <https://w3id.org/mtus/ontology#> .\n<c> a mtus:Case .\n",
                      encoding="utf-8")
    cases.append(turtle)
    _Probe.active = True
    try:
        outcomes = []
        for path in cases:
            for engine in ("fast", "reference"):
                try:
                    engines.evaluate(path, engine=engine)
                    outcomes.append((path.name, "accepted"))
                except IntakeError as exc:
                    outcomes.append((path.name, "refused"))
                    assert "sentinel" not in str(exc).split("\n", 1)[1], str(exc)
    finally:
        _Probe.active = False
        probe.close()
    assert probe.connections == 0
    assert _Probe.seen == []
    assert all(outcome == "refused" for _, outcome in outcomes), outcomes


def test_rdflib_never_fetches_a_context_while_a_case_is_parsed(tmp_path: Path) -> None:
    """The second wall: rdflib's context loader is refused during intake's parse, even for a
    document that reached it."""
    sentinel = tmp_path / "sentinel.jsonld"
    sentinel.write_text('{"@context": {}}', encoding="utf-8")
    probe = _Probe(sentinel)
    _Probe.active = True
    try:
        for target in (f"http://127.0.0.1:{probe.port}/x.jsonld", sentinel.as_uri()):
            with pytest.raises(Exception):  # noqa: B017 - whatever rdflib raises around the refusal
                intake._parse_rdf(json.dumps({"@context": target, "@id": "urn:x", "urn:p": 1}), "json-ld")
    finally:
        _Probe.active = False
        probe.close()
    assert probe.connections == 0 and _Probe.seen == []


def test_verbose_shows_the_value_to_the_user_who_asks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = seed()
    data["review_date"] = MARKER
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert cli.main(["evaluate", str(path)]) == 2
    assert MARKER not in capsys.readouterr().err
    assert cli.main(["evaluate", str(path), "--verbose"]) == 2
    assert f'review_date: expected the review date, a date YYYY-MM-DD (required) [found: "{MARKER}"]' in capsys.readouterr().err
