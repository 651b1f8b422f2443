"""Kea HA peers over TLS: the certificate, key and CA files the configs name come from the pair
folder (absolute paths mirrored under it), are hashed with the configs, are carried into the
servers at the paths the configs name, and a missing one is refused before anything starts,
naming its file, its field and the fix."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from dhcpdrill import check, tls
from dhcpdrill.manifest import Pair
from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError
from dhcpdrill.servers import adapter_for
from dhcpdrill.servers.kea import KeaAdapter, ctrl_agent_config, strip_comments

PAIR = Path(__file__).resolve().parents[2] / "fixtures" / "kea-hot-standby-tls"
TLS_FILES = {"/etc/kea/tls/ca.crt": "etc/kea/tls/ca.crt",
             "primary": ("/etc/kea/tls/primary.crt", "/etc/kea/tls/primary.key"),
             "secondary": ("/etc/kea/tls/standby.crt", "/etc/kea/tls/standby.key")}


@pytest.fixture
def pair_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "tls-pair"
    shutil.copytree(PAIR, folder)
    return folder


def _cfg(folder: Path, name: str = "primary.json") -> dict:
    return json.loads(strip_comments((folder / name).read_text()))["Dhcp4"]


def _ha(cfg: dict) -> dict:
    return cfg["hooks-libraries"][1]["parameters"]["high-availability"][0]


def test_every_tls_field_is_found_relationship_peer_and_http_socket() -> None:
    cfg = {"hooks-libraries": [
        {"library": "/x/libdhcp_lease_cmds.so"},
        {"library": "/x/libdhcp_ha.so", "parameters": {"high-availability": [{
            "trust-anchor": "/ca", "cert-file": "/own.crt", "key-file": "/own.key", "require-client-certs": True,
            "peers": [{"name": "a", "cert-file": "/a.crt", "key-file": "/a.key"}, {"name": "b"}]}]}}],
        "control-sockets": [{"socket-type": "unix", "socket-name": "k"},
                            {"socket-type": "https", "trust-anchor": "/ca2", "cert-file": "/s.crt", "key-file": ""}]}
    found = [(n.field, n.path) for n in tls.named_files(cfg)]
    rel = "Dhcp4.hooks-libraries[1].parameters.high-availability[0]"
    assert found == [(f"{rel}.trust-anchor", "/ca"), (f"{rel}.cert-file", "/own.crt"), (f"{rel}.key-file", "/own.key"),
                     (f"{rel}.peers[a].cert-file", "/a.crt"), (f"{rel}.peers[a].key-file", "/a.key"),
                     ("Dhcp4.control-sockets[1].trust-anchor", "/ca2"), ("Dhcp4.control-sockets[1].cert-file", "/s.crt")]
    assert tls.named_files({"hooks-libraries": [{"library": "/x/libdhcp_ha.so"}]}) == []


def test_a_peer_entry_overrides_the_relationships_settings() -> None:
    rel = {"trust-anchor": "/ca", "cert-file": "/own.crt", "key-file": "/own.key",
           "peers": [{"name": "a", "cert-file": "/a.crt", "key-file": "/a.key"}, {"name": "b"}]}
    assert tls.effective(rel, "a") == {"trust-anchor": "/ca", "cert-file": "/a.crt", "key-file": "/a.key"}
    assert tls.effective(rel, "b") == {"trust-anchor": "/ca", "cert-file": "/own.crt", "key-file": "/own.key"}
    assert tls.effective({"peers": [{"name": "b"}]}, "b") == {}


def test_the_bundled_pair_carries_each_file_at_the_path_its_config_names() -> None:
    pair = load_pair(PAIR)
    plan = adapter_for(pair).lab_plan(pair)
    own = {"primary": "primary", "secondary": "standby"}
    for role, name in own.items():
        files = plan.files_in_container[role]
        for path in ("/etc/kea/tls/ca.crt", f"/etc/kea/tls/{name}.crt", f"/etc/kea/tls/{name}.key"):
            assert files[path] == (PAIR / path.lstrip("/")).read_bytes(), path
        other = own["secondary" if role == "primary" else "primary"]
        assert f"/etc/kea/tls/{other}.key" not in files, "a server gets only the files its own config names"
    carried = [r for r in plan.rewrites if "carried into the lab" in r]
    assert len(carried) == 6
    assert any(re.fullmatch(r"standby\.json: /etc/kea/tls/standby\.key carried into the lab from "
                            r"etc/kea/tls/standby\.key \(sha256 [0-9a-f]{16}\)", r) for r in carried)


def test_tls_files_are_hashed_and_kept_with_the_pairs_files(pair_copy: Path) -> None:
    pair = load_pair(pair_copy)
    assert {p.relative_to(pair_copy).as_posix() for p in pair.included} == {
        "etc/kea/tls/ca.crt", "etc/kea/tls/primary.crt", "etc/kea/tls/primary.key",
        "etc/kea/tls/standby.crt", "etc/kea/tls/standby.key", "expired/etc/kea/tls/standby.crt"}
    before = pair.config_hash
    key = pair_copy / "etc/kea/tls/standby.key"
    key.write_bytes(key.read_bytes() + b"\n")
    assert load_pair(pair_copy).config_hash != before, "a changed key must change the pair's hash"
    again = load_pair(pair_copy).config_hash
    expired = pair_copy / "expired/etc/kea/tls/standby.crt"
    expired.write_bytes(expired.read_bytes() + b"\n")
    assert load_pair(pair_copy).config_hash != again, "the expired copy a drill puts in place is hashed too"


def test_a_missing_file_is_refused_naming_file_field_and_fix(pair_copy: Path, capsys) -> None:
    (pair_copy / "etc/kea/tls/standby.key").unlink()
    (pair_copy / "etc/kea/tls/ca.crt").unlink()
    with pytest.raises(PairError) as err:
        load_pair(pair_copy)
    said = {(Path(p.file).name, p.field): p for p in err.value.problems}
    rel = "Dhcp4.hooks-libraries[1].parameters.high-availability[0]"
    assert set(said) == {("primary.json", f"{rel}.trust-anchor"), ("standby.json", f"{rel}.trust-anchor"),
                         ("standby.json", f"{rel}.key-file")}
    key = said[("standby.json", f"{rel}.key-file")]
    assert f"/etc/kea/tls/standby.key is not in the pair folder (looked for {pair_copy}/etc/kea/tls/standby.key)" in key.what
    assert f"copy the server's /etc/kea/tls/standby.key to {pair_copy}/etc/kea/tls/standby.key" in key.fix
    assert check.main([str(pair_copy), "--scenarios", str(PAIR.parents[1] / "scenarios")]) == 1
    out = capsys.readouterr().out
    assert out.count("is not in the pair folder") == 3 and f"FAIL {pair_copy}" in out


def test_relative_and_escaping_paths_are_refused(tmp_path: Path) -> None:
    cfg = {"hooks-libraries": [{"library": "libdhcp_ha.so", "parameters": {"high-availability": [
        {"cert-file": "tls/own.crt", "key-file": "/etc/../../own.key"}]}}]}
    files, problems = tls.carried(tmp_path / "a.json", cfg, tmp_path)
    assert files == {}
    assert [p.field.rsplit(".", 1)[1] for p in problems] == ["cert-file", "key-file"]
    assert "is a relative path" in problems[0].what and "give the absolute path" in problems[0].fix
    assert "resolves outside the pair folder" in problems[1].what


def test_a_trust_anchor_directory_carries_each_file_in_it(tmp_path: Path) -> None:
    (tmp_path / "etc/ssl/lab").mkdir(parents=True)
    (tmp_path / "etc/ssl/lab/ca1.pem").write_text("one")
    (tmp_path / "etc/ssl/lab/ca2.pem").write_text("two")
    cfg = {"hooks-libraries": [{"library": "libdhcp_ha.so", "parameters": {"high-availability": [
        {"trust-anchor": "/etc/ssl/lab"}]}}]}
    files, problems = tls.carried(tmp_path / "a.json", cfg, tmp_path)
    assert problems == []
    assert {k: v.read_text() for k, v in files.items()} == {"/etc/ssl/lab/ca1.pem": "one", "/etc/ssl/lab/ca2.pem": "two"}
    for p in list((tmp_path / "etc/ssl/lab").iterdir()):
        p.unlink()
    assert "is empty" in tls.carried(tmp_path / "a.json", cfg, tmp_path)[1][0].what


def test_an_expired_certificate_drill_needs_the_expired_copy(pair_copy: Path) -> None:
    assert {"expired-certificate", "expired-certificate-then-kill"} <= load_pair(pair_copy).drills.keys()
    (pair_copy / "expired/etc/kea/tls/standby.crt").unlink()
    with pytest.raises(PairError) as err:
        load_pair(pair_copy)
    assert [p.field for p in err.value.problems] == ["drills.expired-certificate", "drills.expired-certificate-then-kill"]
    problem = err.value.problems[0]
    assert f"needs an expired copy of the secondary's /etc/kea/tls/standby.crt at {pair_copy}/expired/etc/kea/tls/standby.crt" \
        in problem.what


def test_the_peers_own_certificate_and_https_default_port(pair_copy: Path) -> None:
    pair = load_pair(pair_copy)
    adapter = KeaAdapter()
    assert adapter.own_certificate(pair, "primary") == "/etc/kea/tls/primary.crt"
    assert adapter.own_certificate(pair, "secondary") == "/etc/kea/tls/standby.crt"
    for name in ("primary.json", "standby.json"):
        path = pair_copy / name
        path.write_text(path.read_text().replace(":8001/", "/"))
    assert adapter_for(pair).lab_plan(load_pair(pair_copy)).peer_ports == {"primary": 443, "secondary": 443}


def test_a_ctrl_agent_pair_gets_an_agent_that_speaks_the_servers_tls() -> None:
    cfg = _cfg(PAIR)
    ha = _ha(cfg)
    cfg["multi-threading"]["enable-multi-threading"] = False
    agent = ctrl_agent_config("bookworm", cfg, ha, "198.18.0.11", 8001)["Control-agent"]
    assert {k: agent[k] for k in ("trust-anchor", "cert-file", "key-file", "cert-required")} == {
        "trust-anchor": "/etc/kea/tls/ca.crt", "cert-file": "/etc/kea/tls/primary.crt",
        "key-file": "/etc/kea/tls/primary.key", "cert-required": True}
    ha = {k: v for k, v in ha.items() if k not in tls.TLS_KEYS}
    assert "cert-file" not in ctrl_agent_config("bookworm", cfg, ha, "198.18.0.11", 8001)["Control-agent"]


def test_a_refused_handshake_in_the_servers_log_is_an_event() -> None:
    line = ("2026-12-07 11:24:19.971 INFO  [kea-dhcp4.http/15.140596066457280] HTTP_CONNECTION_HANDSHAKE_FAILED "
            "TLS handshake with 198.18.0.12 failed with certificate verify failed")
    assert KeaAdapter().log_event(line) == ("tls-refused", {"peer": "198.18.0.12", "reason": "certificate verify failed"})


def test_the_pair_model_names_carried_files_only_for_known_servers(tmp_path: Path) -> None:
    assert Pair(tmp_path, "x", "unknown", "bookworm", "hot-standby", {}).carried == []


# openssl s_client 3.0 transcripts (trimmed), the probe's own output: a client with the primary's
# certificate against the standby's, live and expired (made here against openssl s_server).
GOOD = """depth=0 CN = standby, O = dhcpdrill lab
Certificate chain
 0 s:CN = standby, O = dhcpdrill lab
   v:NotBefore: Dec  7 11:23:37 2026 GMT; NotAfter: Nov 13 11:23:37 2126 GMT
 1 s:O = dhcpdrill lab, CN = dhcpdrill lab CA
   v:NotBefore: Dec  7 11:23:36 2026 GMT; NotAfter: Nov 13 11:23:36 2126 GMT
subject=CN = standby, O = dhcpdrill lab
New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
Verify return code: 0 (ok)
HTTP/1.0 200 OK
[ { "arguments": { "date-time": "Mon, 07 Dec 2026 11:24:19 GMT", "scopes": [ ], "state": "hot-standby" }, "result": 0 } ]
cleartext: closed without a reply
"""
EXPIRED = """depth=0 CN = standby, O = dhcpdrill lab
verify error:num=10:certificate has expired
804B4554897F0000:error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889:
 0 s:CN = standby, O = dhcpdrill lab
   v:NotBefore: Jan  1 00:00:00 2020 GMT; NotAfter: Jan  2 00:00:00 2020 GMT
no peer certificate available
New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
Verify return code: 10 (certificate has expired)
cleartext: ConnectionResetError
"""


def _facts(text: str) -> dict:
    from dhcpdrill.servers.kea import TLS_FACTS
    return {key: (m.group(1) if (m := re.search(rx, text)) else None) for key, rx in TLS_FACTS.items()}


def test_the_tls_probe_reads_protocol_verification_and_answer() -> None:
    assert _facts(GOOD) == {"protocol": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "verify": "0 (ok)",
                            "server_cert": "CN = standby, O = dhcpdrill lab",
                            "server_cert_expires": "Nov 13 11:23:37 2126 GMT", "http_status": "200",
                            "state": "hot-standby", "refused": None, "error": None,
                            "cleartext": "closed without a reply"}
    bad = _facts(EXPIRED)
    assert (bad["verify"], bad["error"], bad["server_cert_expires"], bad["http_status"], bad["state"]) == (
        "10 (certificate has expired)", "certificate verify failed", "Jan  2 00:00:00 2020 GMT", None, None)


def test_the_run_folders_copy_of_the_pair_loads_and_hashes_the_same(tmp_path: Path) -> None:
    """What ``evidence.record_run`` keeps (pair.toml, the configs, ``included``) is enough to load
    the pair again and re-derive its hash: dhcpdrill-verify re-judges from that copy."""
    pair = load_pair(PAIR)
    kept = tmp_path / "pair"
    for path in [PAIR / "pair.toml", *pair.files.values(), *pair.included]:
        target = kept / path.relative_to(PAIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    assert load_pair(kept).config_hash == pair.config_hash


def test_a_tls_pair_without_ha_mt_gets_lab_agents_that_speak_tls(pair_copy: Path) -> None:
    for name in ("primary.json", "standby.json"):
        path = pair_copy / name
        path.write_text(path.read_text().replace('"enable-multi-threading": true, "thread-pool-size"',
                                                 '"enable-multi-threading": false, "thread-pool-size"'))
    pair = load_pair(pair_copy)
    plan = adapter_for(pair).lab_plan(pair)
    agent = json.loads(plan.files_in_container["secondary"]["/etc/kea/dhcpdrill-ctrl-agent.conf"])["Control-agent"]
    assert (agent["cert-file"], agent["key-file"], agent["cert-required"]) == (
        "/etc/kea/tls/standby.crt", "/etc/kea/tls/standby.key", True)
    assert any(r.startswith("standby.json: the peers talk through kea-ctrl-agent") and "https://198.18.0.12:8001/" in r
               and "TLS is, with this server's own" in r for r in plan.rewrites)


class _Container:
    """What ExpireCertificate touches of a server's container, recorded."""

    def __init__(self, checkend: int) -> None:
        self.checkend, self.calls = checkend, []

    def put_archive(self, path: str, data: bytes) -> None:
        import io
        import tarfile
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            self.calls += [("put", m.name, tar.extractfile(m).read()) for m in tar.getmembers()]

    def kill(self, signal: str) -> None:
        self.calls.append(("kill", signal))

    def start(self) -> None:
        self.calls.append(("start",))

    def exec_run(self, cmd: list[str]):
        self.calls.append(("exec", cmd[0]))
        return self.checkend, b"notAfter=Jan  2 00:00:00 2020 GMT\nCertificate will expire\n"


class _Adapter(KeaAdapter):
    def __init__(self, verify: str) -> None:
        self.verify = verify

    def ha_state(self, lab, pair, role) -> str:
        return "waiting"

    def peer_link_evidence(self, lab, pair, plan):
        return [("secondary", "peer-tls", {"from": "primary", "verify": self.verify, "refused": None})]


@pytest.mark.parametrize("checkend,verify,bites", [(1, "10 (certificate has expired)", True),
                                                   (0, "10 (certificate has expired)", False),
                                                   (1, "0 (ok)", False)])
def test_an_expired_certificate_bites_only_when_the_partner_refuses_it(checkend: int, verify: str, bites: bool) -> None:
    from types import SimpleNamespace

    from dhcpdrill.faults import ExpireCertificate, FaultContext
    from dhcpdrill.timeline import Timeline
    pair = load_pair(PAIR)
    container = _Container(checkend)
    tl = Timeline()
    ctx = FaultContext(SimpleNamespace(containers={"secondary": container}), pair, _Adapter(verify), None, tl)
    fault = ExpireCertificate()
    fault.apply(ctx)
    ok, evidence = fault.verify(ctx)
    expired = (PAIR / "expired/etc/kea/tls/standby.crt").read_bytes()
    assert container.calls[:3] == [("put", "etc/kea/tls/standby.crt", expired), ("kill", "SIGKILL"), ("start",)]
    assert ok is bites
    assert f"primary's TLS connection: verify {verify}" in evidence and "Jan  2 00:00:00 2020 GMT" in evidence
    replaced = tl.first("certificate-replaced")
    assert (replaced.source, replaced.get("path"), replaced.get("copied_from")) == (
        "secondary", "/etc/kea/tls/standby.crt", "expired/etc/kea/tls/standby.crt")
    assert [e.get("verify") for e in tl.of("peer-tls")] == [verify]
    assert fault.restores is False, "a certificate stays expired until someone renews it"
