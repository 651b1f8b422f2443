"""Kea HA backup peers: named at check time (drilled from files.backup, or refused naming the
fix), planned as a third server, and judged by backup-updated and service-held on a real
kill-backup recording (tests/evidence/kea-hsb-kill-backup) and on mutations of it that fail."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError
from dhcpdrill.servers import adapter_for
from dhcpdrill.timeline import Event
from dhcpdrill.verdicts import FAIL, PASS, UNKNOWN, backup_updated

from .test_real_evidence import judged, load, with_events, without

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "kea-hot-standby-backup"


def copy(tmp_path: Path, source: Path = FIXTURE) -> Path:
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    return folder


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert text.count(old) >= count, old
    path.write_text(text.replace(old, new))


def problems(folder: Path) -> list:
    with pytest.raises(PairError) as caught:
        load_pair(folder)
    return caught.value.problems


def test_the_bundled_backup_pair_plans_a_third_server_beside_the_pair():
    pair = load_pair(FIXTURE)
    plan = adapter_for(pair).lab_plan(pair)
    assert plan.backup is not None and (plan.backup.address, plan.backup.peer_port) == ("198.18.20.13", 8001)
    assert set(plan.files_in_container) == {"primary", "secondary", "backup"}
    assert plan.backup.address not in plan.spare_addresses()  # the gateway and the clients sit elsewhere
    assert set(plan.addresses) == {"primary", "secondary"}  # the pair's own roles stay two
    assert any("third server" in r for r in plan.rewrites)
    assert not adapter_for(pair).lab_plan(pair).warnings  # the backup's auto-failover false is no takeover warning


def test_a_backup_peer_without_its_own_config_is_refused_naming_the_manifest_key(tmp_path):
    folder = copy(tmp_path)
    edit(folder / "pair.toml", 'backup = "backup.json"', "")
    found = problems(folder)
    assert [(Path(p.file).name, p.field) for p in found] == [("pair.toml", "files.backup")]
    assert "would not start" in found[0].what and 'backup = \\"backup.json\\"' not in found[0].fix
    assert 'backup = "backup.json"' in found[0].fix and "remove the backup" in found[0].fix


def test_wait_backup_ack_true_is_refused_in_keas_own_words(tmp_path):
    folder = copy(tmp_path)
    edit(folder / "primary.json", '"mode": "hot-standby",', '"mode": "hot-standby", "wait-backup-ack": true,')
    found = problems(folder)
    assert [(Path(p.file).name, p.field) for p in found] == [("primary.json", "high-availability[0].wait-backup-ack")]
    assert "'wait-backup-ack' must be set to false in the hot standby configuration" in found[0].what


def test_wait_backup_ack_true_is_refused_even_with_no_backup_in_the_pair(tmp_path):
    folder = copy(tmp_path, ROOT / "fixtures" / "kea-load-balancing")
    config = next(p for p in sorted(folder.glob("*.json")))
    edit(config, '"mode": "load-balancing",', '"mode": "load-balancing", "wait-backup-ack": true,')
    found = problems(folder)
    assert any(p.field == "high-availability[0].wait-backup-ack" and "load balancing configuration" in p.what
               for p in found)


def test_a_backup_config_for_a_pair_without_a_backup_peer_is_refused(tmp_path):
    folder = copy(tmp_path, ROOT / "fixtures" / "kea-hot-standby")
    shutil.copy(FIXTURE / "backup.json", folder / "backup.json")
    edit(folder / "pair.toml", 'secondary = "standby.json"', 'secondary = "standby.json"\nbackup = "backup.json"')
    found = problems(folder)
    assert any(p.field == "files.backup" and "lists no server in role backup" in p.what for p in found)


def test_a_kill_backup_table_on_a_pair_without_a_backup_is_refused(tmp_path):
    folder = copy(tmp_path, ROOT / "fixtures" / "kea-hot-standby")
    (folder / "pair.toml").write_text((folder / "pair.toml").read_text()
                                      + "\n[drills.kill-backup]\nmax_takeover_s = 15\nmax_outage_s = 5\n")
    found = problems(folder)
    assert [p.field for p in found] == ["drills.kill-backup"] and "no backup server" in found[0].what


def test_an_isc_pair_with_a_backup_file_is_refused(tmp_path):
    folder = copy(tmp_path, ROOT / "fixtures" / "isc-failover")
    (folder / "backup.conf").write_text("# nothing\n")
    edit(folder / "pair.toml", "[files]\n", '[files]\nbackup = "backup.conf"\n')
    found = problems(folder)
    assert any(p.field == "files.backup" and "no backup server" in p.what for p in found)


def test_a_backup_whose_own_config_names_another_server_is_refused(tmp_path):
    folder = copy(tmp_path)
    edit(folder / "backup.json", '"this-server-name": "backup"', '"this-server-name": "standby"')
    found = problems(folder)
    assert any(Path(p.file).name == "backup.json" and p.field == "high-availability[0].this-server-name"
               for p in found)


def test_a_backup_outside_the_peers_network_is_refused(tmp_path):
    folder = copy(tmp_path)
    for name in ("primary.json", "standby.json", "backup.json"):
        edit(folder / name, "http://198.18.20.13:8001/", "http://198.18.20.150:8001/")
    found = problems(folder)
    assert [p.field for p in found] == ["high-availability[0].peers[backup].url"] and "pool" in found[0].what


def test_two_backups_are_refused(tmp_path):
    folder = copy(tmp_path)
    second = '{ "name": "backup2", "url": "http://198.18.20.14:8001/", "role": "backup", "auto-failover": false }'
    for name in ("primary.json", "standby.json", "backup.json"):
        text = (folder / name).read_text()
        (folder / name).write_text(re.sub(r'(\{ "name": "backup",[^}]*\})', r"\1,\n              " + second, text))
    found = problems(folder)
    assert any(p.field == "high-availability[0].peers" and "2 servers in role backup" in p.what for p in found)


# -- kill-backup, recorded on real containers (Kea 2.2) -------------------------------------------------
def test_recorded_kill_backup_passes_as_it_did_live():
    v = judged(load("kea-hsb-kill-backup"), "kill-backup")
    assert v["outcome"].status == "pass", v["outcome"].reasons
    assert v["backup-updated"].status == PASS and v["backup-updated"].figure == 0
    assert v["service-held"].status == PASS and "from the fault" in v["service-held"].reason
    assert v["client-outage"].figure < 1


def test_a_lease_the_backup_never_heard_of_fails_backup_updated():
    tl = load("kea-hsb-kill-backup")
    steady = tl.first("steady").get("leases")
    mac = next(e.get("mac") for e in tl.of("bound") if e.get("client") == "steady-00")
    v = backup_updated(without(tl, lambda e: e.kind == "backup-lease" and e.get("mac") == mac))
    assert v.status == FAIL and v.figure == 1 and mac in v.reason and "missing" in v.reason, (steady, v.reason)


def test_a_backup_copy_older_than_the_grant_fails_backup_updated():
    tl = load("kea-hsb-kill-backup")
    mac = next(e.get("mac") for e in tl.of("bound") if e.get("client") == "steady-01")
    stale = [e for e in tl.of("backup-lease") if e.get("mac") == mac]
    older = [Event(e.t, e.source, e.kind, {**e.data, "end": float(e.get("end")) - 30}) for e in stale]
    v = backup_updated(with_events(without(tl, lambda e: e in stale), *older))
    assert v.status == FAIL and "older than the grant" in v.reason and mac in v.reason


def test_a_backup_file_not_read_or_no_backup_is_unknown_never_pass():
    tl = load("kea-hsb-kill-backup")
    unread = without(tl, lambda e: e.source == "backup" and e.kind in ("lease-file", "backup-lease"))
    assert backup_updated(unread).status == UNKNOWN and "never collected" in backup_updated(unread).reason
    lab = tl.first("lab")
    bare = with_events(without(tl, lambda e: e is lab), Event(lab.t, lab.source, lab.kind,
                                                                 {k: v for k, v in lab.data.items() if k != "backup"}))
    assert backup_updated(bare).status == UNKNOWN and "no backup" in backup_updated(bare).reason


def test_clients_left_unanswered_after_the_backup_died_fail_service_held_and_client_outage():
    tl = load("kea-hsb-kill-backup")
    fault = tl.first("fault-applied").t
    v = judged(without(tl, lambda e: e.source == "clients" and e.kind in ("recv", "bound")
                       and fault + 3 < e.t < fault + 20), "kill-backup")
    assert v["service-held"].status == FAIL and v["client-outage"].status == FAIL
    assert v["service-held"].figure > 15 and v["outcome"].status == "fail"


def test_import_takes_the_backups_config_and_writes_a_kill_backup_table(tmp_path):
    from dhcpdrill.importer import run
    configs = (FIXTURE / "standby.json", FIXTURE / "primary.json")
    code, lines = run(*configs, tmp_path / "without", "bookworm", None)
    assert code == 1 and any("files.backup: missing" in line for line in lines)
    code, lines = run(*configs, tmp_path / "with", "bookworm", None, backup=FIXTURE / "backup.json")
    assert code == 0, lines
    pair = load_pair(tmp_path / "with")
    assert pair.files["backup"].name == "backup.json" and "kill-backup" in pair.drills
    assert pair.drills["kill-backup"].expect_states == {"primary": (), "secondary": ()}


def test_the_bundled_wait_backup_ack_variant_is_refused_for_every_server():
    """tests/refused/kea-hot-standby-backup-wait-ack: what the real kea-dhcp4 2.2.0 exits with at
    start, said before any container starts, for each of the three files."""
    found = problems(ROOT / "tests" / "refused" / "kea-hot-standby-backup-wait-ack")
    assert sorted(Path(p.file).name for p in found) == ["backup.json", "primary.json", "standby.json"]
    assert all(p.field == "high-availability[0].wait-backup-ack" and "HA_CONFIGURATION_FAILED" in p.what
               and "kea-dhcp4 -t passes it" in p.what for p in found)


def test_a_backup_on_a_peer_network_of_its_own_sits_there(tmp_path):
    """kea-relayed's peers talk on 198.18.17.0/24, apart from every client subnet: the backup goes
    there too (it answers no client), and the peer network's gateway avoids its address."""
    folder = copy(tmp_path, ROOT / "fixtures" / "kea-relayed")
    peer = '{ "name": "backup", "url": "http://198.18.17.13:8001/", "role": "backup", "auto-failover": false }'
    for name in ("primary.json", "standby.json"):
        text = (folder / name).read_text()
        (folder / name).write_text(re.sub(r'(\{ "name": "standby",[^}]*\})', r"\1,\n              " + peer, text))
    text = (folder / "standby.json").read_text()
    (folder / "backup.json").write_text(text.replace('"this-server-name": "standby"', '"this-server-name": "backup"'))
    edit(folder / "pair.toml", 'secondary = "standby.json"', 'secondary = "standby.json"\nbackup = "backup.json"')
    pair = load_pair(folder)
    plan = adapter_for(pair).lab_plan(pair)
    assert plan.peer_subnet is not None and plan.backup.address == "198.18.17.13"
    assert plan.peer_gateway() not in {"198.18.17.11", "198.18.17.12", "198.18.17.13"}
