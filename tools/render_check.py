"""Look at the built book the way a reader does: every page in headless Chromium.

    python -m tools.render_check [_build/html] [--screenshots DIR]

For each page of ``_build/html`` it reports what a reader would see as broken:

* math that MathJax did not typeset (raw ``$$``, ``\\begin{...}`` text, ``.math`` elements without
  an ``mjx-container``, MathJax error boxes);
* figures that do not load (``img`` elements whose ``naturalWidth`` is 0);
* MyST syntax left as text (```` ```{ ````, ``{glue:``, ``{prf:``, ``{exercise-``, ``{solution-``,
  ``:::``) and unresolved glue keys;
* Python tracebacks in cell outputs;
* Colab launch links that are malformed or point to a notebook the repository does not have.

* in both of the theme's colour modes, light and dark: text in tables, cell outputs and captions
  with too little contrast against what is behind it (WCAG's 4.5:1), and figures with a
  transparent background on a dark page (matplotlib's black labels would vanish); and a dark mode
  that did not switch on.

It saves a screenshot of each page in each mode (``_build/screenshots/<page>.png`` and
``<page>.dark.png``). Chromium is Debian's
(``/usr/bin/chromium``; ``BOOK_CHROMIUM`` overrides) driven by Playwright, whose own browser
download is never used. The pages load MathJax from its public CDN; when a local copy of the
MathJax 3 npm package is found (``BOOK_MATHJAX``, else ``.venv/mathjax/node_modules/mathjax``)
those requests are answered from it, so the check works offline. Exit status 1 when any page has a
problem.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# MyST syntax that must never reach the reader as text.
RAW_MYST = [
    ("```{", "a MyST directive fence"),
    ("{glue:", "a glue role"),
    ("{glue}", "a glue role"),
    ("{prf:", "a sphinx-proof role or directive"),
    ("{exercise-", "an exercise directive"),
    ("{solution-", "a solution directive"),
    ("{exercise}", "an exercise directive"),
    ("{solution}", "a solution directive"),
    ("{cite", "a cite role"),
    ("{ref}`", "a ref role"),
    ("{numref}`", "a numref role"),
    ("{eq}`", "an eq role"),
    ("{math}`", "a math role"),
]
RAW_MATH = [
    (re.compile(r"\$\$"), "display math delimiters $$"),
    (re.compile(r"\\begin\{"), "a LaTeX \\begin{...}"),
    (re.compile(r"\\end\{"), "a LaTeX \\end{...}"),
    (re.compile(r"\$[^$\n]*\\[A-Za-z]+[^$\n]*\$"), "inline math $...\\cmd...$"),
    (re.compile(r"\\\(|\\\)|\\\[|\\\]"), "math delimiters \\( \\) \\[ \\]"),
]
# A figure that reached the page as text: its repr, or matplotlib refusing to show it.
FIGURE_AS_TEXT = re.compile(
    r"<Figure size \d+x\d+ with \d+ Axes>|FigureCanvasAgg is non-interactive"
)
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^-{20,}\n\w+Error", re.M)
COLAB = re.compile(
    r"^https://colab\.research\.google\.com/github/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)"
    r"/blob/(?P<branch>[\w.-]+)/(?P<path>[\w./-]+\.ipynb)$"
)

# What the browser reports about a page. Code cell sources (``.cell_input``) are left out of the
# text checks: a code listing may legitimately contain ``$`` or braces.
PAGE_REPORT_JS = r"""
async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const hasMath = document.querySelector('.math') !== null;
  if (hasMath && document.querySelector('script[src*="mathjax"]')) {
    for (let i = 0; i < 150 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
      await sleep(100);
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      try { await MathJax.startup.promise; } catch (e) {}
    }
  }
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(r => {
    img.addEventListener('load', r); img.addEventListener('error', r); setTimeout(r, 10000);
  })));
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('.cell_input, script, style, noscript, mjx-container, mjx-assistive-mml')
       .forEach(e => e.remove());
  // Code shown on purpose in the prose (literal blocks, inline code) may quote MyST or TeX
  // source; what cells printed (.cell_output) is kept.
  clone.querySelectorAll('pre, code, div.highlight').forEach(e => {
    if (!e.closest('.cell_output')) e.remove();
  });
  // innerText needs layout; a detached clone gives textContent, so keep block breaks by hand.
  clone.querySelectorAll('p, div, li, pre, h1, h2, h3, h4, br, tr').forEach(
       e => e.append(document.createTextNode('\n')));
  return {
    mathjax: !!(window.MathJax && MathJax.startup),
    math: Array.from(document.querySelectorAll('.math')).map(
        e => ({typeset: e.querySelector('mjx-container') !== null,
               text: e.textContent.slice(0, 80)})),
    mathErrors: Array.from(document.querySelectorAll('mjx-merror')).map(
        e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120)),
    images: imgs.map(img => ({src: img.getAttribute('src'),
                              ok: img.complete && img.naturalWidth > 0})),
    colab: Array.from(document.querySelectorAll('a[href*="colab.research.google.com"]'))
                .map(a => a.href),
    errorOutputs: document.querySelectorAll('.output.error, .output.traceback').length,
    // a {cite} whose key the bibliography lacks renders as "[]"
    emptyCitations: Array.from(document.querySelectorAll('.bibtex-citation, .citation-reference'))
        .filter(e => /^\[?\s*\]?$/.test(e.textContent.trim())).length,
    // cells whose code draws a figure but whose output shows no image (e.g. a non-inline
    // matplotlib backend such as MPLBACKEND=Agg during the build swallows every figure)
    figureless: Array.from(document.querySelectorAll('div.cell')).filter(cell => {
      const input = cell.querySelector('.cell_input');
      const src = input ? input.textContent : '';
      const draws = /plots\.figure\(|image_grid\(|plt\.(subplots|figure|plot|imshow|scatter)\(/;
      // no output at all: a cell that printed something instead (e.g. "nothing to plot") is fine
      const output = cell.querySelector('.cell_output');
      const silent = output === null || output.textContent.trim() === ''
                     && output.querySelector('img, svg, table') === null;
      return draws.test(src) && !/glue\(/.test(src) && silent;
    }).map(cell => cell.querySelector('.cell_input').textContent.trim().slice(0, 60)),
    text: clone.textContent,
  };
}
"""


# Readability in the page's colour mode: contrast of text against its effective background
# (the first ancestor with an opaque enough background), and figures whose transparent pixels
# would show a dark background through. Same-origin images can be read back through a canvas.
READABILITY_JS = r"""
async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(r => {
    img.addEventListener('load', r); img.addEventListener('error', r); setTimeout(r, 10000);
  })));
  const rgba = s => (s.match(/[\d.]+/g) || [0, 0, 0, 0]).map(Number).concat([1]).slice(0, 4);
  const background = e => {
    for (; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] >= 0.5) return c;
    }
    return [255, 255, 255, 1];
  };
  const lum = c => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const lowContrast = [];
  document.querySelectorAll('td, th, .cell_output pre, figcaption, .caption').forEach(e => {
    const text = e.textContent.trim();
    if (!text || e.offsetParent === null) return;
    const ratio = contrast(rgba(getComputedStyle(e).color), background(e));
    if (ratio < 4.5) lowContrast.push({text: text.slice(0, 40), ratio: +ratio.toFixed(2)});
  });
  const transparentOnDark = [];
  const content = document.querySelector('.bd-content') || document.body;
  content.querySelectorAll('img').forEach(img => {
    if (!img.complete || !img.naturalWidth) return;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 48;
    const ctx = canvas.getContext('2d');
    let clear = 0;
    try {
      ctx.drawImage(img, 0, 0, 48, 48);
      const px = ctx.getImageData(0, 0, 48, 48).data;
      for (let i = 3; i < px.length; i += 4) clear += px[i] < 128;
    } catch (err) { return; }
    // a transparent figure needs a light background behind it (its labels are black)
    if (clear / (48 * 48) > 0.05 && lum(background(img)) < 0.4)
      transparentOnDark.push(img.getAttribute('src'));
  });
  return {theme: document.documentElement.dataset.theme || null,
          themed: document.querySelector('script[src*="pydata-sphinx-theme"]') !== null,
          lowContrast, transparentOnDark};
}
"""
MODES = ("light", "dark")
# The theme (pydata-sphinx-theme) keeps the reader's choice here; set before a page loads.
SET_MODE_JS = "mode => { localStorage.setItem('mode', mode); localStorage.setItem('theme', mode); }"


def readability_problems(report: dict, mode: str) -> list[str]:
    """What is hard to read on a page in ``mode`` (light or dark)."""
    found = []
    if report["themed"] and report["theme"] != mode:
        found.append(f"{mode} mode did not switch on (data-theme is {report['theme']!r})")
    low = report["lowContrast"]
    if low:
        worst = min(low, key=lambda e: e["ratio"])
        found.append(f"{mode} mode: {len(low)} text element(s) with contrast under 4.5:1, e.g. "
                     f"{worst['text']!r} at {worst['ratio']}:1")  # fmt: skip
    found += [f"{mode} mode: a figure with a transparent background on a dark page: {src}"
              for src in report["transparentOnDark"]]  # fmt: skip
    return found


def find_chromium() -> str | None:
    """Debian's Chromium (or another Chrome) on this machine, or None."""
    candidates = [os.environ.get("BOOK_CHROMIUM", ""), "/usr/bin/chromium"]
    candidates += [shutil.which(n) or "" for n in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def find_mathjax() -> Path | None:
    """A local copy of the MathJax 3 npm package (the directory holding ``es5/``), or None."""
    for c in (os.environ.get("BOOK_MATHJAX", ""), ROOT / ".venv/mathjax/node_modules/mathjax"):
        if c and (Path(c) / "es5/tex-mml-chtml.js").is_file():
            return Path(c)
    return None


def pages(html_dir: Path) -> list[Path]:
    """Every page of the built book (not the theme's assets or the copied sources)."""
    skip = {"_static", "_sources", "_images", "_downloads", "_panels_static"}
    return sorted(
        p for p in Path(html_dir).rglob("*.html") if not skip & set(p.relative_to(html_dir).parts)
    )


@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def colab_problems(hrefs: list[str], page: str, root: Path = ROOT) -> list[str]:
    """Colab links must name this repository's main branch and a notebook that exists in it."""
    from tools.notebooks import repository_url

    owner_repo = repository_url().rstrip("/").removesuffix(".git").split("/")[-2:]
    found = []
    for href in sorted(set(hrefs)):
        m = COLAB.match(href)
        if not m:
            found.append(f"malformed Colab link {href}")
        elif [m["owner"], m["repo"]] != owner_repo:
            found.append(f"Colab link names {m['owner']}/{m['repo']}, not {'/'.join(owner_repo)}")
        elif m["branch"] != "main":
            found.append(f"Colab link names branch {m['branch']}, not main")
        elif not (root / m["path"]).is_file():
            found.append(f"Colab link opens {m['path']}, which the repository does not have")
    notebook = root / Path(page).with_suffix(".ipynb")
    if notebook.is_file() and not hrefs:
        found.append(f"no Colab launch link for {notebook.relative_to(root)}")
    return found


def text_problems(text: str) -> list[str]:
    """Raw MyST, raw math and tracebacks in a page's visible text."""
    found = []
    for needle, what in RAW_MYST:
        i = text.find(needle)
        if i >= 0:
            found.append(f"raw MyST text ({what}): {snippet(text, i)!r}")
    for line in text.splitlines():
        if line.strip().startswith(":::"):
            found.append(f"raw MyST text (a colon fence): {line.strip()[:60]!r}")
            break
    for pattern, what in RAW_MATH:
        m = pattern.search(text)
        if m:
            found.append(f"untypeset math ({what}): {snippet(text, m.start())!r}")
    m = FIGURE_AS_TEXT.search(text)
    if m:
        found.append(f"a figure shown as text, not as an image: {snippet(text, m.start())!r}")
    m = TRACEBACK.search(text)
    if m:
        error = re.search(r"^\s*(\w+(Error|Exception|Interrupt)\b.*)$", text[m.start() :], re.M)
        what = error.group(1)[:100] if error else snippet(text, m.start())
        found.append(f"a Python traceback in the output: {what!r}")
    return found


def snippet(text: str, i: int, width: int = 50) -> str:
    return " ".join(text[max(0, i - 10) : i + width].split())


def redirect_target(path: Path) -> str | None:
    """Where a page that only redirects (``<meta http-equiv="refresh">``) sends the reader."""
    head = path.read_text(errors="replace")[:2000]
    m = re.search(r'http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', head, re.I)
    return m.group(1) if m else None


def report_problems(report: dict, page: str, root: Path = ROOT) -> list[str]:
    """Everything wrong with one page, from the browser's report of it."""
    found = text_problems(report["text"])
    untypeset = [m["text"] for m in report["math"] if not m["typeset"]]
    if untypeset:
        why = "" if report["mathjax"] else " (MathJax did not load)"
        found.append(f"{len(untypeset)} math element(s) not typeset{why}, e.g. {untypeset[0]!r}")
    found += [f"MathJax error: {e!r}" for e in report["mathErrors"]]
    found += [f"image does not load: {i['src']}" for i in report["images"] if not i["ok"]]
    found += [f"a cell that draws a figure shows no image: {src!r}" for src in report["figureless"]]
    if report["emptyCitations"]:
        found.append(
            f"{report['emptyCitations']} empty citation(s) [] (a key not in any .bib file)"
        )
    if report["errorOutputs"]:
        found.append(f"{report['errorOutputs']} error output(s) from a cell")
    found += colab_problems(report["colab"], page, root)
    return found


def check_site(
    html_dir: Path,
    screenshots: Path | None = None,
    chromium: str | None = None,
    mathjax: Path | None = None,
    root: Path = ROOT,
) -> dict[str, list[str]]:
    """Open every page of ``html_dir`` in headless Chromium; ``{page: [problems]}`` for all pages.

    ``root`` is the repository the Colab links must point into.
    """
    from playwright.sync_api import sync_playwright

    html_dir = Path(html_dir)
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError(
            "no Chromium found (apt-get install chromium, or set BOOK_CHROMIUM)"
        )
    mathjax = mathjax or find_mathjax()
    results = {}
    with (
        serve(html_dir) as base,
        tempfile.TemporaryDirectory(prefix="book-chromium-") as profile,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=LAUNCH_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        browser.route(re.compile(r"^https?://"), functools.partial(_route, base, mathjax))
        tabs = {}
        for mode in MODES:
            tabs[mode] = browser.new_page()
            tabs[mode].emulate_media(color_scheme=mode)
            tabs[mode].add_init_script(f"({SET_MODE_JS})({mode!r})")
        for path in pages(html_dir):
            rel = path.relative_to(html_dir).as_posix()
            target = redirect_target(path)
            if target is not None:  # index.html only forwards to the root page
                ok = (path.parent / target).is_file()
                results[rel] = [] if ok else [f"redirects to {target}, which does not exist"]
                continue
            results[rel] = []
            for mode, page in tabs.items():
                page.goto(base + rel, wait_until="load", timeout=60_000)
                if mode == MODES[0]:  # the content checks do not depend on the colours
                    report = page.evaluate(PAGE_REPORT_JS)
                    results[rel] += report_problems(report, rel, root)
                results[rel] += readability_problems(page.evaluate(READABILITY_JS), mode)
                if screenshots is not None:
                    suffix = "" if mode == MODES[0] else f".{mode}"
                    name = rel.removesuffix(".html").replace("/", "__") + suffix + ".png"
                    shot = Path(screenshots) / name
                    shot.parent.mkdir(parents=True, exist_ok=True)
                    height = page.evaluate("document.documentElement.scrollHeight")
                    clip = {"x": 0, "y": 0, "width": 1280, "height": min(max(height, 900), 12000)}
                    page.screenshot(path=str(shot), full_page=True, clip=clip)
        browser.close()
    return results


def _route(base: str, mathjax: Path | None, route, request) -> None:
    """Local pages pass; MathJax comes from the local copy when there is one; with no local copy
    the request goes out (a reader's browser does the same)."""
    m = re.search(r"/mathjax@?[\d.]*/(es5/[^?#]+)", request.url)
    if m and mathjax is not None:
        file = mathjax / m.group(1)
        if file.is_file():
            return route.fulfill(path=str(file))
        return route.fulfill(status=404, body="")
    return route.continue_()


def main(argv: list[str]) -> int:
    args = argv[1:]
    screenshots = None
    if "--screenshots" in args:
        i = args.index("--screenshots")
        screenshots = Path(args[i + 1])
        del args[i : i + 2]
    html_dir = Path(args[0]) if args else ROOT / "_build/html"
    if screenshots is None:
        screenshots = html_dir.parent / "screenshots"
    if not html_dir.is_dir():
        print(f"{html_dir} does not exist: build the book first (make book)")
        return 2
    # The repository the book was built from: the Colab links must point into it.
    root = html_dir.resolve().parents[1]
    results = check_site(
        html_dir, screenshots, root=root if (root / "_toc.yml").is_file() else ROOT
    )
    bad = {page: found for page, found in results.items() if found}
    for page, found in bad.items():
        print(f"{page}:")
        for f in found:
            print(f"  - {f}")
    print(f"{len(results)} pages checked, {len(bad)} with problems; screenshots in {screenshots}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
