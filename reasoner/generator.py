"""Synthetic cases: ``mtus generate --count N --seed S --out DIR|FILE.jsonl``.

Data-driven: the sections, their services, regions and dates come from the rule-base catalog;
what is plausible for a service (which findings, studies, prior treatments, medications, and
how often each is documented) comes from the sampling pools of ``kb/generator/profiles.yaml``.
No clinical criterion is written here: whether a sampled case meets a section is left to the
reasoner, and the pools are tuned so that both outcomes occur for every profiled service.

Seeded and reproducible: case ``i`` of seed ``S`` depends only on ``S`` and ``i`` (so a larger
count extends a smaller one), and sections are taken in turn so every encoded service appears.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rdflib import URIRef
from rdflib.namespace import RDF

from . import rulebase
from .arguments import at_least_one
from .catalog import Section
from .errors import EXIT_OK, EXIT_RULEBASE, MtusError
from .namespaces import CODE, MTUS, local_name
from .rulebase import RuleBase

FACT_KINDS = {"finding": "findings", "study": "studies", "treatment": "treatments",
              "medication": "medications", "diagnosis": "diagnoses"}


class ProfileError(MtusError):
    """A malformed generator profile file: names the file and the entry."""

    exit_code = EXIT_RULEBASE


@dataclass(frozen=True)
class Profiles:
    path: Path
    case: dict[str, Any]
    regions: dict[str, dict[str, Any]]
    services: dict[str, dict[str, Any]]
    default: dict[str, Any]


def load_profiles(rb: RuleBase, path: Path | None = None) -> Profiles:
    """The sampling pools (default: kb/generator/profiles.yaml of the rule base)."""
    path = path or rb.root / "kb" / "generator" / "profiles.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot be read as YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise ProfileError(f"{path}: expected a mapping with 'case', 'regions', 'services' and 'default'")
    return Profiles(path, data.get("case") or {}, data.get("regions") or {}, data["services"],
                    data.get("default") or {})


class _Context:
    """What one request's values may refer to: its region, the limb, a side, the review date."""

    def __init__(self, rng: random.Random, rb: RuleBase, profiles: Profiles, review: dt.date,
                 injury_days: int, region: str, section: Section) -> None:
        self.rng, self.rb, self.review, self.injury_days = rng, rb, review, injury_days
        self.region, self.section = region, section
        info = profiles.regions.get(region, {})
        self.limb: str = info.get("limb", region)
        self.levels: list[str] = list(info.get("levels", []))
        self.side = rng.choice(["left", "right"])

    def value(self, spec: Any) -> Any:
        """A sampled value: literals as they are, $names, and {choice|range|days_ago|...} forms."""
        if isinstance(spec, str) and spec.startswith("$"):
            if spec == "$section_drug":
                return self.rng.choice(self._section_drugs())
            return {"$region": self.region, "$limb": self.limb, "$side": self.side,
                    "$level": self.rng.choice(self.levels) if self.levels else self.region}[spec]
        if isinstance(spec, list):
            return [self.value(v) for v in spec]
        if not isinstance(spec, dict):
            return spec
        if "choice" in spec:
            return self.value(self.rng.choices(spec["choice"], weights=spec.get("weights"))[0])
        if "range" in spec:
            low, high = spec["range"]
            if isinstance(low, int) and isinstance(high, int):
                return self.rng.randint(low, high)
            return round(self.rng.uniform(low, high), 1)
        if "days_ago" in spec:
            low, high = spec["days_ago"]
            days = min(self.rng.randint(low, high), self.injury_days)
            return (self.review - dt.timedelta(days=days)).isoformat()
        if "drug_of" in spec:
            return self.rng.choice(self._drugs(spec["drug_of"]))
        if "levels" in spec:
            low, high = spec["levels"]
            count = min(self.rng.randint(low, high), len(self.levels))
            start = self.rng.randint(0, len(self.levels) - count)
            return self.levels[start:start + count] if count else [self.region]
        return {k: self.value(v) for k, v in spec.items()}

    def _section_drugs(self) -> list[str]:
        """The drugs the section addresses: its drugs, else the members of its drug classes."""
        kb = self.rb.kb
        drugs = sorted(local_name(d) for d in kb.objects(self.section.iri, MTUS.addressesDrug))
        for cls in sorted(str(c) for c in kb.objects(self.section.iri, MTUS.addressesDrugClass)):
            drugs += self._drugs(local_name(cls))
        return sorted(set(drugs)) or self._drugs("NSAID")

    def _drugs(self, cls: str) -> list[str]:
        members = sorted(local_name(d) for d in self.rb.closure.subjects(RDF.type, MTUS[cls])
                         if isinstance(d, URIRef) and str(d).startswith(str(CODE)))
        if not members:
            raise ProfileError(f"drug_of: no drug of class mtus:{cls} in the ontology")
        return members


def _facts(pools: list[dict[str, Any]], ctx: _Context, case: dict[str, Any]) -> None:
    """Draw each pool with its probability ``p``; add one (``one_of``) or all (``all``) of its facts."""
    for pool in pools:
        if ctx.rng.random() >= float(pool.get("p", 1.0)):
            continue
        if "one_of" in pool:
            chosen = [ctx.rng.choices(pool["one_of"], weights=pool.get("weights"))[0]]
        else:
            chosen = pool.get("all", [{k: v for k, v in pool.items() if k in FACT_KINDS}])
        for fact in chosen:
            for kind, spec in fact.items():
                if kind not in FACT_KINDS:
                    raise ProfileError(f"unknown fact kind {kind!r}; expected one of {sorted(FACT_KINDS)}")
                value = {k: v for k, v in ctx.value(spec).items() if v is not None}
                if value not in case.setdefault(FACT_KINDS[kind], []):
                    case[FACT_KINDS[kind]].append(value)


def _in_force(section: Section, day: dt.date) -> bool:
    return section.effective_from <= day and (section.effective_until is None or day <= section.effective_until)


class Generator:
    """Cases for the sections of a rule base, sampled from the profiles."""

    def __init__(self, rb: RuleBase, profiles: Profiles | None = None) -> None:
        self.rb = rb
        self.profiles = profiles or load_profiles(rb)
        self.sections = sorted(self.rb.catalog.sections.values(), key=lambda s: str(s.iri))
        self.parts = self._parts()

    def _parts(self) -> dict[str, set[str]]:
        parts: dict[str, set[str]] = {}
        for child, parent in self.rb.closure.subject_objects(MTUS.partOf):
            parts.setdefault(local_name(parent), set()).add(local_name(child))
        return parts

    def unprofiled(self) -> list[str]:
        """Encoded services that have no profile of their own (the default pools are used)."""
        return sorted({local_name(s) for sec in self.sections for s in sec.services} - set(self.profiles.services))

    def _profile(self, service: str) -> dict[str, Any]:
        return self.profiles.services.get(service, self.profiles.default)

    def _region(self, rng: random.Random, section: Section, profile: dict[str, Any]) -> str:
        addressed: set[str] = set()
        for region in section.regions:
            addressed |= {local_name(region)} | self.parts.get(local_name(region), set())
        plausible = [str(r) for r in profile.get("regions", []) if r in addressed]
        return rng.choice(plausible or sorted(local_name(r) for r in section.regions))

    def _review_date(self, rng: random.Random, section: Section) -> dt.date:
        years = int(self.profiles.case.get("open_ended_years", 3))
        until = section.effective_until or section.effective_from + dt.timedelta(days=365 * years)
        return section.effective_from + dt.timedelta(days=rng.randint(0, (until - section.effective_from).days))

    def _request(self, rng: random.Random, case: dict[str, Any], section: Section, service: str,
                 review: dt.date, injury_days: int, number: int) -> str:
        profile = self._profile(service)
        region = self._region(rng, section, profile)
        ctx = _Context(rng, self.rb, self.profiles, review, injury_days, region, section)
        request: dict[str, Any] = {"id": str(number), "service": service, "region": region}
        for key, spec in (profile.get("request") or {}).items():
            if isinstance(spec, dict) and "maybe" in spec:
                if rng.random() < float(spec["maybe"]):
                    request[key] = ctx.value(spec["value"])
            else:
                request[key] = ctx.value(spec)
        cited = profile.get("ur_guideline_cited")
        request["ur"] = {"decision": "denied", **({"guideline_cited": ctx.value(cited)} if cited else {})}
        case["requests"].append(request)
        _facts(profile.get("facts", []), ctx, case)
        return region

    def case(self, seed: int, index: int) -> dict[str, Any]:
        """Case ``index`` of seed ``seed``: sections in turn, and each section's services in turn."""
        section = self.sections[index % len(self.sections)]
        services = sorted(local_name(s) for s in section.services)
        service = services[(index // len(self.sections)) % len(services)]
        return self.case_for(section, service, seed, index)

    def case_for(self, section: Section, service: str, seed: int, index: int) -> dict[str, Any]:
        """A case whose first request is ``service`` under ``section``."""
        rng = random.Random(f"mtus-generate/{seed}/{index}")
        review = self._review_date(rng, section)
        settings = self.profiles.case
        span = self._profile(service).get("injury_days_before_review",
                                          settings.get("injury_days_before_review", [30, 1500]))
        injury_days = ctx_range(rng, span)
        case: dict[str, Any] = {"id": f"gen-{seed}-{index:06d}", "review_date": review.isoformat(),
                                "claimant": {"age": ctx_range(rng, settings.get("claimant_age", [20, 65])),
                                             "sex": rng.choice(["female", "male"])},
                                "injury": {}, "requests": []}
        regions = [self._request(rng, case, section, service, review, injury_days, 1)]
        extra = [s for s in self.sections if s is not section and _in_force(s, review)
                 and not set(s.services) & set(section.services)]
        if extra and rng.random() < float(settings.get("second_request", 0.0)):
            other = rng.choice(extra)
            regions.append(self._request(rng, case, other, rng.choice(sorted(local_name(s) for s in other.services)),
                                         review, injury_days, 2))
        case["injury"] = {"date": (review - dt.timedelta(days=injury_days)).isoformat(), "work_related": True,
                          "body_regions": sorted(set(regions))}
        order = ["id", "review_date", "claimant", "injury", *FACT_KINDS.values(), "requests"]
        return {k: case[k] for k in order if case.get(k)}

    def cases(self, count: int, seed: int) -> list[dict[str, Any]]:
        return [self.case(seed, i) for i in range(count)]


def ctx_range(rng: random.Random, bounds: list[int]) -> int:
    return rng.randint(int(bounds[0]), int(bounds[1]))


def write(cases: list[dict[str, Any]], out: Path) -> int:
    """One YAML file per case in a folder, or one JSON object per line for a .jsonl file."""
    if out.suffix.lower() == ".jsonl":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(c, sort_keys=False) + "\n" for c in cases), encoding="utf-8")
        return len(cases)
    out.mkdir(parents=True, exist_ok=True)
    for case in cases:
        (out / f"{case['id']}.yaml").write_text(yaml.safe_dump(case, sort_keys=False), encoding="utf-8")
    return len(cases)


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("generate", help="write synthetic, valid cases for every encoded service (seeded)")
    parser.add_argument("--count", type=at_least_one("cases"), required=True, metavar="N", help="how many cases")
    parser.add_argument("--seed", type=_seed, default=1, metavar="S", help="random seed (default 1); "
                        "the same seed and rule base give the same cases")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR|FILE.jsonl",
                        help="a folder (one YAML file per case) or a .jsonl file (one case per line)")
    parser.add_argument("--profiles", type=Path, default=None, metavar="FILE",
                        help="sampling pools (default: kb/generator/profiles.yaml of the rule base)")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    rb = rulebase.get(args.rules)
    gen = Generator(rb, load_profiles(rb, args.profiles))
    if args.out.suffix.lower() != ".jsonl" and (args.out.suffix or args.out.is_file()) and not args.out.is_dir():
        raise MtusError(f"--out {args.out}: expected a folder or a .jsonl file")
    written = write(gen.cases(args.count, args.seed), args.out)
    print(f"mtus generate: {written} case(s) (seed {args.seed}) written to {args.out}")
    missing = gen.unprofiled()
    if missing:
        print(f"mtus generate: no profile in {gen.profiles.path.name} for {', '.join(missing)}: "
              "the default pools were used, so both outcomes are not guaranteed for them", file=sys.stderr)
    return EXIT_OK
