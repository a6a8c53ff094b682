"""Reading a case file's bytes into plain data: YAML built event by event, JSON with duplicate
keys refused and NaN/Infinity read as floats for the checks to refuse (see the package
docstring)."""

from __future__ import annotations

import json
import threading
from typing import Any

import yaml

from ..errors import IntakeError, Problem
from .limits import LIMITS, join, list_limit

_YAML = "tag:yaml.org,2002:"
_PLAIN_SCALARS = {_YAML + t for t in ("str", "int", "float", "bool", "null")}


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
                        raise _Refused(f"{join(path, key)} {where}", "this field is given twice")
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
                if len(container) >= list_limit(path):
                    raise _Refused(path, f"more than {list_limit(path)} entries")
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
    return join(path, len(container)) if isinstance(container, list) else join(path, key or "")




def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(join("", key), "this field is given twice in one object")
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
