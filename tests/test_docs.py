"""The documentation holds together: the README stays short, and every relative link in the README, docs/,
CONTRIBUTING.md and benchmarks/README.md points to a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

README_MAX_LINES = 200
# Inline links and images, `[text](target)` or `[text](target "title")`; reference definitions too.
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,}).*?^\1\2`*\s*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)


def documentation() -> list[Path]:
    """Every markdown file of the project's documentation (not the test fixtures' own READMEs)."""
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "benchmarks" / "README.md"]
    return files + sorted((ROOT / "docs").rglob("*.md"))


def links(text: str) -> list[str]:
    """The link targets of a markdown text, outside code blocks and code spans."""
    prose = _CODE_SPAN.sub("", _FENCE.sub("", text))
    return _INLINE_LINK.findall(prose) + _REFERENCE.findall(prose)


def broken_links(text: str, directory: Path) -> list[str]:
    """The relative link targets of `text`, read in `directory`, that name no file of the project."""
    broken = []
    for target in links(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: ...: not checked here
            continue
        if "#" in target:
            broken.append(
                f"{target}: no anchors, link to the file (anchors break silently when a heading moves)"
            )
            continue
        resolved = (directory / target).resolve()
        if not resolved.exists() or not resolved.is_relative_to(ROOT):
            broken.append(f"{target}: no such file")
    return broken


def test_the_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move details to docs/"


def reachable_from(start: Path) -> set[Path]:
    """Every documentation file a reader reaches from `start` by following relative links."""
    seen, todo = {start.resolve()}, [start.resolve()]
    while todo:
        page = todo.pop()
        for target in links(page.read_text()):
            found = (page.parent / target).resolve()
            if found.suffix == ".md" and found.exists() and found not in seen:
                seen.add(found)
                todo.append(found)
    return seen


def test_every_documentation_file_is_reached_from_the_readme() -> None:
    reached = reachable_from(ROOT / "README.md")
    missing = [path.relative_to(ROOT).as_posix() for path in documentation()[1:] if path not in reached]
    assert missing == []


def test_a_page_no_link_reaches_is_found(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("[a](docs/a.md)\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("[b](b.md) [up](../README.md)\n")
    (tmp_path / "docs" / "b.md").write_text("end\n")
    (tmp_path / "docs" / "orphan.md").write_text("[a](a.md)\n")
    reached = reachable_from(tmp_path / "README.md")
    assert {p.name for p in reached} == {"README.md", "a.md", "b.md"}


def test_every_relative_link_points_to_a_file() -> None:
    problems = [
        f"{path.relative_to(ROOT)}: {problem}"
        for path in documentation()
        for problem in broken_links(path.read_text(), path.parent)
    ]
    assert problems == []


def test_the_link_check_finds_broken_links() -> None:
    text = (
        "[ok](../README.md) [gone](missing.md) [anchor](../README.md#top) ![img](nope.png) "
        "[web](https://example.com/x.md) `[code](not-a-link.md)`\n\n```\n[fenced](also-not.md)\n```\n"
        "[ref]: gone-too.md\n"
    )
    assert links(text) == [
        "../README.md",
        "missing.md",
        "../README.md#top",
        "nope.png",
        "https://example.com/x.md",
        "gone-too.md",
    ]
    problems = broken_links(text, ROOT / "docs")
    assert [problem.split(":")[0] for problem in problems] == [
        "missing.md",
        "../README.md#top",
        "nope.png",
        "gone-too.md",
    ]
