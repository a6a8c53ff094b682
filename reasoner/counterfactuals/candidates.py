"""The candidate changes for an unmet criterion, in case-format terms and in words: entries
added from the codes a shape or a rule names (within the request's region), request fields set
to a listed value or to a threshold's bound, prior courses documented with the outcome a shape
asks, documented negatives re-documented."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

from rdflib import Literal, URIRef
from rdflib.term import Node

from ..decisions import CriterionResult
from ..determination import Determination, ItemDecision
from ..namespaces import CODE, MTUS
from ..rulebase import RuleBase
from ..texts import Texts
from .model import Change
from .vocabulary import Need, Template, Vocabulary


class Candidates:
    """The changes the search tries for one case, each with the words the letter uses."""

    def __init__(self, data: dict[str, Any], det: Determination, rb: RuleBase, voc: Vocabulary,
                 texts: Texts) -> None:
        self.data = data
        self.det = det
        self.rb = rb
        self.voc = voc
        self.texts = texts
        self.request_index = {str(r.get("id")): i for i, r in enumerate(data.get("requests") or [])}
        self.root = str(det.case_iri)

    def for_criterion(self, item: ItemDecision, result: CriterionResult) -> list[tuple[str, Change]]:
        """(group, change) for one unmet criterion, in the order the search tries them."""
        request = (self.data.get("requests") or [])[self.request_index[item.request_id]]
        out: list[tuple[str, Change]] = []
        for fact in (f for r in result.walk() for f in r.contradicting):
            change = self._revise(fact.node)
            if change is not None:
                out.append((f"revise:{change.path}", change))
        for need in self.voc.needs(result):
            if need.kind == "code":
                for code in need.codes:
                    if not self.voc.fits(code, request.get("region")):
                        continue  # anatomically elsewhere (carpal tunnel release of the lumbar spine)
                    for template in self.voc.templates:
                        if template.slot_class is None or template.slot_class not in self.voc.types(code):
                            continue
                        if need.named and not need.named <= template.satisfies:
                            continue
                        out.append((need.group, self._add(template, code, request, item)))
            elif need.kind == "set":
                for value in need.values:
                    if isinstance(value, URIRef) and not self.voc.fits(value, request.get("region")):
                        continue
                    out.append((need.group, self._set(item, need.field, value, "edit-request-code")))
            elif need.kind == "bound":
                value = self._bound(item, need.values[0], need.values[1])
                if value is not None:
                    out.append((need.group, self._set(item, need.field, value, "edit-request-bound")))
            elif need.kind == "entry":
                out += [(need.group, c) for c in self._document_entries(item, request, need)]
        unique: dict[Change, str] = {}
        for group, change in out:
            unique.setdefault(change, group)
        return [(g, c) for c, g in unique.items()]

    def _document_entries(self, item: ItemDecision, request: dict[str, Any], need: Need) -> list[Change]:
        """The prior courses of the requested service or drug, each with the nested fields the
        shape asks (an outcome's relief at its threshold, functional improvement) documented."""
        template = self.voc.by_name["edit-entry-outcome"]
        out = []
        for index, entry in enumerate(self.data.get(template.list) or []):
            if not any(entry.get(k) is not None and entry.get(k) == request.get(k) for k in ("service", "drug")):
                continue
            if request.get("drug") is not None and entry.get("drug") != request.get("drug"):
                continue
            new = copy.deepcopy(entry)
            for sequence, bound, value in need.values:
                if bound is None:
                    found: Any = value.toPython() if isinstance(value, Literal) else self.texts.notation(value)
                else:
                    found = self._bound(item, value, bound)
                    if found is None:
                        break
                    found = int(found) if found == found.to_integral_value() else float(found)
                names = [self.voc.fields[p] for p in sequence]
                holder = new
                for name in names[:-1]:
                    holder = holder.setdefault(name, {})
                    if not isinstance(holder, dict):
                        break
                else:
                    holder[names[-1]] = found
                    continue
                break
            else:
                if new != entry:
                    out.append(self.change("revise", f"{template.list}[{index}]", new, template))
        return out

    def _revise(self, node: Node | None) -> Change | None:
        if not isinstance(node, URIRef) or not str(node).startswith(self.root + "/"):
            return None
        parts = str(node)[len(self.root) + 1:].split("/")
        if len(parts) != 2 or not parts[1].isdigit():
            return None
        name, index = parts[0], int(parts[1])
        template = next((t for t in self.voc.templates if t.list == name and not t.slot_field and t.sets), None)
        entries = self.data.get(name) or []
        if template is None or index >= len(entries):
            return None
        entry = dict(entries[index])
        if all(entry.get(k) == v for k, v in template.sets) or not any(k in entry for k, _ in template.sets):
            return None
        entry.update(dict(template.sets))
        return self.change("revise", f"{name}[{index}]", entry, template)

    def _add(self, template: Template, code: URIRef, request: dict[str, Any], item: ItemDecision) -> Change:
        notation = self.texts.notation(code)
        entry: dict[str, Any] = {}
        entry[template.slot_field] = [notation] if template.slot_field == "findings" else notation
        for key in template.copies:
            if request.get(key) is not None:
                entry[key] = request[key]
        for key, value in template.sets:
            entry[key] = value
        review = str(self.data.get("review_date"))
        for key in template.start:
            entry[key] = str((self.data.get("injury") or {}).get("date") or review)
        for key in template.dated:
            entry[key] = review
        revised = self._supersede(template, entry)
        return revised if revised is not None else self.change("add", template.list, entry, template)

    def _supersede(self, template: Template, entry: dict[str, Any]) -> Change | None:
        """An entry the record already has as a documented negative (same code and region,
        present: false) is re-documented rather than contradicted by a second entry."""
        revise = next((t for t in self.voc.templates if t.list == template.list and not t.slot_field and t.sets), None)
        if revise is None:
            return None
        for index, old in enumerate(self.data.get(template.list) or []):
            same = all(old.get(k) == entry.get(k) for k in (template.slot_field, "region"))
            if same and any(old.get(k) is not None and old.get(k) != v for k, v in revise.sets):
                new = {**old, **entry, **dict(revise.sets)}
                return self.change("revise", f"{template.list}[{index}]", new, revise)
        return None

    def _set(self, item: ItemDecision, name: str, value: Any, template: str) -> Change:
        if isinstance(value, URIRef):
            value = self.texts.notation(value)
        elif isinstance(value, Literal):
            value = value.toPython()
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        path = f"requests[{self.request_index[item.request_id]}].{name}"
        return self.change("set", path, value, self.voc.by_name[template])

    def _bound(self, item: ItemDecision, threshold: URIRef, bound: URIRef) -> Decimal | None:
        day = item.rule_date or self.det.review_date
        found = self.rb.values_on(day).get(threshold)
        if found is None:
            return None
        value = found.value if isinstance(found.value, Decimal) else None
        if value is None:
            try:
                value = Decimal(str(found.value))
            except ArithmeticError:
                return None
        integral = value == value.to_integral_value()
        if bound == MTUS.maxExclusiveFrom:
            return value - 1 if integral else None
        if bound == MTUS.minExclusiveFrom:
            return value + 1 if integral else None
        return value

    def change(self, action: str, path: str, value: Any, template: Template) -> Change:
        return Change(action, path, json.dumps(value, sort_keys=True, default=str), template.name,
                      self.words(template, action, path, value))

    def words(self, template: Template, action: str, path: str, value: Any) -> str:
        t = self.texts
        label = t.label
        if action == "set":
            return t(template.text, field=path.rsplit(".", 1)[-1].replace("_", " "),
                     value=label(CODE[value]) if isinstance(value, str) else value)
        if action == "remove":
            return t(template.text, fact=self._entry_words(path.split("[")[0], value))
        return self._entry_words(template.list, value, template)

    def _entry_words(self, name: str, entry: dict[str, Any], template: Template | None = None) -> str:
        t = self.texts

        def label(value: Any) -> str:
            return t.label(CODE[str(value)])

        region = entry.get("region")
        where = t("fact-region", region=label(region)) if region else ""
        if template is not None and template.text == "change-study":
            codes = entry.get("findings") or []
            return t(template.text, kind=label(entry.get("kind")), where=where,
                     code=", ".join(label(c) for c in codes))
        if template is not None and template.text == "change-outcome":
            what = entry.get("service") or entry.get("drug")
            outcome = entry.get("outcome") or {}
            props = {v: k for k, v in self.voc.fields.items()}
            parts = [f"{t.label(props[k]) if k in props else k} {_value_words(v, t)}" for k, v in sorted(outcome.items())]
            return t(template.text, what=label(what), where=where, outcome=", ".join(parts))
        if template is not None and template.text == "change-treatment":
            what = entry.get("service") or entry.get("drug")
            return t(template.text, what=label(what), where=where)
        if template is not None:
            return t(template.text, code=label(entry.get("code")), where=where)
        # an entry as the record has it (what a decision rests on)
        what = entry.get("code") or entry.get("service") or entry.get("drug") or entry.get("kind") or entry.get("icd10")
        text = label(what) if what else name
        if entry.get("present") is False:
            text = t("fact-finding-absent", source=label(entry.get("source")) if entry.get("source")
                     else t("unknown-source"), code=text, where=where)
        return f"{text}{where}" if entry.get("present") is not False else text


def _value_words(value: Any, texts: Texts) -> str:
    if isinstance(value, bool):
        return texts("change-yes") if value else texts("change-no")
    return str(value)

