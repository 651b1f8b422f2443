"""Gray peer-link faults: the link between the servers is bad rather than cut; clients untouched.

Lossy link: a share of the peer packets dropped each way at random for 60 s, at two levels. TCP
hides light loss behind retransmissions; heavier loss stretches lease updates and heartbeats
towards the pair's timers. Expected of a healthy pair: no split brain, no address to two clients,
clients answered within the pair's limit, back to normal after the heal.

Flapping link: cut for 2 s and restored for 2 s, over and over for 60 s; each cut shorter than
the pair's max-response-delay, so by its own rules neither server should ever see its partner down
(no state change) and clients should not notice.
"""
from dhcpdrill.scenario import Scenario
from dhcpdrill.gray import FlappingPeerLink, LossyPeerLink

GRAY_VERDICTS = ("steady-state", "fault-effective", "evidence-consistent", "split-brain", "client-outage",
                 "state-transitions", "heal-to-normal", "duplicates", "continuity", "reply-checksums")

LOSSY_PEER_LINK_20 = Scenario(
    name="lossy-peer-link-20",
    title="20 % of the peer link's packets dropped each way at random for 60 s, then healed",
    fault=LossyPeerLink(percent=20, name="lossy-peer-link-20"),
    dwell_s=5.0,
    observe_s=60.0,
    after_heal_s=20.0,
    verdicts=GRAY_VERDICTS,
)

LOSSY_PEER_LINK_50 = Scenario(
    name="lossy-peer-link-50",
    title="50 % of the peer link's packets dropped each way at random for 60 s, then healed",
    fault=LossyPeerLink(percent=50, name="lossy-peer-link-50"),
    dwell_s=5.0,
    observe_s=60.0,
    after_heal_s=20.0,
    verdicts=GRAY_VERDICTS,
)

FLAPPING_PEER_LINK = Scenario(
    name="flapping-peer-link",
    title="Peer link cut 2 s, restored 2 s, over and over for 60 s, then left up",
    fault=FlappingPeerLink(cut_s=2.0, up_s=2.0),
    dwell_s=5.0,
    observe_s=60.0,
    after_heal_s=20.0,
    verdicts=GRAY_VERDICTS,
)
