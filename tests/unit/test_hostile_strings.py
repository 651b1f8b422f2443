"""No string from a pair reaches a shell unquoted: every place a config value meets ``sh -c`` is
fed names and paths that would run a command, split into two words or end a quote, and the
shell must see each one as exactly one intact word (or as an argument, never as script text)."""
from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from dhcpdrill.lab import Engine, Lab
from dhcpdrill.pair import load_pair
from dhcpdrill.servers.isc import IscAdapter
from dhcpdrill.servers.kea import KeaAdapter, strip_comments

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HOSTILE = ["/run/kea/it's a $(touch /pwned) `id` dir", "/var/lib/kea/a;b|c&d>e\"q\"$HOME`id`$(touch${IFS}/pwned)'"]
# Kea cannot open a lease file whose path holds whitespace (refused at load), so the lease paths
# carry every other kind of shell syntax.


class Recorder:
    """Stands in for a container or the host shell: records the argv it was asked to run."""

    def __init__(self, output: bytes = b"") -> None:
        self.calls: list[list[str]] = []
        self.output = output
        self.name, self.id = "fake", "0" * 12

    def exec_run(self, argv, **_):
        self.calls.append(list(argv))
        return 0, self.output


def kea_pair(tmp_path: Path, sock: str, leases: str):
    folder = tmp_path / "pair"
    shutil.copytree(FIXTURES / "kea-hot-standby", folder)
    for name in ("primary.json", "standby.json"):
        path = folder / name
        cfg = json.loads(strip_comments(path.read_text()))
        cfg["Dhcp4"]["control-socket"]["socket-name"] = f"{sock}/kea4.sock"
        cfg["Dhcp4"]["lease-database"]["name"] = f"{leases}/kea-leases4.csv"
        path.write_text(json.dumps(cfg, indent=1))
    manifest = folder / "pair.toml"  # Kea 2.6.3+ refuses such paths, so no rolling upgrade to it here
    text = manifest.read_text()
    manifest.write_text(text[:text.index("[drills.rolling-upgrade]")])
    return load_pair(folder)


@pytest.mark.parametrize("sock, leases", [(HOSTILE[0], HOSTILE[1]), (HOSTILE[1], HOSTILE[1] + "2")])
def test_kea_paths_reach_the_server_command_as_single_words(tmp_path, sock, leases):
    pair = kea_pair(tmp_path, sock, leases)
    command = KeaAdapter().command(pair, "primary")
    assert command[:2] == ["sh", "-c"]
    words = shlex.split(command[2])
    assert sock in words and leases in words  # mkdir -p receives each directory whole
    assert words[words.index("chmod") + 2] == sock  # and chmod 0750 the socket's
    assert "/pwned" not in " ".join(w for w in words if w not in (sock, leases))


def test_kea_socket_path_reaches_the_control_client_as_an_argument(tmp_path):
    pair = kea_pair(tmp_path, HOSTILE[0], "/var/lib/kea")
    container = Recorder(b'{"result": 0, "arguments": {"state": "hot-standby"}}')
    lab = SimpleNamespace(containers={"primary": container})
    assert KeaAdapter().ha_state(lab, pair, "primary") == "hot-standby"
    argv = container.calls[0]
    assert argv[:2] == ["python3", "-c"] and argv[3] == f"{HOSTILE[0]}/kea4.sock"


def test_dhcpd_peer_name_and_key_reach_omshell_as_an_argument_not_as_script(tmp_path):
    folder = tmp_path / "pair"
    shutil.copytree(FIXTURES / "isc-failover", folder)
    for name in ("primary.conf", "secondary.conf"):
        path = folder / name
        path.write_text(path.read_text().replace('"drill"', '"it\'s $(touch /pwned) `id`"'))
    pair = load_pair(folder)
    container = Recorder(b"local-state = 00:00:00:02\n")
    lab = SimpleNamespace(containers={"primary": container})
    IscAdapter()._omapi(lab, pair, "primary")
    argv = container.calls[0]
    assert argv[:2] == ["sh", "-c"] and "touch" not in argv[2] and "drill" not in argv[2]
    assert 'set name = "it\'s $(touch /pwned) `id`"' in argv[4]


def test_the_host_helpers_get_the_port_and_table_as_arguments():
    """The bridge port and table names reach the privileged helper as $1/$2, never as script text."""
    shell_calls = []

    class FakeEngine(Engine):
        def __init__(self):
            self.session, self.labels, self.client = "abcdef01", {}, None

        def shell(self, script, *args, what=""):
            shell_calls.append((script, args))
            return "7: veth$(reboot)@if6: <BROADCAST> mtu 1500 master dd-x\n"

        def run_helper(self, command, **_):
            return 0, "7\n", ""

    lab = Lab(FakeEngine(), "image", Path("/tmp"))
    lab.containers["primary"] = SimpleNamespace(id="c" * 12)
    table = lab.cut_dhcp("primary")
    script, args = shell_calls[-1]
    assert args == (table, "veth$(reboot)") and "reboot" not in script and table not in script
    assert all("$(" not in s for s, _ in shell_calls)
