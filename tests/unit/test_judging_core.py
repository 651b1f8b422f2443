"""The judging core needs no Docker engine and no packet library: a recorded run is re-judged, its
outcome decided and its reports written with the Docker SDK and scapy unimportable (the audit
promise: an auditor re-judges an archive on a machine that runs no containers)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ("timeline", "events", "verdicts", "outcome", "expectations", "manifest", "scenario", "runrecord",
        "pair", "catalogue", "report", "evidence", "figures", "merge", "gonogo")

REJUDGE = """
import sys
sys.modules["docker"] = None  # importing it now raises ImportError
sys.modules["scapy"] = None
import gzip, json
from pathlib import Path
{imports}
from dhcpdrill.catalogue import known_scenarios
from dhcpdrill.pair import load_pair
from dhcpdrill.outcome import decide
from dhcpdrill.report import write
from dhcpdrill.runrecord import DrillResult
from dhcpdrill.scenario import verdicts_for
from dhcpdrill.servers import adapter_for
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import judge
with gzip.open("tests/evidence/kea-hs-peer-partition.jsonl.gz", "rt") as src:
    tl = Timeline(Event(**json.loads(line)) for line in src if line.strip())
pair = load_pair(Path("fixtures") / tl.first("lab").get("pair"))
scenario = known_scenarios()["peer-partition"]
verdicts = judge(tl, pair.drills[scenario.name], verdicts_for(scenario, adapter_for(pair).lab_plan(pair), pair))
result = DrillResult(pair, scenario, "recorded", Path(sys.argv[1]) / "run", 0.0, tl, verdicts)
write([result], Path(sys.argv[1]))
print(result.outcome.status, len(verdicts), sorted(m for m in sys.modules if m.split(".")[0] in ("docker", "scapy")))
"""


def test_a_recorded_run_is_rejudged_and_reported_without_docker_or_scapy(tmp_path):
    code = REJUDGE.format(imports="\n".join(f"import dhcpdrill.{m}" for m in CORE))
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    status, count, loaded = done.stdout.split(" ", 2)
    assert status == "expected-failure" and int(count) >= 8  # the pair's known split brain, as recorded
    assert loaded.strip() == "['docker', 'scapy']"  # only the blocks this test put there: nothing imported them
    assert (tmp_path / "junit-drills.xml").read_text().count("<testcase") > int(count)  # a case per verdict and the outcome
    assert "peer-partition" in (tmp_path / "drills.html").read_text()
