"""save_weights / load_weights: safetensors under any suffix, checked by shape."""
import numpy as np
import pytest

from neuroflow import keras

pytest.importorskip("safetensors", reason="saving weights needs the safetensors package")

X = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")


def _model(inputs=4, hidden=3):
    return keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(hidden),
                             keras.layers.Dense(2)])


def test_round_trip_as_safetensors(tmp_path):
    source, target = _model(), _model()
    path = tmp_path / "model.weights.h5"
    source.save_weights(path)
    from safetensors.numpy import load
    stored = load(path.read_bytes())  # plain safetensors, whatever the suffix
    assert sorted(v.shape for v in stored.values()) == [(2,), (3,), (3, 2), (4, 3)]
    assert not np.allclose(target.predict(X, verbose=0), source.predict(X, verbose=0))
    target.load_weights(path)
    np.testing.assert_array_equal(target.predict(X, verbose=0), source.predict(X, verbose=0))


def test_load_weights_from_a_keras_file(tmp_path):
    source, target = _model(), _model()
    source.save(tmp_path / "model.keras")
    target.load_weights(tmp_path / "model.keras")
    np.testing.assert_array_equal(target.predict(X, verbose=0), source.predict(X, verbose=0))


def test_other_architecture_names_first_mismatching_weight(tmp_path):
    path = tmp_path / "small.weights.h5"
    source = _model(inputs=4)
    source.save_weights(path)
    target = _model(inputs=5)
    with pytest.raises(ValueError) as info:
        target.load_weights(path)
    message = str(info.value)
    assert str(path) in message
    kernel = source.layers[0].kernel.path
    assert f"weight 0 '{kernel}' has shape (4, 3) in the file" in message
    assert f"'{target.layers[0].kernel.path}' has shape (5, 3)" in message


def test_weight_count_mismatch(tmp_path):
    path = tmp_path / "two_layers.weights.h5"
    _model().save_weights(path)
    single = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    before = single.layers[0].kernel.numpy().copy()
    with pytest.raises(ValueError, match="the file holds 4 weights but model .* has 2; the "
                                         "first extra one in the file is"):
        single.load_weights(path)
    np.testing.assert_array_equal(single.layers[0].kernel.numpy(), before)  # nothing assigned
    with pytest.warns(UserWarning, match="Skipping"):
        single.load_weights(path, skip_mismatch=True)
    assert not np.array_equal(single.layers[0].kernel.numpy(), before)


def test_skip_mismatch_skips_only_mismatching_weights(tmp_path):
    path = tmp_path / "w.weights.h5"
    source = _model(inputs=4)
    source.save_weights(path)
    target = _model(inputs=5)
    with pytest.warns(UserWarning, match="Skipping weight 0"):
        target.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(target.layers[1].kernel.numpy(),
                                  source.layers[1].kernel.numpy())


def test_unbuilt_models(tmp_path):
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="not been built"):
        model.save_weights(tmp_path / "never_written.weights.h5")
    assert not (tmp_path / "never_written.weights.h5").exists()


def test_load_into_an_unbuilt_subclassed_model_says_build_first(tmp_path):
    class Net(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = keras.layers.Dense(2)

        def call(self, x):
            return self.d(x)

    built = Net()
    built(X)
    path = tmp_path / "net.weights.h5"
    built.save_weights(path)
    with pytest.raises(ValueError, match="has no weights yet: build it"):
        Net().load_weights(path)
    fresh = Net()
    fresh.build((None, 4))
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.predict(X, verbose=0), built.predict(X, verbose=0))


def test_foreign_safetensors_files_match_by_name(tmp_path):
    from safetensors.numpy import save
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    kernel, bias = model.layers[0].kernel.path, model.layers[0].bias.path
    values = {bias: np.arange(3, dtype="float32"),
              kernel: np.ones((4, 3), "float32")}  # no neuroflow metadata: no order
    path = tmp_path / "foreign.safetensors"
    path.write_bytes(save(values))
    model.load_weights(path)
    np.testing.assert_array_equal(model.layers[0].bias.numpy(), np.arange(3))
    path.write_bytes(save({"encoder.weight": np.ones((4, 3), "float32"), bias: values[bias]}))
    with pytest.raises(ValueError, match=f"not written by neuroflow.*first unmatched name "
                                         f"'{kernel}'"):
        model.load_weights(path)
