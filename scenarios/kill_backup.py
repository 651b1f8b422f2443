"""The Kea HA backup server dies under load (SIGKILL of its container): did the clients notice?

A backup receives the active servers' lease updates and answers no client. In hot-standby and
load-balancing the active servers never wait for its acknowledgement (Kea refuses
``wait-backup-ack: true`` there), so a healthy pair keeps serving as if nothing happened: no HA
state change, no client waiting longer than the pair's ``max_outage_s``, service held from the
kill on, and the backup's lease file holding every lease granted up to the kill.
"""
from dhcpdrill.scenario import Scenario
from dhcpdrill.faults import KillServer

KILL_BACKUP = Scenario(
    name="kill-backup",
    title="Backup server killed (SIGKILL) under load; the active pair must serve on unnoticed",
    fault=KillServer(target="backup", link=None),
    dwell_s=5.0,
    observe_s=30.0,
    verdicts=("steady-state", "fault-effective", "evidence-consistent", "service-held", "client-outage",
              "state-transitions", "duplicates", "continuity", "reply-checksums", "backup-updated"),
)
