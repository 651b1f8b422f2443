"""The HTML report in a real browser (headless Chromium from Debian): the page loads without a
console error, every drill section the summary table links to exists in the rendered DOM, and the
timeline picture is drawn: its state bands' colours are on screen, in the lanes the run implies.

Runs on real recorded evidence: a load-balancing peer cut that ended in split brain, and a
hot-standby kill-primary. Without Chromium the tests are skipped, unless
``DHCPDRILL_REQUIRE_BROWSER`` is set (``.ci/run`` installs Chromium and sets it)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dhcpdrill import report
from dhcpdrill.drill import DrillResult
from dhcpdrill.picture import COLOURS

from .test_real_evidence import ROOT, SCENARIOS, drilled, load, with_prediction
from dhcpdrill.pair import load_pair
from dhcpdrill.verdicts import judge

Image = pytest.importorskip("PIL.Image")
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
if CHROMIUM is None and not os.environ.get("DHCPDRILL_REQUIRE_BROWSER"):
    pytest.skip("no Chromium here (apt-get install chromium)", allow_module_level=True)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


def recorded(name: str, drill: str, tmp_path: Path) -> DrillResult:
    tl = load(name)
    pair = load_pair(ROOT / "fixtures" / tl.first("lab").get("pair"))
    tl = with_prediction(tl, pair, SCENARIOS[drill])
    r = DrillResult(pair, SCENARIOS[drill], "recorded", tmp_path / name, tl.events[0].t, tl,
                    judge(tl, pair.drills[drill], drilled(pair, SCENARIOS[drill])))
    r.duration = tl.events[-1].t - tl.events[0].t
    return r


def browse(page: Path, *how: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "DHCPDRILL_REQUIRE_BROWSER is set but no Chromium is installed (apt-get install chromium)"
    done = subprocess.run([CHROMIUM, *FLAGS, *how, page.as_uri()], capture_output=True, text=True, timeout=120,
                          cwd=page.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def colour_pixels(png: Path, colour: str, box: tuple[int, int, int, int] | None = None) -> int:
    want = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    img = Image.open(png).convert("RGB")
    if box:
        img = img.crop(box)
    return sum(n for n, rgb in img.getcolors(maxcolors=1 << 22) if all(abs(a - b) <= 3 for a, b in zip(rgb, want)))


@pytest.fixture(params=[("kea-lb-peer-partition", "peer-partition"), ("kea-hs-kill-primary", "kill-primary")],
                ids=["lb-split-brain", "hs-kill-primary"])
def page(request, tmp_path) -> tuple[Path, DrillResult]:
    r = recorded(*request.param, tmp_path)
    path = tmp_path / "drills.html"
    path.write_text(report.html([r]))
    return path, r


def test_the_page_loads_without_errors_and_every_link_has_its_section(page):
    path, r = page
    done = browse(path, "--dump-dom")
    assert console_errors(done.stderr) == []
    dom = done.stdout
    links = re.findall(r'href="#([^"]+)"', dom)
    assert links == [report.anchor(r)] and f'id="{report.anchor(r)}"' in dom
    assert dom.count("<svg") == 1 and dom.count("<rect") == report.html([r]).count("<rect")


def test_the_timeline_picture_is_drawn(page, tmp_path):
    """The bands a reader needs are on screen: the pair's normal state and partner-down, each
    in proportion to how long a server held it (a state held for an instant may be a sliver)."""
    path, r = page
    shot = tmp_path / "shot.png"
    browse(path, "--window-size=1200,2400", f"--screenshot={shot}")
    held = r.timeline.of("ha-state")
    assert {e.get("to") for e in held} >= {"partner-down", r.pair.mode}
    for state in ("partner-down", r.pair.mode):
        assert colour_pixels(shot, COLOURS[state]) > 2000, f"{state} band ({COLOURS[state]}) not on screen"


def test_the_pixel_check_sees_a_missing_picture(tmp_path):
    """The check has teeth: the same page without its picture shows none of the band colours."""
    r = recorded("kea-hs-kill-primary", "kill-primary", tmp_path)
    page = tmp_path / "no-picture.html"
    page.write_text(re.sub(r"<svg.*?</svg>", "", report.html([r]), flags=re.S))
    shot = tmp_path / "shot.png"
    browse(page, "--window-size=1200,2400", f"--screenshot={shot}")
    assert colour_pixels(shot, COLOURS["partner-down"]) == 0


def test_a_console_error_is_caught(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><p>x</p><script>undefinedFunction();</script>")
    assert console_errors(browse(page, "--dump-dom").stderr)
