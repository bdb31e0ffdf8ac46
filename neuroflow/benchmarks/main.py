"""Runs the benchmark suite and prints (or writes as JSON) the table of ratios."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys

from neuroflow.benchmarks import harness, workloads


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="neuroflow bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"workloads ({', '.join(workloads.WORKLOADS)})")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--json", metavar="PATH", help="also write the table as JSON")
    parser.add_argument("--footprint", action="store_true",
                        help="import time and install size instead of the workloads")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the per-framework peak memory subprocesses")
    args = parser.parse_args(argv)
    if args.footprint:
        from neuroflow.benchmarks import footprint
        rows = footprint.report()
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"footprint": rows}, f, indent=2)
        return 0
    try:
        import torch  # noqa: F401
    except ImportError:
        print("neuroflow bench compares against PyTorch: pip install 'neuroflow[bench]'",
              file=sys.stderr)
        return 2
    names = args.names or list(workloads.WORKLOADS)
    unknown = [n for n in names if n not in workloads.WORKLOADS]
    if unknown:
        print(f"unknown workload(s) {unknown}; choose from {list(workloads.WORKLOADS)}",
              file=sys.stderr)
        return 2
    harness.pin_threads(args.threads)
    header = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                         f"threads={args.threads}",
              "python": platform.python_version(), "blas": harness.blas_info(),
              "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "(unset)")}
    for k, v in header.items():
        print(f"{k}: {v}")
    print(f"{'workload':<10} {'neuroflow steps/s':>18} {'pytorch steps/s':>16} {'ratio':>7}"
          f" {'nf peak MB':>11} {'torch peak MB':>14}")
    rows = []
    for name in names:
        result = harness.run(workloads.get(name), repeats=args.repeats)
        nf_rate, torch_rate = result.steps_per_s["neuroflow"], result.steps_per_s["pytorch"]
        row = {"workload": name, "neuroflow_steps_per_s": nf_rate,
               "pytorch_steps_per_s": torch_rate, "ratio": result.ratio,
               "repeats": result.repeats, "discarded": result.discarded}
        memory = ""
        if not args.no_memory:
            from neuroflow.benchmarks.memory import measure
            for fw in ("neuroflow", "pytorch"):
                row[f"{fw}_peak_mb"] = measure(name, fw, threads=args.threads)["peak_mb"]
            memory = f" {row['neuroflow_peak_mb']:>11.0f} {row['pytorch_peak_mb']:>14.0f}"
        print(f"{name:<10} {nf_rate:>18.1f} {torch_rate:>16.1f} {result.ratio:>6.2f}x{memory}"
              + (f"  ({result.discarded} disturbed repeats rerun)" if result.discarded else ""),
              flush=True)
        rows.append(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"header": header, "results": rows}, f, indent=2)
    return 0
