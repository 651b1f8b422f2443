"""Names given the way Debian's packaging gives them (a socket, a lease file, a hooks library by
name only) are found where each Kea version really puts them, and refused only where that version
refuses them, in its words (the table in ``tests/kea_paths_measured.py``, measured on the lab
images and re-measured by ``tests/integration/test_kea_paths.py``)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError
from dhcpdrill.servers import adapter_for
from dhcpdrill.servers.kea import ctrl_agent_config, kea_json, lease_file_path, control_socket_path
from dhcpdrill.servers.kea_paths import kea_parent, place
from tests.kea_paths_measured import MEASURED

ROOT = Path(__file__).resolve().parents[2]
DEBIAN = ROOT / "fixtures" / "production" / "kea26-debian-names"


@pytest.mark.parametrize("suite,kind,name,found,words,by_check", MEASURED,
                         ids=[f"{r[0]}-{r[1]}-{r[2].strip() or 'blank'}" for r in MEASURED])
def test_each_measured_row(suite, kind, name, found, words, by_check):
    placed = place(suite, kind, name)
    assert (placed.path, placed.refusal) == (found, words)
    if words:
        assert placed.by_check == by_check


def test_kea_reads_the_directory_as_written_not_normalised():
    assert kea_parent("kea4-ctrl-socket") is None
    assert kea_parent("./kea4-ctrl-socket") == "."
    assert kea_parent(" /run/kea//x ") == "/run/kea/"


def debian_pair(tmp_path: Path, suite: str) -> Path:
    folder = Path(shutil.copytree(DEBIAN, tmp_path / "pair"))
    manifest = folder / "pair.toml"
    manifest.write_text(manifest.read_text().replace('suite = "trixie"', f'suite = "{suite}"'))
    return folder


@pytest.mark.parametrize("suite", ["trixie", "forky"])
def test_a_debian_shaped_pair_is_found_where_2_6_and_3_0_put_its_files(tmp_path, suite):
    pair = load_pair(debian_pair(tmp_path, suite))
    adapter = adapter_for(pair)
    plan = adapter.lab_plan(pair)
    for role in ("primary", "secondary"):
        assert adapter.lease_path(pair, role) == "/var/lib/kea/kea-leases4.csv"
        assert adapter._paths(pair, role)[0] == "/run/kea/kea4-ctrl-socket"
        assert "chmod 0750 /run/kea" in adapter._directories(pair, role)
        # the lab copy keeps the names as written: the daemon places them itself
        lab = kea_json(plan.files_in_container[role]["/etc/kea/kea-dhcp4.conf"].decode())["Dhcp4"]
        assert lab["control-socket"]["socket-name"] == "kea4-ctrl-socket"
        assert [h["library"] for h in lab["hooks-libraries"]] == ["libdhcp_lease_cmds.so", "libdhcp_ha.so"]
        assert "name" not in lab["lease-database"]
    assert not any("refuses" in r for r in plan.rewrites)


def test_the_debian_file_parses_with_its_trailing_comma_and_output_options():
    cfg = kea_json((DEBIAN / "kea-dhcp4-a.conf").read_text())["Dhcp4"]
    assert cfg["loggers"][0]["output-options"] == [{"output": "stdout", "pattern": "%-5p %m\n"}]


def test_a_file_logger_under_output_options_with_a_hyphen_is_pointed_at_stdout(tmp_path):
    folder = debian_pair(tmp_path, "trixie")
    for name in ("kea-dhcp4-a.conf", "kea-dhcp4-b.conf"):
        path = folder / name
        path.write_text(path.read_text().replace('"output": "stdout",', '"output": "kea-dhcp4.log",'))
    pair = load_pair(folder)
    plan = adapter_for(pair).lab_plan(pair)
    lab = kea_json(plan.files_in_container["primary"]["/etc/kea/kea-dhcp4.conf"].decode())["Dhcp4"]
    assert lab["loggers"][0]["output-options"][0]["output"] == "stdout"
    assert any("Dhcp4.loggers[0] (kea-dhcp4).output-options: kea-dhcp4.log -> stdout" in r for r in plan.rewrites)


def test_the_same_files_on_kea_2_2_are_refused_in_its_words(tmp_path):
    with pytest.raises(PairError) as err:
        load_pair(debian_pair(tmp_path, "bookworm"))
    text = str(err.value)
    assert ('kea-dhcp4-a.conf: Dhcp4.hooks-libraries[1].library: Kea 2.2.0 (suite bookworm) refuses to start with '
            'it: "failed to open hook library libdhcp_ha.so: libdhcp_ha.so: cannot open shared object file: No such '
            'file or directory"') in text
    assert "give the full path /usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so" in text
    assert ('Dhcp4.loggers[0].output-options: Kea 2.2.0 (suite bookworm) refuses to start with it: "got unexpected '
            'keyword "output-options" in loggers map"') in text


def test_the_ctrl_agent_is_given_the_socket_where_the_daemon_bound_it():
    cfg = kea_json((DEBIAN / "kea-dhcp4-a.conf").read_text())["Dhcp4"]
    ha = cfg["hooks-libraries"][1]["parameters"]["high-availability"][0]
    ha["multi-threading"] = {"enable-multi-threading": False}
    agent = ctrl_agent_config("trixie", cfg, ha, "198.18.0.11", 8000)
    assert agent["Control-agent"]["control-sockets"]["dhcp4"]["socket-name"] == "/run/kea/kea4-ctrl-socket"


def test_paths_without_a_name_are_kea_s_defaults_in_every_version():
    for suite in ("bookworm", "trixie", "forky"):
        assert lease_file_path(suite, {"lease-database": {"type": "memfile"}}) == "/var/lib/kea/kea-leases4.csv"
        assert control_socket_path(suite, {"control-sockets": [
            {"socket-type": "http", "socket-port": 8004},
            {"socket-type": "unix", "socket-name": "/run/kea/kea4-ctrl-socket"}]}) == "/run/kea/kea4-ctrl-socket"
    assert control_socket_path("forky", {"control-sockets": [{"socket-type": "unix", "socket-name": "x"}]}) == "/run/kea/x"


def test_a_rolling_upgrade_that_would_move_the_lease_file_is_refused(tmp_path):
    """Kea 2.2 opens a name with a trailing blank as written; 2.6.3 trims it: after the upgrade the
    server would open another file and start without its leases."""
    folder = Path(shutil.copytree(ROOT / "fixtures" / "kea-hot-standby", tmp_path / "pair"))
    for name in ("primary.json", "standby.json"):
        path = folder / name
        path.write_text(path.read_text().replace('"/var/lib/kea/kea-leases4.csv"', '"/var/lib/kea/kea-leases4.csv "'))
    assert 'to_suite = "trixie"' in (folder / "pair.toml").read_text()
    with pytest.raises(PairError) as err:
        load_pair(folder)
    assert ('primary.json: Dhcp4.lease-database.name: the lease file moves in the upgrade: Kea 2.2.0 uses '
            '"/var/lib/kea/kea-leases4.csv ", Kea 2.6.3 "/var/lib/kea/kea-leases4.csv"') in str(err.value)


def test_control_sockets_entries_are_checked_by_their_own_field(tmp_path):
    folder = debian_pair(tmp_path, "forky")
    for name in ("kea-dhcp4-a.conf", "kea-dhcp4-b.conf"):
        path = folder / name
        text = path.read_text()
        start = text.index('"control-socket": {')
        end = text.index("},", start) + 2
        path.write_text(text[:start] + json.dumps({"control-sockets": [
            {"socket-type": "http", "socket-port": 8004},
            {"socket-type": "unix", "socket-name": "/tmp/kea4-ctrl-socket"}]})[1:-1] + "," + text[end:])
    with pytest.raises(PairError) as err:
        load_pair(folder)
    assert ("Dhcp4.control-sockets[1].socket-name: Kea 3.0.4 (suite forky) refuses to start with it: \"'socket-name' "
            "is invalid: invalid path specified: '/tmp', supported path is '/run/kea'\"") in str(err.value)
    assert "kea-dhcp4 -t says so too" in str(err.value)
