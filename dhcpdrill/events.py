"""Every kind of event a timeline holds, and its fields: the contract between what records and what judges.

The agent in the client container, the server adapters' log and lease-file readers, the faults, the
lab's engine watch and the drill write events; the verdicts, the coverage rules, the figures and the
reports read them. Both sides name kinds and fields as strings, so a typo would become a silent
UNKNOWN: ``tests/unit/test_event_kinds.py`` holds every kind the code writes or reads, with the
fields it writes, against this table, and every recorded timeline in ``tests/evidence`` against it.
``problems`` says how a timeline departs from it (``dhcpdrill-verify`` prints that for an archive).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from .timeline import Event

HARNESS, CLIENTS, ENGINE, SERVER, REAL_CLIENT = "harness", "clients", "engine", "server", "real-client"
DATABASE = "database"  # a SQL lease database's lab role: database, database-2, ...
SERVER_ROLES = ("primary", "secondary", "backup")
CLIENT_KIND = ("client_kind",)  # on the agent's per-client events when the pair states a [workload] mix


@dataclass(frozen=True)
class Kind:
    """One kind of event: who writes it (``server``: a server role; ``real-client``: ``real-client:<kind>``;
    ``database``: ``database`` or ``database-<n>``),
    the fields it always has, the fields it may have, and what it means."""
    sources: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    doc: str = ""

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.required) | frozenset(self.optional)


_FAULT = ("fault", "target")
KINDS: dict[str, Kind] = {
    # -- the drill's own steps (drill.py) ---------------------------------------------------------------
    "lab": Kind((HARNESS,), ("image", "pair", "roles", "subnet"),
                ("interrupted_states", "normal_state", "pair_sha256", "rewrites", "run_id", "serving", "solo_states",
                 "sysctls", "backup", "lease_sync", "links", "logs_drops", "observe_s", "peer_subnet", "records",
                 "scenario", "tmpfs", "verdicts", "versions", "window_reason", "real_clients"),
                "the lab as built: pair, image, addresses and roles, what the drill records and judges"),
    "pair-ready": Kind((HARNESS,), ("states",), (), "both servers reached their normal state"),
    "backup-ready": Kind((HARNESS,), ("state", "name", "address"), (), "the HA backup peer is up"),
    "prediction": Kind((HARNESS,), ("of",),
                       ("basis", "high_s", "low_s", "active_clients", "counted_at_s", "give_up_s", "hand_back_s",
                        "max_unacked", "new_over_s", "new_replayed", "period", "with_zero_high_s", "with_zero_low_s",
                        "words"),
                       "what the pair's timers (and population) predict before the fault"),
    "rhythm": Kind((HARNESS,), ("of", "max_silence_s", "basis"), (),
                   "the longest silence a recorder may keep before its evidence has a gap"),
    "client-mix": Kind((HARNESS,), ("mix",), ("steady", "new", "per_link", "links"),
                       "the client kinds the pair's [workload] mix assigns"),
    "real-clients-bound": Kind((HARNESS,), ("addresses", "timeout_s"), (), "the real clients' addresses at steady state"),
    "clients-woken": Kind((HARNESS,), ("why",), ("renew_s", "after"), "the harness woke the clients to renew"),
    "boot-storm": Kind((HARNESS,), ("population", "over_s"), (), "every client rebooted at once"),
    "settle-wait": Kind((HARNESS,), ("settled", "waited_s", "limit_s"), (), "how long the population took to settle"),
    "observe-end": Kind((HARNESS,), (), (), "the end of the observed window"),
    "evidence-gap": Kind((HARNESS,), ("of", "since", "until", "why"), ("kinds",), "a stretch a recorder missed"),
    "host-cpu": Kind((HARNESS,), ("at",), ("busy", "cores", "total", "containers", "error"),
                     "the drill host's CPU at a step (host-saturation rule)"),
    "neigh-table": Kind((HARNESS,), ("at",), ("clients", "gc_thresh3", "table_fulls", "error"),
                        "the host's neighbour table against the clients it must hold"),
    # -- faults (faults.py, gray.py, storage.py) --------------------------------------------------------
    "fault-applied": Kind((HARNESS,), _FAULT, ("takes_down",), "the blow, stamped before it is dealt"),
    "fault-verified": Kind((HARNESS,), _FAULT, ("evidence", "apply_s"), "the fault proven to bite, from evidence read back"),
    "fault-not-effective": Kind((HARNESS,), _FAULT, ("evidence", "apply_s"), "the fault could not be proven"),
    "fault-step": Kind((HARNESS,), (*_FAULT, "step"), ("ok", "evidence"), "one step of a fault that acts in steps"),
    "heal-started": Kind((HARNESS,), _FAULT, ("interrupted",), "the heal begins (``interrupted``: on a Ctrl-C or SIGTERM)"),
    "fault-healed": Kind((HARNESS,), _FAULT, ("evidence", "restored"), "the heal proven"),
    "heal-failed": Kind((HARNESS,), _FAULT, ("evidence", "restored"), "the heal could not be proven"),
    "upgrade-step": Kind((HARNESS,), ("role", "step"),
                         ("answered", "image", "lease_bytes", "partner", "partner_state", "result", "state", "states",
                          "suite", "text", "took_s", "versions"), "one step of a rolling upgrade"),
    "peer-link-flap": Kind((HARNESS,), ("n", "phase"), ("cut_s", "held_s"), "one cut or heal of a flapping peer link"),
    "peer-link-loss": Kind((HARNESS,), ("fault", "percent"), ("primary", "secondary"), "the peer link's drop counters"),
    "peer-link-rejected": Kind((HARNESS,), ("fault",), ("primary", "secondary"), "peer-link packets refused (TCP reset)"),
    "peer-link-retransmissions": Kind((HARNESS,), ("when",), ("primary", "secondary"), "TCP retransmissions on the peer link"),
    "policer-counters": Kind((HARNESS,), ("dropped",), ("at",), "a bandwidth cap's drop counters"),
    "status-round-trips": Kind((HARNESS,), ("sender", "target", "phase", "samples"), ("median_ms",),
                               "HA status round trips timed across the peer link"),
    "exchange-latency": Kind((HARNESS,), ("target",), ("before_ms", "during_ms"), "a server's reply latency before and during"),
    "relay-stats": Kind((HARNESS,), ("stats",), (), "the relay's own counters (a delaying relay's held_ms each way)"),
    "cpu-neighbour": Kind((HARNESS,), ("target", "running"), ("pid",),
                          "the busy loop slow-primary runs beside a daemon the CPU quota alone does not slow"),
    "storage": Kind((SERVER,), ("state",), ("available_kib", "dd", "df", "line", "path"), "a server's lease storage"),
    "lease-file-truncated": Kind((SERVER,), ("path", "records_before", "records_after"),
                                 ("bytes_before", "bytes_after", "removed", "read_back_matches", "since"),
                                 "a crash's lost tail: the last records cut from a lease file"),
    "certificate-replaced": Kind((SERVER,), ("path", "sha256"), ("copied_from",),
                                 "a server's TLS certificate swapped for an expired copy"),
    "clock-set": Kind((SERVER,), ("offset",), (), "a server's clock skewed by this many seconds"),
    "clock-offset": Kind((SERVER,), ("offset",), (), "a server's clock read back against the host's"),
    "database-ready": Kind((DATABASE,), ("role", "database", "address", "port", "name"),
                           ("user", "schema_version", "kea_admin", "server", "db_init"),
                           "a SQL lease database up, its schema made by the suite's kea-admin db-init"),
    "database": Kind((DATABASE, SERVER), ("state",), ("server", "exit", "said", "line", "dropped", "connect",
                                                      "from_address"),
                     "a lease database stopped, blackholed, lost (the daemon's words) or started again"),
    # -- the lab's engine watch (lab.EngineWatch) -------------------------------------------------------
    "engine-watch": Kind((ENGINE,), ("every_s", "silence_s"), (), "the engine watch began"),
    "engine-ping": Kind((ENGINE,), (), (), "the engine answered"),
    "engine-unreachable": Kind((ENGINE,), ("error",), (), "the engine did not answer"),
    "engine-back": Kind((ENGINE,), ("down_s",), (), "the engine answered again"),
    "engine-changed": Kind((ENGINE,), ("was", "now"), (), "another engine answered than the one the lab is on"),
    "container-event": Kind((ENGINE,), ("action",), ("name", "role", "exit_code", "signal"),
                            "a container died, was killed, paused, ... (the engine's own event)"),
    "container-state": Kind((ENGINE,), ("role", "status"), ("exit_code", "finished_at", "started_at"),
                            "a container's state read from the engine"),
    # -- servers: their logs and lease files (servers/) -------------------------------------------------
    "ha-state": Kind((SERVER,), ("from", "to"), ("partner",), "a server's HA/failover state changed"),
    "ha-warning": Kind((SERVER,), ("line",), (), "a warning the server logged"),
    "ha-command": Kind((SERVER,), ("command",), (), "an HA command the server received"),
    "lease-sync-start": Kind((SERVER,), ("partner",), ("thread",), "a lease sync from the partner began"),
    "lease-sync-page": Kind((SERVER,), ("leases", "partner"), ("thread",), "one page of a lease sync"),
    "lease-sync-done": Kind((SERVER,), ("partner", "took"), ("thread",), "a lease sync finished"),
    "lease-backlog": Kind((SERVER,), ("phase",), ("updates",), "updates queued for a partner that was away"),
    "service-disabled": Kind((SERVER,), ("by",), ("state",), "the server stopped answering clients"),
    "service-enabled": Kind((SERVER,), ("by",), ("state",), "the server answers clients again"),
    "pool-exhausted": Kind((SERVER,), ("line",), (), "the server had no address to give"),
    "pool-owners": Kind((SERVER,), ("own", "partner"), (), "which addresses each failover peer owns"),
    "server-dropped": Kind((SERVER,), ("code",), ("mac", "xid"), "the server logged a query it dropped"),
    "peer-tls": Kind((SERVER,), ("from", "url"),
                     ("protocol", "cipher", "verify", "server_cert", "server_cert_expires", "http_status", "state",
                      "refused", "error", "cleartext", "client_cert", "probe_exit"),
                     "what a TLS handshake to a server's HA listener showed (servers/kea.TLS_FACTS)"),
    "tls-refused": Kind((SERVER,), ("peer", "reason"), (), "a TLS handshake with the peer failed"),
    "server-log": Kind((SERVER,), ("container", "lines", "parsed"), (), "a server's log read (lines, lines understood)"),
    "log-incomplete": Kind((SERVER,), ("container",), ("kinds", "first_kept"), "the engine kept only the log's tail"),
    "lease-file": Kind((SERVER,), ("path", "read"),
                       ("bytes", "records", "rows", "not_understood", "unread", "torn", "torn_rows", "error"),
                       "a lease file read after the drill (or why it could not be)"),
    "lease-record": Kind((SERVER,), ("ip", "mac", "start", "end"), ("deleted", "end_late", "replayed", "ends"),
                         "one binding a server's lease file holds"),
    "lease-grant": Kind((SERVER,), ("ip", "mac", "cltt"), ("ends", "tsfp"), "a grant a dhcpd lease file records"),
    "backup-lease": Kind((SERVER,), ("ip", "mac", "start", "end"), ("deleted", "end_late", "replayed", "ends"),
                         "one binding the HA backup's lease file holds"),
    # -- the simulated clients (agent.py, in the client container) --------------------------------------
    "agent-start": Kind((CLIENTS,), ("clients", "iface"), ("engine", "links", "mac")),
    "agent-stop": Kind((CLIENTS,), ("reason",), ("clients", "max_rss_kb", "rx_dropped", "sent")),
    "bench": Kind((CLIENTS,), (), ("*",), "the engine benchmark's counts (scripts/bench_clients.py)"),
    "client": Kind((CLIENTS,), ("client", "mac", "role"), ("subnet", *CLIENT_KIND), "a simulated client was created"),
    "send": Kind((CLIENTS,), ("client", "mac", "msg", "xid", "secs", "state"), ("dst", "ciaddr", *CLIENT_KIND),
                 "a client sent a message"),
    "recv": Kind((CLIENTS,), ("client", "mac", "msg", "xid", "server_id"),
                 ("yiaddr", "src_ip", "src_mac", "lease_time", "renewal_time", "rebinding_time", "udp_checksum_ok",
                  "expected", "state", *CLIENT_KIND), "a client received a reply"),
    "bound": Kind((CLIENTS,), ("client", "mac", "ip", "server_id"), ("how", "lease_time", "secs_waited", *CLIENT_KIND),
                  "a client holds an address"),
    "lease-lost": Kind((CLIENTS,), ("client", "mac", "why"), ("ip", *CLIENT_KIND), "a client lost or gave up its address"),
    "lease-resumed": Kind((CLIENTS,), ("client", "mac", "ip"), ("why", *CLIENT_KIND), "a client kept an unexpired lease"),
    "nak-ignored": Kind((CLIENTS,), ("client", "mac"), ("server_id", "state", *CLIENT_KIND), "a client kind ignored a NAK"),
    "fallback": Kind((CLIENTS,), ("client", "mac", "to"), ("state", *CLIENT_KIND), "a client fell back (e.g. link-local)"),
    "steady": Kind((CLIENTS,), ("leases",), ("probes",), "every client holds a lease: the drill may begin"),
    "steady-failed": Kind((CLIENTS,), ("unbound_count",), ("unbound",), "the clients never all leased"),
    "woken": Kind((CLIENTS,), ("clients",), ("rebind_after_s",), "clients told to renew now"),
    "rebooted": Kind((CLIENTS,), ("clients",), ("over_s", "yet_to_arrive"), "the boot storm's clients started over"),
    "settle-mark": Kind((CLIENTS,), (), (), "from here the agent says when the population settles"),
    "settled": Kind((CLIENTS,), ("since",), ("holding",), "every client of the population holds a lease"),
    # -- DHCPv6 (drill6.py, agent6.py, servers/kea6.py; issue 30) -------------------------------------------
    "v6-lab": Kind((HARNESS,), ("pair", "image", "run_id", "plan", "subnet6", "peer_subnet"), (),
                   "the v6 lab as built: the clients' /64, the IPv4 peer link, the v6 agent's plan"),
    "v6-lab-check": Kind((SERVER, CLIENTS), ("check", "values"), (),
                         "a container's accept_ra (all, default, eth0), read back before the fault"),
    "server-duid": Kind((SERVER,), ("duid",), (), "a kea-dhcp6 server's own DUID (its kea-dhcp6-serverid file)"),
    "lease6-record": Kind((SERVER,), ("row",), ("lease", "type", "duid", "iaid", "start", "expire", "valid", "state",
                                                "unread"), "a row of kea-leases6.csv (an address or a prefix)"),
    "v6-send": Kind((CLIENTS,), ("client", "msg", "xid", "elapsed", "try", "server", "addresses", "prefixes"), (),
                    "a DHCPv6 client message sent (Elapsed Time in hundredths)"),
    "v6-send-error": Kind((CLIENTS,), ("client", "msg", "error"), (), "a DHCPv6 message the socket refused"),
    "v6-recv": Kind((CLIENTS,), ("client", "msg", "xid", "server", "status", "ia_status", "addresses", "prefixes",
                                 "sender", "answers"), (), "an Advertise or Reply for a client's exchange"),
    "v6-unparsed": Kind((CLIENTS,), ("error", "sender"), (), "a reply scapy could not parse"),
    "v6-bound": Kind((CLIENTS,), ("client", "via", "addresses", "prefixes", "server", "t1", "t2", "valid", "elapsed"),
                     (), "a client holds addresses and prefixes from a server (Request, Renew or Rebind answered)"),
    "v6-refused": Kind((CLIENTS,), ("client", "msg", "status", "ia_status"), (), "a Reply without the lease asked for"),
    "v6-gave-up": Kind((CLIENTS,), ("client", "msg", "why"), (), "an exchange ran out of retransmissions"),
    "v6-lost": Kind((CLIENTS,), ("client", "why", "addresses", "prefixes", "server"), (),
                    "a client no longer holds these (expired, released, changed)"),
    "v6-held": Kind((CLIENTS,), ("client", "addresses", "prefixes", "server"), (), "what a client held when the agent stopped"),
    # -- real clients (realclients.py) ------------------------------------------------------------------
    "real-client": Kind((REAL_CLIENT,), ("client", "package", "image"),
                        ("docker_address", "every_s", "role", "subnets", "mac"), "a real DHCP client daemon started"),
    "address-sample": Kind((REAL_CLIENT,), ("addrs",), (), "the addresses on a real client's interface"),
    "samples-read": Kind((REAL_CLIENT,), ("count",), ("error",), "how many samples were read back"),
    "client-log": Kind((REAL_CLIENT,), ("line",), (), "a line of a real client's own log"),
    "client-lease-file": Kind((REAL_CLIENT,), ("path", "read"), ("text", "error"), "a real client's own lease file"),
}


def source_allowed(kind: Kind, source: str) -> bool:
    return any(source == s or (s == SERVER and source in SERVER_ROLES) or
               (s == DATABASE and source.startswith(DATABASE + "-") and source[len(DATABASE) + 1:].isdigit()) or
               (s == REAL_CLIENT and source.startswith(REAL_CLIENT + ":")) for s in kind.sources)


def problems(events: Iterable[Event]) -> list[str]:
    """How events depart from ``KINDS``, one line per (kind, problem) with a count; empty when they agree."""
    found: Counter[str] = Counter()
    for e in events:
        kind = KINDS.get(e.kind)
        if kind is None:
            found[f"{e.kind}: a kind no code declares (dhcpdrill/events.py)"] += 1
            continue
        if not source_allowed(kind, e.source):
            found[f"{e.kind}: written by {e.source!r}, not by {' or '.join(kind.sources)}"] += 1
        for name in kind.required:
            if name not in e.data:
                found[f"{e.kind}: lacks its field {name!r}"] += 1
        if "*" not in kind.optional:
            for name in e.data.keys() - kind.fields:
                found[f"{e.kind}: holds a field no code declares, {name!r}"] += 1
    return [f"{line} ({n} event{'s' if n != 1 else ''})" for line, n in sorted(found.items())]
