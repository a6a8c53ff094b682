"""JSON Schemas of both sides, generated, never kept by hand.

- The **case format** (``case.schema.json``): from the intake shapes (shapes/intake/: each node
  shape an object, closed; ``sh:minCount 1`` required; ``sh:datatype`` a JSON type or format;
  ``sh:class`` the codes of that class in the closed ontology; a list (or one value, as JSON-LD
  reads it) where no ``sh:maxCount 1``
  holds) and the JSON-LD context (each property's key). ``expected`` and ``note`` are read by
  intake outside the shapes (intake_check.py) and added as it reads them.
- The **determination** (``determination.schema.json``): from the code's one serialisation,
  ``Determination.to_dict``: the shape of its output over every case file of tests/cases/ (each
  key's JSON types, the keys always present required), the decisions and criterion states from
  their enums. A field added to ``to_dict`` appears at the next ``mtus docs``.

``mtus docs`` writes both into ``reasoner/schemas/`` (``--check``: says if they are stale); the
service publishes them, and the tests validate the case files and their determinations.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from . import rulebase
from .caseformat import LIMITS
from .decisions import Decision
from .docs.codes import codes_of
from .intake_check import _class_members
from .intake_check import _context_keys as context_keys
from .kinds import CriterionStatus
from .namespaces import MTUS, SH, local_name
from .rulebase import RuleBase

FOLDER = Path(__file__).parent / "schemas"
BASE = "https://w3id.org/mtus/schemas/"
FILES = ("case.schema.json", "determination.schema.json")

_DATATYPES: dict[URIRef, dict[str, Any]] = {
    XSD.string: {"type": "string"},
    XSD.date: {"type": "string", "format": "date"},
    XSD.boolean: {"type": "boolean"},
    XSD.integer: {"type": "integer"},
    XSD.decimal: {"type": "number"},
}
INTAKE = "https://w3id.org/mtus/shapes/intake/"


def load(name: str) -> dict[str, Any]:
    """A published schema (``case`` or ``determination``)."""
    data: dict[str, Any] = json.loads((FOLDER / f"{name}.schema.json").read_text(encoding="utf-8"))
    return data


# --- the case format ---------------------------------------------------------------------


def _value_schema(rb: RuleBase, prop: Node, defs: dict[str, str]) -> dict[str, Any]:
    shapes = rb.intake_shapes
    cls = shapes.value(prop, SH["class"])
    if isinstance(cls, URIRef):
        return {"type": "string", "enum": [local_name(c) for c in codes_of(rb, cls)]}
    datatype = shapes.value(prop, SH.datatype)
    if isinstance(datatype, URIRef) and datatype in _DATATYPES:
        out = dict(_DATATYPES[datatype])
        pattern = shapes.value(prop, SH.pattern)
        if pattern is not None:
            out["pattern"] = str(pattern)
    elif shapes.value(prop, SH.node) == URIRef(INTAKE + "Number"):
        out = {"type": "number"}
    elif shapes.value(prop, SH.nodeKind) == SH.IRI:
        path = shapes.value(prop, SH.path)
        return {"$ref": f"#/$defs/{defs[str(path)]}"} if str(path) in defs else {"type": "object"}
    else:
        out = {}
    for facet, key in ((SH.minInclusive, "minimum"), (SH.maxInclusive, "maximum"),
                       (SH.minExclusive, "exclusiveMinimum"), (SH.maxExclusive, "exclusiveMaximum")):
        bound = shapes.value(prop, facet)
        if isinstance(bound, Literal):
            out[key] = bound.toPython() if not isinstance(bound.toPython(), str) else float(bound)
    return out


def _object_schema(rb: RuleBase, shape: Node, keys: dict[str, str], defs: dict[str, str],
                   scoped: dict[str, str]) -> dict[str, Any]:
    shapes = rb.intake_shapes
    properties: dict[str, Any] = {}
    required: list[str] = []
    for prop in shapes.objects(shape, SH.property):
        path = shapes.value(prop, SH.path)
        if path is None:
            continue
        key = scoped.get(str(path)) or keys.get(str(path), local_name(path))
        value = _value_schema(rb, prop, defs)
        message = shapes.value(prop, SH.message)
        if message is not None:
            value = {**value, "description": str(message)}
        if shapes.value(prop, SH.maxCount) != Literal(1):
            # a list; JSON-LD also takes a single value for it
            item = {k: v for k, v in value.items() if k != "description"}
            value = {"anyOf": [{"type": "array", "items": item}, item],
                     **({"description": value["description"]} if "description" in value else {})}
        properties[key] = value
        if shapes.value(prop, SH.minCount) is not None:
            required.append(key)
    ignored = [n for lst in shapes.objects(shape, SH.ignoredProperties) for n in rb.intake_shapes.items(lst)]
    if MTUS.note in ignored:
        properties["note"] = {"type": "string", "description": "free text kept with the fact, never reasoned on"}
    out: dict[str, Any] = {"type": "object", "properties": dict(sorted(properties.items()))}
    if required:
        out["required"] = sorted(required)
    if shapes.value(shape, SH.closed) == Literal(True):
        out["additionalProperties"] = False
    either = shapes.value(shape, SH["or"])
    if either is not None:
        alternatives = [[keys.get(str(shapes.value(m, SH.path)), "")] for m in shapes.items(either)
                        if shapes.value(m, SH.path) is not None]
        if alternatives:
            out["anyOf"] = [{"required": a} for a in alternatives]
    return out


def _scoped_keys(context: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Keys a scoped context gives inside one object: its key -> (property IRI -> key)."""
    out: dict[str, dict[str, str]] = {}
    for key, value in context.items():
        if isinstance(value, dict) and isinstance(value.get("@context"), dict):
            out[key] = context_keys(value["@context"], {k: v for k, v in context.items()
                                                        if isinstance(v, str) and v.endswith(("#", "/"))})
    return out


def _name(shape: URIRef) -> str:
    return str(shape).rsplit("/", 1)[-1]


def case_schema(rb: RuleBase) -> dict[str, Any]:
    """The JSON Schema of a case in the case format (YAML or JSON), from the intake shapes (made
    once per rule-base load and kept in the rule-base cache: see rulebase.KEPT)."""
    return copy.deepcopy(rulebase.derived(rb, "case-schema", _case_schema))


def _case_schema(rb: RuleBase) -> dict[str, Any]:
    shapes = rb.intake_shapes
    context = rb.context["@context"]
    keys = context_keys(context)
    scoped = _scoped_keys(context)
    node_shapes = sorted((s for s in shapes.subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef)), key=str)
    root = next(s for s in node_shapes if shapes.value(s, SH.targetClass) == MTUS.Case)
    links = {str(shapes.value(s, SH.targetObjectsOf)): _name(s) for s in node_shapes
             if shapes.value(s, SH.targetObjectsOf) is not None}
    defs: dict[str, Any] = {}
    for shape in node_shapes:
        if shape == root or shapes.value(shape, SH.targetObjectsOf) is None:
            continue
        field = keys.get(str(shapes.value(shape, SH.targetObjectsOf)), "")
        defs[_name(shape)] = _object_schema(rb, shape, keys, links, scoped.get(field, {}))
    schema = _object_schema(rb, root, keys, links, {})
    schema["properties"]["expected"] = {
        "type": "object",
        "description": "per request id, the reviewer's or author's expectation; used by tests, ignored by evaluation",
        "additionalProperties": {"type": "object", "anyOf": [{"required": ["decision"]}, {"required": ["formulary"]}],
                                 "properties": {
            "decision": {"type": "string", "enum": list(_class_members(rb, MTUS.DecisionOutcome))},
            "formulary": {"type": "object", "description": "the expected formulary answer (tests/casefiles.py)"}}},
    }
    for option in schema["properties"]["requests"].get("anyOf", []):  # the reader's limit (reasoner/caseformat/)
        if option.get("type") == "array":
            option["maxItems"] = LIMITS.requests
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": BASE + "case.schema.json",
            "title": "MTUS case (case format, YAML or JSON)", **schema, "$defs": dict(sorted(defs.items()))}


# --- the determination -------------------------------------------------------------------

#: keys whose values are the code's enums, by the key and the key of the object holding it
#: ("" for an item's decision, "criterion" for a criterion's status; a formulary answer's
#: status is another key's, read from the rule base's codes, and stays a string here)
ENUMS: dict[tuple[str, str], list[str]] = {("items", "decision"): [d.value for d in Decision],
                                           ("criterion", "status"): [s.value for s in CriterionStatus]}
#: keys that to_dict writes as null when there is nothing to say (exports.py: ``... if ... else None``),
#: whether or not the sample cases have one
NULLABLE = ("region", "guideline", "effective_until", "ur_guideline_cited", "edition", "reason", "unit")
#: keys whose types the samples need not all show: a change's value is an entry added (an object),
#: a number or a code (a string) a request field is set to
TYPES: dict[tuple[str, str], tuple[str, ...]] = {("changes", "value"): ("number", "object", "string")}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def infer(samples: Iterable[Any], key: str = "", parent: str = "") -> dict[str, Any]:
    """The schema of JSON values: their types, an object's keys (required when always there),
    an array's items; strings all dates or date-times get that format."""
    values = list(samples)
    types = sorted({_type(v) for v in values} | ({"null"} if key in NULLABLE else set())
                   | set(TYPES.get((parent, key), ())))
    out: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
    if "integer" in types and "number" in types:
        types.remove("integer")
        out["type"] = types[0] if len(types) == 1 else types
    strings = [v for v in values if isinstance(v, str)]
    if (parent, key) in ENUMS and strings:
        out["enum"] = ENUMS[(parent, key)] + (["null"] if "null" in types else [])
        out["enum"] = [e if e != "null" else None for e in out["enum"]]
    elif strings and all(_DATE.match(s) for s in strings):
        out["format"] = "date"
    elif strings and all(_DATETIME.match(s) for s in strings):
        out["format"] = "date-time"
    objects = [v for v in values if isinstance(v, dict)]
    if objects:
        names = sorted({k for o in objects for k in o})
        out["properties"] = {k: infer((o[k] for o in objects if k in o), k, key) for k in names}
        out["required"] = [k for k in names if all(k in o for o in objects)]
    arrays = [v for v in values if isinstance(v, list)]
    items = [x for a in arrays for x in a]
    if items:
        out["items"] = infer(items, key if key != "criteria" else "criterion", parent)
    if key in ("criteria", "branches") and items:
        out["items"] = {"$ref": "#/$defs/criterion"}
    return out


def determination_schema(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON Schema of ``Determination.to_dict`` from its output on ``samples``."""
    if not samples:
        raise ValueError("no determinations to read the schema from")
    criteria: list[Any] = []

    def collect(items: list[Any]) -> None:
        for c in items:
            criteria.append(c)
            collect(c.get("branches", []))

    for det in samples:
        for item in det["items"]:
            collect(item["criteria"])
    schema = infer(samples)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": BASE + "determination.schema.json",
            "title": "MTUS determination (Determination.to_dict, `mtus evaluate --format json` lists them)",
            **schema, "$defs": {"criterion": infer(criteria, "criterion")}}


def _case_files(root: Path) -> list[Path]:
    folder = root / "tests" / "cases"
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".json"))


def _COUNTERFACTUAL_SAMPLES(root: Path) -> list[Path]:
    """Cases whose determinations are sampled with their counterfactuals (``mtus evaluate
    --counterfactual``): the seed case (upheld items), an overturned item, an item no documentable
    change turns, a request over a limit."""
    cases = root / "tests" / "cases"
    return [p for p in (cases / "seed" / "seed-imr-case.yaml",
                        cases / "chronic-pain" / "epidural-steroid-injections" / "all-criteria-met-is-overturned.yaml",
                        cases / "chronic-pain" / "trigger-point-injections" /
                        "radiculopathy-too-many-injections-saline-is-upheld.yaml",
                        cases / "acoem-2017-low-back" / "acupuncture" / "fourteen-sessions-in-all-are-upheld.yaml")
            if p.is_file()]


def _with_counterfactuals(path: Path, rb: RuleBase) -> dict[str, Any]:
    from . import counterfactuals

    found = counterfactuals.find(path, rb).determination
    assert found is not None
    data = found.to_dict()
    for item in data["items"]:  # the search's timing is not part of the schema's sample values
        item["counterfactuals"]["search"]["seconds"] = 0.5
    return data


def generate(rb: RuleBase, root: Path) -> dict[str, str]:
    """Both schemas as JSON text, keyed by file name (the determination's from tests/cases/)."""
    from .determination import Determination
    from .engines import evaluate_many

    results = evaluate_many(list(_case_files(root)), rb)
    samples = [r.to_dict() for r in results if isinstance(r, Determination)]
    samples += [_with_counterfactuals(path, rb) for path in _COUNTERFACTUAL_SAMPLES(root)]
    texts = {"case.schema.json": case_schema(rb), "determination.schema.json": determination_schema(samples)}
    return {name: json.dumps(data, indent=1, ensure_ascii=False) + "\n" for name, data in texts.items()}


def run(rb: RuleBase, root: Path, check: bool) -> list[str]:
    """Write the schemas (or with ``check`` compare them); one line per file, the stale ones
    prefixed by '!'."""
    if not (root / "tests" / "cases").is_dir():
        return [("reasoner/schemas: not generated here (they are read from the case files of a checkout's "
                 "tests/cases/)")]
    lines = []
    for name, text in generate(rb, root).items():
        path = FOLDER / name
        current = path.is_file() and path.read_text(encoding="utf-8") == text
        if current:
            lines.append(f"reasoner/schemas/{name}: current")
        elif check:
            lines.append(f"!reasoner/schemas/{name}: stale")
        else:
            FOLDER.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            lines.append(f"reasoner/schemas/{name}: rewritten")
    return lines


def field_table(schema: dict[str, Any]) -> str:
    """The fields of a generated schema as a Markdown table (path, JSON type, always there)."""
    rows: list[str] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        if "$ref" in node:
            return
        required = set(node.get("required", []))
        for key, value in node.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            kind = value.get("type", "object" if "$ref" in value else "")
            kinds = "/".join(kind) if isinstance(kind, list) else kind
            extra = value.get("format") or ("one of " + ", ".join(f"`{e}`" for e in value["enum"] if e)
                                            if "enum" in value else "")
            rows.append(f"| `{path}` | {kinds}{' (' + extra + ')' if extra else ''} | "
                        f"{'yes' if key in required else 'no'} |")
            walk(value, path)
            if isinstance(value.get("items"), dict):
                walk(value["items"], path + "[]")

    walk(schema, "")
    criterion = schema.get("$defs", {}).get("criterion")
    if criterion:
        walk(criterion, "criterion")
    return "\n".join(["| field | JSON type | always there |", "|---|---|---|", *rows])


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("schema", help="print the JSON Schema of the case format or of the determination")
    parser.add_argument("name", choices=("case", "determination"))
    parser.set_defaults(handler=_main)


def _main(args: argparse.Namespace) -> int:
    sys.stdout.write(json.dumps(load(args.name), indent=1, ensure_ascii=False) + "\n")
    return 0
