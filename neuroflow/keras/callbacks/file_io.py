"""Crash-safe writes for the callbacks that save files (checkpoints, backups).

A checkpoint is first written under a temporary name in its own directory, flushed to disk
(``fsync``), then renamed over the old one: a process killed mid-write leaves the previous
checkpoint intact and at worst a stray temporary file, never a half-written checkpoint.
A folder written with ``write_folder`` carries a manifest of its files' sizes and sha256
sums, which ``read_folder`` checks, naming the file that is missing, truncated or altered.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid

TEMP_PREFIX = ".nf-tmp-"


def _fsync_path(path, files=True):
    """Flushes a file, or every file of a folder and the folder itself, to disk (with
    ``files=False``, only the folders: the files were synced as they were written)."""
    if os.path.isdir(path):
        for root, _, names in os.walk(path):
            for name in names if files else ():
                _fsync_file(os.path.join(root, name))
            _fsync_dir(root)
    elif files:
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


def atomic_save(path, write, synced=False) -> None:
    """Calls ``write(temp_path)``, syncs what it wrote (a file, or a folder of files) and
    renames it to ``path`` (a file it replaces, or a new folder). ``synced``: ``write``
    fsyncs the files it writes itself (``write_bytes``); only folders are synced here.

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
        _fsync_path(temp, files=not synced)
        os.replace(temp, path)  # a folder path must not exist yet: folders are new
    except BaseException:
        _remove(temp)
        raise
    _fsync_dir(folder or ".")


def atomic_write_text(path, text: str) -> None:
    """Writes ``text`` to ``path`` atomically."""
    atomic_save(path, lambda temp: write_bytes(temp, text.encode("utf-8")), synced=True)


MANIFEST = "manifest.json"


class CorruptFileError(OSError):
    """A file of a checkpoint is missing, truncated or altered (its checksum differs)."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_bytes(path, data: bytes) -> None:
    """Writes ``data`` to a new file and flushes it to disk."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_folder(path, files: dict) -> str:
    """Writes ``files`` (name -> bytes) and their manifest (sizes and sha256 sums) into a new
    folder ``path``, atomically; returns the manifest's sha256.

    >>> digest = write_folder("backup/checkpoint-3", {"state.json": b"{}"})
    """
    listing = {name: {"size": len(data), "sha256": sha256(data)} for name, data in files.items()}
    manifest = json.dumps({"files": listing}, sort_keys=True).encode()

    def write(temp):
        os.makedirs(temp)
        for name, data in files.items():
            write_bytes(os.path.join(temp, name), data)
        # the manifest last: a folder with a manifest was written to the end
        write_bytes(os.path.join(temp, MANIFEST), manifest)
    atomic_save(path, write, synced=True)
    return sha256(manifest)


def _read_checked(path, size, digest):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise CorruptFileError(f"the file '{path}' is missing") from None
    if size is not None and len(data) != size:
        state = "truncated" if len(data) < size else "longer than written"
        raise CorruptFileError(f"the file '{path}' is corrupt: {state} ({len(data)} bytes, "
                               f"{size} were written)")
    if sha256(data) != digest:
        raise CorruptFileError(f"the file '{path}' is corrupt: its sha256 checksum differs "
                               "from the one recorded when it was written")
    return data


def read_folder(path, manifest_sha256: str) -> dict:
    """The files (name -> bytes) of a folder written by ``write_folder``, each checked against
    the manifest, itself checked against ``manifest_sha256``; ``CorruptFileError`` names the
    first file that is missing, truncated or altered."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise CorruptFileError(f"the backup folder '{path}' is missing")
    manifest_path = os.path.join(path, MANIFEST)
    manifest = json.loads(_read_checked(manifest_path, None, manifest_sha256))
    return {name: _read_checked(os.path.join(path, name), entry["size"], entry["sha256"])
            for name, entry in manifest["files"].items()}


def remove(path) -> None:
    """Removes a file or folder if it exists."""
    _remove(os.fspath(path))
