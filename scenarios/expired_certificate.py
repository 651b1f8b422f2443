"""An expired TLS certificate on the peer link: the secondary's certificate was never renewed and
its server reboots with it (the daemon loads it then, without checking its dates).

The partner refuses it in every TLS handshake, both ways: it is the secondary's server certificate
(the primary connecting to it) and its client certificate (it connecting to the primary, which
requires one). The drill records what the pair then does: whether the peers refuse each other
(the servers' own logs), whether both serve alone (split brain), and, in the second drill,
whether the secondary still takes over when the primary is then killed.
"""
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import ExpireCertificate, KillServer, Sequence

EXPIRED_CERTIFICATE = Scenario(
    name="expired-certificate",
    title="Secondary reboots with an expired peer-link certificate; observed 30 s",
    fault=ExpireCertificate(),
    observe_s=30.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "split-brain", "client-outage",
              "state-transitions", "duplicates", "continuity", "reply-checksums"),
)

EXPIRED_CERTIFICATE_THEN_KILL = Scenario(
    name="expired-certificate-then-kill",
    title="Secondary reboots with an expired peer-link certificate; 20 s later the primary is killed",
    fault=Sequence(steps=(ExpireCertificate(), KillServer()), hold_s=20.0, pause_s=5.0),
    observe_s=30.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "takeover", "split-brain",
              "state-transitions", "client-outage", "duplicates", "continuity", "reply-checksums"),
)
