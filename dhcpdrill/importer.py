"""From a team's two production config files to a pair folder the drills accept.

    dhcpdrill-import dhcp-a.json dhcp-b.json --out pairs/site-a [--suite trixie] [--name site-a]
    dhcpdrill-import a-etc/dhcp/dhcpd.conf b-etc/dhcp/dhcpd.conf --etc a-etc --etc b-etc --out pairs/site-b

The two files are copied unchanged (Kea JSON, or dhcpd.conf with a failover peer); which one is
the primary is read from the files themselves. ``pair.toml`` gets the server kind, the HA mode,
the suite, and a table per core drill (kill, freeze, failback, and for Kea the maintenance
handoff and a maintenance-window rehearsal) whose ``max_takeover_s`` is the slowest takeover the
configs' own timers allow (``timers.py``), with a comment saying where each number comes from.
Then the pair is checked as the drills would check it, and every rewrite the lab will make to
its copy (interface, loggers, readdressing) is listed. The user's files are never changed.

Included files are copied too: an absolute include (``include "/etc/dhcp/dhcpd.failover.conf";``)
is read on this machine, or from the copy of the server's /etc (``--etc``) or / (``--root``) the
user gives, once for both servers or once per server; with one per server each config keeps its
own included files in a folder of its own. Which file came from where is printed and written at
the top of ``pair.toml``.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .manifest import MANIFEST, NAME
from .includes import ISC as ISC_INCLUDE, KEA as KEA_INCLUDE, Copied, Copy, copy_included, expanded, included_files
from .servers.compare import ABSENT, shown
from .problems import PairError

# What each core drill expects of a healthy pair, per server kind and mode (as the bundled pairs
# measured it on Kea 2.2 and dhcpd 4.4; edit after your first runs).
STATES = {
    ("kea", "hot-standby"): {
        "kill-primary": '{ secondary = ["partner-down"] }',
        "freeze-primary": '{ secondary = ["partner-down", "hot-standby"], primary = ["syncing", "hot-standby"] }',
        "failback": '{ secondary = ["partner-down", "hot-standby"], primary = ["syncing", "hot-standby"] }',
        "maintenance-handoff": '{ primary = ["in-maintenance"], secondary = ["partner-in-maintenance", "partner-down"] }',
    },
    ("kea", "load-balancing"): {
        "kill-primary": '{ secondary = ["partner-down"] }',
        "freeze-primary": '{ secondary = ["partner-down", "load-balancing"], primary = ["syncing", "load-balancing"] }',
        "failback": '{ secondary = ["partner-down", "load-balancing"], primary = ["syncing", "load-balancing"] }',
        "maintenance-handoff": '{ primary = ["in-maintenance"], secondary = ["partner-in-maintenance", "partner-down"] }',
    },
    ("isc-dhcp", "failover"): {
        "kill-primary": '{ secondary = ["communications-interrupted"] }',
        "freeze-primary": '{ primary = ["communications-interrupted", "normal"], secondary = ["communications-interrupted", "normal"] }',
    },
}


def kind_of(path: Path) -> str:
    """The server kind of a config copied into the pair folder (its includes read too)."""
    from .servers.kea import kea_json
    text = path.read_text()
    try:
        if isinstance(kea_json(text).get("Dhcp4"), dict):
            return "kea"
    except (ValueError, AttributeError):
        if KEA_INCLUDE.search(text) and re.search(r'"Dhcp4"\s*:', text):
            return "kea"  # valid JSON once its <?include?>s are in place
    included = "".join(p.read_text(errors="replace") for p in included_files(path, path.parent))
    if re.search(r"failover\s+peer", text + included):
        return "isc-dhcp"
    raise ValueError(f"{path}: neither a Kea DHCPv4 config (a Dhcp4 map) nor a dhcpd.conf with a failover peer")


def roles_and_mode(kind: str, a: Path, b: Path, label: str = "") -> tuple[Path, Path, str, str]:
    """(primary file, secondary file, mode, a note on how the roles were read; ``label`` names
    ``a`` there, by default its file name)."""
    label = label or a.name
    if kind == "kea":
        from .servers.kea import KeaAdapter
        problems: list = []
        adapter = KeaAdapter()
        cfg = adapter.load(a, problems)
        ha = adapter.ha_relationship(a, cfg, problems) if cfg else None
        if ha is None:
            raise ValueError("; ".join(str(p) for p in problems) or f"{a}: no HA relationship")
        me = next((p for p in ha.get("peers", []) if p.get("name") == ha.get("this-server-name")), {})
        mode = str(ha.get("mode", ""))
        primary_first = me.get("role") == "primary"
        note = (f"{label} says this-server-name {shown(ha.get('this-server-name', ABSENT))}, "
                f"role {shown(me.get('role', ABSENT))}")
    else:
        block = re.search(r"failover\s+peer\s+\"[^\"]*\"\s*\{(.*?)\}", expanded(a, ISC_INCLUDE)[0], re.S)
        primary_first = bool(block and re.search(r"(?m)^\s*primary\s*;", block.group(1)))
        mode = "failover"
        note = f"{label}'s failover peer says {'primary' if primary_first else 'secondary'}"
    return (a, b, mode, note) if primary_first else (b, a, mode, note + ", so it is the secondary")


def manifest(name: str, kind: str, suite: str, mode: str, primary: str, secondary: str,
             tables: list[str], note: str, taken: list[str] = (), backup: str | None = None) -> str:
    return "\n".join([
        f"# Written by dhcpdrill-import from {primary} and {secondary} (copied unchanged). Roles: {note}.",
        *(["# Included files, copied into this folder (server path: where it was read -> here):"]
          + [f"#   {line}" for line in taken] if taken else []),
        "# Every number below is a starting point: run the drills three times and set what you measure.",
        "", "[pair]", f'name = "{name}"', f'server = "{kind}"',
        f'suite = "{suite}"          # the Debian suite whose server version the lab runs',
        f'mode = "{mode}"', "", "[files]", f'primary = "{primary}"', f'secondary = "{secondary}"',
        *([f'backup = "{backup}"          # the HA backup server\'s own config: it runs as a third server'] if backup else []),
        "",
        *tables])


def drill_tables(pair) -> list[str]:
    from .timers import client_rhythm_s
    from .clients import Workload
    from .servers import adapter_for
    from .timers import HANGS, VANISHES, predict_takeover
    plan = adapter_for(pair).lab_plan(pair)
    states = STATES.get((pair.server, pair.mode), {})
    out = []
    for drill, link, extra in (("kill-primary", VANISHES, ""), ("freeze-primary", HANGS, "max_heal_to_normal_s = 30\n"),
                               ("failback", VANISHES, "max_heal_to_normal_s = 30\n"),
                               ("maintenance-handoff", None, "max_outage_s = 15\n"), ("rolling-upgrade", None, "max_outage_s = 15\n")):
        if drill not in states and drill != "rolling-upgrade":
            continue
        if drill == "rolling-upgrade" and pair.server != "kea":
            continue
        prediction = predict_takeover(pair.server, plan.ha_timers, link, client_rhythm_s(Workload())) if link else None
        takeover = math.ceil(prediction.high_s) if prediction else 15
        why = (f"# Takeover predicted {prediction.describe()}: the limit is its upper end.\n" if prediction else
               "# A planned handover: the partner is told first, so 15 s is generous.\n" if drill != "rolling-upgrade" else
               "# Maintenance-window rehearsal (add to_suite = \"trixie\" to rehearse an upgrade to Kea 2.6).\n")
        out += [why + f"[drills.{drill}]", f"max_takeover_s = {takeover}", "max_duplicates = 0", "min_continuity = 1.0"]
        if drill in states:
            out.append(f"expect_states = {states[drill]}")
        out.append(extra)
    if plan.backup is not None:
        out += ["# The backup killed under load: active servers never wait for a backup in this mode, so no client",
                "# should notice and the pair should not change state (drills/test_kill_backup.py).",
                "[drills.kill-backup]", "max_takeover_s = 15", "max_outage_s = 5", "max_duplicates = 0",
                "min_continuity = 1.0", "expect_states = { primary = [], secondary = [] }", ""]
    if pair.server == "kea":
        out += night_tables(pair, plan)
    return out


NIGHT_DEFAULT = {"active_clients": 10, "new_per_hour": 2}  # few: the fewer broadcast, the later a Kea standby takes over


def night_tables(pair, plan) -> list[str]:
    """A conservative night (few devices on, few arriving) and the quiet-hours drill that runs it:
    a Kea standby takes over only once enough of the site's own clients broadcast (quiet.py), so
    its limit is the takeover the timers allow with enough clients, and a night too quiet to reach
    it fails the drill, which is the finding."""
    from .clients import Workload
    from .quiet import Period, quiet_takeover
    from .timers import VANISHES, client_rhythm_s, kea_takeover
    retry = client_rhythm_s(Workload(passive_probes=True))
    night = Period("night", **NIGHT_DEFAULT)
    t1 = plan.renew_s or 3600.0
    predicted = quiet_takeover(plan.ha_timers, VANISHES, night, t1, plan.rebind_s or 1.75 * t1, retry,
                               max_unacked=plan.retrying_clients_needed - 1)
    limit = math.ceil(kea_takeover(plan.ha_timers, VANISHES, retry).high_s)
    return [f"# A conservative night written by dhcpdrill-import: state your site's own. {predicted.words()}.",
            "[workload.night]", *(f"{k} = {v}" for k, v in NIGHT_DEFAULT.items()), "",
            "# The primary lost at night: only the night's own traffic can tell the standby (drills/test_quiet_hours.py).",
            f"# The limit is the takeover the timers allow once enough clients count ({limit} s).",
            "[drills.kill-primary-quiet-hours]", f"max_takeover_s = {limit}", "max_duplicates = 0",
            'expect_states = { secondary = ["partner-down"] }', ""]


def run(a: Path, b: Path, out: Path, suite: str, name: str | None,
        copies: list[Copy] = (), backup: Path | None = None) -> tuple[int, list[str]]:
    """Import the pair. ``copies``: one copy of a server's /etc (or /) for both servers, or one per
    server in the configs' order; with one per server each config and what it includes go to a
    folder of their own (``primary/``, ``secondary/``), as the servers' own file systems differ."""
    from .pair import load_pair
    from .servers import adapter_for
    lines = []
    if len(copies) > 2:
        return 2, [f"{len(copies)} copies given (--etc/--root): give one for both servers or one per server, "
                   "in the order of the two configs"]
    for copy in copies:
        if not copy.folder.is_dir():
            return 2, [f"{copy.option} {copy.folder}: no such folder: give the folder that holds the copy of the "
                       f"server's {copy.prefix}"]
    name = name or re.sub(r"[^A-Za-z0-9._-]", "-", out.name)[:64]
    if not NAME.fullmatch(name):
        return 2, [f"{name!r} is not a plain pair name: give --name with letters, digits, '.', '_' or '-'"]
    split = len(copies) == 2
    if a.name == b.name and not split:
        return 2, [f"both files are named {a.name}: rename one (they are copied side by side), or give each "
                   "server's copy of /etc (--etc A_ETC --etc B_ETC) and each goes to a folder of its own"]
    if (out / MANIFEST).exists():
        return 2, [f"{out / MANIFEST} exists: import into a new folder"]
    per_server = [copies[0], copies[-1]] if copies else [None, None]
    folders = [out / "server-1", out / "server-2"] if split else [out, out]
    if split and any(f.exists() for f in [*folders, out / "primary", out / "secondary"]):
        return 2, [f"{out} already holds a server-1/, server-2/, primary/ or secondary/ folder: import into a new folder"]
    with tempfile.TemporaryDirectory() as trial:  # an include that cannot be found leaves nothing behind
        try:
            _copy_configs((a, b), [Path(trial) / f.relative_to(out) for f in folders], per_server)
        except ValueError as exc:
            return 2, [str(exc)]
    copied = _copy_configs((a, b), folders, per_server)
    configs = [folder / src.name for src, folder in zip((a, b), folders)]
    kind = kind_of(configs[0])
    if kind_of(configs[1]) != kind:
        return 2, [f"{a} is a {kind} config but {b} is not: give the two halves of one pair"]
    primary, secondary, mode, note = roles_and_mode(kind, *configs, label=str(a) if split else a.name)
    if split:  # each server's folder named after its role, now that the configs said which is which
        for role, path in (("primary", primary), ("secondary", secondary)):
            path.parent.rename(out / role)
        renamed = {path.parent: out / role for role, path in (("primary", primary), ("secondary", secondary))}
        copied = [dataclasses.replace(c, target=renamed[folder] / c.target.relative_to(folder))
                  for c in copied for folder in folders if c.target.is_relative_to(folder)]
        primary, secondary = out / "primary" / primary.name, out / "secondary" / secondary.name
    backup_file = None
    if backup is not None:  # a Kea HA backup server's own config, beside the pair's (its own folder when split)
        folder = out / "backup" if split else out
        if (folder / backup.name).exists():
            return 2, [f"{backup.name} is already in {folder}: rename the backup's config"]
        copied += _copy_configs((backup,), [folder], [copies[0] if len(copies) == 1 else None])
        backup_file = (folder / backup.name).relative_to(out).as_posix()
    taken = [c.describe(out) for c in copied]
    lines += [f"copied {line}" for line in taken]
    files = [p.relative_to(out).as_posix() for p in (primary, secondary)]
    (out / MANIFEST).write_text(manifest(name, kind, suite, mode, *files, [], note, taken, backup_file) + "\n")
    try:
        pair = load_pair(out)
    except PairError as exc:
        return 1, [*lines, f"wrote {out}, but the pair is not fit to drill yet:", *(f"  {p}" for p in exc.problems)]
    (out / MANIFEST).write_text(manifest(name, kind, suite, mode, *files, drill_tables(pair), note, taken, backup_file))
    pair = load_pair(out)
    lines.append(f"wrote {out}: {pair.name} ({kind} {mode}, suite {suite}); {note}")
    if pair.periods.get("night"):
        lines.append(f"  wrote a conservative night default ([workload.night] "
                     f"{', '.join(f'{k} = {v}' for k, v in NIGHT_DEFAULT.items())}): state your site's own night")
    for rewrite in adapter_for(pair).lab_plan(pair).rewrites:
        lines.append(f"  the lab copy will be rewritten: {rewrite}")
    lines.append(f"next: pytest drills/ --pair {out} --drill-catalogue, then pytest drills/ --pair {out}")
    return 0, lines


def _copy_configs(configs: tuple[Path, ...], folders: list[Path], copies: list[Copy | None]) -> list[Copied]:
    """Each config into its folder, with what it includes (``copy_included``)."""
    copied: list[Copied] = []
    for src, folder, copy in zip(configs, folders, copies):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, folder / src.name)
        copied += copy_included(src, folder / src.name, folder, copy)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dhcpdrill-import", description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs=2, type=Path, help="the two servers' config files, in either order")
    parser.add_argument("--out", type=Path, required=True, help="the new pair folder")
    parser.add_argument("--suite", default="bookworm", help="Debian suite of the lab's servers (bookworm: Kea 2.2, "
                                                           "trixie: 2.6, forky: 3.0)")
    parser.add_argument("--name", help="the pair's name (default: the folder's)")
    parser.add_argument("--etc", dest="copies", action="append", default=[], metavar="DIR",
                        type=lambda d: Copy("/etc", Path(d)),
                        help="a copy of a server's /etc: includes of /etc/... are read there. Once for both "
                             "servers, or twice (one per server, in the configs' order)")
    parser.add_argument("--root", dest="copies", action="append", metavar="DIR", type=lambda d: Copy("/", Path(d)),
                        help="a copy of a server's whole file system (any absolute include is read there); "
                             "once, or once per server like --etc")
    parser.add_argument("--backup", type=Path, metavar="FILE",
                        help="a Kea HA backup server's own config (the peers list it in role backup): copied too and "
                             "named files.backup, so the drills run it as a third server")
    args = parser.parse_args(argv)
    try:
        code, lines = run(*args.configs, args.out, args.suite, args.name, args.copies, args.backup)
    except (OSError, ValueError) as exc:
        code, lines = 2, [f"dhcpdrill-import: {exc}"]
    print("\n".join(lines), file=sys.stderr if code == 2 else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
