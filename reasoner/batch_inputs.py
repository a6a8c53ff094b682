"""The inputs of ``mtus batch``: case files, folders of them and JSON Lines files (one case per
line), each case named by a ``CaseRef``, read through the one case reader, and hashed as intake
hashes it (so that a stored case is recognised)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from . import caseformat
from .errors import EXIT_INPUT, IntakeError, MtusError, Problem

CASE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonld", ".ttl", ".turtle")


class InputError(MtusError):
    """A batch input that does not exist or is not a case file, folder or JSON Lines file."""

    exit_code = EXIT_INPUT


@dataclass(frozen=True)
class CaseRef:
    """Where one case comes from: a file, or one line of a JSON Lines file."""

    path: str
    line: int = 0
    text: str | None = None

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


def expand(inputs: list[Path]) -> list[CaseRef]:
    """Every case of the inputs, in a stable order (folders sorted, lines in file order)."""
    refs: list[CaseRef] = []
    for path in inputs:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in CASE_SUFFIXES + (".jsonl",))
            for file in files:
                refs += _lines(file) if file.suffix.lower() == ".jsonl" else [CaseRef(str(file))]
        elif path.is_file() and path.suffix.lower() == ".jsonl":
            refs += _lines(path)
        elif path.is_file() and path.suffix.lower() in CASE_SUFFIXES:
            refs.append(CaseRef(str(path)))
        elif path.exists():
            raise InputError(f"{path}: expected a case file ({', '.join(CASE_SUFFIXES)}), a folder or a "
                             ".jsonl file")
        else:
            raise InputError(f"{path}: no such file or folder")
    return refs


def _lines(path: Path) -> list[CaseRef]:
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:  # caseformat refuses a bad line
        return [CaseRef(str(path), number, line) for number, line in enumerate(handle, 1) if line.strip()]


def mapping_of(ref: CaseRef) -> dict[str, object]:
    data = caseformat.parse((ref.text or "").encode("utf-8", "surrogateescape"), ".json", ref.source)
    if not isinstance(data, dict):
        raise IntakeError(ref.source, [Problem("(line)", "expected a JSON object: one case per line")])
    return data


def input_hash(ref: CaseRef) -> str:
    """The hash intake gives the case: of the file's bytes, or of the line's mapping."""
    if ref.text is not None:
        return hashlib.sha256(json.dumps(mapping_of(ref), sort_keys=True, default=str).encode()).hexdigest()
    try:
        return hashlib.sha256(Path(ref.path).read_bytes()).hexdigest()
    except OSError as exc:
        raise IntakeError(ref.source, [Problem("(file)", f"cannot be read: {exc.strerror}")]) from None


def case_of(ref: CaseRef) -> str | dict[str, object]:
    return mapping_of(ref) if ref.text is not None else ref.path
