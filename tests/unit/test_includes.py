"""Configs that include other files (Kea ``<?include?>``, dhcpd ``include``): imported with what
they include, checked and drilled as the server reads them, hashed with what they include."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from dhcpdrill import importer
from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError
from dhcpdrill.servers import adapter_for
from dhcpdrill.servers.kea import strip_comments

from .test_importer import FIXTURES, production_kea


def split_out_subnets(configs: Path, etc: Path) -> None:
    """Production style: both servers include the same subnets file by an absolute path, and that
    file includes its options by a relative one."""
    etc.mkdir(parents=True)
    cfg = json.loads(strip_comments((configs / "dhcp-a.json").read_text()))
    subnets = cfg["Dhcp4"]["subnet4"]
    options = subnets[0].pop("option-data")
    (etc / "options.json").write_text(json.dumps(options))
    (etc / "subnets4.json").write_text(json.dumps(subnets).replace('"id": 1', '"option-data": <?include "options.json"?>, "id": 1'))
    for name in ("dhcp-a.json", "dhcp-b.json"):
        text = (configs / name).read_text()
        start = text.index('"subnet4": [')
        end = text.index("\n    ]", start) + len("\n    ]")
        (configs / name).write_text(text[:start] + f'"subnet4": <?include "{etc / "subnets4.json"}"?>' + text[end:])


def test_a_kea_pair_with_includes_is_imported_checked_and_hashed_with_them(tmp_path, capsys):
    configs = production_kea(tmp_path)
    etc = tmp_path / "prod-etc" / "kea"
    split_out_subnets(configs, etc)
    out = tmp_path / "site"
    assert importer.main([str(configs / "dhcp-a.json"), str(configs / "dhcp-b.json"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    mirrored = out / str(etc / "subnets4.json").lstrip("/")
    assert f'copied {etc / "subnets4.json"} -> {mirrored.relative_to(out).as_posix()} (include ' \
           f'"{etc / "subnets4.json"}" in dhcp-a.json)' in printed
    assert (mirrored.parent / "options.json").is_file()
    assert (out / "dhcp-a.json").read_bytes() == (configs / "dhcp-a.json").read_bytes()  # unchanged
    pair = load_pair(out)
    assert pair.included == [mirrored.parent / "options.json", mirrored]
    plan = adapter_for(pair).lab_plan(pair)
    lab_copy = plan.files_in_container["primary"]["/etc/kea/kea-dhcp4.conf"].decode()
    assert "<?include" not in lab_copy and '"routers"' in lab_copy and "198.19." in lab_copy
    assert any("<?include?> of" in r and "subnets4.json" in r and "options.json" in r for r in plan.rewrites)
    before = pair.config_hash
    (mirrored.parent / "options.json").write_text((mirrored.parent / "options.json").read_text().replace("192.0.2.1", "192.0.2.2"))
    assert load_pair(out).config_hash != before


def test_a_missing_looping_or_escaping_include_is_named(tmp_path):
    configs = production_kea(tmp_path)
    split_out_subnets(configs, tmp_path / "etc")
    out = tmp_path / "site"
    assert importer.main([str(configs / "dhcp-a.json"), str(configs / "dhcp-b.json"), "--out", str(out)]) == 0
    [subnets] = [p for p in load_pair(out).included if p.name == "subnets4.json"]
    (subnets.parent / "options.json").unlink()
    with pytest.raises(PairError) as err:
        load_pair(out)
    assert f'{subnets}: line 1: include "options.json": is not in the pair folder (looked for ' \
           f'{subnets.parent / "options.json"}) — copy the file to' in str(err.value)
    (subnets.parent / "options.json").write_text('<?include "subnets4.json"?>')
    with pytest.raises(PairError, match="includes itself"):
        load_pair(out)
    (subnets.parent / "options.json").write_text('<?include "../../../../../../../etc/passwd"?>')
    with pytest.raises(PairError, match="resolves outside the pair folder"):
        load_pair(out)


def test_servers_that_include_different_files_under_one_name_are_refused(tmp_path, capsys):
    """Each server's config sits in its own folder and includes "subnets4.json" beside it: in
    the pair folder they would be one file, so differing contents stop the import."""
    configs = production_kea(tmp_path)
    for side, name in (("a", "dhcp-a.json"), ("b", "dhcp-b.json")):
        (tmp_path / side).mkdir()
        text = (configs / name).read_text()
        start = text.index('"subnet4": [')
        end = text.index("\n    ]", start) + len("\n    ]")
        subnets = text[start + len('"subnet4": '):end]
        (tmp_path / side / "subnets4.json").write_text(subnets if side == "a" else subnets.replace("192.0.2.1\"", "192.0.2.3\""))
        (tmp_path / side / name).write_text(text[:start] + '"subnet4": <?include "subnets4.json"?>' + text[end:])
    assert importer.main([str(tmp_path / "a" / "dhcp-a.json"), str(tmp_path / "b" / "dhcp-b.json"),
                          "--out", str(tmp_path / "site")]) == 2
    assert "the other server's config includes a different file under the same name" in capsys.readouterr().err


def test_a_dhcpd_pair_with_an_included_failover_peer(tmp_path):
    src, out = FIXTURES / "isc-failover", tmp_path / "isc"
    shutil.copytree(src, out)
    for name in ("primary.conf", "secondary.conf"):
        text = (out / name).read_text()
        peer = re.search(r'failover peer "drill" \{.*?\n\}\n', text, re.S).group(0)
        (out / f"peer-{name}").write_text(peer)
        (out / name).write_text(text.replace(peer, f'include "peer-{name}";\n'))
    pair = load_pair(out)
    assert [p.name for p in pair.included] == ["peer-primary.conf", "peer-secondary.conf"]
    plan = adapter_for(pair).lab_plan(pair)
    lab_copy = plan.files_in_container["primary"]["/etc/dhcp/dhcpd.conf"].decode()
    assert 'failover peer "drill"' in lab_copy and "include" not in lab_copy.split("# Added by dhcpdrill")[0]
    assert any("include of peer-primary.conf replaced by the included text" in r for r in plan.rewrites)
