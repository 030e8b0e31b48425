"""Atomic file writes: a saved file is either the old one or the complete new one, never half."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from typing import IO


def atomic_write(path: str | os.PathLike, write: bytes | Callable[[IO[bytes]], None]) -> str:
    """Write `write` (bytes, or a function that writes to a binary file) to `path` atomically.

    The data goes to a temporary file beside `path`, is flushed to disk, and is renamed over
    `path` only when complete; on any error the temporary file is removed and `path` is intact.
    The file gets the usual mode, 0o666 less the umask, applied by the kernel at creation: the
    process umask is never read or changed (that would race with other threads' files).
    """
    path = os.fspath(path)
    fd, temporary = _create_beside(path)
    try:
        with os.fdopen(fd, "wb") as file:
            if isinstance(write, (bytes, bytearray)):
                file.write(write)
            else:
                write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise
    return path


def _create_beside(path: str) -> tuple[int, str]:
    """A new, empty file next to `path` with a random name, opened for writing; (fd, its path)."""
    folder, name = os.path.split(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:  # another writer drew the same name: draw again
            continue
