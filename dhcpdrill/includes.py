"""Configs that include other files, read as the server reads them: the included text in place.

Kea writes ``<?include "subnets4.json"?>`` anywhere in its JSON; dhcpd writes
``include "/etc/dhcp/failover.conf";`` as a statement. A pair folder must hold everything, so a
relative name is looked up beside the including file and an absolute one under the pair folder,
as a mirror of the server's file system: ``/etc/kea/subnets4.json`` is
``<pair>/etc/kea/subnets4.json`` (``dhcpdrill-import`` copies them there). A config in a folder of
its own (``<pair>/primary/dhcpd.conf``, when each server brought its own copy of /etc) has its own
mirror there (``<pair>/primary/etc/dhcp/dhcpd.failover.conf``). The lab's copy of a config is the
expanded text, so the containers need no included files.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .problems import PairError, Problem

KEA = re.compile(r'<\?include\s+"([^"]+)"\s*\?>')
ISC = re.compile(r'^[ \t]*include[ \t]+"([^"]+)"[ \t]*;', re.M)
PATTERNS = (KEA, ISC)
MAX_DEPTH = 10


def resolve(name: str, including: Path, root: Path) -> Path:
    """Where an included file lives in the pair folder ``root``."""
    p = PurePosixPath(name)
    return root.joinpath(*p.parts[1:]) if p.is_absolute() else including.parent / name


def expanded(path: Path, pattern: re.Pattern, root: Path | None = None) -> tuple[str, list[Path]]:
    """The config's text with every include replaced by the included text (recursively), and the
    files it included. A missing, looping or escaping include raises ``PairError`` naming the file,
    the line and where the file was looked for."""
    return _expand(path, pattern, root or path.parent, ())


def _expand(path: Path, pattern: re.Pattern, root: Path, chain: tuple[Path, ...]) -> tuple[str, list[Path]]:
    text = path.read_text()
    files: list[Path] = []

    def substitute(m: re.Match) -> str:
        name, line = m.group(1), text.count("\n", 0, m.start()) + 1
        target = resolve(name, path, root)
        where = f'line {line}: include "{name}"'
        if not target.resolve().is_relative_to(root.resolve()):
            raise PairError([Problem(str(path), where, "resolves outside the pair folder",
                                     "copy the file into the pair folder and include it by a relative name")])
        if target.resolve() in (p.resolve() for p in (*chain, path)) or len(chain) >= MAX_DEPTH:
            raise PairError([Problem(str(path), where, "includes itself (directly or through other files)",
                                     "break the include loop")])
        if not target.is_file():
            raise PairError([Problem(str(path), where, f"is not in the pair folder (looked for {target})",
                                     f"copy the file to {target}: absolute include paths are looked up under the "
                                     "pair folder, relative ones beside the including file")])
        inner, more = _expand(target, pattern, root, (*chain, path))
        files.extend([target, *more])
        return inner

    return pattern.sub(substitute, text), files


def included_files(path: Path, root: Path) -> list[Path]:
    """Every file ``path`` includes that exists (either server's syntax), for hashing and copying;
    missing ones are reported when the config is loaded."""
    out: list[Path] = []
    todo, seen = [path], set()
    while todo:
        current = todo.pop()
        if current.resolve() in seen or not current.is_file():
            continue
        seen.add(current.resolve())
        text = current.read_text(errors="replace")
        for pattern in PATTERNS:
            for m in pattern.finditer(text):
                target = resolve(m.group(1), current, root)
                if target.is_file() and target.resolve().is_relative_to(root.resolve()):
                    out.append(target)
                    todo.append(target)
    return sorted(set(out))


@dataclass(frozen=True)
class Copy:
    """A copy of one server's file system, or of part of it, on the importing machine: what the
    server has under ``prefix`` (``/etc`` for ``--etc``, ``/`` for ``--root``) is under ``folder``."""

    prefix: str
    folder: Path

    @property
    def option(self) -> str:
        return "--root" if self.prefix == "/" else "--etc"

    def source(self, name: str) -> Path | None:
        """Where the copy holds the server's absolute path ``name``; None when it is outside ``prefix``."""
        path, prefix = PurePosixPath(name), PurePosixPath(self.prefix)
        if path != prefix and prefix not in path.parents:
            return None
        return self.folder.joinpath(*path.relative_to(prefix).parts)

    def __str__(self) -> str:
        return f"{self.option} {self.folder} (the server's {self.prefix})"


@dataclass(frozen=True)
class Copied:
    """One included file the importer copied into the pair folder, and from where."""

    name: str  # as the include statement writes it
    including: Path  # the file whose include named it, where it was read
    source: Path
    target: Path
    copy: Copy | None = None

    def describe(self, root: Path) -> str:
        """``source -> place in the pair folder (which include named it, and from which copy)``."""
        here = self.target.relative_to(root).as_posix() if self.target.is_relative_to(root) else self.target
        taken = f", read from {self.copy}" if self.copy else ""
        return f'{self.source} -> {here} (include "{self.name}" in {self.including.name}{taken})'


def copy_included(src: Path, dst: Path, root: Path, copy: Copy | None = None) -> list[Copied]:
    """Copy what the production config ``src`` includes, read where the server would find it
    (absolute names in ``copy`` when given, else as they are on this machine; relative ones beside
    the including file), to where the pair folder ``root`` holds them for its copy ``dst``, nested
    includes too. A file not found raises ``ValueError`` naming the include, the file and the fix."""
    import shutil
    copied: list[Copied] = []
    text = src.read_text(errors="replace")
    for pattern in PATTERNS:
        for m in pattern.finditer(text):
            name = m.group(1)
            where = f'{src}: line {text.count(chr(10), 0, m.start()) + 1}: include "{name}"'
            target = resolve(name, dst, root)
            if not PurePosixPath(name).is_absolute():
                source = src.parent / name
                how, fix = "relative names are read beside the including file", f"put the server's {name} there"
            elif copy is None:
                source = Path(name)
                how = "absolute names are read on this machine"
                fix = ("give --etc DIR, a copy of that server's /etc (or --root DIR, of its /), and the importer "
                       "reads it there")
            else:
                found = copy.source(name)
                if found is None:
                    raise ValueError(f"{where}: {name} is outside the copy given ({copy}): give --root DIR, a copy "
                                     "of that server's whole file system, instead")
                source, how, fix = found, f"read from {copy}", f"copy the server's {name} there"
            if not source.is_file():
                raise ValueError(f"{where}: no file at {source} ({how}): {fix}, then import again")
            if any(c.target == target for c in copied) or target.resolve() == dst.resolve():
                continue
            if target.is_file() and target.read_bytes() != source.read_bytes():
                raise ValueError(f"{where}: the other server's config includes a different file under the same name "
                                 f"({target}): the pair folder holds one; give each server's copy of /etc (--etc "
                                 "A_ETC --etc B_ETC) so each keeps its own, or give both servers the same file")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied.append(Copied(name, src, source, target, copy if PurePosixPath(name).is_absolute() else None))
            copied += copy_included(source, target, root, copy)
    return copied
