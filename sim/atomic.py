"""Outputs committed whole: a directory is the old complete result or the new one, never a mix.

Every command that writes a directory D does it the same way (`commit_dir`, or `OutputDir` when it
needs the lock for longer than the write, as a sweep does):

1. lock D: an exclusive `fcntl.flock` on the sibling file `.D.lock` (the kernel drops it when the
   process dies, even on `kill -9`; a finished command removes the file); a second writer is refused
   with one line naming the holder;
2. clear what a killed writer left beside D (`.D.stage-*`, `.D.old-*`): with the lock held, nobody
   else can own them;
3. write everything into a fresh sibling staging directory `.D.stage-<pid>-<random>` (same file
   system, so the last step is a rename; created with mode 0777 & ~umask like any directory);
4. swap it in with one `renameat2(RENAME_EXCHANGE)` and remove the old content; on an error or
   Ctrl-C the staging directory is removed and D is untouched.

Files are created with `open()` (mode 0666 & ~umask), never `mkstemp` (0600). Single files that are
results on their own (a sweep's parts, `calibrate --out market.yaml`) use `atomic_write*`: a temp
file beside the target, then a rename. `interruption_report()` tells the CLI what an interrupted
command really left.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path

from sim.config import ScenarioError

RESULT_MARKERS = ("manifest.json",)
"""A directory holding one of these was written by tripod: a command may replace it."""

_outcomes: list[tuple[str, Path]] = []  # ("committed" | "untouched", target) in this process, for the CLI


class OutputDirError(ScenarioError):
    """An output directory that cannot be written: locked by another command, not ours, a file, read-only."""


def _error(target, line: str) -> OutputDirError:
    return OutputDirError(str(target), [line])


def _oserror_line(err: OSError) -> str:
    why = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
           errno.EROFS: "read-only file system", errno.ENOSPC: "no space left on the device",
           errno.ENOTDIR: "a parent is a file, not a folder"}.get(err.errno, err.strerror or str(err))
    return f"cannot write here: {why}"


class OutputDir:
    """The lock on an output directory, and the staging directories committed into it.

    with OutputDir(path) as od:          # locked; stale staging cleared; `od.path` is absolute
        stage = od.stage()               # empty staging dir (or `carry=[names]` hard-linked from D)
        ... write into stage ...
        od.commit()                      # one rename; the old content removed
    Leaving the block without `commit()` (an error, Ctrl-C) removes the staging directory.
    `markers`: names whose presence shows an existing non-empty D is a tripod result it may replace.
    """

    def __init__(self, target: str | os.PathLike, markers: tuple[str, ...] = RESULT_MARKERS, option: str = "--out"):
        self.given = Path(target)
        self.markers = markers
        self.option = option  # how the user named this directory, for error lines
        p = Path(os.path.realpath(os.path.abspath(target)))  # a symlinked --out: write where it points
        if p.name in ("", ".", "..") or p == p.parent:
            raise _error(target, f"{option}: not a directory name tripod can write to")
        self.path = p
        self._lock_fd: int | None = None
        self._stage: Path | None = None
        self.committed = False

    # ------------------------------------------------------------------ lock and clean-up
    def __enter__(self) -> "OutputDir":
        self._check_target()
        fd = self._lock()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd
        try:
            self._recover()
            self._check_target()  # again, now that nobody else writes it
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._stage is not None:
                shutil.rmtree(self._stage, ignore_errors=True)
                self._stage = None
            if not self.committed:
                _outcomes.append(("untouched", self.given))
        finally:
            self._unlock()

    @property
    def _lock_path(self) -> Path:
        return self.path.parent / f".{self.path.name}.lock"

    def _lock(self) -> int:
        """An exclusive lock on `.D.lock`, or OutputDirError naming the holder. The file is removed on
        release (while still locked), so a lock taken on a file that has meanwhile been removed or
        replaced is not the lock: take it again on the file that is there now."""
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as err:
                raise _error(self.given, f"{self.option}: {_oserror_line(err)}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                os.close(fd)
                who = f" (pid {holder})" if holder.isdigit() else ""
                raise _error(self.given, f"{self.option}: another tripod command{who} is writing this directory; "
                                         f"wait for it to finish or choose another {self.option}") from None
            try:
                if os.stat(self._lock_path).st_ino == os.fstat(fd).st_ino:
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            try:
                os.unlink(self._lock_path)  # still locked: whoever opened it before sees it gone and retries
            except OSError:
                pass
            os.close(self._lock_fd)
            self._lock_fd = None

    def _siblings(self, kind: str) -> list[Path]:
        """This directory's `.D.<kind>-<pid>-<hex>` siblings (exactly: never another directory's)."""
        pattern = re.compile(rf"\.{re.escape(self.path.name)}\.{kind}-\d+-[0-9a-f]{{8}}")
        try:
            return [self.path.parent / n for n in os.listdir(self.path.parent) if pattern.fullmatch(n)]
        except FileNotFoundError:
            return []

    def _recover(self) -> None:
        """Undo what a killed writer left: a half-done fallback swap, staging and old directories."""
        old = self._siblings("old")
        if old and not self.path.exists():  # killed between the two renames of the fallback swap
            os.rename(old[0], self.path)
            old = old[1:]
        for p in [*old, *self._siblings("stage")]:
            shutil.rmtree(p, ignore_errors=True)

    def _check_target(self) -> None:
        p = self.path
        if p.exists() and not p.is_dir():
            raise _error(self.given, f"{self.option}: is a file, not a directory; choose another {self.option}")
        if p.is_dir():
            try:
                names = os.listdir(p)
            except OSError as err:
                raise _error(self.given, f"{self.option}: {_oserror_line(err)}") from None
            ours = any(m in names for m in self.markers) or all(n.startswith(".") and n.endswith(".tmp") for n in names)
            if not ours:
                raise _error(self.given, f"{self.option}: exists and is not a tripod result (no "
                                         f"{' or '.join(self.markers)}); refusing to replace it: choose another "
                                         f"{self.option} or remove it")

    # ------------------------------------------------------------------ staging and commit
    def stage(self, carry: tuple[str, ...] | list[str] = ()) -> Path:
        """A fresh staging directory beside the target, holding hard links to the target's `carry`
        entries (files or folders; a carried file must never be rewritten in place)."""
        if self._lock_fd is None:
            raise RuntimeError("OutputDir.stage() outside `with OutputDir(...)`")
        if self._stage is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
        stage = self.path.parent / f".{self.path.name}.stage-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            os.mkdir(stage, 0o777)
            self._stage = stage
            for name in carry:
                src = self.path / name
                if src.is_dir():
                    shutil.copytree(src, stage / name, copy_function=_link_or_copy)
                elif src.exists():
                    _link_or_copy(src, stage / name)
        except OSError as err:
            raise _error(self.given, f"{self.option}: {_oserror_line(err)}") from None
        return stage

    def commit(self) -> Path:
        """Swap the staging directory into place in one rename, then remove the old content."""
        stage, target = self._stage, self.path
        if stage is None:
            raise RuntimeError("OutputDir.commit() without a stage()")
        _fsync_dir(stage)
        if not target.exists():
            os.rename(stage, target)
        elif _exchange(stage, target):
            pass  # `stage` now holds the old content
        else:  # no renameat2 on this file system: two renames; `_recover` repairs a kill in between
            old = target.parent / f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(target, old)
            os.rename(stage, target)
            stage = old
        self._stage = None
        self.committed = True
        _outcomes.append(("committed", self.given))
        _fsync_dir(target.parent)
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
        return target


@contextmanager
def commit_dir(target: str | os.PathLike, carry: tuple[str, ...] | list[str] = (),
               markers: tuple[str, ...] = RESULT_MARKERS, option: str = "--out"):
    """Lock `target`, yield a staging directory, and swap it in when the block ends without error."""
    with OutputDir(target, markers, option) as od:
        stage = od.stage(carry)
        yield stage
        od.commit()


def interruption_report() -> str:
    """What the directories this process touched hold now, for the CLI's message on Ctrl-C."""
    done = [str(t) for kind, t in _outcomes if kind == "committed"]
    kept = [str(t) for kind, t in _outcomes if kind == "untouched"]
    parts = []
    if kept:
        parts.append(f"{', '.join(kept)} left as it was (no partial result)")
    if done:
        parts.append(f"{', '.join(done)} written completely before the interruption")
    return "; ".join(parts) or "nothing was written"


# ---------------------------------------------------------------------- single files
def create_temp_file(directory: Path, name: str) -> tuple[int, Path]:
    """A new temp file beside `name`, mode 0666 & ~umask (mkstemp would give 0600)."""
    while True:
        tmp = directory / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write one file whole: a temp file in the same directory, fsync, then rename over the target."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_file(path.parent, path.name)
    try:
        with os.fdopen(fd, "w" if isinstance(data, str) else "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_parquet(path: str | os.PathLike, frame) -> None:
    """Write a DataFrame, a dict of equal-length numpy columns (no pandas copy), or an iterator of
    such dicts (one row group each, so only one block is ever held) to `path` (in a staging dir)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(frame, dict):
        pq.write_table(pa.table(frame), path, use_dictionary=False)  # float columns: dictionaries only cost time
    elif not hasattr(frame, "to_parquet"):
        writer = None
        try:
            for block in frame:
                table = pa.table(block)
                writer = writer or pq.ParquetWriter(path, table.schema, use_dictionary=False)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
    else:
        frame.to_parquet(path, index=False)


def atomic_write_parquet(path: str | os.PathLike, frame) -> None:
    """`write_parquet` to a temp file beside `path`, then rename: the file is whole or absent."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_file(path.parent, path.name)
    os.close(fd)
    try:
        write_parquet(tmp, frame)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def clean_temp_files(directory: str | os.PathLike) -> None:
    """Remove the `.*.tmp` files killed `atomic_write*` calls left in `directory` (call under its lock)."""
    d = Path(directory)
    if d.is_dir():
        for stale in d.glob(".*.tmp"):
            stale.unlink(missing_ok=True)


# ---------------------------------------------------------------------- OS helpers
def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed: a copy is still whole
        shutil.copy2(src, dst)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2). False where the call or the file system lacks it."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
