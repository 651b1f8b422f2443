"""The drill host's CPU record: parsed from /proc/stat as this machine prints it, and judged."""
import pytest

from dhcpdrill import hostcpu
from dhcpdrill.timeline import Event, Timeline
from dhcpdrill.verdicts import FAIL, UNKNOWN

from . import test_real_evidence as real

# This machine's /proc/stat during a 10,000-client drill (2026-12-01), and 60 s later.
BEFORE = ("cpu  221550 548 78351 288168 3846 0 12561 4370 0 0\n"
          "cpu0 110775 274 39175 144084 1923 0 6280 2185 0 0\n"
          "cpu1 110775 274 39176 144084 1923 0 6281 2185 0 0\n")
AFTER = ("cpu  231950 548 81051 288868 3866 0 13161 4470 0 0\n"
         "cpu0 115975 274 40525 144434 1933 0 6580 2235 0 0\n"
         "cpu1 115975 274 40526 144434 1933 0 6581 2235 0 0\n")


def test_busy_time_counts_steal_and_leaves_idle_and_iowait_free():
    busy, total, cores = hostcpu.parse(BEFORE)
    assert (busy, total, cores) == (221550 + 548 + 78351 + 12561 + 4370, 609394, 2)


def test_a_host_busy_through_the_drill_makes_waits_the_labs_and_a_calm_one_does_not():
    tl = Timeline()
    for at, text, t in (("start", BEFORE, 1.0), ("end", AFTER, 61.0)):
        busy, total, cores = hostcpu.parse(text)
        tl.add(t, "harness", "host-cpu", at=at, busy=busy, total=total, cores=cores)
    share, cores = hostcpu.busy_share(tl, "start", "end")
    assert share == pytest.approx(13800 / 14520) and cores == 2  # 95 %
    assert "2 cores were 95 % busy during the drill" in hostcpu.saturation_reason(tl)
    assert hostcpu.saturation_reason(tl, "steady") == ""  # no record at steady: nothing to say
    calm = Timeline([e for e in tl.events if e.get("at") == "start"])
    calm.add(61.0, "harness", "host-cpu", at="end", busy=tl.events[0].get("busy") + 5000,
             total=tl.events[0].get("total") + 14520, cores=2)
    assert hostcpu.saturation_reason(calm) == ""


def test_an_unreadable_record_is_no_figure_not_a_calm_host():
    class Broken:
        def shell(self, script, *args, what=""):
            raise RuntimeError("helper failed")
    tl = Timeline()
    hostcpu.record(Broken(), tl, "start", 1.0)
    assert tl.first("host-cpu").get("error") == "helper failed"
    assert hostcpu.busy_share(tl, "start", "end") is None


class FakeContainer:
    """What the Docker SDK's Container gives for one-shot stats (the fields hostcpu reads)."""

    def __init__(self, id: str, running: bool = True, cpu_ns: int = 0, system_ns: int = 0) -> None:
        self.id, self.running, self.cpu_ns, self.system_ns = id, running, cpu_ns, system_ns
        self.attrs: dict = {}

    def reload(self) -> None:
        self.attrs = {"State": {"Running": self.running, "Status": "running" if self.running else "exited",
                                "StartedAt": "2026-12-07T08:00:00.123456789Z"}}

    def stats(self, stream: bool, one_shot: bool) -> dict:
        assert stream is False and one_shot is True  # no wait for a second sample
        return {"cpu_stats": {"cpu_usage": {"total_usage": self.cpu_ns}, "system_cpu_usage": self.system_ns}}


class Host:
    def shell(self, script, *args, what=""):
        return BEFORE


def test_each_lab_containers_cpu_is_recorded_beside_the_hosts_and_a_stopped_one_says_so():
    tl = Timeline()
    hostcpu.record(Host(), tl, "end", 1.0, {"primary": FakeContainer("a" * 64, False),
                                            "secondary": FakeContainer("b" * 64, cpu_ns=7, system_ns=9)})
    e = tl.first("host-cpu")
    assert e.get("busy") == 317380 and e.get("containers") == {
        "primary": {"id": "a" * 12, "error": "not running (exited)"},
        "secondary": {"id": "b" * 12, "started": "2026-12-07T08:00:00.123456789Z", "cpu_ns": 7, "system_ns": 9}}


# The recorded 10,000-client steady state that never came, the host 96 % busy while the clients
# leased (real evidence), given the per-container figures drills now record beside the host's.
NS_PER_JIFFY = 10_000_000  # the engine's system_ns is /proc/stat's total at 100 ticks a second


def with_containers(tl: Timeline, shares: dict[str, float], restarted: str = "", unread: str = "") -> Timeline:
    """``tl`` with each server's CPU over start -> steady as ``shares`` of the host's time."""
    marks = {e.get("at"): e for e in tl.of("host-cpu")}
    span = (marks["steady"].get("total") - marks["start"].get("total")) * NS_PER_JIFFY
    events = []
    for e in tl.events:
        if e.kind == "host-cpu":
            at_start = e.get("at") == "start"
            containers = {}
            for role, share in shares.items():
                new = role == restarted and not at_start
                containers[role] = {"id": role[:3] * 4, "started": "later" if new else "2026-12-01T20:00:00Z",
                                    "cpu_ns": (0 if new else 5 * 10 ** 9) + (0 if at_start else int(share * span)),
                                    "system_ns": e.get("total") * NS_PER_JIFFY}
                if role == unread and at_start:
                    containers[role] = {"id": role[:3] * 4, "error": "ReadTimeout: the engine did not answer"}
            e = Event(e.t, e.source, e.kind, {**e.data, "containers": containers})
        events.append(e)
    return Timeline(events)


def test_a_host_saturated_by_the_servers_own_cpu_leaves_the_failure_to_the_pair():
    from dhcpdrill.verdicts import steady_state
    tl = real.load("kea10k-steady-saturated")
    old = steady_state(tl)  # no per-container figures: today's judgement, saying it could not separate
    assert old.status == UNKNOWN and "96 % busy while the clients leased" in old.reason
    assert "the servers' own share could not be separated from the lab's" in old.reason
    busy = steady_state(with_containers(tl, {"primary": 0.75, "secondary": 0.01}))
    assert busy.status == FAIL, busy.reason
    assert "never all held a lease" in busy.reason and "dropping 9,331 queries" in busy.reason
    assert ("96 % busy while the clients leased, but the servers' containers took 76 % of it (primary 75 %, "
            "secondary 1 %) themselves and the rest of the lab kept only 84 % of what they left busy") in busy.reason
    lab = steady_state(with_containers(tl, {"primary": 0.10, "secondary": 0.01}))
    assert lab.status == UNKNOWN and ("the servers' containers took 11 % of it (primary 10 %, secondary 1 %), "
                                      "the rest of the lab kept 96 % of what they left busy") in lab.reason


def test_a_restarted_or_unread_server_counts_only_as_much_as_its_readings_show():
    """Counting less of the servers' time can only leave the host saturated (UNKNOWN), never
    blame the pair for the lab's CPU."""
    from dhcpdrill.verdicts import steady_state
    tl = real.load("kea10k-steady-saturated")
    restarted = with_containers(tl, {"primary": 0.75, "secondary": 0.01}, restarted="primary")
    assert hostcpu.servers_share(restarted, "start", "steady")[1] is False
    assert "at least 76 % of it" in steady_state(restarted).reason and steady_state(restarted).status == FAIL
    unread = with_containers(tl, {"primary": 0.75, "secondary": 0.01}, unread="primary")
    share, whole, each = hostcpu.servers_share(unread, "start", "steady")
    assert not whole and each["primary"] == 0 and share == pytest.approx(0.01, abs=0.001)
    assert steady_state(unread).status == UNKNOWN


def test_the_per_container_figures_a_real_drill_recorded_separate_the_servers_from_the_lab():
    """kea-hot-standby kill-primary, recorded here on 2026-12-07 while another drill's unit tests
    kept the host busy: both Kea containers used about 0.2 % of the host while the clients leased,
    the rest of the lab all of it. The primary was killed, so over the drill its time counts only
    up to its last reading (at least)."""
    tl = real.load("kea-hs-kill-primary-container-cpu")
    assert real.judged(tl, "kill-primary")["outcome"].status == "pass"  # a pass stays a pass
    share, whole, each = hostcpu.servers_share(tl, "start", "steady")
    assert whole and 0.001 < share < 0.003 and set(each) == {"primary", "secondary"}
    assert hostcpu.busy_share(tl, "start", "steady")[0] > 0.99
    assert "the servers' containers took 0.2 % of it (primary 0.1 %, secondary < 0.1 %), the rest of the lab kept " \
           "100 % of what they left busy" in hostcpu.saturation_reason(tl, "steady")
    share, whole, _ = hostcpu.servers_share(tl, "start", "end")
    end = next(e for e in tl.of("host-cpu") if e.get("at") == "end")
    assert not whole and end.get("containers")["primary"]["error"] == "not running (exited)"


def with_host_marks(tl: Timeline, busy: float, servers: float) -> Timeline:
    """``tl`` with start and end records of a host ``busy`` busy over the drill, the two servers'
    containers taking ``servers`` of it (split evenly)."""
    first, last = tl.events[0].t, tl.events[-1].t
    total = int((last - first) * 200)  # 2 cores at 100 ticks a second
    marks = []
    for at, t, spent in (("start", first, 0), ("end", last, 1)):
        containers = {role: {"id": role[:3] * 4, "started": "2026-12-01T20:00:00Z", "system_ns": spent * total * 10 ** 7,
                             "cpu_ns": int(spent * servers / 2 * total * 10 ** 7)} for role in ("primary", "secondary")}
        marks.append(Event(t, "harness", "host-cpu", {"at": at, "busy": int(spent * busy * total), "total": spent * total,
                                                       "cores": 2, "containers": containers}))
    return Timeline([*tl.events, *marks])


def test_continuity_and_load_lost_on_a_host_the_servers_kept_busy_themselves_are_the_pairs():
    """The recorded 1,000-client failback, its neighbour table made calm (86 leases lost: FAIL),
    on a host 95 % busy over the drill: UNKNOWN when the lab kept it busy, FAIL naming the
    servers' share when they did."""
    tl = real.load("isc1k-failback-neigh-overflow")
    start = next(e for e in tl.of("neigh-table") if e.get("at") == "start")
    calm = Timeline([Event(e.t, e.source, e.kind, {**e.data, "table_fulls": start.get("table_fulls")})
                     if e.kind == "neigh-table" else e for e in tl.events])
    lab = real.judged(with_host_marks(calm, 0.95, 0.04), "failback")
    for name in ("continuity", "load"):
        assert lab[name].status == UNKNOWN and "the rest of the lab kept 95 % of what they left busy" in lab[name].reason
    own = real.judged(with_host_marks(calm, 0.95, 0.80), "failback")
    for name in ("continuity", "load"):
        assert own[name].status == FAIL, own[name].reason
        assert "but the servers' containers took 80 % of it (primary 40 %, secondary 40 %) themselves" in own[name].reason
