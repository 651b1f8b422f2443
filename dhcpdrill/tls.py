"""Files a Kea config names for TLS between HA peers (trust anchor, certificate, private key),
carried from the pair folder into the lab.

A config names them by absolute path on the server (``"cert-file": "/etc/kea/tls/server1.crt"``),
in the HA relationship (this server's own credentials, for every peer) or per peer (a peer's
entry overrides the relationship's), and, from Kea 2.7, in an HTTP control socket. The pair
folder holds them as it holds included files, a mirror of the server's file system:
``/etc/kea/tls/server1.crt`` is ``<pair>/etc/kea/tls/server1.crt`` (``includes.resolve``). Each is
put into the server's container at the path the config names. A file the pair folder lacks is
refused before anything starts: the daemon would otherwise exit with "One or more hook libraries
failed to load" and name the file only in an earlier log line (``kea-dhcp4 -t`` on Kea 2.2 does
not notice).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .includes import resolve
from .problems import Problem

TLS_KEYS = ("trust-anchor", "cert-file", "key-file")
EXPIRED_DIR = "expired"  # a pair folder's expired copies of certificates, mirrored as the live ones are


def expired_copy(folder: Path, path: str) -> Path:
    """Where the pair ``folder`` keeps the expired copy of the certificate a server has at ``path``."""
    return resolve(path, folder / EXPIRED_DIR / "x", folder / EXPIRED_DIR)
HA_LIBRARY = "libdhcp_ha.so"


@dataclass(frozen=True)
class NamedFile:
    """One file a config names: the field naming it and the path on the server."""

    field: str
    path: str


def named_files(cfg: Any) -> list[NamedFile]:
    """Every TLS file a ``Dhcp4`` map names, in config order (the same file may appear under
    several fields)."""
    out: list[NamedFile] = []
    if not isinstance(cfg, dict):
        return out
    for i, hook in enumerate(cfg.get("hooks-libraries") or []):
        if not isinstance(hook, dict) or not str(hook.get("library", "")).endswith(HA_LIBRARY):
            continue
        relationships = (hook.get("parameters") or {}).get("high-availability") \
            if isinstance(hook.get("parameters"), dict) else None
        for j, rel in enumerate(relationships if isinstance(relationships, list) else []):
            if not isinstance(rel, dict):
                continue
            where = f"Dhcp4.hooks-libraries[{i}].parameters.high-availability[{j}]"
            out += _keys(rel, where)
            for peer in rel.get("peers") or []:
                if isinstance(peer, dict):
                    out += _keys(peer, f"{where}.peers[{peer.get('name')}]")
    sockets = cfg.get("control-sockets")
    for i, sock in enumerate(sockets if isinstance(sockets, list) else []):
        if isinstance(sock, dict):
            out += _keys(sock, f"Dhcp4.control-sockets[{i}]")
    return out


def _keys(table: dict, where: str) -> list[NamedFile]:
    return [NamedFile(f"{where}.{key}", table[key]) for key in TLS_KEYS
            if isinstance(table.get(key), str) and table[key]]


def uses_tls(cfg: Any) -> bool:
    return bool(named_files(cfg))


def carried(config: Path, cfg: Any, root: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Where each TLS file ``config`` names lives in the pair folder ``root``, keyed by the path in
    the server's container (a trust-anchor directory gives each file in it), and a problem for
    each one the pair folder cannot supply: its file, field, and where to put it."""
    files: dict[str, Path] = {}
    problems: list[Problem] = []
    for named in named_files(cfg):
        path = PurePosixPath(named.path)
        if not path.is_absolute():
            problems.append(Problem(str(config), named.field, f"{named.path!r} is a relative path (Kea opens it from "
                                    "its working directory, which the lab cannot know)",
                                    "give the absolute path the server uses, and put the file under the pair "
                                    f"folder at that path (e.g. {root.joinpath('etc/kea/tls', path.name)})"))
            continue
        mirror = resolve(named.path, config, root)
        if ".." in path.parts or not mirror.resolve().is_relative_to(root.resolve()):
            problems.append(Problem(str(config), named.field, f"{named.path!r} resolves outside the pair folder",
                                    "name the file by its plain absolute path on the server"))
        elif mirror.is_dir() and named.field.endswith("trust-anchor"):
            inside = sorted(p for p in mirror.iterdir() if p.is_file())
            if not inside:
                problems.append(Problem(str(config), named.field, f"the trust-anchor directory {named.path} is empty "
                                        f"in the pair folder ({mirror})",
                                        f"copy the server's CA certificates from {named.path} into {mirror}"))
            files.update({str(path / p.name): p for p in inside})
        elif not mirror.is_file():
            problems.append(Problem(str(config), named.field, f"{named.path} is not in the pair folder (looked for "
                                    f"{mirror}); the daemon would not start (\"One or more hook libraries failed to "
                                    "load\")",
                                    f"copy the server's {named.path} to {mirror}: files a config names by absolute "
                                    "path are looked up under the pair folder, as a copy of the server's file system"))
        else:
            files[named.path] = mirror
    return files, problems


def effective(rel: dict, peer_name: str) -> dict[str, str]:
    """The TLS settings a server uses toward the peer ``peer_name``: the peer entry's own
    trust-anchor, cert-file and key-file where it gives them, else the relationship's."""
    peer = next((p for p in rel.get("peers") or [] if isinstance(p, dict) and p.get("name") == peer_name), {})
    return {key: str(peer.get(key) or rel.get(key)) for key in TLS_KEYS if peer.get(key) or rel.get(key)}
