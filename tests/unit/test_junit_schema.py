"""The JUnit file validates against a published schema: Surefire/Jenkins' ``junit-10.xsd``, the
schema pytest checks its own xunit2 reports against (shipped in pytest's source distribution,
which is where this test takes it from: the copy of the pytest version installed here).

Fetching it needs PyPI; without it the test is skipped, unless ``DHCPDRILL_REQUIRE_JUNIT_SCHEMA``
is set (``.ci/run`` sets it), when it fails instead."""
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dhcpdrill import report

from .test_report import _with_hazard, result
from .timelines import FAULT_T, SECONDARY, base, bound, healthy

xmlschema = pytest.importorskip("xmlschema")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dhcpdrill"


@pytest.fixture(scope="module")
def schema():
    path = CACHE / f"junit-10-pytest-{pytest.__version__}.xsd"
    if not path.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        got = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                              f"pytest=={pytest.__version__}", "-d", str(CACHE)], capture_output=True, text=True)
        sdist = CACHE / f"pytest-{pytest.__version__}.tar.gz"
        if got.returncode or not sdist.is_file():
            why = f"cannot fetch pytest's source distribution for junit-10.xsd: {got.stderr.strip()[-300:]}"
            if os.environ.get("DHCPDRILL_REQUIRE_JUNIT_SCHEMA"):
                pytest.fail(why)
            pytest.skip(why)
        with tarfile.open(sdist) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/testing/example_scripts/junit-10.xsd"))
            path.write_bytes(tar.extractfile(member).read())
    return xmlschema.XMLSchema(str(path))


def _errors(schema, xml: str) -> list[str]:
    return [f"{e.path}: {e.reason}" for e in schema.iter_errors(xml)]


def test_every_kind_of_run_validates(schema, tmp_path):
    tl = healthy()
    bound(tl, FAULT_T + 5, 9, "198.18.0.100", SECONDARY, client="probe-09", role="probe")
    passed, failed = result(healthy(), tmp_path), result(base(verified=False), tmp_path)
    hazard = _with_hazard(result(tl, tmp_path), "duplicates")
    errored = result(healthy(), tmp_path)
    errored.error, errored.duration = "LabError: <lab> & \"quotes\"", 1234.56789
    for r in (passed, failed, hazard, errored):
        assert _errors(schema, report.junit_xml([r])) == []
    assert _errors(schema, report.junit_xml([passed, failed, hazard, errored])) == []
    not_run = [report.NotRun("kea-hot-standby / failback", "drills/t.py::t[kea-hot-standby]", "skipped",
                             "kea-hot-standby states no [drills.failback]"),
               report.NotRun("kea-hot-standby / kill-primary", "drills/t.py::k", "error", "lab unavailable: <gone> &")]
    assert _errors(schema, report.junit_xml([], not_run=not_run)) == []
    assert _errors(schema, report.junit_xml([passed], not_run=not_run)) == []


def test_the_schema_check_rejects_what_junit_xml_writes_unaided(schema, tmp_path):
    """The check has teeth: junit-xml's own output (per-case properties, ``disabled``) fails it."""
    from junit_xml import TestCase, TestSuite, to_xml_report_string
    raw = to_xml_report_string([TestSuite("s", [TestCase("c", timestamp="2026-01-01T00:00:00")])])
    assert any("disabled" in e or "timestamp" in e for e in _errors(schema, raw))
