"""The determination letter (plain text, or Markdown), laid out like an IMR Final Determination:
per item the decision, the claims administrator's guideline and the applied one, the rationale,
then the criteria and the documentation a provider would need. All words come from kb/."""

from __future__ import annotations

import textwrap

from .decisions import CriterionResult
from .determination import Determination, ItemDecision
from .texts import Texts


def _status(result: CriterionResult, texts: Texts) -> str:
    return texts("status-not-applicable") if not result.applicable else texts(f"status-{result.status}")


def formulary_lines(item: ItemDecision, texts: Texts) -> list[str]:
    """The formulary answer in plain words, with the regulation it applied."""
    answer = item.formulary
    assert answer is not None
    required = answer.prospective_review_required
    key = "not-applicable" if required is None else "required" if required else "not-required"
    version = texts("letter-formulary-version", version=answer.list_version) if answer.list_version else ""
    confirmation = texts("confirmed") if answer.confirmed else texts("unconfirmed")
    return [texts(f"letter-formulary-{key}", status=answer.status_label),
            texts("letter-formulary-rule", rule=answer.rule, version=version, confirmation=confirmation, why=answer.why),
            texts("letter-formulary-note")]


def counterfactual_lines(det: Determination, item: ItemDecision, texts: Texts) -> list[str]:
    """The supported quantity of an item over a limit, and its verified counterfactuals when
    the determination carries them (reasoner.counterfactuals)."""
    lines = [item.supported_quantity.text] if item.supported_quantity is not None else []
    found = (next((i for i in det.counterfactuals.items if i.request_id == item.request_id), None)
             if det.counterfactuals is not None else None)
    if found is not None:
        lines += [texts("counterfactual-heading")]
        lines += [s.text for s in found.sets] if found.sets else [found.text]
    return lines


def _item_lines(item: ItemDecision, texts: Texts, md: bool, det: Determination | None = None) -> list[str]:
    heading = texts("letter-item", item=item.item_label.upper(), decision=texts(f"decision-{item.decision}"))
    lines = [f"### {heading}" if md else heading, ""]
    cited = item.ur_guideline_cited
    lines.append(texts("letter-ur-guideline", cited=cited) if cited else texts("letter-ur-guideline-missing"))
    if item.section is not None:
        lines.append(texts("letter-applied-guideline", citation=item.cited_as))
        lines.append(texts("letter-search-step", step=item.section.search_step.label))
    else:
        lines.append(texts("letter-no-guideline", citation=item.cited_as))
    if item.edition is not None and item.rule_date is not None:
        lines.append(texts("letter-rule-date", edition=texts.label(item.edition), date=item.rule_date.isoformat(),
                           kind=texts.label(item.date_key)))
    else:
        lines.append(texts("letter-no-rule-date"))
    for flag in item.flags:
        lines.append(texts("letter-flag", flag=flag))
    if item.physician_review_reason:
        lines.append(texts("letter-physician-review", reason=item.physician_review_reason))
    lines += ["", texts("letter-rationale", rationale=item.rationale)]
    if item.formulary is not None and item.formulary.list_version is not None:
        # a drug dispensed before the formulary (no Drug List in force): JSON and Turtle say so
        lines += [""] + formulary_lines(item, texts)
    extra = counterfactual_lines(det, item, texts) if det is not None else []
    if extra:
        lines += [""] + extra
    if item.criteria:
        lines += ["", texts("letter-criteria-heading")]
        for result in item.criteria:
            crit = result.criterion
            confirmation = texts("confirmed") if crit.confirmed else texts("unconfirmed")
            lines.append(texts("letter-criterion", status=_status(result, texts), order=crit.order,
                               statement=crit.statement, citation=f"p.{crit.pages}" if crit.pages else
                               item.section.label if item.section else "", confirmation=confirmation))
            for branch in result.branches:
                lines.append(texts("letter-branch", status=_status(branch, texts),
                                   statement=branch.criterion.statement))
    needed = [r.criterion.documentation_needed for r in item.unmet()
              if r.criterion.documentation_needed and not r.branches]
    if needed:
        lines += ["", texts("letter-documentation-heading")]
        lines += [texts("letter-documentation", text=t) for t in dict.fromkeys(needed)]
    return lines + [""]


def render(dets: list[Determination], texts: Texts, md: bool = False) -> str:
    out: list[str] = []
    for det in dets:
        title = texts("letter-title")
        out += [f"# {title}" if md else title, ""]
        out.append(texts("letter-case", case=det.case_id, review_date=det.review_date.isoformat(),
                         edition=det.edition_label or "-"))
        out.append(texts("letter-provenance", version=det.rulebase_version, digest=det.rulebase_digest[:12],
                         input_hash=det.input_hash[:16]))
        out.append("")
        heading = texts("letter-issues-heading")
        out += [f"## {heading}" if md else heading, "", texts("letter-issues-intro"), ""]
        for item in det.items:
            out += _item_lines(item, texts, md, det)
        notice = texts("letter-physician-notice") if det.requires_physician_review else texts("letter-all-certified")
        out += [f"_{notice}_" if md else notice, ""]
    return "\n".join(out) if md else "\n".join(_wrap(line) for line in out)


def _wrap(line: str, width: int = 100) -> str:
    """Plain-text letters wrap long lines, keeping a line's indentation for its continuation."""
    if len(line) <= width:
        return line
    stripped = line.lstrip()
    extra = 4 if stripped.startswith("[") else 2 if stripped.startswith("- ") else 0
    indent = " " * (len(line) - len(stripped) + extra)
    return textwrap.fill(line, width=width, subsequent_indent=indent, break_on_hyphens=False)
