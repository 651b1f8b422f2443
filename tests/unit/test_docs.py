"""The documentation holds together: the README's links lead somewhere, every page is in the site's
navigation, and every place the code sends a reader (``docs/<page>.md "<section>"``) exists.
`.ci/run` builds the site with ``mkdocs build --strict``, which checks the links between pages."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
POINTERS = re.compile(r"docs/([a-z0-9-]+\.md) \\?[\"']([^\"'\\]+)\\?[\"']")
CODE = [*sorted((ROOT / "dhcpdrill").rglob("*.py")), *sorted((ROOT / "drills").glob("*.py")),
        *sorted((ROOT / "scenarios").glob("*.py")), ROOT / ".ci" / "run", ROOT / "conftest.py"]


def test_the_readmes_links_lead_to_files_of_this_repository() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", (ROOT / "README.md").read_text())
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert len(local) >= 10
    assert [link for link in local if not (ROOT / link).exists()] == []


def test_every_page_is_in_the_navigation_and_every_entry_is_a_page() -> None:
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    listed = {next(iter(entry.values())) for entry in nav}
    assert listed == {p.name for p in DOCS.glob("*.md")}


def test_every_pointer_in_the_code_names_a_page_and_a_phrase_it_holds() -> None:
    found = [(path, page, phrase) for path in CODE for page, phrase in POINTERS.findall(path.read_text())]
    assert len(found) >= 8
    wrong = [f"{path.relative_to(ROOT)}: docs/{page} {phrase!r}" for path, page, phrase in found
             if not (DOCS / page).is_file() or phrase not in (DOCS / page).read_text()]
    assert wrong == []


def test_no_code_sends_a_reader_to_a_readme_section_any_more() -> None:
    """The README is the five-minute introduction; its old sections are pages under docs/."""
    assert [str(p.relative_to(ROOT)) for p in CODE if re.search(r"README[ '\"\\]+[A-Z\"']", p.read_text())] == []
