"""A seeded mutation corpus of case files (issue 16): the probes that found fetches, lost requests,
crashes, hangs and echoed content, as data the tests and ``make fuzz`` run.

``generate(seed, count)`` gives ``count`` mutants spread over :data:`CATEGORIES`, each made
from a valid case of tests/cases (chosen by the seed). Every mutant carries :data:`MARKER` in a
value the mutation touches where it can, so that a message quoting a value is caught. Nothing
here is random without the seed: the same seed gives the same files.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reasoner.intake import _CaseLoader

CASES = Path(__file__).parent / "cases"
#: a value no message may quote (a made-up name and SSN-like number)
MARKER = "Zebulon Quigglesworth 078-05-1120"
#: where the network probes point (the listener test binds it; elsewhere nothing listens)
LISTENER = "http://127.0.0.1:{port}/context.jsonld"


@dataclass(frozen=True)
class Mutant:
    """One case file of the corpus."""

    name: str
    category: str
    suffix: str
    data: bytes
    #: "reject": intake must refuse it (exit 2); "any": a determination or a refusal
    expect: str = "reject"


def bases(rng: random.Random, count: int = 24) -> list[dict[str, Any]]:
    """Valid cases to mutate: the seed case and ``count`` case files chosen by the seed."""
    files = sorted(CASES.rglob("*.yaml"))
    chosen = [CASES / "seed" / "seed-imr-case.yaml"] if (CASES / "seed" / "seed-imr-case.yaml").exists() else []
    chosen += rng.sample(files, min(count, len(files)))
    out = []
    for path in chosen:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CaseLoader)
        if isinstance(data, dict) and isinstance(data.get("requests"), list) and data["requests"]:
            data.pop("expected", None)
            out.append(data)
    return out


def _yaml(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


def _json(data: Any) -> bytes:
    return json.dumps(data).encode("utf-8")


def _either(rng: random.Random, data: Any) -> tuple[str, bytes]:
    return (".yaml", _yaml(data)) if rng.random() < 0.5 else (".json", _json(data))


def _request(case: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    request: dict[str, Any] = rng.choice(case["requests"])
    return request


# --- the categories: each takes (rng, a copy of a base case) and gives (suffix, bytes[, expect]) ---

Made = tuple[str, bytes] | tuple[str, bytes, str]


def yaml_key_not_text(rng: random.Random, case: dict[str, Any]) -> Made:
    text = _yaml(case).decode()
    key = rng.choice(["2014", "true", "null", "1.5", "[a, b]", "{a: 1}", "? [x]\n"])
    line = f"{key}: {json.dumps(MARKER)}\n" if not key.startswith("?") else f"{key}: 1\n"
    at = rng.choice(["top", "request"])
    if at == "top":
        return ".yaml", (line + text).encode()
    return ".yaml", text.replace("requests:\n- ", f"requests:\n- {line.rstrip()}\n  ", 1).encode()


def nesting(rng: random.Random, case: dict[str, Any]) -> Made:
    depth = rng.choice([13, 50, 200, 493, 700, 986, 1000, 5000])
    if rng.random() < 0.5:
        inner = "[" * depth + json.dumps(MARKER) + "]" * depth
        return ".json", f'{{"id": "x", "review_date": "2014-01-01", "requests": {inner}}}'.encode()
    inner = "[" * depth + "1" + "]" * depth
    return ".yaml", f"id: x\nreview_date: 2014-01-01\nnote: {inner}\nrequests: []\n".encode()


def yaml_alias(rng: random.Random, case: dict[str, Any]) -> Made:
    kind = rng.choice(["self", "bomb", "plain", "merge"])
    if kind == "self":
        return ".yaml", b"id: x\nreview_date: 2014-01-01\nrequests: &a [*a]\n"
    if kind == "bomb":
        levels = rng.randint(4, 9)
        lines = ['a0: &a0 ["' + MARKER + '", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        for i in range(1, levels):
            lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
        return ".yaml", ("\n".join(lines) + f"\nid: x\nreview_date: 2014-01-01\nrequests: *a{levels - 1}\n").encode()
    text = _yaml(case).decode()
    if kind == "plain":
        return ".yaml", text.replace("requests:\n", "claimant2: &c {age: 3}\nrequests:\n", 1).encode()
    return ".yaml", ("base: &b {service: acupuncture}\n" + text.replace("requests:\n- ", "requests:\n- <<: *b\n  ", 1)).encode()


def big_numbers(rng: random.Random, case: dict[str, Any]) -> Made:
    request = _request(case, rng)
    field = rng.choice(["duration_weeks", "relief_weeks", "days_supply", "quantity", "dose_mg",
                        "frequency_per_week", "frequency_per_day"])
    value = rng.choice(["1e28", "1e308", ".inf", "-.inf", ".nan", "-1", "0", "1" + "0" * 40, "9" * 5000, "1e-400"])
    if field == "relief_weeks":
        request.setdefault("outcome", {})
        target = "relief_weeks"
    else:
        target = field
    text = _yaml(case).decode()
    marker = "__NUMBER__"
    if field == "relief_weeks":
        request["outcome"][target] = marker
    else:
        request[target] = marker
    text = _yaml(case).decode().replace(f"'{marker}'", value).replace(marker, value)
    return ".yaml", text.encode()


def unicode_text(rng: random.Random, case: dict[str, Any]) -> Made:
    request = _request(case, rng)
    kind = rng.choice(["surrogate-id", "surrogate-note", "superscript-id", "emoji-id", "nul", "rtl", "long"])
    if kind == "surrogate-id":
        return ".json", _json(case).replace(b'"id": "', b'"id": "\\ud800', 1)
    if kind == "surrogate-note":
        request["note"] = "__S__"
        return ".json", _json(case).replace(b'"__S__"', b'"\\udfff ' + MARKER.encode() + b'"')
    if kind == "superscript-id":
        request["id"] = "\u00b2"
        return _either(rng, case) + ("any",)
    if kind == "emoji-id":
        request["id"] = "\U0001f600" + str(rng.randint(0, 99))
        return _either(rng, case) + ("any",)
    if kind == "nul":
        case["id"] = "a\x00b"
        return ".json", _json(case), "any"
    if kind == "rtl":
        case["id"] = "\u202e" + "esac"
        return ".json", _json(case), "any"
    request["note"] = MARKER * rng.choice([100, 2000])
    return _either(rng, case) + ("any",)


JSONLD_KEYS = ["@context", "@id", "@value", "@language", "@type", "@graph", "@import", "@reverse",
               "@included", "@nest", "@index", "@base", "@vocab", "@list", "@set", "@json", "@none"]


def jsonld_keyword(rng: random.Random, case: dict[str, Any]) -> Made:
    key = rng.choice(JSONLD_KEYS)
    value: Any = rng.choice(["en", MARKER, LISTENER.format(port=9), {"@vocab": "http://example.org/"},
                             "file:///etc/passwd", "context.jsonld"])
    where = rng.choice(["top", "request", "claimant"])
    if where == "top":
        case[key] = value
    elif where == "request":
        _request(case, rng)[key] = value
    else:
        case.setdefault("claimant", {})[key] = value
    return _either(rng, case)


def duplicate_key(rng: random.Random, case: dict[str, Any]) -> Made:
    if rng.random() < 0.5:
        text = _json(case).decode()
        field = rng.choice(['"review_date": "2014-01-01", ', '"id": "' + MARKER + '", '])
        return ".json", text.replace("{", "{" + field, 1).encode()
    text = _yaml(case).decode()
    return ".yaml", (text + rng.choice(["review_date: 2014-01-01\n", f"id: {MARKER}\n"])).encode()


def yaml_tag(rng: random.Random, case: dict[str, Any]) -> Made:
    tag = rng.choice(["!!set {a, b}", "!!binary aGVsbG8=", "!!timestamp 2014-01-01", "!!omap [a: 1]",
                      "!!pairs [a: 1]", "!custom x", "!!python/object:os.system x", "!!str 1",
                      "!!int '3'", "!!float '1e28'"])
    text = _yaml(case).decode()
    kind = "any" if tag in ("!!str 1",) else "reject"
    return ".yaml", text.replace("requests:\n", f"note_tagged: {tag}\nrequests:\n", 1).encode(), kind


def wrong_type(rng: random.Random, case: dict[str, Any]) -> Made:
    request = _request(case, rng)
    field = rng.choice(["quantity", "service", "region", "id", "ur", "indication", "present", "work_related"])
    value = rng.choice([MARKER, [MARKER], {"x": MARKER}, True, None, 3.5, [], {}])
    if field in ("present", "work_related"):
        case.setdefault("injury", {})["work_related"] = value
    else:
        request[field] = value
    return _either(rng, case) + ("any",)


def unknown_code(rng: random.Random, case: dict[str, Any]) -> Made:
    request = _request(case, rng)
    field = rng.choice(["service", "region", "drug", "laterality"])
    request[field] = rng.choice(["lumbar spine", "Lumbar_Spine", "", " acupuncture", "@id", "http://127.0.0.1:9/x",
                                 "_:b0", "mtus:Case", MARKER, "acupunture", "a" * 300])
    return _either(rng, case)


def unknown_field(rng: random.Random, case: dict[str, Any]) -> Made:
    target = rng.choice([case, _request(case, rng), case.setdefault("claimant", {})])
    target[rng.choice(["quantitty", "notes", "ssn", "Name", "x y", "\u00e9t\u00e9", "a" * 80])] = MARKER
    return _either(rng, case)


def bad_date(rng: random.Random, case: dict[str, Any]) -> Made:
    value = rng.choice(["2014-13-45", "2014-02-30", "0000-00-00", MARKER, "14-01-01", "2014-1-1", "2014-01-01T00:00"])
    where = rng.choice(["review_date", "injury", "request_date"])
    if where == "review_date":
        case["review_date"] = value
    elif where == "injury":
        case.setdefault("injury", {})["date"] = value
    else:
        _request(case, rng)["request_date"] = value
    return _either(rng, case)


def syntax_error(rng: random.Random, case: dict[str, Any]) -> Made:
    if rng.random() < 0.5:
        text = _yaml(case).decode()
        cut = rng.randint(len(text) // 3, len(text))
        broken = text[:cut] + f"\n  note: [{MARKER}\n\t- : : {{"
        return ".yaml", broken.encode()
    text = _json(case).decode()
    cut = rng.randint(len(text) // 3, len(text) - 1)
    return ".json", (text[:cut] + f', "note": "{MARKER}" ,, }}').encode()


def duplicate_request_id(rng: random.Random, case: dict[str, Any]) -> Made:
    first = copy.deepcopy(case["requests"][0])
    case["requests"].append(first)
    return _either(rng, case)


def long_lists(rng: random.Random, case: dict[str, Any]) -> Made:
    kind = rng.choice(["requests", "findings", "text", "key"])
    if kind == "requests":
        template = case["requests"][0]
        case["requests"] = [{**copy.deepcopy(template), "id": str(i)} for i in range(1, 1002)]
    elif kind == "findings":
        case["findings"] = [{"code": "pain", "region": "lumbar_spine"} for _ in range(501)]
    elif kind == "text":
        case["requests"][0]["note"] = MARKER * 700
    else:
        case["requests"][0]["k" * 65] = 1
    return _either(rng, case)


def large_file(rng: random.Random, case: dict[str, Any]) -> Made:
    filler = ("# " + MARKER + "\n") * (2 * 1024 * 1024 // 30 + 10)
    return ".yaml", (filler + _yaml(case).decode()).encode()


def jsonld_document(rng: random.Random, case: dict[str, Any]) -> Made:
    """A .jsonld case whose contexts point elsewhere (the listener, a file, a relative path),
    nested, imported or scoped."""
    target = rng.choice([LISTENER.format(port=9), "file:///etc/passwd", "context.jsonld", "../context.jsonld",
                         "https://w3id.org/mtus/other.jsonld"])
    doc: dict[str, Any] = {"@context": "https://w3id.org/mtus/context.jsonld", "@id": "https://example.org/case/x",
                           "@type": "Case", "review_date": "2014-01-01"}
    kind = rng.choice(["top", "nested", "import", "scoped", "list"])
    if kind == "top":
        doc["@context"] = target
    elif kind == "nested":
        doc["requests"] = [{"@context": target, "id": "1", "service": "acupuncture"}]
    elif kind == "import":
        doc["@context"] = [doc["@context"], {"@import": target}]
    elif kind == "scoped":
        doc["@context"] = [doc["@context"], {"requests": {"@id": "https://w3id.org/mtus/ontology#request",
                                                          "@context": target}}]
    else:
        doc["@context"] = [doc["@context"], target]
    return ".jsonld", _json(doc)


def turtle(rng: random.Random, case: dict[str, Any]) -> Made:
    kind = rng.choice(["syntax", "surrogate", "deep", "base"])
    prefix = "@prefix mtus: <https://w3id.org/mtus/ontology#> .\n"
    if kind == "syntax":
        return ".ttl", (prefix + f'<urn:c> a mtus:Case ;\n  mtus:note "{MARKER}" \n  mtus:x ] ] .\n').encode()
    if kind == "surrogate":
        return ".ttl", (prefix + '<urn:c> a mtus:Case ; mtus:identifier "\\uD800x" .\n').encode()
    if kind == "deep":
        depth = rng.choice([100, 1000, 3000])
        return ".ttl", (prefix + "<urn:c> mtus:p " + "[ mtus:p " * depth + "1" + " ]" * depth + " .\n").encode()
    return ".ttl", (prefix + f"@base <{LISTENER.format(port=9)}> .\n<c> a mtus:Case .\n").encode()


def encoding(rng: random.Random, case: dict[str, Any]) -> Made:
    text = _yaml(case).decode()
    kind = rng.choice(["utf16", "latin1", "bom", "binary"])
    if kind == "utf16":
        return ".yaml", text.encode("utf-16")
    if kind == "latin1":
        return ".yaml", (text + "note_x: caf\u00e9\n").encode("latin-1")
    if kind == "bom":
        return ".json", b"\xef\xbb\xbf" + _json(case), "any"
    return ".yaml", bytes(rng.randrange(256) for _ in range(200))


def shape(rng: random.Random, case: dict[str, Any]) -> Made:
    kind = rng.choice(["empty", "list", "scalar", "two-docs", "null", "no-requests"])
    if kind == "empty":
        return rng.choice([".yaml", ".json"]), b""
    if kind == "list":
        return _either(rng, [case])
    if kind == "scalar":
        return _either(rng, MARKER)
    if kind == "two-docs":
        return ".yaml", _yaml(case) + b"---\n" + _yaml(case)
    if kind == "null":
        return ".yaml", b"~\n"
    case["requests"] = []
    return _either(rng, case)


def valid_variant(rng: random.Random, case: dict[str, Any]) -> Made:
    """A case that stays valid: requests reordered, optional fields dropped, ids renamed."""
    rng.shuffle(case["requests"])
    for request in case["requests"]:
        for field in ("ur", "note"):
            if field in request and rng.random() < 0.3:
                del request[field]
    if rng.random() < 0.3:
        case["id"] = f"{case['id']}-v{rng.randint(0, 10**6)}"
    return _either(rng, case) + ("any",)


CATEGORIES: dict[str, Callable[[random.Random, dict[str, Any]], Made]] = {
    "yaml-key-not-text": yaml_key_not_text,
    "nesting": nesting,
    "yaml-alias": yaml_alias,
    "big-numbers": big_numbers,
    "unicode": unicode_text,
    "jsonld-keyword": jsonld_keyword,
    "duplicate-key": duplicate_key,
    "yaml-tag": yaml_tag,
    "wrong-type": wrong_type,
    "unknown-code": unknown_code,
    "unknown-field": unknown_field,
    "bad-date": bad_date,
    "syntax-error": syntax_error,
    "duplicate-request-id": duplicate_request_id,
    "long-lists": long_lists,
    "large-file": large_file,
    "jsonld-document": jsonld_document,
    "turtle": turtle,
    "encoding": encoding,
    "shape": shape,
    "valid-variant": valid_variant,
}


def generate(seed: int = 16, count: int = 1050, listener_port: int = 9) -> list[Mutant]:
    """``count`` mutants, the categories taken in turn (so that a sample covers them all)."""
    rng = random.Random(seed)
    base = bases(rng)
    names = list(CATEGORIES)
    out: list[Mutant] = []
    for i in range(count):
        category = names[i % len(names)]
        made = CATEGORIES[category](rng, copy.deepcopy(rng.choice(base)))
        suffix, data = made[0], made[1]
        expect = made[2] if len(made) > 2 else "reject"  # type: ignore[misc]
        data = data.replace(b"127.0.0.1:9/", f"127.0.0.1:{listener_port}/".encode())
        out.append(Mutant(f"{i:05d}-{category}{suffix}", category, suffix, data, expect))
    return out


def write(mutants: list[Mutant], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for mutant in mutants:
        path = folder / mutant.name
        path.write_bytes(mutant.data)
        paths.append(path)
    return paths
