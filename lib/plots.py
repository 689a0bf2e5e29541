"""One figure style for the whole book: labelled axes with units, one palette, no clutter."""

from __future__ import annotations

import matplotlib.pyplot as plt

PALETTE = ["#1f5fa8", "#d1495b", "#2e933c", "#edae49", "#6c4f9c", "#00798c", "#444444"]

STYLE = {
    "figure.figsize": (6.4, 3.8),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": plt.cycler(color=PALETTE),
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (chapters call this once, after their imports)."""
    plt.rcParams.update(STYLE)


def figure(ncols: int = 1, nrows: int = 1, width: float | None = None, height: float | None = None):
    """A figure with ``nrows × ncols`` axes in the book's style; returns ``(fig, axes)``."""
    use_book_style()
    w = width if width is not None else (6.4 if ncols == 1 else 3.6 * ncols)
    h = height if height is not None else (3.8 if nrows == 1 else 3.0 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), squeeze=False, layout="constrained")
    return fig, axes[0, 0] if axes.size == 1 else axes.ravel()


def label(ax, x: str, y: str, title: str | None = None, legend: bool = False) -> None:
    """Axis labels (with units, e.g. ``"length (bytes)"``), an optional title and legend."""
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend()


def image_grid(
    images, nrows: int, ncols: int, titles=None, cmap: str = "gray_r", size: float = 1.1
):
    """Show a batch of images (N×H×W or N×H×W×3 arrays) as a grid without axes."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    fig.tight_layout()
    return fig


def md_table(header, rows):
    """A Markdown table, shown as a cell's output (chapters 3, 4 and 6 use it).

    ``header`` is one row of column titles, ``rows`` the body; every cell is shown with ``str``,
    and a ``|`` inside a cell is escaped so that it stays in its column.
    """
    from IPython.display import Markdown

    header = list(header)
    if not header:
        raise ValueError("md_table: header must name at least one column")

    def line(cells):
        return "| " + " | ".join(str(c).replace("|", r"\|") for c in cells) + " |"

    lines = [line(header), "|" + "---|" * len(header)] + [line(row) for row in rows]
    return Markdown("\n".join(lines))
