"""The one reader of case files: bytes (YAML or JSON) become plain data, checked, before any RDF.

Both engines, ``mtus evaluate``, ``mtus batch``, the API and the service read a case through
:func:`load` (a file's bytes) or :func:`check` (a mapping given in Python), so that they accept
and refuse exactly the same inputs with the same messages. The reader:

- YAML: events from the safe (libyaml) parser are built into data here, one event at a time:
  anchors and aliases are refused (no alias bomb, no self-reference), a field name must be
  text, a duplicate field name is refused, and only the plain YAML types are read (text,
  number, true/false, null, mapping, list: no ``!!set``, ``!!binary``, ``!!timestamp`` or
  custom tags); nesting, list lengths and text lengths are bounded while reading;
- JSON: a duplicate field name, ``NaN`` and ``Infinity`` are refused;
- then the data: every text must be valid Unicode (no lone surrogate, so that any output can
  be written in UTF-8), numbers finite, lists and texts within :data:`LIMITS`, no field name
  starting with ``@`` (JSON-LD keywords are not case fields), and the whole checked against
  the case format's JSON Schema (:func:`reasoner.schemas.case_schema`, the schema ``mtus docs``
  writes to reasoner/schemas/case.schema.json, made from the intake shapes).

Messages name the field path and what was expected, never the value found nor a line of the
file (a syntax error gives its line and column only): a case is health information.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
import threading
from dataclasses import asdict, dataclass
from typing import Any

import yaml

from .errors import IntakeError, Problem


@dataclass(frozen=True)
class Limits:
    """What the reader accepts at most (documented in the README, "Case files: limits")."""

    #: bytes in a case file (a 1,000-request case in YAML is about 0.2 MB)
    file_bytes: int = 2 * 1024 * 1024
    #: requested items in one case (the largest case `mtus evaluate` is measured on)
    requests: int = 1000
    #: entries in any other list (findings, diagnoses, medications, treatments, studies, ...)
    list_items: int = 500
    #: characters in one text (a free-text note included)
    text_chars: int = 20000
    #: characters in one field name
    key_chars: int = 64
    #: nesting of mappings and lists (the case format's deepest field is at depth 4)
    depth: int = 12
    #: problems reported for one case (the rest are counted)
    problems: int = 50


LIMITS = Limits()

_YAML = "tag:yaml.org,2002:"
_PLAIN_SCALARS = {_YAML + t for t in ("str", "int", "float", "bool", "null")}
_KEY = re.compile(r"^@?[A-Za-z0-9_\-]{1,64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def limits_table() -> dict[str, int]:
    """The limits as data (for the docs and the tests)."""
    return asdict(LIMITS)


# --- reading ---------------------------------------------------------------------------------


class _Refused(Exception):
    """One problem found while reading, with its place in the file."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class _Resolver(yaml.SafeLoader):
    """Plain scalars resolved as the safe loader does, without implicit timestamps (dates stay
    text, checked by the schema and the shapes)."""


_Resolver.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != _YAML + "timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LOCAL = threading.local()


def _resolver() -> _Resolver:
    found: _Resolver | None = getattr(_LOCAL, "resolver", None)
    if found is None:
        found = _LOCAL.resolver = _Resolver("")
    return found


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "an unknown place"


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    shown = key if _KEY.match(key) else "(a field name)"
    return f"{path}.{shown}" if path else shown


def _scalar(event: Any, resolver: _Resolver, where: str) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = resolver.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
    if tag not in _PLAIN_SCALARS:
        raise _Refused(where, "only plain YAML values are read (text, number, true/false, null); "
                              "a tagged value (such as !!binary or !!timestamp) is not")
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return resolver.construct_object(node)
    except (ValueError, yaml.YAMLError):
        raise _Refused(where, "expected a number that can be read (too many digits)") from None


def _yaml(text: str) -> Any:
    """The data of one YAML document, built from the parser's events (see the module docstring)."""
    resolver = _resolver()
    parser = _PARSER(text)
    stack: list[tuple[Any, str, str | None]] = []  # (container, its path, pending key of a mapping)
    result: Any = None
    documents = 0
    done = False
    try:
        while True:
            event = parser.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _Refused("(file)", f"expected one YAML document; a second one starts at "
                                             f"{_where(event.start_mark)}")
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentEndEvent)):
                continue
            where = f"(file, {_where(event.start_mark)})"
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise _Refused(where, "YAML anchors and aliases (&name, *name) are not read in a case file")
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                value, _, _ = stack.pop()
            else:
                if stack and isinstance(stack[-1][0], dict) and stack[-1][2] is None:
                    # a field name
                    container, path, _ = stack[-1]
                    if not isinstance(event, yaml.ScalarEvent):
                        raise _Refused(f"{path or '(top level)'} {where}", "a field name must be text")
                    key = _scalar(event, resolver, where)
                    if not isinstance(key, str):
                        raise _Refused(f"{path or '(top level)'} {where}", "a field name must be text "
                                       "(quote a name that reads as a number, date or true/false)")
                    if key in container:
                        raise _Refused(f"{_join(path, key)} {where}", "this field is given twice")
                    if len(key) > LIMITS.key_chars:
                        raise _Refused(f"{path or '(top level)'} {where}",
                                       f"a field name longer than {LIMITS.key_chars} characters")
                    stack[-1] = (container, path, key)
                    continue
                if isinstance(event, yaml.ScalarEvent):
                    value = _scalar(event, resolver, where)
                else:
                    tag = event.tag
                    plain = _YAML + ("seq" if isinstance(event, yaml.SequenceStartEvent) else "map")
                    if tag not in (None, "!", plain):
                        raise _Refused(where, "only plain YAML mappings and lists are read; a tagged one "
                                              "(such as !!set or !!omap) is not")
                    if len(stack) >= LIMITS.depth:
                        raise _Refused(where, f"nesting deeper than {LIMITS.depth} levels")
                    path = _path_of(stack)
                    stack.append(([] if isinstance(event, yaml.SequenceStartEvent) else {}, path, None))
                    continue
            if not stack:
                result, done = value, True
                continue
            container, path, key = stack[-1]
            if isinstance(container, list):
                if len(container) >= _list_limit(path):
                    raise _Refused(path, f"more than {_list_limit(path)} entries")
                container.append(value)
            else:
                assert key is not None
                container[key] = value
                stack[-1] = (container, path, None)
    except yaml.MarkedYAMLError as exc:
        raise _Refused("(file)", f"not valid YAML at {_where(exc.problem_mark or exc.context_mark)}") from None
    except yaml.YAMLError:
        raise _Refused("(file)", "not valid YAML") from None
    finally:
        parser.dispose()
    return result if done else None


def _path_of(stack: list[tuple[Any, str, str | None]]) -> str:
    """The field path of the value about to be added to the innermost container."""
    if not stack:
        return ""
    container, path, key = stack[-1]
    return _join(path, len(container)) if isinstance(container, list) else _join(path, key or "")


def _list_limit(path: str) -> int:
    return LIMITS.requests if path == "requests" else LIMITS.list_items


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(_join("", key), "this field is given twice in one object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    """NaN and Infinity read as floats, so that the checks below refuse them at their field, as
    they refuse them in a mapping given to the API (the same problems either way)."""
    return float(name.replace("Infinity", "inf"))


def _json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise _Refused("(file)", f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})") from None
    except RecursionError:
        raise _Refused("(file)", f"nesting deeper than {LIMITS.depth} levels") from None
    except ValueError:  # an integer of more digits than Python reads
        raise _Refused("(file)", "expected a number that can be read (too many digits)") from None


def parse(raw: bytes, suffix: str, source: str, max_bytes: int | None = None) -> Any:
    """The data of a YAML or JSON file's bytes (not yet checked against the schema); ``max_bytes``
    (default: the case-file limit) for a body holding several cases (the service's /batch)."""
    limit = LIMITS.file_bytes if max_bytes is None else max_bytes
    if len(raw) > limit:
        raise IntakeError(source, [Problem("(file)", f"larger than {limit} bytes, the case-file limit")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(source, [Problem("(file)", f"not valid UTF-8 text (at byte {exc.start})")]) from None
    try:
        data = _json(text) if suffix in (".json", ".jsonld", ".jsonl") else _yaml(text)
        _depth(data)
    except _Refused as exc:
        raise IntakeError(source, [Problem(exc.path, exc.message)]) from None
    return data


def _depth(data: Any) -> None:
    """Refuse nesting deeper than the limit (iteratively: no recursion on the data)."""
    todo: list[tuple[Any, int]] = [(data, 0)]
    while todo:
        node, depth = todo.pop()
        if depth > LIMITS.depth:
            raise _Refused("(file)", f"nesting deeper than {LIMITS.depth} levels")
        if isinstance(node, dict):
            todo.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            todo.extend((v, depth + 1) for v in node)


# --- checking the data -----------------------------------------------------------------------


def _walk(data: Any) -> list[Problem]:
    """Bounds, Unicode and JSON-LD keywords over the whole data (iteratively); finite numbers
    are checked after the schema (_finite), which names a numeric field's range first."""
    problems: list[Problem] = []
    todo: list[tuple[Any, str, int]] = [(data, "", 0)]
    while todo and len(problems) < LIMITS.problems:
        node, path, depth = todo.pop()
        where = path or "(top level)"
        if depth > LIMITS.depth:
            problems.append(Problem(where, f"nesting deeper than {LIMITS.depth} levels"))
            continue
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    problems.append(Problem(where, "a field name must be text"))
                    continue
                if _bad_text(key) or len(key) > LIMITS.key_chars:
                    problems.append(Problem(where, "a field name that is not a case-format name "
                                                   f"(letters, digits, _ and -, at most {LIMITS.key_chars})"))
                    continue
                if key.startswith("@"):
                    problems.append(Problem(_join(path, key), f"unknown field {key!r}: JSON-LD keywords are not "
                                                              "fields of a YAML or JSON case"))
                    continue
                todo.append((value, _join(path, key), depth + 1))
        elif isinstance(node, list):
            limit = _list_limit(path)
            if len(node) > limit:
                problems.append(Problem(where, f"more than {limit} entries"))
                continue
            todo.extend((item, _join(path, i), depth + 1) for i, item in reversed(list(enumerate(node))))
        elif isinstance(node, str):
            if _bad_text(node):
                problems.append(Problem(where, "text that is not valid Unicode (a lone surrogate code point)"))
            elif len(node) > LIMITS.text_chars:
                problems.append(Problem(where, f"text longer than {LIMITS.text_chars} characters"))
        elif node is not None and not isinstance(node, (bool, int, float)):
            problems.append(Problem(where, "expected text, a number, true/false, a list or a mapping"))
    return problems


def _finite(data: Any) -> list[Problem]:
    """Any NaN or infinity the schema let through (a field without a numeric range)."""
    todo: list[tuple[Any, str]] = [(data, "")]
    while todo:
        node, path = todo.pop()
        if isinstance(node, dict):
            todo.extend((v, _join(path, k)) for k, v in node.items())
        elif isinstance(node, list):
            todo.extend((v, _join(path, i)) for i, v in enumerate(node))
        elif isinstance(node, float) and not math.isfinite(node):
            return [Problem(path or "(top level)", "expected a finite number: NaN and Infinity are not numbers of "
                                                   "the case format")]
    return []


def _bad_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_TYPES: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,), "string": (str,),
                                       "boolean": (bool,), "null": (type(None),)}


def _is(value: Any, kind: str) -> bool:
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, _TYPES.get(kind, ()))


class _Schema:
    """The subset of JSON Schema 2020-12 that reasoner.schemas writes: type, enum, format date,
    pattern, minimum/maximum (inclusive and exclusive), properties, required,
    additionalProperties, items, anyOf and local $ref."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            ref = node["$ref"]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            target = self.root
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            node = {**target, **{k: v for k, v in rest.items() if k == "description"}}
        return node

    def check(self, value: Any, node: dict[str, Any], path: str) -> list[Problem]:
        node = self._deref(node)
        where = path or "(top level)"
        said = node.get("description", "")
        if "anyOf" in node:
            options = [self._deref(o) for o in node["anyOf"]]
            tries = [self.check(value, {**o, **({"description": said} if said and "description" not in o else {})}, path)
                     for o in options]
            if any(not t for t in tries):
                rest = {k: v for k, v in node.items() if k != "anyOf"}
                return self.check(value, rest, path) if set(rest) - {"description"} else []
            # the option of the value's own kind says most (a list of objects, or one object)
            kinds = [o.get("type") for o in options]
            for option, tried in zip(options, tries, strict=True):
                if option.get("type") is not None and _is(value, option["type"]):
                    return tried
            typed = [t for t, k in zip(tries, kinds, strict=True) if k is None]
            return typed[0] if typed else tries[0]
        kind = node.get("type")
        found = _shown(value)
        if kind is not None and not _is(value, kind):
            return [Problem(where, said or f"expected {_KIND_TEXT.get(kind, kind)}", found=found)]
        if "enum" in node and value not in node["enum"]:
            allowed = [str(e) for e in node["enum"] if e is not None]
            suggestions = tuple(difflib.get_close_matches(value, allowed, n=3, cutoff=0.5)) if isinstance(value, str) else ()
            text = f"unknown code: {said}" if said else f"expected one of {', '.join(allowed)}"
            return [Problem(where, text, suggestions, found=found)]
        if node.get("format") == "date" and isinstance(value, str) and not _is_date(value):
            return [Problem(where, said or "expected a date YYYY-MM-DD", found=found)]
        if "pattern" in node and isinstance(value, str) and not re.search(node["pattern"], value):
            return [Problem(where, said or "not in the expected form", found=found)]
        if _is(value, "number") and not _in_range(value, node):
            return [Problem(where, said or "out of the allowed range", found=found)]
        problems: list[Problem] = []
        if isinstance(value, dict):
            props: dict[str, Any] = node.get("properties", {})
            for name in node.get("required", []):
                if name not in value:
                    required = props.get(name, {}).get("description") or "required"
                    problems.append(Problem(_join(path, name), required))
            extra = node.get("additionalProperties", True)
            for key, item in value.items():
                if key in props:
                    problems += self.check(item, props[key], _join(path, key))
                elif extra is False:
                    if key.startswith("@"):
                        continue  # reported by the walk
                    suggestions = tuple(difflib.get_close_matches(key, sorted(props), n=3, cutoff=0.5))
                    shown = key if _KEY.match(key) else "(a field name)"
                    problems.append(Problem(_join(path, key), f"unknown field {shown!r}: not a field of "
                                            f"{_where_in(path)}", suggestions))
                elif isinstance(extra, dict):
                    problems += self.check(item, extra, _join(path, key))
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for i, item in enumerate(value):
                problems += self.check(item, node["items"], _join(path, i))
        return problems


def _shown(value: Any) -> str:
    """A value as ``--verbose`` shows it (short, one line)."""
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 80 else text[:77] + "..."


_KIND_TEXT = {"object": "a mapping of fields", "array": "a list", "string": "text", "number": "a number",
              "integer": "a whole number", "boolean": "true or false"}


def _where_in(path: str) -> str:
    if not path:
        return "a case (see reasoner/schemas/case.schema.json)"
    return "this object (see reasoner/schemas/case.schema.json)"


def _is_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _in_range(value: float, node: dict[str, Any]) -> bool:
    if not math.isfinite(value):
        return False
    if "minimum" in node and value < node["minimum"]:
        return False
    if "maximum" in node and value > node["maximum"]:
        return False
    if "exclusiveMinimum" in node and value <= node["exclusiveMinimum"]:
        return False
    return not ("exclusiveMaximum" in node and value >= node["exclusiveMaximum"])


_SCHEMAS: dict[int, tuple[Any, _Schema]] = {}
_GUARD = threading.Lock()


def _schema(rulebase: Any) -> _Schema:
    with _GUARD:
        found = _SCHEMAS.get(id(rulebase))
        if found is None or found[0] is not rulebase:
            from .schemas import case_schema

            found = _SCHEMAS[id(rulebase)] = (rulebase, _Schema(case_schema(rulebase)))
    return found[1]


def check(data: Any, rulebase: Any, source: str) -> None:
    """Raise IntakeError unless ``data`` is a case the schema and the limits accept."""
    if not isinstance(data, dict):
        raise IntakeError(source, [Problem("(top level)", "expected a mapping of case fields (id, review_date, "
                                           "requests, ...)")])
    problems = _walk(data)
    if not problems:
        schema = _schema(rulebase)
        problems = schema.check(data, schema.root, "")
    if not problems:
        problems = _finite(data)
    if problems:
        unique = sorted(set(problems), key=lambda p: (p.path, p.message))
        if len(unique) > LIMITS.problems:
            more = len(unique) - LIMITS.problems
            unique = unique[:LIMITS.problems] + [Problem("(case)", f"and {more} more problem(s)")]
        raise IntakeError(source, unique)


def load(raw: bytes, suffix: str, rulebase: Any, source: str) -> dict[str, Any]:
    """A YAML or JSON case file's bytes as checked plain data (raises IntakeError)."""
    return mapping(parse(raw, suffix, source), rulebase, source)


def mapping(data: Any, rulebase: Any, source: str) -> dict[str, Any]:
    """Parsed data as a checked case: a FHIR R4 Bundle (a mapping with ``resourceType``) is read
    into the case format first (reasoner/fhir, problems by Bundle path); then the checks above."""
    if isinstance(data, dict) and "resourceType" in data:
        from .fhir import bundle_in

        data = bundle_in.to_case(data, rulebase, source)
    check(data, rulebase, source)
    assert isinstance(data, dict)
    return data
