"""The ``neuroflow`` command: ``train``, ``predict``, ``info``, ``demo`` and ``bench``."""
from __future__ import annotations

import argparse
import platform
import sys


def _info(args) -> int:
    import numpy as np

    import neuroflow as nf
    print(f"neuroflow {nf.__version__}")
    print(f"python    {platform.python_version()} ({platform.machine()})")
    print(f"numpy     {np.__version__}")
    try:
        from neuroflow.benchmarks.harness import blas_info
        print(f"blas      {blas_info()}")
    except ImportError:
        pass
    from neuroflow.backend import jit, threads
    print(f"threads   {threads.intra_op_threads()} per op")
    for extra in ("numba", "torch", "threadpoolctl", "hypothesis"):
        try:
            module = __import__(extra)
            note = " (compiled kernels off: NEUROFLOW_JIT=0)" \
                if extra == "numba" and not jit.ENABLED else ""
            print(f"{extra:<9} {getattr(module, '__version__', 'installed')}{note}")
        except ImportError:
            print(f"{extra:<9} not installed")
    return 0


def _demo(args) -> int:
    """Linear regression written as a TensorFlow 1 program: placeholders, a session."""
    import numpy as np

    import neuroflow.compat.v1 as tf
    rng = np.random.default_rng(args.seed)
    true_w, true_b = np.array([[2.0], [-3.5]], np.float32), np.float32(0.7)
    x_data = rng.uniform(-1, 1, (256, 2)).astype(np.float32)
    y_data = x_data @ true_w + true_b + rng.normal(0, 0.05, (256, 1)).astype(np.float32)

    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        w = tf.Variable(tf.zeros([2, 1]), name="weights")
        b = tf.Variable(0.0, name="bias")
        prediction = tf.matmul(x, w) + b
        loss = tf.reduce_mean(tf.square(prediction - y))
        train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        init = tf.global_variables_initializer()
    print("Linear regression, TF1 style: y = x @ w + b, fitted by gradient descent in a "
          "Session")
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for step in range(args.steps + 1):
            _, value = sess.run([train_op, loss], feed_dict={x: x_data, y: y_data})
            if step % max(1, args.steps // 5) == 0:
                print(f"  step {step:4d}  loss {value:.5f}")
        w_value, b_value = sess.run([w, b])
    learned = ", ".join(f"{v:.3f}" for v in w_value.ravel())
    print(f"learned w = [{learned}], b = {float(b_value):.3f} "
          f"(true w = [2.0, -3.5], b = 0.7)")
    ok = np.allclose(w_value, true_w, atol=0.05) and abs(b_value - true_b) < 0.05
    print("converged" if ok else "did not converge")
    return 0 if ok else 1


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # the benchmark has its own options parser
        from neuroflow.benchmarks.main import main as bench_main
        return bench_main(argv[1:])
    parser = argparse.ArgumentParser(prog="neuroflow", description="neuroflow command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="versions, BLAS and installed extras").set_defaults(fn=_info)
    demo = sub.add_parser("demo", help="a TF1-style linear regression trained in a session")
    demo.add_argument("--steps", type=int, default=200)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(fn=_demo)
    sub.add_parser("bench", help="neuroflow vs PyTorch benchmark: neuroflow bench --help")
    from neuroflow import train
    train_parser = sub.add_parser("train", help="train a model on a bundled dataset (the "
                                  "main job)")
    train.add_arguments(train_parser)
    train_parser.set_defaults(fn=train.run)
    predict = sub.add_parser("predict", help="classify a PNG with a saved model")
    predict.add_argument("model", help="a saved model (.keras)")
    predict.add_argument("image", help="a PNG image")
    predict.set_defaults(fn=train.predict)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
