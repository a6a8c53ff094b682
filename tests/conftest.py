"""A small pytest plugin: every case file under tests/cases/ is a test item (tests as data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import reasoner
from tests import casefiles


@pytest.fixture(scope="session")
def server() -> Any:
    """One ``mtus serve`` for every test of the service (tests/server.py)."""
    from tests import server as running

    found = running.start()
    yield found
    running.stop(found)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".json") and casefiles.CASES in file_path.parents:
        return CaseFileCollector.from_parent(parent, path=file_path)
    return None


class CaseFileCollector(pytest.File):
    def collect(self) -> Any:
        case = casefiles.load(self.path)
        yield CaseItem.from_parent(self, name=case.name, case=case)


class CaseItem(pytest.Item):
    def __init__(self, *, case: casefiles.CaseFile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        # The fast path (the default engine): tests/test_fastpath.py checks, on every case file,
        # that the reference path decides exactly as it does, so both meet the expected block.
        determination = reasoner.evaluate(self.case.path)
        problems = casefiles.check(self.case, determination)
        if problems:
            raise CaseMismatch(problems)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, CaseMismatch):
            whys = [str(v.get("why")) for v in self.case.expected.values() if isinstance(v, dict) and v.get("why")]
            lines = [f"case file {self.case.path}", *[f"  case: {w}" for w in whys]]
            lines += [f"  - {p}" for p in excinfo.value.problems]
            return "\n".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"case: {self.case.name}"


class CaseMismatch(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
