"""Fuzzing the pair loaders: whatever the input, the only error is a clear PairError."""
from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError
from dhcpdrill.servers.kea import parse_memfile, strip_comments

BUNDLED = Path(__file__).resolve().parents[2] / "fixtures" / "kea-hot-standby"
PRIMARY = json.loads(strip_comments((BUNDLED / "primary.json").read_text()))
MANIFEST = tomllib.loads((BUNDLED / "pair.toml").read_text())
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)


def paths(tree, prefix=()):
    """Every key path into a JSON tree, so a fuzz case can replace any node."""
    yield prefix
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from paths(v, prefix + (i,))


def replaced(tree, path, value):
    if not path:
        return value
    copy = json.loads(json.dumps(tree))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


def refused(folder: Path, name: str) -> None:
    """The pair is refused with clear problems, one naming the broken file (no text of 400
    characters is a Kea config with high availability: loading it must fail, not pass quietly)."""
    with pytest.raises(PairError) as err:
        load_pair(folder)
    check_problems(err.value)
    assert any(Path(p.file).name == name for p in err.value.problems), err.value


def check_problems(exc: PairError) -> None:
    assert exc.problems and all(p.file and p.field and p.what and p.fix for p in exc.problems)


def check(folder: Path) -> None:
    try:
        load_pair(folder)
    except PairError as exc:
        check_problems(exc)


@SETTINGS
@given(path=st.sampled_from(list(paths(PRIMARY))), value=json_values, both=st.booleans())
def test_any_node_of_a_kea_config_replaced_by_any_json_gives_a_clear_error_or_passes(tmp_path_factory, path, value, both):
    folder = tmp_path_factory.mktemp("pair")
    shutil.copytree(BUNDLED, folder, dirs_exist_ok=True)
    broken = json.dumps(replaced(PRIMARY, path, value))
    (folder / "primary.json").write_text(broken)
    if both:
        (folder / "standby.json").write_text(broken.replace('"this-server-name": "primary"', '"this-server-name": "standby"'))
    check(folder)


toml_scalars = st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=15)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(str(v))


@SETTINGS
@given(section=st.sampled_from(["pair", "files", "drills.kill-primary", "drills.other", "extra"]),
       key=st.sampled_from(["name", "server", "suite", "mode", "primary", "secondary", "max_takeover_s",
                            "max_duplicates", "min_continuity", "junk"]),
       value=toml_scalars.filter(lambda v: v is not None), drop=st.booleans())
def test_any_manifest_field_with_any_value_gives_a_clear_error_or_passes(tmp_path_factory, section, key, value, drop):
    folder = tmp_path_factory.mktemp("pair")
    shutil.copytree(BUNDLED, folder, dirs_exist_ok=True)
    lines = (folder / "pair.toml").read_text().splitlines()
    if drop:
        lines = [l for l in lines if not l.startswith(f"{key} =")]
    lines += [f"[{section}]" if section not in ("pair", "files", "drills.kill-primary") else f"[{section}]",
              f"{key} = {toml_value(value)}"]
    (folder / "pair.toml").write_text("\n".join(lines) + "\n")
    check(folder)


@SETTINGS
@given(text=st.text(max_size=400))
def test_any_manifest_text_gives_a_clear_error_or_passes(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("pair")
    shutil.copytree(BUNDLED, folder, dirs_exist_ok=True)
    (folder / "pair.toml").write_text(text)
    check(folder)


@SETTINGS
@given(text=st.text(max_size=400))
def test_any_config_text_gives_a_clear_error(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("pair")
    shutil.copytree(BUNDLED, folder, dirs_exist_ok=True)
    (folder / "standby.json").write_text(text)
    refused(folder, "standby.json")


def test_a_config_text_that_loads_fails_the_refusal_check(tmp_path):
    """The check above must be able to fail: it once passed whenever loading succeeded."""
    folder = tmp_path / "pair"
    shutil.copytree(BUNDLED, folder)
    with pytest.raises(pytest.fail.Exception):
        refused(folder, "standby.json")


@given(text=st.text(max_size=500))
def test_comment_stripping_and_memfile_parsing_never_crash(text):
    strip_comments(text)
    parse_memfile("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n" + text)


ISC = BUNDLED.parent / "isc-failover"
ISC_LINES = (ISC / "primary.conf").read_text().splitlines()


@SETTINGS
@given(cut=st.lists(st.integers(0, len(ISC_LINES) - 1), max_size=4), junk=st.text(max_size=30),
       where=st.integers(0, len(ISC_LINES)))
def test_any_mangled_dhcpd_conf_gives_a_clear_error_or_passes(tmp_path_factory, cut, junk, where):
    folder = tmp_path_factory.mktemp("isc")
    shutil.copytree(ISC, folder, dirs_exist_ok=True)
    lines = [l for i, l in enumerate(ISC_LINES) if i not in cut]
    lines.insert(min(where, len(lines)), junk)
    (folder / "primary.conf").write_text("\n".join(lines))
    check(folder)
