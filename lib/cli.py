"""The command line of the book's compressors (chapter 5)::

    python -m lib.cli compress IN OUT [--model cm|gpt|ngram] [--n-layer ...]
    python -m lib.cli decompress IN OUT

(``python -m lib.prequential`` and the ``book-compress`` script are the same program.) The file
says which model coded it (``prequential.read_header``), so ``decompress`` needs no options.
Paths are checked before any work, OUT is replaced atomically, and every error is one line on
stderr with exit code 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile

from lib import compressors, prequential

# what the command line reports as one line "error: ..." (exit code 1), never as a traceback
_ERRORS = (ValueError, TypeError, OverflowError, RecursionError, MemoryError, RuntimeError, OSError)


def _check_paths(source: str, target: str) -> None:
    """``OSError`` with a one-line reason, before any work, if IN cannot be read or OUT written."""
    if not os.path.exists(source):
        raise OSError(f"{source}: no such file")
    if os.path.isdir(source):
        raise OSError(f"{source} is a directory, not a file")
    if os.path.isdir(target):
        raise OSError(f"{target} is a directory, not a file")
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise OSError(f"{folder}: the output's directory does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OSError(f"{folder}: no permission to write there")
    if os.path.exists(target) and not os.access(target, os.W_OK):
        raise OSError(f"{target}: no permission to overwrite it")


def _write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it onto
    ``path``: a failed or interrupted write leaves ``path`` as it was."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        mask = os.umask(0)
        os.umask(mask)
        mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o666 & ~mask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable (not possible on every system)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def main(argv: list[str] | None = None, prog: str = "python -m lib.cli") -> int:
    """``python -m lib.cli compress|decompress IN OUT`` (a progress bar on stderr); also
    ``python -m lib.prequential ...`` and the ``book-compress`` script.

    Paths are checked before any work; OUT is replaced atomically, so a failed run leaves it as
    it was; every error is one line on stderr with exit code 1 (130 if interrupted).
    """
    parser = argparse.ArgumentParser(
        prog=prog, description="Prequential (train-while-coding) compressor."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compress", help="compress IN into OUT")
    c.add_argument("input")
    c.add_argument("output")
    models = sorted(compressors.PREQUENTIAL)
    c.add_argument("--model", choices=models, default="cm", help="default: cm, the best")
    for name in ("n_layer", "n_embd", "lanes", "train_steps", "seed"):
        c.add_argument(f"--{name.replace('_', '-')}", type=int, default=None)
    d = sub.add_parser("decompress", help="decompress IN into OUT (checked byte for byte)")
    d.add_argument("input")
    d.add_argument("output")
    args = parser.parse_args(argv)
    try:
        _check_paths(args.input, args.output)
        if args.command == "compress":  # settings first: a bad one fails before any work
            fields = {f.name for f in dataclasses.fields(prequential.PrequentialConfig)}
            chosen = {k: v for k, v in vars(args).items() if k in fields and v is not None}
            prequential.PrequentialConfig(**chosen)  # checked here, used below
        with open(args.input, "rb") as f:
            data = f.read()
        if args.command == "compress":
            settings = {k: v for k, v in chosen.items() if k != "model"}
            out = compressors.REGISTRY[args.model][0](data, progress=True, **settings)
        else:  # the file says which model coded it
            model = prequential.read_header(data).cfg.model
            out = compressors.REGISTRY[model][1](data, progress=True)
        _write_atomically(args.output, out)
    except KeyboardInterrupt:
        print("error: interrupted; the output was not written", file=sys.stderr)
        return 130
    except _ERRORS as e:  # CorruptStreamError is a ValueError
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(f"{args.command}ed {len(data)} -> {len(out)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
