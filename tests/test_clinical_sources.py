"""The clinical sources live in the repository (docs/clinical.md) and every citation points there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLINICAL = ROOT / "docs" / "clinical.md"
SKIP_DIRS = {".venv", ".tools", ".git", "data", "test-artifacts", "node_modules", "dist", "build"}
TEXT_SUFFIXES = {".py", ".md", ".html", ".txt", ".toml", ".cfg", ".json", ".css", ".js", ".sh", ""}
# Spelled in pieces so that this file does not cite what it forbids.
OLD_CITATION = re.compile("CLINICAL" + r"\.md|\.\./" + "shared/|" + "shared/" + "CLINICAL")
ANCHORED = re.compile(r"clinical\.md#([a-z0-9-]+)")


def _repository_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if any(part in SKIP_DIRS or part.endswith("_cache") for part in relative.parts):
            continue
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            files.append(path)
    return files


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


def test_no_file_cites_the_old_out_of_repository_notes() -> None:
    files = _repository_files()
    assert ROOT / "alliancew" in files and len(files) > 100
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        )
        if OLD_CITATION.search(line)
    ]
    assert offenders == [], "cite docs/clinical.md instead"


def test_the_pattern_catches_the_old_citation_forms() -> None:
    for cited in ("see " + "CLINICAL" + ".md", "../" + "shared/notes", "shared/" + "CLINICAL"):
        assert OLD_CITATION.search(cited)
    assert not OLD_CITATION.search("docs/clinical.md#change-metrics")


def test_every_anchor_cited_exists_in_docs_clinical_md() -> None:
    headings = [
        line.lstrip("#").strip()
        for line in CLINICAL.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    ]
    anchors = {_slug(h) for h in headings}
    assert {"change-metrics", "alliance-ruptures-and-repair", "phq-9-item-9"} <= anchors
    cited = {
        (anchor, str(path.relative_to(ROOT)))
        for path in _repository_files()
        for anchor in ANCHORED.findall(path.read_text(encoding="utf-8", errors="replace"))
    }
    assert len(cited) >= 5
    assert sorted(c for c in cited if c[0] not in anchors) == []


def test_the_sources_page_keeps_its_key_figures_with_sources() -> None:
    text = CLINICAL.read_text(encoding="utf-8")
    for figure, source in [
        ("r = .39", "Hayes"),
        ("r = \u2212.16", "Hayes"),  # a minus sign, as printed
        ("r = .29", "Eubanks, Muran & Safran 2018"),
        ("r = .278", "Flückiger"),
        ("6.198", "Jacobson & Truax 1991"),
        ("71.6%", "10.1176/appi.ps.201500149"),
        ("85%", "Hannan et al. 2005"),
        ("metacommunication", "Safran & Muran"),
    ]:
        assert figure in text and source in text, figure
    assert text.count("UNVERIFIED") >= 3
