import pytest

from dhcpdrill.images import apt_sources, image_tag, packages
from dhcpdrill.problems import LabError


def host(tmp_path, os_release: str, files: dict[str, str]):
    (tmp_path / "apt/sources.list.d").mkdir(parents=True)
    (tmp_path / "os-release").write_text(os_release)
    for name, text in files.items():
        (tmp_path / "apt" / name).write_text(text)
    return tmp_path


DEB822 = """Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: https://thirdparty.example/apt
Suites: nodistro
Components: main
"""


def test_host_debian_sources_are_retargeted_to_the_image_suite_and_third_parties_skipped(tmp_path):
    etc = host(tmp_path, 'VERSION_CODENAME=bookworm\n', {
        "sources.list.d/debian.sources": DEB822,
        "sources.list.d/cloud.list": "deb https://cloud.example/apt cloud-sdk-bookworm main\n",
    })
    assert apt_sources("trixie", etc=etc) == [
        "deb http://mirror.example/debian trixie main",
        "deb http://mirror.example/debian trixie-updates main",
        "deb http://security.example/debian-security trixie-security main",
    ]


def test_one_line_sources_with_options_are_read(tmp_path):
    etc = host(tmp_path, 'VERSION_CODENAME="bookworm"\n',
               {"sources.list": "# c\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main\n"
                                "deb-src http://m.example/debian bookworm main\n"})
    assert apt_sources("bookworm", etc=etc) == ["deb http://m.example/debian bookworm main"]


def test_no_debian_sources_is_a_clear_error(tmp_path):
    etc = host(tmp_path, "ID=fedora\n", {})
    with pytest.raises(LabError, match="--apt-mirror"):
        apt_sources("bookworm", etc=etc)


def test_a_named_mirror_wins():
    assert apt_sources("bookworm", mirror="http://m.example/debian")[0] == "deb http://m.example/debian bookworm main"


def test_image_tag_follows_the_recipe_and_suite():
    assert image_tag("bookworm") != image_tag("trixie")
    assert image_tag("bookworm").startswith("dhcpdrill/lab:bookworm-")
    assert "kea-dhcp4-server" in packages() and "python3-scapy" in packages()


def test_forky_images_carry_no_isc_dhcp_and_other_suites_do():
    assert "isc-dhcp-server" in packages("bookworm") and "isc-dhcp-server" in packages("trixie")
    assert "isc-dhcp-server" not in packages("forky") and "kea-dhcp4-server" in packages("forky")
    assert image_tag("forky") != image_tag("trixie")
