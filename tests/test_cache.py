"""The on-disk rule-base cache: a change to any module of the package, or to any rule-base
file, gives a new key, so a stale compiled rule base is never read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reasoner import rulebase_cache

PACKAGE = Path(rulebase_cache.__file__).resolve().parent


def test_every_module_of_the_package_is_part_of_the_key() -> None:
    every = {p for p in PACKAGE.rglob("*.py")}
    assert set(rulebase_cache.sources()) == every
    assert PACKAGE / "fastpath" / "compile.py" in every  # a subpackage's modules too


@pytest.mark.parametrize("module", ["rulebase.py", "fastpath/compile.py", "fastpath/caseread.py", "texts.py"])
def test_editing_any_module_changes_the_key(tmp_path: Path, module: str) -> None:
    copy = tmp_path / "reasoner"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "rulebase"))
    before = rulebase_cache.key(Path("/rules"), "digest", copy)
    assert rulebase_cache.key(Path("/rules"), "digest", copy) == before  # stable
    with (copy / module).open("a", encoding="utf-8") as handle:
        handle.write("\n# edited\n")
    assert rulebase_cache.key(Path("/rules"), "digest", copy) != before


def test_renaming_a_module_changes_the_key(tmp_path: Path) -> None:
    copy = tmp_path / "reasoner"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "rulebase"))
    before = rulebase_cache.key(Path("/rules"), "digest", copy)
    (copy / "texts.py").rename(copy / "wording.py")
    assert rulebase_cache.key(Path("/rules"), "digest", copy) != before


def test_the_rule_base_digest_and_root_are_part_of_the_key() -> None:
    base = rulebase_cache.key(Path("/rules"), "digest")
    assert rulebase_cache.key(Path("/rules"), "other") != base
    assert rulebase_cache.key(Path("/elsewhere"), "digest") != base


def test_a_cached_value_is_built_once_and_rebuilt_when_the_code_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTUS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MTUS_NO_CACHE", raising=False)
    copy = tmp_path / "reasoner"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "rulebase"))
    monkeypatch.setattr(rulebase_cache, "PACKAGE", copy)
    built: list[int] = []

    def build() -> dict[str, int]:
        built.append(1)
        return {"value": len(built)}

    assert rulebase_cache.load_or_build(Path("/rules"), "d", build, kind="test") == {"value": 1}
    assert rulebase_cache.load_or_build(Path("/rules"), "d", build, kind="test") == {"value": 1}
    assert len(built) == 1
    (copy / "fastpath" / "compile.py").write_text("# the compiler changed\n", encoding="utf-8")
    assert rulebase_cache.load_or_build(Path("/rules"), "d", build, kind="test") == {"value": 2}


def test_a_corrupt_cache_file_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTUS_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("MTUS_NO_CACHE", raising=False)
    name = f"test-{rulebase_cache.key(Path('/rules'), 'd')}.pickle"
    (tmp_path / name).write_bytes(b"not a pickle")
    assert rulebase_cache.load_or_build(Path("/rules"), "d", lambda: "fresh", kind="test") == "fresh"


def test_the_compiled_fast_path_is_never_paired_with_another_load(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Two loads of the same rule base (as two processes building at once would make) have
    shapes with different blank nodes; the fast path's queries compiled from one must not be read
    back for the other, or no result would reach a criterion (every one would read as met)."""
    from reasoner import rulebase
    from reasoner.fastpath.engine import Engine
    from tests.helpers import ROOT

    monkeypatch.setenv("MTUS_CACHE_DIR", str(tmp_path))
    case = ROOT / "tests/cases/chronic-pain/trigger-point-injections/radiculopathy-too-many-injections-saline-is-upheld.yaml"
    first, second = rulebase.load(), rulebase.load()
    assert first.build_id != second.build_id
    Engine(first)  # caches the queries compiled from the first load
    item = Engine(second).evaluate(case).items[0]
    assert item.decision == "upheld"
    assert {r.criterion.iri.split("/")[-1] for r in item.unmet()} >= {"cpmtg-2009-tpi-4", "cpmtg-2009-tpi-5"}


def test_a_planted_pickle_is_never_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16: the cache is a pickle, and loading a pickle runs code. A file written by anyone
    who lacks this user's key (here: a valid pickle that would create a file when loaded) is
    ignored and rebuilt; its code never runs."""
    import os
    import pickle

    monkeypatch.setenv("MTUS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MTUS_CACHE_KEY_FILE", str(tmp_path / "config" / "cache.key"))
    monkeypatch.delenv("MTUS_NO_CACHE", raising=False)
    marker = tmp_path / "code-ran"

    class Planted:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.mkdir, (str(marker),))

    (tmp_path / "cache").mkdir()
    name = f"test-{rulebase_cache.key(Path('/rules'), 'd')}.pickle"
    for blob in (pickle.dumps(Planted()), b"\0" * 32 + pickle.dumps(Planted())):
        (tmp_path / "cache" / name).write_bytes(blob)
        assert rulebase_cache.load_or_build(Path("/rules"), "d", lambda: "fresh", kind="test") == "fresh"
        assert not marker.exists()
    # what this user wrote is signed and read back
    assert rulebase_cache.load_or_build(Path("/rules"), "d", lambda: "rebuilt", kind="test") == "fresh"
    assert (tmp_path / "config" / "cache.key").stat().st_mode & 0o077 == 0


def test_a_key_others_may_read_turns_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTUS_CACHE_DIR", str(tmp_path / "cache"))
    key = tmp_path / "cache.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o644)
    monkeypatch.setenv("MTUS_CACHE_KEY_FILE", str(key))
    monkeypatch.delenv("MTUS_NO_CACHE", raising=False)
    assert rulebase_cache.load_or_build(Path("/rules"), "d", lambda: "a", kind="test") == "a"
    assert rulebase_cache.load_or_build(Path("/rules"), "d", lambda: "b", kind="test") == "b"
    assert not (tmp_path / "cache").exists()
