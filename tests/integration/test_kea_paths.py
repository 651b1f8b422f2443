"""The table of where Kea puts what a config names, and what it refuses (``tests/kea_paths_measured.py``,
which the harness is held to), checked against the real daemons: every row started as kea-dhcp4 in
its suite's lab image, in a container with no network, as Debian's kea-dhcp4-server.service starts
it (user _kea with CAP_NET_RAW, working directory /, its directories made and owned as systemd
makes them). An accepted row must leave the file where the table says; a refused row must stop the
daemon with the table's words, and ``kea-dhcp4 -t`` must refuse it exactly when the table says."""
from __future__ import annotations

import json
import re
import shlex

import pytest

from dhcpdrill.servers.kea_paths import HOOKS_DIR
from tests.kea_paths_measured import MEASURED

pytestmark = pytest.mark.drill
SUITES = ("bookworm", "trixie", "forky")


def config(kind: str, name: str) -> dict:
    """A minimal HA server with Kea's default paths written out in full, and ``name`` in ``kind``'s field."""
    dhcp4 = {
        "interfaces-config": {"interfaces": ["eth0"]},
        "control-socket": {"socket-type": "unix", "socket-name": "/run/kea/kea4-ctrl-socket"},
        "lease-database": {"type": "memfile", "lfc-interval": 0},
        "hooks-libraries": [{"library": f"{HOOKS_DIR}/libdhcp_lease_cmds.so"},
                            {"library": f"{HOOKS_DIR}/libdhcp_ha.so", "parameters": {"high-availability": [{
                                "this-server-name": "a", "mode": "hot-standby",
                                "peers": [{"name": "a", "url": "http://198.18.0.11:8001/", "role": "primary"},
                                          {"name": "b", "url": "http://198.18.0.12:8001/", "role": "standby"}]}]}}],
        "subnet4": [{"id": 1, "subnet": "198.18.0.0/24", "pools": [{"pool": "198.18.0.100 - 198.18.0.199"}]}],
        "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stdout"}], "severity": "INFO"}],
    }
    if kind == "control socket":
        dhcp4["control-socket"]["socket-name"] = name
    elif kind == "lease file":
        dhcp4["lease-database"]["name"] = name
    elif kind == "hooks library":
        dhcp4["hooks-libraries"][1]["library"] = name
    elif kind == "log file":
        dhcp4["loggers"][0]["output_options"][0]["output"] = name
    return {"Dhcp4": dhcp4}


# Per config: reset the directories, run kea-dhcp4 -t, start the daemon as the unit does, wait up
# to 4 s for the expected file (or for the daemon to exit), report, stop it.
SCRIPT = """
ip link add eth0 type veth peer name peer0 && ip link set eth0 up && ip link set peer0 up
ip addr add 198.18.0.11/24 dev eth0
cd /
chmod 0755 /rows && chmod 0644 /rows/*
for f in /rows/*.json; do
  rm -rf /run/kea /run/lock/kea /var/lib/kea /var/log/kea /kea* /tmp/kea*
  mkdir -p /run/kea /run/lock/kea /var/lib/kea /var/log/kea && chmod 0750 /run/kea /var/lib/kea /var/log/kea
  chown _kea:_kea /run/kea /run/lock/kea /var/lib/kea /var/log/kea
  want=$(cat "${f%.json}.want")
  kea-dhcp4 -t "$f" >/dev/null 2>&1; check=$?
  KEA_LOCKFILE_DIR=/run/lock/kea setpriv --reuid=_kea --regid=_kea --init-groups \\
    --inh-caps=+net_raw,+net_bind_service --ambient-caps=+net_raw,+net_bind_service \\
    kea-dhcp4 -c "$f" > /tmp/out 2>&1 & pid=$!
  found=0
  for i in $(seq 40); do
    if [ -n "$want" ] && [ -e "$want" ]; then found=1; break; fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  kill -0 $pid 2>/dev/null; alive=$?
  kill $pid 2>/dev/null; wait $pid 2>/dev/null
  echo "@@ $(basename "$f" .json) check=$check alive=$((1 - alive)) found=$found"
  grep -E "ERROR|FATAL" /tmp/out | sed 's/^/   /'
done
"""


@pytest.mark.parametrize("suite", SUITES)
def test_every_row_against_the_real_daemon(drill_session, suite):
    rows = [r for r in MEASURED if r[0] == suite]
    files = {}
    for i, (_, kind, name, found, _, _) in enumerate(rows):
        files[f"/rows/{i:02}.json"] = json.dumps(config(kind, name)).encode()
        files[f"/rows/{i:02}.want"] = (found or "").encode()
    default = len(rows)  # no lease file named: every version's default file
    files[f"/rows/{default:02}.json"] = json.dumps(config("", "")).encode()
    files[f"/rows/{default:02}.want"] = b"/var/lib/kea/kea-leases4.csv"
    engine = drill_session.engine(suite)
    code, out, err = engine.run_helper(["sh", "-c", SCRIPT], image=drill_session.image(suite), run="kea-paths",
                                       files=files, network_mode="none", cap_add=["NET_ADMIN", "NET_RAW"],
                                       timeout=240, what="start kea-dhcp4 on each row of the paths table")
    results = {int(m[1]): (int(m[2]), m[3] == "1", m[4] == "1", m[5])
               for m in re.finditer(r"^@@ (\d+) check=(\d+) alive=(\d) found=(\d)\n((?:   .*\n)*)", out, re.M)}
    assert len(results) == len(rows) + 1, out + err
    failures = []
    for i, (_, kind, name, found, words, by_check) in enumerate(rows):
        check, alive, there, log = results[i]
        row = f"{suite} {kind} {shlex.quote(name)}"
        if found and not (alive and there):
            failures.append(f"{row}: expected at {found}, daemon alive={alive}, file there={there}: {log.strip()}")
        if words and (alive or words not in log):
            failures.append(f"{row}: expected refusal {words!r}, daemon alive={alive}: {log.strip()}")
        if words and (check != 0) != by_check:
            failures.append(f"{row}: kea-dhcp4 -t exit {check}, the table says refused by -t: {by_check}")
    check, alive, there, log = results[default]
    if not (alive and there):
        failures.append(f"{suite}: no lease file named: expected /var/lib/kea/kea-leases4.csv: {log.strip()}")
    assert not failures, "\n".join(failures)
