"""The lab image, built without a registry and cached by a hash of its recipe.

Default: ``mmdebstrap`` makes a Debian root filesystem from this host's own apt sources (or a
mirror the user names) and ``docker import`` turns it into an image. Users who can pull
``debian:<suite>`` may build the bundled Dockerfile instead. Either way the tag is
``dhcpdrill/lab:<suite>-<hash>``, so a changed recipe builds a new image and an unchanged one is
never rebuilt.

Two recipes share the Dockerfile: the lab image (``packages.txt``: servers, scapy clients, helpers)
and the real-clients image (``real-clients.txt``: dhclient, dhcpcd, busybox udhcpc, systemd-networkd), built only
when a drill runs real DHCP client daemons (``realclients.py``), so the servers' image stays as
it was and a default run never builds the second one.
"""
from __future__ import annotations

import functools
import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from typing import TYPE_CHECKING

from .problems import LabError, docker_errors

if TYPE_CHECKING:  # the engine's client is imported where an image is built or asked for, not with the recipe
    import docker

RECIPE = Path(__file__).parent / "image"

REPOSITORY = "dhcpdrill/lab"
BUILDERS = ("auto", "mmdebstrap", "dockerfile")
LAB, REAL_CLIENTS, DATABASES = "packages.txt", "real-clients.txt", "databases.txt"  # the recipes' package lists


SUITES = ("bookworm", "trixie", "forky")
# What each suite's lab image runs (read off the images built here, `kea-dhcp4 -V`, `dhcpd --version`).
SERVER_VERSIONS = {"bookworm": {"kea": "2.2.0", "isc-dhcp": "4.4.3-P1"},
                   "trixie": {"kea": "2.6.3", "isc-dhcp": "4.4.3-P1"},
                   "forky": {"kea": "3.0.4"}}
# Suites whose Release file on a mirror may be past its Valid-Until date (a testing suite that a
# mirror stopped refreshing): their metadata is still signed, only its freshness date is ignored.
STALE_OK = ("forky",)


def packages(suite: str = "bookworm", listing: str = LAB) -> list[str]:
    """The image's packages for ``suite``: ``name`` or ``name [suite suite]`` per line."""
    out = []
    for line in (RECIPE / listing).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, only = line.partition("[")
        if not only or suite in only.rstrip("]").split():
            out.append(name.strip())
    return out


def image_tag(suite: str, listing: str = LAB) -> str:
    """``dhcpdrill/lab:<suite>-<hash>`` (another listing's image: ``<suite>-real-clients-<hash>``,
    ``<suite>-databases-<hash>``)."""
    h = hashlib.sha256(suite.encode())
    for name in (listing, "Dockerfile"):
        h.update((RECIPE / name).read_bytes())
    kind = "" if listing == LAB else listing.removesuffix(".txt") + "-"
    return f"{REPOSITORY}:{suite}-{kind}{h.hexdigest()[:12]}"


def _os_codename(os_release: str) -> str:
    m = re.search(r"^VERSION_CODENAME=\"?([a-z]+)", os_release, re.M)
    return m.group(1) if m else ""


def _entries(text: str, deb822: bool) -> list[tuple[str, list[str]]]:
    """(URI, suites) of each binary ``deb`` source in a sources.list or deb822 .sources file."""
    found = []
    if deb822:
        for stanza in re.split(r"\n\s*\n", text):
            fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M))
            if "deb" in fields.get("Types", "").split() and fields.get("Enabled", "yes") != "no":
                for uri in fields.get("URIs", "").split():
                    found.append((uri, fields.get("Suites", "").split()))
    else:
        for line in text.splitlines():
            words = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
            if len(words) >= 3 and words[0] == "deb":
                found.append((words[1], [words[2]]))
    return found


def apt_sources(suite: str, mirror: str | None = None, etc: Path = Path("/etc")) -> list[str]:
    """``deb`` lines for ``suite``: the given mirror, or the host's own Debian sources retargeted.

    Only sources whose suites are the host's Debian release (and its -updates, -security, ...)
    are used, with that codename swapped for ``suite``: third-party repositories are skipped.
    """
    if mirror:
        return [f"deb {mirror} {suite} main", f"deb {mirror} {suite}-updates main"]
    release = etc / "os-release"
    codename = _os_codename(release.read_text()) if release.exists() else ""
    files = [(etc / "apt/sources.list", False), *[(p, False) for p in sorted((etc / "apt/sources.list.d").glob("*.list"))],
             *[(p, True) for p in sorted((etc / "apt/sources.list.d").glob("*.sources"))]]
    lines: list[str] = []
    for path, deb822 in files:
        if not path.is_file():
            continue
        for uri, suites in _entries(path.read_text(), deb822):
            for s in suites:
                if codename and (s == codename or s.startswith(codename + "-") or s.startswith(codename + "/")):
                    line = f"deb {uri} {suite}{s[len(codename):]} main"
                    if line not in lines:
                        lines.append(line)
    if not lines:
        raise LabError("found no Debian apt sources on this host to build the lab image from: "
                       "pass --apt-mirror URL (a Debian mirror) or set DHCPDRILL_APT_MIRROR")
    return lines


def ensure_image(client: docker.DockerClient, suite: str, builder: str = "auto", mirror: str | None = None,
                 listing: str = LAB) -> str:
    """Return the image's tag, building it first if this recipe was never built here."""
    tag = image_tag(suite, listing)
    try:
        client.images.get(tag)
        return tag
    except docker_errors().ImageNotFound:
        pass
    if builder == "auto":
        builder = "mmdebstrap" if shutil.which("mmdebstrap") else "dockerfile"
    if builder == "dockerfile":
        return _build_dockerfile(client, suite, tag, listing)
    return _build_mmdebstrap(client, suite, tag, mirror, listing)


def _build_mmdebstrap(client: docker.DockerClient, suite: str, tag: str, mirror: str | None,
                      listing: str = LAB) -> str:
    if not shutil.which("mmdebstrap"):
        raise LabError("mmdebstrap is not installed: `apt-get install mmdebstrap` (Debian/Ubuntu), "
                       "or build from the Dockerfile with --image-builder=dockerfile if you can pull debian:*")
    with tempfile.TemporaryDirectory(prefix="dhcpdrill-image-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        cmd = ["mmdebstrap", "--variant=apt", "--include=" + ",".join(packages(suite, listing)),
               "--aptopt=Acquire::Retries \"3\"",
               *(['--aptopt=Acquire::Check-Valid-Until "false"'] if suite in STALE_OK else []),
               suite, str(rootfs), *apt_sources(suite, mirror)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise LabError(f"mmdebstrap failed ({done.returncode}) building {tag}:\n{done.stderr[-3000:]}")
        repository, _, version = tag.partition(":")
        client.api.import_image_from_file(str(rootfs), repository=repository, tag=version)
    client.images.get(tag)
    return tag


def _build_dockerfile(client: docker.DockerClient, suite: str, tag: str, listing: str = LAB) -> str:
    try:
        client.images.build(path=str(RECIPE), tag=tag, rm=True, pull=False,
                            buildargs={"SUITE": suite, "PACKAGES": " ".join(packages(suite, listing))})
    except (docker_errors().BuildError, docker_errors().APIError) as exc:
        raise LabError(f"building {tag} from {RECIPE / 'Dockerfile'} failed ({exc}); without a registry "
                       "use the default mmdebstrap builder (`apt-get install mmdebstrap`)") from None
    return tag


VERSIONS = """
kea=$(command -v kea-dhcp4 >/dev/null && kea-dhcp4 -V 2>/dev/null | head -n 1)
dhcpd=$(command -v dhcpd >/dev/null && dhcpd --version 2>&1 | head -n 1)
echo "kea-dhcp4 ${kea:-not installed}"
echo "dhcpd ${dhcpd:-not installed}"
"""


@functools.lru_cache(maxsize=None)
def server_versions(engine, tag: str) -> str:
    """The exact server versions inside the image and its ID, as every report names them
    (e.g. "kea-dhcp4 2.2.0; dhcpd isc-dhcpd-4.4.3-P1; image sha256:…")."""
    code, out, err = engine.run_helper(["sh", "-c", VERSIONS], image=tag, run="check", network_mode="none",
                                       what=f"read the server versions in {tag}")
    try:
        image_id = engine.client.images.get(tag).id
    except docker_errors().DockerException as exc:
        raise LabError(f"could not read the image ID of {tag}: {exc}") from None
    if code != 0:
        raise LabError(f"could not read the server versions in {tag}: {err.strip()[-300:]}")
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    return "; ".join(lines + [f"image {image_id[:19]}"])
