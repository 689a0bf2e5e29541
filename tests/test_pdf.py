"""The book as one PDF (`make pdf`: Jupyter Book's LaTeX builder, XeLaTeX, from the notebooks
`make book` executed). Run after the build, as `make pdf` and CI do:

    BOOK_PDF_REQUIRED=1 .venv/bin/python -m pytest -q -m pdf tests/test_pdf.py

Without BOOK_PDF_REQUIRED=1 (in `make test`, which runs before the build) the tests of the PDF
skip; with it, a missing PDF fails. Reads the PDF with poppler's pdftotext, pdffonts
and pdfimages (Debian's poppler-utils, which `make pdf` installs).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tools import notebooks

pytestmark = pytest.mark.pdf

ROOT = notebooks.ROOT
BUILD = ROOT / "_build"
PDF = BUILD / "latex" / "book.pdf"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def poppler(tool: str, *args: str) -> str:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: install poppler-utils (make pdf does)")
    r = subprocess.run([tool, *args], capture_output=True, text=True, check=True)
    return r.stdout


@pytest.fixture(scope="module")
def pdf() -> Path:
    if os.environ.get("BOOK_PDF_REQUIRED") != "1":
        # a PDF left from an earlier `make pdf` may predate the chapters: only `make pdf` tests it
        pytest.skip("the PDF is tested by `make pdf` (BOOK_PDF_REQUIRED=1), right after its build")
    if not PDF.is_file():
        pytest.fail(f"{PDF} was not built (make pdf)")
    return PDF


@pytest.fixture(scope="module")
def text(pdf) -> str:
    return poppler("pdftotext", "-enc", "UTF-8", str(pdf), "-")


def toc_files() -> list[str]:
    """Every page of the book in _toc.yml order: root first, then each part's chapters."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        files += [c["file"] for c in part["chapters"]]
    return files


def title(file: str) -> str:
    """A page's title: the first level-1 heading of the notebook or the Markdown file."""
    ipynb, md = ROOT / f"{file}.ipynb", ROOT / f"{file}.md"
    if ipynb.exists():
        cells = json.loads(ipynb.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = md.read_text()
    m = re.search(r"^# (.+)$", text, re.M)
    assert m, f"{file} has no level-1 heading"
    return m.group(1).strip()


def squash(s: str) -> str:
    """Text without markup, spacing, hyphenation or case: how a title is found in pdftotext."""
    s = re.sub(r"[`*_]|\{[a-z]+\}", "", s)
    s = s.replace("’", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"[\s\-‐]+", "", s).lower()


def test_every_page_of_the_toc_is_in_the_pdf(text):
    # catches a chapter dropped from the PDF (a page that failed to convert, a toc not followed)
    flat = squash(text)
    missing = [f for f in toc_files() if squash(title(f)) not in flat]
    assert not missing, f"titles not found in {PDF.name}: {[(f, title(f)) for f in missing]}"


def test_the_math_is_typeset(pdf, text):
    fonts = poppler("pdffonts", str(pdf))
    # catches math left out or set as plain text: TeX's math italic and symbol fonts are embedded
    assert re.search(r"CMMI|LMMath|LatinModernMath|STIXMath", fonts), fonts
    assert re.search(r"CMSY|LMMath|LatinModernMath|STIXMath", fonts), fonts
    # catches math that reached the page as TeX source instead of being typeset
    leaked = re.findall(r"\\(?:frac|begin|mathbb|sum|left)\b|\$\$", text)
    assert not leaked, f"TeX source on the page: {sorted(set(leaked))}"


def test_no_character_is_dropped(pdf):
    log = pdf.with_suffix(".log").read_text(errors="replace")
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font", log)))
    # catches glyphs XeLaTeX silently leaves out (a Unicode letter in math, a symbol in code)
    assert not missing, f"characters missing from the PDF's fonts: {missing}"


def image_outputs(path: Path) -> int | None:
    """How many image outputs the executed ``path`` shows (cells not removed), from the execution
    cache `make book` left; ``None`` if the cache has no run of its current code."""
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(BUILD / ".jupyter_cache")
    try:
        record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        return None
    nb = cache.get_cache_bundle(record.pk).nb
    hidden = {"remove-cell", "remove-output"}
    return sum(
        1
        for cell in nb.cells
        if not hidden & set(cell.get("metadata", {}).get("tags", []))
        for out in cell.get("outputs", [])
        if {"image/png", "image/jpeg"} & set(out.get("data", {}))
    )


def test_every_figure_is_in_the_pdf(pdf):
    listing = poppler("pdfimages", "-list", str(pdf)).splitlines()[2:]
    found = sum(1 for row in listing if row.split()[2] == "image")
    pages = [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]
    counts = {p.name: image_outputs(p) for p in pages}
    # catches a PDF built from notebooks other than the ones `make book` executed
    stale = [name for name, n in counts.items() if n is None]
    assert not stale, f"no cached execution of the current code of {stale}"
    expected = sum(counts.values())
    print(f"{PDF.name}: {found} images for {expected} figure outputs {counts}")
    # catches figures dropped on the way from the notebooks' outputs to the page
    assert found >= expected > 0, f"{found} images in the PDF, {expected} figures in the chapters"


def test_the_html_book_links_the_pdf(pdf):
    intro = BUILD / "html" / "chapters" / "intro.html"
    if not intro.exists():
        pytest.skip("the HTML book is not built")
    hrefs = re.findall(r'href="([^"#]*\.pdf)"', intro.read_text())
    # catches an intro without the link, or a link to where `make pdf` put nothing
    assert hrefs, "the intro page does not link the PDF"
    for href in hrefs:
        target = (intro.parent / href).resolve()
        assert target.is_file(), f"the intro links {href}, but {target} does not exist"


def test_the_latex_preamble_defines_the_mathjax_macros():
    # catches a macro added for the HTML pages (MathJax) that would stop the PDF build
    macros = CONFIG["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    preamble = CONFIG["sphinx"]["config"]["latex_elements"]["preamble"]
    for name, body in macros.items():
        assert f"\\newcommand{{\\{name}}}{{{body}}}" in preamble, name
