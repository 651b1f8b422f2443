"""Configs a Kea version refuses to start with are refused before any container starts, in that
version's own words and with the fix (Kea 2.6.3+: files, sockets and hooks only in the default
directories, CVE-2025-32801). The wording is Kea's own (``tests/kea_paths_measured.py``): started in
the trixie (2.6.3) and forky (3.0.4) lab images, kea-dhcp4 refused each of these paths - although
``kea-dhcp4 -t`` accepts the lease file and the log file (the daemon refuses them only when it
opens them), which is why the harness checks first."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError

ROOT = Path(__file__).resolve().parents[2]


def pair_on(tmp_path: Path, suite: str, edit=lambda text: text, extra: str = "") -> Path:
    folder = Path(shutil.copytree(ROOT / "fixtures" / "kea-hot-standby", tmp_path / "pair"))
    manifest = folder / "pair.toml"
    manifest.write_text(manifest.read_text().replace('suite = "bookworm"', f'suite = "{suite}"') + extra)
    for name in ("primary.json", "standby.json"):
        path = folder / name
        path.write_text(edit(path.read_text()))
    return folder


def moved_lease_file(text: str) -> str:
    return text.replace('"/var/lib/kea/kea-leases4.csv"', '"/srv/dhcp/kea-leases4.csv"')


@pytest.mark.parametrize("suite,version", [("trixie", "2.6.3"), ("forky", "3.0.4")])
def test_a_lease_file_outside_the_default_directory_is_refused_on_2_6_3_and_later(tmp_path, suite, version):
    with pytest.raises(PairError) as err:
        load_pair(pair_on(tmp_path, suite, moved_lease_file))
    text = str(err.value)
    assert (f"primary.json: Dhcp4.lease-database.name: Kea {version} (suite {suite}) refuses to start with it: "
            "\"Could not open lease file: invalid path specified: '/srv/dhcp', supported path is '/var/lib/kea'\"") in text
    assert "kea-dhcp4 -t passes it: the daemon refuses it only when it starts" in text
    assert ("move the lease file under /var/lib/kea/ (as /var/lib/kea/kea-leases4.csv), or give its name alone "
            "(\"kea-leases4.csv\"), which Kea") in text
    assert "standby.json: Dhcp4.lease-database.name" in text


def without_rolling_upgrade(folder: Path) -> Path:
    manifest = folder / "pair.toml"
    text = manifest.read_text()
    manifest.write_text(text[:text.index("[drills.rolling-upgrade]")])
    return folder


def test_the_same_config_is_fine_on_kea_2_2_without_an_upgrade(tmp_path):
    folder = without_rolling_upgrade(pair_on(tmp_path, "bookworm", moved_lease_file))
    assert load_pair(folder).name == "kea-hot-standby"


def test_a_rolling_upgrade_to_2_6_is_refused_for_what_2_6_would_refuse(tmp_path):
    folder = pair_on(tmp_path, "bookworm", moved_lease_file)
    assert 'to_suite = "trixie"' in (folder / "pair.toml").read_text()  # the bundled table upgrades to trixie
    with pytest.raises(PairError) as err:
        load_pair(folder)
    assert "Dhcp4.lease-database.name: Kea 2.6.3 (suite trixie) refuses to start with it" in str(err.value)


def test_log_files_sockets_and_hooks_outside_their_directories(tmp_path):
    def edit(text: str) -> str:
        return (text.replace('"/run/kea/kea4-ctrl-socket"', '"/tmp/kea4-ctrl-socket"')
                .replace('"/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so"', '"/opt/kea/hooks/libdhcp_ha.so"')
                .replace('"output": "stdout"', '"output": "/var/log/kea-dhcp4.log"'))
    with pytest.raises(PairError) as err:
        load_pair(pair_on(tmp_path, "trixie", edit))
    text = str(err.value)
    for field, words, where, supported in (
            ("Dhcp4.control-socket.socket-name", "'socket-name' is invalid: ", "/tmp", "/run/kea"),
            ("Dhcp4.hooks-libraries[1].library", "hooks library configuration error: ", "/opt/kea/hooks",
             "/usr/lib/x86_64-linux-gnu/kea/hooks"),
            ("Dhcp4.loggers[0].output_options[0].output", "invalid path in `output`: ", "/var/log", "/var/log/kea")):
        assert f"primary.json: {field}: Kea 2.6.3 (suite trixie) refuses to start with it: \"{words}invalid path " \
               f"specified: '{where}', supported path is '{supported}'\"" in text, field
