"""ISC dhcpd configs: parsing, pair checks and dhcpd.leases bindings (no Docker)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError
from dhcpdrill.servers import adapter_for
from dhcpdrill.servers.isc import parse, parse_leases, parse_grants, pool_owners

BUNDLED = Path(__file__).resolve().parents[2] / "fixtures" / "isc-failover"


def copy(tmp_path: Path) -> Path:
    dst = tmp_path / "isc"
    shutil.copytree(BUNDLED, dst)
    return dst


def edit(folder: Path, name: str, old: str, new: str) -> None:
    """Replace ``old`` once in one file, or everywhere in both configs (``name`` "both")."""
    for one in (("primary.conf", "secondary.conf") if name == "both" else (name,)):
        path = folder / one
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new) if name == "both" else text.replace(old, new, 1))


def test_bundled_isc_pair_is_read_from_its_configs():
    pair = load_pair(BUNDLED)
    plan = adapter_for(pair).lab_plan(pair)
    assert str(plan.subnet) == "198.18.2.0/24"
    assert plan.addresses == {"primary": "198.18.2.11", "secondary": "198.18.2.12"}
    assert plan.peer_ports == {"primary": 647, "secondary": 647} and plan.serving == ("primary", "secondary")


def test_parser_handles_comments_quotes_and_nesting():
    problems = []
    root = parse('# c\nkey "k" { secret "a;b{}#"; }\nsubnet 1 netmask 2 { pool { range a b; } }\n', "f", problems)
    assert problems == []
    assert root.block[0].value("secret") == "a;b{}#"
    assert root.block[1].find("pool")[0].find("range")[0].words == ["range", "a", "b"]


BROKEN = {
    "secondary range differs": ("secondary.conf", "range 198.18.2.100 198.18.2.199;", "range 198.18.2.150 198.18.2.199;",
                                "secondary.conf: subnet: differs from primary.conf"),
    "pool without the failover peer": ("primary.conf", '    failover peer "drill";\n    range', "    range",
                                       'primary.conf: subnet pool range 198.18.2.100 198.18.2.199: is not in a pool that names the failover peer'),
    "split on the secondary": ("secondary.conf", "  load balance max seconds 3;", "  load balance max seconds 3;\n  split 128;",
                               "mclt/split/hba set on the secondary"),
    "mclt missing on the primary": ("primary.conf", "  mclt 30;\n", "", "mclt: missing on the primary"),
    "addresses do not mirror": ("secondary.conf", "  peer address 198.18.2.11;", "  peer address 198.18.2.13;",
                                "address/peer address: do not mirror the primary's"),
    "peer names differ": ("secondary.conf", 'failover peer "drill" {', 'failover peer "drill2" {',
                          'failover peer: is named "drill2", the primary\'s is "drill"'),
    "role swapped": ("secondary.conf", "  secondary;", "  primary;",
                     "declares ['primary'], but this file plays secondary"),
    "missing semicolon": ("primary.conf", "  load balance max seconds 3;", "  load balance max seconds 3", "lacks its ';'"),
    "unclosed brace": ("secondary.conf", "    range 198.18.2.100 198.18.2.199;\n  }\n}", "    range 198.18.2.100 198.18.2.199;\n  }",
                       "is never closed"),
    "no failover peer": ("secondary.conf", 'failover peer "drill" {', 'peer-less "drill" {',
                         "secondary.conf: failover peer: missing"),
    "declared mclt is not the config's": ("pair.toml", "max_new_lease_s = 30\nmclt_s = 30", "max_new_lease_s = 30\nmclt_s = 60",
                                          "drills.kill-primary-new-clients.mclt_s: is 60, but primary.conf says mclt 30 "
                                          "— give mclt_s = 30"),
    "mclt not a number": ("primary.conf", "  mclt 30;", "  mclt thirty;",
                          'primary.conf: failover peer "drill".mclt: is \'thirty\', not a whole number — give mclt as a decimal'),
    "load balance max seconds not a number": ("secondary.conf", "load balance max seconds 3;", "load balance max seconds 3s;",
                                              "secondary.conf: failover peer \"drill\".load balance max seconds: is '3s'"),
    # Degenerate input that once passed the check and broke the run later (issue 16).
    "peer port in hex": ("primary.conf", "  port 647;", "  port 0x287;",
                         'primary.conf: failover peer "drill".port: port \'0x287\' is not a decimal port number (1-65535) '
                         "— write the port in decimal, e.g. 647"),
    "peer port out of range": ("secondary.conf", "  peer port 647;", "  peer port 70000;",
                               "failover peer \"drill\".peer port: port '70000' is not a decimal port number"),
    "omapi port in hex": ("primary.conf", "omapi-port 7911;", "omapi-port 0x1ee7;",
                          "primary.conf: omapi-port: port '0x1ee7' is not a decimal port number"),
    "range covers the whole subnet": ("both", "range 198.18.2.100 198.18.2.199;", "range 198.18.2.1 198.18.2.254;",
                                      "primary.conf: subnet pool range: leave no two addresses of 198.18.2.0/24 outside "
                                      "the pools and the servers' addresses"),
    "range too small for the drill's clients": ("both", "range 198.18.2.100 198.18.2.199;", "range 198.18.2.100 198.18.2.104;",
                                                "primary.conf: subnet pool range: hold 5 address(es), but a drill starts at least 9 clients"),
    "server on the network address": ("both", "address 198.18.2.11;", "address 198.18.2.0;",
                                      "failover peer address: 198.18.2.0 is the network address of 198.18.2.0/24"),
    "rolling upgrade of a dhcpd pair": ("pair.toml", "[drills.kill-primary]\n", '[drills.rolling-upgrade]\n'
                                        'max_takeover_s = 15\nto_suite = "trixie"\n\n[drills.kill-primary]\n',
                                        "drills.rolling-upgrade.to_suite: a rolling upgrade drills Kea pairs only"),
    "a suite without dhcpd": ("pair.toml", 'suite = "bookworm"', 'suite = "forky"',
                              "pair.suite: Debian forky ships no ISC DHCP server (ISC DHCP is end-of-life) — "
                              "use suite bookworm or trixie for a dhcpd pair"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_isc_pair_is_refused_with_its_specific_message(tmp_path, case):
    name, old, new, expected = BROKEN[case]
    folder = copy(tmp_path)
    edit(folder, name, old, new)
    with pytest.raises(PairError) as err:
        load_pair(folder)
    assert expected in str(err.value), str(err.value)


LEASES = """
lease 198.18.2.100 {
  starts 6 2026/11/28 02:00:00;
  ends 6 2026/11/28 02:01:00;
  binding state active;
  hardware ethernet 02:d4:10:00:00:01;
}
lease 198.18.2.100 {
  starts 6 2026/11/28 02:00:30;
  ends 6 2026/11/28 02:01:30;
  binding state active;
  hardware ethernet 02:d4:10:00:00:01;
}
lease 198.18.2.101 {
  starts 6 2026/11/28 02:00:00;
  ends 6 2026/11/28 02:01:00;
  binding state active;
  hardware ethernet 02:d4:10:00:00:02;
}
lease 198.18.2.101 {
  starts 6 2026/11/28 02:00:00;
  ends 6 2026/11/28 02:00:10;
  binding state free;
  hardware ethernet 02:d4:10:00:00:02;
}
failover peer "drill" state {
  my state normal at 6 2026/11/28 02:00:00;
}
"""


def test_dhcpd_leases_renewals_extend_and_releases_end_bindings():
    t0 = 1795831200.0  # 2026-11-28 02:00:00 UTC
    got = sorted((r["ip"], r["mac"], r["start"] - t0, r["end"] - t0) for r in parse_leases(LEASES))
    assert got == [("198.18.2.100", "02:d4:10:00:00:01", 0, 90), ("198.18.2.101", "02:d4:10:00:00:02", 0, 10)]


GRANTS = """
lease 198.18.2.150 {
  starts 6 2026/11/28 02:00:00;
  tsfp 6 2026/11/28 02:00:00;
  binding state backup;
}
lease 198.18.2.151 {
  binding state free;
}
lease 198.18.2.150 {
  starts 6 2026/11/28 02:00:05;
  ends 6 2026/11/28 02:00:35;
  tstp 6 2026/11/28 02:01:20;
  tsfp 6 2026/11/28 02:00:00;
  cltt 6 2026/11/28 02:00:05;
  binding state active;
  hardware ethernet 02:d4:10:00:00:05;
}
lease 198.18.2.150 {
  starts 6 2026/11/28 02:00:05;
  ends 6 2026/11/28 02:00:35;
  tstp 6 2026/11/28 02:01:20;
  tsfp 6 2026/11/28 02:01:20;
  atsfp 6 2026/11/28 02:01:20;
  cltt 6 2026/11/28 02:00:05;
  binding state active;
  hardware ethernet 02:d4:10:00:00:05;
}
lease 198.18.2.152 {
  binding state backup;
}
"""


def test_lease_grants_keep_each_distinct_record_with_the_partners_acknowledged_expiry():
    t0 = 1795831200.0
    got = [(g["ip"], g["cltt"] - t0, g["ends"] - t0, g["tsfp"] - t0) for g in parse_grants(GRANTS)]
    assert got == [("198.18.2.150", 5, 35, 0), ("198.18.2.150", 5, 35, 80)]


def test_free_addresses_belong_to_the_primary_and_backup_ones_to_the_secondary():
    assert pool_owners(GRANTS, "secondary") == {"own": ["198.18.2.152"], "partner": ["198.18.2.151"]}
    assert pool_owners(GRANTS, "primary") == {"own": ["198.18.2.151"], "partner": ["198.18.2.152"]}


def test_a_pair_without_omapi_gets_a_lab_only_port_and_key_listed_as_rewrites(tmp_path):
    """dhcpd's failover works without OMAPI; the lab needs it to read the state, the pair does not."""
    folder = copy(tmp_path)
    for name in ("primary.conf", "secondary.conf"):
        edit(folder, name, "omapi-port 7911;\nomapi-key omapi_key;\n", "")
    edit(folder, "secondary.conf", "# ISC DHCP", "omapi-port 7912;\n# ISC DHCP")
    pair = load_pair(folder)
    plan = adapter_for(pair).lab_plan(pair)
    primary = plan.files_in_container["primary"]["/etc/dhcp/dhcpd.conf"].decode()
    secondary = plan.files_in_container["secondary"]["/etc/dhcp/dhcpd.conf"].decode()
    assert primary.startswith((folder / "primary.conf").read_text())  # the user's config, unchanged, then ours
    assert "omapi-port 7911;" in primary.split("Added by dhcpdrill")[1] and "omapi-key dhcpdrill-lab-omapi;" in primary
    assert "omapi-port" not in secondary.split("Added by dhcpdrill")[1]  # its own port stays, only a key is added
    assert plan.rewrites == (
        "primary.conf: no OMAPI: a lab-only omapi-port 7911 and key were added to the lab copy (the drill reads "
        "the failover state over OMAPI)",
        "secondary.conf: omapi-port 7912 has no omapi-key, so it is open to anyone who can reach it: a lab-only key "
        "was added to the lab copy")
    assert adapter_for(load_pair(BUNDLED)).lab_plan(load_pair(BUNDLED)).rewrites == ()


def test_a_dhcpd_pair_on_production_addresses_is_moved_into_the_lab_range_in_the_lab_copy_only(tmp_path):
    from dhcpdrill.servers import adapter_for
    folder = copy(tmp_path)
    for name in ("primary.conf", "secondary.conf"):
        path = folder / name
        path.write_text(path.read_text().replace("198.18.2.", "192.0.2."))
    original = (folder / "primary.conf").read_bytes()
    pair = load_pair(folder)
    plan = adapter_for(pair).lab_plan(pair)
    base = str(plan.subnet.network_address).rsplit(".", 1)[0]
    assert str(plan.subnet).startswith("198.19.") and plan.addresses == {"primary": f"{base}.11", "secondary": f"{base}.12"}
    assert plan.rewrites[0].startswith(f"primary.conf and secondary.conf: readdressed 192.0.2.0/24 -> {plan.subnet}")
    lab = plan.files_in_container["primary"]["/etc/dhcp/dhcpd.conf"].decode()
    assert f"subnet {base}.0 netmask 255.255.255.0" in lab and f"range {base}.100 {base}.199;" in lab
    assert "192.0.2." not in lab and (folder / "primary.conf").read_bytes() == original
