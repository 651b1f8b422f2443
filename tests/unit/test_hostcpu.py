"""The drill host's CPU record: parsed from /proc/stat as this machine prints it, and judged."""
import pytest

from dhcpdrill import hostcpu
from dhcpdrill.timeline import Timeline

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
