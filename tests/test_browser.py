"""The web UI in a real browser: Playwright driving Debian's Chromium (installed by `make`;
Playwright's own browser download is not used) against a running ``mtus serve``. Screenshots of
each page go to tests/artifacts/. Skipped, saying why, only where no Chromium is installed."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import casefiles
from tests.server import Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
SEED = casefiles.CASES / "seed" / "seed-imr-case.yaml"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="no Chromium here: `apt-get install chromium` (make test does it as root)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A Chromium with a fresh profile (a persistent context on a new folder, removed after)."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="mtus-chromium-")
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=args, headless=True,
            viewport={"width": 1280, "height": 900}, accept_downloads=True)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    opened = browser.new_page()
    opened.set_default_timeout(60_000)
    yield opened
    opened.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_evaluate_the_seed_case_and_open_its_letter(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    page.click("#load-example")
    page.wait_for_function("document.getElementById('case-text').value.includes('seed-imr-2014')")
    _shot(page, "1-evaluate-form")
    page.click("#evaluate")
    page.wait_for_selector("#determination")
    rows = page.locator("#decisions tbody tr")
    assert rows.count() == 5
    decisions = [rows.nth(i).get_attribute("data-decision") for i in range(5)]
    assert decisions == ["upheld"] * 5  # the seed IMR letter upheld all five denials
    assert page.locator(".letter-frame .chip, .letter-frame .state").count() > 0
    _shot(page, "2-determination")

    with page.expect_popup() as popup:
        page.click("#letter-html")
    letter = popup.value
    letter.wait_for_load_state()
    assert letter.locator("article.letter section.item").count() == 5
    assert "RECOMMENDED DETERMINATION" in letter.locator("h1").inner_text()
    _shot(letter, "3-letter-html")

    pdf = page.request.post(server.url + "/ui/letter", form={
        "case": SEED.read_text(encoding="utf-8"), "type": "yaml", "format": "pdf"})
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    (ARTIFACTS / "seed-letter.pdf").write_bytes(pdf.body())


def test_a_bad_case_shows_its_problems(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    page.fill("#case-text", "id: x\nreview_date: 2014-11-15\nrequests:\n  - {id: '1', service: acupunture}\n")
    page.click("#evaluate")
    problems = page.locator("#problems")
    assert "requests[0].service" in problems.inner_text() and "acupuncture" in problems.inner_text()


def test_browse_a_section_in_the_explorer(page: Any, server: Server) -> None:
    page.goto(server.url + "/explorer")
    _shot(page, "4-explorer")
    page.click("a.section-link[data-id='cpmtg-2009-tpi']")
    page.wait_for_selector("#criteria")
    assert page.locator("#section-title").inner_text().strip()
    assert page.locator("#criteria tbody tr").count() >= 8
    assert page.locator("#thresholds tbody tr").count() >= 1
    _shot(page, "5-section")


def test_run_a_named_query_with_a_chart(page: Any, server: Server) -> None:
    import httpx
    import yaml

    cases = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(casefiles.CASES.rglob("*.yaml"))[::15]]
    job = httpx.post(f"{server.url}/batch", json={"cases": [yaml.safe_load(yaml.safe_dump(c, default_style=None))
                                                            for c in _jsonable(cases)]},
                     headers=server.auth(), timeout=60).json()
    for _ in range(600):
        if httpx.get(f"{server.url}{job['status']}", headers=server.auth(), timeout=30).json()["state"] == "done":
            break
        page.wait_for_timeout(300)
    page.goto(server.url + "/analysts")
    _shot(page, "6-analysts")
    page.click("#query-overturn-rate-by-service-region-and-period summary")
    page.click("#run-overturn-rate-by-service-region-and-period")
    page.wait_for_selector("#results")
    assert page.locator("#results tbody tr").count() >= 1
    assert page.locator("#chart rect").count() >= 1
    _shot(page, "7-query-chart")

    page.goto(server.url + "/analysts")
    page.click("#sparql-run")
    page.wait_for_selector("#sparql-table")
    assert page.locator("#sparql-table tbody tr").count() >= 1
    _shot(page, "8-sparql")


def _jsonable(cases: list[Any]) -> list[Any]:
    import json

    out: list[Any] = json.loads(json.dumps(cases, default=str))
    return out
