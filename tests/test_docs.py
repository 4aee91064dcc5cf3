"""Every ``docs/`` page (and section) that the code, the configs and the README point at exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REFERENCE = re.compile(r"docs/([\w./-]+?\.md)(?:#([\w-]+))?")
"""``docs/page.md`` or ``docs/page.md#section``, as a docstring, comment or link writes it."""
SEARCHED = ("src", "tests", "configs", "experiments")


def heading_anchor(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading: lower case, punctuation dropped, spaces as
    hyphens.

    >>> heading_anchor("Per-layer P&L attribution")
    'per-layer-pl-attribution'
    """
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of every heading of a Markdown page."""
    lines = page.read_text().splitlines()
    return {heading_anchor(line.lstrip("#")) for line in lines if line.startswith("#")}


def references() -> list[tuple[str, str, str | None]]:
    """``(where, page, section)`` of every ``docs/`` reference outside ``docs/``."""
    files = [ROOT / "README.md"]
    for folder in SEARCHED:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md", ".yaml"}]
    found = []
    for path in files:
        if path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for match in REFERENCE.finditer(line):
                where = f"{path.relative_to(ROOT)}:{number}"
                found.append((where, match.group(1), match.group(2)))
    return found


def test_the_code_points_at_the_docs() -> None:
    pages = {page for _, page, _ in references()}
    assert {"architecture.md", "guard.md", "measures.md", "market.md"} <= pages


@pytest.mark.parametrize(("where", "page", "section"), references(), ids=lambda value: str(value))
def test_every_referenced_page_and_section_exists(where: str, page: str, section: str | None) -> None:
    path = DOCS / page
    assert path.is_file(), f"{where} points at docs/{page}, which does not exist"
    if section is not None:
        assert section in anchors(path), f"{where} points at docs/{page}#{section}, which has no such heading"


def test_every_link_between_docs_pages_resolves() -> None:
    broken = []
    for page in DOCS.glob("*.md"):
        for target, section in re.findall(r"\]\(([\w./-]+\.md)(?:#([\w-]+))?\)", page.read_text()):
            linked = (page.parent / target).resolve()
            if not linked.is_file() or (section and section not in anchors(linked)):
                broken.append(f"{page.name} -> {target}#{section}")
        for section in re.findall(r"\]\(#([\w-]+)\)", page.read_text()):
            if section not in anchors(page):
                broken.append(f"{page.name} -> #{section}")
    assert broken == []


def test_the_readme_links_the_docs() -> None:
    assert "(docs/README.md)" in (ROOT / "README.md").read_text()


def test_every_file_and_function_the_docs_name_exists() -> None:
    """A page that says where something is enforced names a file (``thetagym/...py`` under
    ``src/``, or a path from the repository's root) and, after a comma, the function there."""
    missing = []
    named = re.compile(r"`((?:thetagym|tests|configs)/[\w./-]+\.(?:py|yaml))`(?:, `(\w+)`)?")
    for page in DOCS.glob("*.md"):
        for path, function in named.findall(page.read_text()):
            file = ROOT / ("src" if path.startswith("thetagym/") else "") / path
            if not file.is_file():
                missing.append(f"{page.name}: {path}")
            elif function and not re.search(rf"^\s*def {function}\b", file.read_text(), flags=re.M):
                missing.append(f"{page.name}: {path} has no function {function}")
    assert missing == []
