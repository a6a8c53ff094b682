"""Checking parsed data as a case: bounds, Unicode and JSON-LD keywords over the whole data, the
case format's JSON Schema (made from the intake shapes), finite numbers."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
import threading
from typing import Any

from ..errors import IntakeError, Problem
from .limits import FIELD_NAME, LIMITS, bad_text, join, list_limit

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
                if bad_text(key) or len(key) > LIMITS.key_chars:
                    problems.append(Problem(where, "a field name that is not a case-format name "
                                                   f"(letters, digits, _ and -, at most {LIMITS.key_chars})"))
                    continue
                if key.startswith("@"):
                    problems.append(Problem(join(path, key), f"unknown field {key!r}: JSON-LD keywords are not "
                                                              "fields of a YAML or JSON case"))
                    continue
                todo.append((value, join(path, key), depth + 1))
        elif isinstance(node, list):
            limit = list_limit(path)
            if len(node) > limit:
                problems.append(Problem(where, f"more than {limit} entries"))
                continue
            todo.extend((item, join(path, i), depth + 1) for i, item in reversed(list(enumerate(node))))
        elif isinstance(node, str):
            if bad_text(node):
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
            todo.extend((v, join(path, k)) for k, v in node.items())
        elif isinstance(node, list):
            todo.extend((v, join(path, i)) for i, v in enumerate(node))
        elif isinstance(node, float) and not math.isfinite(node):
            return [Problem(path or "(top level)", "expected a finite number: NaN and Infinity are not numbers of "
                                                   "the case format")]
    return []




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
                    problems.append(Problem(join(path, name), required))
            extra = node.get("additionalProperties", True)
            for key, item in value.items():
                if key in props:
                    problems += self.check(item, props[key], join(path, key))
                elif extra is False:
                    if key.startswith("@"):
                        continue  # reported by the walk
                    suggestions = tuple(difflib.get_close_matches(key, sorted(props), n=3, cutoff=0.5))
                    shown = key if FIELD_NAME.match(key) else "(a field name)"
                    problems.append(Problem(join(path, key), f"unknown field {shown!r}: not a field of "
                                            f"{_where_in(path)}", suggestions))
                elif isinstance(extra, dict):
                    problems += self.check(item, extra, join(path, key))
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for i, item in enumerate(value):
                problems += self.check(item, node["items"], join(path, i))
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
            from ..schemas import case_schema

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
