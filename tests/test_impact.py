"""``mtus impact``: after a change to the rule base, exactly the stored determinations that
depend on it change, each with the criterion responsible and the wording that differs.

The change is made in a git repository holding a copy of the rule base (commit 1: as encoded;
commit 2: the changes), so that the same change is compared with the stored determinations
and, with ``--against``, with the rule base of the first commit. Expected results come from
the guideline: trigger point injections, "not more than 3-4 injections per session" (CPMTG
p.122, a limit of 4 in kb/); lowered to 2, the requests for 3 and 4 injections fail it.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from rdflib import BNode, Graph, Literal, URIRef

from reasoner import api, batch, cli, impact, rulebase
from reasoner.determination import Determination
from reasoner.errors import MtusError
from reasoner.fastpath.compare import differences
from reasoner.fastpath.engine import Engine
from reasoner.impact import evaluation, stored
from reasoner.intake import _CaseLoader
from reasoner.namespaces import KB, MTUS
from reasoner.store import EmbeddedStore, EndpointStore
from reasoner.store.server import local_server
from reasoner.texts import Texts

CASES = Path(__file__).parent / "data" / "analyst-cases"
TPI = "kb/sections/chronic-pain/trigger-point-injections.ttl"
LIMIT = KB["cpmtg-2009-tpi-max-injections-per-session"]  # "not more than 3-4 injections per session"
PER_SESSION = KB["cpmtg-2009-tpi-5"]  # the criterion that reads it
NEW_WORDING = "Test wording: the injections requested stay within the per-session limit."


@pytest.fixture(scope="module")
def case_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trigger point injections of 1 to 4 injections that meet every criterion (overturned), the
    one with six injections of saline (upheld) and an unrelated ESI case."""
    folder = tmp_path_factory.mktemp("impact-cases")
    met = yaml.load((CASES / "a01-tpi-met.yaml").read_text(encoding="utf-8"), Loader=_CaseLoader)
    for quantity in (1, 2, 3, 4):
        case = copy.deepcopy(met)
        case["id"] = f"tpi-{quantity}-injections"
        case["requests"][0]["quantity"] = quantity
        (folder / f"tpi-{quantity}.yaml").write_text(yaml.safe_dump(case), encoding="utf-8")
    for name in ("a02-tpi-radiculopathy.yaml", "a07-esi-met.yaml"):
        shutil.copy(CASES / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def stored_path(case_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cases stored under the rule base as encoded."""
    path = tmp_path_factory.mktemp("impact-store") / "store"
    store = EmbeddedStore(path)
    summary = batch.run([case_folder], store, rulebase.get(), progress=False)
    assert (summary.stored, summary.decisions["overturned"], summary.decisions["upheld"]) == (6, 5, 1)
    store.close()
    return path


def _kb_file(root: Path, node: URIRef) -> tuple[Path, Graph]:
    path = root / TPI
    graph = Graph().parse(path, format="turtle")
    assert (node, None, None) in graph, f"{node} is not in {TPI}"
    return path, graph


def set_threshold(root: Path, threshold: URIRef, old: int, new: int) -> None:
    """Change a threshold of the rule base under ``root`` from ``old`` to ``new``: its own
    mtus:value, or that of one of its dated values (the only place a test writes kb/ Turtle);
    the range the guideline stated for the old value (mtus:otherFigure) goes with it."""
    path, graph = _kb_file(root, threshold)
    nodes = [threshold, *(o for o in graph.objects(threshold, None) if isinstance(o, BNode))]
    found = [(n, v) for n in nodes for v in graph.objects(n, MTUS.value) if isinstance(v, Literal) and v.toPython() == old]
    assert found, f"{threshold} has no value {old}"
    for node, value in found:
        graph.remove((node, MTUS.value, value))
        graph.add((node, MTUS.value, Literal(new, datatype=value.datatype)))
        graph.remove((node, MTUS.otherFigure, None))
    path.write_text(graph.serialize(format="turtle"), encoding="utf-8")


def reword(root: Path, criterion: URIRef, prop: URIRef, text: str) -> None:
    path, graph = _kb_file(root, criterion)
    graph.set((criterion, prop, Literal(text)))
    path.write_text(graph.serialize(format="turtle"), encoding="utf-8")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@example.invalid",
                           "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository of the rule base: commit 1 as encoded; commit 2 with at most 2 trigger
    point injections per session (was 4) and other words for criterion 5 when it is met."""
    root = tmp_path_factory.mktemp("rules")
    for top in ("ontology", "kb", "shapes"):
        shutil.copytree(rulebase.default_root() / top, root / top)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "as encoded")
    set_threshold(root, LIMIT, 4, 2)
    reword(root, PER_SESSION, MTUS.metText, NEW_WORDING)
    git(root, "commit", "-q", "-am", "at most 2 injections per session; criterion 5 reworded")
    return root


def _met_text() -> str:
    """Criterion 5's sentence when met, as the stored letters read it (its placeholder filled)."""
    section = rulebase.get().catalog.in_force(KB["cpmtg-2009-tpi"], dt.date(2015, 1, 1))
    return next(c.met_text for c in section.criteria if c.iri == PER_SESSION)


def _flips(result: impact.Impact) -> list[tuple[str, str, str, str, tuple[tuple[str, str, str], ...]]]:
    return [(f.case_id, f.request_id, f.before, f.after, f.criteria) for f in result.flips]


EXPECTED_FLIPS = [
    ("tpi-3-injections", "1", "overturned", "upheld", (("cpmtg-2009-tpi-5", "met", "not_met"),)),
    ("tpi-4-injections", "1", "overturned", "upheld", (("cpmtg-2009-tpi-5", "met", "not_met"),)),
]


def test_lowering_a_threshold_flips_exactly_the_requests_above_it(stored_path: Path, changed: Path) -> None:
    store = EmbeddedStore(stored_path)
    result = impact.run(store, rulebase.get(changed))
    store.close()
    assert (result.cases, result.items, result.failures) == (6, 6, [])
    assert _flips(result) == EXPECTED_FLIPS
    for flip in result.flips:  # the upheld rationale says why, stating the new limit
        assert any(s.startswith("The request exceeds 2 injections per session") for s in flip.added), flip.added


def test_a_reworded_criterion_is_reported_where_it_is_read(stored_path: Path, changed: Path) -> None:
    """An overturned item's rationale states every criterion met: the 1- and 2-injection
    requests (still overturned) now read the new sentence instead of the old one. The
    6-injection request stays upheld, and its rationale now states the new limit (its sentence
    names the threshold, so it follows it)."""
    store = EmbeddedStore(stored_path)
    result = impact.run(store, rulebase.get(changed))
    store.close()
    assert [(c.case_id, c.before, c.after) for c in result.reworded] == [
        ("a02-tpi-radiculopathy", "upheld", "upheld"),
        ("tpi-1-injections", "overturned", "overturned"), ("tpi-2-injections", "overturned", "overturned")]
    for change in result.reworded:
        assert change.criteria == () and change.section_before == change.section_after == "cpmtg-2009-tpi"
        assert len(change.removed) == len(change.added) == 1
    upheld, *overturned = result.reworded
    assert upheld.removed[0].startswith("The request exceeds 3-4 injections per session")
    assert upheld.added[0].startswith("The request exceeds 2 injections per session")
    for change in overturned:
        assert change.removed[0].startswith(_met_text()) and change.added[0].startswith(NEW_WORDING)


def test_the_fast_path_and_the_reference_path_agree(stored_path: Path, changed: Path) -> None:
    rb = rulebase.get(changed)
    store = EmbeddedStore(stored_path)
    fast = impact.run(store, rb)
    reference = impact.run(store, rb, engine="reference")
    items = stored.select(store, stored.Filters())
    cases = [evaluation.case_triples((iri, stored.case_ntriples(store, iri)), None)
             for iri in dict.fromkeys(i.case_iri for i in items)]
    store.close()
    assert (fast.items, fast.changes, fast.failures) == (reference.items, reference.changes, reference.failures)
    engine = Engine(rb)
    texts = Texts(rb.kb, rb.closure)
    decided = engine.evaluate_batch(cases)
    assert not engine.fallbacks, "stored cases are decided on the fast path"
    for case, got in zip(cases, decided, strict=True):
        diffs = differences(api.evaluate(case.graph(), rb), got, texts)
        assert [d for d in diffs if not d.startswith(("input:", "source:"))] == [], case.root


def test_a_round_that_fails_is_decided_case_by_case(stored_path: Path, changed: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    rb = rulebase.get(changed)
    store = EmbeddedStore(stored_path)
    jobs = [(iri, stored.case_ntriples(store, iri))
            for iri in dict.fromkeys(i.case_iri for i in stored.select(store, stored.Filters()))]
    store.close()
    whole = evaluation.evaluate_round((rb.root,), jobs, None, "fast")
    batch_of, failed = Engine.evaluate_batch, []

    def fails_in_rounds(self: Engine, cases: Sequence[Any]) -> list[Determination | MtusError]:
        if len(cases) > 1:
            failed.append(len(cases))
            raise RuntimeError("a round that fails")
        return batch_of(self, cases)

    monkeypatch.setattr(Engine, "evaluate_batch", fails_in_rounds)
    alone = evaluation.evaluate_round((rb.root,), jobs, None, "fast")
    assert failed == [6] and alone == whole and all(o.error is None for (o,) in alone)


def test_the_same_rule_base_changes_nothing(stored_path: Path) -> None:
    store = EmbeddedStore(stored_path)
    result = impact.run(store, rulebase.get())
    assert (result.cases, result.changes, result.failures) == (6, [], [])
    later = impact.run(store, rulebase.get(), as_of=dt.date(2015, 6, 1))
    store.close()
    assert not [f for f in later.flips if f.case_id == "a07-esi-met"], "the ESI section is still in force"


def test_a_sparql_endpoint_gives_the_same_impact(case_folder: Path, stored_path: Path, changed: Path) -> None:
    embedded = EmbeddedStore(stored_path)
    expected = impact.run(embedded, rulebase.get(changed))
    embedded.close()
    with local_server() as url:
        remote = EndpointStore(url)
        assert batch.run([case_folder], remote, rulebase.get(), progress=False).stored == 6
        got = impact.run(remote, rulebase.get(changed))
    assert (got.cases, got.items, got.changes, got.failures) == (6, 6, expected.changes, [])


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert cli.main(["impact", *args, "--format", "json"]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def test_filters_select_only_the_matching_items(stored_path: Path, changed: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--store", str(stored_path), "--rules", str(changed)]
    esi = _json(capsys, *where, "--service", "epidural_steroid_injection")
    assert (esi["cases"], esi["items"], esi["flips"], esi["wording_changes"]) == (1, 1, [], [])
    tpi = _json(capsys, *where, "--section", "kb:cpmtg-2009-tpi")
    assert (tpi["cases"], tpi["items"]) == (5, 5)
    assert [(f["case"], f["decision"]) for f in tpi["flips"]] == [  # type: ignore[attr-defined]
        ("tpi-3-injections", {"before": "overturned", "after": "upheld"}),
        ("tpi-4-injections", {"before": "overturned", "after": "upheld"})]
    later = _json(capsys, *where, "--from", "2015-01-01")  # a02 was reviewed on 2015-03-02, the others before
    assert (later["cases"], later["flips"], len(later["wording_changes"])) == (1, [], 1)  # type: ignore[arg-type]
    earlier = _json(capsys, *where, "--to", "2014-12-31", "--service", "trigger_point_injection")
    assert (earlier["cases"], len(earlier["flips"]), len(earlier["wording_changes"])) == (4, 2, 2)  # type: ignore[arg-type]
    assert cli.main(["impact", *where, "--service", "trigger_point_injections"]) == 2
    assert "did you mean: trigger_point_injection" in capsys.readouterr().err
    assert cli.main(["impact", *where, "--section", "cpmtg-2009-tpj"]) == 2
    assert "did you mean: cpmtg-2009-tpi" in capsys.readouterr().err


def test_json_output(stored_path: Path, changed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "--store", str(stored_path), "--rules", str(changed), "--jobs", "2")
    assert (data["cases"], data["items"], data["baseline"], data["failures"]) == (
        6, 6, "the stored determinations", [])
    flip = data["flips"][0]  # type: ignore[index]
    assert flip["case"] == "tpi-3-injections" and flip["service"] == "trigger_point_injection"
    assert flip["criteria"] == [{"id": "cpmtg-2009-tpi-5", "before": "met", "after": "not_met"}]
    assert flip["section"] == {"before": "cpmtg-2009-tpi", "after": "cpmtg-2009-tpi"}
    assert [c["case"] for c in data["wording_changes"]] == [  # type: ignore[attr-defined]
        "a02-tpi-radiculopathy", "tpi-1-injections", "tpi-2-injections"]
    assert data["wording_changes"][1]["wording"]["after"][0].startswith(NEW_WORDING)  # type: ignore[index]


def test_text_output(stored_path: Path, changed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = EmbeddedStore(stored_path)
    quads = before.quad_count()
    before.close()
    assert cli.main(["impact", "--store", str(stored_path), "--rules", str(changed)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tpi-3-injections  request 1  trigger_point_injection: overturned -> upheld\n"
                          "  criteria: cpmtg-2009-tpi-5 met -> not_met\n")
    assert "tpi-1-injections" not in out, "wording alone is counted, listed with --wording"
    assert out.splitlines()[-2:] == ["  2 item decision(s) would flip (2 overturned -> upheld)",
                                     "  3 item(s) would change wording without a flip (--wording lists them)"]
    assert cli.main(["impact", "--store", str(stored_path), "--rules", str(changed), "--wording"]) == 0
    listed = capsys.readouterr().out
    assert f"tpi-1-injections  request 1  trigger_point_injection: overturned (wording)\n  - {_met_text()}" in listed
    assert f"  + {NEW_WORDING}" in listed
    after = EmbeddedStore(stored_path)
    assert after.quad_count() == quads, "impact does not change the store"
    after.close()


def test_against_a_revision(stored_path: Path, changed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The baseline is the rule base of the revision, evaluated now, not the stored decisions:
    against the first commit, the change shows as it does against the store; against the
    commit that made it, nothing changes."""
    where = ["--store", str(stored_path), "--rules", str(changed)]
    first = _json(capsys, *where, "--against", "HEAD~1")
    assert str(first["baseline"]).startswith("rule base ") and "HEAD~1" in str(first["baseline"])
    assert [(f["case"], f["criteria"]) for f in first["flips"]] == [  # type: ignore[attr-defined]
        (case, [{"id": "cpmtg-2009-tpi-5", "before": "met", "after": "not_met"}])
        for case in ("tpi-3-injections", "tpi-4-injections")]
    assert [c["case"] for c in first["wording_changes"]] == [  # type: ignore[attr-defined]
        "a02-tpi-radiculopathy", "tpi-1-injections", "tpi-2-injections"]
    same = _json(capsys, *where, "--against", "HEAD")
    assert (same["cases"], same["flips"], same["wording_changes"]) == (6, [], [])
    assert git(changed, "status", "--porcelain") == "", "the checkout is not changed"


def test_a_store_made_by_the_revision_is_its_baseline(stored_path: Path, changed: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's determinations were made by the rule-base files of HEAD~1: they are what the
    revision decides, so only the checkout is evaluated, and the result is the one evaluating
    both sides gives."""
    as_encoded = rulebase.get()  # the files HEAD~1 holds (the store was filled with them)
    store = EmbeddedStore(stored_path)
    assert stored.digests(store) == {as_encoded.digest}
    calls: list[int] = []
    real = evaluation.Evaluator.__init__

    def counting(self: evaluation.Evaluator, rules: tuple[rulebase.RuleBase, ...], *args: Any) -> None:
        calls.append(len(rules))
        real(self, rules, *args)

    monkeypatch.setattr(evaluation.Evaluator, "__init__", counting)
    quick = impact.run(store, rulebase.get(changed), against=as_encoded)
    monkeypatch.setattr(stored, "digests", lambda _store: set())  # as if the store were made by something else
    both = impact.run(store, rulebase.get(changed), against=as_encoded)
    store.close()
    assert calls == [1, 2]
    assert [(c.case_id, c.before, c.after, c.criteria, c.removed, c.added) for c in quick.changes] == \
           [(c.case_id, c.before, c.after, c.criteria, c.removed, c.added) for c in both.changes]
    assert len(quick.flips) == 2


def test_a_revision_that_cannot_be_had_is_an_input_error(stored_path: Path, changed: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    where = ["impact", "--store", str(stored_path)]
    assert cli.main([*where, "--rules", str(changed), "--against", "no-such-branch"]) == 2
    assert "--against no-such-branch: no such revision" in capsys.readouterr().err
    (tmp_path / "kb").mkdir()  # a folder outside any git checkout
    assert cli.main([*where, "--rules", str(tmp_path), "--against", "HEAD"]) == 2
    assert "not in a git checkout" in capsys.readouterr().err
    assert cli.main([*where, "--rules", str(changed.parent), "--against", "HEAD"]) == 2
    assert "expected a rule-base folder" in capsys.readouterr().err
