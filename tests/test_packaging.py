"""`pip install .` (not only editable): the rule base ships inside the wheel and is found there."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, SEED


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    (path,) = out.glob("mtus_reasoner-*.whl")
    return path


def test_wheel_contains_the_rule_base(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "reasoner/rulebase/kb/rulebase.ttl" in names
    assert "reasoner/rulebase/ontology/case-context.jsonld" in names
    assert "reasoner/rulebase/shapes/intake/case.ttl" in names
    assert any(n.startswith("reasoner/rulebase/kb/rules/") and n.endswith(".rq") for n in names)
    assert "reasoner/rulebase/queries/tally/refresh.ru" in names  # the analysts' tally (store/tally.py)
    assert "reasoner/py.typed" in names
    # the service's files: the generated JSON Schemas, the templates and the UI's script
    assert {"reasoner/schemas/case.schema.json", "reasoner/schemas/determination.schema.json",
            "reasoner/service/templates/letter.html", "reasoner/service/static/app.js"} <= set(names)


def test_installed_wheel_evaluates_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    code = ("import reasoner, sys; d = reasoner.evaluate(sys.argv[1]); "
            "print(reasoner.load_rulebase().root); print([str(i.decision) for i in d.items])")
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", code, str(SEED)], cwd=tmp_path, env=env,
                            check=True, capture_output=True, text=True)
    root, decisions = result.stdout.strip().splitlines()
    assert root.startswith(str(target))
    assert decisions == str(["upheld"] * 5)
