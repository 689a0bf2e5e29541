"""``make gpu-check``'s CPU fallback (``BOOK_DEVICE=cpu``): the same steps a GPU runs, quick."""

import json
import math
import sys
import types

import pytest

from tools import gpu_check


def fake_rehearsal(chapters, device):
    """Stands in for ``tools.rehearsal.run`` (minutes of notebooks): every chapter passes."""
    return {c: {"chapter": c, "ok": True, "seconds": 1.5, "error": None} for c in chapters}


@pytest.fixture(autouse=True)
def on_cpu(monkeypatch):
    monkeypatch.setenv("BOOK_DEVICE", "cpu")


def test_chapter_1_on_the_cpu_fallback():
    (r,) = gpu_check.check(["1"], steps=1, rehearse_fn=fake_rehearsal)
    assert r["chapter"] == "01_pac_bound" and r["ok"] and r["device"] == "cpu"
    # Would catch a kernel table that times nothing for a GPU chapter.
    assert {k["kernel"] for k in r["kernels"]} == {"Monte Carlo block", "QAT epoch"}
    # On the CPU the "GPU/CPU" ratio compares the CPU with itself: exactly 1.
    assert r["gpu_cpu_ratio"] == pytest.approx(1.0)
    # Would catch an extrapolation that lost the chapter's parts (nan) or priced nothing (0).
    assert math.isfinite(r["full_scale_seconds"]) and r["full_scale_seconds"] > 0
    # Would catch a T4 price of zero (a Roofline that saw no kernels).
    assert all(k["t4_priced"] > 0 and k["seconds"] > 0 for k in r["kernels"])


def test_main_quick_writes_gpu_json_and_prints_a_line_per_chapter(tmp_path, capsys):
    out = tmp_path / "gpu.json"
    code = gpu_check.main(["--quick", "--no-rehearsal", "--chapters", "3", "--out", str(out)])
    record = json.loads(out.read_text())
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("03_")]
    assert code == 0 and len(lines) == 1 and "ok" in lines[0]
    # Chapter 3 has no GPU kernel: its estimate is its CPU parts, its ratio "n/a".
    assert "n/a" in lines[0] and record["steps"] == 1
    assert record["rows"][0]["kernels"] == [] and record["rows"][0]["full_scale_seconds"] > 0


def test_a_failing_rehearsal_or_kernel_fails_the_chapter(monkeypatch):
    def failing(chapters, device):
        return {c: {"chapter": c, "ok": False, "seconds": 0.1, "error": "boom"} for c in chapters}

    (r,) = gpu_check.check(["3"], steps=1, rehearse_fn=failing)
    assert not r["ok"] and r["error"] == "boom"

    def broken(stem, device):
        raise RuntimeError("expected all tensors to be on the same device")

    monkeypatch.setattr(gpu_check, "kernels", broken)
    (r,) = gpu_check.check(["3"], steps=1, rehearse_fn=fake_rehearsal)
    # Would catch a device mismatch in a kernel passing silently.
    assert not r["ok"] and "same device" in r["error"]


def test_rehearsal_is_called_with_its_signature(monkeypatch):
    calls = []

    def run(chapters=None, device="cpu"):
        calls.append((chapters, device))
        return [{"chapter": c, "ok": True, "seconds": 0.0, "error": None} for c in chapters]

    fake = types.ModuleType("tools.rehearsal")
    fake.run = run
    monkeypatch.setitem(sys.modules, "tools.rehearsal", fake)
    import tools

    monkeypatch.setattr(tools, "rehearsal", fake, raising=False)
    done = gpu_check.rehearse(["01_pac_bound"], "cpu")
    assert calls == [(["01_pac_bound"], "cpu")] and done["01_pac_bound"]["ok"]


def test_unknown_chapter_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown chapter"):
        gpu_check.check(["9"], rehearse_fn=fake_rehearsal)
