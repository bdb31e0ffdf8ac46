"""The ``neuroflow`` command line, run as a user runs it: ``python -m neuroflow.cli ...`` in a
subprocess (so it works without the console script), in a scratch folder."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
HAS = {name: importlib.util.find_spec(name) is not None
       for name in ("sklearn", "PIL", "matplotlib", "tensorboardX")}
needs_digits = pytest.mark.skipif(not HAS["sklearn"], reason="keras.datasets.digits reads "
                                  "scikit-learn's data file (pip install scikit-learn)")


def cli(*args, cwd, timeout=120):
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([env["PYTHONPATH"]]
                                                      if env.get("PYTHONPATH") else []))
    return subprocess.run([sys.executable, "-m", "neuroflow.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_info(tmp_path):
    import neuroflow as nf
    done = cli("info", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"neuroflow {nf.__version__}"
    assert re.search(rf"^numpy\s+{re.escape(np.__version__)}$", done.stdout, re.M)
    assert re.search(r"^python\s+3\.\d+", done.stdout, re.M)
    for extra in ("blas", "numba", "torch", "threadpoolctl", "hypothesis"):
        assert re.search(rf"^{extra}\s+\S", done.stdout, re.M), extra
    assert re.search(r"^threads\s+\d+ per op$", done.stdout, re.M)


def test_demo_converges(tmp_path):
    done = cli("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("converged")
    learned = re.search(r"learned w = \[([-\d.]+), ([-\d.]+)\], b = ([-\d.]+)", done.stdout)
    np.testing.assert_allclose([float(v) for v in learned.groups()], [2.0, -3.5, 0.7],
                               atol=0.05)
    losses = [float(v) for v in re.findall(r"step\s+\d+\s+loss ([\d.]+)", done.stdout)]
    assert len(losses) >= 5 and losses[-1] < losses[0] / 100


def test_demo_that_cannot_converge_exits_nonzero(tmp_path):
    done = cli("demo", "--steps", "1", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.rstrip().endswith("did not converge")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short real ``neuroflow train`` run on the 8x8 digits, shared by the tests."""
    if not HAS["sklearn"]:
        pytest.skip("keras.datasets.digits reads scikit-learn's data file")
    out = tmp_path_factory.mktemp("runs")
    done = cli("train", "--dataset", "digits", "--epochs", "2", "--out", str(out),
               cwd=out, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done, out / "cnn-digits"


def _digits_test_set():
    from neuroflow.train import load_dataset
    return load_dataset("digits")[1]


@needs_digits
def test_train_writes_the_model_and_reports_its_test_accuracy(trained):
    from neuroflow import keras
    done, run = trained
    assert "neuroflow train: cnn on digits (1438 training / 359 test samples), 2 epochs" \
        in done.stdout
    assert "Epoch 1/2" in done.stdout and "Epoch 2/2" in done.stdout
    line = re.search(r"trained in [\d.]+ s; test accuracy (\d\.\d{4}), test loss (\d+\.\d{4}) "
                     r"on 359 held-out samples", done.stdout)
    assert line, done.stdout
    model = keras.models.load_model(run / "model.keras")
    x_test, y_test = _digits_test_set()
    predicted = model.predict(x_test, verbose=0).argmax(-1)
    # the saved model is the one evaluated: same accuracy as printed
    assert float(line.group(1)) == pytest.approx(np.mean(predicted == y_test), abs=1e-4)
    assert f"model:          {run / 'model.keras'}" in done.stdout


@needs_digits
@pytest.mark.skipif(not (HAS["matplotlib"] and HAS["PIL"]),
                    reason="the learning curve is drawn with matplotlib (and read with Pillow)")
def test_train_draws_the_learning_curve(trained):
    from PIL import Image
    done, run = trained
    path = run / "learning_curve.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (1000, 400)
    assert f"learning curve: {path}" in done.stdout


@needs_digits
@pytest.mark.skipif(not HAS["tensorboardX"], reason="TensorBoard logs are written with "
                    "tensorboardX")
def test_train_writes_tensorboard_logs(trained):
    done, run = trained
    for split in ("train", "validation"):
        events = list((run / "logs" / split).glob("events.out.tfevents.*"))
        assert len(events) == 1, split
        assert b"epoch_loss" in events[0].read_bytes()
    assert f"tensorboard --logdir {run / 'logs'}" in done.stdout


@needs_digits
@pytest.mark.skipif(not HAS["PIL"], reason="neuroflow predict reads PNGs with Pillow")
def test_predict_classifies_a_png_as_the_model_does(trained, tmp_path):
    from PIL import Image

    from neuroflow import keras
    from neuroflow.ops.activations import softmax
    from neuroflow.train import read_image
    _, run = trained
    x_test, _ = _digits_test_set()
    digit = x_test[3, :, :, 0]  # white ink on black, in [0, 1]
    png = tmp_path / "digit.png"
    Image.fromarray(np.round(digit * 255).astype(np.uint8)).save(png)
    done = cli("predict", str(run / "model.keras"), str(png), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    image = read_image(str(png), (8, 8))
    np.testing.assert_allclose(image, digit, atol=1 / 255)  # the PNG holds the digit
    model = keras.models.load_model(run / "model.keras")
    probs = softmax(model.predict(image[None, ..., None], verbose=0)).numpy()[0]
    best = int(np.argmax(probs))
    lines = done.stdout.splitlines()
    assert lines[0] == f"{png}: class {best} (probability {probs[best]:.3f})"
    top3 = [f"  {int(k)}: {probs[k]:.3f}" for k in np.argsort(-probs)[:3]]
    assert lines[1:4] == top3


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "imagenet"], "argument --dataset: invalid choice: 'imagenet'"),
    (["train", "--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["train", "--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
    (["frobnicate"], "argument command: invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: command"),
    (["predict", "model.keras"], "the following arguments are required: image"),
])
def test_bad_arguments_are_usage_errors(tmp_path, args, message):
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stderr.startswith("usage: neuroflow")
    assert not list(tmp_path.iterdir())  # nothing was written


def test_bench_help(tmp_path):
    done = cli("bench", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: neuroflow bench")
    for word in ("--repeats", "--footprint", "keras_mlp", "keras_cnn", "fit_mnist"):
        assert word in done.stdout
