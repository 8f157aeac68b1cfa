"""Progress for long work: a bar (or a 'doing X ... 3.2 s' line) on a terminal, nothing otherwise.

Every command that can take more than a few seconds reports through here, so "quiet when not on a
terminal" (pipes, CI, log files) is decided in one place."""
from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager


def wanted() -> bool:
    """On an interactive terminal and not in CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def bar(iterable=None, total: int | None = None, desc: str = "", unit: str = "it", enabled: bool | None = None,
        leave: bool = True):
    """A tqdm bar on stderr when enabled (default: `wanted()`); a silent pass-through otherwise."""
    from tqdm import tqdm

    on = wanted() if enabled is None else enabled
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not on, leave=leave, file=sys.stderr,
                dynamic_ncols=True)


@contextmanager
def stage(desc: str, enabled: bool | None = None):
    """'desc ... 1.2 s' on stderr around a block of work without steps of its own."""
    on = wanted() if enabled is None else enabled
    t0 = time.perf_counter()
    if on:
        print(f"{desc} ...", end="", file=sys.stderr, flush=True)
    try:
        yield
    finally:
        if on:
            print(f" {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
