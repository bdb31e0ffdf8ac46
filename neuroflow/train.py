"""``neuroflow train``: the main job. Trains a model on a bundled dataset with Keras's loop,
evaluates it on the held-out split, and writes the model, a learning-curve plot and
TensorBoard logs under ``runs/<name>/``. ``neuroflow predict`` classifies a PNG with a saved
model."""
from __future__ import annotations

import argparse
import io
import os
import struct
import time
import zlib

import numpy as np

DATASETS = ("mnist", "digits")


def load_dataset(name: str):
    """((x_train, y_train), (x_test, y_test)): float32 images in [0, 1] with a channel axis."""
    from neuroflow import keras
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    scale = 255.0 if x_train.dtype == np.uint8 else float(max(x_train.max(), 1))

    def prepare(x):
        return (x.astype(np.float32) / scale)[..., None]
    return (prepare(x_train), y_train.astype(np.int32)), (prepare(x_test), y_test.astype(np.int32))


def add_arguments(parser: argparse.ArgumentParser):
    from neuroflow.models.builders import BUILDERS
    parser.add_argument("--model", default="cnn", choices=sorted(BUILDERS))
    parser.add_argument("--dataset", default="mnist", choices=DATASETS)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs", help="folder for the run's outputs")
    parser.add_argument("--name", default=None, help="run name (default: model-dataset)")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))


def run(args) -> int:
    from neuroflow import keras
    from neuroflow.models.builders import BUILDERS

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_dataset(args.dataset)
    num_classes = int(max(y_train.max(), y_test.max()) + 1)
    model = BUILDERS[args.model](x_train.shape[1:], num_classes)
    optimizer = keras.optimizers.get({"class_name": args.optimizer,
                                      "config": {"learning_rate": args.learning_rate}})
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    name = args.name or f"{args.model}-{args.dataset}"
    run_dir = os.path.join(args.out, name)
    os.makedirs(run_dir, exist_ok=True)
    callbacks = [keras.callbacks.BackupAndRestore(os.path.join(run_dir, "backup")),
                 keras.callbacks.EarlyStopping(monitor="val_loss", patience=5,
                                               restore_best_weights=True)]
    try:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(run_dir, "logs")))
    except ImportError as err:
        print(f"(no TensorBoard logs: {err})")
    print(f"neuroflow train: {args.model} on {args.dataset} "
          f"({len(x_train)} training / {len(x_test)} test samples), {args.epochs} epochs")
    model.summary()
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_split=0.1, callbacks=callbacks, verbose=args.verbose)
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    model_path = os.path.join(run_dir, "model.keras")
    model.save(model_path)
    curve_path = os.path.join(run_dir, "learning_curve.png")
    plotted = plot_learning_curve(history.history, curve_path, title=name)
    print(f"trained in {seconds:.1f} s; test accuracy {test_accuracy:.4f}, "
          f"test loss {test_loss:.4f} on {len(x_test)} held-out samples")
    print(f"model:          {model_path}")
    if plotted:
        print(f"learning curve: {curve_path}")
    if any(isinstance(c, keras.callbacks.TensorBoard) for c in callbacks):
        print(f"tensorboard:    tensorboard --logdir {os.path.join(run_dir, 'logs')}")
    return 0


def plot_learning_curve(history: dict, path: str, title: str = "") -> bool:
    """Loss and accuracy per epoch, training and validation, side by side (matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no learning-curve plot: pip install 'neuroflow[train]' for matplotlib)")
        return False
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            values = history.get(prefix + metric)
            if values:
                epochs = range(1, len(values) + 1)
                ax.plot(epochs, values, style, label=("validation " if prefix else "train ")
                        + metric)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def predict(args) -> int:
    """Classifies a PNG image with a saved model: prints the class and its probability."""
    from neuroflow import keras
    from neuroflow.ops.activations import softmax
    model = keras.models.load_model(args.model)
    shape = model.input_shape[1:] if hasattr(model, "input_shape") else (28, 28, 1)
    image = read_image(args.image, shape[:2])
    logits = model.predict(image[None, ..., None], verbose=0)
    probs = softmax(logits).numpy()[0]
    best = int(np.argmax(probs))
    print(f"{args.image}: class {best} (probability {probs[best]:.3f})")
    for k in np.argsort(-probs)[:3]:
        print(f"  {int(k)}: {probs[k]:.3f}")
    return 0


_MAX_PIXELS = 4096 * 4096  # a digit photo; a few bytes of PNG can declare gigapixels


def read_image(path: str, size) -> np.ndarray:
    """A grayscale float32 image in [0, 1] resized to ``size``, white digit on black as MNIST."""
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError("neuroflow predict reads PNGs with Pillow: "
                          "pip install 'neuroflow[train]'") from err
    try:
        with open(path, "rb") as f:  # from memory: Pillow's reads of a file allocate whatever
            data = f.read()          # length a (lying) chunk header declares
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > _MAX_PIXELS:
                raise ValueError(f"the image is {img.width} x {img.height} pixels, more than "
                                 f"the {_MAX_PIXELS} neuroflow predict reads")
            img = img.convert("L").resize((int(size[1]), int(size[0])), Image.BILINEAR)
            array = np.asarray(img, np.float32) / 255.0
    # what Pillow raises on a damaged file besides OSError: SyntaxError (broken PNG chunks),
    # struct.error, zlib.error, EOFError, DecompressionBombError
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error,
            Image.DecompressionBombError) as err:
        raise ValueError(f"Cannot read image '{path}': {err}") from err
    if array.mean() > 0.5:  # dark ink on a light background: invert to MNIST's convention
        array = 1.0 - array
    return array
