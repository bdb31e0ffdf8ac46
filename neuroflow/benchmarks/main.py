"""Runs the benchmark suite and prints (or writes as JSON) the table of ratios; with a
TensorFlow column when TensorFlow is installed."""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile

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


def _run_isolated(name, args):
    """The workload's row, timed in a fresh Python process of its own (both frameworks in
    it, interleaved as ever): measured here, PyTorch's keras_cnn epoch ran at 4.3 epochs/s
    after the other workloads had run in the same process and at 3.2-3.6 in a process of
    its own, so a shared process would make each row depend on the rows before it."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "row.json")
        command = [sys.executable, "-m", "neuroflow.benchmarks.main", name, "--quiet",
                   "--no-memory", "--repeats", str(args.repeats), "--threads",
                   str(args.threads), "--max-disturbance", str(args.max_disturbance),
                   "--json", out]
        done = subprocess.run(command)
        if done.returncode != 0:
            raise SystemExit(f"the {name} workload failed (exit status {done.returncode})")
        with open(out) as f:
            row = json.load(f)["results"][0]
    return row


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
    parser.add_argument("--shared-process", action="store_true",
                        help="time all workloads in this process instead of one fresh "
                             "process per workload")
    parser.add_argument("--processes", type=int, default=1,
                        help="time each workload in this many fresh processes and report "
                             "the medians (PyTorch's speed differs between processes)")
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
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
    tf_columns = tf is not None and any(n in workloads.TF_WORKLOADS for n in names)
    isolate = (len(names) > 1 or args.processes > 1) and not args.shared_process
    if args.quiet:
        rows = [_row(name, args, tf, tf_columns) for name in names]
        _write_json(args.json, header, rows)
        return 0
    for k, v in header.items():
        print(f"{k}: {v}")
    print(f"{'workload':<10} {'neuroflow steps/s':>18} {'pytorch steps/s':>16} {'ratio':>7}"
          + (f" {'tf steps/s':>11} {'nf/tf':>7}" if tf_columns else "")
          + f" {'nf peak MB':>11} {'torch peak MB':>14}")
    rows = []
    for name in names:
        row = _median_row([_run_isolated(name, args) for _ in range(args.processes)]) \
            if isolate else _row(name, args, tf, tf_columns)
        tf_text = ""
        if tf_columns:
            tf_text = f" {'n/a':>11} {'':>7}"
            if "tensorflow_steps_per_s" in row:
                tf_text = (f" {row['tensorflow_steps_per_s']:>11.1f} "
                           f"{row['tensorflow_ratio']:>6.2f}x")
        memory = ""
        if not args.no_memory:
            from neuroflow.benchmarks.memory import measure
            steps = workloads.MEMORY_STEPS.get(name, 20)
            for fw in ("neuroflow", "pytorch"):
                row[f"{fw}_peak_mb"] = measure(name, fw, steps=steps,
                                               threads=args.threads)["peak_mb"]
            memory = f" {row['neuroflow_peak_mb']:>11.0f} {row['pytorch_peak_mb']:>14.0f}"
        print(f"{name:<10} {row['neuroflow_steps_per_s']:>18.1f} "
              f"{row['pytorch_steps_per_s']:>16.1f} {row['ratio']:>6.2f}x" + tf_text + memory
              + (f"  ({row['discarded']} disturbed repeats rerun)" if row["discarded"] else ""),
              flush=True)
        rows.append(row)
    _write_json(args.json, header, rows)
    return 0


def _row(name, args, tf, tf_columns):
    """Times one workload in this process; its table row as a dict."""
    result = _run(name, args.repeats, tf, args.max_disturbance)
    row = {"workload": name, "neuroflow_steps_per_s": result.steps_per_s["neuroflow"],
           "pytorch_steps_per_s": result.steps_per_s["pytorch"], "ratio": result.ratio,
           "repeats": result.repeats, "discarded": result.discarded}
    tf_rate = result.steps_per_s.get("tensorflow") if tf_columns else None
    if tf_rate is not None:
        row["tensorflow_steps_per_s"] = tf_rate
        row["tensorflow_ratio"] = row["neuroflow_steps_per_s"] / tf_rate
    return row


def _median_row(rows):
    """One row from the same workload's rows of several processes: median throughputs and
    the median of the per-process ratios; ``processes`` keeps each process's ratio."""
    import statistics
    row = dict(rows[0])
    for key in rows[0]:
        if key.endswith("steps_per_s") or key.endswith("ratio"):
            row[key] = statistics.median(r[key] for r in rows)
    row["discarded"] = sum(r["discarded"] for r in rows)
    if len(rows) > 1:
        row["processes"] = [r["ratio"] for r in rows]
    return row


def _write_json(path, header, rows):
    if path:
        with open(path, "w") as f:
            json.dump({"header": header, "results": rows}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
