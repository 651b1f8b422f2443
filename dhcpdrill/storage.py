"""Storage faults: a live server whose lease storage fails, and a crash that loses a lease file's tail.

``FillLeaseStorage``: the target's lease file lives on a size-limited tmpfs (given to its
container at creation, only in drills with this fault), which is filled while the daemon runs, so
every lease write fails with ENOSPC; healed by freeing the space. The daemon, its heartbeats and
its peer link are untouched: a gray failure. Proof: ``df`` at 0 bytes free, a write refused with
"No space left on device", and the daemon's own log line about a lease write that failed.

``TruncateLeaseTail``: the target is killed, the last ``records`` records of its lease file
(Kea memfile rows, dhcpd lease stanzas) are cut while it is down (Jepsen's truncate fault: what
a crash leaves when appends never reached the disk), then it is started. Proof: the file read
back before the start holds exactly the records before the cut minus the removed ones, each named.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from .faults import Fault, FaultContext, RestartServer, Sequence, _state
from .verdicts import dhcpd_time
from .waiting import NotReady, until

if TYPE_CHECKING:
    from .manifest import Pair
    from .servers import ServerAdapter

FILL = ".dhcpdrill-fill"
PROBE = ".dhcpdrill-probe"
# What each daemon says when a lease write fails (read in its own log after the fill):
# Kea 2.2/3.0 memfile (CSVFile), its allocation engine and packet processing; dhcpd's db.c.
WRITE_FAILED = re.compile(
    r"No space left on device|failed to write|unable to write|Unable to write|write_lease|"
    r"database update failed|unable to commit|CSVFileError|DHCPSRV_MEMFILE\S*(?:FAIL|ERROR)|"
    r"ALLOC_ENGINE_V4_ALLOC_ERROR|DHCP4_PACKET_PROCESS_EXCEPTION|DHCP4_PACKET_PROCESS_STD_EXCEPTION|"
    r"DHCP4_DECLINE_FAIL|DHCPSRV_\S+_FAILED|LEASE_\S*_FAIL")


def lease_dir(adapter: "ServerAdapter", pair: "Pair", role: str) -> str:
    return str(PurePosixPath(adapter.lease_path(pair, role)).parent)


def df(ctx: FaultContext, role: str, where: str) -> tuple[int | None, str]:
    """(KiB available, ``df`` line) of the filesystem at ``where`` in ``role``'s container."""
    code, out = ctx.container(role).exec_run(["df", "-k", where])
    line = out.decode(errors="replace").strip().splitlines()[-1] if out else ""
    fields = line.split()
    avail = int(fields[3]) if code == 0 and len(fields) >= 6 and fields[3].isdigit() else None
    return avail, " ".join(fields)


def try_write(ctx: FaultContext, role: str, where: str) -> tuple[bool, str]:
    """Can a new 4 KiB file be written at ``where`` (what a daemon's next lease row needs)?"""
    probe = f"{where}/{PROBE}"
    code, out = ctx.container(role).exec_run(
        ["sh", "-c", 'dd if=/dev/zero of="$1" bs=4096 count=1 conv=fsync 2>&1; r=$?; rm -f "$1"; exit $r',
         "probe", probe])
    said = out.decode(errors="replace").strip().splitlines()
    return code == 0, (said[0] if said else f"exit {code}")


@dataclass(frozen=True)
class FillLeaseStorage(Fault):
    """The target's lease filesystem (a ``size`` tmpfs) filled while its daemon serves: every lease
    write fails from then on; healed by deleting the filler. ``log_wait_s`` bounds the wait for
    the daemon's own complaint: it writes only when a client needs a lease (a partly used last page
    of the file takes a few more rows first)."""

    target: str = "primary"
    name: str = "storage-full"
    size: str = "2m"
    log_wait_s: float = 25.0

    def tmpfs(self, adapter: "ServerAdapter", pair: "Pair") -> dict[str, dict[str, str]]:
        return {self.target: {lease_dir(adapter, pair, self.target): f"size={self.size}"}}

    def _dir(self, ctx: FaultContext) -> str:
        return lease_dir(ctx.adapter, ctx.pair, self.target)

    def apply(self, ctx: FaultContext) -> None:
        where = self._dir(ctx)
        code, out = ctx.container(self.target).exec_run(
            ["sh", "-c", 'dd if=/dev/zero of="$1" bs=4096 2>&1; true', "fill", f"{where}/{FILL}"])
        avail, line = df(ctx, self.target, where)
        ctx.record(self.target, "storage", state="filled", path=where, available_kib=avail, df=line,
                   dd=out.decode(errors="replace").strip().splitlines()[:1])

    def verify(self, ctx: FaultContext) -> tuple[bool, str]:
        """Full (df, a refused write) and bitten (the daemon's own log says a lease write failed)."""
        where, since = self._dir(ctx), time.time()
        avail, line = df(ctx, self.target, where)
        wrote, said = try_write(ctx, self.target, where)
        if avail != 0 or wrote:
            return False, f"{where} is not full: df {line!r}; a 4 KiB write {'succeeded' if wrote else 'failed: ' + said}"
        applied = next((e.t for e in reversed(ctx.timeline.of("fault-applied")) if e.get("fault") == self.name),
                       since - 2.0) if ctx.timeline is not None else since - 2.0
        try:  # read at least once, then until the daemon complains or the wait is over
            complaint = until(lambda: next(((t, s.strip()) for t, s in ctx.lab.log_lines(ctx.container(self.target))
                                            if t >= applied and WRITE_FAILED.search(s)), None),
                              timeout=max(0.0, since + self.log_wait_s - time.time()), every=1.0,
                              what=f"{self.target}'s daemon to log a failed lease write")
        except NotReady:
            complaint = None
        full = f"{where} full (df: {line}; a 4 KiB write: {said})"
        if complaint is None:
            return False, f"{full}, but {self.target}'s daemon logged no failed lease write in {self.log_wait_s:g} s"
        ctx.record(self.target, "storage", state="write-failed", line=complaint[1][:300])
        return True, (f"{full}; {self.target}'s daemon logged, {complaint[0] - applied:+.1f} s after the fill: "
                      f"{complaint[1][:200]}")

    def heal(self, ctx: FaultContext) -> None:
        if _state(ctx, self.target).get("Running"):
            ctx.container(self.target).exec_run(["rm", "-f", f"{self._dir(ctx)}/{FILL}"])

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        where = self._dir(ctx)
        avail, line = df(ctx, self.target, where)
        wrote, said = try_write(ctx, self.target, where)
        ctx.record(self.target, "storage", state="freed", path=where, available_kib=avail, df=line)
        return bool(avail) and wrote, f"{where}: df {line}; a 4 KiB write {'succeeded' if wrote else 'failed: ' + said}"


# -- a lease file's tail -----------------------------------------------------------------------
LEASE_STANZA = re.compile(r"^lease\s+(\S+)\s*\{.*?^\}\n?", re.M | re.S)


def _began(expire: str | None, valid: str | None) -> float | None:
    try:
        return float(expire or "") - float(valid or "")
    except ValueError:
        return None


def records(text: str, kind: str) -> list[tuple[int, int, dict]]:
    """(start, end, what) of each record of a lease file, in file order: ``csv`` (a Kea memfile:
    every row after the header) or ``leases`` (dhcpd: every ``lease`` stanza; other statements
    such as the failover state are not records). ``what["began"]`` is when the record's binding
    state began (dhcpd's ``starts``, Kea's expire less its lifetime), epoch seconds or None: a
    record is written no earlier."""
    out = []
    if kind == "csv":
        pos, header = 0, None
        for line in text.splitlines(keepends=True):
            start, pos = pos, pos + len(line)
            cells = line.rstrip("\r\n").split(",")
            if header is None:
                header = cells
                continue
            if line.strip():
                row = dict(zip(header, cells))
                out.append((start, pos, {"ip": row.get("address"), "mac": row.get("hwaddr"),
                                         "valid_lifetime": row.get("valid_lifetime"), "expire": row.get("expire"),
                                         "state": row.get("state"),
                                         "began": _began(row.get("expire"), row.get("valid_lifetime"))}))
        return out
    if kind == "leases":
        for m in LEASE_STANZA.finditer(text):
            body = m.group(0)
            state = re.search(r"^\s*binding state (\S+);", body, re.M)
            mac = re.search(r"^\s*hardware ethernet (\S+);", body, re.M)
            ends = re.search(r"^\s*ends\s+([^;]+);", body, re.M)
            starts = re.search(r"^\s*starts\s+([^;]+);", body, re.M)
            out.append((m.start(), m.end(), {"ip": m.group(1), "mac": mac.group(1) if mac else None,
                                             "state": state.group(1) if state else None,
                                             "ends": ends.group(1).strip() if ends else None,
                                             "began": dhcpd_time(starts.group(1)) if starts else None}))
        return out
    raise ValueError(f"no record format for lease files of kind {kind!r} (known: csv, leases)")


def drop_tail(text: str, kind: str, n: int, since: float | None = None) -> tuple[str, list[dict]]:
    """The file without its last ``n`` records, or, when more, every record from the first whose
    binding began at or after ``since`` (whatever else it holds kept in place), and those records,
    oldest first."""
    found = records(text, kind)
    first = next((i for i, (_, _, what) in enumerate(found)
                  if since is not None and what.get("began") is not None and what["began"] >= since), len(found))
    cut = found[min(first, max(len(found) - n, 0) if n > 0 else len(found)):]
    out, pos = [], 0
    for start, end, _ in cut:
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return "".join(out), [what for _, _, what in cut]


@dataclass(frozen=True)
class TruncateLeaseTail(RestartServer):
    """Kill the target; before starting it again, cut the tail off its lease file as a crash does
    to rows that never reached the disk: the last ``records`` records (all of them, if it has
    fewer), or, reaching further back, every record from the first whose binding began in the
    last ``written_s`` seconds before the kill (what a page cache holds: Linux writes dirty data
    back after 30 s, ``vm.dirty_expire_centisecs``). The heal reads the file back before the
    start and records the cut (``lease-file-truncated``); ``verify_healed`` fails unless the
    file read back is exactly the file less those records."""

    name: str = "kill-truncate-restart"
    records: int = 10
    written_s: float = 0.0
    proof: dict = field(default_factory=dict, compare=False, repr=False)

    def apply(self, ctx: FaultContext) -> None:
        self.proof.clear()
        self.proof["killed"] = time.time()
        super().apply(ctx)

    def heal(self, ctx: FaultContext) -> None:
        if _state(ctx, self.target).get("Running"):
            return
        from .lab import put_files
        killed = self.proof.get("killed")
        since = killed - self.written_s if killed is not None and self.written_s > 0 else None
        self.proof.clear()
        container, path = ctx.container(self.target), ctx.adapter.lease_path(ctx.pair, self.target)
        kind = ctx.adapter.lease_suffix
        try:
            before = ctx.lab.read_file(container, path)
            after, removed = drop_tail(before, kind, self.records, since)
            put_files(container, {path: after.encode()})
            back = ctx.lab.read_file(container, path)
        except Exception as exc:  # noqa: BLE001 - the heal's proof says what went wrong; the server still starts
            self.proof.update(ok=False, why=f"{type(exc).__name__}: {exc}")
        else:
            kept = len(records(back, kind))
            ok = back == after and kept == len(records(before, kind)) - len(removed) and \
                len(removed) >= min(self.records, len(records(before, kind)))  # a shorter file is cut whole
            reach = f", back to {since - killed:+.0f} s from the kill" if since is not None else ""
            self.proof.update(ok=ok, why=f"{path}: {len(records(before, kind))} records before, {kept} read back "
                                         f"after cutting the last {len(removed)}{reach} "
                                         f"({', '.join(str(r['ip']) for r in removed)})")
            ctx.record(self.target, "lease-file-truncated", path=path, records_before=len(records(before, kind)),
                       records_after=kept, bytes_before=len(before), bytes_after=len(back), removed=removed,
                       read_back_matches=back == after, since=since)
        container.start()

    def verify_healed(self, ctx: FaultContext) -> tuple[bool, str]:
        ok, evidence = super().verify_healed(ctx)
        cut = self.proof.get("ok", False)
        return ok and cut, f"{self.proof.get('why', 'the lease file was not cut')}; {evidence}"


def lab_tmpfs(fault: Fault, adapter: "ServerAdapter", pair: "Pair") -> dict[str, dict[str, str]]:
    """Per role, the size-limited tmpfs mounts the drill's faults need (none for any other drill)."""
    steps = fault.steps if isinstance(fault, Sequence) else (fault,)
    out: dict[str, dict[str, str]] = {}
    for step in steps:
        if isinstance(step, FillLeaseStorage):
            for role, mounts in step.tmpfs(adapter, pair).items():
                out.setdefault(role, {}).update(mounts)
    return out
