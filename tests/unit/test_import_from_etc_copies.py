"""dhcpdrill-import from copies of the servers' /etc: a config that includes an absolute path
(``include "/etc/dhcp/dhcpd.failover.conf";``, Kea ``<?include "/etc/kea/..."?>``) is imported
with the file each server has there, read from the folder the user points at, and each server's
files stay its own (the two failover blocks differ: one says primary, the other secondary)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from dhcpdrill import importer
from dhcpdrill.includes import Copy
from dhcpdrill.pair import load_pair
from dhcpdrill.servers import adapter_for

from .test_importer import FIXTURES, production_kea

FAILOVER = "/etc/dhcp/dhcpd.failover.conf"


def etc_copies(tmp_path: Path) -> dict[str, Path]:
    """Each server's /etc as copied off it: dhcp/dhcpd.conf includes its own failover block by
    its absolute path, which does not exist on the importing machine."""
    copies = {}
    for role, side in (("primary", "a"), ("secondary", "b")):
        text = (FIXTURES / "isc-failover" / f"{role}.conf").read_text()
        block = re.search(r'failover peer "drill" \{.*?\n\}\n', text, re.S).group(0)
        etc = tmp_path / f"dhcp-{side}-etc"
        (etc / "dhcp").mkdir(parents=True)
        (etc / "dhcp" / "dhcpd.failover.conf").write_text(block)
        (etc / "dhcp" / "dhcpd.conf").write_text(text.replace(block, f'include "{FAILOVER}";\n'))
        copies[role] = etc
    assert not Path(FAILOVER).exists(), "the test needs a machine without the included path"
    return copies


def test_each_server_brings_its_own_etc_and_keeps_its_own_included_files(tmp_path, capsys):
    etc = etc_copies(tmp_path)
    out = tmp_path / "site"
    # the secondary's files first: the roles come from the (included) failover blocks, not the order
    assert importer.main([str(etc["secondary"] / "dhcp" / "dhcpd.conf"), str(etc["primary"] / "dhcp" / "dhcpd.conf"),
                          "--etc", str(etc["secondary"]), "--etc", str(etc["primary"]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for role in ("primary", "secondary"):
        source = etc[role] / "dhcp" / "dhcpd.failover.conf"
        said = (f'copied {source} -> {role}/etc/dhcp/dhcpd.failover.conf (include "{FAILOVER}" in dhcpd.conf, '
                f"read from --etc {etc[role]} (the server's /etc))")
        assert said in printed
        assert said.removeprefix("copied ") in (out / "pair.toml").read_text()  # recorded in the pair
        assert (out / role / "etc" / "dhcp" / "dhcpd.failover.conf").read_bytes() == source.read_bytes()
        assert (out / role / "dhcpd.conf").read_bytes() == (etc[role] / "dhcp" / "dhcpd.conf").read_bytes()
    assert tomllib.loads((out / "pair.toml").read_text())["files"] == {"primary": "primary/dhcpd.conf",
                                                                       "secondary": "secondary/dhcpd.conf"}
    pair = load_pair(out)
    assert pair.included == [out / r / "etc" / "dhcp" / "dhcpd.failover.conf" for r in ("primary", "secondary")]
    plan = adapter_for(pair).lab_plan(pair)
    for role, own in (("primary", "primary;"), ("secondary", "secondary;")):
        lab_copy = plan.files_in_container[role]["/etc/dhcp/dhcpd.conf"].decode()
        assert own in lab_copy and "include" not in lab_copy.split("# Added by dhcpdrill")[0]
    before = pair.config_hash
    block = out / "secondary" / "etc" / "dhcp" / "dhcpd.failover.conf"
    block.write_text(block.read_text().replace("max-unacked-updates 10", "max-unacked-updates 11"))
    changed = load_pair(out)
    assert changed.config_hash != before  # the hash covers each server's own included files
    assert "max-unacked-updates 11" in adapter_for(changed).lab_plan(changed).files_in_container["secondary"][
        "/etc/dhcp/dhcpd.conf"].decode()


def test_one_copy_serves_both_servers_when_their_includes_agree(tmp_path, capsys):
    configs = production_kea(tmp_path)
    etc = tmp_path / "etc-copy"
    (etc / "kea").mkdir(parents=True)
    for name in ("dhcp-a.json", "dhcp-b.json"):
        text = (configs / name).read_text()
        start = text.index('"subnet4": [')
        end = text.index("\n    ]", start) + len("\n    ]")
        (etc / "kea" / "subnets4.json").write_text(text[start + len('"subnet4": '):end])
        (configs / name).write_text(text[:start] + '"subnet4": <?include "/etc/kea/subnets4.json"?>' + text[end:])
    out = tmp_path / "site"
    assert importer.main([str(configs / "dhcp-a.json"), str(configs / "dhcp-b.json"), "--etc", str(etc),
                          "--out", str(out)]) == 0
    assert (f'copied {etc / "kea" / "subnets4.json"} -> etc/kea/subnets4.json (include "/etc/kea/subnets4.json" '
            f"in dhcp-a.json, read from --etc {etc} (the server's /etc))") in capsys.readouterr().out
    pair = load_pair(out)
    assert pair.included == [out / "etc" / "kea" / "subnets4.json"]
    assert "198.19." in adapter_for(pair).lab_plan(pair).files_in_container["primary"]["/etc/kea/kea-dhcp4.conf"].decode()


def test_kea_configs_from_two_etc_copies(tmp_path):
    configs = production_kea(tmp_path)
    copies = []
    for name, side in (("dhcp-a.json", "a"), ("dhcp-b.json", "b")):
        etc = tmp_path / f"{side}-etc"
        (etc / "kea").mkdir(parents=True)
        text = (configs / name).read_text()
        start = text.index('"hooks-libraries": [')
        end = text.index("\n    ],", start) + len("\n    ]")
        (etc / "kea" / "ha.json").write_text(text[start + len('"hooks-libraries": '):end])
        (etc / "kea" / "kea-dhcp4.conf").write_text(text[:start] + '"hooks-libraries": <?include "/etc/kea/ha.json"?>'
                                                    + text[end:])
        copies += ["--etc", str(etc)]
    out = tmp_path / "site"
    assert importer.main([str(tmp_path / "a-etc" / "kea" / "kea-dhcp4.conf"), str(tmp_path / "b-etc" / "kea" /
                          "kea-dhcp4.conf"), *copies, "--out", str(out)]) == 0
    pair = load_pair(out)
    assert [p.relative_to(out).as_posix() for p in pair.included] == ["primary/etc/kea/ha.json",
                                                                      "secondary/etc/kea/ha.json"]
    assert pair.files["primary"] == out / "primary" / "kea-dhcp4.conf"
    adapter_for(pair).lab_plan(pair)


def test_a_missing_included_file_names_the_include_the_file_and_the_fix(tmp_path, capsys):
    etc = etc_copies(tmp_path)
    (etc["secondary"] / "dhcp" / "dhcpd.failover.conf").unlink()
    args = [str(etc["primary"] / "dhcp" / "dhcpd.conf"), str(etc["secondary"] / "dhcp" / "dhcpd.conf")]
    assert importer.main([*args, "--etc", str(etc["primary"]), "--etc", str(etc["secondary"]),
                          "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert (f'{etc["secondary"] / "dhcp" / "dhcpd.conf"}: line 17: include "{FAILOVER}": no file at '
            f'{etc["secondary"] / "dhcp" / "dhcpd.failover.conf"} (read from --etc {etc["secondary"]} (the '
            f"server's /etc)): copy the server's {FAILOVER} there, then import again") in err
    # without the copies: the path does not exist here, and the message says how to point at them
    renamed = [tmp_path / "dhcpd-a.conf", tmp_path / "dhcpd-b.conf"]
    for path, arg in zip(renamed, args):
        path.write_bytes(Path(arg).read_bytes())
    assert importer.main([*map(str, renamed), "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert (f'include "{FAILOVER}": no file at {FAILOVER} (absolute names are read on this machine): give --etc DIR, '
            "a copy of that server's /etc (or --root DIR, of its /), and the importer reads it there, then import "
            "again") in err
    assert "/tmp/tmp" not in err  # the trial copy the importer made first is no business of the user's
    # an include outside the copy of /etc: --root is the way
    conf = etc["primary"] / "dhcp" / "dhcpd.conf"
    conf.write_text(conf.read_text().replace(FAILOVER, "/srv/dhcp/failover.conf"))
    assert importer.main([*args, "--etc", str(etc["primary"]), "--etc", str(etc["secondary"]),
                          "--out", str(tmp_path / "z")]) == 2
    assert "/srv/dhcp/failover.conf is outside the copy given (--etc" in capsys.readouterr().err
    # ... and given a copy of the primary's whole file system, the import goes through
    root = tmp_path / "dhcp-a-root"
    (root / "srv" / "dhcp").mkdir(parents=True)
    (root / "srv" / "dhcp" / "failover.conf").write_text(re.search(
        r'failover peer "drill" \{.*?\n\}\n', (FIXTURES / "isc-failover" / "primary.conf").read_text(), re.S).group(0))
    (etc["secondary"] / "dhcp" / "dhcpd.failover.conf").write_text(re.search(
        r'failover peer "drill" \{.*?\n\}\n', (FIXTURES / "isc-failover" / "secondary.conf").read_text(), re.S).group(0))
    assert importer.main([*args, "--root", str(root), "--etc", str(etc["secondary"]), "--out", str(tmp_path / "w")]) == 0
    assert f"read from --root {root} (the server's /)" in capsys.readouterr().out
    assert (tmp_path / "w" / "primary" / "srv" / "dhcp" / "failover.conf").is_file()
    load_pair(tmp_path / "w")


def test_a_copy_maps_only_what_lies_under_its_prefix():
    etc = Copy("/etc", Path("/x/a-etc"))
    assert etc.source("/etc/dhcp/dhcpd.failover.conf") == Path("/x/a-etc/dhcp/dhcpd.failover.conf")
    assert etc.source("/etcetera/x") is None and etc.source("/srv/x") is None
    assert Copy("/", Path("/x/a")).source("/srv/dhcp/f.conf") == Path("/x/a/srv/dhcp/f.conf")


def test_bad_copies_are_refused_before_anything_is_written(tmp_path, capsys):
    etc = etc_copies(tmp_path)
    args = [str(etc["primary"] / "dhcp" / "dhcpd.conf"), str(etc["secondary"] / "dhcp" / "dhcpd.conf")]
    assert importer.main([*args, "--etc", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 2
    assert f"--etc {tmp_path / 'nowhere'}: no such folder" in capsys.readouterr().err
    assert importer.main([*args, *["--etc", str(etc["primary"])] * 3, "--out", str(tmp_path / "x")]) == 2
    assert "3 copies given" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    # both named dhcpd.conf: side by side they would clash, each in its own folder they do not
    assert importer.main([*args, "--out", str(tmp_path / "y")]) == 2
    assert "both files are named dhcpd.conf" in capsys.readouterr().err
