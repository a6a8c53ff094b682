"""Thresholds: the numbers a guideline sets, each with its dated values, and the placeholders by
which kb/ texts state them.

A threshold (``mtus:Threshold``) has a unit and one or more dated values (``mtus:values``), as
OpenFisca's parameters do: a value is in force from its ``mtus:effectiveFrom`` until the day
before the next value's, or until its own ``mtus:effectiveUntil``. Shapes (``mtus:maxInclusiveFrom
kb:x``), derivation rules (the ``mtus:values`` idiom of kb/rules/) and texts all use the value in
force on the rule date, so that the words and the decisions cannot drift apart.

A kb/ text names a threshold by a placeholder ``{NAME}`` or ``{NAME:FORMAT}``, NAME being the
threshold's local name (``{cpmtg-2009-tpi-max-injections-per-session}``):

- no format: the number and its unit (``4 injections``, ``50%``, ``1 month``);
- ``number``: the number alone (``4``);
- ``words``: the number in words and its unit (``four injections``); ``word``: the word alone
  (a number that is not whole or is 1,000 or more is written in digits);
- ``range``: the range the guideline states (``3-4 injections``, from ``mtus:otherFigure``), or
  the number and unit when it states none; ``range-number``: the range alone (``3-4``).

How a unit is written comes from the ontology (``mtus:writtenAs``, ``mtus:writtenAsOne``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from .errors import RuleBaseError
from .namespaces import KB, MTUS, qname

PLACEHOLDER = re.compile(r"\{([a-z0-9][a-z0-9.-]*)(?::([a-z-]+))?\}")
FORMATS = ("", "number", "words", "word", "range", "range-number")
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class DatedValue:
    """A threshold's number over a period (``end`` None: in force until a later value)."""

    value: Literal
    start: dt.date
    end: dt.date | None
    other: Literal | None = None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Threshold:
    iri: URIRef
    label: str
    unit: URIRef | None
    values: tuple[DatedValue, ...]  # by start date
    #: a number the guideline states that no criterion turns on (texts only)
    stated_only: bool = False

    def covers(self, start: dt.date, end: dt.date | None) -> bool:
        """Whether a value is in force on every day from ``start`` to ``end`` (None: on)."""
        day: dt.date | None = start
        while day is not None and (end is None or day <= end):
            value = self.on(day)
            if value is None:
                return False
            day = value.end + _ONE_DAY if value.end is not None else None
        return True

    def on(self, day: dt.date) -> DatedValue | None:
        """The value in force on ``day`` (None: none is)."""
        for value in self.values:
            if value.covers(day):
                return value
        return None


def _date(node: Node | None) -> dt.date | None:
    if isinstance(node, Literal) and isinstance(node.toPython(), dt.date):
        result: dt.date = node.toPython()
        return result
    return None


def read(kb: Graph, files: Mapping[URIRef, str]) -> dict[URIRef, Threshold]:
    """Every threshold of kb/ with its dated values; adds to ``kb`` the ``mtus:effectiveUntil``
    that a later value implies (the day before it starts), so that rules need not work it out."""
    out: dict[URIRef, Threshold] = {}
    for node in sorted(s for s in kb.subjects(RDF.type, MTUS.Threshold) if isinstance(s, URIRef)):
        where = f"{files.get(node, 'kb/')}: {qname(node)}"
        dated: list[tuple[Node, DatedValue]] = []
        for value_node in kb.objects(node, MTUS["values"]):
            value = kb.value(value_node, MTUS.value)
            start = _date(kb.value(value_node, MTUS.effectiveFrom))
            if not isinstance(value, Literal) or start is None:
                raise RuleBaseError(where, "a dated value (mtus:values) needs a mtus:value and a mtus:effectiveFrom date")
            other = kb.value(value_node, MTUS.otherFigure)
            dated.append((value_node, DatedValue(value, start, _date(kb.value(value_node, MTUS.effectiveUntil)),
                                                 other if isinstance(other, Literal) else None)))
        if not dated:
            raise RuleBaseError(where, "a threshold needs at least one dated value: "
                                       "mtus:values [ mtus:effectiveFrom \"YYYY-MM-DD\"^^xsd:date ; mtus:value N ]")
        dated.sort(key=lambda pair: pair[1].start)
        values: list[DatedValue] = []
        for index, (value_node, dv) in enumerate(dated):
            if index + 1 < len(dated):
                following = dated[index + 1][1]
                implied = following.start - _ONE_DAY
                if dv.start == following.start:
                    raise RuleBaseError(where, f"two dated values take effect on {dv.start}")
                if dv.end is None:
                    kb.add((value_node, MTUS.effectiveUntil, Literal(implied, datatype=XSD.date)))
                    dv = DatedValue(dv.value, dv.start, implied, dv.other)
                elif dv.end > implied:
                    raise RuleBaseError(where, f"the value from {dv.start} ends on {dv.end}, after the next one takes effect")
            values.append(dv)
        unit = kb.value(node, MTUS.unitOfMeasure)
        out[node] = Threshold(node, str(kb.value(node, RDFS.label) or ""), unit if isinstance(unit, URIRef) else None,
                              tuple(values), kb.value(node, MTUS.statedOnly) == Literal(True))
    return out


def placeholders(text: str) -> list[tuple[str, str]]:
    """The (name, format) of every placeholder in a text."""
    return [(m.group(1), m.group(2) or "") for m in PLACEHOLDER.finditer(text)]


def named(text: str) -> set[URIRef]:
    """The thresholds a text names."""
    return {KB[name] for name, _ in placeholders(text)}


_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def in_words(number: int) -> str:
    """An English cardinal for 0 to 999."""
    if number < 20:
        return _SMALL[number]
    if number < 100:
        tens, rest = divmod(number, 10)
        return _TENS[tens - 2] + (f"-{_SMALL[rest]}" if rest else "")
    hundreds, rest = divmod(number, 100)
    return f"{_SMALL[hundreds]} hundred" + (f" {in_words(rest)}" if rest else "")


def number_text(value: object) -> str:
    """A threshold's number as written: an integer without decimals, a decimal as stated."""
    if isinstance(value, dt.date):
        return f"{value:%B} {value.day}, {value.year}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (Decimal, float)):
        if value == int(value):
            return str(int(value))
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


class Writer:
    """Fills the placeholders of kb/ texts with the values in force; units as the ontology
    writes them."""

    def __init__(self, thresholds: Mapping[URIRef, Threshold], ontology: Graph) -> None:
        self.thresholds = thresholds
        self._units: dict[URIRef, tuple[str, str, str]] = {}
        for unit, many in ontology.subject_objects(MTUS.writtenAs):
            if isinstance(unit, URIRef):
                one = ontology.value(unit, MTUS.writtenAsOne)
                label = ontology.value(unit, RDFS.label)
                self._units[unit] = (str(many), str(one) if one is not None else str(many), str(label or ""))

    def _unit(self, threshold: Threshold, number: str, plural: bool, words: bool) -> str:
        many, one, label = self._units.get(threshold.unit, ("{n}", "{n}", "")) if threshold.unit else ("{n}", "{n}", "")
        pattern = many if plural else one
        if words and "{n} " not in pattern and pattern != "{n}":
            pattern = "{n} " + label  # "fifty percent", not "fifty%"
        return pattern.replace("{n}", number)

    def value_text(self, threshold: Threshold, value: DatedValue, fmt: str, where: str) -> str:
        number = value.value.toPython()
        text = number_text(number)
        plural = not (isinstance(number, (int, Decimal, float)) and not isinstance(number, bool) and number == 1)
        if fmt in ("words", "word"):
            whole = isinstance(number, int) or (isinstance(number, Decimal) and number == int(number))
            if whole and 0 <= number < 1000 and not isinstance(number, bool):
                text = in_words(int(number))  # else in digits: no one writes 1,500 or 2.5 in words
            return text if fmt == "word" else self._unit(threshold, text, plural, words=True)
        if fmt in ("range", "range-number") and value.other is not None:
            low, high = sorted((value.other.toPython(), number))
            text, plural = f"{number_text(low)}-{number_text(high)}", True
        if fmt in ("number", "range-number"):
            return text
        return self._unit(threshold, text, plural, words=False)

    def fill(self, text: str, day: dt.date, where: str) -> str:
        """``text`` with every placeholder replaced by the value in force on ``day``."""

        def replace(match: re.Match[str]) -> str:
            name, fmt = match.group(1), match.group(2) or ""
            threshold = self.thresholds.get(KB[name])
            if threshold is None:
                raise RuleBaseError(where, f"{{{name}}} names no threshold of kb/ (kb:{name} a mtus:Threshold)")
            if fmt not in FORMATS:
                raise RuleBaseError(where, f"{{{name}:{fmt}}}: unknown format; use one of "
                                           + ", ".join(repr(f) for f in FORMATS if f))
            value = threshold.on(day)
            if value is None:
                raise RuleBaseError(where, f"{{{name}}}: kb:{name} has no value in force on {day}")
            return self.value_text(threshold, value, fmt, where)

        return PLACEHOLDER.sub(replace, text)


def periods(thresholds: Iterable[Threshold], start: dt.date, end: dt.date | None) -> list[dt.date]:
    """The days within [start, end] on which the value of one of ``thresholds`` changes, with
    ``start``: each begins a period over which all their values stay the same."""
    days = {start}
    for threshold in thresholds:
        for value in threshold.values:
            if start < value.start and (end is None or value.start <= end):
                days.add(value.start)
            if value.end is not None and start <= value.end and (end is None or value.end < end):
                days.add(value.end + _ONE_DAY)
    return sorted(days)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:-\d+(?:\.\d+)?)?%?|\b(?:" + "|".join(_SMALL[2:] + _TENS) + r")\b",
                     re.IGNORECASE)


def stated_numbers(text: str, allowed: Iterable[re.Pattern[str]]) -> list[str]:
    """The numbers a text states outside its placeholders and outside the ``allowed`` patterns
    (page numbers, regulation sections, spinal levels...): each one a number the text restates
    instead of naming its threshold. "one" is not counted (it is mostly a pronoun)."""
    bare = PLACEHOLDER.sub(" ", text)
    for pattern in allowed:
        bare = pattern.sub(" ", bare)
    return [m.group(0) for m in _NUMBER.finditer(bare)]
