"""Cases received over HTTP: a body in one of the case formats becomes a case the engines read,
and a determination becomes the representation asked for (content negotiation).

A body is written to a private temporary file with its format's suffix and read by intake like
any case file (the same checks: remote JSON-LD contexts refused, nothing fetched; the same input
hash as ``mtus evaluate`` on the same bytes), then removed. Nothing of a case is logged.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import counterfactuals, engines, exports, letter_html, letters
from ..determination import Determination
from ..errors import IntakeError, Problem
from ..rulebase import RuleBase

#: request media type -> the suffix intake reads it by
BODY_TYPES = {
    "application/json": ".json",
    "application/fhir+json": ".json",  # a FHIR R4 Bundle of the case's resources (reasoner/fhir)
    "application/yaml": ".yaml",
    "application/x-yaml": ".yaml",
    "text/yaml": ".yaml",
    "text/x-yaml": ".yaml",
    "application/ld+json": ".jsonld",
    "text/turtle": ".ttl",
}

#: output name -> media type
OUTPUTS = {
    "json": "application/json",
    "letter": "text/plain; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "turtle": "text/turtle; charset=utf-8",
}
_ACCEPT = {"application/json": "json", "text/plain": "letter", "text/markdown": "markdown", "text/html": "html",
           "application/pdf": "pdf", "text/turtle": "turtle", "*/*": "json", "application/*": "json"}


def suffix_of(content_type: str | None) -> str:
    """The case file suffix of a request's Content-Type; IntakeError naming the accepted ones."""
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media not in BODY_TYPES:
        raise IntakeError("(request)", [Problem("Content-Type", f"expected one of {', '.join(BODY_TYPES)}; "
                                                f"got {media!r}")])
    return BODY_TYPES[media]


def output_of(accept: str | None, requested: str | None) -> str | None:
    """The output asked for: ``format`` if given, else the first Accept type known (default
    json); None when neither names one this service makes."""
    if requested:
        return requested if requested in OUTPUTS else None
    if not accept:
        return "json"
    ranked = []
    for position, part in enumerate(accept.split(",")):
        fields = part.strip().split(";")
        media = fields[0].strip().lower()
        quality = 1.0
        for param in fields[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media in _ACCEPT and quality > 0:
            ranked.append((-quality, position, _ACCEPT[media]))
    return min(ranked)[2] if ranked else None


@dataclass(frozen=True)
class Rendered:
    body: bytes
    media_type: str


@contextmanager
def case_file(body: bytes, suffix: str) -> Iterator[Path]:
    """The body as a case file only this user can read, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="mtus-case-") as folder:
        path = Path(folder) / f"case{suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        yield path


def evaluate_bytes(body: bytes, suffix: str, rb: RuleBase, with_counterfactuals: bool = False) -> Determination:
    """The determination of a case sent as bytes in the format of ``suffix``; with
    ``with_counterfactuals``, carrying its items' verified counterfactuals (YAML or JSON)."""
    with case_file(body, suffix) as path:
        if with_counterfactuals:
            found = counterfactuals.find(path, rb).determination
            assert found is not None
            return found
        return engines.evaluate(path, rb)


def render(dets: list[Determination], output: str, one: bool) -> Rendered:
    """The determinations as ``output``; JSON is one object for ``one`` case, else a list."""
    if output == "json":
        if one:
            return Rendered(dets[0].to_json().encode("utf-8") + b"\n", OUTPUTS[output])
        return Rendered(exports.to_json(dets).encode("utf-8"), OUTPUTS[output])
    if output == "html":
        return Rendered(letter_html.html(dets).encode("utf-8"), OUTPUTS[output])
    if output == "pdf":
        return Rendered(letter_html.pdf(dets), OUTPUTS[output])
    if output == "turtle":
        return Rendered(exports.to_turtle(dets).encode("utf-8"), OUTPUTS[output])
    texts = dets[0].texts
    assert texts is not None
    return Rendered(letters.render(dets, texts, md=output == "markdown").encode("utf-8"), OUTPUTS[output])
