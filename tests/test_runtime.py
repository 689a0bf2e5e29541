import numpy as np
import pytest
import torch

from lib import runtime


def test_scale_follows_environment(monkeypatch):
    monkeypatch.setenv("BOOK_SCALE", "full")
    assert runtime.scale() == "full"
    monkeypatch.setenv("BOOK_SCALE", "small")
    assert runtime.scale() == "small"
    monkeypatch.setenv("BOOK_SCALE", "huge")
    with pytest.raises(ValueError, match="BOOK_SCALE"):
        runtime.scale()


def test_scale_defaults_to_gpu_presence(monkeypatch):
    monkeypatch.delenv("BOOK_SCALE", raising=False)
    assert runtime.scale() == ("full" if torch.cuda.is_available() else "small")


def test_settings_pick_the_scale_and_reject_mismatched_keys(monkeypatch):
    monkeypatch.setenv("BOOK_SCALE", "small")
    cfg = runtime.settings(small={"n": 1}, full={"n": 2})
    assert cfg.n == 1 and cfg.scale == "small" and isinstance(cfg.device, torch.device)
    with pytest.raises(ValueError, match="keys"):
        runtime.settings(small={"n": 1}, full={"m": 2})


def test_seeding_makes_runs_repeat():
    runtime.seed_everything(3)
    a = (np.random.rand(3), torch.rand(3))
    runtime.seed_everything(3)
    b = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="seed"):
        runtime.seed_everything(-1)


def test_generator_is_seeded():
    g1, g2 = (
        runtime.generator(5, on=torch.device("cpu")),
        runtime.generator(5, on=torch.device("cpu")),
    )
    assert torch.equal(torch.rand(4, generator=g1), torch.rand(4, generator=g2))


def test_device_override(monkeypatch):
    monkeypatch.setenv("BOOK_DEVICE", "cpu")
    assert runtime.device() == torch.device("cpu")


def test_progress_iterates_quiet_or_not(monkeypatch):
    for quiet in ("0", "1"):
        monkeypatch.setenv("BOOK_PROGRESS", quiet)
        assert list(runtime.progress(range(3))) == [0, 1, 2]
        assert list(runtime.progress(range(3), disable=True, desc="x")) == [0, 1, 2]


def _bars(call, progress: bool, capsys, monkeypatch, shown: str) -> str:
    """What ``call(progress)`` writes to stderr with ``BOOK_PROGRESS=shown``."""
    monkeypatch.setenv("BOOK_PROGRESS", shown)
    capsys.readouterr()
    call(progress)
    return capsys.readouterr().err


def test_long_loops_show_a_bar_unless_told_not_to(capsys, monkeypatch):
    from lib import ctw, quantize

    X, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    calls = {
        "QAT": lambda progress: quantize.fit_quantized(
            X, y, torch.zeros(3, 2), 0.1, 3, epochs=5, progress=progress
        ),
        "CTW depth 2": lambda progress: ctw.code_lengths(b"abc" * 3000, 2, progress=progress),
    }
    for desc, call in calls.items():
        # fails if the bar is missing where a reader needs it (Colab: BOOK_PROGRESS unset)
        assert desc in _bars(call, True, capsys, monkeypatch, "1"), desc
        # fails if progress=False (an inner call of a loop with its own bar) still draws one
        assert _bars(call, False, capsys, monkeypatch, "1") == "", desc
        # fails if builds and tests (BOOK_PROGRESS=0) get bars in their outputs
        assert _bars(call, True, capsys, monkeypatch, "0") == "", desc


def test_progress_must_be_a_bool():
    assert runtime.check_progress(False) is False
    with pytest.raises(TypeError, match="progress"):
        runtime.check_progress("yes")


def test_threads_sets_and_restores_the_cpu_thread_count():
    before = torch.get_num_threads()
    with runtime.threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with runtime.threads(1, on=torch.device("meta")):  # not the CPU: left alone
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="at least 1"):
        with runtime.threads(0):
            pass


def test_glue_rejects_a_non_dict():
    # catches a chapter passing glue("name", value) in the old myst-nb form: it must fail loudly
    with pytest.raises(TypeError):
        runtime.glue("ch0-x", 1)


def test_glue_without_myst_nb_does_nothing(monkeypatch):
    # catches a glue that needs myst-nb (Colab installs lib alone)
    import builtins

    real_import = builtins.__import__

    def no_myst(name, *args, **kwargs):
        if name.startswith("myst_nb"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_myst)
    assert runtime.glue({"ch0-x": 1}) is None


def test_rehearsal_shrinks_the_full_settings_only_when_switched_on(monkeypatch):
    small, full = (
        {"n": 1, "sizes": [(1, 2)], "rates": (0.1,)},
        {"n": 9, "sizes": [(8, 4)], "rates": (0.5, 0.9)},
    )
    monkeypatch.setenv("BOOK_SCALE", "full")
    monkeypatch.setenv("BOOK_REHEARSAL_SETTINGS", '{"n": 3, "sizes": [[2, 1]], "rates": [0.2]}')
    monkeypatch.delenv("BOOK_REHEARSAL", raising=False)
    assert runtime.settings(small, full).n == 9  # the overrides wait for the switch
    monkeypatch.setenv("BOOK_REHEARSAL", "1")
    cfg = runtime.settings(small, full)
    assert cfg.n == 3 and cfg.scale == "full" and runtime.rehearsal()
    # JSON lists come back as tuples where the full settings have tuples (hashable keys)
    assert cfg.sizes == [(2, 1)] and cfg.rates == (0.2,)
    monkeypatch.setenv("BOOK_REHEARSAL_SETTINGS", '{"rates": [0.3]}')
    assert runtime.settings(small, full).n == 9  # a setting not overridden keeps its full value


def test_rehearsal_rejects_unknown_settings_and_bad_switches(monkeypatch):
    monkeypatch.setenv("BOOK_SCALE", "full")
    monkeypatch.setenv("BOOK_REHEARSAL", "1")
    monkeypatch.setenv("BOOK_REHEARSAL_SETTINGS", '{"n_steps": 3}')
    with pytest.raises(ValueError, match="n_steps.*not settings of this chapter"):
        runtime.settings({"steps": 1}, {"steps": 2})
    for bad in ("{not json", "[1, 2]"):
        monkeypatch.setenv("BOOK_REHEARSAL_SETTINGS", bad)
        with pytest.raises(ValueError, match="BOOK_REHEARSAL_SETTINGS"):
            runtime.settings({"steps": 1}, {"steps": 2})
    monkeypatch.setenv("BOOK_REHEARSAL", "maybe")
    with pytest.raises(ValueError, match="BOOK_REHEARSAL must be"):
        runtime.rehearsal()
    monkeypatch.setenv("BOOK_REHEARSAL", "1")
    monkeypatch.setenv("BOOK_SCALE", "small")  # a rehearsal of the small scale is a mistake
    with pytest.raises(ValueError, match="BOOK_SCALE=full"):
        runtime.settings({"steps": 1}, {"steps": 2})
