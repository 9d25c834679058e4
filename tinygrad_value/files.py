"""Writing a file atomically: readers see the old file or the new one, never half of either."""

from __future__ import annotations

import os
import re
import tempfile
import time
from typing import Union

# A temporary file is ".<target name>.<pid>.<random>.tmp" beside the target: the pid tells a
# later save whether the writer is still alive, so temps left by a killed save get cleaned.
_STALE_AFTER = 3600.0  # seconds; for temps without a pid (older versions) or of unknown owners


def write_atomic(path: Union[str, os.PathLike], data: Union[str, bytes]) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` so that a crash leaves it whole.

    The data goes to a temporary file in the same directory, is flushed and fsync'd, and is
    renamed over ``path`` with ``os.replace``; then the directory is fsync'd, where the OS
    allows it, so the rename itself survives a power cut. A new file gets a normal file's mode
    (``0o666`` minus the umask: mkstemp makes it private); an existing one keeps its mode and,
    where permitted, its owner. A symlink is written through: its target is replaced and the
    link stays. Temporary files left by an earlier save that was killed are removed. On any
    error the temporary file is removed and the error, naming ``path``, is raised. The
    directory must exist.
    """
    path = os.path.realpath(os.fspath(path)) if os.path.islink(path) else os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _remove_stale_temps(directory, base)
    try:
        existing = os.stat(path)
    except FileNotFoundError:
        existing = None
    except OSError as e:
        raise _naming(e, path) from None
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.{os.getpid()}.", suffix=".tmp")
        try:
            f = os.fdopen(fd, "w", encoding="utf-8") if isinstance(data, str) else \
                os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if existing is None:
            umask = os.umask(0)  # the only way to read the umask is to set it
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        else:
            os.chmod(tmp, existing.st_mode & 0o7777)
            if hasattr(os, "chown"):
                try:
                    os.chown(tmp, existing.st_uid, existing.st_gid)
                except PermissionError:  # only root may give a file away; keep ours
                    pass
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        if isinstance(e, OSError):
            raise _naming(e, path) from None
        raise
    _fsync_dir(directory)


def _naming(error: OSError, path: str) -> OSError:
    """The same kind of error, naming the file the caller asked for (never the temp file)."""
    if error.errno is not None and error.strerror:
        return type(error)(error.errno, error.strerror, path)
    return type(error)(f"{error} (while writing {path})")


def _remove_stale_temps(directory: str, base: str) -> None:
    """Delete this target's temporary files whose writer is gone (a killed save)."""
    pattern = re.compile(r"\." + re.escape(base) + r"\.(?:(\d+)\.)?[^.]+\.tmp\Z")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    now = time.time()
    for name in names:
        m = pattern.match(name)
        if not m:
            continue
        full = os.path.join(directory, name)
        pid = int(m.group(1)) if m.group(1) else None
        try:
            if pid is not None and pid != os.getpid() and not _alive(pid):
                os.unlink(full)
            elif now - os.stat(full).st_mtime > _STALE_AFTER:
                os.unlink(full)
        except OSError:  # gone already, or not ours to remove: leave it
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def _fsync_dir(directory: str) -> None:
    """Make the rename durable where directories can be opened and fsync'd (POSIX)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; the rename is as durable as it gets
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
