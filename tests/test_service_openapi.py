"""API tests generated from the service's OpenAPI (schemathesis): sampled requests to every
operation of a running ``mtus serve``; none may answer 5xx. Few examples per operation (the
suite stays short on two cores); derandomised, so a run is repeatable. (Schemathesis' own pytest
plugin does not load under this pytest, so the operations' strategies are drawn here.)"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.server import Server

EXAMPLES = 8


def test_no_operation_answers_a_server_error(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    failures: list[str] = []
    statuses: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call(base_url=server.url, headers=server.auth(), timeout=60)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:200]}")

        call()
    assert operations >= 12, "the OpenAPI lists every route"
    assert len(statuses) >= 3 * operations, "each operation was called with several generated requests"
    assert failures == [], [line for line in server.log_text().splitlines() if "-> 5" in line]
