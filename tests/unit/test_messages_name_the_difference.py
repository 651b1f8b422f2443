"""Messages that name the difference: which field, both values as the user wrote them (JSON, or
``absent``), an absent key compared as Kea's default, no Python values; and the warnings that
keep a fit pair's verdicts from misleading."""
from __future__ import annotations

import pytest

from dhcpdrill.pair import load_pair, pair_folders, pair_warnings
from dhcpdrill.problems import PairError
from dhcpdrill.servers.compare import ABSENT, differences, shown

from .test_pair_validation import BUNDLED, both, copy_pair, edit_json, edit_text, ha, no_docker  # noqa: F401


def refused(folder) -> str:
    with pytest.raises(PairError) as err:
        load_pair(folder)
    text = str(err.value)
    assert "None" not in text and "'" not in text.replace("server's", "").replace("Kea's", ""), text
    return text


def test_differences_match_named_items_and_say_absent():
    a = {"peers": [{"name": "p", "url": "u1"}, {"name": "s", "url": "u2"}], "x": 1}
    b = {"peers": [{"name": "s", "url": "u2"}, {"name": "p", "url": "u9", "auto-failover": False}]}
    assert differences(a, b, "ha") == [("ha.peers[p].url", "u1", "u9"), ("ha.peers[p].auto-failover", ABSENT, False),
                                       ("ha.x", 1, ABSENT)]
    assert [shown(v) for v in ("u1", ABSENT, False, None)] == ['"u1"', "absent", "false", "null"]
    assert differences([1, 2], [1, 2, 3], "l") == [("l", [1, 2], [1, 2, 3])]


def test_a_timer_absent_on_one_side_is_compared_as_keas_default(tmp_path):
    folder = copy_pair(tmp_path)
    edit_json("standby.json", lambda c: ha(c).pop("max-ack-delay"))(folder)
    text = refused(folder)
    assert ("standby.json: high-availability[0].max-ack-delay: is 10000 (Kea's default: the key is absent), "
            "primary.json has 1000 — give both servers the same HA timers") in text


def test_a_timer_absent_on_one_side_and_set_to_the_default_on_the_other_agrees(tmp_path):
    folder = copy_pair(tmp_path)
    both(lambda c: ha(c).update({"max-unacked-clients": 10}))(folder)
    edit_json("standby.json", lambda c: ha(c).pop("max-unacked-clients"))(folder)
    assert load_pair(folder).name == "kea-hot-standby"


def test_auto_failover_written_out_as_its_default_is_no_difference(tmp_path):
    folder = copy_pair(tmp_path)
    edit_json("standby.json", lambda c: [p.update({"auto-failover": True}) for p in ha(c)["peers"]])(folder)
    assert load_pair(folder)


def test_a_mode_mismatch_gets_a_mode_fix_not_a_role_fix(tmp_path):
    folder = copy_pair(tmp_path)
    edit_text("pair.toml", 'mode = "hot-standby"', 'mode = "load-balancing"')(folder)
    text = refused(folder)
    assert "set role" not in text
    assert text.count("\n") == 0 and 'set mode = "hot-standby" in pair.toml' in text


def test_configs_that_disagree_on_mode_are_told_so(tmp_path):
    folder = copy_pair(tmp_path)
    edit_json("standby.json", lambda c: ha(c).update({"mode": "load-balancing"}))(folder)
    text = refused(folder)
    assert 'standby.json: high-availability[0].mode: is "load-balancing", primary.json has "hot-standby"' in text
    assert "set role" not in text


def test_every_differing_subnet_field_is_named(tmp_path):
    folder = copy_pair(tmp_path)
    def change(c):
        c["subnet4"][0]["pools"][0]["pool"] = "198.18.0.150 - 198.18.0.199"
        c["subnet4"][0]["option-data"] = [{"name": "routers", "data": "198.18.0.2"}]
    edit_json("standby.json", change)(folder)
    text = refused(folder)
    assert "Dhcp4.subnet4[198.18.0.0/24].pools[0].pool" in text
    assert 'Dhcp4.subnet4[198.18.0.0/24].option-data[routers].data: is "198.18.0.2", primary.json has "198.18.0.1"' in text


def test_pair_toml_itself_names_its_folder_and_a_missing_folder_is_said_plainly(tmp_path):
    assert pair_folders([str(BUNDLED / "pair.toml")], tmp_path) == [BUNDLED]
    with pytest.raises(PairError, match="no such folder — give a pair folder"):
        load_pair(tmp_path / "nowhere")
    with pytest.raises(PairError, match="is a file, not a pair folder"):
        load_pair(BUNDLED / "primary.json")


def test_a_standby_that_never_fails_over_by_itself_is_warned(tmp_path):
    folder = copy_pair(tmp_path)
    both(lambda c: [p.update({"auto-failover": False}) for p in ha(c)["peers"] if p["role"] == "standby"])(folder)
    [warning] = pair_warnings(load_pair(folder))
    assert "peers[standby].auto-failover: false — standby (standby) never takes over by itself" in warning
    assert pair_warnings(load_pair(BUNDLED)) == []


@pytest.mark.parametrize("runs, says", [
    ("2.6.1", 'your servers run Kea 2.6.1, the lab\'s bookworm image runs Kea 2.2.0, and what the drills find may not '
              'hold for 2.6.1 (see docs/versions.md \'What changed between versions\') — set suite = "trixie" in [pair] to '
              'drill Kea 2.6.3'),
    ("Kea 2.4.1", "no suite here ships Kea 2.4; the lab offers bookworm (2.2.0), trixie (2.6.3), forky (3.0.4)"),
])
def test_a_production_version_other_than_the_labs_is_warned(tmp_path, runs, says):
    folder = copy_pair(tmp_path)
    edit_text("pair.toml", 'suite = "bookworm"', f'suite = "bookworm"\nproduction_version = "{runs}"')(folder)
    [warning] = pair_warnings(load_pair(folder))
    assert says in warning and "pair.production_version" in warning


def test_the_same_minor_version_is_no_warning(tmp_path):
    folder = copy_pair(tmp_path)
    edit_text("pair.toml", 'suite = "bookworm"', 'suite = "bookworm"\nproduction_version = "2.2.1"')(folder)
    assert pair_warnings(load_pair(folder)) == []
