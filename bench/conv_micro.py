"""Micro-benchmark: each conv and pool of the ``cnn`` bench model, neuroflow vs PyTorch (CPU).

Model: input 64x28x28x1, Conv 3x3 32 SAME + ReLU + MaxPool 2, Conv 3x3 64 SAME + ReLU +
MaxPool 2, Flatten, Dense 128, Dense 10. For every conv and pool this times the forward
pass, the input gradient and (convs) the filter gradient, running neuroflow's kernels (NHWC)
and torch's (NCHW, its native layout) with the same number of threads, interleaved, and
prints medians and the ratio neuroflow throughput / torch throughput (>1: neuroflow is
faster). Max pooling's gradient is timed as it runs in training: right after its forward
pass, which leaves it the window argmax; "fwd (train)" times that training-mode forward
(torch: with indices).

    python bench/conv_micro.py [--repeats 30] [--threads 2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import neuroflow as nf  # noqa: E402
from neuroflow.ops import conv as nf_conv  # noqa: E402
from neuroflow.ops import pooling as nf_pool  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("conv_micro needs torch (the reference it measures against)")


def _threads(n):
    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(limits=n)
    except ImportError:
        return None


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def _timer(fn, prepare=None):
    def run():
        if prepare is not None:
            prepare()
        start = clock()
        fn()
        return clock() - start
    return run


def conv_cases(batch, rng):
    cases = []
    for name, (h, cin, cout) in {"conv1": (28, 1, 32), "conv2": (14, 32, 64)}.items():
        x = rng.standard_normal((batch, h, h, cin)).astype(np.float32)
        w = (rng.standard_normal((3, 3, cin, cout)) * 0.1).astype(np.float32)
        dy = rng.standard_normal((batch, h, h, cout)).astype(np.float32)
        attrs = nf_conv.conv_attrs(2, "NHWC", 1, "SAME", None)
        sizes_x = np.asarray(x.shape, np.int32)
        sizes_w = np.asarray(w.shape, np.int32)
        tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
        tw = torch.from_numpy(w).permute(3, 2, 0, 1).contiguous()
        tdy = torch.from_numpy(dy).permute(0, 3, 1, 2).contiguous()

        def t_back(mask, tx=tx, tw=tw, tdy=tdy):
            return torch.ops.aten.convolution_backward(
                tdy, tx, tw, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)

        cases += [
            (f"{name} forward",
             _timer(lambda x=x, w=w, a=attrs: nf_conv._conv.kernel(x, w, **a)),
             _timer(lambda tx=tx, tw=tw: F.conv2d(tx, tw, padding=1))),
            (f"{name} input grad",
             _timer(lambda s=sizes_x, w=w, dy=dy, a=attrs:
                    nf_conv._conv_input_grad.kernel(s, w, dy, **a)),
             _timer(lambda f=t_back: f([True, False, False]))),
            (f"{name} filter grad",
             _timer(lambda x=x, s=sizes_w, dy=dy, a=attrs:
                    nf_conv._conv_filter_grad.kernel(x, s, dy, **a)),
             _timer(lambda f=t_back: f([False, True, False]))),
        ]
    return cases


def pool_cases(batch, rng):
    cases = []
    for name, (h, c) in {"pool1": (28, 32), "pool2": (14, 64)}.items():
        x = np.maximum(rng.standard_normal((batch, h, h, c)), 0).astype(np.float32)
        attrs = {"ksize": (2, 2), "strides": (2, 2), "padding": "VALID", "data_format": "NHWC"}
        y = nf_pool._max_pool.kernel(x, **attrs)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
        _, idx = F.max_pool2d(tx, 2, 2, return_indices=True)
        tdy = torch.from_numpy(dy).permute(0, 3, 1, 2).contiguous()
        kept = {}

        def nf_fwd_kept(x=x, attrs=attrs, kept=kept):  # the forward of a training step
            kept["y"] = nf_pool._max_pool.kernel(x, keep_argmax=True, **attrs)

        def nf_grad(x=x, dy=dy, attrs=attrs, kept=kept):
            nf_pool._max_pool_grad.kernel(x, kept["y"], dy, **attrs)

        def torch_grad(tx=tx, tdy=tdy, idx=idx):
            torch.ops.aten.max_pool2d_with_indices_backward(tdy, tx, [2, 2], [2, 2], [0, 0],
                                                            [1, 1], False, idx)
        cases += [
            (f"{name} forward",
             _timer(lambda x=x, a=attrs: nf_pool._max_pool.kernel(x, **a)),
             _timer(lambda tx=tx: F.max_pool2d(tx, 2, 2))),
            (f"{name} fwd (train)", _timer(nf_fwd_kept),
             _timer(lambda tx=tx: F.max_pool2d(tx, 2, 2, return_indices=True))),
            (f"{name} input grad", _timer(nf_grad, prepare=nf_fwd_kept), _timer(torch_grad)),
        ]
    return cases


NOT_IN_TRAINING = {"conv1 input grad", "pool1 forward", "pool2 forward"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="cpu: process CPU time, steadier than wall time on a shared "
                             "machine (it counts every thread's time)")
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    limits = _threads(args.threads)
    rng = np.random.default_rng(0)
    cases = conv_cases(args.batch, rng) + pool_cases(args.batch, rng)
    times = {name: ([], []) for name, _, _ in cases}
    with torch.no_grad():
        for _ in range(3):  # warm up
            for _, ours, theirs in cases:
                ours()
                theirs()
        for _ in range(args.repeats):  # interleaved
            for name, ours, theirs in cases:
                times[name][0].append(ours())
                times[name][1].append(theirs())
    print(f"neuroflow {nf.__version__} vs torch {torch.__version__}, {args.threads} threads, "
          f"batch {args.batch}, {args.clock} time, median of {args.repeats}")
    print(f"{'case':<20}{'neuroflow ms':>14}{'torch ms':>12}{'ratio':>8}")
    total_ours = total_theirs = 0.0
    for name, _, _ in cases:
        ours = statistics.median(times[name][0]) * 1e3
        theirs = statistics.median(times[name][1]) * 1e3
        if name not in NOT_IN_TRAINING:
            total_ours += ours
            total_theirs += theirs
        print(f"{name:<20}{ours:>14.3f}{theirs:>12.3f}{theirs / ours:>8.2f}")
    print(f"{'training-step sum':<20}{total_ours:>14.3f}{total_theirs:>12.3f}"
          f"{total_theirs / total_ours:>8.2f}")
    print("(the sum leaves out what a training step does not run: the first layer's input "
          "gradient, and pooling's inference forward)")
    del limits


if __name__ == "__main__":
    main()
