"""Whether a lab container's log still holds its beginning (pure: the lines as Docker returned them)."""
from dhcpdrill.lab import docker_time, holds_first_start

# A dhcpd secondary's log as Docker returned it in CI (2026-12-01): stderr lines copied ahead of the
# start line printed on stdout before the daemon ran, and stamped earlier. Nothing was lost.
CI_DHCPD = """\
2026-12-01T20:52:53.445201416Z Internet Systems Consortium DHCP Server 4.4.3-P1
2026-12-01T20:52:53.445306883Z Copyright 2004-2022 Internet Systems Consortium.
2026-12-01T20:52:53.445554518Z All rights reserved.
2026-12-01T20:52:53.445561201Z For info, please visit https://www.isc.org/software/dhcp/
2026-12-01T20:52:53.445412221Z dhcpdrill: container start 1
2026-12-01T20:52:53.447021954Z Config file: /etc/dhcp/dhcpd.conf
"""


def lines(text: str) -> list[tuple[float, str]]:
    return [(docker_time(stamp), rest) for stamp, _, rest in (line.partition(" ") for line in text.splitlines())]


def test_a_start_line_behind_the_daemons_first_stderr_lines_is_still_a_whole_log():
    assert holds_first_start(lines(CI_DHCPD))


def test_a_log_without_its_first_start_is_not_whole_even_if_a_restart_is_there():
    rotated = [line for line in CI_DHCPD.splitlines() if "container start" not in line]
    restarted = "\n".join(rotated + ["2026-12-01T20:53:30.000000000Z dhcpdrill: container start 2"])
    assert not holds_first_start(lines(restarted))
    assert not holds_first_start([])
