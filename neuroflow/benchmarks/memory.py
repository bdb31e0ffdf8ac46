"""Peak memory of one framework running one workload, in a process of its own.

``python -m neuroflow.benchmarks.memory WORKLOAD FRAMEWORK [STEPS]`` prints JSON with the
process's resident set size after importing and building (``baseline_mb``) and its peak over
the run (``peak_mb``), so each framework is charged only for itself.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that across fork and
    exec, so a child of a large parent would report the parent's size."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(workload: str, framework: str, steps: int = 20, threads: int | None = None) -> dict:
    """Runs the measurement in a fresh interpreter and returns its JSON result."""
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "neuroflow.benchmarks.memory", workload, framework, str(steps)]
    if threads:
        cmd.append(str(threads))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"memory measurement of {workload}/{framework} failed "
                           f"(exit {out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _main(argv):
    workload, framework = argv[0], argv[1]
    steps = int(argv[2]) if len(argv) > 2 else 20
    threads = int(argv[3]) if len(argv) > 3 else os.cpu_count()
    from neuroflow.benchmarks import harness, workloads
    harness.pin_threads(threads, torch_too=framework == "pytorch")
    step = workloads.get(workload).build[framework]()
    step()
    baseline = _rss_mb()
    if framework != "pytorch":
        assert "torch" not in sys.modules, "the neuroflow side must not load torch"
    for _ in range(steps):
        step()
    peak = _peak_mb()
    print(json.dumps({"workload": workload, "framework": framework,
                      "baseline_mb": round(baseline, 1), "peak_mb": round(peak, 1)}))


if __name__ == "__main__":
    _main(sys.argv[1:])
