"""Crash-safe writes for the callbacks that save files (checkpoints, backups).

A checkpoint is first written under a temporary name in its own directory, flushed to disk
(``fsync``), then renamed over the old one: a process killed mid-write leaves the previous
checkpoint intact and at worst a stray temporary file, never a half-written checkpoint.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid

TEMP_PREFIX = ".nf-tmp-"


def _fsync_path(path):
    """Flushes a file, or every file of a folder and the folder itself, to disk."""
    if os.path.isdir(path):
        for root, _, files in os.walk(path):
            for name in files:
                _fsync_file(os.path.join(root, name))
            _fsync_dir(root)
    else:
        _fsync_file(path)


def _fsync_file(path):
    with open(path, "rb+") as f:
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path):
    # Directory fsync makes a rename durable; some platforms cannot open a folder: skip there.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def temp_path_for(path) -> str:
    """A unique temporary name beside ``path`` that keeps its file name (and so its
    extension: savers pick the format from it)."""
    folder, name = os.path.split(os.fspath(path))
    return os.path.join(folder, f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{name}")


def atomic_save(path, write) -> None:
    """Calls ``write(temp_path)``, syncs what it wrote (a file, or a folder of files) and
    renames it to ``path`` (a file it replaces, or a new folder).

    >>> atomic_save("backup/checkpoint-3", lambda p: write_folder(p))
    >>> atomic_save("log.json", lambda p: open(p, "w").write("{}"))
    """
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    temp = temp_path_for(path)
    try:
        write(temp)
        if not os.path.exists(temp):
            raise OSError(f"Saving to '{path}' wrote nothing (expected the file '{temp}').")
        _fsync_path(temp)
        os.replace(temp, path)  # a folder path must not exist yet: folders are new
    except BaseException:
        _remove(temp)
        raise
    _fsync_dir(folder or ".")


def atomic_write_text(path, text: str) -> None:
    """Writes ``text`` to ``path`` atomically."""
    def write(temp):
        with open(temp, "w", encoding="utf-8") as f:
            f.write(text)
    atomic_save(path, write)


def remove(path) -> None:
    """Removes a file or folder if it exists."""
    _remove(os.fspath(path))
