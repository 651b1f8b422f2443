"""Storage gray failures: the primary stays up, answers its partner's heartbeats, and cannot keep leases.

Storage full: the filesystem under the primary's lease file fills while the daemon serves, for
40 s, then the space comes back. Kea's heartbeat reports the HA state, not whether the server can
still grant leases, so the question is what clients live through: does the partner take over,
are clients refused (NAK) or left unanswered, and does the primary serve again once space
returns. Judged against [drills.storage-full]. Whether the partner takes over is read from its
states (``expect_states``) and what clients waited, not from ``takeover``: a dhcpd pair's partner
answers some clients by design. Continuity is not judged: a steady client whose renewal falls in
the 40 s is refused or answered, and ``naks`` names each one refused.

Lost tail: the primary is killed, the last records of its lease file are cut before it restarts
(a crash losing appends that never reached the disk), then the failback as in ``failback``: does
the returning primary learn those leases from its partner before it serves, or hand their
addresses out again (``tail-relearned``, ``duplicates``)? Judged against [drills.lease-tail-lost].
"""
from dhcpdrill.clients import Workload
from dhcpdrill.scenario import Scenario
from dhcpdrill.storage import FillLeaseStorage, TruncateLeaseTail

STORAGE_FULL = Scenario(
    name="storage-full",
    title="The primary's lease filesystem full for 40 s while it runs, then space freed",
    fault=FillLeaseStorage(target="primary"),
    dwell_s=5.0,
    observe_s=40.0,
    after_heal_s=30.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "naks", "client-outage",
              "state-transitions", "heal-to-normal", "split-brain", "duplicates", "reply-checksums"),
)

LEASE_TAIL_LOST = Scenario(
    name="lease-tail-lost",
    title="Primary killed, the last 30 s of its lease file's writes (at least 40 records) lost, restarted after 25 s",
    fault=TruncateLeaseTail(target="primary", records=40, written_s=30.0),
    dwell_s=5.0,
    observe_s=25.0,
    after_heal_s=40.0,
    workload=Workload(fresh_every_s=5.0, fresh_keep=True),
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "service-held",
              "state-transitions", "heal-to-normal", "split-brain", "duplicates", "naks", "continuity",
              "failback-sync", "tail-relearned", "continuity-after-heal", "reply-checksums"),
)
