"""Training that survives being killed: ``BackupAndRestore`` and examples/resume.py.

The main test runs the example to the end once, then runs it again killed with SIGKILL at
10 points (between batches, inside a backup's every write, at random moments), restarting it
each time; the final weights and logs must be those of the uninterrupted run, bit for bit.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from neuroflow.ops import random_seed

pytest.importorskip("safetensors", reason="backups need the safetensors package")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "resume.py"
EPOCHS, STEPS_PER_EPOCH = 6, 13  # 200 samples in batches of 16: the last batch holds 8

# Runs the example with a kill point installed: the child SIGKILLs itself there, so the kill
# lands exactly inside a backup's write (or before a given batch) without timing luck.
_KILLABLE = r"""
import os, runpy, signal, sys
from neuroflow.keras.callbacks import backup_and_restore, file_io

def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)

kind, *args = os.environ.get("NF_TEST_KILL", "none").split(":")
if kind == "batch":  # before the k-th batch this run trains
    k, seen = int(args[0]), []
    def on_train_batch_begin(self, batch, logs=None):
        seen.append(batch)
        if len(seen) == k:
            die()
    backup_and_restore.BackupAndRestore.on_train_batch_begin = on_train_batch_begin
elif kind == "write":  # inside the n-th backup this run makes, at a stage of its writing
    n, stage, made = int(args[0]), args[1], []
    armed = lambda: len(made) == n or (stage == "cleanup" and len(made) >= n)
    real = {name: getattr(file_io, name) for name in
            ("write_folder", "write_bytes", "_fsync_path", "atomic_write_text", "remove")}
    def write_folder(path, files):
        made.append(path)
        return real["write_folder"](path, files)
    def write_bytes(path, data):
        name = os.path.basename(path)
        if armed() and stage == "data" and name == "model.safetensors":
            with open(path, "wb") as f:
                f.write(data[: len(data) // 2])
            die()
        if armed() and stage == "manifest" and name == "manifest.json":
            die()
        real["write_bytes"](path, data)
    def fsync_path(path, **kwargs):
        real["_fsync_path"](path, **kwargs)
        if armed() and stage == ("rename" if os.path.isdir(path) else "metadata"):
            die()
    def atomic_write_text(path, text):
        if armed() and stage == "commit":
            die()
        real["atomic_write_text"](path, text)
    def remove(path):
        if armed() and stage == "cleanup":
            die()
        real["remove"](path)
    for name, function in [("write_folder", write_folder), ("write_bytes", write_bytes),
                           ("_fsync_path", fsync_path), ("remove", remove),
                           ("atomic_write_text", atomic_write_text)]:
        setattr(file_io, name, function)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _launch(backup_dir, plan="none"):
    env = dict(os.environ, NF_TEST_KILL=plan, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", _KILLABLE, str(EXAMPLE), "--backup-dir", str(backup_dir),
         "--epochs", str(EPOCHS), "--progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _run(backup_dir, plan="none", delay=None):
    """(return code, stdout lines); with ``delay``, SIGKILLed that long after its first batch."""
    child = _launch(backup_dir, plan)
    lines = []
    if delay is not None:
        for line in child.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("batch"):
                time.sleep(delay)
                child.send_signal(signal.SIGKILL)
                break
    out, err = child.communicate(timeout=120)
    lines += out.splitlines()
    if child.returncode not in (0, -signal.SIGKILL):
        pytest.fail(f"the example failed (plan {plan}, rc {child.returncode}):\n{err}")
    return child.returncode, lines


def _expected_first_batch(backup_dir):
    metadata = backup_dir / "training_metadata.json"
    if not metadata.exists():
        return (0, 0)
    record = json.loads(metadata.read_text())
    epoch, step = record["epoch"], record["step"]
    return (epoch + 1, 0) if step == STEPS_PER_EPOCH else (epoch, step)


def _kill_plans(seed=20240611):
    rng = random.Random(seed)
    stages = ["data", "manifest", "rename", "commit", "metadata", "cleanup"]
    plans = [(f"write:{rng.randint(1, 2)}:{stage}", None) for stage in stages]
    plans += [(f"batch:{rng.randint(2, 7)}", None) for _ in range(2)]
    plans += [("none", rng.uniform(0.0, 0.03)) for _ in range(2)]
    rng.shuffle(plans)
    if plans[0][0].endswith("cleanup"):  # the first run has no older backup to remove
        plans[0], plans[1] = plans[1], plans[0]
    return plans


def test_killed_ten_times_ends_bit_identical_to_an_uninterrupted_run(tmp_path):
    code, reference = _run(tmp_path / "reference")
    assert code == 0 and reference[-1].startswith("weights sha256 ")
    assert len([line for line in reference if line.startswith("batch")]) == \
        EPOCHS * STEPS_PER_EPOCH
    assert not (tmp_path / "reference").exists()  # deleted once fit completed

    backup_dir = tmp_path / "backup"
    kills, starts = 0, []
    for plan, delay in _kill_plans():
        expected = _expected_first_batch(backup_dir)
        code, lines = _run(backup_dir, plan, delay)
        assert code == -signal.SIGKILL, f"plan {plan}: the run ended before its kill point"
        kills += 1
        batches = [tuple(map(int, line.split()[1:])) for line in lines
                   if line.startswith("batch")]
        if batches:  # a restarted run goes on at the batch after its last backup
            assert batches[0] == expected, plan
            starts.append(batches[0])
    expected = _expected_first_batch(backup_dir)
    code, lines = _run(backup_dir)
    assert code == 0
    first = next(line for line in lines if line.startswith("batch"))
    assert first == f"batch {expected[0]} {expected[1]}"
    assert kills == 10
    assert any(step != 0 for _, step in starts[1:])  # resumed mid-epoch, not at its start
    # the weights bit for bit (their sha256), and the last epoch's loss and accuracy
    assert lines[-2:] == reference[-2:]
    assert not backup_dir.exists()


# -- in-process checks of what the backups hold ------------------------------------------------
def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-1.0], [0.5], [2.0]], np.float32)).astype(np.float32)


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    model.compile(keras.optimizers.Adam(learning_rate=schedule), "mse", metrics=["mae"])
    return model


class _Stop(keras.callbacks.Callback):
    """Raises before batch ``batch`` of epoch ``epoch`` (an interruption)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("interrupted")


class _Draws(keras.callbacks.Callback):
    """Records draws from Python's random and NumPy's global generator at every batch."""

    def __init__(self):
        super().__init__()
        self.draws, self.epoch = {}, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.draws[(self.epoch, batch)] = (random.random(), float(np.random.rand()))


def _fit(model, callbacks, batch_size=6, epochs=3, **kwargs):
    x, y = _data()
    return model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0,
                     callbacks=callbacks, **kwargs)


@pytest.mark.parametrize("stop", [(1, 3), (1, 6), (2, 1)])
def test_resume_mid_epoch_in_process(tmp_path, stop):
    # 40 samples in batches of 6: 7 batches an epoch, the last of 4 samples (a second trace of
    # the train step, with its own dropout stream); (1, 6) resumes at that last batch, so the
    # restarted run traces the short batch first
    reference, reference_draws = _model(), _Draws()
    want = _fit(reference, [reference_draws])
    backup_dir = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        _fit(_model(), [_Draws(), keras.callbacks.BackupAndRestore(backup_dir, save_freq=1),
                        _Stop(*stop)])
    resumed, draws = _model(), _Draws()
    got = _fit(resumed, [keras.callbacks.BackupAndRestore(backup_dir, save_freq=1), draws])
    assert min(draws.draws) == stop  # went on at the interrupted batch
    for key, value in draws.draws.items():
        assert value == reference_draws.draws[key], key
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(resumed.optimizer.variables, reference.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert float(resumed.optimizer.learning_rate) == float(reference.optimizer.learning_rate)
    # the interrupted epoch's loss and mae cover all its batches (metric totals restored)
    assert got.history["loss"] == want.history["loss"][stop[0]:]
    assert got.history["mae"] == want.history["mae"][stop[0]:]


def test_resume_mid_epoch_with_a_shuffled_dataset(tmp_path):
    def dataset():
        return nf.data.Dataset.from_tensor_slices(_data()).shuffle(40).batch(6)

    def fit(model, callbacks):
        return model.fit(dataset(), epochs=3, verbose=0, callbacks=callbacks)
    reference = _model()
    want = fit(reference, [])
    backup_dir = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir, save_freq=1), _Stop(1, 4)])
    resumed = _model()
    got = fit(resumed, [keras.callbacks.BackupAndRestore(backup_dir, save_freq=1)])
    assert got.epoch == [1, 2]
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert got.history["loss"] == want.history["loss"][1:]
    assert got.history["mae"] == want.history["mae"][1:]


def test_the_learning_rate_schedule_follows_the_restored_iterations(tmp_path):
    backup_dir = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir, save_freq=4),
                        _Stop(1, 2)])
    model = _model()
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    callback = keras.callbacks.BackupAndRestore(backup_dir)
    callback.set_model(model)
    callback.on_train_begin()
    assert int(model.optimizer.iterations) == 8  # the backup made after 8 batches
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05 * 0.5 ** (8 / 3))
    callback.on_train_end()


def _backup_with_checkpoint(tmp_path):
    backup_dir = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir, save_freq=2),
                        _Stop(1, 1)])
    record = json.loads((backup_dir / "training_metadata.json").read_text())
    return backup_dir, backup_dir / record["checkpoint"]


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(p.read_bytes()[:-7]), r"model\.safetensors' is corrupt: "
                                                   r"truncated \(\d+ bytes, \d+ were written"),
    (lambda p: p.write_bytes(p.read_bytes()[:100] + b"\x01" + p.read_bytes()[101:]),
     r"model\.safetensors' is corrupt: its sha256 checksum differs"),
    (lambda p: p.unlink(), r"model\.safetensors' is missing"),
])
def test_a_damaged_backup_file_is_named(tmp_path, damage, message):
    backup_dir, folder = _backup_with_checkpoint(tmp_path)
    path = folder / "model.safetensors"
    if "checksum" in message:
        assert path.read_bytes()[100] != 1
    damage(path)
    model = _model()
    before = model.get_weights()
    with pytest.raises(OSError, match="cannot restore the backup .*" + message):
        _fit(model, [keras.callbacks.BackupAndRestore(backup_dir)])
    for a, b in zip(model.get_weights(), before):  # nothing was assigned
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["state.json", "optimizer.safetensors", "manifest.json"])
def test_every_file_of_a_backup_is_checked(tmp_path, name):
    backup_dir, folder = _backup_with_checkpoint(tmp_path)
    path = folder / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))
    with pytest.raises(OSError, match=f"'{folder / name}' is corrupt"):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir)])


def test_a_damaged_metadata_file_is_named(tmp_path):
    backup_dir, _ = _backup_with_checkpoint(tmp_path)
    path = backup_dir / "training_metadata.json"
    record = json.loads(path.read_text())
    record["step"] += 1  # altered but still JSON
    path.write_text(json.dumps(record))
    with pytest.raises(OSError, match="training_metadata.json' is corrupt: its sha256"):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir)])
    path.write_text(path.read_text()[:-10])  # truncated
    with pytest.raises(OSError, match="training_metadata.json' is corrupt \\(not valid JSON"):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir)])


def test_double_checkpoint_falls_back_past_a_truncated_file(tmp_path):
    backup_dir = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir, save_freq=2,
                                                         double_checkpoint=True),
                        _Stop(1, 1)])
    record = json.loads((backup_dir / "training_metadata.json").read_text())
    path = backup_dir / record["checkpoint"] / "optimizer.safetensors"
    path.write_bytes(path.read_bytes()[:50])
    draws = _Draws()
    with pytest.warns(UserWarning, match="optimizer.safetensors' is corrupt: truncated"):
        _fit(_model(), [keras.callbacks.BackupAndRestore(backup_dir), draws])
    previous = record["previous"]
    assert min(draws.draws) == (previous["epoch"], previous["step"])


class _PoisonAt(keras.callbacks.Callback):
    """Makes the weights NaN after batch ``batch`` of epoch ``epoch`` (a diverged step)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            weights = self.model.get_weights()
            weights[0] = weights[0] * np.float32("nan")
            self.model.set_weights(weights)


@pytest.mark.parametrize("order", ["nan_first", "backup_first"])
@pytest.mark.parametrize("poisoned", [(1, 1), (1, 2)])
def test_terminate_on_nan_stops_cleanly_and_keeps_the_last_good_backup(tmp_path, order,
                                                                       poisoned):
    # 7 batches an epoch, a backup every 2: after the 8th batch (epoch 1, batch 0), then due
    # after the 10th (epoch 1, batch 2). Poisoned after (1, 1): the 10th batch's loss is NaN;
    # poisoned after (1, 2): the weights of the 10th are NaN, its loss is still finite.
    backup_dir = tmp_path / "backup"
    backup = keras.callbacks.BackupAndRestore(backup_dir, save_freq=2)
    recorder = keras.callbacks.LambdaCallback()
    weights_after = []
    recorder.on_train_batch_end = lambda batch, logs: weights_after.append(
        recorder.model.get_weights())
    stop = keras.callbacks.TerminateOnNaN()
    callbacks = [recorder, _PoisonAt(*poisoned)]
    callbacks += [stop, backup] if order == "nan_first" else [backup, stop]
    with pytest.warns(UserWarning, match="last good backup .* is kept"):
        history = _fit(_model(), callbacks, epochs=4)  # returns: no exception
    assert history.epoch == [0, 1]  # stopped in epoch 1
    assert np.isnan(history.history["loss"][-1])
    record = json.loads((backup_dir / "training_metadata.json").read_text())
    assert (record["epoch"], record["step"]) == (1, 1)
    restored = _model()
    callback = keras.callbacks.BackupAndRestore(backup_dir)
    callback.set_model(restored)
    callback.on_train_begin()
    for a, b in zip(restored.get_weights(), weights_after[7]):
        np.testing.assert_array_equal(a, b)
    callback.on_train_end()


# -- neuroflow's random streams ------------------------------------------------------------
def test_random_state_round_trip_covers_eager_and_traced_streams():
    nf.random.set_seed(5)
    dropout = keras.layers.Dropout(0.5)
    step = nf.function(lambda x: dropout(x, training=True))
    x = nf.ones([4, 6])
    nf.random.uniform([3])
    step(x)
    state = json.loads(json.dumps(random_seed.get_state()))  # what a backup stores
    want = [nf.random.uniform([3]).numpy(), nf.random.normal([2], seed=9).numpy(),
            step(x).numpy(), nf.random.uniform([2]).numpy()]
    # a new program: the same seed, a new traced function (its stream made after restoring)
    nf.random.set_seed(5)
    dropout = keras.layers.Dropout(0.5)
    step = nf.function(lambda x: dropout(x, training=True))
    nf.random.uniform([3])
    random_seed.set_state(state)
    got = [nf.random.uniform([3]).numpy(), nf.random.normal([2], seed=9).numpy(),
           step(x).numpy(), nf.random.uniform([2]).numpy()]
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    assert not random_seed._eager.pending  # the traced stream took its saved state
    random_seed.clear_pending()


def test_the_op_seed_counter_is_restored():
    nf.random.set_seed(3)
    state = random_seed.get_state()
    nf.random.uniform([1])  # eager draws without op seeds do not advance the counter...
    first = random_seed.get_seed(None)  # ...op seeds taken by new ops do
    random_seed.set_state(state)
    assert random_seed.get_seed(None) == first
