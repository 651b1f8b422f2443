"""Bad pairs are refused before anything starts, each with file, field, what is wrong and the fix."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from dhcpdrill.pair import load_pair
from dhcpdrill.problems import PairError
from dhcpdrill.servers.kea import strip_comments

BUNDLED = Path(__file__).resolve().parents[2] / "fixtures" / "kea-hot-standby"


@pytest.fixture(autouse=True)
def no_docker(monkeypatch):
    """Validation must never reach Docker: make any attempt fail loudly."""
    import docker

    def refuse(*a, **k):
        raise AssertionError("validation tried to reach Docker")
    monkeypatch.setattr(docker, "from_env", refuse)
    monkeypatch.setattr(docker, "DockerClient", refuse)


def copy_pair(tmp_path: Path) -> Path:
    dst = tmp_path / "pair"
    shutil.copytree(BUNDLED, dst)
    return dst


def edit_json(name: str, change):
    def apply(folder: Path) -> None:
        path = folder / name
        cfg = json.loads(strip_comments(path.read_text()))
        change(cfg["Dhcp4"])
        path.write_text(json.dumps(cfg, indent=1))
    return apply


def both(change):
    def apply(folder: Path) -> None:
        edit_json("primary.json", change)(folder)
        edit_json("standby.json", change)(folder)
    return apply


def ha(cfg):
    return next(h for h in cfg["hooks-libraries"] if h["library"].endswith("libdhcp_ha.so"))["parameters"]["high-availability"][0]


def edit_text(name: str, old: str, new: str):
    def apply(folder: Path) -> None:
        path = folder / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1))
    return apply


def set_peer(role: str, key: str, value):
    def change(cfg):
        next(p for p in ha(cfg)["peers"] if p["role"] == role)[key] = value
    return change


BROKEN = {
    "secondary pool differs": (edit_json("standby.json", lambda c: c["subnet4"][0]["pools"][0].update(pool="198.18.0.150 - 198.18.0.199")),
                               'standby.json: Dhcp4.subnet4[198.18.0.0/24].pools[0].pool: is "198.18.0.150 - 198.18.0.199", '
                               'primary.json has "198.18.0.100 - 198.18.0.199" — give both servers the same subnets'),
    "peer url typo": (edit_json("standby.json", set_peer("standby", "url", "http://198.18.0.13:8001/")),
                      'standby.json: high-availability[0].peers[standby].url: is "http://198.18.0.13:8001/", '
                      'primary.json has "http://198.18.0.12:8001/" — copy the same peers list'),
    "ha hook missing": (edit_json("standby.json", lambda c: c.update(
        {"hooks-libraries": [h for h in c["hooks-libraries"] if "ha.so" not in h["library"]]})),
        "standby.json: Dhcp4.hooks-libraries: the High Availability hook is missing"),
    "lease_cmds hook missing": (edit_json("primary.json", lambda c: c.update(
        {"hooks-libraries": [h for h in c["hooks-libraries"] if "lease_cmds" not in h["library"]]})),
        "primary.json: Dhcp4.hooks-libraries: the lease_cmds hook is missing"),
    "wrong role name": (both(set_peer("standby", "role", "secondary")),
                        'standby.json: high-availability[0].peers[standby].role: is "secondary"'),
    "files swapped": (edit_text("pair.toml", 'primary = "primary.json"\nsecondary = "standby.json"',
                                'primary = "standby.json"\nsecondary = "primary.json"'),
                      'standby.json: high-availability[0].peers[standby].role: is "standby", but this file plays primary'),
    "this-server-name unknown": (edit_json("primary.json", lambda c: ha(c).update({"this-server-name": "server1"})),
                                 'primary.json: high-availability[0].this-server-name: "server1" is not one of the peers '
                                 '("primary", "standby")'),
    "max-response-delay below heartbeat": (both(lambda c: ha(c).update({"max-response-delay": 500})),
                                           "max-response-delay: 500 ms is not above heartbeat-delay 1000 ms"),
    "timers differ between peers": (edit_json("standby.json", lambda c: ha(c).update({"max-unacked-clients": 5})),
                                    "standby.json: high-availability[0].max-unacked-clients: is 5, primary.json has 2"),
    "mode mismatch": (edit_text("pair.toml", 'mode = "hot-standby"', 'mode = "load-balancing"'),
                      'pair.toml: pair.mode: is "load-balancing", both configs say "hot-standby" — '
                      'set mode = "hot-standby" in pair.toml'),
    "subnet too large to move into the lab range": (both(lambda c: c["subnet4"][0].update(subnet="10.0.0.0/8")),
                                                    "Dhcp4.subnet4[0].subnet: 10.0.0.0/8 is larger than the lab's "
                                                    "198.19.0.0/16 and cannot be moved into it"),
    "peer address outside subnet": (both(set_peer("standby", "url", "http://198.19.5.5:8001/")),
                                    "peers[standby].url: 198.19.5.5 is not in the drilled subnet 198.18.0.0/24"),
    "malformed json": (edit_text("standby.json", '"valid-lifetime": 60,', '"valid-lifetime": 60,,'),
                       "standby.json: line 9 column 26: is not valid JSON"),
    "not a dhcp4 config": (lambda f: (f / "primary.json").write_text('{"Dhcp6": {}}'),
                           "primary.json: Dhcp4: missing"),
    "unknown manifest key": (edit_text("pair.toml", 'mode = "hot-standby"', 'mode = "hot-standby"\ncolour = "blue"'),
                             "pair.toml: pair.colour: unknown key"),
    "manifest wrong type": (edit_text("pair.toml", "max_takeover_s = 15", 'max_takeover_s = "fast"'),
                            "pair.toml: drills.kill-primary.max_takeover_s: has the wrong type (str)"),
    "manifest missing role": (edit_text("pair.toml", 'secondary = "standby.json"\n', ""),
                              "pair.toml: files.secondary: missing"),
    "config file missing": (lambda f: (f / "standby.json").unlink(),
                            "pair.toml: files.secondary:"),
    "manifest not toml": (edit_text("pair.toml", "[files]", "[files"),
                          "pair.toml: -: is not valid TOML"),
    "continuity above one": (edit_text("pair.toml", "min_continuity = 1.0", "min_continuity = 100"),
                             "pair.toml: drills.kill-primary.min_continuity: must be between 0 and 1"),
    "continuity that cannot fail": (edit_text("pair.toml", "min_continuity = 1.0", "min_continuity = 0"),
                                    "pair.toml: drills.kill-primary.min_continuity: is 0, so continuity could never "
                                    "fail (every client may lose its address) — give the share of clients"),
    "outage limit below zero": (edit_text("pair.toml", "max_outage_s = 15", "max_outage_s = -1"),
                                "drills.peer-partition.max_outage_s: is -1: a time must be positive"),
    "expired leases below zero": (edit_text("pair.toml", "max_takeover_s = 15", "max_takeover_s = 15\nmax_expired_leases = -3"),
                                  "drills.kill-primary.max_expired_leases: must not be negative"),
    "unknown server kind": (edit_text("pair.toml", 'server = "kea"', 'server = "dnsmasq"'),
                            "pair.toml: pair.server: unknown server kind 'dnsmasq'"),
    "two interfaces": (both(lambda c: c["interfaces-config"].update(interfaces=["ens192", "ens224"])),
                       'Dhcp4.interfaces-config.interfaces: is ["ens192", "ens224"]; the lab reproduces exactly one'),
    "all interfaces": (both(lambda c: c["interfaces-config"].update(interfaces=["*"])),
                       'Dhcp4.interfaces-config.interfaces: is ["*"]'),
    "sysctl outside the network namespace": (edit_text("pair.toml", "[files]", '[lab]\nsysctls = { "kernel.panic" = 1 }\n\n[files]'),
                                             "pair.toml: lab.sysctls.kernel.panic: is not a per-namespace net.* setting"),
    "no control socket": (both(lambda c: c.pop("control-socket")),
                          "Dhcp4.control-socket: no unix control socket"),
    "hazard as a plain string": (edit_text("pair.toml", 'known_hazard = { why = "Kea 2.2 HA: a primary that loses its clients but not its partner is never taken over (total outage)", fails = { takeover = "none", client-outage = "no-takeover", state-transitions = true } }',
                                           'known_hazard = "it breaks"'),
                                 "drills.client-partition.known_hazard: a plain string does not say which verdicts the "
                                 'hazard breaks — write known_hazard = { why = "it breaks…", fails = { split-brain = N, … } }'),
    "hazard names no verdict": (edit_text("pair.toml", 'fails = { split-brain = 30 }, may_fail', 'fails = { "split brain" = 25 }, may_fail'),
                                "drills.peer-partition.known_hazard: names 'split brain', which is no verdict"),
    "hazard excuses a fault that did not bite": (edit_text("pair.toml", 'fails = { split-brain = 30 }, may_fail',
                                                           'fails = ["fault-effective"], may_fail'),
                                                 "names fault-effective, which no hazard may excuse"),
    "hazard without its reason": (edit_text("pair.toml", 'why = "Kea 2.2 HA: a silent peer-link cut makes both servers partner-down (split brain)", ', ""),
                                  "drills.peer-partition.known_hazard.why: missing"),
    "hazard that breaks nothing": (edit_text("pair.toml", 'fails = { split-brain = 30 }, may_fail = { duplicates = 28 }',
                                             'fails = [], may_fail = []'),
                                   "drills.peer-partition.known_hazard.fails: must list the verdicts the hazard breaks"),
    "hazard names a verdict the pair does not judge": (
        edit_text("pair.toml", 'fails = { takeover = "none", client-outage = "no-takeover" }',
                  'fails = { takeover = "none", heal-to-normal = 20 }'),
        "drills.clock-skew-then-kill.known_hazard: names heal-to-normal, but the table states no max_heal_to_normal_s"),
    "threshold not a finite number": (edit_text("pair.toml", "max_takeover_s = 15", "max_takeover_s = nan"),
                                      "drills.kill-primary.max_takeover_s: is nan — give a finite number"),
    "a service gap of no time": (edit_text("pair.toml", "max_takeover_s = 15", "max_takeover_s = 15\nmax_service_gap_s = 0"),
                                 "drills.kill-primary.max_service_gap_s: is 0: no client is answered in no time"),
    "pair name that climbs out of reports/": (edit_text("pair.toml", 'name = "kea-hot-standby"', 'name = "../../x"'),
                                              "pair.toml: pair.name: '../../x' is not a plain name"),
    "config outside the pair folder": (edit_text("pair.toml", 'primary = "primary.json"', 'primary = "../primary.json"'),
                                       "pair.toml: files.primary: '../primary.json' points outside the pair folder"),
    # Degenerate input that once passed the check and broke the run later (issue 16).
    "pool covers the whole subnet": (both(lambda c: c["subnet4"][0].update(pools=[{"pool": "198.18.0.0/24"}])),
                                     "primary.json: Dhcp4.subnet4[0].pools: leave no two addresses of 198.18.0.0/24 "
                                     "outside the pools and the servers' addresses"),
    "pool too small for the drill's clients": (
        both(lambda c: c["subnet4"][0].update(pools=[{"pool": "198.18.0.100 - 198.18.0.104"}])),
        "primary.json: Dhcp4.subnet4[0].pools: hold 5 address(es), but a drill starts at least 9 clients"),
    "max-unacked-clients beyond what the pool holds": (
        both(lambda c: ha(c).update({"max-unacked-clients": 254})),
        "Dhcp4.subnet4[0].pools: hold 100 address(es), but a drill starts at least 261 clients"),
    "both servers on one address": (both(set_peer("standby", "url", "http://198.18.0.11:8001/")),
                                    "primary.json: high-availability[0].peers[].url: both servers are at 198.18.0.11 — "
                                    "give each server its own address"),
    "server on the broadcast address": (both(set_peer("standby", "url", "http://198.18.0.255:8001/")),
                                        "standby.json: high-availability[0].peers[].url: 198.18.0.255 is the broadcast "
                                        "address of 198.18.0.0/24"),
    "pair name too long": (edit_text("pair.toml", 'name = "kea-hot-standby"', f'name = "{"x" * 300}"'),
                           "pair.toml: pair.name: "),
    "config given as an absolute path": (edit_text("pair.toml", 'primary = "primary.json"', 'primary = "/etc/kea/kea-dhcp4.conf"'),
                                         "pair.toml: files.primary: '/etc/kea/kea-dhcp4.conf' points outside the pair folder"),
    "lease file path with a space": (both(lambda c: c["lease-database"].update(name="/var/lib/kea/my leases.csv")),
                                     'Dhcp4.lease-database.name: "/var/lib/kea/my leases.csv" holds whitespace, which Kea cannot open'),
    "rolling upgrade to an unknown suite": (edit_text("pair.toml", 'to_suite = "trixie"', 'to_suite = "sid"'),
                                            "pair.toml: drills.rolling-upgrade.to_suite: unknown Debian suite 'sid' — "
                                            "use one of: bookworm, trixie, forky"),
    "mclt on a kea pair": (edit_text("pair.toml", "max_takeover_s = 15", "max_takeover_s = 15\nmclt_s = 30"),
                           "drills.kill-primary.mclt_s: is 30, but kea has no MCLT"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_pair_is_refused_with_its_specific_message(tmp_path, case):
    folder = copy_pair(tmp_path)
    mutate, expected = BROKEN[case]
    mutate(folder)
    with pytest.raises(PairError) as err:
        load_pair(folder)
    text = str(err.value)
    assert expected in text, text
    for problem in err.value.problems:  # every line: file: field: what — how to fix
        assert problem.file and problem.field and problem.what and problem.fix


def test_unreadable_config_is_refused(tmp_path, monkeypatch):
    folder = copy_pair(tmp_path)
    real = Path.read_text

    def deny(self, *a, **k):
        if self.name == "standby.json":
            raise PermissionError(13, "Permission denied")
        return real(self, *a, **k)
    monkeypatch.setattr(Path, "read_text", deny)  # root ignores file modes, so simulate the denial
    with pytest.raises(PairError, match=r"standby.json: -: cannot be read \(Permission denied\)"):
        load_pair(folder)


def test_config_that_is_not_text_is_refused(tmp_path):
    folder = copy_pair(tmp_path)
    (folder / "standby.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PairError, match=r"standby.json: -: is not UTF-8 text"):
        load_pair(folder)


def test_all_problems_are_reported_at_once(tmp_path):
    folder = copy_pair(tmp_path)
    edit_text("pair.toml", 'mode = "hot-standby"', 'mode = "hot-standby"\ncolour = "blue"')(folder)
    edit_text("pair.toml", "max_takeover_s = 15", "max_takeover_s = -1")(folder)
    with pytest.raises(PairError) as err:
        load_pair(folder)
    assert len(err.value.problems) == 2


def test_bundled_pair_is_valid_and_its_addressing_is_read_from_the_configs():
    from dhcpdrill.servers import adapter_for
    pair = load_pair(BUNDLED)
    plan = adapter_for(pair).lab_plan(pair)
    assert str(plan.subnet) == "198.18.0.0/24"
    assert plan.addresses == {"primary": "198.18.0.11", "secondary": "198.18.0.12"}
    assert plan.retrying_clients_needed == 3
    assert re.fullmatch(r"[0-9a-f]{64}", pair.config_hash)


def test_readdressed_copy_with_renamed_files_is_accepted(tmp_path):
    folder = copy_pair(tmp_path)
    (folder / "primary.json").rename(folder / "dhcp-a.json")
    (folder / "standby.json").rename(folder / "dhcp-b.json")
    edit_text("pair.toml", 'primary = "primary.json"\nsecondary = "standby.json"',
              'primary = "dhcp-a.json"\nsecondary = "dhcp-b.json"')(folder)
    for name in ("dhcp-a.json", "dhcp-b.json"):
        path = folder / name
        path.write_text(path.read_text().replace("198.18.0.", "198.19.7."))
    pair = load_pair(folder)
    from dhcpdrill.servers import adapter_for
    assert adapter_for(pair).lab_plan(pair).addresses == {"primary": "198.19.7.11", "secondary": "198.19.7.12"}


def test_a_production_interface_name_is_mapped_and_the_rewrite_listed(tmp_path):
    from dhcpdrill.servers import adapter_for
    folder = copy_pair(tmp_path)
    both(lambda c: c["interfaces-config"].update(interfaces=["ens192/198.18.0.11"]))(folder)
    pair = load_pair(folder)
    plan = adapter_for(pair).lab_plan(pair)
    assert plan.rewrites == (
        'primary.json: Dhcp4.interfaces-config.interfaces: "ens192" -> "eth0" (the lab\'s interface)',
        "primary.json: comments dropped from the lab copy",
        'standby.json: Dhcp4.interfaces-config.interfaces: "ens192" -> "eth0" (the lab\'s interface)',
        "standby.json: comments dropped from the lab copy",
    )
    lab_copy = json.loads(plan.files_in_container["primary"]["/etc/kea/kea-dhcp4.conf"])
    assert lab_copy["Dhcp4"]["interfaces-config"]["interfaces"] == ["eth0/198.18.0.11"]
    assert adapter_for(load_pair(BUNDLED)).lab_plan(load_pair(BUNDLED)).rewrites == ()


def test_loggers_that_hide_ha_states_are_pointed_at_stdout_in_the_lab_copy_only(tmp_path):
    """A production pair logs to a file (or syslog) at WARN: the drill would see no HA state at
    all and fail state-transitions for a reason that is not the pair's."""
    from dhcpdrill.servers import adapter_for
    folder = copy_pair(tmp_path)
    both(lambda c: c.update(loggers=[
        {"name": "kea-dhcp4", "severity": "WARN", "output_options": [
            {"output": "/var/log/kea/kea-dhcp4.log", "maxsize": 10485760, "maxver": 8, "pattern": "%d %-5p %m\n"}]},
        {"name": "kea-dhcp4.ha-hooks", "severity": "ERROR", "output_options": [{"output": "syslog:local7"}]},
        {"name": "kea-dhcp4.leases", "severity": "INFO", "output_options": [{"output": "stdout"}]}]))(folder)
    original = (folder / "primary.json").read_text()
    pair = load_pair(folder)
    plan = adapter_for(pair).lab_plan(pair)
    assert "primary.json: Dhcp4.loggers[0] (kea-dhcp4).output_options: /var/log/kea/kea-dhcp4.log -> stdout " \
           "(the drill reads HA states from the daemon's output)" in plan.rewrites
    assert "primary.json: Dhcp4.loggers[1] (kea-dhcp4.ha-hooks).severity: ERROR -> INFO " \
           "(HA state changes are logged at INFO)" in plan.rewrites
    loggers = json.loads(plan.files_in_container["primary"]["/etc/kea/kea-dhcp4.conf"])["Dhcp4"]["loggers"]
    assert loggers[0] == {"name": "kea-dhcp4", "severity": "INFO",
                          "output_options": [{"output": "stdout", "pattern": "%d %-5p %m\n"}]}
    assert loggers[1]["output_options"] == [{"output": "stdout"}] and loggers[2]["severity"] == "INFO"
    assert not any("loggers[2]" in r for r in plan.rewrites)
    assert (folder / "primary.json").read_text() == original  # the user's file is never touched


def test_a_pair_on_production_addresses_is_moved_into_the_lab_range_in_the_lab_copy_only(tmp_path):
    """The pair as it runs in production (here the documentation range 192.0.2.0/24): subnet,
    pool, peer URLs and routers move by one offset; an address outside the subnet stays."""
    from dhcpdrill.servers import adapter_for
    folder = copy_pair(tmp_path)
    for name in ("primary.json", "standby.json"):
        path = folder / name
        path.write_text(path.read_text().replace("198.18.0.", "192.0.2.").replace(
            '"option-data": [ { "name": "routers", "data": "192.0.2.1" } ]',
            '"option-data": [ { "name": "routers", "data": "192.0.2.1" }, '
            '{ "name": "domain-name-servers", "data": "203.0.113.53" } ]'))
    original = (folder / "primary.json").read_bytes()
    pair = load_pair(folder)
    plan = adapter_for(pair).lab_plan(pair)
    assert plan.subnet.subnet_of(__import__("ipaddress").ip_network("198.19.0.0/16")) and plan.subnet.prefixlen == 24
    base = str(plan.subnet.network_address).rsplit(".", 1)[0]
    assert plan.addresses == {"primary": f"{base}.11", "secondary": f"{base}.12"}
    assert plan.rewrites[0] == (f"primary.json and standby.json: readdressed 192.0.2.0/24 -> {plan.subnet} (the lab "
                                "never uses real ranges; subnets, pools, server and peer addresses, routers and every "
                                "other address inside it moved by the same offset)")
    lab = json.loads(plan.files_in_container["secondary"]["/etc/kea/kea-dhcp4.conf"])["Dhcp4"]
    assert lab["subnet4"][0]["pools"][0]["pool"] == f"{base}.100 - {base}.199"
    assert [o["data"] for o in lab["subnet4"][0]["option-data"]] == [f"{base}.1", "203.0.113.53"]
    assert ha(lab)["peers"][1]["url"] == f"http://{base}.12:8001/"
    assert (folder / "primary.json").read_bytes() == original
    assert adapter_for(load_pair(folder)).lab_plan(load_pair(folder)).subnet == plan.subnet  # always the same


def test_manifest_and_config_problems_are_reported_together(tmp_path):
    folder = copy_pair(tmp_path)
    edit_text("pair.toml", 'mode = "hot-standby"', 'mode = "hot-standby"\ncolour = "blue"')(folder)
    edit_json("standby.json", lambda c: c["subnet4"][0]["pools"][0].update(pool="198.18.0.150 - 198.18.0.199"))(folder)
    with pytest.raises(PairError) as err:
        load_pair(folder)
    assert [p.field for p in err.value.problems] == ["pair.colour", "Dhcp4.subnet4[198.18.0.0/24].pools[0].pool"]


def test_lab_sysctls_are_read_for_the_server_containers(tmp_path):
    folder = copy_pair(tmp_path)
    edit_text("pair.toml", "[files]", '[lab]\nsysctls = { "net.ipv4.tcp_syn_retries" = 2 }\n\n[files]')(folder)
    assert load_pair(folder).sysctls == {"net.ipv4.tcp_syn_retries": "2"}


def test_a_misspelt_drill_table_is_named_with_the_nearest_drill(tmp_path):
    from dhcpdrill.manifest import drill_name_problems
    from dhcpdrill.plugin import known_scenarios
    folder = copy_pair(tmp_path)
    edit_text("pair.toml", "[drills.kill-primary]", "[drills.kill_primary]")(folder)
    known = set(known_scenarios())
    assert {"kill-primary", "peer-partition", "partner-down", "failback"} <= known
    (problem,) = drill_name_problems(load_pair(folder), known)
    assert str(problem).endswith("pair.toml: drills.kill_primary: no drill has this name — did you mean [drills.kill-primary]?")
    assert drill_name_problems(load_pair(BUNDLED), known) == []


def _with_workload(tmp_path, text: str):
    import shutil
    folder = tmp_path / "pair"
    shutil.copytree(Path(__file__).parents[2] / "fixtures" / "kea-hot-standby", folder)
    (folder / "pair.toml").write_text((folder / "pair.toml").read_text() + "\n[workload]\n" + text)
    return folder


def test_a_limit_on_expired_leases_no_population_can_reach_is_refused(tmp_path):
    folder = _with_workload(tmp_path, "clients = 80\n")
    edit_text("pair.toml", "max_takeover_s = 15", "max_takeover_s = 15\nmax_expired_leases = 80")(folder)
    with pytest.raises(PairError, match="drills.kill-primary.max_expired_leases: is 80, as many as the 80 clients: "
                                        "load could never fail"):
        load_pair(folder)
    edit_text("pair.toml", "max_expired_leases = 80", "max_expired_leases = 79")(folder)
    assert load_pair(folder).drills["kill-primary"].max_expired_leases == 79


def test_a_population_is_read_and_spread_over_the_client_subnets(tmp_path):
    pair = load_pair(_with_workload(tmp_path, "clients = 80\narrival_per_s = 40\n"))
    assert pair.population.clients == 80 and pair.population.arrival_per_s == 40.0
    assert pair.population.per_link(3) == 27  # rounded up: never fewer clients than stated
    assert pair.population.new_per_link(3) == 0


def test_a_share_of_new_clients_is_taken_from_each_subnets_population(tmp_path):
    pair = load_pair(_with_workload(tmp_path, "clients = 80\nnew_share = 0.25\n"))
    assert (pair.population.renewing_per_link(2), pair.population.new_per_link(2)) == (30, 10)


@pytest.mark.parametrize("text,field", [
    ("clients = 0\n", "workload.clients"), ("clients = 2.5\n", "workload.clients"),
    ("clients = 10\narrival_per_s = -1\n", "workload.arrival_per_s"), ("clients = 10\nburst = 3\n", "workload.burst"),
    ("clients = 10\nnew_share = 1\n", "workload.new_share"), ("clients = 10\nnew_share = \"10%\"\n", "workload.new_share")])
def test_a_bad_population_is_named_by_field(tmp_path, text, field):
    with pytest.raises(PairError) as err:
        load_pair(_with_workload(tmp_path, text))
    assert f"pair.toml: {field}:" in str(err.value)


def test_a_population_larger_than_the_pool_is_refused_naming_both_fixes(tmp_path):
    with pytest.raises(PairError) as err:
        load_pair(_with_workload(tmp_path, "clients = 500\n"))
    text = str(err.value)
    assert "pair.toml: workload.clients: the pools hold 100 address(es), but a drill starts at least" in text
    assert "widen the pools" in text and "or state fewer clients" in text
