"""Benchmark harness: neuroflow and PyTorch on the same workload, interleaved, in one process.

A workload gives a step function per framework (same data, same float32 model). Each repeat
times a batch of steps of one framework, then of the other (A B A B ...), so both see the same
machine state; the figure is the ratio of median throughputs. A repeat during which other
processes used the CPU (read from /proc/stat) is thrown away and run again.
"""
from __future__ import annotations

import dataclasses
import os
import statistics
import time
from collections.abc import Callable


@dataclasses.dataclass
class Workload:
    name: str
    description: str
    build: dict  # framework name -> () -> step function


@dataclasses.dataclass
class Result:
    workload: str
    steps_per_s: dict
    ratio: float
    repeats: int
    discarded: int


def _cpu_jiffies():
    """(busy jiffies of the whole machine, jiffies per second)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    busy = sum(values) - values[3] - (values[4] if len(values) > 4 else 0)
    return busy


def _own_cpu_seconds():
    t = os.times()
    return t.user + t.system


def _timed(step: Callable, n: int):
    """Seconds per step over n steps, and the CPU seconds other processes used meanwhile."""
    hz = os.sysconf("SC_CLK_TCK")
    busy0, own0 = _cpu_jiffies(), _own_cpu_seconds()
    start = time.perf_counter()
    for _ in range(n):
        step()
    elapsed = time.perf_counter() - start
    busy1, own1 = _cpu_jiffies(), _own_cpu_seconds()
    others = None
    if busy0 is not None:
        others = max(0.0, (busy1 - busy0) / hz - (own1 - own0))
    return elapsed / n, elapsed, others


def _calibrate(step: Callable, target_s: float) -> int:
    n = 1
    while True:
        _, elapsed, _ = _timed(step, n)
        if elapsed >= target_s / 4 or n >= 1 << 20:
            return max(1, int(n * target_s / max(elapsed, 1e-9)))
        n *= 4


def run(workload: Workload, repeats: int = 7, target_s: float = 0.25, warmup_s: float = 0.5,
        max_disturbance: float = 0.1, log=print) -> Result:
    """Times each framework of ``workload``; returns medians of ``repeats`` clean repeats."""
    steps = {fw: build() for fw, build in workload.build.items()}
    counts = {}
    for fw, step in steps.items():  # warm both sides equally: caches, allocator, plans
        end = time.perf_counter() + warmup_s
        while time.perf_counter() < end:
            step()
        counts[fw] = _calibrate(step, target_s)
    times = {fw: [] for fw in steps}
    discarded = 0
    while min(len(v) for v in times.values()) < repeats:
        if discarded > 6 * repeats:
            log(f"  {workload.name}: the machine stayed busy; giving up after {discarded} "
                "disturbed repeats")
            break
        for fw, step in steps.items():
            if len(times[fw]) >= repeats:
                continue
            per_step, elapsed, others = _timed(step, counts[fw])
            if others is not None and others > max_disturbance * elapsed:
                discarded += 1
                continue
            times[fw].append(per_step)
    rates = {fw: (1.0 / statistics.median(v) if v else float("nan")) for fw, v in times.items()}
    names = list(steps)
    ratio = rates[names[0]] / rates[names[1]] if len(names) > 1 else float("nan")
    return Result(workload.name, rates, ratio, repeats, discarded)


def blas_info() -> str:
    """The BLAS library and kernel NumPy uses (threadpoolctl), for the results header."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl)"
    parts = []
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            parts.append(f"{pool.get('internal_api')} {pool.get('version')} "
                         f"{pool.get('architecture')} threads={pool.get('num_threads')}")
    return "; ".join(parts) or "none found"


def pin_threads(n: int, torch_too: bool = True):
    """Same thread count for both: NumPy's BLAS via threadpoolctl, torch's intra-op pool."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
    except ImportError:
        pass
    if torch_too:
        try:
            import torch
            torch.set_num_threads(n)
        except ImportError:
            pass
