"""The audit of issue 16 (``tools.reliability_audit``): every reproducer ends in a clear error
or a right result, and the audit's judge can tell the other outcomes apart."""

import faulthandler
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools import reliability_audit as audit
from tools.reliability_audit import Case

ROOT = Path(__file__).resolve().parents[1]

# Failures the audit knows of, each with the fix it needs (none today).
# Once one is fixed, this test fails until its entry is removed (a strict expected failure).
KNOWN: dict[str, str] = {}  # case -> why it still fails (none today)


def test_every_reproducer_is_a_clear_error_or_right():
    # in a fresh process: the audit forks, and a fork of a process whose torch has started its
    # thread pool can deadlock (this one has run other tests)
    env = {**os.environ, "BOOK_PROGRESS": "0", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "tools.reliability_audit", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=900,
    )
    report = json.loads(run.stdout)
    results, counts = report["results"], report["counts"]
    bad = {name: r for name, r in results.items() if r[0] not in ("clear error", "right")}
    new = {name: r for name, r in bad.items() if name not in KNOWN}
    fixed = set(KNOWN) - set(bad)
    assert not new, f"reliability regressions: {new}"  # any case turning wrong/unclear/hang
    assert not fixed, f"fixed now, remove from KNOWN: {fixed}"
    assert counts["tried"] == len(audit.CASES) >= 80  # every case ran, none was dropped
    assert counts["wrong"] + counts["unclear"] + counts["hang"] == len(KNOWN)


def test_the_judge_tells_the_classes_apart():
    # each outcome the audit must not accept is classified as such (not as a pass)
    assert audit.judge(Case("t", lambda: 1, error="x"))[0] == "wrong"  # silently accepted
    assert audit.judge(Case("t", lambda: 2, right=lambda v: v == 3))[0] == "wrong"
    assert audit.judge(Case("t", lambda: [][1], error="x"))[0] == "unclear"  # an IndexError
    assert audit.judge(Case("t", lambda: int("z"), error="step"))[0] == "unclear"  # names not
    assert audit.judge(Case("t", lambda: int("z"), error="literal"))[0] == "clear error"
    assert audit.judge(Case("t", lambda: 3, right=lambda v: v == 3))[0] == "right"


def _spin():
    while True:
        pass


@pytest.mark.parametrize(
    "run, expected",
    [
        (_spin, "hang"),
        (lambda: (faulthandler.disable(), os.abort()), "unclear"),
        (lambda: 0, "right"),
    ],
    ids=["hang", "abort", "right"],
)
def test_a_hang_or_an_abort_is_caught_in_its_fork(monkeypatch, run, expected):
    monkeypatch.setattr(audit, "HANG", 0.3)
    monkeypatch.setitem(audit.CASES, "probe", Case("t", run, right=lambda v: v == 0))
    start = time.monotonic()
    outcome, detail, _ = audit.run_case("probe")
    assert outcome == expected, detail
    assert time.monotonic() - start < 30


def test_the_bomb_inflates_to_a_gibibyte():
    # the case "settings inflating to 1 GiB" must be one (read in 64 MiB pieces)
    inflate, data, total = audit.zlib.decompressobj(), audit.bomb(3), 0
    while data:
        total += len(inflate.decompress(data, 1 << 26))
        data = inflate.unconsumed_tail
    assert inflate.eof and total == 3 << 24
