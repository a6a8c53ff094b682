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

The modules: ``limits`` (what is accepted at most; field paths), ``reading`` (bytes to data),
``checking`` (data to a checked case).
"""

from __future__ import annotations

from typing import Any

from .checking import check
from .limits import LIMITS, Limits, bad_text, join, limits_table
from .reading import parse

__all__ = ["LIMITS", "Limits", "bad_text", "check", "join", "limits_table", "load", "mapping", "parse"]


def load(raw: bytes, suffix: str, rulebase: Any, source: str) -> dict[str, Any]:
    """A YAML or JSON case file's bytes as checked plain data (raises IntakeError)."""
    return mapping(parse(raw, suffix, source), rulebase, source)


def mapping(data: Any, rulebase: Any, source: str) -> dict[str, Any]:
    """Parsed data as a checked case: a FHIR R4 Bundle (a mapping with ``resourceType``) is read
    into the case format first (reasoner/fhir, problems by Bundle path); then the checks above."""
    if isinstance(data, dict) and "resourceType" in data:
        from ..fhir import bundle_in

        data = bundle_in.to_case(data, rulebase, source)
    check(data, rulebase, source)
    assert isinstance(data, dict)
    return data
