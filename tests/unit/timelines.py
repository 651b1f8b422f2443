"""Hand-built timelines for verdict tests: a healthy kill-primary run and ways to break it."""
from __future__ import annotations

from dhcpdrill.timeline import Timeline

PRIMARY, SECONDARY = "198.18.0.11", "198.18.0.12"
FAULT_T = 100.0


def mac(i: int) -> str:
    return f"02:d4:10:00:00:{i:02x}"


def base(fault: bool = True, verified: bool = True) -> Timeline:
    tl = Timeline()
    tl.add(0.9, "harness", "prediction", of="takeover", low_s=2.0, high_s=9.0, basis="the test's timers")
    tl.add(0.9, "harness", "prediction", of="service-gap", high_s=5.0, give_up_s=11.0, basis="the test's clients")
    tl.add(1.0, "harness", "lab", roles={PRIMARY: "primary", SECONDARY: "secondary"}, serving=["primary"],
           subnet="198.18.0.0/24")
    for i in range(3):
        bound(tl, 10.0 + i, i, f"198.18.0.{100 + i}", PRIMARY, lease=120.0)
    tl.add(13.0, "clients", "steady", leases={f"steady-{i:02d}": f"198.18.0.{100 + i}" for i in range(3)})
    if fault:
        tl.add(FAULT_T, "harness", "fault-applied", fault="kill", target="primary", takes_down=True)
        if verified:
            tl.add(FAULT_T + 0.1, "harness", "fault-verified", fault="kill", target="primary", evidence="exited")
        else:
            tl.add(FAULT_T + 0.1, "harness", "fault-not-effective", fault="kill", target="primary",
                   evidence="still running")
    tl.add(FAULT_T + 30, "harness", "observe-end")
    return tl


def bound(tl: Timeline, t: float, i: int, ip: str, server: str, lease: float = 60.0, client: str | None = None,
          asked: float | None = None, role: str = "steady") -> None:
    """Client ``i`` asks at ``asked`` (a moment before ``t`` if not given) and is ACKed at ``t``."""
    name = client or f"steady-{i:02d}"
    xid = round(t * 1000) * 256 + i  # one exchange per call
    tl.add(t - 0.01 if asked is None else asked, "clients", "send", client=name, mac=mac(i), msg="REQUEST",
           state="REBINDING", xid=xid)
    tl.add(t, "clients", "recv", client=name, mac=mac(i), msg="ACK", expected=True, yiaddr=ip,
           server_id=server, udp_checksum_ok=True, lease_time=lease, xid=xid)
    tl.add(t, "clients", "bound", client=name, mac=mac(i), ip=ip, server_id=server, lease_time=lease)
    if not any(e.get("mac") == mac(i) for e in tl.of("client")):
        tl.add(0.5, "clients", "client", client=name, mac=mac(i), role=role)


def record(tl: Timeline, role: str, ip: str, holder: str, start: float, end: float) -> None:
    tl.add(start, role, "lease-record", ip=ip, mac=holder, start=start, end=end)


def lease_files_read(tl: Timeline) -> Timeline:
    for role in ("primary", "secondary"):
        tl.add(FAULT_T + 31, role, "lease-file", path="/var/lib/kea/kea-leases4.csv", read=True, bytes=100)
    return tl


def healthy() -> Timeline:
    """Takeover 4 s after the fault; every client, rebinding since +1 s, gets the same address
    from the standby at +4..+6 s; both lease files read and in agreement."""
    tl = lease_files_read(base())
    tl.add(FAULT_T + 3.9, "secondary", "ha-state", **{"from": "hot-standby", "to": "partner-down", "partner": "undefined"})
    for i in range(3):
        bound(tl, FAULT_T + 4 + i, i, f"198.18.0.{100 + i}", SECONDARY, client=f"steady-{i:02d}", asked=FAULT_T + 1)
        for role in ("primary", "secondary"):
            record(tl, role, f"198.18.0.{100 + i}", mac(i), 10.0 + i, 130.0 + i)
    return tl
