"""Reports: JUnit XML for CI and auditors (one test case per verdict, figures as properties) and a
plain-text summary for the engineer at the terminal."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from junit_xml import TestCase, TestSuite, to_xml_report_string

from . import bykind
from .runrecord import DrillResult
from .picture import svg
from .outcome import EXPECTED, FAILED, PASSED, excused
from .realclients import rows as real_client_rows
from .verdicts import NOT_JUDGED, PASS, Verdict, anchor as fault_anchor

if TYPE_CHECKING:
    from .expectations import Acceptance
    from .manifest import Pair

JUNIT_NAME = "junit-drills.xml"
HTML_NAME = "drills.html"
MARK = {"pass": "PASS", "fail": "FAIL", "unknown": "UNKNOWN", "not-judged": "NOT JUDGED"}


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def figure_text(v: Verdict) -> str:
    """``4 s``, ``0 addresses``; empty when nothing was measured."""
    return "" if v.figure is None else f"{v.figure:g}{(' ' + v.unit) if v.unit else ''}"


def mark(result: DrillResult, v: Verdict) -> str:
    """How one verdict reads in the reports: its status, or XFAIL when it failed as the pair's
    known hazard says and within its bound (whatever the drill's outcome: the outcome says
    whether that was enough); a failure beyond the bound reads FAIL."""
    return "XFAIL" if excused(result.hazard, v, result.verdicts) else MARK[v.status]


KEY_VERDICTS = ("takeover", "service-held", "client-outage", "duplicates", "continuity", "split-brain", "heal-to-normal")


def key_verdicts(result: DrillResult, limit: int = 3) -> list[Verdict]:
    """The measured verdicts an engineer looks at first: a failed one, then takeover, the worst
    wait for service after it, outage, duplicates, continuity."""
    measured = [v for v in result.verdicts if v.figure is not None and v.decides]
    rank = {name: i for i, name in enumerate(KEY_VERDICTS)}
    measured.sort(key=lambda v: (v.ok, rank.get(v.name, len(rank))))
    return measured[:limit]


def key_figures(result: DrillResult, limit: int = 3) -> list[str]:
    return [f"{v.name} {figure_text(v)}" + ("" if v.ok else f" {mark(result, v)}")
            for v in key_verdicts(result, limit)]


def figure_spread(runs: Sequence[DrillResult], limit: int = 3) -> list[str]:
    """The key figures of several runs of one drill, each as its range (``takeover 11.2–11.5 s``);
    one run's are its key figures."""
    if len(runs) == 1:
        return key_figures(runs[0], limit)
    out = []
    for v in key_verdicts(runs[0], limit):
        values = [w.figure for r in runs for w in r.verdicts if w.name == v.name and w.figure is not None]
        lo, hi = min(values), max(values)
        span = f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"
        out.append(f"{v.name} {span}{(' ' + v.unit) if v.unit else ''}")
    return out


def pair_key(pair: "Pair") -> str:
    """What ties runs to a pair: its config hash (its name lies in it), never its name alone, which
    two pair folders can share, nor its folder, which a merged or re-read run holds a copy of."""
    return pair.config_hash


def repetitions(results: Iterable[DrillResult]) -> dict[tuple[str, str], list[DrillResult]]:
    """(``pair_key``, drill) -> its runs in the order they started: run 1, run 2, …"""
    runs: dict[tuple[str, str], list[DrillResult]] = {}
    keys: dict[int, str] = {}
    for r in sorted(results, key=lambda r: r.started):
        key = keys.setdefault(id(r.pair), pair_key(r.pair))
        runs.setdefault((key, r.scenario.name), []).append(r)
    return runs


def run_of(result: DrillResult, results: Iterable[DrillResult]) -> tuple[int, int]:
    """(which run of its drill ``result`` was, how many runs the drill had) among ``results``."""
    runs = repetitions(results).get((pair_key(result.pair), result.scenario.name), [result])
    return next((i for i, r in enumerate(runs, 1) if r is result), 1), len(runs)


def pass_rate(runs: Sequence[DrillResult]) -> str:
    """``kea-hot-standby / kill-primary: 2 of 3 passed; run 2 FAIL (<run folder>)``: every run
    that did not pass is named with its evidence folder."""
    first = runs[0]
    passed = sum(1 for r in runs if r.outcome.status == PASSED)
    failed = [f"run {i} {r.outcome.label} ({r.run_dir.name})" for i, r in enumerate(runs, 1)
              if r.outcome.status != PASSED]
    return (f"{first.pair.name} / {first.scenario.name}: {passed} of {len(runs)} passed"
            + ("; " + "; ".join(failed) if failed else ""))


def pass_rates(results: Iterable[DrillResult]) -> list[str]:
    """Each drill's pass rate, when some drill ran more than once (one run is its own outcome)."""
    runs = repetitions(results)
    return [pass_rate(r) for r in runs.values()] if any(len(r) > 1 for r in runs.values()) else []


def anchor(result: DrillResult) -> str:
    """The HTML id of a drill's section (unique per run folder)."""
    return "run-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in result.run_dir.name)


def real_clients(result: DrillResult) -> list[dict]:
    """Per real client daemon of the drill (``realclients``): what its interface had across the fault."""
    tl = result.timeline
    fault, end = fault_anchor(tl), tl.first("observe-end")
    return real_client_rows(tl, fault.t if fault else None, end.t if end else None)


def _yes(value: object) -> str:
    return "unknown" if value is None else ("yes" if value is True else "no" if value is False else f"{value:g}"
                                            if isinstance(value, float) else str(value))


REAL_COLUMNS = (("client", "client"), ("address", "address at the fault"), ("kept", "kept it"),
                ("longest_without_s", "longest without an address (s)"), ("naks", "NAKs after the fault"),
                ("server_at_end", "last lease from"), ("max_sample_gap_s", "longest between samples (s)"))


def headline(result: DrillResult) -> str:
    outcome = result.outcome
    if outcome.status == EXPECTED:
        return f"{outcome.label}: {outcome.reasons[0]} (failed: {', '.join(outcome.as_expected)})"
    return outcome.label


def summary(result: DrillResult, among: Sequence[DrillResult] = ()) -> str:
    """A few lines an engineer reads at the end of a run: what ran (which run of its drill, among
    ``among``), why it ended as it did, each verdict, where the evidence is."""
    head = (f"{result.pair.name} / {result.scenario.name}{_run_text(result, among)}: "
            f"{headline(result)} ({result.duration:.0f} s, {_iso(result.started)})")
    lines = [head, f"  pair {result.pair.folder} sha256 {result.pair.config_hash[:16]}, image {result.image}"]
    if result.versions:
        lines.append(f"  servers: {result.versions}")
    lines += [f"  rewritten for the lab: {r}" for r in result.rewrites]
    quiet = next((e for e in result.timeline.of("prediction") if e.get("of") == "quiet-takeover"), None)
    if quiet is not None:
        lines.append(f"  predicted from the {quiet.get('period')} population: {quiet.get('words')}")
    outcome = result.outcome
    if outcome.status == FAILED and result.hazard:
        lines.append(f"  known hazard ({result.hazard.why}) does not explain this run:")
        lines += [f"    - {r}" for r in outcome.reasons]
    elif result.error:
        lines.append(f"  ERROR  {result.error}")
    for v in result.verdicts:
        figure = f" = {figure_text(v)}" if v.figure is not None else ""
        limit = f" (limit {v.threshold})" if v.threshold else ""
        lines.append(f"  {mark(result, v):<10} {v.name}{figure}{limit}: {v.reason}")
    for row in real_clients(result):
        lines.append(f"  real {row['client']}: " + ", ".join(f"{title} {_yes(row[key])}" for key, title in REAL_COLUMNS[1:]))
    kinds = bykind.per_kind(result.timeline)
    if kinds:
        lines.append("  per client kind, from the fault to the end of the window:")
        lines += [f"    {f.words()}" for f in kinds]
    lines.append(f"  evidence: {result.run_dir}")
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """A path relative to the working directory when it lies below it (what CI systems resolve)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def relative(path: Path, base: Path | None) -> str:
    """``path`` as seen from the folder a report is written to (``base``), so the report still
    links up when the reports folder or an evidence archive is opened elsewhere."""
    return os.path.relpath(path, base) if base is not None else path.name


def accepted_for(result: DrillResult, accepted: Sequence["Acceptance"]) -> "Acceptance | None":
    """The run's acceptance of this drill's known hazard (``--accept-hazard``), if any."""
    return next((a for a in accepted if (a.pair, a.drill) == (result.pair.name, result.scenario.name)), None)


def _suite(result: DrillResult, base: Path | None = None, among: Sequence[DrillResult] = (),
           accepted: Sequence["Acceptance"] = ()) -> TestSuite:
    classname = f"drills.{result.pair.name}.{result.scenario.name}"
    cases = []
    for v in result.verdicts:
        case = TestCase(v.name, classname=classname, elapsed_sec=0, timestamp=_iso(result.started))
        how = mark(result, v)
        if how == "XFAIL":
            case.add_skipped_info(message=f"failed as expected, known hazard: {result.hazard.why}: {v.reason}")
        elif v.status == NOT_JUDGED:
            case.add_skipped_info(message=v.reason)
        elif v.status != PASS:
            case.add_failure_info(message=f"{v.status}: {v.reason}")
        figure = f" {figure_text(v)}" if v.figure is not None else ""
        limit = f" (limit {v.threshold})" if v.threshold else ""
        case.stdout = f"{how}{figure}{limit}: {v.reason}"
        cases.append(case)
    outcome = result.outcome
    case = TestCase("outcome", classname=classname, elapsed_sec=result.duration, timestamp=_iso(result.started))
    # GitLab's test view links these from a failed case; other CI systems show them as output.
    case.stdout = "\n".join(f"[[ATTACHMENT|{_shown(result.run_dir / name)}]]" for name in ("report.html", "timeline.jsonl")) \
        + f"\nevidence: {_shown(result.run_dir)}"
    if result.error:
        case.add_error_info(message=result.error, output="\n".join(outcome.reasons))
    elif outcome.status == FAILED:
        case.add_failure_info(message="; ".join(outcome.reasons))
    elif outcome.status == EXPECTED:
        case.add_skipped_info(message=headline(result))
    cases.append(case)
    hazard = result.hazard
    props = {"pair": result.pair.name, "pair_folder": str(result.pair.folder),
             "pair_config_sha256": result.pair.config_hash, "scenario": result.scenario.name,
             "fault": result.scenario.fault.name, "fault_target": result.scenario.fault.target,
             "image": result.image, "server_versions": result.versions or "unknown",
             "evidence": relative(result.run_dir, base), "duration_s": f"{result.duration:.1f}",
             "rewrites": "; ".join(result.rewrites) or "none", "outcome": outcome.status,
             "known_hazard": hazard.describe() if hazard else "none"}
    runs = repetitions(among or [result]).get((pair_key(result.pair), result.scenario.name), [result])
    number, _ = run_of(result, runs)
    props["drill_run"] = f"{number} of {len(runs)}"
    props["drill_pass_rate"] = f"{sum(1 for r in runs if r.outcome.status == PASSED)} of {len(runs)} passed"
    acceptance = accepted_for(result, accepted)
    if acceptance:
        props["accepted_hazard"] = acceptance.text
    props.update(bykind.properties(bykind.per_kind(result.timeline)))
    return TestSuite(f"{result.pair.name} / {result.scenario.name}", cases, timestamp=_iso(result.started),
                     properties=props)


@dataclass(frozen=True)
class NotRun:
    """A drill test that ended before its drill ran: skipped (the pair states no table for it)
    or refused (the lab was unavailable, the servers' own checkers refused the pair)."""

    drill: str  # "pair / drill"
    test: str  # the pytest node id
    status: str  # "skipped" or "error"
    why: str


def _not_run_suite(n: NotRun) -> TestSuite:
    case = TestCase("outcome", classname=f"drills.{n.drill.replace(' / ', '.')}", elapsed_sec=0)
    case.stdout = f"{n.test}: never ran"
    if n.status == "skipped":
        case.add_skipped_info(message=n.why)
    else:
        case.add_error_info(message=n.why.splitlines()[0] if n.why else "error", output=n.why)
    return TestSuite(n.drill, [case], properties={"outcome": f"not run ({n.status})", "test": n.test})


def verdict_properties(v: Verdict) -> list[tuple[str, str]]:
    """A verdict's status, figure, unit and limit as suite properties ``verdict.<name>.<key>``."""
    return [(f"verdict.{v.name}.{key}", str(value))
            for key, value in (("status", v.status), ("figure", v.figure), ("unit", v.unit), ("threshold", v.threshold))
            if value not in (None, "")]


def junit_xml(results: Iterable[DrillResult], base: Path | None = None, among: Sequence[DrillResult] = (),
              accepted: Sequence["Acceptance"] = (), *, not_run: Iterable[NotRun] = ()) -> str:
    """JUnit XML valid against the Surefire/Jenkins schema (``junit-10.xsd``, the one pytest's own
    xunit2 reports are checked against). That schema allows properties on test suites only, so each
    verdict's figures are suite properties (``verdict.<name>.figure`` …) and are also written in its
    case's output; junit-xml's ``disabled`` attributes and per-case timestamps, which the schema
    does not know, are dropped, and times carry at most three decimals as it requires. Each suite
    says which run of its drill it was and the drill's pass rate among ``among`` (default: these
    results), and the hazard the run accepted for it, if any."""
    results = list(results)
    among = list(among) or results
    suites = [_suite(r, base, among, accepted) for r in results] + [_not_run_suite(n) for n in not_run]
    root = ET.fromstring(to_xml_report_string(suites, prettyprint=False))
    for el in root.iter():
        el.attrib.pop("disabled", None)
        if el.tag == "testcase":
            el.attrib.pop("timestamp", None)
        if "time" in el.attrib:
            el.set("time", f"{float(el.get('time')):.3f}")
    for suite_el, result in zip(root.findall("testsuite"), results):
        props = suite_el.find("properties")
        for v in result.verdicts:
            for name, value in verdict_properties(v):
                ET.SubElement(props, "property", name=name, value=value)
        for row in real_clients(result):
            for key, value in row.items():
                if key != "client":
                    ET.SubElement(props, "property", name=f"real-client.{row['client']}.{key}", value=_yes(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


OUTCOME_CLASS = {"pass": "pass", "fail": "fail", "expected-failure": "xfail"}


EVIDENCE_FILES = ("timeline.jsonl", "summary.txt", "verdicts.json", "primary.log", "secondary.log", "clients.stderr")


def html(results: list[DrillResult], verdict_line: str | None = None, base: Path | None = None,
         accepted: Sequence["Acceptance"] = ()) -> str:
    """The human report: the go/no-go line and the hazards the run accepted, each drill's pass rate
    when some ran more than once, the run at a glance (every pair x drill, its outcome and key
    figures, linking to its section), then per drill its outcome, a verdict table and the
    timeline picture."""
    parts = ["<!doctype html><html lang='en'><meta charset='utf-8'><title>DHCP failover drills</title>",
             "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:left;"
             "vertical-align:top}.pass{color:#238b45}.fail,.unknown{color:#cb181d}.xfail{color:#d94801}"
             "table.glance td{border-top:1px solid #ddd}</style>",
             "<h1>DHCP failover drills</h1>"]
    if verdict_line:
        parts.append(f"<p id='go-no-go' class='{'pass' if verdict_line.startswith('GO') else 'fail'}'>"
                     f"<strong>{escape(verdict_line)}</strong></p>")
    if accepted:
        parts.append("<p id='accepted-hazards'>Known hazards this run accepted: "
                     + "; ".join(escape(a.text) for a in accepted) + "</p>")
    rates = pass_rates(results)
    if rates:
        parts.append("<ul id='pass-rates'>" + "".join(f"<li>{escape(line)}</li>" for line in rates) + "</ul>")
    parts.append("<table class='glance'><tr><th>pair</th><th>drill</th><th>outcome</th><th>key figures</th>"
                 "<th>duration</th></tr>")
    for r in results:
        parts.append(f"<tr><td>{escape(r.pair.name)}</td><td><a href='#{anchor(r)}'>{escape(r.scenario.name)}"
                     f"{escape(_run_text(r, results))}</a></td>"
                     f"<td class='{OUTCOME_CLASS[r.outcome.status]}'>{escape(r.outcome.label)}</td>"
                     f"<td>{escape(', '.join(key_figures(r)))}</td><td>{r.duration:.0f} s</td></tr>")
    parts.append("</table>")
    for r in results:
        parts.append(f"<h2 id='{anchor(r)}'>{escape(r.pair.name)} / {escape(r.scenario.name)}"
                     f"{escape(_run_text(r, results))}: {escape(headline(r))}</h2>")
        parts.append(f"<p>{escape(r.scenario.title)}. Started {_iso(r.started)}, {r.duration:.0f} s. Pair "
                     f"<code>{escape(str(r.pair.folder))}</code>, config sha256 <code>{r.pair.config_hash}</code>, "
                     f"image <code>{escape(r.image)}</code> ({escape(r.versions or 'versions unknown')}). "
                     f"Evidence: <a href='{escape(relative(r.run_dir, base))}/'><code>{escape(r.run_dir.name)}</code></a> ("
                     + ", ".join(f"<a href='{escape(relative(r.run_dir / name, base))}'>{name}</a>"
                                 for name in EVIDENCE_FILES) + ")</p>")
        if r.rewrites:
            parts.append("<p>Rewritten for the lab: " + "; ".join(escape(w) for w in r.rewrites) + "</p>")
        if r.outcome.status == FAILED:
            parts.append("<ul class='fail'>" + "".join(f"<li>{escape(x)}</li>" for x in r.outcome.reasons) + "</ul>")
        parts.append("<table><tr><th>verdict</th><th>status</th><th>figure</th><th>limit</th><th>why</th></tr>")
        for v in r.verdicts:
            figure = figure_text(v)
            how = mark(r, v).lower().replace(" ", "-")
            parts.append(f"<tr><td>{v.name}</td><td class='{how}'>{how}</td><td>{escape(figure)}</td>"
                         f"<td>{escape(v.threshold)}</td><td>{escape(v.reason)}</td></tr>")
        parts.append("</table>")
        found = real_clients(r)
        if found:
            parts.append("<h3>Real clients</h3><table class='real-clients'><tr>"
                         + "".join(f"<th>{escape(title)}</th>" for _, title in REAL_COLUMNS) + "</tr>")
            for row in found:
                parts.append("<tr>" + "".join(f"<td>{escape(_yes(row[key]))}</td>" for key, _ in REAL_COLUMNS) + "</tr>")
            parts.append("</table>")
        parts.append(kind_table(r))
        parts.append(svg(r.timeline))
    return "\n".join(parts) + "\n"


def _continuity_cell(f: "bykind.KindFigures") -> str:
    if not f.continuity_judged:
        return "not judged"
    return "" if f.continuity_pct is None else f"{f.continuity_pct:g} %"


def kind_table(result: DrillResult) -> str:
    """The drill's figures per client kind (empty without a stated mix)."""
    kinds = bykind.per_kind(result.timeline)
    if not kinds:
        return ""
    rows = "".join(
        f"<tr><td>{escape(f.kind)}</td><td>{f.clients}</td>"
        f"<td>{_continuity_cell(f)}</td>"
        f"<td>{f.kept} / {f.lost} / {f.unknown}</td><td>{f.new_leased} of {f.new}</td>"
        f"<td>{'' if f.longest_wait_s is None else f'{f.longest_wait_s:g} s'}</td><td>{escape(f.longest_wait)}</td>"
        f"<td>{f.naked}</td><td>{f.fell_back}</td><td>{f.gave_up}</td></tr>" for f in kinds)
    return ("<table class='kinds'><caption>Per client kind, from the fault to the end of the window</caption>"
            "<tr><th>kind</th><th>clients</th><th>continuity</th><th>kept / lost / unknown</th><th>new leased</th>"
            "<th>longest wait</th><th>who</th><th>NAKed</th><th>fell back</th><th>gave up early</th></tr>"
            + rows + "</table>")


def _run_text(result: DrillResult, results: Sequence[DrillResult]) -> str:
    """`` (run 2 of 3)`` for a drill that ran more than once among ``results``."""
    number, count = run_of(result, results or [result])
    return f" (run {number} of {count})" if count > 1 else ""


def write(results: list[DrillResult], reports: Path, verdict_line: str | None = None,
          accepted: Sequence["Acceptance"] = (), *, not_run: Iterable[NotRun] = ()) -> Path:
    """Each run's folder gets its summary and JUnit file; ``reports/junit-drills.xml`` holds them all,
    and a case for each drill that never ran; ``reports/drills.html`` shows them all (under the
    go/no-go line when there is one)."""
    reports.mkdir(parents=True, exist_ok=True)
    for r in results:
        r.run_dir.mkdir(parents=True, exist_ok=True)
        (r.run_dir / "summary.txt").write_text(summary(r, results) + "\n")
        (r.run_dir / JUNIT_NAME).write_text(junit_xml([r], r.run_dir, results, accepted))
        (r.run_dir / "report.html").write_text(html([r], base=r.run_dir))
    (reports / HTML_NAME).write_text(html(results, verdict_line, reports, accepted))
    path = reports / JUNIT_NAME
    path.write_text(junit_xml(results, reports, accepted=accepted, not_run=not_run))
    return path
