"""Tests for autograd.files.atomic_write: whole files, the usual mode, the umask left alone."""

import os
import stat
import threading

import pytest

from autograd.files import atomic_write


def umask_must_not_be_called(*args):
    raise AssertionError("atomic_write changed (or read) the process umask")


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_file_mode_follows_the_umask_without_touching_it(tmp_path, monkeypatch, mask, mode):
    old_mask = os.umask(mask)
    try:
        monkeypatch.setattr(os, "umask", umask_must_not_be_called)
        atomic_write(tmp_path / "a.bin", b"data")
        atomic_write(tmp_path / "b.bin", lambda file: file.write(b"data"))
    finally:
        monkeypatch.undo()
        os.umask(old_mask)
    for name in ("a.bin", "b.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode
        assert (tmp_path / name).read_bytes() == b"data"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "result.txt"
    atomic_write(target, b"old")

    def fails_halfway(file):
        file.write(b"new, but only half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, fails_halfway)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["result.txt"]


def test_concurrent_writers_each_get_their_own_temporary_file(tmp_path):
    targets = [tmp_path / f"{i}.txt" for i in range(8)]
    threads = [threading.Thread(target=atomic_write, args=(t, t.name.encode() * 1000))
               for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(os.listdir(tmp_path)) == sorted(t.name for t in targets)
    assert all(t.read_bytes() == t.name.encode() * 1000 for t in targets)
