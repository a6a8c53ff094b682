"""``mtus impact --against REV``: the rule base of a git revision of the checkout.

ontology/, kb/ and shapes/ as they are at REV are extracted with ``git archive``, at the same
place relative to the repository as the current rule base, and loaded from there like any
rule-base folder. The folder is named by the git trees of the three folders and kept beside the
rule-base cache (``MTUS_CACHE_DIR``), so that the next run against the same content finds the
loaded rule base cached; folders unused for a day are removed. With ``MTUS_NO_CACHE=1``, or
when the cache folder cannot be written, a temporary folder is used. Nothing of the checkout
is changed (no checkout, no index). Not a git checkout, no git, or an unknown REV: an error
that says so (exit 2).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .. import rulebase_cache
from ..errors import MtusError

PARTS = ("ontology", "kb", "shapes")
MAX_AGE = 86400.0


@dataclass(frozen=True)
class Revision:
    """A revision as the user named it, the commit it resolves to, and its rule-base folder."""

    name: str
    commit: str
    root: Path


def _git(where: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(where), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise MtusError("--against needs git, and no `git` command was found") from None


def _text(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stdout.decode("utf-8", "replace").strip()


def _unpack(current: Path, commit: str, paths: list[str], into: Path) -> None:
    archive = _git(current, "archive", "--format=tar", commit, "--", *paths)
    if archive.returncode != 0:
        raise MtusError(f"git archive {commit} failed: {archive.stderr.decode('utf-8', 'replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter="data")
        else:  # Python before 3.11.4: git's own archive of paths inside the repository
            tar.extractall(into)


def _prune(folder: Path, keep: Path) -> None:
    now = time.time()
    for other in folder.iterdir():
        try:
            if other != keep and now - other.stat().st_mtime > MAX_AGE:
                shutil.rmtree(other, ignore_errors=True)
        except OSError:
            pass


def _kept(current: Path, commit: str, paths: list[str], trees: list[str]) -> Path | None:
    """The revision's folder in the cache (extracted now if missing); None if it cannot be kept."""
    if os.environ.get("MTUS_NO_CACHE"):
        return None
    parent = rulebase_cache.cache_dir() / "revisions"
    folder = parent / hashlib.sha256("|".join(paths + trees).encode()).hexdigest()[:32]
    try:
        if not folder.is_dir():
            parent.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(dir=parent, prefix=".new-"))
            try:
                _unpack(current, commit, paths, scratch)
                scratch.rename(folder)
            except OSError:  # another run extracted it first
                pass
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        os.utime(folder)
        _prune(parent, folder)
    except OSError:
        return None
    return folder if folder.is_dir() else None


def extract(current: Path, rev: str, scratch: Path) -> Revision:
    """The rule base of ``rev`` (of the git checkout holding the rule base ``current``), kept in
    the cache or, failing that, extracted under ``scratch``."""
    if rev.startswith("-") or not rev.strip():
        raise MtusError(f"--against {rev!r}: expected a git revision (a commit, branch, tag, HEAD, main~3)")
    inside = _git(current, "rev-parse", "--show-prefix")
    if inside.returncode != 0:
        raise MtusError(f"--against {rev}: the rule base {current} is not in a git checkout; --against compares "
                        "with a revision of the checkout (use --rules DIR to evaluate another folder)")
    prefix = _text(inside)
    found = _git(current, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if found.returncode != 0:
        raise MtusError(f"--against {rev}: no such revision in the git checkout of {current} "
                        "(expected a commit, branch, tag, HEAD, main~3)")
    commit = _text(found)
    paths = [f"{prefix}{part}" for part in PARTS]
    trees = [_git(current, "rev-parse", "--verify", "--quiet", f"{commit}:{path}") for path in paths]
    missing = [path for path, tree in zip(paths, trees, strict=True) if tree.returncode != 0]
    if missing:
        raise MtusError(f"--against {rev}: the revision has no {', '.join(missing)} (no rule base there)")
    folder = _kept(current, commit, paths, [_text(t) for t in trees])
    if folder is None:
        folder = scratch
        _unpack(current, commit, paths, folder)
    return Revision(rev, commit, (folder / prefix).resolve())
