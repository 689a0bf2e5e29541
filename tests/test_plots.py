import pytest
from IPython.display import Markdown

from lib import plots


def test_md_table_rows_and_header_as_markdown():
    t = plots.md_table(["name", 2], [["zlib", 3.5], ("bz2", None)])
    assert isinstance(t, Markdown)
    assert t.data.splitlines() == [
        "| name | 2 |",
        "|---|---|",
        "| zlib | 3.5 |",
        "| bz2 | None |",
    ]


def test_md_table_keeps_a_bar_inside_its_cell():
    # fails if "C(y|x)" would split into two columns
    assert plots.md_table(["C(y|x)"], [["a|b"]]).data.splitlines() == [
        r"| C(y\|x) |",
        "|---|",
        r"| a\|b |",
    ]


def test_md_table_needs_a_column():
    with pytest.raises(ValueError, match="header"):
        plots.md_table([], [])
