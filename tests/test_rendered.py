"""The built book as a reader sees it: every page of _build/html opened in headless Chromium
(tools/render_check.py), screenshots in _build/screenshots. Run after `make book`:

    .venv/bin/python -m pytest -q -m browser tests/test_rendered.py

Skipped when the book has not been built; when Chromium is missing it is skipped locally and
FAILS under CI (CI=true), where .ci/run installs it.
"""

import json
import os
import re

import pytest

from tools import notebooks, render_check

pytestmark = pytest.mark.browser

ROOT = notebooks.ROOT
HTML = ROOT / "_build" / "html"


def chromium_or_skip() -> str:
    chromium = render_check.find_chromium()
    missing = None
    if chromium is None:
        missing = "Chromium is not installed (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed (pip install playwright)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: {missing}")
        pytest.skip(missing)
    return chromium


def test_every_page_of_the_built_book_renders():
    if not (HTML / "index.html").is_file():
        pytest.skip("_build/html does not exist: build the book first (make book)")
    chromium = chromium_or_skip()
    results = render_check.check_site(HTML, ROOT / "_build" / "screenshots", chromium)
    bad = {page: found for page, found in results.items() if found}
    assert not bad, "\n".join(f"{p}:\n  " + "\n  ".join(f) for p, f in bad.items())
    # every notebook in the table of contents became a page (with a Colab link, checked above)
    toc = (ROOT / "_toc.yml").read_text()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        if f"chapters/{path.stem}" in toc:
            assert f"chapters/{path.stem}.html" in results, f"no page for {path.name}"


# --- the check itself must be able to fail ---------------------------------------------------

# The theme's colour modes, in miniature: the mode is read from localStorage, dark mode gives
# the page a dark background and content images a white one (unless marked .dark-light).
THEME = """<style>html[data-theme=dark] body {{background: #121212; color: #ddd}}
html[data-theme=dark] .bd-content img:not(.dark-light) {{background: #fff}}</style>
<script>document.documentElement.dataset.theme = localStorage.getItem('mode') || 'light';</script>
<script src="../_static/scripts/pydata-sphinx-theme.js"></script>"""
PAGE = (
    """<!DOCTYPE html><html><head><meta charset="utf-8">{head}"""
    + THEME
    + """</head><body>
<div class="bd-content">
<a href="{colab}">Open in Colab</a>
<div class="cell_input"><pre>glue("ch1-x", x)  # code may show $ and {{glue: braces</pre></div>
{body}
</div></body></html>"""
)


def transparent_png(size=8):
    """A PNG whose pixels are all transparent (as a figure saved with transparent=True)."""
    import struct
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\x00\x00\x00\x00" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


COLAB = "https://colab.research.google.com/github/{repo}/blob/main/chapters/{name}.ipynb"


@pytest.fixture(scope="module")
def fake_book(tmp_path_factory):
    """A repository with two notebooks and a built 'book': one clean page, one broken page."""
    root = tmp_path_factory.mktemp("fake_book")
    (root / "_toc.yml").write_text("root: chapters/01_good\n")
    html = root / "_build" / "html" / "chapters"
    (root / "_build" / "html" / "_images").mkdir(parents=True)
    html.mkdir(parents=True)
    (root / "chapters").mkdir()
    for name in ("01_good", "02_bad"):
        (root / "chapters" / f"{name}.ipynb").write_text(json.dumps({"cells": []}))
    (root / "_build" / "html" / "_images" / "fig.png").write_bytes(transparent_png())
    repo = "/".join(notebooks.repository_url().rstrip("/").split("/")[-2:])
    mathjax = render_check.find_mathjax()
    head = '<script defer src="/npm/mathjax@3/es5/tex-mml-chtml.js"></script>' if mathjax else ""
    good_math = (
        '<p>A bound: <span class="math notranslate nohighlight">\\(e^{-2m\\epsilon^2}\\)</span></p>'
    )
    (html / "01_good.html").write_text(
        PAGE.format(
            head=head,
            colab=COLAB.format(repo=repo, name="01_good"),
            body="<p>Write <code>{glue:text}`key`</code> in the source.</p>"
            "<pre>```{prf:theorem} as source $$x$$</pre>"
            '<div class="cell"><div class="cell_input"><pre>fig, ax = plots.figure()</pre>'
            '</div><div class="cell_output"><img src="../_images/fig.png"></div></div>'
            "<table><tr><th>n</th><td>42</td></tr></table>" + (good_math if mathjax else ""),
        )
    )
    (html / "02_bad.html").write_text(
        PAGE.format(
            head="",
            colab=COLAB.format(repo=repo, name="09_missing"),
            body="""
<p>The rate is {glue:text}`ch2-rate:.3f` bits.</p>
<img src="../_images/missing.png">
<p>$$ K(x) \\le |p| $$</p>
<span class="math notranslate nohighlight">\\(x\\)</span>
<p>```{prf:theorem} Occam</p>
<p>::: note</p>
<p>As shown by <span class="bibtex-citation" id="id1">[]</span>.</p>
<div class="cell_output"><div class="output traceback"><pre>Traceback (most recent call last):
  File "x.py", line 1
ValueError: boom</pre></div></div>
<a href="https://colab.research.google.com/drive/nothing">bad link</a>
<div class="cell"><div class="cell_input"><pre>fig, ax = plots.figure()</pre></div>
<div class="cell_output"><pre>&lt;Figure size 640x480 with 1 Axes&gt;</pre></div></div>
<div class="cell"><div class="cell_input"><pre>fig, ax = plots.figure()  # b</pre></div></div>
<img class="dark-light" src="../_images/fig.png">
<table><tr><td style="color: #222">a dim number</td></tr></table>
""",
        )
    )
    return root


def test_the_check_passes_a_clean_page_and_reports_every_fault(fake_book, tmp_path):
    chromium = chromium_or_skip()
    results = render_check.check_site(
        fake_book / "_build" / "html", tmp_path / "shots", chromium, root=fake_book
    )
    assert results["chapters/01_good.html"] == []
    bad = "\n".join(results["chapters/02_bad.html"])
    for expected in [
        r"raw MyST text \(a glue role\)",
        r"raw MyST text \(a MyST directive fence\)",
        r"raw MyST text \(a colon fence\)",
        r"raw MyST text \(a sphinx-proof",
        r"untypeset math \(display math delimiters",
        r"math element\(s\) not typeset",
        r"image does not load: \.\./_images/missing\.png",
        r"a Python traceback in the output: 'ValueError: boom'",
        r"error output",
        r"1 empty citation",
        r"opens chapters/09_missing\.ipynb, which the repository does not have",
        r"malformed Colab link",
        r"a cell that draws a figure shows no image: 'fig, ax = plots.figure\(\)  # b'",
        r"a figure shown as text",
        r"dark mode: 1 text element\(s\) with contrast under 4\.5:1, e\.g\. 'a dim number'",
        r"dark mode: a figure with a transparent background on a dark page: \.\./_images/fig",
    ]:
        assert re.search(expected, bad), f"not reported: {expected}\n{bad}"
    assert "light mode" not in bad  # the dim number is dark on white: readable in light mode
    for shot in ("chapters__02_bad.png", "chapters__02_bad.dark.png"):
        assert (tmp_path / "shots" / shot).stat().st_size > 0


def test_colab_links_are_checked_without_a_browser(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_a.ipynb").write_text("{}")
    repo = "/".join(notebooks.repository_url().rstrip("/").split("/")[-2:])
    good = COLAB.format(repo=repo, name="01_a")
    assert render_check.colab_problems([good], "chapters/01_a.html", tmp_path) == []
    assert render_check.colab_problems([], "chapters/01_a.html", tmp_path)  # link missing
    assert render_check.colab_problems([good.replace("/main/", "/dev/")], "x.html", tmp_path)
    assert render_check.colab_problems([good.replace(repo, "someone/else")], "x.html", tmp_path)
