"""Runs the benchmark suite and prints (or writes as JSON) the table of ratios; with a
TensorFlow column when TensorFlow is installed."""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys

from neuroflow.benchmarks import harness, workloads


def _tensorflow(threads):
    """The ``tensorflow`` module, pinned to ``threads`` threads, or None if not installed."""
    if importlib.util.find_spec("tensorflow") is None:
        return None
    try:
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except Exception as err:  # a broken install must not stop the benchmark
        print(f"(no TensorFlow column: {type(err).__name__}: {err})", file=sys.stderr)
        return None
    return tf


def _run(name, repeats, tf, max_disturbance=0.1):
    """Times the workload, with its TensorFlow side when there is one; a TensorFlow side that
    fails drops the column for this row, not the benchmark."""
    if tf is not None and name in workloads.TF_WORKLOADS:
        try:
            return harness.run(workloads.get(name, tensorflow=tf), repeats=repeats,
                               max_disturbance=max_disturbance)
        except Exception as err:
            print(f"  {name}: the TensorFlow side failed ({type(err).__name__}: {err}); "
                  "timing without it", file=sys.stderr)
    return harness.run(workloads.get(name), repeats=repeats, max_disturbance=max_disturbance)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="neuroflow bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"workloads ({', '.join(workloads.WORKLOADS)})")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--json", metavar="PATH", help="also write the table as JSON")
    parser.add_argument("--footprint", action="store_true",
                        help="import time and install size instead of the workloads")
    parser.add_argument("--max-disturbance", type=float, default=0.1,
                        help="rerun a repeat when other processes used more than this share "
                             "of its wall time (default 0.1); raise it on a busy machine and "
                             "say so with the results")
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
    tf = _tensorflow(args.threads)
    header = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                         f"threads={args.threads}",
              "python": platform.python_version(), "blas": harness.blas_info(),
              "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "(unset)")}
    if tf is not None:
        header["tensorflow"] = tf.__version__
    for k, v in header.items():
        print(f"{k}: {v}")
    tf_columns = tf is not None and any(n in workloads.TF_WORKLOADS for n in names)
    print(f"{'workload':<10} {'neuroflow steps/s':>18} {'pytorch steps/s':>16} {'ratio':>7}"
          + (f" {'tf steps/s':>11} {'nf/tf':>7}" if tf_columns else "")
          + f" {'nf peak MB':>11} {'torch peak MB':>14}")
    rows = []
    for name in names:
        result = _run(name, args.repeats, tf, args.max_disturbance)
        nf_rate, torch_rate = result.steps_per_s["neuroflow"], result.steps_per_s["pytorch"]
        row = {"workload": name, "neuroflow_steps_per_s": nf_rate,
               "pytorch_steps_per_s": torch_rate, "ratio": result.ratio,
               "repeats": result.repeats, "discarded": result.discarded}
        tf_text = ""
        if tf_columns:
            tf_rate = result.steps_per_s.get("tensorflow")
            tf_text = f" {'n/a':>11} {'':>7}"
            if tf_rate is not None:
                row["tensorflow_steps_per_s"] = tf_rate
                row["tensorflow_ratio"] = nf_rate / tf_rate
                tf_text = f" {tf_rate:>11.1f} {row['tensorflow_ratio']:>6.2f}x"
        memory = ""
        if not args.no_memory:
            from neuroflow.benchmarks.memory import measure
            steps = workloads.MEMORY_STEPS.get(name, 20)
            for fw in ("neuroflow", "pytorch"):
                row[f"{fw}_peak_mb"] = measure(name, fw, steps=steps,
                                               threads=args.threads)["peak_mb"]
            memory = f" {row['neuroflow_peak_mb']:>11.0f} {row['pytorch_peak_mb']:>14.0f}"
        print(f"{name:<10} {nf_rate:>18.1f} {torch_rate:>16.1f} {result.ratio:>6.2f}x"
              + tf_text + memory
              + (f"  ({result.discarded} disturbed repeats rerun)" if result.discarded else ""),
              flush=True)
        rows.append(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"header": header, "results": rows}, f, indent=2)
    return 0
