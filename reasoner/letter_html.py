"""The determination letter as HTML and PDF, laid out as the plain-text letter (letters.py) and
an IMR Final Determination Letter: the case and provenance, per disputed item the decision, the
claims administrator's guideline and the one relied on (with its page), the rationale, each
criterion with its state and evidence, the documentation a provider would need; the physician
reviewer's qualifications (a placeholder for the reviewer) and the physician-review notice. Every
word is the kb's (kb/presentation.ttl and the sections' texts); the template holds layout only.
PDF by WeasyPrint, from the same HTML."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .decisions import CriterionResult
from .determination import Determination, ItemDecision
from .errors import MtusError
from .exports import _texts
from .letters import counterfactual_lines, formulary_lines
from .texts import Texts

TEMPLATES = Path(__file__).parent / "service" / "templates"


class PdfUnavailable(MtusError):
    """No PDF renderer on this machine."""


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",)),
                       trim_blocks=True, lstrip_blocks=True)


def _criterion(result: CriterionResult, item: ItemDecision, texts: Texts) -> dict[str, Any]:
    crit = result.criterion
    return {
        "order": crit.order,
        "statement": crit.statement,
        "status": result.status.value,
        "status_text": texts("status-not-applicable") if result.status.value == "not_applicable"
        else texts(f"status-{result.status.value}"),
        "pages": crit.pages,
        "confirmation": texts("confirmed") if crit.confirmed else texts("unconfirmed"),
        "evidence": [item.fact_text[f] for f in result.supporting + result.contradicting],
        "branches": [_criterion(b, item, texts) for b in result.branches],
    }


def _item(item: ItemDecision, texts: Texts, det: Determination | None = None) -> dict[str, Any]:
    section = item.section
    cited = item.ur_guideline_cited
    needed = [r.criterion.documentation_needed for r in item.unmet()
              if r.criterion.documentation_needed and not r.branches]
    return {
        "id": item.request_id,
        "heading": texts("letter-item", item=item.item_label.upper(), decision=texts(f"decision-{item.decision.value}")),
        "decision": item.decision.value,
        "ur_guideline": texts("letter-ur-guideline", cited=cited) if cited else texts("letter-ur-guideline-missing"),
        "applied": texts("letter-applied-guideline", citation=item.cited_as) if section is not None
        else texts("letter-no-guideline", citation=item.cited_as),
        "relied_on": texts("letter-guideline-relied-on", citation=section.citation())  # with its pages
        if section is not None else "",
        "search_step": texts("letter-search-step", step=section.search_step.label) if section is not None else "",
        "rule_date": texts("letter-rule-date", edition=texts.label(item.edition), date=item.rule_date.isoformat(),
                           kind=texts.label(item.date_key))
        if item.edition is not None and item.rule_date is not None and item.date_key is not None
        else texts("letter-no-rule-date"),
        "formulary": formulary_lines(item, texts)
        if item.formulary is not None and item.formulary.list_version is not None else [],
        "counterfactuals": counterfactual_lines(det, item, texts) if det is not None else [],
        "flags": [texts("letter-flag", flag=f) for f in item.flags]
        + ([texts("letter-physician-review", reason=item.physician_review_reason)] if item.physician_review_reason else []),
        "rationale": texts("letter-rationale", rationale=item.rationale),
        "criteria": [_criterion(r, item, texts) for r in item.criteria],
        "documentation": list(dict.fromkeys(needed)),
    }


def parts(det: Determination, texts: Texts | None = None) -> dict[str, Any]:
    """Every text of the letter, in order, for a template."""
    texts = texts or det.texts or _texts()
    return {
        "title": texts("letter-title"),
        "case_line": texts("letter-case", case=det.case_id, review_date=det.review_date.isoformat(),
                           edition=det.edition_label or "-"),
        "provenance": texts("letter-provenance", version=det.rulebase_version, digest=det.rulebase_digest[:12],
                            input_hash=det.input_hash[:16]),
        "issues_heading": texts("letter-issues-heading"),
        "issues_intro": texts("letter-issues-intro"),
        "criteria_heading": texts("letter-criteria-heading").rstrip(":"),
        "documentation_heading": texts("letter-documentation-heading").rstrip(":"),
        "reviewer_heading": texts("letter-reviewer-heading"),
        "reviewer": texts("letter-reviewer-qualifications"),
        "notice": texts("letter-physician-notice") if det.requires_physician_review else texts("letter-all-certified"),
        "items": [_item(i, texts, det) for i in det.items],
        "case": det.case_id,
    }


def html(dets: list[Determination], texts: Texts | None = None, standalone: bool = True) -> str:
    """The letters of the determinations as one HTML document (or, not standalone, a fragment)."""
    template = environment().get_template("letter.html")
    return template.render(letters=[parts(d, texts) for d in dets], standalone=standalone)


def pdf(dets: list[Determination], texts: Texts | None = None) -> bytes:
    """The letters as PDF (WeasyPrint; nothing is fetched: the style is inline). PdfUnavailable
    where WeasyPrint's libraries (pango) are not installed."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(f"letters as PDF need WeasyPrint and pango ({type(exc).__name__}); "
                             "`make` installs them on Debian") from None

    def refuse(url: str) -> dict[str, Any]:
        raise ValueError(f"the letter fetches nothing ({url})")

    data: bytes = HTML(string=html(dets, texts), url_fetcher=refuse).write_pdf()
    return data
