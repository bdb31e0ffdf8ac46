"""The files of a saved model: atomic writes, and reads that trust nothing in the file.

A ``.keras`` file is a zip of ``config.json``, ``metadata.json``, ``model.safetensors`` and,
when the optimizer is saved, ``optimizer.safetensors`` (stored uncompressed). Reading checks
every member name (no absolute paths, no ``..``, no duplicates, no nested archives, nothing
unexpected) and never reads more than the archive's own size. A folder holding the same
files loads as well.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import zipfile

MEMBERS = ("config.json", "metadata.json", "model.safetensors", "optimizer.safetensors")
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # members get a fixed date: same model, same bytes
# zipfile inflates deflate in bounded steps, but hands a whole bzip2 or LZMA block to the
# decompressor: a 4 KB bzip2 member can expand to hundreds of megabytes before any size check
_READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class FileFormatError(ValueError):
    """A saved file that is malformed, truncated, unsafe or does not fit the model."""


def fail(where, message) -> FileFormatError:
    """The error for a bad file; ``where`` is a path, or (path, member) inside an archive."""
    if isinstance(where, tuple):
        path, member = where
        return FileFormatError(f"Cannot load '{os.fspath(path)}': {member}: {message}")
    return FileFormatError(f"Cannot load '{os.fspath(where)}': {message}")


def atomic_write(path, write, overwrite=True) -> None:
    """Calls ``write(fileobj)`` on a temporary file beside ``path``, fsyncs it, renames it.

    A crash leaves either the old file or the new one, never half of one.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot save to '{path}': it is a directory.")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"Cannot save to '{path}': the file exists and overwrite=False.")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with 0o666 keeps the user's umask (mkstemp would leave the file 0600)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # makes the rename durable; not every OS allows it
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_zip(fileobj, members: dict) -> None:
    """Writes ``{name: bytes}`` as an uncompressed zip."""
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def is_zip(path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)


def check_not_hdf5(path, data: bytes) -> None:
    """Says plainly when a file is Keras's legacy HDF5 format, which neuroflow does not read."""
    if data[:8] == _HDF5_MAGIC:
        raise fail(path, "it is an HDF5 file (Keras's legacy .h5 format). neuroflow reads and "
                         "writes .keras zips and safetensors weights, not HDF5.")


def _check_member_name(path, name):
    parts = name.replace("\\", "/").split("/")
    if (not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":")
            or ".." in parts):
        raise fail(path, f"the archive holds a member with an unsafe path {name!r} (absolute "
                         "or containing '..'); refusing to read it.")
    if name.lower().endswith((".zip", ".keras", ".jar")):
        raise fail(path, f"the archive holds a nested archive {name!r}; nested zips are not "
                         "allowed in a saved model.")
    if name == "model.weights.h5":
        raise fail(path, "it was saved by Keras, whose .keras files hold HDF5 weights "
                         "(model.weights.h5); neuroflow's hold safetensors weights and it "
                         "does not read HDF5.")
    if name not in MEMBERS:
        raise fail(path, f"the archive holds an unexpected member {name!r}; a saved model "
                         f"holds only {', '.join(MEMBERS)}.")


class SavedModelFiles:
    """Read access to the members of a saved model (a zip file or a folder).

    >>> with SavedModelFiles("model.keras") as files:
    ...     config = files.read_json("config.json")
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self._zip = None
        self._infos = {}

    def __enter__(self):
        path = self.path
        if not os.path.exists(path):
            raise FileNotFoundError(f"No file or directory found at '{path}'.")
        if os.path.isdir(path):
            return self
        self.size = os.path.getsize(path)
        if self.size == 0:
            raise fail(path, "the file is empty.")
        if not is_zip(path):
            with open(path, "rb") as f:
                check_not_hdf5(path, f.read(8))
            raise fail(path, "it is not a saved model: a .keras file is a zip archive, and "
                             "this file does not start like one (is it a weights file? use "
                             "model.load_weights).")
        try:
            self._zip = zipfile.ZipFile(path, "r")
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
                NotImplementedError) as e:  # NotImplementedError: 'zip file version 6.4'
            raise fail(path, f"the zip archive is truncated or corrupt ({e}).") from e
        total = 0
        for info in infos:
            _check_member_name(path, info.filename)
            if info.filename in self._infos:
                raise fail(path, f"the archive holds {info.filename!r} twice.")
            if info.flag_bits & 0x1:
                raise fail(path, f"member {info.filename!r} is encrypted.")
            if info.compress_type not in _READABLE_METHODS:
                raise fail(path, f"member {info.filename!r} uses zip compression method "
                                 f"{info.compress_type}; a saved model's members are stored "
                                 "or deflated.")
            total += info.file_size
            if info.file_size > self.size or total > self.size:
                raise fail(path, f"member {info.filename!r} declares {info.file_size} bytes "
                                 f"uncompressed, more than the {self.size}-byte archive "
                                 "allows; refusing to inflate it.")
            self._infos[info.filename] = info
        return self

    def __exit__(self, *exc):
        if self._zip is not None:
            self._zip.close()
        return False

    def has(self, name) -> bool:
        if self._zip is None:
            return os.path.isfile(os.path.join(self.path, name))
        return name in self._infos

    def read(self, name) -> bytes:
        """The member's bytes; raises FileFormatError when it is missing or damaged."""
        if self._zip is None:
            return self._read_from_folder(name)
        info = self._infos.get(name)
        if info is None:
            raise fail(self.path, f"the archive has no {name!r} (members: "
                                  f"{sorted(self._infos) or 'none'}).")
        try:
            with self._zip.open(info) as member:
                data = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
            raise fail(self.path, f"member {name!r} is truncated or corrupt ({e}).") from e
        if len(data) != info.file_size:
            raise fail(self.path, f"member {name!r} holds {len(data)} bytes, but the archive "
                                  f"declares {info.file_size}.")
        if data[:4] == _ZIP_MAGIC:
            raise fail(self.path, f"member {name!r} is itself a zip archive; nested zips are "
                                  "not allowed in a saved model.")
        return data

    def _read_from_folder(self, name):
        member = os.path.join(self.path, name)
        if os.path.islink(member) or not os.path.isfile(member):
            raise fail(self.path, f"the folder has no regular file {name!r}.")
        with open(member, "rb") as f:
            return f.read()

    def read_json(self, name) -> dict:
        return parse_json(self.read(name), self.path, name)


def parse_json(data: bytes, path, name) -> dict:
    """Parses a JSON object; raises FileFormatError naming the file and the member."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise fail(path, f"{name} is not valid JSON ({e}).") from e
    if not isinstance(value, dict):
        raise fail(path, f"{name} must hold a JSON object, not {type(value).__name__}.")
    return value


def to_json(value, what) -> bytes:
    """JSON bytes of a config; NumPy scalars and arrays become plain values."""
    def default(obj):
        import numpy as np
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        name = getattr(obj, "name", None)
        if type(obj).__name__ == "DType" and isinstance(name, str):
            return name
        raise TypeError(f"Cannot save {what}: its config holds {type(obj).__name__} "
                        f"{obj!r:.80}, which is not JSON-serializable. get_config() must "
                        "return plain values (numbers, strings, lists, dicts).")
    return json.dumps(value, indent=2, default=default).encode("utf-8")
