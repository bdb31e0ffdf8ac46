"""model.summary(): Keras 3's table, counts and byte sizes."""
import numpy as np
import pytest

from neuroflow import keras
from neuroflow.keras.models.summary import readable_memory_size

MNIST_SUMMARY = """\
Model: "mnist"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                 ┃        Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━┩
│ hidden (Dense)                       │ (None, 128)                  │        100,480 │
├──────────────────────────────────────┼──────────────────────────────┼────────────────┤
│ logits (Dense)                       │ (None, 10)                   │          1,290 │
└──────────────────────────────────────┴──────────────────────────────┴────────────────┘
 Total params: 101,770 (397.54 KB)
 Trainable params: 101,770 (397.54 KB)
 Non-trainable params: 0 (0.00 B)"""


def _mnist():
    return keras.Sequential([keras.Input((784,)),
                             keras.layers.Dense(128, activation="relu", name="hidden"),
                             keras.layers.Dense(10, name="logits")], name="mnist")


def _capture(model, **kwargs):
    printed = []
    model.summary(print_fn=printed.append, **kwargs)
    assert len(printed) == 1  # Keras 3 hands print_fn the whole text at once
    return printed[0]


def test_sequential_summary_text():
    assert _capture(_mnist()) == MNIST_SUMMARY


def test_summary_prints_to_stdout(capsys):
    _mnist().summary()
    assert capsys.readouterr().out == MNIST_SUMMARY + "\n"


def test_show_trainable_and_frozen_counts():
    model = _mnist()
    model.layers[0].trainable = False
    text = _capture(model, show_trainable=True)
    lines = text.splitlines()
    assert "Trainable" in lines[2]
    hidden = next(line for line in lines if "hidden (Dense)" in line)
    logits = next(line for line in lines if "logits (Dense)" in line)
    assert hidden.split("│")[-2].strip() == "N" and logits.split("│")[-2].strip() == "Y"
    assert lines[-3:] == [" Total params: 101,770 (397.54 KB)",
                          " Trainable params: 1,290 (5.04 KB)",
                          " Non-trainable params: 100,480 (392.50 KB)"]
    assert all(len(line) == 100 for line in lines[1:-3])


def test_functional_summary_has_connections():
    a, b = keras.Input((4,), name="in_a"), keras.Input((3,), name="in_b")
    shared = keras.layers.Dense(5, name="shared")
    merged_a = shared(a)
    merged_b = shared(keras.layers.Dense(4, name="project")(b))
    model = keras.Model([a, b], [merged_a, keras.layers.Dense(1, name="head")(merged_b)],
                        name="two_way")
    text = _capture(model)
    assert text.splitlines()[0] == 'Model: "two_way"'
    assert "Connected to" in text.splitlines()[2]
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in text.splitlines() if line.startswith("│")}
    assert rows["in_a (InputLayer)"] == ["(None, 4)", "0", "-"]
    assert rows["shared (Dense)"] == ["(None, 5)", "25", "in_a[0][0], project[0][0]"]
    assert rows["head (Dense)"] == ["(None, 1)", "6", "shared[1][0]"]
    assert " Total params: 47 (188.00 B)" in text


def test_chain_functional_model_has_no_connection_column():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(3)(inputs)))
    text = _capture(model)
    assert "Connected to" not in text and "(InputLayer)" in text


def test_subclassed_model_summary_after_build():
    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.first = keras.layers.Dense(3, name="first")
            self.second = keras.layers.Dense(1, name="second")

        def call(self, x):
            return self.second(self.first(x))

    model = Net()
    with pytest.raises(ValueError, match="This model has not yet been built"):
        model.summary()
    model(np.ones((2, 5), "float32"))
    text = _capture(model)
    assert "first (Dense)" in text and "(2, 3)" in text and "18" in text  # as Keras: the
    # shapes of the call that built the model
    assert " Total params: 22 (88.00 B)" in text


def test_unbuilt_sequential_raises():
    with pytest.raises(ValueError, match=r"not yet been built\. Build the model first"):
        keras.Sequential([keras.layers.Dense(2)]).summary()


def test_optimizer_params_after_training():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    assert "Optimizer params" not in _capture(model)
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    text = _capture(model)
    # adam: iteration (int64) + learning rate + two slots per weight (8 values each)
    assert " Optimizer params: 18 (76.00 B)" in text
    assert " Total params: 26 (108.00 B)" in text


def test_expand_nested_and_line_length():
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="inner_dense")],
                             name="inner")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inner(inputs)))
    text = _capture(model, expand_nested=True, line_length=70)
    assert "   └ inner_dense (Dense)" in text
    assert all(len(line) == 70 for line in text.splitlines()[1:-3])


@pytest.mark.parametrize("size, text", [(0, "0.00 B"), (1023, "1023.00 B"),
                                        (407080, "397.54 KB"), (3 * 1024**3, "3.00 GB")])
def test_readable_memory_size(size, text):
    assert readable_memory_size(size) == text
