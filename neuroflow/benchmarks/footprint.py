"""``neuroflow bench --footprint``: import time and installed size of neuroflow (with NumPy)
next to PyTorch's and TensorFlow's, where installed."""
from __future__ import annotations

import importlib.metadata as metadata
import os
import statistics
import subprocess
import sys
import time


def import_seconds(module: str, repeats: int = 5) -> float | None:
    """Median wall time of ``python -c "import MODULE"`` minus that of a bare interpreter."""
    def run(code):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True)
        return time.perf_counter() - start, done.returncode
    bare = statistics.median(run("pass")[0] for _ in range(repeats))
    times = []
    for _ in range(repeats):
        elapsed, rc = run(f"import {module}")
        if rc != 0:
            return None
        times.append(elapsed)
    return max(0.0, statistics.median(times) - bare)


def installed_mb(*distributions: str) -> float | None:
    """Size on disk of the files the given distributions installed."""
    total = 0
    for name in distributions:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            return None
        for f in dist.files or []:
            path = dist.locate_file(f)
            try:
                total += os.path.getsize(path)
            except OSError:
                pass
    return total / 2**20


def _package_dir_mb(module: str) -> float | None:
    """For an editable install the files live in the source tree: measure the package."""
    try:
        mod = __import__(module)
    except ImportError:
        return None
    root = os.path.dirname(mod.__file__)
    total = 0
    for folder, _, files in os.walk(root):
        if "__pycache__" in folder:
            continue
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total / 2**20


def report(print_fn=print) -> list[dict]:
    rows = []
    own = _package_dir_mb("neuroflow") or 0.0
    numpy_mb = installed_mb("numpy") or 0.0
    rows.append({"framework": "neuroflow (+numpy)", "import_s": import_seconds("neuroflow"),
                 "install_mb": own + numpy_mb})
    for label, module, dists in (("pytorch", "torch", ("torch",)),
                                 ("tensorflow", "tensorflow", ("tensorflow-cpu",))):
        size = installed_mb(*dists)
        if size is None and module == "tensorflow":
            size = installed_mb("tensorflow")
        if size is None:
            continue
        rows.append({"framework": label, "import_s": import_seconds(module),
                     "install_mb": size})
    print_fn(f"{'framework':<20} {'import (s)':>10} {'install (MB)':>13}")
    for row in rows:
        imp = "n/a" if row["import_s"] is None else f"{row['import_s']:.3f}"
        print_fn(f"{row['framework']:<20} {imp:>10} {row['install_mb']:>13.1f}")
    return rows
