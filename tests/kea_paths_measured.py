"""What kea-dhcp4 did with each name, started in the lab images (2026-12-07) as Debian's
kea-dhcp4-server.service starts it (user _kea, working directory ``/``, its directories owned by
_kea): where it put the file, or its refusal in its own words and whether ``kea-dhcp4 -t``
already refused. ``tests/unit/test_kea_paths.py`` holds the
harness to this table; ``tests/integration/test_kea_paths.py`` starts the real daemons on it again.

A row: (suite, kind, name as written, where the file was found, the daemon's words, refused by -t).
"""
from __future__ import annotations

from dhcpdrill.servers.kea_paths import HOOKS_DIR

SOCKET, LEASES, LOG, HOOK = "control socket", "lease file", "log file", "hooks library"
Row = tuple[str, str, str, str | None, str, bool]

# Kea 2.6.3 (trixie) and 3.0.4 (forky): the same rules and words in both; 3.0.4's -t also
# refuses a socket name (2.6.3 refuses it only when it starts).
RESTRICTED_ROWS: list[tuple[str, str, str | None, str, dict[str, bool]]] = [
    (SOCKET, "kea4-ctrl-socket", "/run/kea/kea4-ctrl-socket", "", {}),
    (SOCKET, "/run/kea/kea4-ctrl-socket ", "/run/kea/kea4-ctrl-socket", "", {}),  # trimmed
    (SOCKET, "./kea4-ctrl-socket", None,
     "'socket-name' is invalid: invalid path specified: '.', supported path is '/run/kea'",
     {"trixie": False, "forky": True}),
    (SOCKET, "kea/kea4-ctrl-socket", None,
     "'socket-name' is invalid: invalid path specified: 'kea', supported path is '/run/kea'",
     {"trixie": False, "forky": True}),
    (SOCKET, "/run/kea//kea4-ctrl-socket", None,
     "'socket-name' is invalid: invalid path specified: '/run/kea/', supported path is '/run/kea'",
     {"trixie": False, "forky": True}),
    (SOCKET, "/tmp/kea4-ctrl-socket", None,
     "'socket-name' is invalid: invalid path specified: '/tmp', supported path is '/run/kea'",
     {"trixie": False, "forky": True}),
    (SOCKET, "/run/kea/", None, "'socket-name' is invalid: path: '/run/kea/' has no filename",
     {"trixie": False, "forky": True}),
    (LEASES, "kea-leases4.csv", "/var/lib/kea/kea-leases4.csv", "", {}),
    (LEASES, "/var/lib/kea/", None, "Could not open lease file: path: '/var/lib/kea/' has no filename", {}),
    (LEASES, "./kea-leases4.csv", None,
     "Could not open lease file: invalid path specified: '.', supported path is '/var/lib/kea'", {}),
    (LEASES, "/srv/dhcp/kea-leases4.csv", None,
     "Could not open lease file: invalid path specified: '/srv/dhcp', supported path is '/var/lib/kea'", {}),
    (LEASES, "/var/lib/kea/leases/kea-leases4.csv", None,
     "Could not open lease file: invalid path specified: '/var/lib/kea/leases', supported path is '/var/lib/kea'", {}),
    (HOOK, "libdhcp_ha.so", f"{HOOKS_DIR}/libdhcp_ha.so", "", {}),
    (HOOK, "./libdhcp_ha.so", None,
     f"hooks library configuration error: invalid path specified: '.', supported path is '{HOOKS_DIR}'",
     {"trixie": True, "forky": True}),
    (HOOK, "/opt/kea/hooks/libdhcp_ha.so", None,
     f"hooks library configuration error: invalid path specified: '/opt/kea/hooks', supported path is '{HOOKS_DIR}'",
     {"trixie": True, "forky": True}),
    (LOG, "kea-dhcp4.log", "/var/log/kea/kea-dhcp4.log", "", {}),
    (LOG, "/var/log/kea-dhcp4.log", None,
     "invalid path in `output`: invalid path specified: '/var/log', supported path is '/var/log/kea'", {}),
    (LOG, "./kea-dhcp4.log", None,
     "invalid path in `output`: invalid path specified: '.', supported path is '/var/log/kea'", {}),
]

MEASURED: list[Row] = [
    (suite, kind, name, found, words, by_check.get(suite, False))
    for suite in ("trixie", "forky") for kind, name, found, words, by_check in RESTRICTED_ROWS
] + [
    # Kea 2.2.0 (bookworm) checks no directory; a hooks library is handed to dlopen() as written, a
    # relative socket or lease file opened in the working directory /, where _kea may not write.
    ("bookworm", SOCKET, "kea4-ctrl-socket", None,
     "cannot create socket lockfile, kea4-ctrl-socket.lock, : Permission denied", False),
    ("bookworm", LEASES, "kea-leases4.csv", None, "Unable to open database: unable to open 'kea-leases4.csv'", False),
    ("bookworm", SOCKET, "/run/kea//kea4-ctrl-socket", "/run/kea//kea4-ctrl-socket", "", False),
    ("bookworm", SOCKET, "/tmp/kea4-ctrl-socket", "/tmp/kea4-ctrl-socket", "", False),
    ("bookworm", HOOK, f"{HOOKS_DIR}/libdhcp_ha.so", f"{HOOKS_DIR}/libdhcp_ha.so", "", False),
    ("bookworm", HOOK, "libdhcp_ha.so", None,
     "failed to open hook library libdhcp_ha.so: libdhcp_ha.so: cannot open shared object file: No such file or "
     "directory", True),
    ("bookworm", HOOK, "./libdhcp_ha.so", None,
     "failed to open hook library ./libdhcp_ha.so: ./libdhcp_ha.so: cannot open shared object file: No such file or "
     "directory", True),
]
