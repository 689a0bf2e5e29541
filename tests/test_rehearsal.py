"""The rehearsal runner (tools/rehearsal.py): fast checks of its parts, and (marked
``rehearsal``, deselect with ``-m "not rehearsal"``) every chapter's full code path rehearsed.
``make test-rehearsal`` runs the latter alone."""

import json
import os

import nbformat
import pytest

from tools import rehearsal


def test_chapters_are_named_by_stem_or_number():
    names = rehearsal.chapter_names()
    assert names[0] == "01_pac_bound" and len(names) >= 7
    assert (
        rehearsal._resolve([1, "02", "03_kolmogorov", "chapters/04_chain_rule.ipynb"]) == names[:4]
    )
    with pytest.raises(ValueError, match="unknown chapter"):
        rehearsal._resolve(["99"])


@pytest.mark.parametrize("chapter", rehearsal.chapter_names())
def test_overrides_name_full_settings_and_shrink_them(chapter):
    # catches a chapter that renamed a setting the table still overrides (it would fail at run
    # time with the same message, but only minutes into the rehearsal)
    full = rehearsal.full_settings(chapter)
    overrides = rehearsal.OVERRIDES[chapter]
    assert set(overrides) <= set(full), set(overrides) - set(full)
    assert "scale" not in overrides and "device" not in overrides


def test_environment_switches_the_rehearsal_on(tmp_path):
    env = rehearsal.environment("01_pac_bound", "cpu", tmp_path)
    assert env["BOOK_SCALE"] == "full" and env["BOOK_REHEARSAL"] == "1"
    assert json.loads(env["BOOK_REHEARSAL_SETTINGS"]) == rehearsal.OVERRIDES["01_pac_bound"]
    assert env["BOOK_REHEARSAL_DATA"] == str(tmp_path) and env["BOOK_DEVICE"] == "cpu"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(rehearsal.ROOT)


def test_missing_glue_names_prose_without_a_glued_value():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "a {glue:text}`x:.2f` and {glue:}`y`, then\n```{glue:figure} fig\n```"
        ),
        nbformat.v4.new_code_cell("glue"),
    ]
    nb.cells[1].outputs = [
        nbformat.v4.new_output(
            "display_data", data={}, metadata={"scrapbook": {"name": "x", "mime_prefix": ""}}
        )
    ]
    assert rehearsal.missing_glue(nb) == ["fig", "y"]


def test_a_failing_cell_is_reported_with_its_number(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import os\nassert os.environ['BOOK_REHEARSAL'] == '1'"),
        nbformat.v4.new_code_cell("raise ValueError('shrunk too far')"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    monkeypatch.setattr(rehearsal, "CHAPTERS", tmp_path)
    nbformat.write(nb, tmp_path / "98_probe.ipynb")
    result = rehearsal.rehearse("98_probe", "cpu", tmp_path, output_dir=tmp_path / "out")
    assert not result["ok"] and result["seconds"] > 0 and result["cpu_seconds"] > 0
    assert result["error"].startswith("cell 1 (raise ValueError(")  # the failing line
    assert "shrunk too far" in result["error"]
    assert nbformat.read(tmp_path / "out" / "98_probe.ipynb", 4).cells[0].outputs == []


JOBS = int(os.environ.get("BOOK_REHEARSAL_JOBS", "2"))  # chapters at once (CI: 2 cores)


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory, request):
    """The selected chapters (all, or those ``-k`` keeps) rehearsed once, ``JOBS`` at a time;
    {chapter: result}."""
    directory = tmp_path_factory.getbasetemp() / "standins"
    chosen = [
        item.callspec.params["chapter"]
        for item in request.session.items
        if item.originalname == "test_full_code_path_rehearsed"
    ]
    results = rehearsal.run(chosen, "cpu", data_dir=directory, jobs=JOBS)
    for result in results:
        print(rehearsal.line(result))
    return {r["chapter"]: r for r in results}


# Known failures, each to be fixed by the chapter's owner (the runner still reports them FAIL).
KNOWN: dict[str, str] = {}


@pytest.mark.rehearsal
@pytest.mark.parametrize(
    "chapter",
    [
        pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN[c], strict=False)) if c in KNOWN else c
        for c in rehearsal.chapter_names()
    ],
)
def test_full_code_path_rehearsed(chapter, rehearsed):
    result = rehearsed[chapter]
    assert result["ok"], result["error"]
