"""Writing a file atomically: readers see the old file or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from typing import Union


def write_atomic(path: Union[str, os.PathLike], data: Union[str, bytes]) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` so that a crash leaves it whole.

    The data goes to a temporary file in the same directory, is flushed and fsync'd, gets a
    normal file's mode (``0o666`` minus the umask: mkstemp makes it private), and is renamed over
    ``path`` with ``os.replace``; then the directory is fsync'd, where the OS allows it, so the
    rename itself survives a power cut. On any error the temporary file is removed and the error
    re-raised. The directory must exist.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
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
        umask = os.umask(0)  # the only way to read the umask is to set it
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


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
