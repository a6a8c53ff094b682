"""The analysts' query library: every query of queries/ returns exactly the expected rows on a
fixed dataset (tests/data/analyst-dataset.nq.gz, built from tests/data/analyst-cases/ by
tests/data/build_analyst_dataset.py), and the same rows from the embedded store and from a real
Oxigraph server started here on 127.0.0.1. Parameters are typed; updates and SERVICE are refused."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reasoner import cli, querylib
from reasoner.store import EmbeddedStore, EndpointStore, summary
from reasoner.store.records import Backend
from reasoner.store.server import local_server

DATASET = Path(__file__).parent / "data" / "analyst-dataset.nq.gz"
NAMESPACES = {"https://w3id.org/mtus/kb/": "kb:", "https://w3id.org/mtus/code/": "code:"}

# (query, parameters, rows): the rows follow from the cases in tests/data/analyst-cases/
# (see the comment at the top of each case file for what it shows)
EXPECTED: list[tuple[str, dict[str, str], list[tuple[Any, ...]]]] = [
    ('claims-administrator-guideline-mismatches', {}, [
        ('a02-tpi-radiculopathy', '1', 'code:trigger_point_injection', 'MTUS Acupuncture Medical Treatment Guidelines', 'kb:cpmtg-2009-tpi', 'Chronic Pain Medical Treatment Guidelines (May 2009)', 'Trigger point injections', 'code:upheld'),
        ('a08-esi-uncorroborated', '1', 'code:epidural_steroid_injection', 'MTUS Acupuncture Treatment Guidelines', 'kb:cpmtg-2009-esi', 'Chronic Pain Medical Treatment Guidelines (May 2009)', 'Epidural steroid injections (ESIs)', 'code:upheld'),
    ]),
    ('claims-administrator-guideline-mismatches', {'service': 'xray'}, [
    ]),
    ('decisions-resting-on-unconfirmed-criteria', {'service': 'acupuncture'}, [
        ('a03-acu-deficit-missing', '1', 'code:acupuncture', 'kb:acupuncture-2', 'code:not_documented', 'no documented objective functional deficit to improve'),
    ]),
    ('decisions-resting-on-unconfirmed-criteria', {'service': 'xray'}, [
        ('a10-xray-low-back-no-flags', '1', 'code:xray', 'kb:acoem-2004-ch12-xray-1', 'code:not_met', 'no indication for lumbar spine x-rays documented'),
    ]),
    # the stored rule base (0.1.0) links no criterion to an earlier one: tests/test_edition_changes.py
    # runs the query on a fixture that does
    ('criteria-changed-between-two-editions', {}, [
    ]),
    ('determinations-by-rule-base-version-and-edition', {}, [
        ('0.1.0', 'kb:mtus-2007', 'MTUS effective June 15, 2007', 1, 1, 1),
        ('0.1.0', 'kb:mtus-2009', 'MTUS effective July 18, 2009', 12, 14, 4),
    ]),
    ('items-decided-through-a-secondary-guideline', {}, [
        ('a04-acu-no-adjunct', '2', 'code:gym_membership', 'code:upheld', 'kb:odg-gym-membership', 2, 'ACOEM or ODG where the MTUS is silent'),
        ('a11-facet-odg', '1', 'code:medial_branch_block', 'code:overturned', 'kb:odg-facet-blocks', 2, 'ACOEM or ODG where the MTUS is silent'),
    ]),
    ('items-decided-through-a-secondary-guideline', {'min_step': '3'}, [
    ]),
    ('items-upheld-only-for-not-documented-criteria', {}, [
        ('a03-acu-deficit-missing', '1', 'code:acupuncture', 'kb:acupuncture-2009', 'kb:acupuncture-2', 'The objective functional deficit of the region on examination or functional assessment (strength, range of motion, activity tolerance), limitations in activities of daily living, or work restrictions.'),
        ('a04-acu-no-adjunct', '1', 'code:acupuncture', 'kb:acupuncture-2009', 'kb:acupuncture-1', 'That pain medication has been reduced or is not tolerated, or the ongoing physical rehabilitation (therapy, home exercise or functional restoration program) or the surgery that acupuncture would accompany.'),
        ('a04-acu-no-adjunct', '2', 'code:gym_membership', 'kb:odg-gym-membership', 'kb:odg-gym-membership-1', 'The home exercise program prescribed, its periodic assessments and revisions, and that it has not been effective.'),
        ('a04-acu-no-adjunct', '2', 'code:gym_membership', 'kb:odg-gym-membership', 'kb:odg-gym-membership-2', 'The exercise equipment needed and why the home program cannot provide it.'),
        ('a04-acu-no-adjunct', '2', 'code:gym_membership', 'kb:odg-gym-membership', 'kb:odg-gym-membership-3', 'Who will supervise the exercise at the facility and how its outcomes will be assessed.'),
        ('a08-esi-uncorroborated', '1', 'code:epidural_steroid_injection', 'kb:cpmtg-2009-esi', 'kb:cpmtg-2009-esi-1', 'An examination note documenting radiculopathy (dermatomal sensory loss, motor weakness, reflex change or a positive nerve root tension test) and an MRI, CT or electrodiagnostic report showing nerve root compromise at the corresponding level.'),
    ]),
    # the fixed dataset predates the formulary: no stored formulary answer (their rows on the
    # formulary case files: tests/test_formulary.py)
    ('medication-items-dispensed-without-a-required-review', {}, [
    ]),
    ('medication-items-dispensed-without-review-by-formulary-rule', {}, [
    ]),
    ('medication-items-needing-review-by-drug-list-version', {}, [
    ]),
    ('opioid-requests-above-the-morphine-equivalent-ceiling', {}, [
        ('a12-opioid-request', '1', 'code:oxycodone', 180.0, 'code:upheld'),
        ('a12-opioid-request', '2', 'code:tramadol', 155.0, 'code:upheld'),
    ]),
    ('opioid-requests-above-the-morphine-equivalent-ceiling', {'ceiling': '160'}, [
        ('a12-opioid-request', '1', 'code:oxycodone', 180.0, 'code:upheld'),
    ]),
    ('overturn-rate-by-service-region-and-period', {}, [
        ('code:acupuncture', 'code:cervical_spine', 2014, 1, 0, 0.0),
        ('code:acupuncture', 'code:lumbar_spine', 2008, 1, 1, 100.0),
        ('code:acupuncture', 'code:lumbar_spine', 2013, 1, 0, 0.0),
        ('code:acupuncture', 'code:shoulder', 2015, 1, 0, 0.0),
        ('code:epidural_steroid_injection', 'code:cervical_spine', 2013, 1, 0, 0.0),
        ('code:epidural_steroid_injection', 'code:lumbar_spine', 2014, 1, 1, 100.0),
        ('code:gym_membership', 'code:whole_body', 2014, 1, 0, 0.0),
        ('code:medial_branch_block', 'code:lumbar_spine', 2014, 1, 1, 100.0),
        ('code:medication', 'code:whole_body', 2015, 2, 0, 0.0),
        ('code:trigger_point_injection', 'code:cervical_spine', 2014, 1, 1, 100.0),
        ('code:trigger_point_injection', 'code:lumbar_spine', 2015, 1, 0, 0.0),
        ('code:xray', 'code:cervical_spine', 2012, 1, 1, 100.0),
        ('code:xray', 'code:lumbar_spine', 2016, 1, 0, 0.0),
    ]),
    ('overturn-rate-by-service-region-and-period', {'from': '2014-01-01', 'until': '2014-12-31'}, [
        ('code:acupuncture', 'code:cervical_spine', 2014, 1, 0, 0.0),
        ('code:epidural_steroid_injection', 'code:lumbar_spine', 2014, 1, 1, 100.0),
        ('code:gym_membership', 'code:whole_body', 2014, 1, 0, 0.0),
        ('code:medial_branch_block', 'code:lumbar_spine', 2014, 1, 1, 100.0),
        ('code:trigger_point_injection', 'code:cervical_spine', 2014, 1, 1, 100.0),
    ]),
    ('overturn-rate-by-service-region-and-period', {'service': 'xray'}, [
        ('code:xray', 'code:cervical_spine', 2012, 1, 1, 100.0),
        ('code:xray', 'code:lumbar_spine', 2016, 1, 0, 0.0),
    ]),
    ('prior-treatments-without-functional-improvement', {}, [
        ('a05-acu-extension-no-improvement', 'code:acupuncture', 'code:shoulder', 6, 'code:completed', 'code:acupuncture'),
        ('a08-esi-uncorroborated', 'code:physical_therapy', 'code:cervical_spine', 12, 'code:completed', 'code:epidural_steroid_injection'),
    ]),
    ('prior-treatments-without-functional-improvement', {'service': 'physical_therapy'}, [
        ('a08-esi-uncorroborated', 'code:physical_therapy', 'code:cervical_spine', 12, 'code:completed', 'code:epidural_steroid_injection'),
    ]),
    ('criteria-of-a-section-with-citations-and-thresholds', {}, [
        ('0.1.0', 1, 'kb:cpmtg-2009-tpi-1', 'requirement', 'Documentation of circumscribed trigger points with evidence upon palpation of a twitch response as well as referred pain.', 'Chronic Pain Medical Treatment Guidelines (May 2009)', '122', 'confirmed', None, None, None),
        ('0.1.0', 2, 'kb:cpmtg-2009-tpi-2', 'requirement', 'Symptoms have persisted for more than three months.', 'Chronic Pain Medical Treatment Guidelines (May 2009)', '122', 'confirmed', 'kb:cpmtg-2009-tpi-min-symptom-duration', 3, 'months'),
        ('0.1.0', 3, 'kb:cpmtg-2009-tpi-3', 'requirement', 'Medical management therapies such as ongoing stretching exercises, physical therapy, NSAIDs and muscle relaxants have failed to control pain.', 'Chronic Pain Medical Treatment Guidelines (May 2009)', '122', 'confirmed', None, None, None),
        ('0.1.0', 4, 'kb:cpmtg-2009-tpi-4', 'exclusion', 'Radiculopathy is not present (by exam, imaging, or neuro-testing).', 'Chronic Pain Medical Treatment Guidelines (May 2009)', '122', 'confirmed', None, None, None),
        ('0.1.0', 5, 'kb:cpmtg-2009-tpi-5', 'limit', 'Not more than 3-4 injections per session.', 'Chronic Pain Medical Treatment Guidelines (May 2009)', '122', 'confirmed', 'kb:cpmtg-2009-tpi-max-injections-per-session', 4, 'injections'),
        ('0.1.0', 6, 'kb:cpmtg-2009-tpi-6', 'requirement', 'No repeat injections unless a greater than 50% pain relief is obtained for six weeks after an injection and there is documented evidence of functional improvement.', 'Chronic Pain Medical Treatment Guidelines (May 2009)', '122', 'confirmed', 'kb:cpmtg-2009-tpi-repeat-relief-percent', 50, 'percent'),
        ('0.1.0', 6, 'kb:cpmtg-2009-tpi-6', 'requirement', 'No repeat injections unless a greater than 50% pain relief is obtained for six weeks after an injection and there is documented evidence of functional improvement.', 'Chronic Pain Medical Treatment Guidelines (May 2009)', '122', 'confirmed', 'kb:cpmtg-2009-tpi-repeat-relief-weeks', 6, 'weeks'),
        ('0.1.0', 7, 'kb:cpmtg-2009-tpi-7', 'limit', 'Frequency should not be at an interval less than two months.', 'Chronic Pain Medical Treatment Guidelines (May 2009)', '122', 'confirmed', 'kb:cpmtg-2009-tpi-min-interval', 2, 'months'),
        ('0.1.0', 8, 'kb:cpmtg-2009-tpi-8', 'exclusion', 'Trigger point injections with any substance (e.g., saline or glucose) other than local anesthetic with or without steroid are not recommended.', 'Chronic Pain Medical Treatment Guidelines (May 2009)', '122', 'confirmed', None, None, None),
    ]),
    ('criteria-of-a-section-with-citations-and-thresholds', {'section': 'acoem-2004-ch12-xray'}, [
        ('0.1.0', 1, 'kb:acoem-2004-ch12-xray-1', 'alternatives', 'Lumbar spine x-rays should not be recommended in patients with low back pain in the absence of red flags for serious spinal pathology, even if the pain has persisted for at least six weeks.', 'ACOEM Practice Guidelines, 2nd ed. (2004), Chapter 12: Low Back Complaints', '303-304', 'unconfirmed', None, None, None),
        ('0.1.0', '1a', 'kb:acoem-2004-ch12-xray-1a', 'requirement', 'Red flags for serious spinal pathology (such as suspected fracture, tumor, infection, cauda equina syndrome or progressive neurologic deficit).', 'ACOEM Practice Guidelines, 2nd ed. (2004), Chapter 12: Low Back Complaints', '303-304', 'unconfirmed', None, None, None),
        ('0.1.0', '1b', 'kb:acoem-2004-ch12-xray-1b', 'requirement', 'Focal neurologic findings on examination (unequivocal objective findings that identify specific nerve compromise on the neurologic examination).', 'ACOEM Practice Guidelines, 2nd ed. (2004), Chapter 12: Low Back Complaints', '303-304', 'unconfirmed', None, None, None),
    ]),
    ('sections-citing-a-document-and-page', {'page': '94'}, [
        ('0.1.0', 'kb:cpmtg-2009-opioids', 'Opioids', '74-96', '2009-07-18', '2016-07-27', 'MTUS'),
        ('0.1.0', 'kb:cpmtg-2009-tramadol', 'Tramadol (Ultram)', '76-80, 93-94, 113', '2009-07-18', '2016-07-27', 'MTUS'),
    ]),
    ('sections-citing-a-document-and-page', {'document': 'acoem-2004-ch12', 'page': '304'}, [
        ('0.1.0', 'kb:acoem-2004-ch12-mri-ct', 'Special studies: MRI and CT of the lumbar spine', '303-304', '2007-06-15', '2017-11-30', 'MTUS'),
        ('0.1.0', 'kb:acoem-2004-ch12-xray', 'Special studies: x-rays of the lumbar spine', '303-304', '2007-06-15', '2017-11-30', 'MTUS'),
    ]),
    ('how-many-decisions-each-criterion-decided', {'section': 'cpmtg-2009-tpi'}, [
        ('kb:cpmtg-2009-tpi', 'kb:cpmtg-2009-tpi-4', 2, 1, 0),
        ('kb:cpmtg-2009-tpi', 'kb:cpmtg-2009-tpi-5', 2, 1, 0),
        ('kb:cpmtg-2009-tpi', 'kb:cpmtg-2009-tpi-8', 2, 1, 0),
        ('kb:cpmtg-2009-tpi', 'kb:cpmtg-2009-tpi-1', 2, 0, 0),
        ('kb:cpmtg-2009-tpi', 'kb:cpmtg-2009-tpi-2', 2, 0, 0),
        ('kb:cpmtg-2009-tpi', 'kb:cpmtg-2009-tpi-3', 2, 0, 0),
        ('kb:cpmtg-2009-tpi', 'kb:cpmtg-2009-tpi-6', 2, 0, 0),
        ('kb:cpmtg-2009-tpi', 'kb:cpmtg-2009-tpi-7', 2, 0, 0),
    ]),
    ('how-many-decisions-each-criterion-decided', {'section': 'acupuncture-2009'}, [
        ('kb:acupuncture-2009', 'kb:acupuncture-1', 3, 1, 1),
        ('kb:acupuncture-2009', 'kb:acupuncture-2', 3, 1, 1),
        ('kb:acupuncture-2009', 'kb:acupuncture-5', 3, 1, 0),
        ('kb:acupuncture-2009', 'kb:acupuncture-7', 3, 1, 0),
        ('kb:acupuncture-2009', 'kb:acupuncture-3', 3, 0, 0),
        ('kb:acupuncture-2009', 'kb:acupuncture-4', 3, 0, 0),
        ('kb:acupuncture-2009', 'kb:acupuncture-6', 3, 0, 0),
    ]),
    ('most-frequent-unmet-criteria-per-service', {'service': 'acupuncture'}, [
        ('code:acupuncture', 'kb:acupuncture-1', 'not an adjunct to rehabilitation, and medication not reduced or not tolerated', 1, 0, 1),
        ('code:acupuncture', 'kb:acupuncture-2', 'no documented objective functional deficit to improve', 1, 0, 1),
        ('code:acupuncture', 'kb:acupuncture-5', 'more than 3 acupuncture treatments per week', 1, 1, 0),
        ('code:acupuncture', 'kb:acupuncture-7', 'no documented functional improvement after the prior acupuncture', 1, 1, 0),
    ]),
    ('most-frequent-unmet-criteria-per-service', {'service': 'trigger_point_injection'}, [
        ('code:trigger_point_injection', 'kb:cpmtg-2009-tpi-4', 'radiculopathy is present', 1, 1, 0),
        ('code:trigger_point_injection', 'kb:cpmtg-2009-tpi-5', 'more than 4 injections requested for one session', 1, 1, 0),
        ('code:trigger_point_injection', 'kb:cpmtg-2009-tpi-8', 'injectate other than local anesthetic with or without steroid', 1, 1, 0),
    ]),

]


def _compact(value: Any) -> Any:
    if isinstance(value, str):
        for namespace, prefix in NAMESPACES.items():
            if value.startswith(namespace):
                return prefix + value[len(namespace):]
    return value


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Backend]]:
    data = gzip.decompress(DATASET.read_bytes())
    embedded = EmbeddedStore(tmp_path_factory.mktemp("embedded") / "store")
    embedded.load_nquads(data)
    summary.rebuild(embedded)  # the fixed dataset holds the graphs only (bulk-loaded)
    with local_server(tmp_path_factory.mktemp("oxigraph")) as url:
        server = EndpointStore(url)
        server.load_nquads(data)
        summary.rebuild(server)
        yield {"embedded": embedded, "server": server}
    embedded.close()


@pytest.mark.parametrize(("name", "params", "rows"), EXPECTED,
                         ids=[f"{n}[{','.join(f'{k}={v}' for k, v in p.items())}]" for n, p, _ in EXPECTED])
def test_query_rows(stores: dict[str, Backend], name: str, params: dict[str, str], rows: list[tuple[Any, ...]]) -> None:
    query = querylib.resolve(name)
    embedded = querylib.run(stores["embedded"], query, params)
    assert [tuple(_compact(v) for v in row) for row in embedded.values()] == rows
    server = querylib.run(stores["server"], query, params)
    assert server.variables == embedded.variables
    assert server.rows == embedded.rows, "the server returns the same terms as the embedded store"


def test_every_query_is_tested_and_has_a_header() -> None:
    queries = querylib.library()
    assert len(queries) >= 12
    assert {name for name, _, _ in EXPECTED} == set(queries)
    for name, query in queries.items():
        assert query.title and query.description, name
        assert name == query.path.stem and name.islower() and " " not in name
        querylib.check_read_only(query.text, name)
        assert query.text.count("?") > 0
        for param in query.parameters:
            assert param.type in querylib.TYPES and param.doc, f"{name}: {param.name}"
            assert f"?{param.name}" in query.text, f"{name}: parameter {param.name} is not a variable"


def test_parameters_are_typed_and_checked(stores: dict[str, Backend]) -> None:
    query = querylib.resolve("overturn-rate-by-service-region-and-period")
    with pytest.raises(querylib.QueryError, match=r"--param from=2014-13-01: expected a date YYYY-MM-DD"):
        querylib.run(stores["embedded"], query, {"from": "2014-13-01"})
    with pytest.raises(querylib.QueryError, match=r"has no parameter 'form' \(its parameters: from, until, service\)"):
        querylib.run(stores["embedded"], query, {"form": "2014-01-01"})
    with pytest.raises(querylib.QueryError, match="expected a code of the case format"):
        querylib.run(stores["embedded"], query, {"service": "x ray"})
    ceiling = querylib.resolve("opioid-requests-above-the-morphine-equivalent-ceiling")
    with pytest.raises(querylib.QueryError, match="expected a number"):
        querylib.run(stores["embedded"], ceiling, {"ceiling": "120 mg"})


def test_a_query_file_with_a_required_string_parameter(stores: dict[str, Backend], tmp_path: Path) -> None:
    path = tmp_path / "cases-by-id.rq"
    path.write_text("# title: A case by id\n# description: the case with that id\n"
                    "# param: case_id xsd:string -- the case id\n"
                    "PREFIX mtus: <https://w3id.org/mtus/ontology#>\n"
                    "SELECT ?case WHERE { GRAPH ?case { ?case a mtus:Case ; mtus:identifier ?case_id } }\n",
                    encoding="utf-8")
    query = querylib.resolve(str(path))
    with pytest.raises(querylib.QueryError, match="--param case_id=VALUE is required"):
        querylib.run(stores["embedded"], query, {})
    for store in stores.values():
        assert querylib.run(store, query, {"case_id": "a01-tpi-met"}).values() == [
            ("https://w3id.org/mtus/case/a01-tpi-met",)]
        assert querylib.run(store, query, {"case_id": 'a01" } } ; DROP ALL ; #'}).rows == []
        assert querylib.run(store, query, {"case_id": "a01-tpi-met"}).rows, "nothing was dropped"


def test_a_string_parameter_cannot_close_its_literal(stores: dict[str, Backend], tmp_path: Path) -> None:
    """Issue 16: a value holding a newline and ending in a backslash and quote made rdflib's
    long-quote form end early, and a second parameter was then read as query text (0 rows became
    2). Bound as terms, both values are only ever compared as strings."""
    path = tmp_path / "two-strings.rq"
    path.write_text("# title: Two ids\n# description: cases whose id is either value\n"
                    "# param: first xsd:string -- an id\n# param: second xsd:string -- another id\n"
                    "PREFIX mtus: <https://w3id.org/mtus/ontology#>\n"
                    "SELECT ?case WHERE { GRAPH ?case { ?case a mtus:Case ; mtus:identifier ?id } "
                    "FILTER(?id = ?first || ?id = ?second) }\n", encoding="utf-8")
    query = querylib.resolve(str(path))
    attack = {"first": 'x\n\\"', "second": ') || true || ("'}
    for store in stores.values():
        assert querylib.run(store, query, attack).rows == []
        assert querylib.run(store, query, {"first": "a01-tpi-met", "second": "none"}).values() == [
            ("https://w3id.org/mtus/case/a01-tpi-met",)]


@pytest.mark.parametrize(("text", "message"), [
    ("DROP ALL", "is a SPARQL update"),
    ("PREFIX ex: <http://example.org/>\nINSERT DATA { ex:a ex:b ex:c }", "is a SPARQL update"),
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "uses SERVICE"),
    ("SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE SILENT <http://127.0.0.1:9/q> { ?s ?q ?r } } }", "uses SERVICE"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "is a CONSTRUCT query"),
    ("SELECT * WHERE { ?s ?p }", "not a valid SPARQL 1.1 query"),
])
def test_only_read_queries_without_service_run(stores: dict[str, Backend], tmp_path: Path,
                                               text: str, message: str) -> None:
    path = tmp_path / "q.rq"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(querylib.QueryError, match=message):
        querylib.run(stores["embedded"], querylib.resolve(str(path)), {})


def test_cli_lists_runs_formats_and_charts(stores: dict[str, Backend], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["query", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "overturn-rate-by-service-region-and-period\n    Overturn rate by service, region and period" in listing
    assert "--param from (xsd:date, default 1900-01-01): first review date counted" in listing
    store = tmp_path / "store"
    EmbeddedStore(store).close()
    embedded = EmbeddedStore(store)
    embedded.load_nquads(gzip.decompress(DATASET.read_bytes()))
    embedded.close()
    name = "determinations-by-rule-base-version-and-edition"
    assert cli.main(["query", name, "--store", str(store), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "version,edition,edition_label,determinations,items,overturned",
        "0.1.0,https://w3id.org/mtus/kb/mtus-2007,\"MTUS effective June 15, 2007\",1,1,1",
        "0.1.0,https://w3id.org/mtus/kb/mtus-2009,\"MTUS effective July 18, 2009\",12,14,4"]
    assert cli.main(["query", name, "--store", str(store), "--format", "json"]) == 0
    assert '"determinations": 12' in capsys.readouterr().out
    chart = tmp_path / "chart.png"
    assert cli.main(["query", "how-many-decisions-each-criterion-decided", "--param", "section=cpmtg-2009-tpi",
                     "--store", str(store), "--chart", str(chart)]) == 0
    assert "kb:cpmtg-2009-tpi-4" in capsys.readouterr().out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["query", "claims-administrator-guideline-mismatches", "--store", str(store),
                     "--chart", str(tmp_path / "no.png")]) == 2
    assert "--chart" in capsys.readouterr().err
    assert cli.main(["query", "overturn-rate", "--store", str(store)]) == 2
    assert "did you mean: overturn-rate-by-service-region-and-period" in capsys.readouterr().err
    assert cli.main(["query", name, "--store", str(tmp_path / "none")]) == 2
    assert "no store there" in capsys.readouterr().err
    assert cli.main(["query", name, "--param", "x=1", "--store", str(store)]) == 2
    assert "has no parameter 'x'" in capsys.readouterr().err
