"""Runs the benchmark suite: ``python bench/run.py [workload ...] [--json PATH]``
(the same as ``neuroflow bench``)."""
import sys

from neuroflow.benchmarks.main import main

sys.exit(main())
