from dhcpdrill.lab import docker_time
from dhcpdrill.servers.kea import STATE_LINE, parse_memfile, strip_comments

HEADER = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"


def test_memfile_rows_become_bindings_and_later_rows_replace_earlier_ones():
    text = HEADER + "".join([
        "198.18.0.100,02:00:00:00:00:01,,60,1060,1,0,0,,0,\n",   # granted at 1000
        "198.18.0.100,02:00:00:00:00:01,,60,1080,1,0,0,,0,\n",   # renewed at 1020
        "198.18.0.101,02:00:00:00:00:02,,60,1070,1,0,0,,0,\n",   # granted at 1010
        "198.18.0.101,02:00:00:00:00:02,,0,1010,1,0,0,,0,\n",    # released: expire = cltt, no time of its own
        "198.18.0.101,02:00:00:00:00:03,,60,1100,1,0,0,,0,\n",   # re-leased to another client at 1040
    ])
    got = sorted((r["ip"], r["mac"], r["start"], r["end"], r.get("end_late")) for r in parse_memfile(text))
    assert got == [
        ("198.18.0.100", "02:00:00:00:00:01", 1000, 1020, None),
        ("198.18.0.100", "02:00:00:00:00:01", 1020, 1080, None),
        ("198.18.0.101", "02:00:00:00:00:02", 1010, 1010, 1070),  # ended somewhere before its expiry
        ("198.18.0.101", "02:00:00:00:00:03", 1040, 1100, None),
    ]


def test_memfile_reclaimed_row_ends_a_binding_at_its_expiry_and_junk_rows_are_skipped():
    text = HEADER + "198.18.0.100,02:00:00:00:00:01,,60,1060,1,0,0,,0,\nnot,a,row\n" \
                    "198.18.0.100,02:00:00:00:00:01,,60,1060,1,0,0,,2,\n"
    assert [(r["start"], r["end"]) for r in parse_memfile(text)] == [(1000, 1060)]
    assert parse_memfile("") == []


def test_a_release_row_as_kea_writes_it_never_erases_the_binding():
    """Rows as Kea 2.2 wrote them in a kill-primary drill here: four probes leased at 1591 and
    released 2 s later; their deletion rows carry expire = cltt and lifetime 0."""
    text = HEADER + "".join(
        [f"198.18.0.{105 + i},02:d4:20:93:ae:0{i},,60,1796039651,1,0,0,,0,\n" for i in range(4)]
        + [f"198.18.0.{105 + i},02:d4:20:93:ae:0{i},,0,1796039591,1,0,0,,0,\n" for i in range(4)]
        + [f"198.18.0.{109 + i},02:d4:20:93:ae:0{i},,60,1796039654,1,0,0,,0,\n" for i in range(4)])
    ended = [r for r in parse_memfile(text) if r["ip"] == "198.18.0.105"]
    assert ended == [{"ip": "198.18.0.105", "mac": "02:d4:20:93:ae:00", "start": 1796039591,
                      "end": 1796039591, "end_late": 1796039651, "deleted": True}]


def test_a_deletion_is_dated_by_the_clients_release_not_by_rows_of_another_clock():
    """Seen in a live load-balancing 35 s skew: the file's rows around a deletion included the
    skewed partner's lease updates, stamped 35 s ahead; dating the deletion by them made a
    released lease look held for 35 s more, and 37 addresses look doubly bound."""
    from dhcpdrill.timeline import Timeline
    from dhcpdrill.verdicts import server_bindings
    tl = Timeline()
    tl.add(100.0, "secondary", "lease-record", ip="198.18.1.153", mac="m8", start=100.0, end=100.0,
           end_late=160.0, deleted=True)
    tl.add(102.5, "clients", "lease-lost", client="probe-08", mac="m8", ip="198.18.1.153", why="released")
    (b,) = server_bindings(tl)
    assert (b.start, b.end, b.end_late) == (100.0, 102.5, None)
    tl2 = Timeline([e for e in tl.events if e.kind != "lease-lost"])
    (b,) = server_bindings(tl2)
    assert (b.end, b.end_late) == (100.0, 160.0)  # no release seen: only "possible" until its expiry


def test_kea_comments_are_stripped_but_urls_and_strings_survive():
    text = '{ // comment\n "url": "http://198.18.0.11:8001/", # hash\n /* block\n */ "x": "a#b//c" }'
    assert strip_comments(text).split() == ['{', '"url":', '"http://198.18.0.11:8001/",', '"x":', '"a#b//c"', '}']
    assert strip_comments('"esc\\"aped // not a comment"') == '"esc\\"aped // not a comment"'


def test_state_transitions_are_read_from_kea_log_lines():
    line = ("INFO  [kea-dhcp4.ha-hooks/1.1] HA_STATE_TRANSITION server transitions from HOT-STANDBY "
            "to PARTNER-DOWN state, partner state is UNDEFINED")
    assert STATE_LINE.search(line).groups() == ("HOT-STANDBY", "PARTNER-DOWN", "UNDEFINED")


def test_docker_log_timestamps_keep_sub_second_precision():
    assert docker_time("2026-11-28T02:04:00.581739488Z") - docker_time("2026-11-28T02:04:00Z") == \
        __import__("pytest").approx(0.581739488, abs=1e-6)


def test_the_daemons_own_last_error_is_named_before_the_containers_exit_line():
    from dhcpdrill.servers import ServerAdapter

    class Lab:
        containers = {"primary": object()}

        def log_lines(self, container):
            return [(0.0, "INFO  DHCPSRV_MEMFILE_LEASE_FILE_LOAD loading leases"),
                    (1.0, "ERROR [kea-dhcp4.dhcp4] DHCP4_INIT_FAIL failed to initialize Kea server: unable to open '/x'"),
                    (2.0, "INFO  HA_DEINIT_OK unloading"), (3.0, "server daemon exited with status 1")]
    assert ServerAdapter().last_error(Lab(), "primary") == (
        "ERROR [kea-dhcp4.dhcp4] DHCP4_INIT_FAIL failed to initialize Kea server: unable to open '/x' "
        "(then the daemon exited with status 1)")
    assert ServerAdapter().last_error(Lab(), "secondary") is None


def test_the_unix_control_socket_is_found_in_either_kea_shape():
    from dhcpdrill.servers.kea import unix_socket
    assert unix_socket({"control-socket": {"socket-type": "unix", "socket-name": "/run/kea/a"}}) == "/run/kea/a"
    assert unix_socket({"control-sockets": [{"socket-type": "http", "socket-port": 8000},
                                            {"socket-type": "unix", "socket-name": "/run/kea/b"}]}) == "/run/kea/b"
    assert unix_socket({"control-sockets": [{"socket-type": "http", "socket-port": 8000}]}) is None
    assert unix_socket({}) is None


def test_a_grant_older_than_the_files_earlier_grants_of_its_address_is_marked_replayed():
    text = HEADER + "".join([
        "198.18.0.100,02:00:00:00:00:01,,60,1060,1,0,0,,0,\n",   # granted at 1000
        "198.18.0.100,02:00:00:00:00:01,,0,1000,1,0,0,,0,\n",    # released
        "198.18.0.100,02:00:00:00:00:02,,60,1100,1,0,0,,0,\n",   # another client at 1040
        "198.18.0.100,02:00:00:00:00:01,,60,1060,1,0,0,,0,\n",   # the 1000 grant written again (a sync)
        "198.18.0.100,02:00:00:00:00:01,,60,1120,1,0,0,,0,\n",   # a real renewal at 1060: in order
    ])
    flags = [(r["mac"][-1], r["start"], bool(r.get("replayed"))) for r in parse_memfile(text)]
    assert flags == [("1", 1000, False), ("2", 1040, False), ("1", 1000, True), ("1", 1060, False)]
