"""Where each Kea version puts the files a config names, and what it refuses, in its own words.

The harness reads the lease file and talks to the control socket, so it must find them where the
daemon put them: a name without a directory (``"socket-name": "kea4-ctrl-socket"``, as Debian's
packaged kea-dhcp4.conf for 2.6 and 3.0 writes it; ``"library": "libdhcp_ha.so"``) is placed by
the daemon, differently per version. Every row below was measured by starting kea-dhcp4 in the
lab images (2026-12-07); ``tests/integration/test_kea_paths.py`` starts the real daemons again
and checks each row, and ``tests/unit/test_kea_paths.py`` the harness's reading of them.

Kea 2.6.3 and 3.0.4 (trixie, forky; CVE-2025-32801): a name is trimmed, and the part before its
last ``/`` must be exactly the default directory. A bare name goes into that directory; any other
directory, ``.``, a relative one (``kea/``) or a doubled slash (``/run/kea//x``: parent
``/run/kea/``) is refused.

Kea 2.2.0 (bookworm) checks no directory: a relative socket or lease name is opened relative to
its working directory, ``/`` under Debian's kea-dhcp4-server.service, whose user _kea may not
write there (measured as _kea in ``/``: refused; as root it would bind ``/kea4-ctrl-socket``, which
no production server does), and a hooks library not given by its full path is handed to the
dynamic linker, which does not search Kea's hooks directory.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

HOOKS_DIR = "/usr/lib/x86_64-linux-gnu/kea/hooks"
DEFAULT_DIRS = {"lease file": "/var/lib/kea", "log file": "/var/log/kea", "control socket": "/run/kea",
                "hooks library": HOOKS_DIR}
KINDS = tuple(DEFAULT_DIRS)
VERSIONS = {"bookworm": "2.2.0", "trixie": "2.6.3", "forky": "3.0.4"}
RESTRICTED = ("trixie", "forky")  # 2.6.3 and later: the default directories only
WORKDIR = "/"  # the daemon's working directory: systemd's default for Debian's unit, and the lab's
LOG_DESTINATIONS = ("stdout", "stderr", "syslog")  # logger outputs that are not files ("syslog:name" too)

# The daemon's words per kind (2.6.3 and 3.0.4 alike), with where each is caught: some only when
# the daemon opens the file at start, which ``kea-dhcp4 -t`` never does.
REFUSED = {
    # DHCP4_PARSER_COMMIT_FAIL (2.6.3, at start) / DHCP4_PARSER_FAIL (3.0.4, also under -t):
    "control socket": "'socket-name' is invalid: invalid path specified: '{parent}', supported path is '{dir}'",
    # DHCPSRV_MEMFILE_FAILED_TO_OPEN, at start only:
    "lease file": "Could not open lease file: invalid path specified: '{parent}', supported path is '{dir}'",
    # COMMAND_PROCESS_ERROR2, at start only:
    "log file": "invalid path in `output`: invalid path specified: '{parent}', supported path is '{dir}'",
    # DHCP4_PARSER_FAIL, at start and under -t:
    "hooks library": "hooks library configuration error: invalid path specified: '{parent}', supported path is '{dir}'",
}
CAUGHT_BY_CHECK = {"trixie": ("hooks library",), "forky": ("hooks library", "control socket")}
# Kea 2.2.0 (HOOKS_OPEN_ERROR, at start and under -t): dlopen() of a name without a slash searches
# the linker's paths only; a relative one with a slash is opened from the working directory.
# A relative socket or lease file, run as Debian's unit runs it (user _kea, working directory /),
# at start only (DHCP4_PARSER_COMMIT_FAIL, DHCP4_CONFIG_LOAD_FAIL).
REFUSED_22 = {
    "hooks library": "failed to open hook library {name}: {name}: cannot open shared object file: No such file or directory",
    "control socket": "cannot create socket lockfile, {name}.lock, : Permission denied",
    "lease file": "Unable to open database: unable to open '{name}'",
}


@dataclass(frozen=True)
class Placed:
    """Where the daemon of one version puts or finds a file the config names, or its refusal."""

    path: str | None
    refusal: str = ""  # the daemon's own words when it will not start with the name
    by_check: bool = False  # whether ``kea-dhcp4 -t`` already says so (else only the start does)


def kea_parent(name: str) -> str | None:
    """The directory part of a name as Kea reads it (``isc::util::file::Path``): everything before
    the trimmed name's last ``/``, unnormalised; None for a bare name."""
    text = name.strip()
    cut = text.rfind("/")
    return None if cut < 0 else text[:cut]


def place(suite: str, kind: str, name: str) -> Placed:
    """Where ``suite``'s kea-dhcp4 puts (socket, lease file, log file) or looks for (hooks
    library) ``name``, as measured in the lab images, or its refusal in its own words."""
    directory = DEFAULT_DIRS[kind]
    if suite in RESTRICTED:
        text = name.strip()
        parent, filename = kea_parent(text), text[text.rfind("/") + 1:]
        if not filename:  # the kind's own prefix, then Kea's words for it
            prefix = REFUSED[kind][:REFUSED[kind].index("invalid path specified")]
            return Placed(None, f"{prefix}path: '{text}' has no filename", kind in CAUGHT_BY_CHECK[suite])
        if parent is not None and parent != directory:
            return Placed(None, REFUSED[kind].format(parent=parent, dir=directory), kind in CAUGHT_BY_CHECK[suite])
        return Placed(f"{directory}/{filename}")
    if name.startswith("/") or kind not in REFUSED_22:
        return Placed(name if name.startswith("/") else str(PurePosixPath(WORKDIR, name)))
    return Placed(None, REFUSED_22[kind].format(name=name), kind == "hooks library")


def is_log_file(output: str) -> bool:
    """Whether a logger output is a file (not stdout, stderr, syslog or syslog:name)."""
    return output not in LOG_DESTINATIONS and not output.startswith("syslog:")
