"""dhcpdrill-import: two production config files in, a pair folder the drills accept out, with
thresholds from the configs' own timers and every lab rewrite listed; the files are copied as
they are."""
from __future__ import annotations

import tomllib
from pathlib import Path

from dhcpdrill import importer
from dhcpdrill.pair import load_pair

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def production_kea(tmp_path: Path) -> Path:
    """The production-shaped pair on 'production' addresses (the documentation range 192.0.2.0/24)."""
    src, dst = FIXTURES / "production" / "kea-default-timers", tmp_path / "configs"
    dst.mkdir()
    for name in ("dhcp-a.json", "dhcp-b.json"):
        (dst / name).write_text((src / name).read_text().replace("198.18.0.", "192.0.2."))
    return dst


def test_a_kea_pair_is_imported_in_either_order_with_thresholds_from_its_timers(tmp_path, capsys):
    configs = production_kea(tmp_path)
    out = tmp_path / "site-a"
    assert importer.main([str(configs / "dhcp-b.json"), str(configs / "dhcp-a.json"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    pair = load_pair(out)
    assert (pair.name, pair.mode, pair.files["primary"].name) == ("site-a", "hot-standby", "dhcp-a.json")
    assert pair.drills["kill-primary"].max_takeover_s == 88  # the top of the 50-88 s Kea's defaults allow
    assert pair.drills["freeze-primary"].expect_states == {"secondary": ("partner-down", "hot-standby"),
                                                           "primary": ("syncing", "hot-standby")}
    assert set(pair.drills) == {"kill-primary", "freeze-primary", "failback", "maintenance-handoff", "rolling-upgrade",
                                "kill-primary-quiet-hours"}
    # a conservative night, said so: with Kea's defaults (U = 10) and 12 h leases, 2 new clients an
    # hour are 10 counted clients by 5 h 0 min 12 s; the 11th is the first of the 10 active clients to
    # rebind, at T2 - T1 + T1/10 = 4.5 h + 36 min
    assert pair.periods["night"].active_clients == 10 and pair.periods["night"].new_per_hour == 2
    assert "not expected to take over for ~5 h 6 min" in (out / "pair.toml").read_text()
    assert "conservative night default" in printed
    assert pair.drills["kill-primary-quiet-hours"].max_takeover_s == 88
    assert "Takeover predicted 50–88 s (Kea: max-response-delay 60 s" in (out / "pair.toml").read_text()
    assert "readdressed 192.0.2.0/24 -> 198.19." in printed and '"ens192" -> "eth0"' in printed
    for name in ("dhcp-a.json", "dhcp-b.json"):
        assert (out / name).read_bytes() == (configs / name).read_bytes()


def test_a_dhcpd_pair_is_imported_with_its_failover_roles(tmp_path):
    out = tmp_path / "isc"
    src = FIXTURES / "isc-failover"
    assert importer.main([str(src / "secondary.conf"), str(src / "primary.conf"), "--out", str(out),
                          "--name", "campus-1"]) == 0
    raw = tomllib.loads((out / "pair.toml").read_text())
    assert raw["pair"] == {"name": "campus-1", "server": "isc-dhcp", "suite": "bookworm", "mode": "failover"}
    assert raw["files"] == {"primary": "primary.conf", "secondary": "secondary.conf"}
    assert raw["drills"]["kill-primary"]["max_takeover_s"] == 11 and "rolling-upgrade" not in raw["drills"]
    load_pair(out)


def test_what_cannot_be_imported_is_said_in_one_line(tmp_path, capsys):
    configs = production_kea(tmp_path)
    assert importer.main([str(configs / "dhcp-a.json"), str(FIXTURES / "isc-failover" / "primary.conf"),
                          "--out", str(tmp_path / "x")]) == 2
    assert "give the two halves of one pair" in capsys.readouterr().err
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "pair.toml").write_text("")
    assert importer.main([str(configs / "dhcp-a.json"), str(configs / "dhcp-b.json"), "--out", str(tmp_path / "y")]) == 2
    assert "exists: import into a new folder" in capsys.readouterr().err
