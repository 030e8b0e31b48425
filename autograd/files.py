"""Atomic file writes: a saved file is either the old one or the complete new one, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import IO


def atomic_write(path: str | os.PathLike, write: bytes | Callable[[IO[bytes]], None]) -> str:
    """Write `write` (bytes, or a function that writes to a binary file) to `path` atomically.

    The data goes to a temporary file beside `path`, is flushed to disk, and is renamed over
    `path` only when complete; on any error the temporary file is removed and `path` is intact.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.",
                                     suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            if isinstance(write, (bytes, bytearray)):
                file.write(write)
            else:
                write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; use the usual mode
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
