"""README stays true: the two set-up commands, CI running the same test command, the settings table."""

from __future__ import annotations

import re
from pathlib import Path

from execlog_otel.config import settings_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def commands() -> list[str]:
    return [m.strip() for m in re.findall(r"^    (\S.*)$", README.split("\n## ", 1)[0], flags=re.M)]


def test_readme_starts_with_exactly_two_one_line_commands():
    demo, tests = commands()
    assert demo.endswith("execlog demo") and "pip install" in demo
    assert "pip install" in tests and "pytest" in tests and "[test]" in tests


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\\[test\\]'.*pytest" in ci and "README.md" in ci
    assert "apt-get install" in ci and "chromium" in ci
    assert "no test ran" in ci


def test_settings_table_in_readme_matches_the_code():
    assert settings_table() in README, "regenerate the table with `execlog settings`"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_to_a_section_of_our_documents_finds_it():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    anchors = {p.resolve(): {_slug(h) for h in re.findall(r"^#+ (.+)$", p.read_text(), flags=re.M)} for p in docs}
    broken = []
    for page in docs:
        for target, anchor in re.findall(r"\]\(([^)#\s]*\.md)?#([^)\s]+)\)", page.read_text()):
            linked = (page.parent / target).resolve() if target else page.resolve()
            if linked in anchors and anchor not in anchors[linked]:
                broken.append(f"{page.name} → {target or page.name}#{anchor}")
    assert not broken, broken
