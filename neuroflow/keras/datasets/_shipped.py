"""Reading the data files that installed packages ship, and checking them.

Loaders never download and never unpickle: they read a gzipped CSV file from a package's
folder (found without importing the package), check the SHA-256 of its decompressed text
against the one recorded in the loader, parse it, and check shapes, value ranges and class
counts. Every failure names the file, the package (and its version) and what to do.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.metadata
import importlib.util
import io
import zlib
from pathlib import Path

import numpy as np

EXTRA = "datasets"  # the neuroflow extra that installs every package the loaders read


def package_version(package: str) -> str:
    distribution = {"sklearn": "scikit-learn"}.get(package, package)
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown version"


def package_file(package: str, parts: tuple[str, ...], what: str) -> Path:
    """The path of a file inside an installed package, or an ImportError saying what to
    install (``package`` is the import name; the pip name may differ)."""
    pip_name = {"sklearn": "scikit-learn"}.get(package, package)
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"{what} reads data shipped in the '{pip_name}' package, which is not installed. "
            f"Install it with `pip install {pip_name}` (or `pip install "
            f"'neuroflow[{EXTRA}]'`).")
    path = Path(list(spec.submodule_search_locations)[0], *parts)
    if not path.is_file():
        raise FileNotFoundError(
            f"{what}: the data file {path} is missing from the installed '{pip_name}' "
            f"({package_version(package)}). Reinstall it with `pip install --force-reinstall "
            f"{pip_name}`.")
    return path


@functools.lru_cache(maxsize=8)
def _read_checked(path: str, sha256: str, size: int, package: str, columns: int):
    pip_name = {"sklearn": "scikit-learn"}.get(package, package)
    where = (f"the data file {path} (from '{pip_name}' {package_version(package)})")
    fix = f"Reinstall it with `pip install --force-reinstall {pip_name}`."
    try:
        # bounded: contents longer than the expected data cannot match its checksum, and a
        # few kilobytes of gzip can inflate to gigabytes
        with gzip.open(path, "rb") as stream:
            content = stream.read(size + 1)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{where} is corrupt: it does not decompress ({err}). {fix}") from None
    if len(content) > size:
        raise ValueError(f"{where} is corrupt or not the expected data: it decompresses to "
                         f"more than the {size} bytes of the expected contents. {fix}")
    digest = hashlib.sha256(content).hexdigest()
    if digest != sha256:
        raise ValueError(f"{where} is corrupt or not the expected data: the SHA-256 of its "
                         f"contents is {digest}, expected {sha256}. {fix}")
    try:
        table = np.loadtxt(io.BytesIO(content), delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as err:
        raise ValueError(f"{where} is not a table of integers: {str(err).rstrip('.')}. "
                         f"{fix}") from None
    if table.shape[1] != columns:
        raise ValueError(f"{where} has {table.shape[1]} columns, expected {columns}. {fix}")
    table.flags.writeable = False
    return table


def read_table(path: Path, sha256: str, size: int, package: str, columns: int) -> np.ndarray:
    """The integer table in a gzipped CSV file whose decompressed contents are ``size``
    bytes with the given SHA-256, after its checksum and width are checked (parsed once per
    process; callers copy what they hand out)."""
    return _read_checked(str(path), sha256, size, package, columns)


def check(condition: bool, path: Path, message: str) -> None:
    if not condition:
        raise ValueError(f"the data file {path} is not the expected data: {message}")


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int):
    """Row indices ``(train, test)``: the last ``test_fraction`` of each class's rows (in file
    order) are the test set; each set is then put in a fixed order drawn from NumPy's legacy
    ``RandomState(seed)``, whose stream NumPy guarantees never to change."""
    train, test = [], []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        cut = len(rows) - int(round(len(rows) * test_fraction))
        train.append(rows[:cut])
        test.append(rows[cut:])
    train, test = np.concatenate(train), np.concatenate(test)
    order = np.random.RandomState(seed)
    return train[order.permutation(len(train))], test[order.permutation(len(test))]
